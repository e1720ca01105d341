use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};

use super::connection::Manager;
use super::{Backend, Connection, Error};
use crate::conf::{DatabaseUrl, Settings};

/// Pool sizing and timeouts; from the settings with [`PoolOptions::from_settings`], or built:
/// `PoolOptions::default().max_size(4).acquire_timeout(Duration::from_secs(2))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    max_size: u32,
    acquire_timeout: Duration,
    statement_timeout: Duration,
    create_missing: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            create_missing: true,
        }
    }
}

impl PoolOptions {
    /// Connections kept at most (default 10).
    #[must_use]
    pub fn max_size(mut self, max_size: u32) -> Self {
        self.max_size = max_size.max(1);
        self
    }

    /// How long to wait for a connection before failing with [`Error::Unavailable`] (default 5 s).
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// PostgreSQL's `statement_timeout` for every connection (default 30 s).
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Whether a missing SQLite file is created on first connection (default `true`; the
    /// project's own pool, [`PoolOptions::from_settings`], says `false`: only `migrate` creates
    /// the database, so a file deleted under a running server is reported, not recreated empty).
    #[must_use]
    pub fn create_missing(mut self, create: bool) -> Self {
        self.create_missing = create;
        self
    }

    /// The configured `(max_size, acquire_timeout, statement_timeout)`.
    pub fn limits(&self) -> (u32, Duration, Duration) {
        (self.max_size, self.acquire_timeout, self.statement_timeout)
    }

    /// `database_pool_size`, `database_timeout_seconds` and `database_statement_timeout_seconds`;
    /// a missing SQLite file is not created (see [`PoolOptions::create_missing`]).
    pub fn from_settings(settings: &Settings) -> Self {
        PoolOptions {
            max_size: settings.database_pool_size,
            acquire_timeout: Duration::from_secs(settings.database_timeout_seconds),
            statement_timeout: Duration::from_secs(settings.database_statement_timeout_seconds),
            create_missing: false,
        }
    }
}

/// A pool of connections to the project's database. Cheap to clone.
///
/// # Examples
///
/// ```
/// use diesel::prelude::*;
/// use diesel::sql_types::BigInt;
/// use manouche::conf::DatabaseUrl;
/// use manouche::db::{Database, PoolOptions};
///
/// #[derive(QueryableByName)]
/// struct Answer { #[diesel(sql_type = BigInt)] n: i64 }
///
/// let db = Database::connect(&DatabaseUrl::SqliteMemory, PoolOptions::default());
/// let answer = db.run_sync(|conn| {
///     Ok(diesel::sql_query("SELECT 6 * 7 AS n").get_result::<Answer>(conn)?)
/// })?;
/// assert_eq!(answer.n, 42);
/// # Ok::<(), manouche::db::Error>(())
/// ```
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    url: DatabaseUrl,
    generation: Arc<AtomicU64>,
    capture: Arc<super::queries::Capture>,
    /// Why this handle has no database: every use fails with it.
    missing: Option<&'static str>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").field("url", &self.url).field("max_size", &self.pool.max_size()).finish()
    }
}

type Tm = <Connection as diesel::Connection>::TransactionManager;

