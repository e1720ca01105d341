//! What `#[task]` declares: the task's options ([`TaskSpec`]), how to run it ([`Runner`]), the
//! registry the worker looks tasks up in, and the per-enqueue overrides ([`TaskOptions`]).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::schedule::Schedule;

/// A task's declared options: `#[task(queue = "emails", priority = 10, max_retries = 3, ...)]`.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TaskSpec {
    /// The registered name: the function's module path and name (`shop::tasks::send_receipt`).
    pub name: &'static str,
    /// The queue it goes to (`default`).
    pub queue: &'static str,
    /// Django's priority, -100 to 100; higher runs first where the backend orders (database,
    /// amqp).
    pub priority: i32,
    /// Attempts after the first that a failure may take (Celery's `max_retries`; 0: none).
    pub max_retries: u32,
    /// The first retry's delay; each next one doubles it (Celery's `retry_backoff`).
    pub retry_backoff: Duration,
    /// The longest delay between attempts (Celery's `retry_backoff_max`).
    pub retry_backoff_max: Duration,
    /// Whether a delay is randomised (between half and all of it), so failed tasks do not come
    /// back in lockstep (Celery's `retry_jitter`).
    pub retry_jitter: bool,
    /// How long one attempt may run before it counts as failed (Celery's `time_limit`).
    pub time_limit: Option<Duration>,
    /// When a worker enqueues it by itself: a cron expression or an interval.
    pub schedule: Option<Schedule>,
}

impl TaskSpec {
    /// A task named `name` with the defaults: queue `default`, priority 0, no retries.
    pub const fn new(name: &'static str) -> Self {
        TaskSpec {
            name,
            queue: "default",
            priority: 0,
            max_retries: 0,
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(600),
            retry_jitter: true,
            time_limit: None,
            schedule: None,
        }
    }

    /// The delay before attempt `next_attempt` (2 for the first retry): exponential from
    /// `retry_backoff`, capped at `retry_backoff_max`, then jittered.
    pub fn retry_delay(&self, next_attempt: u32) -> Duration {
        let exponent = next_attempt.saturating_sub(2).min(30);
        let delay = self.retry_backoff.saturating_mul(1 << exponent).min(self.retry_backoff_max);
        if !self.retry_jitter || delay.is_zero() {
            return delay;
        }
        let mut bytes = [0u8; 8];
        let fraction = match getrandom::fill(&mut bytes) {
            Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
            Err(_) => 1.0,
        };
        delay.mul_f64(0.5 + fraction / 2.0)
    }
}

/// The future an async task's runner returns.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// How a task runs: its function, taking the context and the JSON arguments.
#[derive(Clone, Copy)]
pub enum Runner {
    /// A plain `fn`: run on a blocking thread.
    Sync(fn(super::TaskContext, Value) -> Result<Value, TaskError>),
    /// An `async fn`.
    Async(fn(super::TaskContext, Value) -> TaskFuture),
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Runner::Sync(_) => "Runner::Sync",
            Runner::Async(_) => "Runner::Async",
        })
    }
}

/// A registered task: what `#[task]` submits to the registry.
#[derive(Debug)]
pub struct TaskDef {
    /// Its options.
    pub spec: TaskSpec,
    /// Its function.
    pub runner: Runner,
    /// Where it is declared, for `tasks` and error messages.
    pub file: &'static str,
    /// The line of the declaration.
    pub line: u32,
}

inventory::collect!(TaskDef);

/// Every registered task, by name.
pub fn registered() -> impl Iterator<Item = &'static TaskDef> {
    inventory::iter::<TaskDef>.into_iter()
}

/// The registered task called `name`.
pub fn find(name: &str) -> Option<&'static TaskDef> {
    registered().find(|def| def.spec.name == name)
}

/// When a task may run: after a delay or at a time (Django's `run_after`, Celery's countdown
/// and ETA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAfter {
    /// This long after it is enqueued.
    Delay(Duration),
    /// At this time.
    At(chrono::DateTime<chrono::Utc>),
}

impl RunAfter {
    /// Milliseconds since the epoch.
    pub(crate) fn epoch_millis(self, now: i64) -> i64 {
        match self {
            RunAfter::Delay(delay) => now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
            RunAfter::At(at) => at.timestamp_millis(),
        }
    }
}

impl From<Duration> for RunAfter {
    fn from(delay: Duration) -> Self {
        RunAfter::Delay(delay)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for RunAfter {
    fn from(at: chrono::DateTime<chrono::Utc>) -> Self {
        RunAfter::At(at)
    }
}

/// What one enqueue changes from the task's declaration: Django's `task.using(...)`.
///
/// ```
/// use std::time::Duration;
/// use manouche::tasks::TaskOptions;
/// let later = TaskOptions::new().run_after(Duration::from_secs(60)).priority(50).queue("urgent");
/// # let _ = later;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskOptions {
    pub(crate) queue: Option<Cow<'static, str>>,
    pub(crate) priority: Option<i32>,
    pub(crate) run_after: Option<RunAfter>,
}

impl TaskOptions {
    /// No change.
    pub const DEFAULT: TaskOptions = TaskOptions { queue: None, priority: None, run_after: None };

    /// No change (the same as [`TaskOptions::DEFAULT`]).
    pub const fn new() -> Self {
        TaskOptions::DEFAULT
    }

    /// Sends it to `queue` instead.
    #[must_use]
    pub fn queue(mut self, queue: impl Into<Cow<'static, str>>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Runs it with `priority` (-100 to 100; checked at enqueue).
    #[must_use]
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Runs it no earlier than `when`: a `Duration` from now or a UTC time.
    #[must_use]
    pub fn run_after(mut self, when: impl Into<RunAfter>) -> Self {
        self.run_after = Some(when.into());
        self
    }

    /// These options with `other`'s set ones on top.
    #[must_use]
    pub fn merge(&self, other: TaskOptions) -> Self {
        TaskOptions {
            queue: other.queue.or_else(|| self.queue.clone()),
            priority: other.priority.or(self.priority),
            run_after: other.run_after.or(self.run_after),
        }
    }
}

/// Why an attempt failed: the task's error, a panic, the time limit, or arguments that no
/// longer decode. [`TaskError::permanent`] fails the task without the retries left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TaskError {
    /// `error`, `panic`, `time_limit`, `arguments` or `unknown_task`.
    pub kind: String,
    /// The message.
    pub message: String,
    /// Whether retries are skipped.
    #[serde(default)]
    pub permanent: bool,
}

impl TaskError {
    /// A failure the task's retries may repair.
    pub fn new(message: impl fmt::Display) -> Self {
        TaskError { kind: "error".into(), message: message.to_string(), permanent: false }
    }

    /// A failure no retry repairs (an order that no longer exists): the task fails at once.
    pub fn permanent(message: impl fmt::Display) -> Self {
        TaskError { kind: "error".into(), message: message.to_string(), permanent: true }
    }

    pub(crate) fn of_kind(kind: &str, message: impl fmt::Display, permanent: bool) -> Self {
        TaskError { kind: kind.into(), message: message.to_string(), permanent }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TaskError {}

/// A value a task takes or returns: it crosses to the worker as JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross to a task worker: task arguments and results must be `Serialize + DeserializeOwned + Send + 'static`",
    label = "not serialisable for a task",
    note = "derive `serde::Serialize` and `serde::Deserialize`, or pass an id and load the value in the task"
)]
pub trait TaskValue: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> TaskValue for T {}
