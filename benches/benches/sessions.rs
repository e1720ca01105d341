//! What a session costs a request: the same page without sessions, reading a database-stored
//! session (SQLite file, the default store) and reading a signed-cookie session, through the
//! in-process test client. `cargo bench -p manouche-bench --bench sessions`; the README reports it.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use manouche::prelude::*;
use manouche::test::{Client, TestDatabase};
use manouche::urls::path;

#[view(GET)]
async fn plain() -> &'static str {
    "0"
}

#[view(GET)]
async fn visits(req: Request) -> manouche::Result<String> {
    Ok(req.session()?.get::<u32>("visits")?.unwrap_or(0).to_string())
}

#[view(GET)]
async fn first_visit(req: Request) -> manouche::Result<&'static str> {
    req.session()?.insert("visits", &1u32)?;
    Ok("1")
}

fn client(test_db: &TestDatabase, engine: &str) -> Client {
    let middleware = if engine.is_empty() { "" } else { "\"manouche.sessions\"" };
    let engine = if engine.is_empty() { "database" } else { engine };
    let text = format!(
        "debug = true\nsecret_key = \"bench-secret\"\nallowed_hosts = [\"testserver\"]\n\
         middleware = [{middleware}]\n[sessions]\nengine = \"{engine}\"\n"
    );
    let settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).expect("settings");
    let app = App::new("bench").urls(urlpatterns![
        path("plain/", plain),
        path("visits/", visits),
        path("first/", first_visit)
    ]);
    let project = test_db.migrated(Project::new(settings).app(manouche::sessions::app()).app(app)).expect("migrated");
    let client = Client::new(project).expect("client");
    if middleware.is_empty() {
        return client;
    }
    assert_eq!(client.get("/first/").send().text(), "1");
    assert_eq!(client.get("/visits/").send().text(), "1", "the session is read back");
    client
}

fn sessions(c: &mut Criterion) {
    let test_db = TestDatabase::sqlite("session bench").expect("a SQLite database");
    let bare = client(&test_db, "");
    let database = client(&test_db, "database");
    let signed = client(&test_db, "signed_cookies");
    let mut group = c.benchmark_group("one request");
    group.bench_function("no sessions middleware", |bench| bench.iter(|| bare.get("/plain/").send()));
    group.bench_function("page not reading it, database store", |bench| bench.iter(|| database.get("/plain/").send()));
    group.bench_function("session read, database store", |bench| bench.iter(|| database.get("/visits/").send()));
    group.bench_function("session read, signed cookie", |bench| bench.iter(|| signed.get("/visits/").send()));
    group.finish();
}

criterion_group!(benches, sessions);
criterion_main!(benches);
