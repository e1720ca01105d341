//! Middleware order and short-circuiting, built-ins, host validation and the panic guard.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use manouche::http::header::{HeaderName, HeaderValue};
use manouche::middleware::{Middleware, Next, from_fn};
use manouche::prelude::*;
use manouche::test::{Client, LiveServer};
use manouche::urls::path;

use crate::common;

/// Appends `name` to the `x-trace` header on the way out, and to the request on the way in.
fn tracer(name: &'static str) -> Arc<dyn Middleware> {
    from_fn(move |req, next: Next<'_>| {
        Box::pin(async move {
            let seen_in = req.headers().get("x-trace-in").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let mut req = req;
            let inbound = format!("{seen_in}{name}>");
            req.headers_mut().insert(HeaderName::from_static("x-trace-in"), HeaderValue::from_str(&inbound).unwrap());
            let mut response = next.run(req).await;
            let out = response.headers().get("x-trace").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-trace"), HeaderValue::from_str(&format!("{out}<{name}")).unwrap());
            response
        })
    })
}

#[view(GET)]
async fn traced(req: Request) -> String {
    req.headers().get("x-trace-in").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

static VIEW_CALLS: AtomicUsize = AtomicUsize::new(0);

#[view(GET)]
async fn counted() -> &'static str {
    VIEW_CALLS.fetch_add(1, Ordering::SeqCst);
    "view ran"
}

fn traced_project(middleware: &[&str]) -> Project {
    let mut settings = Settings::for_tests();
    settings.middleware = middleware.iter().map(|m| (*m).to_owned()).collect();
    let app = App::new("mw")
        .urls(urlpatterns![path("traced/", traced), path("counted/", counted)])
        .middleware("mw.outer", |_| Ok(tracer("outer")))
        .middleware("mw.inner", |_| Ok(tracer("inner")))
        .middleware("mw.gate", |_| {
            Ok(from_fn(|req, next: Next<'_>| {
                Box::pin(async move {
                    if req.headers().contains_key("x-blocked") {
                        return req.into_response(HttpResponse::Forbidden().body("blocked by gate"));
                    }
                    next.run(req).await
                })
            }))
        });
    Project::new(settings).app(app)
}

#[test]
fn middleware_runs_in_settings_order_around_the_view() {
    let client = Client::new(traced_project(&["mw.outer", "mw.inner"])).unwrap();
    let response = client.get("/traced/").send();
    assert_eq!(response.text(), "outer>inner>", "requests go outermost first");
    assert_eq!(response.header("x-trace"), Some("<inner<outer"), "responses come back innermost first");

    let reversed = Client::new(traced_project(&["mw.inner", "mw.outer"])).unwrap();
    assert_eq!(reversed.get("/traced/").send().text(), "inner>outer>");
}

#[test]
fn middleware_can_short_circuit() {
    let client = Client::new(traced_project(&["mw.outer", "mw.gate", "mw.inner"])).unwrap();
    let before = VIEW_CALLS.load(Ordering::SeqCst);
    let blocked = client.get("/counted/").header("x-blocked", "1").send();
    assert_eq!(blocked.status(), 403);
    assert_eq!(blocked.text(), "blocked by gate");
    assert_eq!(blocked.header("x-trace"), Some("<outer"), "outer middleware still sees the response; inner never ran");
    assert_eq!(VIEW_CALLS.load(Ordering::SeqCst), before, "the view did not run");
    assert_eq!(client.get("/counted/").send().text(), "view ran");
}

#[test]
fn unknown_middleware_is_a_configuration_error() {
    let error = Client::new(traced_project(&["mw.outer", "mw.typo"])).unwrap_err().to_string();
    assert!(error.contains("unknown middleware `mw.typo`"), "{error}");
    assert!(error.contains("manouche.security"), "lists the known ones: {error}");
}

#[test]
fn security_headers_are_added() {
    let client = common::client(false);
    let response = client.get("/products/1/").send();
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("referrer-policy"), Some("same-origin"));
    assert_eq!(response.header("cross-origin-opener-policy"), Some("same-origin"));
}

