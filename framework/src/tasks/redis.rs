//! The `redis` backend: one Redis stream per queue read through a consumer group, the Redis
//! client the cache already uses and no task-queue crate on top (see ARCHITECTURE.md).
//!
//! - Enqueue: `XADD` to the queue's stream (a delayed task goes to a sorted set scored by its
//!   time, moved to its stream by a script once due), with the `READY` result, in one `MULTI`.
//! - Claim: `XREADGROUP ... >` blocks for the next entry. The entry stays pending on the
//!   worker's consumer until it is acknowledged (`XACK` + `XDEL`) in the same `MULTI` that stores
//!   the final result, so a task is acknowledged only after it finished.
//! - Visibility: a running worker refreshes its entries' idle time (`XCLAIM ... JUSTID`); an
//!   entry idle longer than the visibility timeout (its worker died) is taken over by another
//!   worker with `XAUTOCLAIM`, so nothing is lost.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use redis::Value;

use super::broker::{Broker, Claim, QueueDepth, Stats, TasksError};
use super::result::{ResultRecord, TaskMessage, TaskStatus};
use super::{TaskSettings, now_millis};
use crate::cache::redis::Manager;

const GROUP: &str = "workers";

/// Moves the due members of the delayed set KEYS[1] (at most 100) to their queues' streams;
/// ARGV[1] is now (ms), ARGV[2] the stream key prefix.
const PROMOTE: &str = "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100) \
for _, m in ipairs(due) do \
  local q = cjson.decode(m)['queue'] \
  redis.call('XADD', ARGV[2] .. q, '*', 'm', m) \
  redis.call('ZREM', KEYS[1], m) \
end \
return #due";

/// The Redis backend.
pub struct RedisBroker {
    pool: r2d2::Pool<Manager>,
    location: String,
    prefix: String,
    visibility: Duration,
    result_ttl_ms: u64,
    block: Duration,
    groups: Mutex<HashSet<String>>,
    /// When this process last moved due delayed tasks and looked for dead workers' tasks: at
    /// most every 200 ms, not on every claim.
    maintained: Mutex<Option<std::time::Instant>>,
    /// Entries a read returned beyond the one it was for (one per stream read): already pending
    /// on this process's consumer, handed out by the next claims.
    extra: Mutex<std::collections::VecDeque<Claim>>,
}

impl std::fmt::Debug for RedisBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBroker").field("location", &self.location).finish_non_exhaustive()
    }
}

fn failed(error: &redis::RedisError) -> TasksError {
    TasksError::Unavailable(format!("redis: {error}"))
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// `(entry id, message)` of a stream reply's entries (`[[id, [field, value, ...]], ...]`).
fn entries(value: &Value) -> Vec<(String, String)> {
    let Value::Array(items) = value else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(parts) = item else { return None };
            let id = text(parts.first()?)?;
            let Value::Array(fields) = parts.get(1)? else { return None };
            let payload = fields.chunks(2).find(|pair| pair.first().and_then(text).as_deref() == Some("m"))?;
            Some((id, text(payload.get(1)?)?))
        })
        .collect()
}

