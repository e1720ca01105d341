use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, SqliteConnection};

use crate::conf::DatabaseUrl;

/// A connection to either backend; Diesel queries run on it unchanged.
///
/// Multi-row inserts, upserts and `save_changes` are not available on the enum (a limit of
/// Diesel's `MultiConnection`): match on the variant for those.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    Postgres(PgConnection),
}

impl fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Connection({:?})", self.backend())
    }
}

impl AnyConnection {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Sqlite(_) => Backend::Sqlite,
            AnyConnection::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (bundled).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// SQLite's settings for a web server: wait for locks instead of failing at once, write-ahead
/// logging so readers never block the writer, and foreign keys enforced.
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Opens connections of the backend the URL names: Diesel's own `establish` on the enum would
/// try SQLite first, and SQLite accepts any string as a file name.
#[derive(Debug)]
pub(crate) struct Manager {
    pub(crate) url: DatabaseUrl,
    pub(crate) statement_timeout_ms: u64,
    /// Whether a missing SQLite file may be created (only `migrate` does).
    pub(crate) create_missing: bool,
    /// Statements captured for tests (`Database::capture_queries`).
    pub(crate) capture: Arc<super::queries::Capture>,
    /// Bumped each time a connection is found dead: connections of an older generation are
    /// checked before their next use, so one database restart costs at most one failed request.
    pub(crate) generation: Arc<AtomicU64>,
}

/// A connection as the pool keeps it: the generation it was last known alive in, and whether it
/// was found dead (then the pool discards it instead of handing it out again).
pub(crate) struct Pooled {
    pub(crate) conn: AnyConnection,
    pub(crate) generation: u64,
    pub(crate) dead: bool,
}

impl Manager {
    fn open(&self) -> Result<AnyConnection, super::Error> {
        let connection_error = |e: diesel::ConnectionError| super::Error::Connection(e.to_string());
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let text = path
                    .to_str()
                    .ok_or_else(|| super::Error::Connection(format!("non UTF-8 path {}", path.display())))?;
                let target = if self.create_missing {
                    text.to_owned()
                } else {
                    if !path.exists() {
                        return Err(super::Error::Connection(format!(
                            "the SQLite database {} does not exist; run `migrate` to create it",
                            path.display()
                        )));
                    }
                    // `mode=rw` opens an existing file only: a database deleted under a running
                    // server is reported, not silently recreated empty.
                    format!("file:{}?mode=rw", uri_path(text))
                };
                let mut conn =
                    <SqliteConnection as diesel::Connection>::establish(&target).map_err(connection_error)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                Ok(AnyConnection::Sqlite(conn))
            }
            DatabaseUrl::SqliteMemory => {
                let mut conn =
                    <SqliteConnection as diesel::Connection>::establish(":memory:").map_err(connection_error)?;
                conn.batch_execute("PRAGMA foreign_keys = ON;")?;
                Ok(AnyConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = <PgConnection as diesel::Connection>::establish(url).map_err(connection_error)?;
                conn.batch_execute(&format!("SET statement_timeout = {}", self.statement_timeout_ms))?;
                Ok(AnyConnection::Postgres(conn))
            }
        }
    }
}

/// A file path as the path of a SQLite `file:` URI: `%`, `?` and `#` escaped.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = super::Error;

    fn connect(&self) -> Result<Pooled, super::Error> {
        let generation = self.generation.load(Ordering::Acquire);
        let mut conn = self.open()?;
        diesel::Connection::set_instrumentation(
            &mut conn,
            super::queries::QueryLog { capture: Arc::clone(&self.capture), started: None },
        );
        Ok(Pooled { conn, generation, dead: false })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), super::Error> {
        pooled.conn.batch_execute("SELECT 1").map_err(super::Error::from)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        // A connection left inside a transaction (a panic mid-way) must not serve anyone else.
        use diesel::connection::TransactionManager;
        type Tm = <AnyConnection as diesel::Connection>::TransactionManager;
        pooled.dead || Tm::is_broken_transaction_manager(&mut pooled.conn)
    }
}
