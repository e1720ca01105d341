//! Serving in production: request limits, slow clients, proxies, HTTPS settings, the deployment
//! checklist and access logs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path as FsPath;
use std::time::{Duration, Instant};

use manouche::prelude::*;
use manouche::test::{Client, LiveServer};

#[view(POST, csrf_exempt)]
async fn echo_form(form: manouche::forms::FormData) -> String {
    format!("{} fields", form.pairs().count())
}

#[view(GET)]
async fn hello() -> &'static str {
    "hello"
}

fn settings(extra: &str) -> Settings {
    let debug = if extra.contains("debug = true") { "" } else { "debug = false\n" };
    let text = format!(
        "{debug}secret_key = \"production-tests-secret-key-0123456789abcdefghijkl\"\n\
         allowed_hosts = [\"testserver\", \"localhost\", \"127.0.0.1\", \"shop.example\"]\n{extra}"
    );
    Settings::from_toml_str(&text, FsPath::new("."), std::iter::empty()).expect("valid settings")
}

fn project(extra: &str) -> Project {
    Project::new(settings(extra)).app(
        App::new("prod")
            .urls(urlpatterns![manouche::urls::path("form/", echo_form), manouche::urls::path("hello/", hello),]),
    )
}

#[test]
fn a_body_over_the_limit_is_refused_with_413_before_it_is_read() {
    let client = Client::new(project("[server]\nmax_body_bytes = 1000\nmax_form_fields = 5")).unwrap();
    let small = client.post("/form/").body("a=1&b=2", "application/x-www-form-urlencoded").send();
    assert_eq!((small.status(), small.text()), (200, "2 fields".to_owned()));
    let big = "a=".to_owned() + &"x".repeat(2000);
    let refused = client.post("/form/").body(big.clone(), "application/x-www-form-urlencoded").send();
    assert_eq!(refused.status(), 413);
    assert!(refused.text().contains("The request is larger than this server accepts."), "{}", refused.text());
    // Any body, not only forms.
    assert_eq!(client.post("/form/").body(big, "application/json").send().status(), 413);
    // Django's DATA_UPLOAD_MAX_NUMBER_FIELDS.
    let many = client.post("/form/").body("a=1&b=2&c=3&d=4&e=5&f=6", "application/x-www-form-urlencoded").send();
    assert_eq!(many.status(), 400);
    // In debug the page says exactly what was refused.
    let debug = Client::new(project(
        "debug = true
[server]
max_body_bytes = 1000
max_form_fields = 5",
    ))
    .unwrap();
    let refused = debug.post("/form/").body("a=".to_owned() + &"x".repeat(2000), "text/plain").send();
    assert!(
        refused.text().contains("The request body is 2002 bytes; this server accepts 1000 at most."),
        "{}",
        refused.text()
    );
    let many = debug.post("/form/").body("a=1&b=2&c=3&d=4&e=5&f=6", "application/x-www-form-urlencoded").send();
    assert!(many.text().contains("The form sent 6 fields; 5 at most are accepted."), "{}", many.text());
    // The default is Django's 2.5 MB.
    assert_eq!(manouche::http::ServerSettings::default().max_body_bytes, 2_621_440);
}

#[test]
fn a_chunked_body_stops_being_read_at_the_limit() {
    let server = LiveServer::start(project("[server]\nmax_body_bytes = 1000")).unwrap();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let chunk = "a".repeat(600);
    write!(
        stream,
        "POST /form/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len(),
        chunk.len()
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
}

#[test]
fn a_slow_client_is_timed_out_while_others_are_served() {
    let server = LiveServer::start(project("[server]\nclient_request_timeout_ms = 300")).unwrap();
    // A client that sends half a request head and then nothing (slowloris).
    let mut slow = TcpStream::connect(server.addr()).unwrap();
    slow.write_all(b"GET /hello/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").unwrap();
    let started = Instant::now();
    // Meanwhile the server answers others.
    for _ in 0..5 {
        let (status, body) = crate::common::http_get(server.addr(), "/hello/").unwrap();
        assert_eq!(status, 200, "{body}");
    }
    // The slow one is answered 408 and closed, well before a worker would be freed otherwise.
    slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(20), "closed after {:?}", started.elapsed());
}