impl Database {
    /// A pool for the URL. No connection is opened until one is needed, so a project starts even
    /// when its database is down; requests then get 503.
    pub fn connect(url: &DatabaseUrl, options: PoolOptions) -> Self {
        let backend = match url {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            _ => Backend::Sqlite,
        };
        // Each connection to `sqlite::memory:` would be a separate, empty database: keep one.
        let max_size = if *url == DatabaseUrl::SqliteMemory { 1 } else { options.max_size.max(1) };
        let statement_timeout_ms = u64::try_from(options.statement_timeout.as_millis()).unwrap_or(u64::MAX);
        let generation = Arc::new(AtomicU64::new(0));
        let capture = Arc::new(super::queries::Capture::default());
        let manager = Manager {
            url: url.clone(),
            statement_timeout_ms,
            create_missing: options.create_missing,
            capture: Arc::clone(&capture),
            generation: Arc::clone(&generation),
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(options.acquire_timeout)
            .test_on_check_out(false)
            .build_unchecked(manager);
        Database { pool, backend, url: url.clone(), generation, capture, missing: None }
    }

    /// A handle with no database behind it: every use is [`Error::NotConfigured`] with `reason`.
    /// What a request built outside a project gets, rather than a database that silently
    /// forgets everything.
    pub fn missing(reason: &'static str) -> Self {
        Database { missing: Some(reason), ..Database::connect(&DatabaseUrl::SqliteMemory, PoolOptions::default()) }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL (its password hidden when displayed).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Runs `f` and returns its value with the SQL of every statement this pool's connections ran
    /// meanwhile, on any thread (views run theirs on the blocking pool): Django's
    /// `CaptureQueriesContext`. [`crate::test::assert_num_queries`] is built on it. Statements are
    /// also logged at `debug` under `manouche.db.sql`, with their duration.
    ///
    /// ```
    /// # use manouche::conf::DatabaseUrl;
    /// # use manouche::db::{Database, PoolOptions};
    /// use diesel::connection::SimpleConnection;
    /// let db = Database::connect(&DatabaseUrl::SqliteMemory, PoolOptions::default());
    /// let ((), statements) = db.capture_queries(|| {
    ///     db.run_sync(|conn| Ok(conn.batch_execute("SELECT 1")?)).unwrap();
    /// });
    /// assert_eq!(statements, ["SELECT 1"]);
    /// ```
    pub fn capture_queries<T>(&self, f: impl FnOnce() -> T) -> (T, Vec<String>) {
        self.capture.around(f)
    }

    /// Checks the database answers (`SELECT 1`), for health checks.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] or [`Error::Connection`] when it does not.
    pub async fn ping(&self) -> Result<(), Error> {
        self.run(|conn| Ok(conn.batch_execute("SELECT 1")?)).await
    }

    /// Runs `f` with a connection on the blocking pool; the calling task waits without blocking
    /// its thread.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when no connection comes within the acquire timeout, or what `f`
    /// returns. A panic in `f` rolls back its open transactions and resumes in the caller.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        // The current project goes along, for code in `f` that has no request at hand (a
        // task enqueued on commit).
        crate::context::spawn_blocking(move || db.run_sync(f))
            .await
            .unwrap_or_else(|reason| Err(Error::Unavailable { reason }))
    }

    /// Runs `f` with a connection on the current thread: for commands, receivers and tasks, never
    /// on an HTTP worker.
    ///
    /// A connection whose server side is gone (a database restart, `pg_terminate_backend`) is
    /// discarded when a query on it fails, and the other idle connections are checked before
    /// their next use: such a failure is [`Error::Unavailable`] (a 503), once, not forever.
    ///
    /// # Errors
    ///
    /// As [`Database::run`].
    pub fn run_sync<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, Error>) -> Result<T, Error> {
        let mut pooled = self.checkout()?;
        let result = match catch_unwind(AssertUnwindSafe(|| f(&mut pooled.conn))) {
            Ok(result) => result,
            Err(panic) => {
                roll_back_everything(&mut pooled.conn);
                resume_unwind(panic)
            }
        };
        match result {
            Err(Error::Query(error)) if connection_lost(&mut pooled.conn, &error) => {
                pooled.dead = true;
                self.generation.fetch_add(1, Ordering::AcqRel);
                log::error!(target: "manouche.db", "lost a connection to {}: {error}; discarded", self.url);
                Err(Error::Unavailable { reason: format!("the connection to the database was lost: {error}") })
            }
            other => other,
        }
    }

    /// A connection from the pool, known alive since the last connection loss.
    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, Error> {
        if let Some(reason) = self.missing {
            return Err(Error::NotConfigured(reason));
        }
        // Each round discards a dead connection, so the pool runs out of them.
        for _ in 0..=self.pool.max_size() {
            let mut pooled = self.pool.get().map_err(|e| {
                log::error!(target: "manouche.db", "no database connection for {}: {e}", self.url);
                Error::Unavailable { reason: e.to_string() }
            })?;
            let current = self.generation.load(Ordering::Acquire);
            if pooled.generation == current {
                return Ok(pooled);
            }
            if pooled.conn.batch_execute("SELECT 1").is_ok() {
                pooled.generation = current;
                return Ok(pooled);
            }
            pooled.dead = true;
        }
        Err(Error::Unavailable { reason: "every pooled connection was dead".into() })
    }

    /// Runs `f` in a transaction, Django's `transaction.atomic`: committed when `f` returns `Ok`,
    /// rolled back on `Err` or panic. [`atomic`] inside `f` nests as a savepoint; callbacks given
    /// to [`on_commit`] run once the outermost block commits. On SQLite the transaction starts
    /// with `BEGIN IMMEDIATE`, so a read-then-write block waits for the write lock up front
    /// instead of failing with "database is locked" half-way.
    ///
    /// # Errors
    ///
    /// As [`Database::run`].
    pub async fn atomic<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| atomic(conn, f)).await
    }

    /// [`Database::atomic`] on the current thread.
    ///
    /// # Errors
    ///
    /// As [`Database::run`].
    pub fn atomic_sync<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.run_sync(move |conn| atomic(conn, f))
    }
}

