//! Django's cache framework: one API over six backends, chosen per alias in the settings.
//!
//! ```toml
//! [caches.default]
//! backend = "redis"                # locmem (the default), redis, memcached, file, database, dummy
//! location = "redis://127.0.0.1:6379/0"
//! timeout = 300                    # seconds; 0 = do not cache; "never" = until deleted
//! key_prefix = "shop"
//! ```
//!
//! ```
//! # use manouche::cache::{Cache, Timeout};
//! # async fn demo(cache: Cache) -> Result<(), manouche::cache::CacheError> {
//! cache.set("greeting", &"hello").await?;
//! let greeting: Option<String> = cache.get("greeting").await?;
//! cache.with_timeout(60).set("visits", &0).await?;
//! let visits = cache.incr("visits", 1).await?;
//! cache.with_timeout(Timeout::Never).add("launch", &"2026-12-04").await?;
//! # let _ = (greeting, visits); Ok(()) }
//! ```
//!
//! Values are any serde type, stored as JSON (an integer is its decimal text, so `incr` is the
//! server's own atomic command on Redis and Memcached). Keys become
//! `<key_prefix>:<version>:<key>` (Django's `make_key`, replaceable with a registered key
//! function). Views reach the project's caches with [`crate::http::Request::cache`]; other code
//! with [`cache()`] and [`caches()`].
//!
//! Every operation has an async form, which runs network and disk backends on the blocking pool
//! so it never blocks an actix worker, and a `_sync` form for commands, signal receivers and
//! tasks. A backend that is down degrades to a miss with a logged warning (a `set` is dropped,
//! a `get` misses), never a 500; `raise_errors = true` makes such failures errors instead.

pub(crate) mod backend;
mod database;
mod file;
mod locmem;
mod memcached;
mod page;
mod ratelimit;
pub(crate) mod redis;
mod settings;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use self::backend::{Backend, BackendError, BackendResult, DummyBackend, ErrorKind, Expiry};
pub use self::database::DatabaseBackend;
pub use self::file::FileBackend;
pub use self::locmem::{Capacity, LocMemBackend};
pub use self::memcached::MemcachedBackend;
pub use self::redis::RedisBackend;
pub use self::settings::{CacheSettings, CachesSection, DEFAULT_TABLE, KeyFunction, TimeoutSetting};
pub(crate) use self::settings::{CreateCacheTable, unreadable_tables};

/// Django's default timeout: five minutes.
pub const DEFAULT_TIMEOUT: u64 = 300;

/// After a backend is found down, how long calls skip it (answering misses at once) before it
/// is tried again: one slow failure per second, not one per request.
const DOWN_FOR: Duration = Duration::from_secs(1);

/// How long a value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Until deleted or evicted (Django's `timeout=None`).
    Never,
    /// For this many seconds; `0` does not cache (Django's `timeout=0`).
    Seconds(u64),
}

impl From<u64> for Timeout {
    fn from(seconds: u64) -> Self {
        Timeout::Seconds(seconds)
    }
}

impl From<Duration> for Timeout {
    fn from(duration: Duration) -> Self {
        Timeout::Seconds(duration.as_secs())
    }
}

impl From<Option<u64>> for Timeout {
    fn from(seconds: Option<u64>) -> Self {
        seconds.map_or(Timeout::Never, Timeout::Seconds)
    }
}

impl Timeout {
    /// The expiry to give a backend, or `None` when the value must not be stored.
    fn expiry(self) -> Option<Expiry> {
        match self {
            Timeout::Never => Some(Expiry::Never),
            Timeout::Seconds(0) => None,
            Timeout::Seconds(seconds) => Some(Expiry::After(Duration::from_secs(seconds))),
        }
    }
}

