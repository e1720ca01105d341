//! The `database` backend (the development default): tasks are rows of the `tasks` app's table.
//! A worker claims the next due row in one statement (`UPDATE ... WHERE id = (SELECT ... LIMIT 1)
//! RETURNING`): on PostgreSQL the inner select takes `FOR UPDATE SKIP LOCKED`, so workers never
//! wait on each other's row; on SQLite the statement runs in a `BEGIN IMMEDIATE` transaction,
//! which serialises claims. A claimed row is `RUNNING` with a `locked_until` its worker's
//! heartbeats push back; a row whose worker died is claimed again once that time passes.

use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::broker::{Broker, Claim, QueueDepth, Stats, TasksError};
use super::result::{ResultRecord, TaskMessage, TaskStatus};
use super::{TaskSettings, now_millis};
use crate::db::{Backend as Dialect, Connection, Database, RawQuery, RawRows};

const TABLE: &str = "manouche_task";

/// The rows of results and ticks: the database backend's whole state, and the amqp backend's
/// result store.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    db: Database,
}

fn failed(error: &crate::db::Error) -> TasksError {
    let hint = match error {
        crate::db::Error::Query(_) => " (is the `tasks` app installed and migrated? run `migrate`)",
        _ => "",
    };
    TasksError::Unavailable(format!("task table: {error}{hint}"))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

type RecordRow =
    (String, String, String, String, String, i32, i64, Option<i64>, Option<i64>, Option<String>, String, String);
type RecordTypes =
    (Text, Text, Text, Text, Text, Integer, BigInt, Nullable<BigInt>, Nullable<BigInt>, Nullable<Text>, Text, Text);
const RECORD_COLUMNS: &str =
    "id, task, queue, status, args, attempts, enqueued_at, started_at, finished_at, return_value, errors, worker_ids";

fn record(row: RecordRow) -> ResultRecord {
    let (id, task, queue, status, args, attempts, enqueued_at, started_at, finished_at, return_value, errors, workers) =
        row;
    ResultRecord {
        id,
        task,
        queue,
        status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Ready),
        args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
        attempts: u32::try_from(attempts).unwrap_or(0),
        enqueued_at,
        started_at,
        finished_at,
        return_value: return_value.and_then(|v| serde_json::from_str(&v).ok()),
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        worker_ids: serde_json::from_str(&workers).unwrap_or_default(),
    }
}

impl Store {
    pub(crate) fn new(db: Database) -> Self {
        Store { db }
    }

