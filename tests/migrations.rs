//! Migrations: the executor on hand-written histories (both backends), the shop's migrations
//! kept in step with its models, and the whole CLI flow on a scaffolded scratch app.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::sql_types::{BigInt, Nullable, Text};
use manouche::conf::{DatabaseUrl, Settings};
use manouche::db::{Backend, Database, PoolOptions, RawRows};
use manouche::migrations::prelude::*;
use manouche::{App, Project};

/// One test at a time changes schemas in the shared PostgreSQL database.
static SCHEMA: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn lock() -> std::sync::MutexGuard<'static, ()> {
    SCHEMA.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh SQLite URL and, in CI, the PostgreSQL one: as written, and parsed.
pub(crate) fn database_urls(what: &str) -> Vec<(String, DatabaseUrl)> {
    let dir = std::env::temp_dir().join(format!("manouche-migrate-{}-{}", std::process::id(), what.replace(' ', "-")));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.join("db.sqlite3").display())];
    match std::env::var("MANOUCHE_TEST_POSTGRES_URL") {
        Ok(url) => urls.push(url),
        Err(_) => eprintln!("notice: MANOUCHE_TEST_POSTGRES_URL is not set; {what} tested on SQLite only"),
    }
    urls.into_iter()
        .map(|text| {
            let url = DatabaseUrl::parse(&text, "/".as_ref()).unwrap();
            (text, url)
        })
        .collect()
}

/// Drops what earlier runs of a test left in a (shared) database.
pub(crate) fn forget(db: &Database, app: &str, tables: &[&str]) {
    let (app, tables): (String, Vec<String>) = (app.to_owned(), tables.iter().map(|t| (*t).to_owned()).collect());
    db.run_sync(move |conn| {
        use diesel::connection::SimpleConnection;
        let cascade = if conn.backend() == Backend::Postgres { " CASCADE" } else { "" };
        for table in &tables {
            conn.batch_execute(&format!("DROP TABLE IF EXISTS \"{table}\"{cascade}"))?;
        }
        // The table may not exist yet: then there is nothing to forget.
        let _ = conn.batch_execute(&format!("DELETE FROM manouche_migrations WHERE app = '{app}'"));
        Ok(())
    })
    .unwrap();
}

/// The columns of a table, in order.
pub(crate) fn columns(db: &Database, table: &str) -> Vec<String> {
    let table = table.to_owned();
    db.run_sync(move |conn| {
        let sql = match conn.backend() {
            Backend::Postgres => "SELECT column_name::text FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            _ => "SELECT name FROM pragma_table_info(?) ORDER BY cid",
        };
        RawRows::<Text>::new(sql).bind::<Text, _>(table).all_sync(conn)
    })
    .unwrap()
}

/// The index names of a table, sorted.
fn indexes(db: &Database, table: &str) -> Vec<String> {
    let table = table.to_owned();
    let mut names: Vec<String> = db
        .run_sync(move |conn| {
            let sql = match conn.backend() {
                Backend::Postgres => {
                    "SELECT indexname::text FROM pg_indexes WHERE tablename = ? AND indexname NOT LIKE '%_pkey'"
                }
                _ => "SELECT name FROM pragma_index_list(?) WHERE origin = 'c'",
            };
            RawRows::<Text>::new(sql).bind::<Text, _>(table).all_sync(conn)
        })
        .unwrap();
    names.sort();
    names
}

/// `(text, nullable number)` rows.
fn rows(db: &Database, sql: &str) -> Vec<(String, Option<i64>)> {
    let sql = sql.to_owned();
    db.run_sync(move |conn| RawRows::<(Text, Nullable<BigInt>)>::new(sql).all_sync(conn)).unwrap()
}

pub(crate) fn execute(db: &Database, sql: &str) {
    let sql = sql.to_owned();
    db.run_sync(move |conn| Ok(diesel::connection::SimpleConnection::batch_execute(conn, &sql)?)).unwrap();
}

fn shout(conn: &mut Connection) -> Result<(), manouche::db::Error> {
    manouche::db::RawQuery::<()>::new("UPDATE migtests_article SET name = name || '!'").execute_sync(conn)?;
    Ok(())
}

fn hush(conn: &mut Connection) -> Result<(), manouche::db::Error> {
    manouche::db::RawQuery::<()>::new("UPDATE migtests_article SET name = substr(name, 1, length(name) - 1)")
        .execute_sync(conn)?;
    Ok(())
}

