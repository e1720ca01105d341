//! Testing: an in-process HTTP [`Client`], Django's `django.test.Client`.
//!
//! ```
//! use manouche::prelude::*;
//! use manouche::test::Client;
//!
//! #[view(GET, POST)]
//! async fn hello(req: Request) -> String { format!("{} {}", req.method(), req.path()) }
//!
//! let project = Project::new(Settings::for_tests())
//!     .app(App::new("site").urls(urlpatterns![manouche::urls::path("hello/", hello)]));
//! let client = Client::new(project)?;
//! let response = client.get("/hello/").send();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.text(), "GET /hello/");
//! assert_eq!(client.delete("/hello/").send().status(), 405);
//! # Ok::<(), manouche::Error>(())
//! ```

mod client;
mod database;
mod live;
mod multipart;

pub use self::client::{Client, RequestBuilder, Response};
pub use self::database::{POSTGRES_ENV, TestDatabase};
pub use self::live::LiveServer;
pub use self::multipart::Multipart;

/// Runs `f` and checks that the database ran exactly `expected` statements meanwhile, Django's
/// `assertNumQueries`; returns what `f` returned. Statements run by views count too (they run on
/// the blocking pool of the same database): pass the test client's `client.db()`. Transaction
/// statements (`BEGIN`, `COMMIT`, savepoints) count, as they do in Django.
///
/// ```
/// # use manouche::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// # let db = manouche::db::Database::connect(&manouche::conf::DatabaseUrl::SqliteMemory, Default::default());
/// # db.run_sync(|conn| { for sql in manouche::migrations::create_table(Tea::meta(), conn.backend()).unwrap() {
/// #     diesel::connection::SimpleConnection::batch_execute(conn, &sql)?; } Ok(()) })?;
/// let teas = manouche::test::assert_num_queries(&db, 1, || {
///     db.run_sync(|conn| Tea::objects().all_sync(conn))
/// })?;
/// assert!(teas.is_empty());
/// # Ok::<(), manouche::db::Error>(())
/// ```
///
/// # Panics
///
/// When the count differs, listing the statements that ran, as Django does.
#[track_caller]
pub fn assert_num_queries<T>(db: &crate::db::Database, expected: usize, f: impl FnOnce() -> T) -> T {
    let (value, statements) = db.capture_queries(f);
    if statements.len() != expected {
        let listed: Vec<String> = statements.iter().enumerate().map(|(i, sql)| format!("{}. {sql}", i + 1)).collect();
        panic!(
            "{} queries executed, {expected} expected\nCaptured queries were:\n{}",
            statements.len(),
            listed.join("\n")
        );
    }
    value
}
