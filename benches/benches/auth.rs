//! What authentication costs: a page behind `manouche.auth` for an anonymous visitor and for a
//! logged-in user (the user loaded from the session's key: one query), a permission check (two
//! more, once per request), and `authenticate` for a known and for an unknown username at
//! Django 6's 1,200,000 PBKDF2 iterations (the same cost, so timing does not reveal who has an
//! account). `cargo bench -p manouche-bench --bench auth`; the README reports it.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use manouche::auth::User;
use manouche::db::Model as _;
use manouche::http::Form;
use manouche::prelude::*;
use manouche::test::{Client, TestDatabase};
use manouche::urls::path;

#[view(GET)]
async fn plain() -> &'static str {
    "0"
}

#[view(GET)]
async fn whoami(req: Request) -> manouche::Result<String> {
    Ok(req.user()?.username().to_owned())
}

#[view(GET)]
async fn may_edit(req: Request) -> manouche::Result<String> {
    Ok(manouche::auth::has_perm(&req, User::PERM_CHANGE).await?.to_string())
}

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[view(POST)]
async fn log_in(req: Request, form: Form<Credentials>) -> manouche::Result<String> {
    let user = manouche::auth::authenticate(&req, &form.username, &form.password).await?;
    let user = user.ok_or_else(|| manouche::http::Error::bad_request("wrong credentials"))?;
    manouche::auth::login(&req, &user).await?;
    Ok(user.username)
}

#[view(POST)]
async fn check(req: Request, form: Form<Credentials>) -> manouche::Result<String> {
    Ok(manouche::auth::authenticate(&req, &form.username, &form.password).await?.is_some().to_string())
}

fn client(test_db: &TestDatabase, middleware: &str) -> Client {
    let text = format!(
        "debug = true\nsecret_key = \"bench-secret\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [{middleware}]\n"
    );
    let settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).expect("settings");
    let app = App::new("bench").urls(urlpatterns![
        path("plain/", plain),
        path("whoami/", whoami),
        path("may-edit/", may_edit),
        path("check/", check),
        path("login/", log_in)
    ]);
    let project = Project::new(settings).app(manouche::sessions::app()).app(manouche::auth::app()).app(app);
    Client::new(test_db.migrated(project).expect("migrated")).expect("client")
}

fn auth(c: &mut Criterion) {
    let test_db = TestDatabase::sqlite("auth bench").expect("a SQLite database");
    let bare = client(&test_db, "\"manouche.sessions\"");
    let anonymous = client(&test_db, "\"manouche.sessions\", \"manouche.auth\"");
    let logged_in = client(&test_db, "\"manouche.sessions\", \"manouche.auth\"");
    let hasher = manouche::auth::hashers::Hasher::default();
    let user = User::new("ada", "ada@example.com", Some("analytical engine"), &hasher).expect("a user");
    logged_in.db().run_sync(|conn| user.save_sync(conn)).expect("saved");
    let credentials = [("username", "ada"), ("password", "analytical engine")];
    assert_eq!(logged_in.post("/login/").form(&credentials).send().text(), "ada");
    assert_eq!(logged_in.get("/whoami/").send().text(), "ada", "the session names the user");

    let mut group = c.benchmark_group("one request");
    group.bench_function("sessions, no auth middleware", |b| b.iter(|| bare.get("/plain/").send()));
    group.bench_function("auth middleware, anonymous", |b| b.iter(|| anonymous.get("/whoami/").send()));
    group.finish();

    logged_in_group(c, &logged_in);

    let mut hashing = c.benchmark_group("authenticate (1,200,000 PBKDF2 rounds)");
    hashing.sample_size(10).measurement_time(Duration::from_secs(8));
    hashing.bench_function("known username", |b| b.iter(|| logged_in.post("/check/").form(&credentials).send()));
    let unknown = [("username", "nobody"), ("password", "analytical engine")];
    hashing.bench_function("unknown username", |b| b.iter(|| logged_in.post("/check/").form(&unknown).send()));
    hashing.finish();
}

/// A logged-in user's pages: the session's user loaded (one query), and a permission check.
fn logged_in_group(c: &mut Criterion, client: &Client) {
    let mut group = c.benchmark_group("one request, logged in");
    group.bench_function("page reading the user", |b| b.iter(|| client.get("/whoami/").send()));
    group.bench_function("page checking a permission", |b| b.iter(|| client.get("/may-edit/").send()));
    group.finish();
}

criterion_group!(benches, auth);
criterion_main!(benches);