/// A history exercising what SQLite must rebuild tables for.
fn history() -> Vec<Migration> {
    let app = "migtests";
    vec![
        Migration::new("0001_initial").operation(create_model(
            "Item",
            "migtests_item",
            [field("id", FieldType::BigInt).primary_key().auto(), field("name", FieldType::Text).max_length(50)],
        )),
        Migration::new("0002_item_stock")
            .depends_on(app, "0001_initial")
            .operation(add_field("Item", field("stock", FieldType::Integer).default("5"))),
        Migration::new("0003_alter")
            .depends_on(app, "0002_item_stock")
            .operation(alter_field("Item", field("stock", FieldType::BigInt).default("5").db_index()))
            .operation(alter_field("Item", field("name", FieldType::Text).max_length(80).null())),
        Migration::new("0004_rename")
            .depends_on(app, "0003_alter")
            .operation(rename_field("Item", "stock", "quantity"))
            .operation(rename_model("Item", "Article"))
            .operation(alter_model_table("Article", "migtests_article")),
        Migration::new("0005_shelf")
            .depends_on(app, "0004_rename")
            .operation(
                create_model(
                    "Shelf",
                    "migtests_shelf",
                    [
                        field("id", FieldType::BigInt).primary_key().auto(),
                        foreign_key("article", "migtests.Article", OnDelete::Cascade),
                        field("code", FieldType::Text).max_length(10),
                    ],
                )
                .unique_together(["article", "code"]),
            )
            .operation(alter_field("Article", field("name", FieldType::Text).max_length(80).default("\"unnamed\""))),
        Migration::new("0006_data")
            .depends_on(app, "0005_shelf")
            .operation(
                run_sql("UPDATE migtests_article SET name = upper(name)")
                    .reverse("UPDATE migtests_article SET name = lower(name)"),
            )
            .operation(run_rust(shout).reverse(hush)),
        Migration::new("0007_remove_quantity")
            .depends_on(app, "0006_data")
            .operation(remove_field("Article", "quantity")),
    ]
}

/// An app whose second migration fails half-way, and whose first cannot be undone.
fn broken_history() -> Vec<Migration> {
    vec![
        Migration::new("0001_initial")
            .operation(create_model(
                "Thing",
                "migbroken_thing",
                [field("id", FieldType::BigInt).primary_key().auto(), field("name", FieldType::Text)],
            ))
            .operation(run_sql("UPDATE migbroken_thing SET name = name")),
        Migration::new("0002_fails")
            .depends_on("migbroken", "0001_initial")
            .operation(add_field("Thing", field("size", FieldType::Integer).default("1")))
            .operation(run_sql("INSERT INTO no_such_table VALUES (1)")),
    ]
}

/// A migration that leaves a row pointing to nothing: the foreign key check must refuse it.
fn dangling_history() -> Vec<Migration> {
    vec![
        Migration::new("0001_initial")
            .operation(create_model(
                "Parent",
                "migdangling_parent",
                [field("id", FieldType::BigInt).primary_key().auto()],
            ))
            .operation(create_model(
                "Child",
                "migdangling_child",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("parent", "migdangling.Parent", OnDelete::Cascade),
                ],
            ))
            .operation(run_sql("INSERT INTO migdangling_child (parent_id) VALUES (99)")),
    ]
}

fn project(url: &DatabaseUrl) -> Project {
    let mut settings = Settings::for_tests();
    settings.database_url = url.clone();
    Project::new(settings)
        .app(App::new("migtests").migrations("/nonexistent/migtests", history))
        .app(App::new("migbroken").migrations("/nonexistent/migbroken", broken_history))
        .app(App::new("migdangling").migrations("/nonexistent/migdangling", dangling_history))
}

pub(crate) fn ok(project: &Project, args: &[&str]) -> String {
    let out = project.call_command(args.iter().copied());
    assert!(out.success(), "{args:?} failed: {}{}", out.stdout, out.stderr);
    out.stdout
}

