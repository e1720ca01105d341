//! The database layer on SQLite and PostgreSQL: pools, transactions, savepoints, panics, 503s.
//!
//! PostgreSQL tests run when `MANOUCHE_TEST_POSTGRES_URL` is set (`.ci/run` sets it) and print
//! a notice otherwise.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};
use manouche::conf::DatabaseUrl;
use manouche::db::{Backend, Connection, Database, Error, PoolOptions};
use manouche::prelude::*;
use manouche::test::Client;
use manouche::urls::path;

#[derive(Debug, diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{name}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

fn sqlite_file() -> DatabaseUrl {
    let dir = std::env::temp_dir().join(unique("manouche-db"));
    std::fs::create_dir_all(&dir).unwrap();
    DatabaseUrl::Sqlite(dir.join("test.sqlite3"))
}

fn postgres() -> Option<DatabaseUrl> {
    match std::env::var("MANOUCHE_TEST_POSTGRES_URL") {
        Ok(url) => Some(DatabaseUrl::parse(&url, "/".as_ref()).expect("a PostgreSQL URL")),
        Err(_) => {
            eprintln!("notice: MANOUCHE_TEST_POSTGRES_URL is not set; skipping the PostgreSQL half of this test");
            None
        }
    }
}

/// Every backend available here: SQLite always, PostgreSQL when configured.
fn backends(options: PoolOptions) -> Vec<Database> {
    let mut urls = vec![sqlite_file()];
    urls.extend(postgres());
    urls.iter().map(|url| Database::connect(url, options)).collect()
}

fn count(conn: &mut Connection, table: &str) -> Result<i64, Error> {
    Ok(diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(conn)?.n)
}

fn create_table(db: &Database) -> String {
    let table = unique("items");
    let sql = format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    db.run_sync(move |conn| Ok(diesel::sql_query(sql).execute(conn)?)).unwrap();
    table
}

fn drop_table(db: &Database, table: &str) {
    let sql = format!("DROP TABLE {table}");
    db.run_sync(move |conn| Ok(diesel::sql_query(sql).execute(conn)?)).unwrap();
}

fn insert(conn: &mut Connection, table: &str, id: i64) -> Result<usize, Error> {
    Ok(diesel::sql_query(format!("INSERT INTO {table} (id, name) VALUES ({id}, 'item {id}')")).execute(conn)?)
}

#[test]
fn atomic_commits_on_ok_and_rolls_back_on_err() {
    for db in backends(PoolOptions::default()) {
        let table = create_table(&db);
        let t = table.clone();
        db.atomic_sync(move |conn| insert(conn, &t, 1)).unwrap();
        let t = table.clone();
        let failed: Result<(), Error> = db.atomic_sync(move |conn| {
            insert(conn, &t, 2)?;
            Err(Error::DoesNotExist { model: "Item" })
        });
        assert!(matches!(failed, Err(Error::DoesNotExist { .. })));
        let t = table.clone();
        assert_eq!(db.run_sync(move |conn| count(conn, &t)).unwrap(), 1, "{:?}: row 2 was rolled back", db.backend());
        drop_table(&db, &table);
    }
}

#[test]
fn nested_transactions_are_savepoints() {
    for db in backends(PoolOptions::default()) {
        let table = create_table(&db);
        let t = table.clone();
        db.atomic_sync(move |conn| {
            insert(conn, &t, 1)?;
            let inner: Result<(), Error> = diesel::Connection::transaction(conn, |conn| {
                insert(conn, &t, 2)?;
                Err(Error::DoesNotExist { model: "Item" })
            });
            assert!(inner.is_err());
            insert(conn, &t, 3)?;
            Ok(())
        })
        .unwrap();
        let t = table.clone();
        assert_eq!(
            db.run_sync(move |conn| count(conn, &t)).unwrap(),
            2,
            "{:?}: only the savepoint rolled back",
            db.backend()
        );
        drop_table(&db, &table);
    }
}

#[test]
fn a_panic_inside_atomic_rolls_back_and_the_connection_stays_usable() {
    let options = PoolOptions::default().max_size(1);
    for db in backends(options) {
        let table = create_table(&db);
        let t = table.clone();
        let db2 = db.clone();
        let panicked = std::thread::spawn(move || {
            db2.atomic_sync(move |conn| -> Result<(), Error> {
                insert(conn, &t, 1)?;
                panic!("receiver bug");
            })
        })
        .join();
        assert!(panicked.is_err(), "the panic reaches the caller");
        // The pool has one connection: the same one, rolled back, serves the next query.
        let t = table.clone();
        assert_eq!(db.run_sync(move |conn| count(conn, &t)).unwrap(), 0, "{:?}", db.backend());
        let t = table.clone();
        db.atomic_sync(move |conn| insert(conn, &t, 5)).unwrap();
        drop_table(&db, &table);
    }
}

