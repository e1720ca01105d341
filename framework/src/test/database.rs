//! Test databases: Django's test database, one per test so tests running in parallel never see
//! each other's rows.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::Project;
use crate::conf::DatabaseUrl;
use crate::db::{Backend, Database, PoolOptions};

/// The environment variable naming a PostgreSQL server for tests
/// (`postgres://postgres@127.0.0.1:5432/test`): test databases are created on it and dropped.
pub const POSTGRES_ENV: &str = "MANOUCHE_TEST_POSTGRES_URL";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database of its own for one test: a SQLite file in a temporary folder, or a
/// PostgreSQL database created on the server [`POSTGRES_ENV`] names. Dropping it removes the
/// file or drops the database (closing what is still connected).
///
/// ```
/// use manouche::prelude::*;
/// use manouche::test::{Client, TestDatabase};
///
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// # fn project() -> Project { Project::new(Settings::for_tests()).app(App::new("shop")) }
/// for test_db in TestDatabase::all("teas") {
///     let project = test_db.project(project())?;            // its settings point at this database
///     assert!(project.call_command(["migrate"]).success());  // commands use it too
///     let client = Client::new(project)?;
///     // ... requests; `client.db()` is the same database
/// }
/// # Ok::<(), manouche::Error>(())
/// ```
pub struct TestDatabase {
    url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Drop { server: Database, name: String },
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase").field("url", &self.url).finish_non_exhaustive()
    }
}

/// A name no other test of this process (or a concurrent run) uses.
fn unique(label: &str) -> String {
    let clean: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("test_{clean}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

impl TestDatabase {
    /// A SQLite database in a file of its own (created empty).
    ///
    /// # Errors
    ///
    /// When the temporary folder or the file cannot be created.
    pub fn sqlite(label: &str) -> crate::Result<Self> {
        let dir = std::env::temp_dir().join(format!("manouche-{}", unique(label)));
        std::fs::create_dir_all(&dir)?;
        let url = DatabaseUrl::Sqlite(dir.join("db.sqlite3"));
        Database::connect(&url, PoolOptions::default().max_size(1)).run_sync(|_conn| Ok(()))?;
        Ok(TestDatabase { url, cleanup: Cleanup::File(dir) })
    }

    /// A PostgreSQL database created on the server of `server_url` (any database on it that
    /// the user can connect to), dropped when this is dropped.
    ///
    /// # Errors
    ///
    /// When the URL is not a PostgreSQL one or the database cannot be created.
    pub fn postgres(server_url: &str, label: &str) -> crate::Result<Self> {
        let server_url = DatabaseUrl::parse(server_url, "/".as_ref()).map_err(crate::Error::ImproperlyConfigured)?;
        let DatabaseUrl::Postgres(base) = &server_url else {
            return Err(crate::Error::ImproperlyConfigured(format!("{POSTGRES_ENV} is not a PostgreSQL URL")));
        };
        let server = Database::connect(&server_url, PoolOptions::default().max_size(1));
        let name = unique(label);
        let sql = format!("CREATE DATABASE {name}");
        server.run_sync(move |conn| Ok(diesel::connection::SimpleConnection::batch_execute(conn, &sql)?))?;
        let (path, query) = base.split_once('?').unwrap_or((base.as_str(), ""));
        let root = path.rsplit_once('/').map_or(path, |(root, _)| root);
        let url = if query.is_empty() { format!("{root}/{name}") } else { format!("{root}/{name}?{query}") };
        Ok(TestDatabase { url: DatabaseUrl::Postgres(url), cleanup: Cleanup::Drop { server, name } })
    }

    /// One test database a backend: SQLite always, and PostgreSQL when [`POSTGRES_ENV`] is set
    /// (`.ci/run` sets it; without it a notice says `label` is tested on SQLite only).
    ///
    /// # Panics
    ///
    /// When a database cannot be created: a broken test environment, reported at once.
    pub fn all(label: &str) -> Vec<Self> {
        let mut all = vec![Self::sqlite(label).expect("a SQLite test database")];
        match std::env::var(POSTGRES_ENV) {
            Ok(url) => all.push(Self::postgres(&url, label).expect("a PostgreSQL test database")),
            Err(_) => eprintln!("notice: {POSTGRES_ENV} is not set; {label} tested on SQLite only"),
        }
        all
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Its backend.
    pub fn backend(&self) -> Backend {
        match self.url {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// A pool on it.
    pub fn connect(&self) -> Database {
        Database::connect(&self.url, PoolOptions::default())
    }

    /// The project with its settings pointing at this database: its commands
    /// (`call_command(["migrate"])`), its test [`super::Client`] and its views use it.
    ///
    /// # Errors
    ///
    /// The project's settings error, if it has one.
    pub fn project(&self, project: Project) -> crate::Result<Project> {
        let mut settings = project.settings_arc()?.as_ref().clone();
        settings.database_url = self.url.clone();
        Ok(project.with_settings(settings))
    }

    /// [`TestDatabase::project`] with the project's migrations applied.
    ///
    /// # Errors
    ///
    /// The settings error, or `migrate`'s output when it fails.
    pub fn migrated(&self, project: Project) -> crate::Result<Project> {
        let project = self.project(project)?;
        let out = project.call_command(["migrate"]);
        if !out.success() {
            return Err(crate::Error::other(format!("migrate failed on {}: {}", self.url, out.stderr)));
        }
        Ok(project)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Drop { server, name } => {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ =
                    server.run_sync(move |conn| Ok(diesel::connection::SimpleConnection::batch_execute(conn, &sql)?));
            }
        }
    }
}