#[test]
fn migrate_alters_renames_and_rolls_back_keeping_data_on_both_backends() {
    let _turn = lock();
    for (_, url) in database_urls("migrate") {
        let db = Database::connect(&url, PoolOptions::default());
        forget(&db, "migtests", &["migtests_shelf", "migtests_article", "migtests_item"]);
        let project = project(&url);
        let backend = db.backend();

        let plan = ok(&project, &["migrate", "migtests", "0002", "--plan"]);
        assert!(plan.contains("migtests.0001_initial\n    Create model Item\nmigtests.0002_item_stock"), "{plan}");
        assert!(ok(&project, &["migrate", "migtests", "0001"]).contains("Applying migtests.0001_initial... OK"));
        execute(&db, "INSERT INTO migtests_item (name) VALUES ('tea'), ('cup')");

        // A field with a default: the rows already there get it.
        ok(&project, &["migrate", "migtests", "0002_item_stock"]);
        assert_eq!(columns(&db, "migtests_item"), ["id", "name", "stock"], "{backend:?}");
        let stock: Vec<(String, Option<i64>)> =
            rows(&db, "SELECT name, CAST(stock AS BIGINT) FROM migtests_item ORDER BY id");
        assert_eq!(stock, [("tea".to_owned(), Some(5)), ("cup".to_owned(), Some(5))]);

        // Altered type, index and nullability: data kept (SQLite rebuilds the table).
        ok(&project, &["migrate", "migtests", "0003"]);
        assert_eq!(indexes(&db, "migtests_item"), ["migtests_item_stock_idx"], "{backend:?}");
        execute(
            &db,
            "UPDATE migtests_item SET stock = 12345678901 WHERE name = 'cup'; INSERT INTO migtests_item (name, stock) VALUES (NULL, 1)",
        );

        // Renamed field, model and table: data follows, the index is renamed with them.
        ok(&project, &["migrate", "migtests", "0004"]);
        assert_eq!(columns(&db, "migtests_article"), ["id", "name", "quantity"], "{backend:?}");
        assert_eq!(indexes(&db, "migtests_article"), ["migtests_article_quantity_idx"], "{backend:?}");
        let renamed: Vec<(String, Option<i64>)> =
            rows(&db, "SELECT COALESCE(name, '-'), quantity FROM migtests_article ORDER BY id");
        assert_eq!(renamed[1], ("cup".to_owned(), Some(12_345_678_901)));

        // A new model pointing to it; not null with a default fills the NULL name.
        ok(&project, &["migrate", "migtests", "0005"]);
        assert_eq!(
            indexes(&db, "migtests_shelf"),
            ["migtests_shelf_article_id_code_uniq", "migtests_shelf_article_id_idx"]
        );
        execute(&db, "INSERT INTO migtests_shelf (article_id, code) VALUES (1, 'A1')");
        let duplicate = db.run_sync(|conn| {
            Ok(diesel::connection::SimpleConnection::batch_execute(
                conn,
                "INSERT INTO migtests_shelf (article_id, code) VALUES (1, 'A1')",
            ))
        });
        assert!(matches!(duplicate, Ok(Err(_))), "{backend:?}: unique together");
        let names: Vec<(String, Option<i64>)> = rows(&db, "SELECT name, id FROM migtests_article ORDER BY id");
        assert_eq!(names[2].0, "unnamed");

        // SQL and Rust data migrations, forwards and back.
        ok(&project, &["migrate", "migtests"]);
        let names: Vec<(String, Option<i64>)> = rows(&db, "SELECT name, id FROM migtests_article ORDER BY id");
        assert_eq!(names[0].0, "TEA!");
        assert_eq!(columns(&db, "migtests_article"), ["id", "name"], "{backend:?}");
        let shown = ok(&project, &["showmigrations", "migtests"]);
        assert!(shown.contains(" [X] 0007_remove_quantity"), "{shown}");

        // Back step by step: each unapply restores the previous schema, data where it can.
        ok(&project, &["migrate", "migtests", "0005"]);
        assert_eq!(columns(&db, "migtests_article"), ["id", "name", "quantity"], "{backend:?}");
        let names: Vec<(String, Option<i64>)> = rows(&db, "SELECT name, id FROM migtests_article ORDER BY id");
        assert_eq!(names[0].0, "tea", "the data migrations were undone");
        ok(&project, &["migrate", "migtests", "0003"]);
        assert_eq!(columns(&db, "migtests_item"), ["id", "name", "stock"], "{backend:?}");
        assert_eq!(indexes(&db, "migtests_item"), ["migtests_item_stock_idx"]);
        let shown = ok(&project, &["showmigrations", "migtests"]);
        assert!(shown.contains(" [X] 0003_alter\n [ ] 0004_rename"), "{shown}");
        ok(&project, &["migrate", "migtests", "zero"]);
        assert!(columns(&db, "migtests_item").is_empty());
        assert!(ok(&project, &["showmigrations", "migtests"]).contains(" [ ] 0001_initial"));

        // --fake records without running; forwards again from nothing.
        ok(&project, &["migrate", "migtests", "0001", "--fake"]);
        assert!(columns(&db, "migtests_item").is_empty(), "faked: nothing ran");
        ok(&project, &["migrate", "migtests", "zero", "--fake"]);
        assert!(ok(&project, &["migrate", "migtests"]).contains("Applying migtests.0007_remove_quantity... OK"));
        assert_eq!(ok(&project, &["migrate", "migtests"]), "No migrations to apply.\n");
        forget(&db, "migtests", &["migtests_shelf", "migtests_article", "migtests_item"]);
    }
}

