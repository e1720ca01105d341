use std::fmt;

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
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = super::Error;

    fn connect(&self) -> Result<AnyConnection, super::Error> {
        let connection_error = |e: diesel::ConnectionError| super::Error::Connection(e.to_string());
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let path = path
                    .to_str()
                    .ok_or_else(|| super::Error::Connection(format!("non UTF-8 path {}", path.display())))?;
                let mut conn = <SqliteConnection as diesel::Connection>::establish(path).map_err(connection_error)?;
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

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), super::Error> {
        conn.batch_execute("SELECT 1").map_err(super::Error::from)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        // A connection left inside a transaction (a panic mid-way) must not serve anyone else.
        use diesel::connection::TransactionManager;
        type Tm = <AnyConnection as diesel::Connection>::TransactionManager;
        Tm::is_broken_transaction_manager(conn)
    }
}
