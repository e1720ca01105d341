//! Django's `DatabaseCache`: a table of `(cache_key, value, expires)` in the project's database,
//! created by `createcachetable`. The value is the JSON text of the cached value; `expires` is
//! milliseconds since the epoch. `add` is one upsert, `incr` one locked read-modify-write
//! transaction, so both are atomic across processes sharing the database.

use diesel::sql_types::{BigInt, Text};

use super::backend::{Backend, BackendError, BackendResult, Expiry, add_delta, parse_integer};
use crate::db::{Backend as Dialect, Connection, Database, RawQuery, RawRows};

/// The database backend.
#[derive(Debug, Clone)]
pub struct DatabaseBackend {
    db: Database,
    table: String,
    max_entries: u64,
    cull_frequency: u64,
}

/// Milliseconds stored for a value that never expires.
const NEVER: i64 = i64::MAX;

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether `name` is a plain SQL identifier (the table name is written into statements).
pub(crate) fn valid_table(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The statements creating the cache table `table` (Django's `createcachetable`).
pub(crate) fn create_table_sql(table: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (cache_key VARCHAR(255) NOT NULL PRIMARY KEY, value TEXT NOT NULL, expires BIGINT NOT NULL)"
        ),
        format!("CREATE INDEX IF NOT EXISTS {table}_expires ON {table} (expires)"),
    ]
}

fn failed(table: &str, error: &crate::db::Error) -> BackendError {
    let hint = match error {
        crate::db::Error::Query(_) => " (is the table there? run `createcachetable`)",
        _ => "",
    };
    BackendError::unavailable(format!("cache table `{table}`: {error}{hint}"))
}

impl DatabaseBackend {
    /// A cache in `table` of `db`, culled past `max_entries`.
    ///
    /// # Errors
    ///
    /// A message when `table` is not a plain SQL identifier.
    pub fn new(db: Database, table: &str, max_entries: u64, cull_frequency: u64) -> Result<Self, String> {
        if !valid_table(table) {
            return Err(format!("`{table}` is not a table name (letters, digits and `_`)"));
        }
        Ok(DatabaseBackend { db, table: table.to_owned(), max_entries, cull_frequency })
    }

    fn run<T>(&self, f: impl FnOnce(&mut Connection, &str) -> Result<T, crate::db::Error>) -> BackendResult<T> {
        self.db.run_sync(|conn| f(conn, &self.table)).map_err(|error| failed(&self.table, &error))
    }

    fn expires(expiry: Expiry) -> i64 {
        expiry.millis().map_or(NEVER, |ms| now_millis().saturating_add(i64::try_from(ms).unwrap_or(NEVER)))
    }

    /// Django's `_cull`: past `max_entries`, drops expired rows, then the first
    /// `1/cull_frequency` of the rest in key order.
    fn cull(&self, conn: &mut Connection, table: &str) -> Result<(), crate::db::Error> {
        let count: i64 = RawRows::<BigInt>::new(format!("SELECT COUNT(*) FROM {table}")).one_sync(conn)?;
        let max = i64::try_from(self.max_entries).unwrap_or(i64::MAX);
        if count < max {
            return Ok(());
        }
        RawQuery::<()>::new(format!("DELETE FROM {table} WHERE expires <= ?"))
            .bind::<BigInt, _>(now_millis())
            .execute_sync(conn)?;
        let count: i64 = RawRows::<BigInt>::new(format!("SELECT COUNT(*) FROM {table}")).one_sync(conn)?;
        if count < max {
            return Ok(());
        }
        let share = match i64::try_from(self.cull_frequency).unwrap_or(0) {
            0 => count,
            frequency => (count / frequency).max(1),
        };
        RawQuery::<()>::new(format!(
            "DELETE FROM {table} WHERE cache_key IN (SELECT cache_key FROM {table} ORDER BY cache_key LIMIT ?)"
        ))
        .bind::<BigInt, _>(share)
        .execute_sync(conn)?;
        Ok(())
    }

    fn upsert(
        &self,
        conn: &mut Connection,
        table: &str,
        key: &str,
        value: &str,
        expires: i64,
    ) -> Result<(), crate::db::Error> {
        RawQuery::<()>::new(format!(
            "INSERT INTO {table} (cache_key, value, expires) VALUES (?, ?, ?) \
             ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires = excluded.expires"
        ))
        .bind::<Text, _>(key.to_owned())
        .bind::<Text, _>(value.to_owned())
        .bind::<BigInt, _>(expires)
        .execute_sync(conn)
        .map(drop)
    }
}

fn text(value: &[u8]) -> BackendResult<&str> {
    std::str::from_utf8(value).map_err(|_| BackendError::invalid("the database cache stores text values only"))
}