#[test]
fn a_failed_migration_leaves_the_database_as_it_was() {
    let _turn = lock();
    for (_, url) in database_urls("failures") {
        let db = Database::connect(&url, PoolOptions::default());
        forget(&db, "migbroken", &["migbroken_thing"]);
        let project = project(&url);
        let out = project.call_command(["migrate", "migbroken"]);
        assert_eq!(out.code, 1);
        assert!(
            out.stdout.contains("Applying migbroken.0001_initial... OK\n  Applying migbroken.0002_fails... FAILED"),
            "{}",
            out.stdout
        );
        assert!(
            out.stderr.contains("migbroken.0002_fails failed at operation 2 (Raw SQL): ")
                && out.stderr.contains("no_such_table")
                && out.stderr.contains("the database is as it was before migbroken.0002_fails"),
            "{}",
            out.stderr
        );
        assert_eq!(columns(&db, "migbroken_thing"), ["id", "name"], "operation 1 was rolled back");
        assert!(ok(&project, &["showmigrations", "migbroken"]).contains(" [X] 0001_initial\n [ ] 0002_fails"));
        let undo = project.call_command(["migrate", "migbroken", "zero"]);
        assert!(
            undo.stderr.contains("migbroken.0001_initial cannot be unapplied: operation 2 (Raw SQL) has no reverse"),
            "{}",
            undo.stderr
        );
        assert_eq!(columns(&db, "migbroken_thing"), ["id", "name"]);
        forget(&db, "migbroken", &["migbroken_thing"]);

        // SQLite checks foreign keys once, before committing; PostgreSQL at the statement.
        forget(&db, "migdangling", &["migdangling_child", "migdangling_parent"]);
        let dangling = project.call_command(["migrate", "migdangling"]);
        assert_eq!(dangling.code, 1, "{}", dangling.stdout);
        let expected = match db.backend() {
            Backend::Sqlite => "rows of migdangling_child point to rows that do not exist (foreign key check)",
            _ => "foreign key",
        };
        assert!(dangling.stderr.contains(expected), "{}", dangling.stderr);
        assert!(columns(&db, "migdangling_child").is_empty(), "rolled back whole");
        assert!(ok(&project, &["showmigrations", "migdangling"]).contains(" [ ] 0001_initial"));
    }
}