/// A cache operation that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// No `[caches.<alias>]` of this name.
    #[error("no cache `{0}`: add a `[caches.{0}]` section to the settings")]
    UnknownAlias(String),
    /// `incr`, `decr` or `incr_version` of a key that holds nothing (Django's `ValueError`).
    #[error("cache key `{key}` not found")]
    Missing {
        /// The key as the caller gave it.
        key: String,
    },
    /// A key memcached would refuse, given to a backend that refuses it too.
    #[error("cache key `{key}` is not usable: {reason}")]
    InvalidKey {
        /// The full key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value that does not serialise.
    #[error("cannot store the value of `{key}`: {message}")]
    Encode {
        /// The key.
        key: String,
        /// Serde's message.
        message: String,
    },
    /// The backend failed (only reported for `Unavailable` when `raise_errors` is set).
    #[error("cache `{alias}`: {message}")]
    Backend {
        /// The cache alias.
        alias: String,
        /// What kind of failure.
        kind: ErrorKind,
        /// The backend's message.
        message: String,
    },
}

impl CacheError {
    /// The status a view answers with when it passes this error on: 503 for a backend that is
    /// down, 500 otherwise.
    pub fn status(&self) -> actix_web::http::StatusCode {
        match self {
            CacheError::Backend { kind: ErrorKind::Unavailable, .. } => {
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE
            }
            _ => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A key function: `(key, key_prefix, version) -> the backend's key`.
pub(crate) type KeyFn = fn(&str, &str, i64) -> String;

/// Django's default key function: `<prefix>:<version>:<key>`.
pub fn default_key(key: &str, prefix: &str, version: i64) -> String {
    format!("{prefix}:{version}:{key}")
}

struct Inner {
    alias: String,
    backend: Arc<dyn Backend>,
    prefix: String,
    version: i64,
    timeout: Timeout,
    key_function: KeyFn,
    raise_errors: bool,
    /// Milliseconds since [`EPOCH`] until which the backend is considered down.
    down_until: AtomicU64,
}

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ms() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One configured cache (Django's `caches["alias"]`). Cheap to clone; clones share the backend.
/// [`Cache::with_timeout`] and [`Cache::with_version`] give views of it with other defaults.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
    version: Option<i64>,
    timeout: Option<Timeout>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("alias", &self.inner.alias)
            .field("prefix", &self.inner.prefix)
            .field("version", &self.version())
            .field("timeout", &self.timeout())
            .finish_non_exhaustive()
    }
}

/// A cache built by hand (tests, tools): see [`Cache::builder`].
#[derive(Debug)]
pub struct CacheBuilder {
    alias: String,
    prefix: String,
    version: i64,
    timeout: Timeout,
    key_function: KeyFn,
    raise_errors: bool,
}

impl CacheBuilder {
    /// The key prefix.
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
    /// The default version.
    #[must_use]
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }
    /// The default timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: impl Into<Timeout>) -> Self {
        self.timeout = timeout.into();
        self
    }
    /// The key function (`fn(key, prefix, version) -> String`).
    #[must_use]
    pub fn key_function(mut self, function: fn(&str, &str, i64) -> String) -> Self {
        self.key_function = function;
        self
    }
    /// Whether a backend that is down is an error rather than a miss.
    #[must_use]
    pub fn raise_errors(mut self, raise: bool) -> Self {
        self.raise_errors = raise;
        self
    }
    /// The cache over `backend`.
    pub fn build(self, backend: impl Backend) -> Cache {
        self.build_arc(Arc::new(backend))
    }

    /// The cache over a backend shared with other caches (another key prefix on one storage).
    pub fn build_shared(self, backend: Arc<dyn Backend>) -> Cache {
        self.build_arc(backend)
    }

    fn build_arc(self, backend: Arc<dyn Backend>) -> Cache {
        Cache {
            inner: Arc::new(Inner {
                alias: self.alias,
                backend,
                prefix: self.prefix,
                version: self.version,
                timeout: self.timeout,
                key_function: self.key_function,
                raise_errors: self.raise_errors,
                down_until: AtomicU64::new(0),
            }),
            version: None,
            timeout: None,
        }
    }
}

fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, CacheError> {
    serde_json::to_vec(value).map_err(|e| CacheError::Encode { key: key.to_owned(), message: e.to_string() })
}

