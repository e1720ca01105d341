//! A Diesel migrations folder as an app's migrations: applied, listed and rolled back by
//! `migrate`, followed by the app's own migrations, and a database Diesel's own harness migrated
//! adopted without running anything again; on SQLite and PostgreSQL.

use diesel::Connection as _;
use diesel::sql_types::Text;
use manouche::conf::{DatabaseUrl, Settings};
use manouche::db::{Database, PoolOptions, RawRows};
use manouche::diesel_migrations::{self, EmbeddedMigrations, MigrationHarness, embed_migrations};
use manouche::migrations::prelude::*;
use manouche::{App, Project};

use crate::migrations::{columns, database_urls, execute, forget, lock, ok};

/// Three migrations as Diesel's CLI writes them; the last says `run_in_transaction = false`.
const BLOG: EmbeddedMigrations = embed_migrations!("fixtures/diesel_migrations");

const AUTHORS: &str = "2024-01-10-090000_create_authors";
const POSTS: &str = "2024-01-11-090000_create_posts";
const PUBLISHED: &str = "2024-02-01-120000_add_published";

/// The app's own migration, made after the move to Manouche.
fn own_history() -> Vec<Migration> {
    vec![
        Migration::new("0001_note")
            .operation(create_model(
                "Note",
                "blog_note",
                [field("id", FieldType::BigInt).primary_key().auto(), field("text", FieldType::Text)],
            ))
            .operation(
                run_sql("INSERT INTO blog_note (text) SELECT title FROM posts").reverse("DELETE FROM blog_note"),
            ),
    ]
}

fn project(url: &DatabaseUrl) -> Project {
    let mut settings = Settings::for_tests();
    settings.database_url = url.clone();
    Project::new(settings).app(App::new("blog").diesel_migrations(&BLOG).migrations("/nonexistent/blog", own_history))
}

fn clean(db: &Database) {
    forget(db, "blog", &["blog_note", "posts", "authors", manouche::migrations::DIESEL_TABLE]);
}

/// The versions in Diesel's table, sorted.
fn diesel_versions(db: &Database) -> Vec<String> {
    db.run_sync(|conn| {
        RawRows::<Text>::new(format!("SELECT version FROM {} ORDER BY version", manouche::migrations::DIESEL_TABLE))
            .all_sync(conn)
    })
    .unwrap_or_default()
}

/// What Diesel's own harness says is applied, on its own connection.
fn diesel_harness<T>(text: &str, f: impl FnOnce(&mut dyn Harness) -> T) -> T {
    match text.strip_prefix("sqlite://") {
        Some(path) => f(&mut diesel::SqliteConnection::establish(path).unwrap()),
        None => f(&mut diesel::PgConnection::establish(text).unwrap()),
    }
}

/// Diesel's harness on either backend's connection.
trait Harness {
    fn run_next(&mut self);
    fn applied(&mut self) -> Vec<String>;
    fn pending(&mut self) -> bool;
}

impl<C> Harness for C
where
    C: MigrationHarness<<C as diesel::Connection>::Backend> + diesel::Connection,
{
    fn run_next(&mut self) {
        self.run_next_migration(BLOG).unwrap();
    }
    fn applied(&mut self) -> Vec<String> {
        let mut versions: Vec<String> = self.applied_migrations().unwrap().iter().map(ToString::to_string).collect();
        versions.sort();
        versions
    }
    fn pending(&mut self) -> bool {
        self.has_pending_migration(BLOG).unwrap()
    }
}