#[test]
fn an_exhausted_pool_is_unavailable_not_a_hang() {
    let options = PoolOptions::default().max_size(1).acquire_timeout(Duration::from_millis(300));
    for db in backends(options) {
        // Open the one connection first, however long a busy machine takes to connect: the
        // short acquire timeout is for the second caller only.
        let deadline = Instant::now() + Duration::from_secs(60);
        while db.run_sync(|_conn| Ok(())).is_err() {
            assert!(Instant::now() < deadline, "{:?}: no connection in a minute", db.backend());
        }
        let holder = db.clone();
        let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let thread = std::thread::spawn(move || {
            holder.run_sync(move |_conn| {
                held.0.send(()).unwrap();
                release.1.recv().unwrap();
                Ok(())
            })
        });
        held.1.recv().unwrap();
        let start = Instant::now();
        let result = db.run_sync(|_conn| Ok(()));
        assert!(matches!(result, Err(Error::Unavailable { .. })), "{:?}: {result:?}", db.backend());
        assert!(start.elapsed() < Duration::from_secs(3), "waited {:?}", start.elapsed());
        release.0.send(()).unwrap();
        thread.join().unwrap().unwrap();
        assert!(db.run_sync(|_conn| Ok(())).is_ok(), "the connection came back");
    }
}

#[test]
fn sqlite_connections_are_configured_for_a_server() {
    let db = Database::connect(&sqlite_file(), PoolOptions::default());
    assert_eq!(db.backend(), Backend::Sqlite);
    let (journal, keys) = db
        .run_sync(|conn| {
            let journal = diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(conn)?.journal_mode;
            let keys = diesel::sql_query("PRAGMA foreign_keys").get_result::<ForeignKeys>(conn)?.foreign_keys;
            Ok((journal, keys))
        })
        .unwrap();
    assert_eq!((journal.as_str(), keys), ("wal", 1));
}

#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(diesel::QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = BigInt)]
    foreign_keys: i64,
}

#[test]
fn postgres_statements_have_a_timeout() {
    let Some(url) = postgres() else { return };
    let options = PoolOptions::default().statement_timeout(Duration::from_secs(7));
    let db = Database::connect(&url, options);
    assert_eq!(db.backend(), Backend::Postgres);
    let value = db
        .run_sync(|conn| {
            Ok(diesel::sql_query("SHOW statement_timeout").get_result::<StatementTimeout>(conn)?.statement_timeout)
        })
        .unwrap();
    assert_eq!(value, "7s");
}

#[derive(diesel::QueryableByName)]
struct StatementTimeout {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
}

#[view(GET)]
async fn greeting(req: Request) -> manouche::Result<String> {
    let row = req
        .db()
        .run(|conn| {
            Ok(diesel::sql_query("SELECT 'hello from ' || 'the database' AS value").get_result::<Setting>(conn)?)
        })
        .await?;
    Ok(row.value)
}

fn db_project(url: DatabaseUrl, timeout_seconds: u64) -> Project {
    let mut settings = Settings::for_tests();
    settings.database_url = url;
    settings.database_timeout_seconds = timeout_seconds;
    Project::new(settings).app(App::new("dbviews").urls(urlpatterns![path("greeting/", greeting)]))
}

#[test]
fn views_query_through_the_blocking_pool() {
    let mut urls = vec![DatabaseUrl::SqliteMemory, sqlite_file()];
    urls.extend(postgres());
    for url in urls {
        let client = Client::new(db_project(url.clone(), 5)).unwrap();
        let response = client.get("/greeting/").send();
        assert_eq!((response.status(), response.text()), (200, "hello from the database".to_owned()), "{url}");
    }
}

#[test]
fn an_unreachable_database_is_a_503_with_a_clear_message() {
    // Nothing listens on port 1; the view answers 503 within the acquire timeout.
    let url = DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:1/test?connect_timeout=1".into());
    let mut settings = Settings::for_tests();
    settings.debug = true;
    settings.database_url = url;
    settings.database_timeout_seconds = 1;
    let project = Project::new(settings).app(App::new("dbviews").urls(urlpatterns![path("greeting/", greeting)]));
    let client = Client::new(project).unwrap();
    let start = Instant::now();
    let response = client.get("/greeting/").send();
    assert_eq!(response.status(), 503);
    assert!(response.text().contains("database unavailable"), "{}", response.text());
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
}

#[test]
fn pool_settings_are_validated() {
    let error = manouche::conf::Settings::from_toml_str("database_pool_size = 0", "/p".as_ref(), std::iter::empty())
        .unwrap_err();
    assert!(
        error.to_string().contains("`database_pool_size`") && error.to_string().contains("expected 1 to 1000"),
        "{error}"
    );
    let settings = manouche::conf::Settings::from_toml_str(
        "database_pool_size = 4\ndatabase_timeout_seconds = 2",
        "/p".as_ref(),
        std::iter::empty(),
    )
    .unwrap();
    let options = PoolOptions::from_settings(&settings);
    assert_eq!(options.limits(), (4, Duration::from_secs(2), Duration::from_secs(30)));
}

/// The PostgreSQL test database, to create others from (`None` with a notice without it).
pub(crate) fn postgres_admin() -> Option<Database> {
    postgres().map(|url| Database::connect(&url, PoolOptions::default().max_size(1)))
}

