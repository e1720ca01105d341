//! What a backend keeps about a task ([`ResultRecord`]), what goes over the broker
//! ([`TaskMessage`]) and the typed handle `enqueue` returns ([`TaskResult`]).

use std::marker::PhantomData;

use chrono::{DateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a task is: Django's `TaskResultStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Enqueued, waiting for a worker (also between attempts).
    Ready,
    /// A worker is running it.
    Running,
    /// It returned a value.
    Successful,
    /// Its last attempt failed.
    Failed,
}

impl TaskStatus {
    /// The stored name: `READY`, `RUNNING`, `SUCCESSFUL`, `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Ready => "READY",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Successful => "SUCCESSFUL",
            TaskStatus::Failed => "FAILED",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "READY" => TaskStatus::Ready,
            "RUNNING" => TaskStatus::Running,
            "SUCCESSFUL" => TaskStatus::Successful,
            "FAILED" => TaskStatus::Failed,
            _ => return None,
        })
    }

    /// Whether it will not change again.
    pub fn is_finished(self) -> bool {
        matches!(self, TaskStatus::Successful | TaskStatus::Failed)
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed attempt: Django's `TaskError`, with the attempt's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptError {
    /// The attempt, from 1.
    pub attempt: u32,
    /// `error`, `panic`, `time_limit`, `arguments` or `unknown_task`.
    pub kind: String,
    /// What went wrong.
    pub message: String,
}

/// A task on its way to a worker: the task's name, its JSON arguments and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskMessage {
    /// The result's id (a UUID).
    pub id: String,
    /// The registered task name.
    pub task: String,
    /// The queue.
    pub queue: String,
    /// -100 to 100.
    pub priority: i32,
    /// The arguments, a JSON array.
    pub args: Value,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this (milliseconds since the epoch); 0: at once.
    pub run_after: i64,
    /// When it was first enqueued (milliseconds since the epoch).
    pub enqueued_at: i64,
    /// The failed attempts so far.
    #[serde(default)]
    pub errors: Vec<AttemptError>,
    /// The workers that ran its attempts so far.
    #[serde(default)]
    pub worker_ids: Vec<String>,
}

/// Everything known about one task: Django's `TaskResult` without the type of its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// The id.
    pub id: String,
    /// The registered task name.
    pub task: String,
    /// The queue.
    pub queue: String,
    /// Its status.
    pub status: TaskStatus,
    /// The arguments, a JSON array.
    pub args: Value,
    /// Attempts started.
    pub attempts: u32,
    /// When it was enqueued (milliseconds since the epoch).
    pub enqueued_at: i64,
    /// When its last attempt started.
    pub started_at: Option<i64>,
    /// When it finished (succeeded, or failed for the last time).
    pub finished_at: Option<i64>,
    /// What it returned (JSON), once successful.
    pub return_value: Option<Value>,
    /// Its failed attempts, oldest first.
    pub errors: Vec<AttemptError>,
    /// The workers that ran its attempts.
    pub worker_ids: Vec<String>,
}

impl ResultRecord {
    /// A record of `message`, just enqueued.
    pub fn ready(message: &TaskMessage) -> Self {
        ResultRecord {
            id: message.id.clone(),
            task: message.task.clone(),
            queue: message.queue.clone(),
            status: TaskStatus::Ready,
            args: message.args.clone(),
            attempts: message.attempts,
            enqueued_at: message.enqueued_at,
            started_at: None,
            finished_at: None,
            return_value: None,
            errors: message.errors.clone(),
            worker_ids: message.worker_ids.clone(),
        }
    }
}

pub(crate) fn time(millis: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(millis).single()
}

/// A task's result, typed by what the task returns: what `enqueue` gives back and
/// `my_task.get_result(id)` finds. A snapshot: [`TaskResult::refresh`] reads it again.
#[derive(Debug, Clone)]
pub struct TaskResult<R> {
    record: ResultRecord,
    handle: super::Tasks,
    _value: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> TaskResult<R> {
    pub(crate) fn new(record: ResultRecord, handle: super::Tasks) -> Self {
        TaskResult { record, handle, _value: PhantomData }
    }

    /// The id, to find the result again later (`my_task.get_result(id)`).
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The task's registered name.
    pub fn task_name(&self) -> &str {
        &self.record.task
    }

    /// The status when this snapshot was read.
    pub fn status(&self) -> TaskStatus {
        self.record.status
    }

    /// Whether the task finished (successfully or not).
    pub fn is_finished(&self) -> bool {
        self.record.status.is_finished()
    }

    /// What the task returned, once [`TaskStatus::Successful`]; `None` before, or when the
    /// stored value no longer reads as `R`.
    pub fn return_value(&self) -> Option<R> {
        match (&self.record.status, &self.record.return_value) {
            (TaskStatus::Successful, Some(value)) => R::deserialize(value).ok(),
            _ => None,
        }
    }

    /// The failed attempts, oldest first.
    pub fn errors(&self) -> &[AttemptError] {
        &self.record.errors
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.record.attempts
    }

    /// When it was enqueued.
    pub fn enqueued_at(&self) -> Option<DateTime<Utc>> {
        time(self.record.enqueued_at)
    }

    /// When its last attempt started.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.record.started_at.and_then(time)
    }

    /// When it finished.
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.record.finished_at.and_then(time)
    }

    /// The workers that ran it.
    pub fn worker_ids(&self) -> &[String] {
        &self.record.worker_ids
    }

    /// Everything stored, untyped.
    pub fn record(&self) -> &ResultRecord {
        &self.record
    }

    /// Reads the result again from the backend (Django's `refresh()`).
    ///
    /// # Errors
    ///
    /// [`super::TasksError`] when the backend cannot be reached or no longer has it.
    pub async fn refresh(&mut self) -> Result<(), super::TasksError> {
        let handle = self.handle.clone();
        let id = self.record.id.clone();
        self.record = super::blocking(move || handle.record(&id)).await?;
        Ok(())
    }

    /// [`TaskResult::refresh`] on the current thread.
    ///
    /// # Errors
    ///
    /// As [`TaskResult::refresh`].
    pub fn refresh_sync(&mut self) -> Result<(), super::TasksError> {
        self.record = self.handle.record(&self.record.id)?;
        Ok(())
    }
}