impl RedisBroker {
    /// A backend on the Redis server at `settings.location`.
    ///
    /// # Errors
    ///
    /// A message when the location is missing or not a Redis URL.
    pub fn new(settings: &TaskSettings) -> Result<Self, String> {
        let location = settings.location()?;
        let client = redis::Client::open(location).map_err(|e| format!("`{location}` is not a Redis URL: {e}"))?;
        let timeout = Duration::from_secs(settings.timeout.max(2));
        let pool = crate::cache::backend::pool(Manager { client, timeout }, settings.pool_size.max(2), timeout);
        Ok(RedisBroker {
            pool,
            location: location.to_owned(),
            prefix: format!("{}:tasks:", settings.prefix),
            visibility: settings.visibility(),
            result_ttl_ms: settings.result_ttl.saturating_mul(1000).max(1000),
            block: (timeout / 2).min(Duration::from_millis(500)),
            groups: Mutex::new(HashSet::new()),
            maintained: Mutex::new(None),
            extra: Mutex::new(std::collections::VecDeque::new()),
        })
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, TasksError> {
        self.pool.get().map_err(|e| TasksError::Unavailable(format!("redis at {}: {e}", self.location)))
    }

    fn stream(&self, queue: &str) -> String {
        format!("{}queue:{queue}", self.prefix)
    }

    fn result_key(&self, id: &str) -> String {
        format!("{}result:{id}", self.prefix)
    }

    fn delayed(&self) -> String {
        format!("{}delayed", self.prefix)
    }

    fn ensure_group(&self, conn: &mut redis::Connection, queue: &str) -> Result<(), TasksError> {
        if self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(queue) {
            return Ok(());
        }
        let created: Result<(), _> =
            redis::cmd("XGROUP").arg("CREATE").arg(self.stream(queue)).arg(GROUP).arg("0").arg("MKSTREAM").query(conn);
        match created {
            Ok(()) => {}
            Err(e) if e.to_string().contains("BUSYGROUP") => {}
            Err(e) => return Err(failed(&e)),
        }
        redis::cmd("SADD")
            .arg(format!("{}queues", self.prefix))
            .arg(queue)
            .query::<()>(conn)
            .map_err(|e| failed(&e))?;
        self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(queue.to_owned());
        Ok(())
    }

    /// Moves due delayed tasks to their streams and takes over one entry a dead worker left
    /// (idle past the visibility timeout), at most every 200 ms per process.
    fn maintain(
        &self,
        conn: &mut redis::Connection,
        queues: &[String],
        worker: &str,
    ) -> Result<Option<Claim>, TasksError> {
        {
            let mut last = self.maintained.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < Duration::from_millis(200)) {
                return Ok(None);
            }
            *last = Some(std::time::Instant::now());
        }
        redis::cmd("EVAL")
            .arg(PROMOTE)
            .arg(1)
            .arg(self.delayed())
            .arg(now_millis())
            .arg(format!("{}queue:", self.prefix))
            .query::<i64>(&mut *conn)
            .map_err(|e| failed(&e))?;
        // A dead worker's entries first: idle past the visibility timeout.
        let idle = u64::try_from(self.visibility.as_millis()).unwrap_or(u64::MAX);
        for queue in queues {
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(self.stream(queue))
                .arg(GROUP)
                .arg(worker)
                .arg(idle)
                .arg("0-0")
                .arg("COUNT")
                .arg(1)
                .query(&mut *conn)
                .map_err(|e| failed(&e))?;
            if let Value::Array(parts) = &reply
                && let Some(found) = parts.get(1).map(entries).and_then(|e| e.into_iter().next())
                && let Some(mut claim) = Self::to_claim(queue, found)
            {
                claim.redelivered = true;
                log::warn!(
                    target: "manouche.tasks",
                    "task {} [{}]: its worker stopped answering; delivered again", claim.message.task, claim.message.id
                );
                return Ok(Some(claim));
            }
        }
        Ok(None)
    }

    /// Adds `message` to its stream, or to the delayed set when not due, in `pipe`.
    fn send(&self, pipe: &mut redis::Pipeline, message: &TaskMessage) {
        let json = serde_json::to_string(message).unwrap_or_default();
        if message.run_after > now_millis() {
            pipe.cmd("ZADD").arg(self.delayed()).arg(message.run_after).arg(json).ignore();
        } else {
            pipe.cmd("XADD").arg(self.stream(&message.queue)).arg("*").arg("m").arg(json).ignore();
        }
    }

    fn store(&self, pipe: &mut redis::Pipeline, record: &ResultRecord) {
        let json = serde_json::to_string(record).unwrap_or_default();
        pipe.cmd("SET").arg(self.result_key(&record.id)).arg(json).arg("PX").arg(self.result_ttl_ms).ignore();
    }

    fn ack(&self, pipe: &mut redis::Pipeline, claim: &Claim) {
        let stream = self.stream(&claim.message.queue);
        pipe.cmd("XACK").arg(&stream).arg(GROUP).arg(&claim.receipt).ignore();
        pipe.cmd("XDEL").arg(&stream).arg(&claim.receipt).ignore();
    }

    fn to_claim(queue: &str, (id, json): (String, String)) -> Option<Claim> {
        match serde_json::from_str::<TaskMessage>(&json) {
            Ok(mut message) => {
                message.queue = queue.to_owned();
                Some(Claim { message, receipt: id, redelivered: false })
            }
            Err(error) => {
                log::error!(target: "manouche.tasks", "redis: entry {id} of queue `{queue}` is not a task ({error}); skipped");
                None
            }
        }
    }
}

impl Broker for RedisBroker {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn enqueue(&self, message: &TaskMessage) -> Result<(), TasksError> {
        let mut conn = self.conn()?;
        self.ensure_group(&mut conn, &message.queue)?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.store(&mut pipe, &ResultRecord::ready(message));
        self.send(&mut pipe, message);
        pipe.query::<()>(&mut *conn).map_err(|e| failed(&e))
    }

    fn claim(&self, queues: &[String], worker: &str, wait: Duration) -> Result<Option<Claim>, TasksError> {
        if let Some(claim) = self.extra.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front() {
            return Ok(Some(claim));
        }
        let mut conn = self.conn()?;
        for queue in queues {
            self.ensure_group(&mut conn, queue)?;
        }
        if let Some(claim) = self.maintain(&mut conn, queues, worker)? {
            return Ok(Some(claim));
        }
        let block = u64::try_from(wait.min(self.block).as_millis()).unwrap_or(1000).max(1);
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP").arg(GROUP).arg(worker).arg("COUNT").arg(1).arg("BLOCK").arg(block).arg("STREAMS");
        for queue in queues {
            cmd.arg(self.stream(queue));
        }
        for _ in queues {
            cmd.arg(">");
        }
        let reply: Value = cmd.query(&mut *conn).map_err(|e| failed(&e))?;
        let Value::Array(streams) = reply else { return Ok(None) };
        let mut claims = std::collections::VecDeque::new();
        for stream in streams {
            let Value::Array(parts) = stream else { continue };
            let (Some(name), Some(items)) = (parts.first().and_then(text), parts.get(1)) else { continue };
            let queue = name.strip_prefix(&format!("{}queue:", self.prefix)).unwrap_or(&name).to_owned();
            claims.extend(entries(items).into_iter().filter_map(|found| Self::to_claim(&queue, found)));
        }
        let first = claims.pop_front();
        self.extra.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(claims);
        Ok(first)
    }