    fn run<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, crate::db::Error>) -> Result<T, TasksError> {
        self.db.run_sync(f).map_err(|e| failed(&e))
    }

    pub(crate) fn insert(&self, message: &TaskMessage) -> Result<(), TasksError> {
        self.run(|conn| {
            RawQuery::<()>::new(format!(
                "INSERT INTO {TABLE} (id, task, queue, priority, status, args, attempts, run_after, enqueued_at, \
                 started_at, finished_at, locked_until, worker, return_value, errors, worker_ids) \
                 VALUES (?, ?, ?, ?, 'READY', ?, ?, ?, ?, NULL, NULL, 0, '', NULL, ?, ?)"
            ))
            .bind::<Text, _>(message.id.clone())
            .bind::<Text, _>(message.task.clone())
            .bind::<Text, _>(message.queue.clone())
            .bind::<Integer, _>(message.priority)
            .bind::<Text, _>(message.args.to_string())
            .bind::<Integer, _>(i32::try_from(message.attempts).unwrap_or(i32::MAX))
            .bind::<BigInt, _>(message.run_after)
            .bind::<BigInt, _>(message.enqueued_at)
            .bind::<Text, _>(json(&message.errors))
            .bind::<Text, _>(json(&message.worker_ids))
            .execute_sync(conn)
            .map(drop)
        })
    }

    /// Writes `record`'s state; `extra` sets more columns (`status = 'READY', run_after = ...`).
    pub(crate) fn save(&self, record: &ResultRecord, run_after: Option<i64>) -> Result<(), TasksError> {
        let (worker, locked) = match record.status {
            TaskStatus::Running => (record.worker_ids.last().cloned().unwrap_or_default(), None),
            _ => (String::new(), Some(0)),
        };
        self.run(|conn| {
            RawQuery::<()>::new(format!(
                "UPDATE {TABLE} SET status = ?, attempts = ?, started_at = ?, finished_at = ?, return_value = ?, \
                 errors = ?, worker_ids = ?, worker = ?, locked_until = COALESCE(?, locked_until), \
                 run_after = COALESCE(?, run_after) WHERE id = ?"
            ))
            .bind::<Text, _>(record.status.as_str())
            .bind::<Integer, _>(i32::try_from(record.attempts).unwrap_or(i32::MAX))
            .bind::<Nullable<BigInt>, _>(record.started_at)
            .bind::<Nullable<BigInt>, _>(record.finished_at)
            .bind::<Nullable<Text>, _>(record.return_value.as_ref().map(ToString::to_string))
            .bind::<Text, _>(json(&record.errors))
            .bind::<Text, _>(json(&record.worker_ids))
            .bind::<Text, _>(worker)
            .bind::<Nullable<BigInt>, _>(locked)
            .bind::<Nullable<BigInt>, _>(run_after)
            .bind::<Text, _>(record.id.clone())
            .execute_sync(conn)
            .map(drop)
        })
    }

    pub(crate) fn get(&self, id: &str) -> Result<Option<ResultRecord>, TasksError> {
        let rows: Vec<RecordRow> = self.run(|conn| {
            RawRows::<RecordTypes>::new(format!("SELECT {RECORD_COLUMNS} FROM {TABLE} WHERE id = ?"))
                .bind::<Text, _>(id.to_owned())
                .all_sync(conn)
        })?;
        Ok(rows.into_iter().next().map(record))
    }

    pub(crate) fn claim_tick(&self, task: &str, tick: i64, keep: Duration) -> Result<bool, TasksError> {
        let now = now_millis();
        self.run(|conn| {
            let inserted = RawQuery::<()>::new(
                "INSERT INTO manouche_task_tick (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            )
            .bind::<Text, _>(format!("{task}@{tick}"))
            .bind::<BigInt, _>(now)
            .execute_sync(conn)?;
            if inserted == 1 {
                let keep = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX).max(86_400_000);
                RawQuery::<()>::new("DELETE FROM manouche_task_tick WHERE claimed_at < ?")
                    .bind::<BigInt, _>(now.saturating_sub(keep))
                    .execute_sync(conn)?;
            }
            Ok(inserted == 1)
        })
    }

    pub(crate) fn failures(&self) -> Result<Vec<ResultRecord>, TasksError> {
        let rows: Vec<RecordRow> = self.run(|conn| {
            RawRows::<RecordTypes>::new(format!(
                "SELECT {RECORD_COLUMNS} FROM {TABLE} WHERE status = 'FAILED' ORDER BY finished_at DESC LIMIT 10"
            ))
            .all_sync(conn)
        })?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// Tasks `RUNNING`, per queue.
    pub(crate) fn running_by_queue(&self) -> Result<std::collections::HashMap<String, u64>, TasksError> {
        let rows: Vec<(String, i64)> = self.run(|conn| {
            RawRows::<(Text, BigInt)>::new(format!(
                "SELECT queue, COUNT(*) FROM {TABLE} WHERE status = 'RUNNING' GROUP BY queue"
            ))
            .all_sync(conn)
        })?;
        Ok(rows.into_iter().map(|(q, n)| (q, u64::try_from(n).unwrap_or(0))).collect())
    }

    /// The queues tasks were sent to.
    pub(crate) fn queues(&self) -> Result<Vec<String>, TasksError> {
        self.run(|conn| RawRows::<Text>::new(format!("SELECT DISTINCT queue FROM {TABLE}")).all_sync(conn))
    }

    /// Deletes finished results older than `age`; returns how many.
    pub(crate) fn purge(&self, age: Duration) -> Result<u64, TasksError> {
        let before = now_millis().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
        self.run(|conn| {
            RawQuery::<()>::new(format!(
                "DELETE FROM {TABLE} WHERE status IN ('SUCCESSFUL', 'FAILED') AND finished_at < ?"
            ))
            .bind::<BigInt, _>(before)
            .execute_sync(conn)
        })
        .map(|n| n as u64)
    }
}

/// The database backend.
#[derive(Debug)]
pub struct DatabaseBroker {
    store: Store,
    visibility: Duration,
}

type MessageRow = (String, String, String, i32, String, i32, i64, i64, String, String);
type MessageTypes = (Text, Text, Text, Integer, Text, Integer, BigInt, BigInt, Text, Text);

impl DatabaseBroker {
    /// Tasks in `db`'s `manouche_task` table (created by the `tasks` app's migration).
    pub fn new(db: Database, settings: &TaskSettings) -> Self {
        DatabaseBroker { store: Store::new(db), visibility: settings.visibility() }
    }

