//! What CSRF protection costs a request: a page without the middleware, the same page with it
//! (a token-less GET), a page whose form gets a masked token, and a POST whose form token is
//! read from the body and checked, through the in-process test client.
//! `cargo bench -p manouche-bench --bench csrf`; the README reports it.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use manouche::prelude::*;
use manouche::test::Client;
use manouche::urls::path;

#[view(GET)]
async fn plain() -> &'static str {
    "0"
}

#[derive(Template)]
#[template(source = r#"<form method="post">{{ ctx.csrf_input() }}</form>"#, ext = "html")]
struct FormPage {
    ctx: RequestContext,
}

#[view(GET)]
async fn form(req: Request) -> manouche::Result<HttpResponse> {
    render(&FormPage { ctx: req.context() })
}

#[view(POST)]
async fn submit() -> &'static str {
    "ok"
}

fn client(middleware: &str) -> Client {
    let text = format!(
        "debug = true\nsecret_key = \"bench-secret\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [{middleware}]\n"
    );
    let settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).expect("settings");
    let app = App::new("bench").urls(urlpatterns![path("plain/", plain), path("form/", form), path("submit/", submit)]);
    Client::new(Project::new(settings).app(app)).expect("client").enforce_csrf_checks()
}

fn csrf(c: &mut Criterion) {
    let bare = client("");
    let protected = client("\"manouche.csrf\"");
    let page = protected.get("/form/").send().text();
    let start = page.find("value=\"").expect("a token") + 7;
    let token = page[start..start + 64].to_owned();
    let form = [("csrfmiddlewaretoken", token.as_str()), ("note", "a short note")];
    assert_eq!(protected.post("/submit/").form(&form).send().status(), 200, "the token is accepted");
    let mut group = c.benchmark_group("one request");
    group.bench_function("no CSRF middleware", |bench| bench.iter(|| bare.get("/plain/").send()));
    group
        .bench_function("CSRF middleware, GET without a token", |bench| bench.iter(|| protected.get("/plain/").send()));
    group.bench_function("page with a form (token masked)", |bench| bench.iter(|| protected.get("/form/").send()));
    group.bench_function("POST with its form token checked", |bench| {
        bench.iter(|| protected.post("/submit/").form(&form).send());
    });
    group
        .bench_function("POST without the middleware", |bench| bench.iter(|| bare.post("/submit/").form(&form).send()));
    group.finish();
}

criterion_group!(benches, csrf);
criterion_main!(benches);