    fn heartbeat(&self, claim: &Claim, worker: &str) -> Result<(), TasksError> {
        let mut conn = self.conn()?;
        redis::cmd("XCLAIM")
            .arg(self.stream(&claim.message.queue))
            .arg(GROUP)
            .arg(worker)
            .arg(0)
            .arg(&claim.receipt)
            .arg("JUSTID")
            .query::<Value>(&mut *conn)
            .map(drop)
            .map_err(|e| failed(&e))
    }

    fn started(&self, _claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        let mut conn = self.conn()?;
        let mut pipe = redis::pipe();
        self.store(&mut pipe, record);
        pipe.query::<()>(&mut *conn).map_err(|e| failed(&e))
    }

    fn finish(&self, claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        let mut conn = self.conn()?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.store(&mut pipe, record);
        if record.status == TaskStatus::Failed {
            let failed_list = format!("{}failed", self.prefix);
            pipe.cmd("LPUSH").arg(&failed_list).arg(&record.id).ignore();
            pipe.cmd("LTRIM").arg(&failed_list).arg(0).arg(99).ignore();
        }
        self.ack(&mut pipe, claim);
        pipe.query::<()>(&mut *conn).map_err(|e| failed(&e))
    }

    fn retry(&self, claim: &Claim, message: &TaskMessage, record: &ResultRecord) -> Result<(), TasksError> {
        let mut conn = self.conn()?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.store(&mut pipe, record);
        self.send(&mut pipe, message);
        self.ack(&mut pipe, claim);
        pipe.query::<()>(&mut *conn).map_err(|e| failed(&e))
    }

    fn release(&self, claim: &Claim) -> Result<(), TasksError> {
        let mut conn = self.conn()?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut message = claim.message.clone();
        message.run_after = 0;
        self.send(&mut pipe, &message);
        self.ack(&mut pipe, claim);
        pipe.query::<()>(&mut *conn).map_err(|e| failed(&e))
    }

    fn get(&self, id: &str) -> Result<Option<ResultRecord>, TasksError> {
        let mut conn = self.conn()?;
        let json: Option<String> =
            redis::cmd("GET").arg(self.result_key(id)).query(&mut *conn).map_err(|e| failed(&e))?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    fn claim_tick(&self, task: &str, tick: i64, keep: Duration) -> Result<bool, TasksError> {
        let mut conn = self.conn()?;
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}tick:{task}:{tick}", self.prefix))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX))
            .query(&mut *conn)
            .map_err(|e| failed(&e))?;
        Ok(set.is_some())
    }

    fn stats(&self) -> Result<Stats, TasksError> {
        let mut conn = self.conn()?;
        let mut queues: Vec<String> =
            redis::cmd("SMEMBERS").arg(format!("{}queues", self.prefix)).query(&mut *conn).map_err(|e| failed(&e))?;
        queues.sort();
        let delayed: Vec<String> =
            redis::cmd("ZRANGE").arg(self.delayed()).arg(0).arg(-1).query(&mut *conn).map_err(|e| failed(&e))?;
        let mut depths = Vec::new();
        for queue in queues {
            let length: u64 = redis::cmd("XLEN").arg(self.stream(&queue)).query(&mut *conn).map_err(|e| failed(&e))?;
            let pending: Value =
                redis::cmd("XPENDING").arg(self.stream(&queue)).arg(GROUP).query(&mut *conn).map_err(|e| failed(&e))?;
            let running = match &pending {
                Value::Array(parts) => match parts.first() {
                    Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                },
                _ => 0,
            };
            let later = delayed
                .iter()
                .filter(|m| serde_json::from_str::<TaskMessage>(m).is_ok_and(|m| m.queue == queue))
                .count() as u64;
            depths.push(QueueDepth { queue, waiting: length.saturating_sub(running) + later, running });
        }
        let ids: Vec<String> = redis::cmd("LRANGE")
            .arg(format!("{}failed", self.prefix))
            .arg(0)
            .arg(9)
            .query(&mut *conn)
            .map_err(|e| failed(&e))?;
        drop(conn);
        let failures = ids.iter().filter_map(|id| self.get(id).ok().flatten()).collect();
        Ok(Stats { queues: depths, failures })
    }
}
