//! The tables of the database backend (and of the amqp backend's results): one row per task,
//! Django's `DBTaskResult`, and the periodic ticks workers have claimed. Times are milliseconds
//! since the epoch, so claiming compares integers on both databases.

/// One task: its message, its state and its result.
#[crate::model(app = "tasks", table = "manouche_task", verbose_name = "task")]
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// The result's id (a UUID).
    #[field(primary_key, max_length = 36)]
    pub id: String,
    /// The registered task name.
    #[field(max_length = 255)]
    pub task: String,
    /// The queue.
    #[field(max_length = 100, db_index)]
    pub queue: String,
    /// -100 to 100: higher is claimed first.
    pub priority: i32,
    /// `READY`, `RUNNING`, `SUCCESSFUL` or `FAILED`.
    #[field(max_length = 10, db_index)]
    pub status: String,
    /// The arguments, a JSON array.
    pub args: String,
    /// Attempts started.
    pub attempts: i32,
    /// Not before (ms since the epoch).
    #[field(db_index)]
    pub run_after: i64,
    /// When it was enqueued.
    pub enqueued_at: i64,
    /// When its last attempt started.
    pub started_at: Option<i64>,
    /// When it finished.
    pub finished_at: Option<i64>,
    /// While `RUNNING`: when its worker is presumed dead unless it sends a heartbeat.
    pub locked_until: i64,
    /// The worker holding it, while `RUNNING`.
    #[field(max_length = 100)]
    pub worker: String,
    /// What it returned (JSON), once successful.
    pub return_value: Option<String>,
    /// Its failed attempts (JSON).
    pub errors: String,
    /// The workers that ran it (JSON).
    pub worker_ids: String,
}

/// A periodic task's tick, claimed by the first worker to reach it.
#[crate::model(app = "tasks", table = "manouche_task_tick", verbose_name = "periodic tick")]
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTick {
    /// `<task>@<tick>`.
    #[field(primary_key, max_length = 300)]
    pub key: String,
    /// When it was claimed (ms since the epoch), for purging.
    #[field(db_index)]
    pub claimed_at: i64,
}