impl Backend for DatabaseBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        Ok(self.get_many(&[key.to_owned()])?.pop().flatten())
    }

    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String)> = self.run(|conn, table| {
            let marks = vec!["?"; keys.len()].join(", ");
            let mut query = RawRows::<(Text, Text)>::new(format!(
                "SELECT cache_key, value FROM {table} WHERE expires > ? AND cache_key IN ({marks})"
            ))
            .bind::<BigInt, _>(now_millis());
            for key in keys {
                query = query.bind::<Text, _>(key.clone());
            }
            query.all_sync(conn)
        })?;
        Ok(keys
            .iter()
            .map(|key| rows.iter().find(|(k, _)| k == key).map(|(_, value)| value.clone().into_bytes()))
            .collect())
    }

    fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        let value = text(value)?;
        self.run(|conn, table| {
            self.cull(conn, table)?;
            self.upsert(conn, table, key, value, Self::expires(expiry))
        })
    }

    fn set_many(&self, items: &[(String, Vec<u8>)], expiry: Expiry) -> BackendResult<()> {
        let values: Vec<(&str, &str)> =
            items.iter().map(|(key, value)| text(value).map(|v| (key.as_str(), v))).collect::<Result<_, _>>()?;
        let expires = Self::expires(expiry);
        self.run(|conn, table| {
            self.cull(conn, table)?;
            crate::db::atomic(conn, |conn| {
                values.iter().try_for_each(|(key, value)| self.upsert(conn, table, key, value, expires))
            })
        })
    }

    fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        let value = text(value)?;
        let changed = self.run(|conn, table| {
            self.cull(conn, table)?;
            // Inserts, or replaces a row that has expired; leaves a live one alone.
            RawQuery::<()>::new(format!(
                "INSERT INTO {table} (cache_key, value, expires) VALUES (?, ?, ?) \
                 ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires = excluded.expires \
                 WHERE {table}.expires <= ?"
            ))
            .bind::<Text, _>(key.to_owned())
            .bind::<Text, _>(value.to_owned())
            .bind::<BigInt, _>(Self::expires(expiry))
            .bind::<BigInt, _>(now_millis())
            .execute_sync(conn)
        })?;
        Ok(changed > 0)
    }

    fn delete(&self, key: &str) -> BackendResult<bool> {
        let deleted = self.run(|conn, table| {
            RawQuery::<()>::new(format!("DELETE FROM {table} WHERE cache_key = ? AND expires > ?"))
                .bind::<Text, _>(key.to_owned())
                .bind::<BigInt, _>(now_millis())
                .execute_sync(conn)
        })?;
        Ok(deleted > 0)
    }

    fn delete_many(&self, keys: &[String]) -> BackendResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.run(|conn, table| {
            let marks = vec!["?"; keys.len()].join(", ");
            let mut query = RawQuery::<()>::new(format!("DELETE FROM {table} WHERE cache_key IN ({marks})"));
            for key in keys {
                query = query.bind::<Text, _>(key.clone());
            }
            query.execute_sync(conn).map(drop)
        })
    }

    fn incr(&self, key: &str, delta: i64) -> BackendResult<Option<i64>> {
        let mut refused = None;
        let result = self.run(|conn, table| {
            crate::db::atomic(conn, |conn| {
                let lock = if conn.backend() == Dialect::Postgres { " FOR UPDATE" } else { "" };
                let current: Vec<String> = RawRows::<Text>::new(format!(
                    "SELECT value FROM {table} WHERE cache_key = ? AND expires > ?{lock}"
                ))
                .bind::<Text, _>(key.to_owned())
                .bind::<BigInt, _>(now_millis())
                .all_sync(conn)?;
                let Some(current) = current.first() else { return Ok(None) };
                let value = match parse_integer(key, current.as_bytes()).and_then(|v| add_delta(key, v, delta)) {
                    Ok(value) => value,
                    Err(error) => {
                        refused = Some(error);
                        return Ok(None);
                    }
                };
                RawQuery::<()>::new(format!("UPDATE {table} SET value = ? WHERE cache_key = ?"))
                    .bind::<Text, _>(value.to_string())
                    .bind::<Text, _>(key.to_owned())
                    .execute_sync(conn)?;
                Ok(Some(value))
            })
        })?;
        match refused {
            Some(error) => Err(error),
            None => Ok(result),
        }
    }

    fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let changed = self.run(|conn, table| {
            RawQuery::<()>::new(format!("UPDATE {table} SET expires = ? WHERE cache_key = ? AND expires > ?"))
                .bind::<BigInt, _>(Self::expires(expiry))
                .bind::<Text, _>(key.to_owned())
                .bind::<BigInt, _>(now_millis())
                .execute_sync(conn)
        })?;
        Ok(changed > 0)
    }

    fn clear(&self) -> BackendResult<()> {
        self.run(|conn, table| RawQuery::<()>::new(format!("DELETE FROM {table}")).execute_sync(conn).map(drop))
    }
}