#[test]
fn migrate_and_sqlmigrate_explain_bad_input() {
    let url = DatabaseUrl::SqliteMemory;
    let project = project(&url);
    let unknown = project.call_command(["migrate", "nosuch"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no app `nosuch` in the project; its apps are: migtests, migbroken"),
        "{}",
        unknown.stderr
    );
    let target = project.call_command(["migrate", "migtests", "0009"]);
    assert!(
        target.stderr.contains("no migration `0009` in `migtests`; it has: 0001_initial, 0002_item_stock"),
        "{}",
        target.stderr
    );
    let ambiguous = project.call_command(["sqlmigrate", "migtests", "000"]);
    assert!(ambiguous.stderr.contains("`000` names several migrations of `migtests`"), "{}", ambiguous.stderr);

    let sql = ok(&project, &["sqlmigrate", "migtests", "0003"]);
    assert!(sql.starts_with("PRAGMA foreign_keys = OFF;\nBEGIN;\n"), "{sql}");
    assert!(sql.contains("CREATE TABLE \"new__migtests_item\""), "SQLite rebuilds: {sql}");
    assert!(sql.contains("INSERT INTO \"new__migtests_item\" (\"id\", \"name\", \"stock\") SELECT \"id\", \"name\", \"stock\" FROM \"migtests_item\""), "{sql}");
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::Postgres("postgres://nobody@127.0.0.1:1/none".into());
    let pg = Project::new(settings).app(App::new("migtests").migrations("/nonexistent", history));
    let sql = ok(&pg, &["sqlmigrate", "migtests", "0003_alter"]);
    assert!(
        sql.contains("ALTER TABLE \"migtests_item\" ALTER COLUMN \"stock\" TYPE BIGINT USING \"stock\"::BIGINT;"),
        "{sql}"
    );
    assert!(sql.contains("ALTER TABLE \"migtests_item\" ALTER COLUMN \"name\" DROP NOT NULL;"), "{sql}");
    let back = ok(&pg, &["sqlmigrate", "migtests", "0004", "--backwards"]);
    assert!(back.contains("ALTER TABLE \"migtests_article\" RENAME TO \"migtests_item\";"), "{back}");
    assert!(back.contains("RENAME COLUMN \"quantity\" TO \"stock\""), "{back}");

    // A missing dependency and two latest migrations are reported before anything runs.
    fn dangling() -> Vec<Migration> {
        vec![Migration::new("0001_initial").depends_on("auth", "0001_initial")]
    }
    fn branched() -> Vec<Migration> {
        vec![
            Migration::new("0001_initial"),
            Migration::new("0002_a").depends_on("split", "0001_initial"),
            Migration::new("0002_b").depends_on("split", "0001_initial"),
        ]
    }
    let missing = Project::new(Settings::for_tests()).app(App::new("lost").migrations("/nonexistent", dangling));
    let out = missing.call_command(["migrate"]);
    assert!(
        out.stderr.contains("lost.0001_initial depends on auth.0001_initial, which does not exist"),
        "{}",
        out.stderr
    );
    let split = Project::new(Settings::for_tests()).app(App::new("split").migrations("/nonexistent", branched));
    let out = split.call_command(["migrate"]);
    assert!(
        out.stderr.contains("conflicting migrations in `split`: 0002_a and 0002_b each have no successor; run `makemigrations --merge split`"),
        "{}",
        out.stderr
    );
}

#[test]
fn makemigrations_writes_empty_and_merge_migrations() {
    fn branched() -> Vec<Migration> {
        vec![
            Migration::new("0001_initial"),
            Migration::new("0002_a").depends_on("split", "0001_initial"),
            Migration::new("0002_b").depends_on("split", "0001_initial"),
        ]
    }
    let dir = std::env::temp_dir().join(format!("manouche-merge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project::new(Settings::for_tests()).app(App::new("split").migrations(&dir, branched));
    let stale = project.call_command(["makemigrations", "--merge"]);
    assert!(stale.stderr.contains("are not the ones compiled into this program"), "{}", stale.stderr);
    for name in ["0001_initial", "0002_a", "0002_b"] {
        std::fs::write(dir.join(format!("{name}.rs")), "").unwrap();
    }
    let refused = project.call_command(["makemigrations"]);
    assert!(refused.stderr.contains("run `makemigrations --merge split`"), "{}", refused.stderr);
    let merged = ok(&project, &["makemigrations", "--merge"]);
    assert!(merged.contains("Merging `split`: 0002_a, 0002_b"), "{merged}");
    let source = std::fs::read_to_string(dir.join("0003_merge_0002_0002.rs")).unwrap();
    assert!(
        source.contains(".depends_on(\"split\", \"0002_a\")") && source.contains(".depends_on(\"split\", \"0002_b\")"),
        "{source}"
    );
    let listing = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    assert!(listing.contains("pub mod m0003_merge_0002_0002;"), "{listing}");

    let stale = project.call_command(["makemigrations"]);
    assert!(
        stale.stderr.contains("(0001_initial, 0002_a, 0002_b, 0003_merge_0002_0002) are not the ones compiled"),
        "{}",
        stale.stderr
    );
    fn linear() -> Vec<Migration> {
        vec![Migration::new("0001_initial")]
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("0001_initial.rs"), "").unwrap();
    let project = Project::new(Settings::for_tests()).app(App::new("notes").migrations(&dir, linear));
    let usage = project.call_command(["makemigrations", "--empty"]);
    assert!(usage.code == 2 && usage.stderr.contains("`--empty` needs the apps"), "{}", usage.stderr);
    let bad = project.call_command(["makemigrations", "notes", "--empty", "--name", "Fill-Slugs"]);
    assert!(bad.code == 2 && bad.stderr.contains("not a valid migration name"), "{}", bad.stderr);
    let written = ok(&project, &["makemigrations", "notes", "--empty", "--name", "fill_slugs"]);
    assert!(written.contains("0002_fill_slugs.rs"), "{written}");
    let source = std::fs::read_to_string(dir.join("0002_fill_slugs.rs")).unwrap();
    assert!(source.contains("Migration::new(\"0002_fill_slugs\")") && source.contains("run_sql("), "{source}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two apps, one pointing into the other (only their metadata is used).
#[allow(dead_code)]
mod kennel {
    use manouche::prelude::*;

    #[model(app = "xowners")]
    pub struct Owner {
        #[field(primary_key, auto)]
        pub id: i64,
        pub name: String,
    }

    #[model(app = "xpets")]
    pub struct Pet {
        #[field(primary_key, auto)]
        pub id: i64,
        #[field(on_delete = cascade)]
        pub owner: ForeignKey<Owner>,
        pub name: String,
    }
}

#[test]
fn a_migration_depends_on_the_migrations_of_the_models_it_points_to() {
    let base = std::env::temp_dir().join(format!("manouche-kennel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    fn none() -> Vec<Migration> {
        Vec::new()
    }
    let project = Project::new(Settings::for_tests())
        .app(App::new("xpets").migrations(base.join("xpets"), none))
        .app(App::new("xowners").migrations(base.join("xowners"), none));
    let made = ok(&project, &["makemigrations"]);
    assert!(made.contains("Migrations for `xowners`") && made.contains("Migrations for `xpets`"), "{made}");
    let pets = std::fs::read_to_string(base.join("xpets/0001_initial.rs")).unwrap();
    assert!(pets.contains(".depends_on(\"xowners\", \"0001_initial\")"), "{pets}");
    assert!(pets.contains("foreign_key(\"owner\", \"xowners.Owner\", OnDelete::Cascade)"), "{pets}");
    let owners = std::fs::read_to_string(base.join("xowners/0001_initial.rs")).unwrap();
    assert!(!owners.contains("depends_on"), "{owners}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn the_shop_migrations_match_its_models() {
    let out = example_shop::project().call_command(["makemigrations", "--check"]);
    assert!(out.success(), "the shop's models changed without a migration: {}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "No changes detected\n");
}

// The scratch app of the end-to-end test, one models file per step of its history.
const HEADER: &str = "//! The inventory's models.\n#![allow(dead_code, missing_docs)]\n\nuse manouche::prelude::*;\n";
const ITEM_V1: &str = "
#[model(app = \"inventory\")]
#[derive(Debug, Clone)]
pub struct Item {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 50)]
    pub name: String,
}
";

fn item_with(extra: &str) -> String {
    ITEM_V1.replace("    pub name: String,\n", &format!("    pub name: String,\n{extra}"))
}

const MORE_MODELS: &str = "
#[model(app = \"inventory\", ordering = [\"label\"])]
#[derive(Debug, Clone)]
pub struct Tag {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 30, unique)]
    pub label: String,
}

#[model(app = \"inventory\")]
#[derive(Debug, Clone)]
pub struct Bin {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = cascade)]
    pub item: ForeignKey<Item>,
    pub code: String,
}
";

struct Scratch {
    dir: PathBuf,
    target: PathBuf,
}

impl Scratch {
    fn build(&self) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--quiet"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .output()
            .unwrap();
        assert!(out.status.success(), "the scratch project does not build: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn models(&self, source: &str) {
        std::fs::write(self.dir.join("src/inventory/models.rs"), format!("{HEADER}{source}")).unwrap();
        self.build();
    }

    fn run(&self, url: &str, args: &[&str]) -> Output {
        Command::new(self.target.join("debug/scratchsite"))
            .args(args)
            .env("DATABASE_URL", url)
            .env_remove("MANOUCHE_DATABASE_URL")
            .output()
            .unwrap()
    }

    fn ok(&self, url: &str, args: &[&str]) -> String {
        let out = self.run(url, args);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{args:?} on {url}: {stdout}{stderr}");
        stdout.into_owned()
    }

    /// Runs a command answering its questions with `input`.
    fn answer(&self, url: &str, args: &[&str], input: &str) -> String {
        use std::io::Write as _;
        let mut child = Command::new(self.target.join("debug/scratchsite"))
            .args(args)
            .env("DATABASE_URL", url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `makemigrations` (failing `--check` first), the rebuild that compiles the new file, and
    /// the second run that finds nothing left to write.
    fn makemigrations(&self, url: &str, flags: &[&str], expected_file: &str) -> String {
        let check = self.run(url, &["makemigrations", "--check"]);
        assert_eq!(check.status.code(), Some(1), "--check fails while a change has no migration");
        let made = self.ok(url, &[&["makemigrations"], flags].concat());
        assert!(made.contains(expected_file), "{made}");
        assert!(self.dir.join("src/inventory/migrations").join(expected_file).is_file());
        self.build();
        assert_eq!(
            self.ok(url, &["makemigrations", "--no-input"]),
            "No changes detected\n",
            "replaying is deterministic"
        );
        self.ok(url, &["makemigrations", "--check"]);
        made
    }

    fn migrations(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("src/inventory/migrations"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n != "mod.rs")
            .collect();
        names.sort();
        names
    }
}

fn scaffold(base: &Path) -> Scratch {
    let dir = crate::common::scaffold_project(base, "scratchsite", "inventory");
    Scratch { dir, target: crate::common::target_dir() }
}

#[test]
fn makemigrations_and_migrate_take_a_scratch_app_through_its_history_and_back() {
    let _turn = lock();
    let base = std::env::temp_dir().join(format!("manouche-scratch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let scratch = scaffold(&base);
    let tables = ["inventory_item_tags", "inventory_bin", "inventory_tag", "inventory_item"];
    let urls: Vec<(String, Database)> = database_urls("the scratch app")
        .into_iter()
        .map(|(text, url)| {
            let db = Database::connect(&url, PoolOptions::default());
            forget(&db, "inventory", &tables);
            (text, db)
        })
        .collect();
    let first = &urls[0].0;
    let each = |check: &dyn Fn(&str, &Database)| {
        for (url, db) in &urls {
            check(url, db);
        }
    };
    let item_rows =
        |db: &Database| -> Vec<(String, Option<i64>)> { rows(db, "SELECT name, id FROM inventory_item ORDER BY id") };

    // 1. The initial migration; two rows go in.
    scratch.models(ITEM_V1);
    scratch.makemigrations(first, &[], "0001_initial.rs");
    each(&|url, db| {
        assert!(scratch.ok(url, &["migrate"]).contains("Applying inventory.0001_initial... OK"));
        assert!(scratch.ok(url, &["showmigrations"]).contains("inventory\n [X] 0001_initial"));
        assert_eq!(columns(db, "inventory_item"), ["id", "name"]);
        execute(db, "INSERT INTO inventory_item (name) VALUES ('kettle'), ('teapot')");
    });

    // 2. A field with a default added to a table holding rows: they keep their data.
    scratch.models(&item_with("    #[field(default = 5)]\n    pub stock: i32,\n"));
    scratch.makemigrations(first, &[], "0002_item_stock.rs");
    each(&|url, db| {
        scratch.ok(url, &["migrate"]);
        assert_eq!(columns(db, "inventory_item"), ["id", "name", "stock"]);
        let stock: Vec<(String, Option<i64>)> =
            rows(db, "SELECT name, CAST(stock AS BIGINT) FROM inventory_item ORDER BY id");
        assert_eq!(stock, [("kettle".to_owned(), Some(5)), ("teapot".to_owned(), Some(5))]);
    });

    // 3. Altered: a wider type, indexed.
    scratch.models(&item_with("    #[field(default = 5, db_index)]\n    pub stock: i64,\n"));
    scratch.makemigrations(first, &[], "0003_alter_item_stock.rs");
    each(&|url, db| {
        scratch.ok(url, &["migrate"]);
        assert_eq!(indexes(db, "inventory_item"), ["inventory_item_stock_idx"]);
        assert_eq!(item_rows(db).len(), 2);
    });

    // 4. Renamed, answering the question from a script.
    scratch.models(&item_with("    #[field(default = 5, db_index)]\n    pub quantity: i64,\n"));
    let asked = scratch.answer(first, &["makemigrations", "--dry-run"], "y\n");
    assert!(asked.contains("Was Item.stock renamed to Item.quantity (a bigint)? [y/N]"), "{asked}");
    assert!(asked.contains("+ Rename field stock on Item to quantity"), "{asked}");
    let no_rename = scratch.ok(first, &["makemigrations", "--no-input", "--dry-run"]);
    assert!(
        no_rename.contains("+ Remove field stock from Item") && no_rename.contains("+ Add field quantity"),
        "{no_rename}"
    );
    scratch.makemigrations(first, &["--yes"], "0004_rename_stock_item_quantity.rs");
    each(&|url, db| {
        scratch.ok(url, &["migrate"]);
        assert_eq!(columns(db, "inventory_item"), ["id", "name", "quantity"]);
        let kept: Vec<(String, Option<i64>)> = rows(db, "SELECT name, quantity FROM inventory_item ORDER BY id");
        assert_eq!(kept[0], ("kettle".to_owned(), Some(5)), "the renamed column kept its data");
    });

    // 5. Removed: the rows stay.
    scratch.models(ITEM_V1);
    scratch.makemigrations(first, &[], "0005_remove_item_quantity.rs");
    each(&|url, db| {
        scratch.ok(url, &["migrate"]);
        assert_eq!(columns(db, "inventory_item"), ["id", "name"]);
        assert_eq!(item_rows(db).iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["kettle", "teapot"]);
    });

    // 6. New models: one with a foreign key, and a many-to-many with its through table.
    let v6 = format!(
        "{}{MORE_MODELS}",
        ITEM_V1.replace(
            "#[derive(Debug, Clone)]\npub struct Item",
            "#[many_to_many(tags = Tag)]\n#[derive(Debug, Clone)]\npub struct Item"
        )
    );
    scratch.models(&v6);
    let made = scratch.makemigrations(first, &["--name", "bins_and_tags"], "0006_bins_and_tags.rs");
    assert!(made.contains("+ Create model Bin") && made.contains("+ Create model ItemTags"), "{made}");
    assert_eq!(scratch.migrations().len(), 6);
    each(&|url, db| {
        scratch.ok(url, &["migrate"]);
        assert_eq!(columns(db, "inventory_bin"), ["id", "item_id", "code"]);
        assert_eq!(columns(db, "inventory_item_tags"), ["id", "item_id", "tag_id"]);
        execute(db, "INSERT INTO inventory_bin (item_id, code) VALUES (1, 'B1')");
        let sql = scratch.ok(url, &["sqlmigrate", "inventory", "0006"]);
        assert!(sql.contains("CREATE TABLE \"inventory_item_tags\""), "{sql}");
    });

    // Back one step at a time to zero, then forwards again.
    let steps = [
        ("0005", vec!["id", "name"], " [X] 0005_remove_item_quantity\n [ ] 0006_bins_and_tags"),
        ("0004", vec!["id", "name", "quantity"], " [X] 0004_rename_stock_item_quantity\n [ ] 0005"),
        ("0003", vec!["id", "name", "stock"], " [X] 0003_alter_item_stock\n [ ] 0004"),
        ("0002", vec!["id", "name", "stock"], " [X] 0002_item_stock\n [ ] 0003"),
        ("0001", vec!["id", "name"], " [X] 0001_initial\n [ ] 0002"),
    ];
    each(&|url, db| {
        for (target, expected_columns, shown) in &steps {
            assert!(scratch.ok(url, &["migrate", "inventory", target]).contains("Unapplying"), "{target}");
            assert_eq!(columns(db, "inventory_item"), *expected_columns, "{url} at {target}");
            let listing = scratch.ok(url, &["showmigrations", "inventory"]);
            assert!(listing.contains(shown), "{url} at {target}: {listing}");
            assert_eq!(item_rows(db).len(), 2, "{url} at {target}: the rows survive every step");
        }
        assert!(columns(db, "inventory_bin").is_empty());
        scratch.ok(url, &["migrate", "inventory", "zero"]);
        assert!(columns(db, "inventory_item").is_empty());
        assert!(scratch.ok(url, &["showmigrations"]).contains(" [ ] 0001_initial"));
        let check = scratch.ok(url, &["check"]);
        assert!(check.contains("WARNING: 6 unapplied migrations (inventory)"), "{check}");
        let forwards = scratch.ok(url, &["migrate"]);
        assert_eq!(forwards.matches("... OK").count(), 6, "{forwards}");
        assert_eq!(columns(db, "inventory_bin"), ["id", "item_id", "code"]);
        assert!(scratch.ok(url, &["showmigrations"]).contains(" [X] 0006_bins_and_tags"));
    });
    for (_, db) in &urls {
        forget(db, "inventory", &tables);
    }
    let _ = std::fs::remove_dir_all(&base);
}