    fn try_claim(&self, queues: &[String], worker: &str) -> Result<Option<Claim>, TasksError> {
        let now = now_millis();
        let until = now.saturating_add(i64::try_from(self.visibility.as_millis()).unwrap_or(i64::MAX));
        let rows: Vec<MessageRow> = self.store.run(|conn| {
            let lock = if conn.backend() == Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
            let marks = vec!["?"; queues.len()].join(", ");
            let mut query = RawRows::<MessageTypes>::new(format!(
                "UPDATE {TABLE} SET status = 'RUNNING', worker = ?, locked_until = ? WHERE id = (\
                 SELECT id FROM {TABLE} WHERE queue IN ({marks}) AND ((status = 'READY' AND run_after <= ?) \
                 OR (status = 'RUNNING' AND locked_until < ?)) ORDER BY priority DESC, run_after, enqueued_at \
                 LIMIT 1{lock}) \
                 RETURNING id, task, queue, priority, args, attempts, run_after, enqueued_at, errors, worker_ids"
            ))
            .bind::<Text, _>(worker.to_owned())
            .bind::<BigInt, _>(until);
            for queue in queues {
                query = query.bind::<Text, _>(queue.clone());
            }
            let query = query.bind::<BigInt, _>(now).bind::<BigInt, _>(now);
            crate::db::atomic(conn, |conn| query.all_sync(conn))
        })?;
        Ok(rows.into_iter().next().map(
            |(id, task, queue, priority, args, attempts, run_after, enqueued_at, errors, workers)| {
                let message = TaskMessage {
                    id: id.clone(),
                    task,
                    queue,
                    priority,
                    args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    run_after,
                    enqueued_at,
                    errors: serde_json::from_str(&errors).unwrap_or_default(),
                    worker_ids: serde_json::from_str(&workers).unwrap_or_default(),
                };
                Claim { message, receipt: id, redelivered: false }
            },
        ))
    }
}

impl Broker for DatabaseBroker {
    fn kind(&self) -> &'static str {
        "database"
    }

    fn enqueue(&self, message: &TaskMessage) -> Result<(), TasksError> {
        self.store.insert(message)
    }

    fn claim(&self, queues: &[String], worker: &str, wait: Duration) -> Result<Option<Claim>, TasksError> {
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(claim) = self.try_claim(queues, worker)? {
                return Ok(Some(claim));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    fn heartbeat(&self, claim: &Claim, _worker: &str) -> Result<(), TasksError> {
        let until = now_millis().saturating_add(i64::try_from(self.visibility.as_millis()).unwrap_or(i64::MAX));
        self.store.run(|conn| {
            RawQuery::<()>::new(format!("UPDATE {TABLE} SET locked_until = ? WHERE id = ? AND status = 'RUNNING'"))
                .bind::<BigInt, _>(until)
                .bind::<Text, _>(claim.receipt.clone())
                .execute_sync(conn)
                .map(drop)
        })
    }

    fn started(&self, _claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        self.store.save(record, None)
    }

    fn finish(&self, _claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        self.store.save(record, None)
    }

    fn retry(&self, _claim: &Claim, message: &TaskMessage, record: &ResultRecord) -> Result<(), TasksError> {
        self.store.save(record, Some(message.run_after))
    }

    fn release(&self, claim: &Claim) -> Result<(), TasksError> {
        self.store.run(|conn| {
            RawQuery::<()>::new(format!(
                "UPDATE {TABLE} SET status = 'READY', worker = '', locked_until = 0 WHERE id = ? AND status = 'RUNNING'"
            ))
            .bind::<Text, _>(claim.receipt.clone())
            .execute_sync(conn)
            .map(drop)
        })
    }

    fn get(&self, id: &str) -> Result<Option<ResultRecord>, TasksError> {
        self.store.get(id)
    }

    fn claim_tick(&self, task: &str, tick: i64, keep: Duration) -> Result<bool, TasksError> {
        self.store.claim_tick(task, tick, keep)
    }

    fn purge(&self, age: Duration) -> Result<u64, TasksError> {
        self.store.purge(age)
    }

    fn stats(&self) -> Result<Stats, TasksError> {
        let rows: Vec<(String, String, i64)> = self.store.run(|conn| {
            RawRows::<(Text, Text, BigInt)>::new(format!(
                "SELECT queue, status, COUNT(*) FROM {TABLE} WHERE status IN ('READY', 'RUNNING') GROUP BY queue, status ORDER BY queue"
            ))
            .all_sync(conn)
        })?;
        let mut queues: Vec<QueueDepth> = Vec::new();
        for (queue, status, count) in rows {
            if queues.last().is_none_or(|q| q.queue != queue) {
                queues.push(QueueDepth { queue: queue.clone(), ..QueueDepth::default() });
            }
            if let Some(depth) = queues.last_mut() {
                let count = u64::try_from(count).unwrap_or(0);
                if status == "READY" { depth.waiting = count } else { depth.running = count }
            }
        }
        Ok(Stats { queues, failures: self.store.failures()? })
    }
}