/// A PostgreSQL database of its own, dropped (with its connections) when this is dropped: for
/// tests that terminate connections, which must not touch anyone else's.
pub(crate) struct ScratchDatabase {
    admin: Database,
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

pub(crate) fn fresh_postgres_database(admin: &Database, name: &str) -> ScratchDatabase {
    let name = unique(name);
    let sql = format!("CREATE DATABASE {name}");
    admin.run_sync(move |conn| Ok(diesel::connection::SimpleConnection::batch_execute(conn, &sql)?)).unwrap();
    let DatabaseUrl::Postgres(base) = admin.url() else { panic!("a PostgreSQL URL") };
    let (base, query) = base.split_once('?').map_or((base.as_str(), ""), |(b, q)| (b, q));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    let url = if query.is_empty() { format!("{root}/{name}") } else { format!("{root}/{name}?{query}") };
    ScratchDatabase { admin: admin.clone(), name, url }
}

impl ScratchDatabase {
    /// Terminates every connection to the database, as a server restart or failover does;
    /// returns how many there were.
    pub(crate) fn terminate_backends(&self) -> i64 {
        let sql = format!(
            "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        );
        self.admin.run_sync(move |conn| Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)).unwrap()
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = self.admin.run_sync(move |conn| Ok(diesel::connection::SimpleConnection::batch_execute(conn, &sql)?));
    }
}

#[test]
fn terminated_postgres_connections_cost_one_failure_and_recover() {
    use example_shop::shop::models::Category;
    let Some(admin) = postgres_admin() else { return };
    let scratch = fresh_postgres_database(&admin, "dead_connections");
    let url = DatabaseUrl::parse(&scratch.url, "/".as_ref()).unwrap();
    let db = Database::connect(&url, PoolOptions::default().max_size(3));
    crate::common::recreate_tables(&db, &[Category::meta()]);
    let tea = Category { id: 0, name: "Tea".into(), slug: "tea".into() };
    let id = db.run_sync(move |conn| Ok(tea.save_sync(conn)?.id)).unwrap();
    // Three connections open at once, then back in the pool.
    let barrier = std::sync::Barrier::new(3);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                db.run_sync(|_conn| {
                    barrier.wait();
                    Ok(())
                })
                .unwrap()
            });
        }
    });
    assert_eq!(scratch.terminate_backends(), 3);
    type Path<'a> = (&'a str, Box<dyn Fn() -> Result<(), Error> + 'a>);
    let paths: [Path<'_>; 4] = [
        ("list", Box::new(|| db.run_sync(|conn| Category::objects().all_sync(conn)).map(drop))),
        (
            "get",
            Box::new(|| {
                db.run_sync(move |conn| Category::objects().filter(Category::id.eq(id)).get_sync(conn)).map(drop)
            }),
        ),
        ("count", Box::new(|| db.run_sync(|conn| Category::objects().count_sync(conn)).map(drop))),
        (
            "save",
            Box::new(|| {
                db.run_sync(|conn| {
                    let herbs = Category { id: 0, name: unique("Herbs"), slug: unique("herbs") };
                    herbs.save_sync(conn).map(drop)
                })
            }),
        ),
    ];
    let mut failures = Vec::new();
    for round in 0..3 {
        for (what, query) in &paths {
            match query() {
                Ok(()) => {}
                Err(error @ Error::Unavailable { .. }) if round == 0 => failures.push(format!("{what}: {error}")),
                Err(error) => panic!("round {round}, {what}: {error:?}"),
            }
        }
    }
    assert!(failures.len() <= 1, "one failed query finds the dead connections, the rest are replaced: {failures:?}");
    assert_eq!(Error::Unavailable { reason: String::new() }.status(), 503);
}

#[test]
fn a_missing_sqlite_file_is_created_only_when_asked() {
    let DatabaseUrl::Sqlite(path) = sqlite_file() else { unreachable!() };
    let url = DatabaseUrl::Sqlite(path.clone());
    let project_pool = Database::connect(&url, PoolOptions::default().create_missing(false));
    let error = project_pool.run_sync(|_conn| Ok(())).unwrap_err();
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
    assert!(error.to_string().contains("does not exist; run `migrate`"), "{error}");
    assert!(!path.exists());
    Database::connect(&url, PoolOptions::default()).run_sync(|_conn| Ok(())).unwrap();
    assert!(path.exists(), "created by default, as `migrate` asks");
    project_pool.run_sync(|_conn| Ok(())).unwrap();
}

#[test]
fn input_the_database_cannot_take_is_a_400_not_a_500() {
    let db = Database::connect(&sqlite_file(), PoolOptions::default());
    let pattern = format!("%{}%", "_".repeat(60_000));
    let error = db
        .run_sync(move |conn| {
            Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM (SELECT 'tea' AS name) WHERE name LIKE ?")
                .bind::<Text, _>(pattern)
                .get_result::<Count>(conn)?)
        })
        .unwrap_err();
    assert!(error.is_bad_input(), "{error}");
    assert_eq!(error.status(), 400);
    let other = db.run_sync(|conn| Ok(diesel::sql_query("SELECT * FROM no_such_table").execute(conn)?)).unwrap_err();
    assert!(!other.is_bad_input());
    assert_eq!(other.status(), 500);
}
