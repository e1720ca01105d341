//! Rate limits (`#[ratelimit]`, the `manouche.ratelimit` middleware), the client address behind
//! trusted proxies only, a cache outage over HTTP, and two server processes sharing Redis: one
//! limit for both, and pages invalidated by `depends_on` on both. Windows are fixed (aligned to
//! the period), so these limits are hourly: a test does not straddle a window's end.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use crate::common::Server;
use std::time::Duration;

use manouche::prelude::*;
use manouche::test::Client;
use manouche::urls::path;

#[view(GET, POST)]
#[ratelimit(key = "ip", rate = "3/h", method = "POST")]
async fn three_posts() -> &'static str {
    "ok"
}

#[view(POST)]
#[ratelimit(key = "post:username", rate = "2/h")]
#[ratelimit(key = "header:X-Api-Key", rate = "5/h")]
async fn login_like(form: manouche::forms::FormData) -> String {
    format!("hello {}", form.get("username").unwrap_or_default())
}

fn tenant(req: &manouche::http::HttpRequest) -> Option<String> {
    // Requests without a tenant are not limited.
    req.headers().get("x-tenant").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[view(GET)]
#[ratelimit(key = tenant, rate = "1/h")]
async fn per_tenant() -> &'static str {
    "ok"
}

#[view(GET)]
#[ratelimit(key = "ip", rate = "2/h")]
async fn who() -> &'static str {
    "ok"
}