#[test]
fn a_diesel_folder_is_applied_listed_and_rolled_back_as_the_start_of_an_apps_history() {
    let _turn = lock();
    for (text, url) in database_urls("diesel folder") {
        let db = Database::connect(&url, PoolOptions::default());
        clean(&db);
        let project = project(&url);

        let shown = ok(&project, &["showmigrations", "blog"]);
        assert_eq!(shown, format!("blog\n [ ] {AUTHORS}\n [ ] {POSTS}\n [ ] {PUBLISHED}\n [ ] 0001_note\n"));
        let plan = ok(&project, &["migrate", "blog", "--plan"]);
        assert!(plan.contains(&format!("blog.{POSTS}\n    Diesel migration {POSTS}\n")), "{plan}");

        // Up to a Diesel migration named by the start of its name.
        let out = ok(&project, &["migrate", "blog", "2024-01-11"]);
        assert!(out.contains(&format!("Applying blog.{AUTHORS}... OK\n  Applying blog.{POSTS}... OK")), "{out}");
        assert_eq!(columns(&db, "posts"), ["id", "author_id", "title", "body"], "{text}");
        assert_eq!(diesel_versions(&db), ["20240110090000", "20240111090000"], "Diesel's table kept in step");
        execute(
            &db,
            "INSERT INTO authors (id, name) VALUES (1, 'Ada'); INSERT INTO posts (id, author_id, title) VALUES (1, 1, 'Engines')",
        );

        // The rest: the non-transactional Diesel migration, then the app's own, which runs after it.
        let out = ok(&project, &["migrate"]);
        assert!(out.contains(&format!("Applying blog.{PUBLISHED}... OK\n  Applying blog.0001_note... OK")), "{out}");
        assert_eq!(columns(&db, "posts"), ["id", "author_id", "title", "body", "published"], "{text}");
        assert_eq!(columns(&db, "blog_note"), ["id", "text"]);
        diesel_harness(&text, |diesel| {
            assert!(!diesel.pending(), "Diesel's harness sees its folder applied");
        });
        let sql = ok(&project, &["sqlmigrate", "blog", "2024-02", "--backwards"]);
        assert!(sql.contains(&format!("-- (the down.sql of the Diesel migration {PUBLISHED})")), "{sql}");

        // Back to the first Diesel migration: the app's own and two Diesel ones unapplied, in order.
        let out = ok(&project, &["migrate", "blog", AUTHORS]);
        assert!(
            out.contains(&format!(
                "Unapplying blog.0001_note... OK\n  Unapplying blog.{PUBLISHED}... OK\n  Unapplying blog.{POSTS}... OK"
            )),
            "{out}"
        );
        assert!(columns(&db, "posts").is_empty() && columns(&db, "blog_note").is_empty(), "{text}");
        assert_eq!(columns(&db, "authors"), ["id", "name"]);
        assert_eq!(diesel_versions(&db), ["20240110090000"]);
        let shown = ok(&project, &["showmigrations", "blog"]);
        assert!(shown.contains(&format!(" [X] {AUTHORS}\n [ ] {POSTS}")), "{shown}");
        ok(&project, &["migrate", "blog", "zero"]);
        assert!(columns(&db, "authors").is_empty());
        diesel_harness(&text, |diesel| assert!(diesel.applied().is_empty(), "{text}"));
        clean(&db);
    }
}

#[test]
fn a_database_diesels_cli_migrated_is_adopted_without_running_anything_again() {
    let _turn = lock();
    for (text, url) in database_urls("diesel adoption") {
        let db = Database::connect(&url, PoolOptions::default());
        clean(&db);
        // Diesel's own harness applies the first two, as `diesel migration run` would have; the
        // project has data by then.
        diesel_harness(&text, |diesel| {
            diesel.run_next();
            diesel.run_next();
            assert_eq!(diesel.applied(), ["20240110090000", "20240111090000"]);
        });
        execute(
            &db,
            "INSERT INTO authors (id, name) VALUES (1, 'Ada'); INSERT INTO posts (id, author_id, title) VALUES (7, 1, 'Engines')",
        );
        let project = project(&url);

        // Listed as applied before `migrate` ran; `--plan` plans only the rest.
        let shown = ok(&project, &["showmigrations", "blog"]);
        assert!(shown.contains(&format!(" [X] {AUTHORS}\n [X] {POSTS}\n [ ] {PUBLISHED}")), "{shown}");
        let plan = ok(&project, &["migrate", "--plan"]);
        assert!(!plan.contains(POSTS) && plan.contains(PUBLISHED), "{plan}");

        let out = ok(&project, &["migrate"]);
        assert!(
            out.contains(&format!("Adopted blog.{AUTHORS} (not run again)\n  Adopted blog.{POSTS} (not run again)\n"))
                && out.contains(&format!("Applying blog.{PUBLISHED}... OK\n  Applying blog.0001_note... OK")),
            "{out}"
        );
        let notes: Vec<String> =
            db.run_sync(|conn| RawRows::<Text>::new("SELECT text FROM blog_note").all_sync(conn)).unwrap();
        assert_eq!(notes, ["Engines"], "{text}: the rows Diesel's tables held are there");
        diesel_harness(&text, |diesel| {
            assert_eq!(diesel.applied(), ["20240110090000", "20240111090000", "20240201120000"]);
            assert!(!diesel.pending());
        });
        assert_eq!(ok(&project, &["migrate"]), "No migrations to apply.\n", "adopted once");

        // Rolled back, Diesel's table forgets them too: nothing is adopted twice.
        ok(&project, &["migrate", "blog", "zero"]);
        diesel_harness(&text, |diesel| assert!(diesel.applied().is_empty()));
        let shown = ok(&project, &["showmigrations", "blog"]);
        assert!(shown.contains(&format!(" [ ] {AUTHORS}")), "{shown}");
        clean(&db);
    }
}
