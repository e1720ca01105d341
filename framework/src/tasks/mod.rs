//! Background tasks: Django 6's Tasks API (`@task`, `enqueue`, results, `task_enqueued` /
//! `task_started` / `task_finished`) with Celery's guarantees (retries with backoff, time limits,
//! at-least-once delivery, periodic tasks), on the database, Redis or RabbitMQ.
//!
//! ```
//! use manouche::prelude::*;
//! use manouche::tasks::{TaskContext, TaskError};
//!
//! /// Sends the receipt of an order; retried up to three times, 2 s, 4 s, 8 s apart.
//! #[task(queue = "emails", max_retries = 3, retry_backoff = 2)]
//! async fn send_receipt(ctx: TaskContext, order_id: i64) -> Result<String, TaskError> {
//!     let _db = ctx.db();
//!     Ok(format!("receipt of order {order_id} sent"))
//! }
//!
//! # fn main() -> manouche::Result<()> {
//! # let rt = manouche::__private::tasks::test_runtime();
//! # rt.block_on(async {
//! // In a view: the immediate backend (the default) runs it in place.
//! let result = send_receipt.enqueue(42).await?;
//! assert_eq!(result.status(), manouche::tasks::TaskStatus::Successful);
//! assert_eq!(result.return_value().as_deref(), Some("receipt of order 42 sent"));
//! # Ok(()) })
//! # }
//! ```
//!
//! The backend is the `[tasks]` section's `backend`: `immediate` (the default: runs at enqueue,
//! in place), `dummy` (records only), `database` (a table of the `tasks` app), `redis` (streams
//! with a consumer group) or `amqp` (RabbitMQ). With the last three, `cargo run -- worker` runs
//! the tasks. Delivery is at least once: a worker killed mid-task leaves the task to be run again
//! by another, so a task must be idempotent (safe to run twice).

pub mod amqp;
mod broker;
pub(crate) mod commands;
pub mod database;
mod execute;
pub mod migrations;
pub mod models;
pub mod redis;
mod result;
pub mod schedule;
mod settings;
mod task;
pub mod worker;

use std::sync::{Arc, LazyLock, RwLock};

use serde_json::Value;

pub use self::broker::{Broker, Claim, MemoryBroker, QueueDepth, Stats, TasksError};
pub use self::result::{AttemptError, ResultRecord, TaskMessage, TaskResult, TaskStatus};
pub use self::schedule::Schedule;
pub use self::settings::TaskSettings;
pub use self::task::{
    RunAfter, Runner, TaskDef, TaskError, TaskFuture, TaskOptions, TaskSpec, TaskValue, find, registered,
};
pub use self::worker::{Worker, WorkerOptions, WorkerReport, WorkerStop};

use crate::context::Ambient;
use crate::http::SiteState;
use crate::signals::Signal;

/// What the task signals carry: the result as it stands.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskEvent {
    /// The task's result.
    pub result: ResultRecord,
    /// The backend (`immediate`, `database`, ...).
    pub backend: &'static str,
}

/// Sent once a task is enqueued (Django's `task_enqueued`).
pub static TASK_ENQUEUED: Signal<TaskEvent> = Signal::new("task_enqueued");
/// Sent when an attempt starts (Django's `task_started`).
pub static TASK_STARTED: Signal<TaskEvent> = Signal::new("task_started");
/// Sent when a task finished, successfully or after its last failed attempt (Django's
/// `task_finished`).
pub static TASK_FINISHED: Signal<TaskEvent> = Signal::new("task_finished");

/// A project's task backend with its settings: what `enqueue` sends to, results are read from
/// and a worker takes tasks from. Cheap to clone.
#[derive(Clone)]
pub struct Tasks {
    broker: Arc<dyn Broker>,
    settings: Arc<TaskSettings>,
    immediate: bool,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tasks").field("backend", &self.broker.kind()).finish_non_exhaustive()
    }
}

impl Tasks {
    /// A handle on `broker`; `immediate` runs tasks in place at enqueue.
    pub fn new(broker: Arc<dyn Broker>, settings: TaskSettings) -> Self {
        let immediate = broker.kind() == "immediate";
        Tasks { broker, settings: Arc::new(settings), immediate }
    }

