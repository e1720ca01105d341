//! What a cache backend does: bytes in, bytes out, under final keys. Timeouts, versions, key
//! prefixes and serialisation live above, in [`super::Cache`], so every backend gets them the
//! same way.

use std::fmt;
use std::time::Duration;

/// How long a value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Until it is deleted or evicted (Django's `timeout=None`).
    Never,
    /// For this long (never zero: a zero timeout is handled before the backend is asked).
    After(Duration),
}

impl Expiry {
    /// The lifetime in whole milliseconds, at least one; `None` for [`Expiry::Never`].
    pub fn millis(self) -> Option<u64> {
        match self {
            Expiry::Never => None,
            Expiry::After(duration) => Some(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)),
        }
    }
}

/// Why a backend failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server could not be reached or did not answer: the cache degrades to misses unless
    /// `raise_errors` is set.
    Unavailable,
    /// The request itself is wrong (a value that is not an integer for `incr`, a key the server
    /// refuses): always reported.
    Invalid,
}

/// A backend's failure.
#[derive(Debug, Clone)]
pub struct BackendError {
    /// Its kind.
    pub kind: ErrorKind,
    /// What went wrong, for the log and the error.
    pub message: String,
}

impl BackendError {
    /// The server is down or did not answer.
    pub fn unavailable(message: impl fmt::Display) -> Self {
        BackendError { kind: ErrorKind::Unavailable, message: message.to_string() }
    }

    /// The request was refused.
    pub fn invalid(message: impl fmt::Display) -> Self {
        BackendError { kind: ErrorKind::Invalid, message: message.to_string() }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of a backend call.
pub type BackendResult<T> = Result<T, BackendError>;

/// A cache backend (Django's `BaseCache` subclasses), synchronous: the [`super::Cache`] handle
/// runs the calls of backends that do I/O on the blocking pool when called from async code, so
/// one implementation serves views, commands and signal receivers alike.
///
/// Keys arrive complete (prefix and version applied). An expired entry must read as absent.
pub trait Backend: Send + Sync + 'static {
    /// The value under `key`.
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>>;

    /// The values under `keys`, in order.
    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()>;

    /// Stores each pair.
    fn set_many(&self, items: &[(String, Vec<u8>)], expiry: Expiry) -> BackendResult<()> {
        items.iter().try_for_each(|(key, value)| self.set(key, value, expiry))
    }

    /// Stores `value` only if `key` holds nothing live; whether it stored.
    fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool>;

    /// Removes `key`; whether something was there.
    fn delete(&self, key: &str) -> BackendResult<bool>;

    /// Removes every key of `keys`.
    fn delete_many(&self, keys: &[String]) -> BackendResult<()> {
        keys.iter().try_for_each(|key| self.delete(key).map(drop))
    }

    /// Whether `key` holds a live value.
    fn has_key(&self, key: &str) -> BackendResult<bool> {
        self.get(key).map(|value| value.is_some())
    }

    /// Adds `delta` to the integer under `key` atomically, keeping its expiry; the new value, or
    /// `None` when the key holds nothing.
    fn incr(&self, key: &str, delta: i64) -> BackendResult<Option<i64>>;

    /// Counts one more under `key`: increments it, creating it at 1 with `expiry` when it holds
    /// nothing (the rate limiter's step). `None` when the counter could not be kept (evicted
    /// twice in a row).
    fn count(&self, key: &str, expiry: Expiry) -> BackendResult<Option<i64>> {
        for _ in 0..2 {
            self.add(key, b"0", expiry)?;
            if let Some(value) = self.incr(key, 1)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// Gives `key` a new expiry; whether it held a value.
    fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool>;

    /// Removes every entry of this cache.
    fn clear(&self) -> BackendResult<()>;

    /// Whether the backend lives in this process and never blocks (local memory, dummy): async
    /// callers then call it directly instead of going through the blocking pool.
    fn in_process(&self) -> bool {
        false
    }

    /// Whether keys memcached would refuse are refused here too (they are only warned about
    /// elsewhere, as Django does).
    fn strict_keys(&self) -> bool {
        false
    }
}

/// Django's `DummyCache`: stores nothing, every read misses. For development and tests of code
/// paths without a cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct DummyBackend;

impl Backend for DummyBackend {
    fn get(&self, _key: &str) -> BackendResult<Option<Vec<u8>>> {
        Ok(None)
    }
    fn set(&self, _key: &str, _value: &[u8], _expiry: Expiry) -> BackendResult<()> {
        Ok(())
    }
    fn add(&self, _key: &str, _value: &[u8], _expiry: Expiry) -> BackendResult<bool> {
        Ok(true)
    }
    fn delete(&self, _key: &str) -> BackendResult<bool> {
        Ok(false)
    }
    fn incr(&self, _key: &str, _delta: i64) -> BackendResult<Option<i64>> {
        Ok(None)
    }
    fn touch(&self, _key: &str, _expiry: Expiry) -> BackendResult<bool> {
        Ok(false)
    }
    fn clear(&self) -> BackendResult<()> {
        Ok(())
    }
    fn in_process(&self) -> bool {
        true
    }
}

/// Parses an integer value as `incr` stores it (JSON's decimal text), naming the key otherwise.
pub(crate) fn parse_integer(key: &str, value: &[u8]) -> BackendResult<i64> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.trim().parse::<i64>().ok())
        .ok_or_else(|| BackendError::invalid(format!("the value of `{key}` is not an integer")))
}

/// `value + delta`, or an error naming the key on overflow.
pub(crate) fn add_delta(key: &str, value: i64, delta: i64) -> BackendResult<i64> {
    value.checked_add(delta).ok_or_else(|| BackendError::invalid(format!("incrementing `{key}` overflows")))
}

/// The pool of a network backend: up to `size` connections, none opened before the first use,
/// `timeout` to get one (a server that is down costs that, then a miss), errors not logged by
/// r2d2 itself (the cache logs them once, as misses).
pub(crate) fn pool<M: r2d2::ManageConnection>(manager: M, size: u32, timeout: std::time::Duration) -> r2d2::Pool<M> {
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(manager)
}