#[test]
fn unknown_hosts_are_rejected_with_400() {
    let mut settings = common::settings(false);
    settings.allowed_hosts = vec!["shop.example".into()];
    let client = Client::new(Project::new(settings).app(common::catalog())).unwrap();
    // The test client adds `testserver`; any other host is refused on the raw Host header.
    assert_eq!(client.get("/products/1/").send().status(), 200);
    let evil = client.get("/products/1/").header("host", "evil.example").send();
    assert_eq!(evil.status(), 400);
    let forwarded = client.get("/products/1/").header("x-forwarded-host", "shop.example").send();
    assert_eq!(forwarded.status(), 200, "X-Forwarded-Host is not trusted and changes nothing");
}

#[test]
fn poisoned_host_headers_are_rejected_as_django_does() {
    let mut settings = common::settings(false);
    settings.allowed_hosts = vec!["localhost".into(), ".shop.example".into(), "[::1]".into()];
    let client = Client::new(Project::new(settings).app(common::catalog())).unwrap();
    for good in [
        "localhost",
        "localhost:8000",
        "LOCALHOST",
        "localhost.",
        "www.shop.example:443",
        "shop.example",
        "[::1]",
        "[::1]:80",
    ] {
        assert_eq!(client.get("/products/1/").header("host", good).send().status(), 200, "{good}");
    }
    // Django's host validation tests: each is a 400, never a page built with a poisoned host.
    for bad in [
        "localhost:dr.frankenstein@evil.tld",
        "localhost:80/badpath",
        "localhost: recovermypassword.com",
        "[::1]evil",
        "[::1]:evil.tld",
        "localhost..",
        "localhost:abc",
        "localhost:",
        "x.shop.example:dr@evil.tld",
        "other.com:dr.frankenstein@evil.tld",
        "evil.tld\\.shop.example",
        "",
    ] {
        let response = client.get("/products/1/").header("host", bad).send();
        assert_eq!(response.status(), 400, "Host: {bad:?} got {}", response.status());
    }
}

#[test]
fn an_absolute_form_target_is_checked_against_allowed_hosts() {
    use std::io::{Read, Write};
    let server = LiveServer::start(common::project(false)).unwrap();
    let ask = |target: &str| {
        let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let evil = ask("http://evil.example/products/1/");
    assert!(evil.starts_with("HTTP/1.1 400"), "the target's host is the request's host: {evil}");
    let good = ask("http://localhost/products/1/");
    assert!(good.starts_with("HTTP/1.1 200"), "{good}");
}

#[test]
fn a_panicking_view_is_a_500_and_the_client_goes_on() {
    let client = common::client(true);
    let response = client.get("/boom/").send();
    assert_eq!(response.status(), 500);
    assert!(response.text().contains("the teapot exploded"), "debug shows the panic message");
    assert_eq!(response.header("x-frame-options"), Some("DENY"), "middleware still processes the 500");
    assert_eq!(client.get("/products/1/").send().text(), "product 1");
}

#[test]
fn a_panicking_view_does_not_take_down_a_real_server() {
    let server = LiveServer::start(common::project(false)).unwrap();
    for _ in 0..3 {
        let (status, body) = common::http_get(server.addr(), "/boom/").unwrap();
        assert_eq!(status, 500, "{body}");
        assert!(!body.contains("teapot"), "no details without debug");
        let (status, body) = common::http_get(server.addr(), "/products/9/").unwrap();
        assert_eq!(status, 200);
        assert!(body.ends_with("product 9"));
    }
}

#[test]
fn a_panicking_middleware_is_a_500_too() {
    let mut settings = Settings::for_tests();
    settings.middleware = vec!["mw.explode".into()];
    let app = App::new("mw").urls(urlpatterns![path("traced/", traced)]).middleware("mw.explode", |_| {
        Ok(from_fn(|req, next: Next<'_>| {
            Box::pin(async move {
                if req.path() == "/traced/" {
                    panic!("middleware bug");
                }
                next.run(req).await
            })
        }))
    });
    let client = Client::new(Project::new(settings).app(app)).unwrap();
    let response = client.get("/traced/").send();
    assert_eq!(response.status(), 500);
    assert!(response.text().contains("middleware bug"), "{}", response.text());
    assert_eq!(client.get("/nowhere/").send().status(), 404, "the client keeps working");
}
