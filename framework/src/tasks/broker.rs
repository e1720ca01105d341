//! The interface every task backend implements ([`Broker`]), and the in-memory ones: the
//! immediate backend's result store and the dummy backend.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::result::{ResultRecord, TaskMessage};

/// Why a backend operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TasksError {
    /// The broker or the result store cannot be reached (503).
    #[error("task backend unavailable: {0}")]
    Unavailable(String),
    /// The enqueue cannot be done as asked: a priority out of range, an unknown queue, a delay
    /// the backend cannot keep, arguments that do not serialise.
    #[error("invalid task: {0}")]
    Invalid(String),
    /// No result has this id (never enqueued here, or expired).
    #[error("no task result with id `{0}`")]
    NotFound(String),
}

impl TasksError {
    /// The HTTP status a view's `?` answers with.
    pub fn status(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            TasksError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            TasksError::Invalid(_) => StatusCode::INTERNAL_SERVER_ERROR,
            TasksError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }
}

/// A task a worker took: the message and the backend's receipt for acknowledging it.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The task.
    pub message: TaskMessage,
    /// What the backend needs to acknowledge it (a stream entry id, a delivery tag, ...).
    pub receipt: String,
    /// Whether it was delivered before to a worker that never concluded it (a worker killed
    /// mid-task): the stored result then knows of an attempt the message does not.
    pub redelivered: bool,
}

/// What `tasks` shows of a backend: queue depths and recent failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Per queue: tasks waiting (due or delayed) and tasks being run.
    pub queues: Vec<QueueDepth>,
    /// The latest failed tasks, newest first.
    pub failures: Vec<ResultRecord>,
}

/// One queue's depth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// The queue.
    pub queue: String,
    /// Tasks waiting to run, delayed ones included.
    pub waiting: u64,
    /// Tasks a worker holds.
    pub running: u64,
}

/// A task backend: a broker carrying messages to workers and a store of results. Every method
/// blocks (the framework calls them on blocking threads); each must be safe to call from many
/// threads and processes at once.
///
/// Delivery is at least once: a claimed task that is neither finished nor retried (its worker
/// died) is delivered again after the visibility timeout, so tasks must be idempotent.
pub trait Broker: Send + Sync + fmt::Debug {
    /// The backend's name in the settings.
    fn kind(&self) -> &'static str;

    /// Stores `message` (a result `READY`) and sends it towards a worker.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`] when the broker cannot take it: the task is then not enqueued.
    fn enqueue(&self, message: &TaskMessage) -> Result<(), TasksError>;

    /// Takes the next due task of `queues` for `worker`, waiting up to `wait` for one.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn claim(&self, queues: &[String], worker: &str, wait: Duration) -> Result<Option<Claim>, TasksError>;

    /// Tells the backend `claim`'s worker is still alive and running it (pushes its visibility
    /// timeout back).
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn heartbeat(&self, claim: &Claim, worker: &str) -> Result<(), TasksError>;

    /// Stores `record` (now `RUNNING`).
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn started(&self, claim: &Claim, record: &ResultRecord) -> Result<(), TasksError>;

    /// Stores the final `record` (`SUCCESSFUL` or `FAILED`) and acknowledges the claim.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`]: the claim is then delivered again later.
    fn finish(&self, claim: &Claim, record: &ResultRecord) -> Result<(), TasksError>;

    /// Stores `record` (`READY` again, with the failed attempt), sends `message` back with its
    /// new `run_after`, and acknowledges the claim.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn retry(&self, claim: &Claim, message: &TaskMessage, record: &ResultRecord) -> Result<(), TasksError>;

    /// Gives a claim back unrun (a worker stopping before it started the task).
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn release(&self, claim: &Claim) -> Result<(), TasksError>;

    /// The result with id `id`.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn get(&self, id: &str) -> Result<Option<ResultRecord>, TasksError>;

    /// Whether this caller is the first to claim `tick` of the periodic task `task` (across every
    /// worker sharing the backend); the claim is kept at least `keep`.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn claim_tick(&self, task: &str, tick: i64, keep: Duration) -> Result<bool, TasksError>;

