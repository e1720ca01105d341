//! Django's `RedisCache` on the `redis` crate: a pool (r2d2) of connections with connect, read
//! and write timeouts, so a server that is down or stalls costs a bounded wait, never a hung
//! worker. `add` is `SET NX`, `incr` an atomic script that refuses a missing key (Django's
//! semantics: `INCRBY` alone would create it), expiry in milliseconds.

use std::time::Duration;

use super::backend::{Backend, BackendError, BackendResult, Expiry};

/// Adds ARGV[1] to KEYS[1] only if it exists (its expiry is kept).
const INCR_EXISTING: &str =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return false";
/// Counts one more under KEYS[1], giving a new counter the lifetime ARGV[1] (milliseconds; 0 for
/// none): one round trip.
const COUNT: &str = "local v = redis.call('INCR', KEYS[1]) if v == 1 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";
/// Makes KEYS[1] live forever, if it exists.
const PERSIST_EXISTING: &str =
    "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PERSIST', KEYS[1]) return 1 end return 0";

/// Opens connections with timeouts for the pool.
#[derive(Debug)]
pub(crate) struct Manager {
    pub(crate) client: redis::Client,
    pub(crate) timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = redis::Connection;
    type Error = redis::RedisError;

    fn connect(&self) -> Result<redis::Connection, redis::RedisError> {
        let conn = self.client.get_connection_with_timeout(self.timeout)?;
        conn.set_read_timeout(Some(self.timeout))?;
        conn.set_write_timeout(Some(self.timeout))?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut redis::Connection) -> Result<(), redis::RedisError> {
        redis::cmd("PING").query::<()>(conn)
    }

    fn has_broken(&self, conn: &mut redis::Connection) -> bool {
        !redis::ConnectionLike::is_open(conn)
    }
}

/// The Redis backend.
pub struct RedisBackend {
    pool: r2d2::Pool<Manager>,
    location: String,
    /// The key prefix: `clear` removes only this cache's keys when it has one.
    prefix: String,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend").field("location", &self.location).finish_non_exhaustive()
    }
}

fn failed(error: &redis::RedisError) -> BackendError {
    let message = format!("redis: {error}");
    if message.contains("not an integer") || message.contains("WRONGTYPE") {
        BackendError::invalid(message)
    } else {
        BackendError::unavailable(message)
    }
}

impl RedisBackend {
    /// A backend for the server at `location` (`redis://host:port/db`), with up to `pool_size`
    /// connections; no connection is opened until the first use.
    ///
    /// # Errors
    ///
    /// A message when `location` is not a Redis URL.
    pub fn new(location: &str, pool_size: u32, timeout: Duration, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(location).map_err(|e| format!("`{location}` is not a Redis URL: {e}"))?;
        let pool = super::backend::pool(Manager { client, timeout }, pool_size, timeout);
        Ok(RedisBackend { pool, location: location.to_owned(), prefix: prefix.to_owned() })
    }

    fn conn(&self) -> BackendResult<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| BackendError::unavailable(format!("redis at {}: {e}", self.location)))
    }

    fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> BackendResult<T> {
        let mut conn = self.conn()?;
        cmd.query(&mut *conn).map_err(|e| failed(&e))
    }
}

fn set_cmd(key: &str, value: &[u8], expiry: Expiry) -> redis::Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(value);
    if let Some(ms) = expiry.millis() {
        cmd.arg("PX").arg(ms);
    }
    cmd
}

impl Backend for RedisBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        self.query(redis::cmd("GET").arg(key))
    }

    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.query(redis::cmd("MGET").arg(keys))
    }

    fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        self.query(&set_cmd(key, value, expiry))
    }

    fn set_many(&self, items: &[(String, Vec<u8>)], expiry: Expiry) -> BackendResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, value) in items {
            pipe.add_command(set_cmd(key, value, expiry)).ignore();
        }
        let mut conn = self.conn()?;
        pipe.query::<()>(&mut *conn).map_err(|e| failed(&e))
    }

    fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        let mut cmd = set_cmd(key, value, expiry);
        cmd.arg("NX");
        self.query::<Option<String>>(&cmd).map(|reply| reply.is_some())
    }

    fn delete(&self, key: &str) -> BackendResult<bool> {
        self.query::<i64>(redis::cmd("DEL").arg(key)).map(|n| n > 0)
    }

    fn delete_many(&self, keys: &[String]) -> BackendResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.query::<i64>(redis::cmd("DEL").arg(keys)).map(drop)
    }

    fn has_key(&self, key: &str) -> BackendResult<bool> {
        self.query::<i64>(redis::cmd("EXISTS").arg(key)).map(|n| n > 0)
    }

    fn incr(&self, key: &str, delta: i64) -> BackendResult<Option<i64>> {
        self.query(redis::cmd("EVAL").arg(INCR_EXISTING).arg(1).arg(key).arg(delta))
    }

    fn count(&self, key: &str, expiry: Expiry) -> BackendResult<Option<i64>> {
        let ms = expiry.millis().unwrap_or(0);
        self.query::<i64>(redis::cmd("EVAL").arg(COUNT).arg(1).arg(key).arg(ms)).map(Some)
    }

    fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let reply: i64 = match expiry.millis() {
            Some(ms) => self.query(redis::cmd("PEXPIRE").arg(key).arg(ms))?,
            None => self.query(redis::cmd("EVAL").arg(PERSIST_EXISTING).arg(1).arg(key))?,
        };
        Ok(reply > 0)
    }

    /// With a key prefix, removes the keys under it (`SCAN` + `DEL`); without one, the whole
    /// database (`FLUSHDB`, as Django does).
    fn clear(&self) -> BackendResult<()> {
        if self.prefix.is_empty() {
            return self.query(&redis::cmd("FLUSHDB"));
        }
        let pattern = format!("{}:*", glob_escape(&self.prefix));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) =
                self.query(redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(500))?;
            if !keys.is_empty() {
                self.query::<i64>(redis::cmd("DEL").arg(&keys))?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

/// `text` with Redis's glob characters escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
