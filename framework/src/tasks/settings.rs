//! The `[tasks]` settings section.

/// The `[tasks]` settings: Django's `TASKS["default"]` plus Celery's worker settings.
///
/// ```toml
/// [tasks]
/// backend = "redis"                      # immediate (default), dummy, database, redis, amqp
/// location = "redis://127.0.0.1:6379/0"  # redis and amqp: the broker's URL
/// queues = ["default", "emails"]         # queues enqueue accepts (empty: any)
/// visibility_timeout = 60                # seconds before a dead worker's task is run again
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TaskSettings {
    /// `immediate`, `dummy`, `database`, `redis` or `amqp`.
    pub backend: String,
    /// The broker's URL: `redis://host:port/db` or `amqp://user:password@host:port/vhost`.
    pub location: Option<String>,
    /// The queues tasks may be sent to (Django's `QUEUES`); empty: any.
    pub queues: Vec<String>,
    /// The prefix of the broker's keys and queue names, so projects can share a broker.
    pub prefix: String,
    /// Seconds a claimed task stays invisible to other workers without a heartbeat from its
    /// worker; past it, the task is delivered again (its worker is presumed dead).
    pub visibility_timeout: u64,
    /// Seconds results are kept (Redis); the database keeps them until `tasks --purge DAYS`.
    pub result_ttl: u64,
    /// Tasks a worker runs at once (`worker --concurrency`).
    pub concurrency: usize,
    /// Seconds a stopping worker (SIGTERM) gives running tasks to finish.
    pub shutdown_timeout: u64,
    /// Connections to the broker per process.
    pub pool_size: u32,
    /// Seconds a broker operation may take before it counts as unavailable.
    pub timeout: u64,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            backend: "immediate".into(),
            location: None,
            queues: Vec::new(),
            prefix: "manouche".into(),
            visibility_timeout: 60,
            result_ttl: 86_400,
            concurrency: 2,
            shutdown_timeout: 30,
            pool_size: 8,
            timeout: 5,
        }
    }
}

impl crate::conf::Section for TaskSettings {
    const NAME: &'static str = "tasks";
    const ENV_PREFIX: &'static str = "TASKS";
}

crate::register_section!(TaskSettings);

impl TaskSettings {
    /// The settings of a backend: `backend` at `location`.
    pub fn new(backend: &str, location: Option<&str>) -> Self {
        TaskSettings { backend: backend.into(), location: location.map(Into::into), ..TaskSettings::default() }
    }

    /// The broker URL, required by `redis` and `amqp`.
    pub(crate) fn location(&self) -> Result<&str, String> {
        self.location.as_deref().ok_or_else(|| format!("the {} task backend needs `tasks.location`", self.backend))
    }

    pub(crate) fn visibility(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.visibility_timeout.max(1))
    }
}