    /// Deletes finished results older than `age` (the database's results are kept until then;
    /// Redis expires its own); returns how many went.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn purge(&self, age: Duration) -> Result<u64, TasksError> {
        let _ = age;
        Ok(0)
    }

    /// Queue depths and recent failures.
    ///
    /// # Errors
    ///
    /// [`TasksError::Unavailable`].
    fn stats(&self) -> Result<Stats, TasksError>;
}

/// Results kept in this process: the immediate backend's store, and the dummy backend's.
/// Bounded: past `capacity` results, the oldest are forgotten.
#[derive(Debug)]
pub struct MemoryBroker {
    kind: &'static str,
    capacity: usize,
    state: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    results: HashMap<String, ResultRecord>,
    order: VecDeque<String>,
    enqueued: VecDeque<TaskMessage>,
    ticks: HashMap<(String, i64), ()>,
}

impl MemoryBroker {
    /// The store of the `immediate` backend (tasks run in place, at enqueue).
    pub fn immediate() -> Self {
        MemoryBroker { kind: "immediate", capacity: 10_000, state: Mutex::default() }
    }

    /// The `dummy` backend: records what is enqueued and never runs it (Django's
    /// `DummyBackend`, for tests that check what was enqueued).
    pub fn dummy() -> Self {
        MemoryBroker { kind: "dummy", capacity: 10_000, state: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn store(&self, record: &ResultRecord) {
        let mut state = self.lock();
        if state.results.insert(record.id.clone(), record.clone()).is_none() {
            state.order.push_back(record.id.clone());
            while state.order.len() > self.capacity {
                if let Some(old) = state.order.pop_front() {
                    state.results.remove(&old);
                }
            }
        }
    }

    /// The messages enqueued so far (the dummy backend's record), oldest first.
    pub fn enqueued(&self) -> Vec<TaskMessage> {
        self.lock().enqueued.iter().cloned().collect()
    }

    /// Forgets every enqueued message and result.
    pub fn clear(&self) {
        *self.lock() = Memory::default();
    }
}

impl Broker for MemoryBroker {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn enqueue(&self, message: &TaskMessage) -> Result<(), TasksError> {
        self.store(&ResultRecord::ready(message));
        let mut state = self.lock();
        state.enqueued.push_back(message.clone());
        if state.enqueued.len() > self.capacity {
            state.enqueued.pop_front();
        }
        Ok(())
    }

    fn claim(&self, _queues: &[String], _worker: &str, _wait: Duration) -> Result<Option<Claim>, TasksError> {
        Err(TasksError::Invalid(format!("the {} backend has no worker: it keeps no queue", self.kind)))
    }

    fn heartbeat(&self, _claim: &Claim, _worker: &str) -> Result<(), TasksError> {
        Ok(())
    }

    fn started(&self, _claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        self.store(record);
        Ok(())
    }

    fn finish(&self, _claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        self.store(record);
        Ok(())
    }

    fn retry(&self, _claim: &Claim, _message: &TaskMessage, record: &ResultRecord) -> Result<(), TasksError> {
        self.store(record);
        Ok(())
    }

    fn release(&self, _claim: &Claim) -> Result<(), TasksError> {
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<ResultRecord>, TasksError> {
        Ok(self.lock().results.get(id).cloned())
    }

    fn claim_tick(&self, task: &str, tick: i64, _keep: Duration) -> Result<bool, TasksError> {
        Ok(self.lock().ticks.insert((task.to_owned(), tick), ()).is_none())
    }

    fn stats(&self) -> Result<Stats, TasksError> {
        let state = self.lock();
        let mut failures: Vec<ResultRecord> =
            state.results.values().filter(|r| r.status == super::TaskStatus::Failed).cloned().collect();
        failures.sort_by_key(|r| std::cmp::Reverse(r.finished_at));
        failures.truncate(10);
        Ok(Stats { queues: Vec::new(), failures })
    }
}
