//! Diesel migrations folders as an app's migrations.
//!
//! A folder of `<version>_<name>/up.sql` (and `down.sql`), embedded with diesel_migrations'
//! `embed_migrations!`, becomes one node per migration in the app's history, each depending on the
//! one before it, so the app's own migrations follow them. Applying or unapplying one runs its
//! `up.sql` / `down.sql` through Diesel and keeps Diesel's own table, `__diesel_schema_migrations`,
//! in step with Manouche's: what Diesel's CLI applied before the project moved to Manouche is
//! adopted instead of run again, and the Diesel CLI still sees a true history afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use diesel::connection::SimpleConnection;
use diesel::migration::{Migration as _, MigrationSource};
use diesel::sql_types::Text;
use diesel_migrations::EmbeddedMigrations;

use super::graph::{Graph, Key};
use super::migration::Migration;
use super::operation::Operation;
use crate::db::{AnyConnection, RawQuery, RawRows};

/// The table in which Diesel records the versions it applied.
pub const DIESEL_TABLE: &str = "__diesel_schema_migrations";

type DieselBackend = <AnyConnection as diesel::Connection>::Backend;

/// One migration of an embedded Diesel folder (an app's `diesel_migrations` folder).
#[derive(Clone)]
pub struct DieselMigration {
    source: &'static EmbeddedMigrations,
    index: usize,
    name: String,
    version: String,
}

impl fmt::Debug for DieselMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DieselMigration").field("name", &self.name).field("version", &self.version).finish()
    }
}

impl DieselMigration {
    /// The folder's name: `2024-01-31-120000_create_posts`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version Diesel records: the name's leading digits without dashes (`20240131120000`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Runs `up.sql` (or `down.sql`, `backwards`) and records the version in Diesel's table.
    pub(crate) fn run(&self, conn: &mut AnyConnection, backwards: bool) -> Result<(), crate::db::Error> {
        let migrations = MigrationSource::<DieselBackend>::migrations(self.source).map_err(other)?;
        let migration =
            migrations.get(self.index).ok_or_else(|| other(format!("no Diesel migration {}", self.name)))?;
        let outcome = if backwards { migration.revert(conn) } else { migration.run(conn) };
        // diesel_migrations keeps its error type private: its message names the migration and
        // carries the database's.
        outcome.map_err(other)
    }

    /// Records (or forgets) the version in Diesel's table, creating it as Diesel's CLI does.
    pub(crate) fn record(&self, conn: &mut AnyConnection, applied: bool) -> Result<(), crate::db::Error> {
        conn.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {DIESEL_TABLE} (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        ))?;
        let sql = if applied {
            format!("INSERT INTO {DIESEL_TABLE} (version) VALUES (?) ON CONFLICT (version) DO NOTHING")
        } else {
            format!("DELETE FROM {DIESEL_TABLE} WHERE version = ?")
        };
        RawQuery::<()>::new(sql).bind::<Text, _>(self.version.clone()).execute_sync(conn)?;
        Ok(())
    }
}

/// A failure reported by diesel_migrations: a statement's, or its own (a missing `down.sql`).
fn other(message: impl fmt::Display) -> crate::db::Error {
    crate::db::Error::Query(diesel::result::Error::QueryBuilderError(message.to_string().into()))
}

/// The migrations of an embedded Diesel folder of `app`, in version order, each depending on the
/// one before: what [`crate::App::diesel_migrations`] adds to an app's history. Each runs in a
/// transaction unless its `metadata.toml` says `run_in_transaction = false`.
pub(crate) fn diesel_folder(app: &str, source: &'static EmbeddedMigrations) -> Vec<Migration> {
    // Listing an embedded folder cannot fail: `embed_migrations!` checked it when it compiled.
    let listed = MigrationSource::<DieselBackend>::migrations(source).unwrap_or_else(|error| {
        log::error!("cannot list the Diesel migrations of `{app}`: {error}");
        Vec::new()
    });
    let mut out: Vec<Migration> = Vec::with_capacity(listed.len());
    for (index, migration) in listed.iter().enumerate() {
        let name = migration.name().to_string();
        let version = migration.name().version().to_string();
        let mut node = Migration::new(&name);
        node.app = app.to_owned();
        if let Some(previous) = out.last() {
            node.dependencies.push((app.to_owned(), previous.name.clone()));
        }
        node.atomic = migration.metadata().run_in_transaction();
        out.push(node.operation(Operation::RunDiesel(DieselMigration { source, index, name, version })));
    }
    out
}

/// The versions in Diesel's table, or none when the table is not there. Reads only.
fn diesel_versions(conn: &mut AnyConnection) -> Result<BTreeSet<String>, crate::db::Error> {
    if !super::executor::table_exists(conn, DIESEL_TABLE)? {
        return Ok(BTreeSet::new());
    }
    let rows: Vec<String> = RawRows::<Text>::new(format!("SELECT version FROM {DIESEL_TABLE}")).all_sync(conn)?;
    Ok(rows.into_iter().collect())
}

/// The nodes of `graph` that are Diesel migrations Diesel's table records as applied. Reads only.
///
/// # Errors
///
/// [`crate::db::Error`] when the database cannot be read.
pub(crate) fn applied_by_diesel(conn: &mut AnyConnection, graph: &Graph) -> Result<BTreeSet<Key>, crate::db::Error> {
    let by_version: BTreeMap<&str, &Key> =
        graph.order().iter().filter_map(|key| graph.get(key)?.diesel().map(|d| (d.version(), key))).collect();
    if by_version.is_empty() {
        return Ok(BTreeSet::new());
    }
    let versions = diesel_versions(conn)?;
    Ok(by_version.into_iter().filter(|(v, _)| versions.contains(*v)).map(|(_, k)| k.clone()).collect())
}