    /// The backend the `[tasks]` settings name, connected to `db` for the database backend.
    ///
    /// # Errors
    ///
    /// A message naming the bad setting.
    pub fn from_settings(settings: TaskSettings, db: &crate::db::Database) -> Result<Self, String> {
        let broker: Arc<dyn Broker> = match settings.backend.as_str() {
            "immediate" => Arc::new(MemoryBroker::immediate()),
            "dummy" => Arc::new(MemoryBroker::dummy()),
            "database" => Arc::new(database::DatabaseBroker::new(db.clone(), &settings)),
            "redis" => Arc::new(redis::RedisBroker::new(&settings)?),
            "amqp" => Arc::new(amqp::AmqpBroker::new(&settings, db.clone())?),
            other => {
                return Err(format!(
                    "unknown task backend `{other}` in `tasks.backend`; known: immediate, dummy, database, redis, amqp"
                ));
            }
        };
        Ok(Tasks::new(broker, settings))
    }

    /// The backend.
    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.broker
    }

    /// The `[tasks]` settings.
    pub fn settings(&self) -> &TaskSettings {
        &self.settings
    }

    /// The result with id `id`, untyped.
    ///
    /// # Errors
    ///
    /// [`TasksError::NotFound`] or [`TasksError::Unavailable`].
    pub fn record(&self, id: &str) -> Result<ResultRecord, TasksError> {
        self.broker.get(id)?.ok_or_else(|| TasksError::NotFound(id.to_owned()))
    }

    /// The result of id `id` as the task returning `R` (what `my_task.get_result(id)` calls).
    ///
    /// # Errors
    ///
    /// As [`Tasks::record`].
    pub fn get_result<R: serde::de::DeserializeOwned>(&self, id: &str) -> Result<TaskResult<R>, TasksError> {
        Ok(TaskResult::new(self.record(id)?, self.clone()))
    }

    /// Enqueues `spec` with `args` (a JSON array) as `options` say, on the current thread; runs
    /// it first with the immediate backend.
    ///
    /// # Errors
    ///
    /// [`TasksError::Invalid`] for options the task or backend refuse; [`TasksError::Unavailable`]
    /// when the broker cannot take it.
    pub fn enqueue_raw(&self, spec: &TaskSpec, options: &TaskOptions, args: Value) -> Result<ResultRecord, TasksError> {
        let message = self.prepare(spec, options, args)?;
        self.send_message(message)
    }

    /// Sends a message [`Tasks::prepare`] made (the immediate backend runs it first).
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`] when the broker cannot take it.
    pub fn send_message(&self, message: TaskMessage) -> Result<ResultRecord, TasksError> {
        if self.immediate {
            self.broker.enqueue(&message)?;
            send(&TASK_ENQUEUED, &ResultRecord::ready(&message), self.broker.kind());
            return Ok(execute::run_in_place(self, message));
        }
        self.broker.enqueue(&message)?;
        let record = ResultRecord::ready(&message);
        send(&TASK_ENQUEUED, &record, self.broker.kind());
        Ok(record)
    }

    /// The message enqueuing `spec` with `args` as `options` say would send, with its id.
    ///
    /// # Errors
    ///
    /// [`TasksError::Invalid`] for options the task or backend refuse.
    pub fn prepare(&self, spec: &TaskSpec, options: &TaskOptions, args: Value) -> Result<TaskMessage, TasksError> {
        let priority = options.priority.unwrap_or(spec.priority);
        if !(-100..=100).contains(&priority) {
            return Err(TasksError::Invalid(format!(
                "priority {priority} of task `{}` is outside -100..=100",
                spec.name
            )));
        }
        let queue = options.queue.as_deref().unwrap_or(spec.queue);
        if !self.settings.queues.is_empty() && !self.settings.queues.iter().any(|q| q == queue) {
            return Err(TasksError::Invalid(format!(
                "queue `{queue}` of task `{}` is not in `tasks.queues` ({})",
                spec.name,
                self.settings.queues.join(", ")
            )));
        }
        let now = now_millis();
        let run_after = options.run_after.map_or(0, |when| when.epoch_millis(now));
        if run_after > now && self.immediate {
            return Err(TasksError::Invalid(format!(
                "the immediate backend runs tasks at once; `run_after` on `{}` needs a queue (database, redis or amqp)",
                spec.name
            )));
        }
        Ok(TaskMessage {
            id: uuid::Uuid::new_v4().to_string(),
            task: spec.name.to_owned(),
            queue: queue.to_owned(),
            priority,
            args,
            attempts: 0,
            run_after,
            enqueued_at: now,
            errors: Vec::new(),
            worker_ids: Vec::new(),
        })
    }
}

/// The `tasks` app: the database backend's tables (its migration) and the `worker` and `tasks`
/// commands. Add it to a project that runs tasks: `.app(manouche::tasks::app())`.
pub fn app() -> crate::App {
    crate::App::new("tasks")
        .migrations(concat!(env!("CARGO_MANIFEST_DIR"), "/src/tasks/migrations"), migrations::all)
        .command(commands::WorkerCommand)
        .command(commands::TasksCommand)
}

pub(crate) fn send(signal: &'static Signal<TaskEvent>, record: &ResultRecord, backend: &'static str) {
    if signal.has_receivers() {
        signal.send(&TaskEvent { result: record.clone(), backend });
    }
}

pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The immediate backend, outside any project.
static FALLBACK: LazyLock<Tasks> =
    LazyLock::new(|| Tasks::new(Arc::new(MemoryBroker::immediate()), TaskSettings::default()));

static INSTALLED: RwLock<Option<(Tasks, Ambient)>> = RwLock::new(None);

/// Makes `tasks` (with the project state tasks run with) what code outside a request uses: the
/// project built last.
pub(crate) fn install(tasks: &Tasks, ambient: Ambient) {
    *INSTALLED.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((tasks.clone(), ambient));
}

fn site_state(ambient: &Ambient) -> Option<&SiteState> {
    ambient.0.downcast_ref::<SiteState>()
}

/// The current project's state: the request's, this thread's, else the project built last.
pub(crate) fn current_ambient() -> Option<Ambient> {
    crate::context::current().or_else(|| {
        INSTALLED.read().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref().map(|(_, a)| a.clone())
    })
}

/// The task backend of the current project (the one serving the request, running the worker,
/// or built last), the immediate backend outside any project.
pub fn tasks() -> Tasks {
    if let Some(state) = crate::context::current().as_ref().and_then(site_state) {
        return state.tasks.clone();
    }
    INSTALLED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .map_or_else(|| FALLBACK.clone(), |(tasks, _)| tasks.clone())
}

/// Runs `f` on the blocking pool with the current project carried over.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, TasksError> + Send + 'static,
) -> Result<T, TasksError> {
    crate::context::spawn_blocking(f).await.unwrap_or_else(|reason| Err(TasksError::Unavailable(reason)))
}

/// What a task can reach while it runs: its id and attempt, and the project's database,
/// settings and caches. A task takes it as its first parameter: `ctx: TaskContext`.
#[derive(Clone)]
pub struct TaskContext {
    ambient: Option<Ambient>,
    id: Arc<str>,
    task: Arc<str>,
    attempt: u32,
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext")
            .field("id", &self.id)
            .field("task", &self.task)
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl TaskContext {
    pub(crate) fn new(ambient: Option<Ambient>, message: &TaskMessage, attempt: u32) -> Self {
        TaskContext { ambient, id: message.id.as_str().into(), task: message.task.as_str().into(), attempt }
    }

    /// The result's id: an idempotency key for work that must happen once.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The task's registered name.
    pub fn task_name(&self) -> &str {
        &self.task
    }

    /// This attempt's number, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    fn state(&self) -> Option<&SiteState> {
        self.ambient.as_ref().and_then(site_state)
    }

    /// The project's database pool.
    pub fn db(&self) -> crate::db::Database {
        self.state().map_or_else(
            || crate::db::Database::missing("this task runs outside a project: no database is configured"),
            |state| state.db.clone(),
        )
    }

    /// The project's settings (test settings outside a project).
    pub fn settings(&self) -> Arc<crate::conf::Settings> {
        self.state().map_or_else(|| Arc::new(crate::conf::Settings::for_tests()), |state| Arc::clone(&state.settings))
    }

    /// The project's cache `alias`.
    ///
    /// # Errors
    ///
    /// [`crate::cache::CacheError::UnknownAlias`].
    pub fn caches(&self, alias: &str) -> Result<crate::cache::Cache, crate::cache::CacheError> {
        match self.state() {
            Some(state) => state.caches.get(alias),
            None => crate::cache::caches(alias),
        }
    }

    pub(crate) fn ambient_handle(&self) -> Option<Ambient> {
        self.ambient.clone()
    }

    /// Runs `f` with this task's project current: `enqueue` inside `f` reaches the same backend.
    pub(crate) fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        crate::context::enter(self.ambient.clone(), f)
    }
}