impl Cache {
    /// A cache named `alias`, to be finished with a backend.
    pub fn builder(alias: impl Into<String>) -> CacheBuilder {
        CacheBuilder {
            alias: alias.into(),
            prefix: String::new(),
            version: 1,
            timeout: Timeout::Seconds(DEFAULT_TIMEOUT),
            key_function: default_key,
            raise_errors: false,
        }
    }

    /// The alias this cache has in the settings.
    pub fn alias(&self) -> &str {
        &self.inner.alias
    }

    /// The version keys get when none is given.
    pub fn version(&self) -> i64 {
        self.version.unwrap_or(self.inner.version)
    }

    /// The timeout values get when none is given.
    pub fn timeout(&self) -> Timeout {
        self.timeout.unwrap_or(self.inner.timeout)
    }

    /// This cache with another default timeout: `cache.with_timeout(60).set(...)`.
    #[must_use]
    pub fn with_timeout(&self, timeout: impl Into<Timeout>) -> Cache {
        Cache { timeout: Some(timeout.into()), ..self.clone() }
    }

    /// This cache with another version: `cache.with_version(2).get(...)`.
    #[must_use]
    pub fn with_version(&self, version: i64) -> Cache {
        Cache { version: Some(version), ..self.clone() }
    }

    /// The backend's key for `key` (Django's `make_key`): prefix, version, key.
    pub fn make_key(&self, key: &str) -> String {
        (self.inner.key_function)(key, &self.inner.prefix, self.version())
    }

    /// Whether the backend keeps values in this process (local memory, dummy).
    pub fn in_process(&self) -> bool {
        self.inner.backend.in_process()
    }

    /// The full key, checked as memcached would check it: a warning for other backends, an
    /// error for memcached (Django's `validate_key`).
    fn key(&self, key: &str) -> Result<String, CacheError> {
        let full = self.make_key(key);
        if let Some(reason) = key_problem(&full) {
            if self.inner.backend.strict_keys() {
                return Err(CacheError::InvalidKey { key: full, reason });
            }
            log::warn!(target: "manouche.cache", "cache key `{full}` {reason}: memcached would refuse it");
        }
        Ok(full)
    }

    fn is_down(&self) -> bool {
        self.inner.down_until.load(Ordering::Relaxed) > now_ms()
    }

    /// A backend result as the caller sees it: a backend that is down reads as `miss`, logged.
    fn outcome<T>(&self, op: &str, result: BackendResult<T>, miss: T) -> Result<T, CacheError> {
        match result {
            Ok(value) => Ok(value),
            Err(error) if error.kind == ErrorKind::Unavailable => {
                self.inner
                    .down_until
                    .store(now_ms() + u64::try_from(DOWN_FOR.as_millis()).unwrap_or(1000), Ordering::Relaxed);
                if self.inner.raise_errors {
                    return Err(self.error(error));
                }
                log::warn!(target: "manouche.cache", "cache `{}` {op} failed, treated as a miss: {error}", self.inner.alias);
                Ok(miss)
            }
            Err(error) => Err(self.error(error)),
        }
    }

    fn error(&self, error: BackendError) -> CacheError {
        CacheError::Backend { alias: self.inner.alias.clone(), kind: error.kind, message: error.message }
    }

    /// Runs `op` on the backend, here (sync).
    fn call<T>(&self, name: &str, op: impl FnOnce(&dyn Backend) -> BackendResult<T>, miss: T) -> Result<T, CacheError> {
        if self.is_down() {
            let skipped = BackendError::unavailable("the backend failed less than a second ago");
            if self.inner.raise_errors {
                return Err(self.error(skipped));
            }
            return Ok(miss);
        }
        let result = op(&*self.inner.backend);
        self.outcome(name, result, miss)
    }