type Callback = Box<dyn FnOnce()>;

thread_local! {
    /// One frame of `on_commit` callbacks per open `atomic` block on this thread.
    static ON_COMMIT: std::cell::RefCell<Vec<Vec<Callback>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Drops the frames of blocks a panic or an error left, so the thread starts clean next time.
struct Frames(usize);

impl Drop for Frames {
    fn drop(&mut self) {
        ON_COMMIT.with(|frames| frames.borrow_mut().truncate(self.0));
    }
}

/// Runs `f` in a transaction on `conn`, or in a savepoint when one is open: Django's nested
/// `atomic`. Committed on `Ok`, rolled back on `Err` (only this block's work when nested).
///
/// # Errors
///
/// What `f` returns, or [`Error::Query`] when the transaction cannot begin or commit.
pub fn atomic<T>(conn: &mut Connection, f: impl FnOnce(&mut Connection) -> Result<T, Error>) -> Result<T, Error> {
    let depth = ON_COMMIT.with(|frames| {
        let mut frames = frames.borrow_mut();
        frames.push(Vec::new());
        frames.len() - 1
    });
    let guard = Frames(depth);
    let outermost = matches!(Tm::transaction_manager_status_mut(conn).transaction_depth(), Ok(None));
    match conn {
        Connection::Sqlite(sqlite) if outermost => {
            diesel::connection::AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        _ => Tm::begin_transaction(conn)?,
    }
    let result = match f(conn) {
        Ok(value) => Tm::commit_transaction(conn).map(|()| value).map_err(Error::from),
        Err(error) => {
            // A failed rollback leaves the connection broken; the pool then discards it.
            let _ = Tm::rollback_transaction(conn);
            Err(error)
        }
    };
    let callbacks = ON_COMMIT.with(|frames| frames.borrow_mut().pop()).unwrap_or_default();
    std::mem::forget(guard);
    if result.is_ok() {
        if outermost {
            for callback in callbacks {
                callback();
            }
        } else {
            ON_COMMIT.with(|frames| {
                if let Some(parent) = frames.borrow_mut().last_mut() {
                    parent.extend(callbacks);
                }
            });
        }
    }
    result
}

/// Runs `f` in a transaction when `needed` and none is open, else directly: Django's
/// `atomic(savepoint=False)`, for the framework's own multi-statement writes (an error inside an
/// enclosing block rolls that block back).
pub(crate) fn atomic_without_savepoint<T>(
    conn: &mut Connection,
    needed: bool,
    f: impl FnOnce(&mut Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    let open = !matches!(Tm::transaction_manager_status_mut(conn).transaction_depth(), Ok(None));
    if needed && !open { atomic(conn, f) } else { f(conn) }
}

/// Runs `callback` once the current [`atomic`] block's outermost transaction commits, Django's
/// `transaction.on_commit`: for e-mails, cache purges and tasks that must not see rolled-back
/// data. Dropped if the block (or the enclosing one) rolls back; run at once outside a block.
pub fn on_commit(callback: impl FnOnce() + 'static) {
    let deferred = ON_COMMIT.with(|frames| match frames.borrow_mut().last_mut() {
        Some(frame) => {
            frame.push(Box::new(callback));
            None
        }
        None => Some(callback),
    });
    if let Some(callback) = deferred {
        callback();
    }
}

/// Whether `error` means the connection itself is gone: Diesel's `ClosedConnection` (libpq saw
/// the socket close), or, on PostgreSQL, an error after which the server no longer answers
/// (`57P01 terminating connection due to administrator command` arrives as an ordinary error;
/// its SQLSTATE is not exposed, so the connection is asked, on this error path only).
fn connection_lost(conn: &mut Connection, error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as E};
    match error {
        E::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        E::DatabaseError(DatabaseErrorKind::Unknown, _) | E::BrokenTransactionManager => {
            matches!(conn, Connection::Postgres(_)) && {
                roll_back_everything(conn);
                conn.batch_execute("SELECT 1").is_err()
            }
        }
        _ => false,
    }
}

/// Rolls back every open transaction level so the connection goes back to the pool clean.
fn roll_back_everything(conn: &mut Connection) {
    while let Ok(Some(_)) = Tm::transaction_manager_status_mut(conn).transaction_depth() {
        if Tm::rollback_transaction(conn).is_err() {
            break;
        }
    }
}