#[view(GET)]
#[cache_page(60)]
#[ratelimit(key = "ip", rate = "100/m")]
async fn cached_and_limited() -> String {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!("run {}", RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

fn app() -> App {
    App::new("limits").urls(urlpatterns![
        path("three/", three_posts),
        path("login/", login_like),
        path("tenant/", per_tenant),
        path("who/", who),
        path("cached/", cached_and_limited),
    ])
}

fn settings(extra: &str) -> Settings {
    let middleware = if extra.contains("middleware =") { "" } else { "middleware = []\n" };
    let toml = format!(
        "debug = true\nsecret_key = \"ratelimit-tests\"\nallowed_hosts = [\"testserver\", \"127.0.0.1\", \"localhost\"]\n{middleware}{extra}"
    );
    Settings::from_toml_str(&toml, std::env::temp_dir().as_path(), Vec::<(String, String)>::new()).expect("settings")
}

fn client(extra: &str) -> Client {
    Client::new(Project::new(settings(extra)).app(app())).expect("the project builds")
}

#[test]
fn a_view_limit_answers_429_with_retry_after_past_the_rate() {
    let client = client("");
    for _ in 0..3 {
        assert_eq!(client.post("/three/").send().status(), 200);
    }
    let refused = client.post("/three/").send();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
    assert!(refused.text().contains("Too many requests"));
    assert_eq!(client.get("/three/").send().status(), 200, "GET is not counted by a POST limit");
}

#[test]
fn limits_by_form_field_header_and_function_count_separately() {
    let client = client("");
    let login =
        |user: &str, key: &str| client.post("/login/").header("X-Api-Key", key).form(&[("username", user)]).send();
    assert_eq!(login("ada", "k1").text(), "hello ada", "the view still reads the form after the limit did");
    assert_eq!(login("ADA", "k1").status(), 200);
    assert_eq!(login("ada", "k1").status(), 429, "a username is one counter, whatever its case");
    assert_eq!(login("grace", "k1").status(), 200, "another username has its own");
    assert_eq!(login("linus", "k1").status(), 200);
    // Four requests passed the username limits so far; the header limit counts those.
    assert_eq!(login("ken", "k1").status(), 200);
    assert_eq!(login("guido", "k1").status(), 429, "the header limit: five an hour for key k1");
    assert_eq!(login("dennis", "k2").status(), 200);

    assert_eq!(client.get("/tenant/").header("X-Tenant", "a").send().status(), 200);
    assert_eq!(client.get("/tenant/").header("X-Tenant", "a").send().status(), 429);
    assert_eq!(client.get("/tenant/").header("X-Tenant", "b").send().status(), 200);
    assert_eq!(client.get("/tenant/").send().status(), 200, "no key: not limited");
    assert_eq!(client.get("/tenant/").send().status(), 200);
}

#[test]
fn the_site_middleware_limits_every_request() {
    let client = client("middleware = [\"manouche.ratelimit\"]\n[ratelimit]\nrate = \"3/h\"\n");
    for _ in 0..3 {
        assert_eq!(client.get("/tenant/").send().status(), 200);
    }
    assert_eq!(client.get("/three/").send().status(), 429, "any page counts toward the site's limit");
    let bad = Client::new(
        Project::new(settings("middleware = [\"manouche.ratelimit\"]\n[ratelimit]\nrate = \"3/x\"\n")).app(app()),
    );
    let error = bad.expect_err("a bad rate is refused").to_string();
    assert!(error.contains("ratelimit.rate") && error.contains("unknown period `x`"), "{error}");
}

#[test]
fn the_rate_notation_is_django_ratelimits() {
    use manouche::cache::Rate;
    assert_eq!(Rate::parse("5/m"), Ok(Rate { count: 5, period: 60 }));
    assert_eq!(Rate::parse("100/h"), Ok(Rate { count: 100, period: 3600 }));
    assert_eq!(Rate::parse("5/10m"), Ok(Rate { count: 5, period: 600 }));
    assert_eq!(Rate::parse("1/d"), Ok(Rate { count: 1, period: 86400 }));
    for bad in ["5", "x/m", "5/0s", "5/w"] {
        assert!(Rate::parse(bad).is_err(), "{bad}");
    }
}

fn raw_get(addr: SocketAddr, path: &str, headers: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("a timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n").expect("sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

#[test]
fn the_client_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy() {
    // Not trusted: a spoofed X-Forwarded-For changes nothing, the peer is counted.
    let server = manouche::test::LiveServer::start(Project::new(settings("")).app(app())).expect("starts");
    assert_eq!(raw_get(server.addr(), "/who/", "X-Forwarded-For: 10.0.0.1\r\n").0, 200);
    assert_eq!(raw_get(server.addr(), "/who/", "X-Forwarded-For: 10.0.0.2\r\n").0, 200);
    assert_eq!(
        raw_get(server.addr(), "/who/", "X-Forwarded-For: 10.0.0.3\r\n").0,
        429,
        "one client, whatever it claims"
    );
    drop(server);
    // Behind a trusted proxy (loopback here), each forwarded client has its own counter; a
    // client cannot prepend addresses to escape it (the last untrusted one counts).
    let trusted = settings("[proxy]\ntrusted_proxies = [\"127.0.0.1\"]\n");
    let server = manouche::test::LiveServer::start(Project::new(trusted).app(app())).expect("starts");
    for client in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] {
        assert_eq!(raw_get(server.addr(), "/who/", &format!("X-Forwarded-For: {client}\r\n")).0, 200, "{client}");
    }
    assert_eq!(raw_get(server.addr(), "/who/", "X-Forwarded-For: 10.0.0.1\r\n").0, 200);
    let spoofed = "X-Forwarded-For: 192.0.2.9, 10.0.0.1\r\n";
    assert_eq!(raw_get(server.addr(), "/who/", spoofed).0, 429, "10.0.0.1 is still counted");
    let bad = Client::new(Project::new(settings("[proxy]\ntrusted_proxies = [\"nginx\"]\n")).app(app()));
    assert!(bad.expect_err("not an address").to_string().contains("proxy.trusted_proxies"));
}

#[test]
fn a_cache_that_is_down_serves_pages_and_lets_requests_through() {
    let dead = format!("redis://127.0.0.1:{}/0", crate::common::free_port());
    let client =
        client(&format!("[caches.default]\nbackend = \"redis\"\nlocation = \"{dead}\"\nsocket_timeout_ms = 200\n"));
    let first = client.get("/cached/").send();
    assert_eq!(first.status(), 200, "a page cache that is down is a miss, not a 500");
    let second = client.get("/cached/").send();
    assert_eq!(second.status(), 200);
    assert_ne!(second.text(), first.text(), "computed each time");
    for _ in 0..5 {
        assert_eq!(client.post("/three/").send().status(), 200, "limits fail open while the cache is down");
    }
}

// ---- two processes sharing Redis ------------------------------------------------------------

fn start(binary: &std::path::Path, settings: &std::path::Path) -> Server {
    let addr: SocketAddr = format!("127.0.0.1:{}", crate::common::free_port()).parse().expect("an address");
    let mut child = Command::new(binary)
        .args(["runserver", &addr.to_string()])
        .env("MANOUCHE_SETTINGS", settings)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    assert!(crate::common::wait_for_server(addr, &mut child), "the server listens");
    Server { child, addr }
}

fn post(addr: SocketAddr, path: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("a timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn page(addr: SocketAddr, path: &str) -> String {
    let (status, response) = raw_get(addr, path, "");
    assert_eq!(status, 200, "{response}");
    response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

#[test]
fn two_processes_sharing_redis_share_limits_and_invalidations() {
    let Ok(redis) = std::env::var("MANOUCHE_TEST_REDIS_URL") else {
        eprintln!(
            "notice: MANOUCHE_TEST_REDIS_URL is not set; the two-process cache test is skipped (.ci/run sets it)"
        );
        return;
    };
    let binary = crate::common::workspace_binary("manouche-tests", "fixture_server");
    let dir = std::env::temp_dir().join(format!("manouche-two-servers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let database = dir.join("db.sqlite3");
    let _ = std::fs::remove_file(&database);
    let settings = dir.join("fixture.toml");
    std::fs::write(
        &settings,
        format!(
            "debug = false\nsecret_key = \"two-servers-test-secret-key-that-is-long-enough\"\nallowed_hosts = [\"127.0.0.1\"]\nmiddleware = []\ndatabase_url = \"sqlite://{}\"\n[caches.default]\nbackend = \"redis\"\nlocation = \"{redis}\"\nkey_prefix = \"two{}\"\n",
            database.display(),
            std::process::id()
        ),
    )
    .expect("the settings file");
    let db = manouche::db::Database::connect(
        &manouche::conf::DatabaseUrl::Sqlite(database.clone()),
        manouche::db::PoolOptions::default().create_missing(true),
    );
    db.run_sync(|conn| {
        manouche::db::RawQuery::<()>::new(
            "CREATE TABLE fixture_note (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)",
        )
        .execute_sync(conn)
    })
    .expect("the table");

    let a = start(&binary, &settings);
    let b = start(&binary, &settings);

    // One limit of four POSTs an hour for both servers.
    let statuses: Vec<u16> =
        [a.addr, b.addr, a.addr, b.addr, a.addr, b.addr].iter().map(|addr| post(*addr, "/limited/", "")).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "the counter lives in Redis");

    // The page A computes is the one B serves; a note added through A drops it on both.
    let first = page(a.addr, "/notes/");
    assert!(first.starts_with("0 notes"), "{first}");
    assert_eq!(page(b.addr, "/notes/"), first, "B serves the page A stored");
    assert_eq!(post(a.addr, "/notes/add/", "text=hello"), 200);
    let on_b = page(b.addr, "/notes/");
    assert!(on_b.starts_with("1 notes: hello"), "B sees the change at once: {on_b}");
    assert_eq!(page(a.addr, "/notes/"), on_b, "and A serves B's new page");
    drop((a, b));
    let _ = std::fs::remove_dir_all(&dir);
}