    /// Runs `op` on the backend from async code: directly for in-process backends, on the
    /// blocking pool for the others.
    async fn call_async<T: Send + 'static>(
        &self,
        name: &'static str,
        op: impl FnOnce(&dyn Backend) -> BackendResult<T> + Send + 'static,
        miss: T,
    ) -> Result<T, CacheError> {
        if self.inner.backend.in_process() {
            return self.call(name, op, miss);
        }
        if self.is_down() {
            return self.call(name, op, miss);
        }
        let backend = Arc::clone(&self.inner.backend);
        let result = match actix_web::rt::task::spawn_blocking(move || op(&*backend)).await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(BackendError::unavailable(join)),
        };
        self.outcome(name, result, miss)
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, bytes: Option<Vec<u8>>) -> Option<T> {
        let bytes = bytes?;
        match serde_json::from_slice(&bytes) {
            Ok(value) => Some(value),
            Err(error) => {
                // Written by another version of the code, or another type: a miss, not a 500.
                log::warn!(target: "manouche.cache", "cache `{}`: the value of `{key}` does not read as the type asked for ({error}); treated as a miss", self.inner.alias);
                None
            }
        }
    }

    // ---- sync API -------------------------------------------------------------------------

    /// The value under `key`, or `None` (missing, expired, or the backend is down).
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidKey`] for a key memcached refuses; [`CacheError::Backend`] when
    /// `raise_errors` is set and the backend fails.
    pub fn get_sync<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let full = self.key(key)?;
        let bytes = self.call("get", |b| b.get(&full), None)?;
        Ok(self.decode(key, bytes))
    }

    /// The values of the keys that have one (Django's `get_many`).
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub fn get_many_sync<T: DeserializeOwned>(&self, keys: &[&str]) -> Result<HashMap<String, T>, CacheError> {
        let full: Vec<String> = keys.iter().map(|key| self.key(key)).collect::<Result<_, _>>()?;
        let values = self.call("get_many", |b| b.get_many(&full), Vec::new())?;
        Ok(self.collect_many(keys, values))
    }

    fn collect_many<T: DeserializeOwned>(&self, keys: &[&str], values: Vec<Option<Vec<u8>>>) -> HashMap<String, T> {
        keys.iter()
            .zip(values)
            .filter_map(|(key, bytes)| self.decode(key, bytes).map(|value| ((*key).to_owned(), value)))
            .collect()
    }

    /// Stores `value` under `key` for the cache's timeout.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`], plus [`CacheError::Encode`].
    pub fn set_sync<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        let full = self.key(key)?;
        let bytes = encode(key, value)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call("set", |b| b.set(&full, &bytes, expiry), ()),
            None => self.call("set", |b| b.delete(&full).map(drop), ()),
        }
    }

    /// Stores each pair (Django's `set_many`).
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub fn set_many_sync<T: Serialize>(&self, items: &[(&str, T)]) -> Result<(), CacheError> {
        let pairs = self.encode_many(items)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call("set_many", |b| b.set_many(&pairs, expiry), ()),
            None => {
                let keys: Vec<String> = pairs.into_iter().map(|(key, _)| key).collect();
                self.call("set_many", |b| b.delete_many(&keys), ())
            }
        }
    }

    fn encode_many<T: Serialize>(&self, items: &[(&str, T)]) -> Result<Vec<(String, Vec<u8>)>, CacheError> {
        items.iter().map(|(key, value)| Ok((self.key(key)?, encode(key, value)?))).collect()
    }

    /// Stores `value` only when `key` holds nothing; whether it stored (Django's `add`).
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub fn add_sync<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        let bytes = encode(key, value)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call("add", |b| b.add(&full, &bytes, expiry), false),
            None => self.call("add", |b| b.has_key(&full).map(|held| !held), false),
        }
    }

    /// The value under `key`; when there is none, `default()` is stored (with `add`, so a value
    /// another process stored meanwhile wins) and returned.
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub fn get_or_set_sync<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, CacheError> {
        if let Some(value) = self.get_sync(key)? {
            return Ok(value);
        }
        let value = default();
        if self.add_sync(key, &value)? {
            return Ok(value);
        }
        Ok(self.get_sync(key)?.unwrap_or(value))
    }

    /// Removes `key`; whether it held a value.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub fn delete_sync(&self, key: &str) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        self.call("delete", |b| b.delete(&full), false)
    }

    /// Removes every key of `keys`.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub fn delete_many_sync(&self, keys: &[&str]) -> Result<(), CacheError> {
        let full: Vec<String> = keys.iter().map(|key| self.key(key)).collect::<Result<_, _>>()?;
        self.call("delete_many", |b| b.delete_many(&full), ())
    }

    /// Whether `key` holds a value.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub fn has_key_sync(&self, key: &str) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        self.call("has_key", |b| b.has_key(&full), false)
    }

    /// Adds `delta` to the integer under `key`, atomically on every backend but the file
    /// system's (atomic there within one process); returns the new value.
    ///
    /// # Errors
    ///
    /// [`CacheError::Missing`] when the key holds nothing (also when the backend is down and
    /// errors are not raised), [`CacheError::Backend`] when the value is not an integer.
    pub fn incr_sync(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let full = self.key(key)?;
        self.call("incr", |b| b.incr(&full, delta), None)?.ok_or_else(|| CacheError::Missing { key: key.to_owned() })
    }

    /// `incr` by `-delta`.
    ///
    /// # Errors
    ///
    /// As [`Cache::incr_sync`].
    pub fn decr_sync(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        self.incr_sync(key, -delta)
    }

    /// Gives `key` the cache's timeout from now; whether it held a value.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub fn touch_sync(&self, key: &str) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call("touch", |b| b.touch(&full, expiry), false),
            None => self.call("touch", |b| b.delete(&full), false),
        }
    }

    /// Removes everything in this cache (on Redis, the keys under the prefix when there is
    /// one; on Memcached, the whole server).
    ///
    /// # Errors
    ///
    /// [`CacheError::Backend`] when `raise_errors` is set and the backend fails.
    pub fn clear_sync(&self) -> Result<(), CacheError> {
        self.call("clear", |b| b.clear(), ())
    }

    /// Moves `key`'s value to version `version + delta`, dropping the old one; the new version.
    ///
    /// # Errors
    ///
    /// [`CacheError::Missing`] when the key holds nothing at its version.
    pub fn incr_version_sync(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let version = self.version();
        let Some(value) = self.get_sync::<serde_json::Value>(key)? else {
            return Err(CacheError::Missing { key: key.to_owned() });
        };
        let new = version + delta;
        self.with_version(new).set_sync(key, &value)?;
        self.delete_sync(key)?;
        Ok(new)
    }

    // ---- async API ------------------------------------------------------------------------

    /// [`Cache::get_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let full = self.key(key)?;
        let bytes = self.call_async("get", move |b| b.get(&full), None).await?;
        Ok(self.decode(key, bytes))
    }

    /// [`Cache::get_many_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub async fn get_many<T: DeserializeOwned>(&self, keys: &[&str]) -> Result<HashMap<String, T>, CacheError> {
        let full: Vec<String> = keys.iter().map(|key| self.key(key)).collect::<Result<_, _>>()?;
        let values = self.call_async("get_many", move |b| b.get_many(&full), Vec::new()).await?;
        Ok(self.collect_many(keys, values))
    }

    /// [`Cache::set_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        let full = self.key(key)?;
        let bytes = encode(key, value)?;
        self.set_bytes(full, bytes).await
    }

    /// Stores raw bytes under a full key (the page cache's entries).
    pub(crate) async fn set_bytes(&self, full: String, bytes: Vec<u8>) -> Result<(), CacheError> {
        match self.timeout().expiry() {
            Some(expiry) => self.call_async("set", move |b| b.set(&full, &bytes, expiry), ()).await,
            None => self.call_async("set", move |b| b.delete(&full).map(drop), ()).await,
        }
    }

    /// [`Cache::set_many_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub async fn set_many<T: Serialize>(&self, items: &[(&str, T)]) -> Result<(), CacheError> {
        let pairs = self.encode_many(items)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call_async("set_many", move |b| b.set_many(&pairs, expiry), ()).await,
            None => {
                let keys: Vec<String> = pairs.into_iter().map(|(key, _)| key).collect();
                self.call_async("set_many", move |b| b.delete_many(&keys), ()).await
            }
        }
    }

    /// [`Cache::add_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub async fn add<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        let bytes = encode(key, value)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call_async("add", move |b| b.add(&full, &bytes, expiry), false).await,
            None => self.call_async("add", move |b| b.has_key(&full).map(|held| !held), false).await,
        }
    }

    /// [`Cache::get_or_set_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::set_sync`].
    pub async fn get_or_set<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, CacheError> {
        if let Some(value) = self.get(key).await? {
            return Ok(value);
        }
        let value = default();
        if self.add(key, &value).await? {
            return Ok(value);
        }
        Ok(self.get(key).await?.unwrap_or(value))
    }

    /// [`Cache::delete_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        self.call_async("delete", move |b| b.delete(&full), false).await
    }

    /// [`Cache::delete_many_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub async fn delete_many(&self, keys: &[&str]) -> Result<(), CacheError> {
        let full: Vec<String> = keys.iter().map(|key| self.key(key)).collect::<Result<_, _>>()?;
        self.call_async("delete_many", move |b| b.delete_many(&full), ()).await
    }

    /// [`Cache::has_key_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub async fn has_key(&self, key: &str) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        self.call_async("has_key", move |b| b.has_key(&full), false).await
    }

    /// [`Cache::incr_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::incr_sync`].
    pub async fn incr(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let full = self.key(key)?;
        self.call_async("incr", move |b| b.incr(&full, delta), None)
            .await?
            .ok_or_else(|| CacheError::Missing { key: key.to_owned() })
    }

    /// [`Cache::decr_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::incr_sync`].
    pub async fn decr(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        self.incr(key, -delta).await
    }

    /// [`Cache::touch_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::get_sync`].
    pub async fn touch(&self, key: &str) -> Result<bool, CacheError> {
        let full = self.key(key)?;
        match self.timeout().expiry() {
            Some(expiry) => self.call_async("touch", move |b| b.touch(&full, expiry), false).await,
            None => self.call_async("touch", move |b| b.delete(&full), false).await,
        }
    }

    /// [`Cache::clear_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::clear_sync`].
    pub async fn clear(&self) -> Result<(), CacheError> {
        self.call_async("clear", |b| b.clear(), ()).await
    }

    /// [`Cache::incr_version_sync`], without blocking the worker.
    ///
    /// # Errors
    ///
    /// As [`Cache::incr_version_sync`].
    pub async fn incr_version(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let version = self.version();
        let Some(value) = self.get::<serde_json::Value>(key).await? else {
            return Err(CacheError::Missing { key: key.to_owned() });
        };
        let new = version + delta;
        self.with_version(new).set(key, &value).await?;
        self.delete(key).await?;
        Ok(new)
    }

    /// Raw reads of full keys, for the page cache.
    pub(crate) async fn get_raw_many(&self, full: Vec<String>) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let count = full.len();
        let values = self.call_async("get_many", move |b| b.get_many(&full), Vec::new()).await?;
        Ok(if values.len() == count { values } else { vec![None; count] })
    }

    /// Counts one more under `key` (created with this cache's timeout); `None` when the counter
    /// could not be kept or the backend is down.
    pub(crate) async fn count(&self, key: &str) -> Result<Option<i64>, CacheError> {
        let full = self.key(key)?;
        let Some(expiry) = self.timeout().expiry() else { return Ok(None) };
        self.call_async("count", move |b| b.count(&full, expiry), None).await
    }

    /// A raw `add` of a full key with its own expiry, for locks.
    pub(crate) async fn add_raw(&self, full: String, bytes: Vec<u8>, expiry: Expiry) -> Result<bool, CacheError> {
        self.call_async("add", move |b| b.add(&full, &bytes, expiry), false).await
    }

    /// A raw `delete` of a full key.
    pub(crate) async fn delete_raw(&self, full: String) -> Result<bool, CacheError> {
        self.call_async("delete", move |b| b.delete(&full), false).await
    }

    /// A raw `incr` of a full key; `None` when missing.
    pub(crate) fn incr_raw_sync(&self, full: &str, delta: i64) -> Result<Option<i64>, CacheError> {
        self.call("incr", |b| b.incr(full, delta), None)
    }

    /// A raw `add` of a full key, sync.
    pub(crate) fn add_raw_sync(&self, full: &str, bytes: &[u8], expiry: Expiry) -> Result<bool, CacheError> {
        self.call("add", |b| b.add(full, bytes, expiry), false)
    }
}

/// Why memcached would refuse `key` (Django's `memcache_key_warnings`), if it would.
pub fn key_problem(key: &str) -> Option<String> {
    if key.len() > 250 {
        return Some(format!("is {} bytes long (memcached takes at most 250)", key.len()));
    }
    key.chars()
        .find(|c| (*c as u32) < 33 || *c as u32 == 127)
        .map(|c| format!("holds the character {c:?} (memcached refuses spaces and control characters)"))
}

/// The caches of a project, by alias. `default` is always there (local memory unless the
/// settings say otherwise).
#[derive(Clone, Debug)]
pub struct Caches {
    by_alias: Arc<HashMap<String, Cache>>,
}

impl Caches {
    /// The cache `alias`.
    ///
    /// # Errors
    ///
    /// [`CacheError::UnknownAlias`].
    pub fn get(&self, alias: &str) -> Result<Cache, CacheError> {
        self.by_alias.get(alias).cloned().ok_or_else(|| CacheError::UnknownAlias(alias.to_owned()))
    }

    /// The `default` cache.
    pub fn default_cache(&self) -> Cache {
        self.by_alias.get("default").cloned().unwrap_or_else(|| FALLBACK.clone())
    }

    /// Every alias, sorted.
    pub fn aliases(&self) -> Vec<&str> {
        let mut aliases: Vec<&str> = self.by_alias.keys().map(String::as_str).collect();
        aliases.sort_unstable();
        aliases
    }

    pub(crate) fn from_map(by_alias: HashMap<String, Cache>) -> Self {
        Caches { by_alias: Arc::new(by_alias) }
    }
}

/// The default cache outside any project: local memory, Django's defaults.
static FALLBACK: LazyLock<Cache> =
    LazyLock::new(|| Cache::builder("default").build(LocMemBackend::new(Capacity::Entries(300))));

static INSTALLED: RwLock<Option<Caches>> = RwLock::new(None);

/// Makes `caches` the ones [`cache()`] and [`caches()`] return: the project being served.
pub(crate) fn install(caches: &Caches) {
    *INSTALLED.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(caches.clone());
}

fn installed() -> Option<Caches> {
    INSTALLED.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// The cache `alias` of the running project (Django's `caches["alias"]`).
///
/// # Errors
///
/// [`CacheError::UnknownAlias`] when the settings have no such cache.
pub fn caches(alias: &str) -> Result<Cache, CacheError> {
    match installed() {
        Some(caches) => caches.get(alias),
        None if alias == "default" => Ok(FALLBACK.clone()),
        None => Err(CacheError::UnknownAlias(alias.to_owned())),
    }
}

/// The `default` cache of the running project (Django's `cache`); a local-memory cache when no
/// project has been built in this process.
pub fn cache() -> Cache {
    installed().map_or_else(|| FALLBACK.clone(), |caches| caches.default_cache())
}

/// The caches of the project serving `req` (those installed last outside a project).
pub(crate) fn request_caches(req: &actix_web::HttpRequest) -> Caches {
    match req.app_data::<actix_web::web::Data<crate::http::SiteState>>() {
        Some(state) => state.caches.clone(),
        None => {
            installed().unwrap_or_else(|| Caches::from_map(HashMap::from([("default".to_owned(), FALLBACK.clone())])))
        }
    }
}

#[doc(hidden)]
pub use self::page::{__apply_view_cache, __depends_on, __response_headers, DependsOn, HeaderOp};
pub(crate) use self::page::{CacheMiddleware, ConditionalGet, watch_dependencies};
pub use self::page::{CacheMiddlewareSettings, CachePage, ControlDirective, invalidate_model};
#[doc(hidden)]
pub use self::ratelimit::__ratelimit_check;
pub use self::ratelimit::{Rate, RateKey, RateLimit, RateLimitSettings, check_rate, ratelimit_middleware};
