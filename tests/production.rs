//! Serving in production: request limits, slow clients, proxies, HTTPS settings, the deployment
//! checklist and access logs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path as FsPath;
use std::time::{Duration, Instant};

use manouche::prelude::*;
use manouche::test::{Client, LiveServer};

use crate::common::Browser;

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

fn shop_check(file: &str, env: &[(&str, &str)]) -> manouche::management::CommandOutput {
    let path = format!("{}/../example_shop/{file}", env!("CARGO_MANIFEST_DIR"));
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let settings = Settings::load_with_env(&path, env).expect("the shop's settings load");
    example_shop::configure(Project::new(settings)).call_command(["check", "--deploy"])
}

#[test]
fn check_deploy_fails_on_the_shops_development_settings_and_passes_on_its_production_example() {
    let development = shop_check("manouche.toml", &[]);
    assert!(!development.success(), "{}", development.stdout);
    for problem in [
        "`debug` is true",
        "`secret_key` is a development key",
        "`security.hsts_seconds` is 0",
        "`security.ssl_redirect` is false",
        "`sessions.cookie_secure` is false",
        "`csrf.cookie_secure` is false",
    ] {
        assert!(
            development.stderr.contains(problem) || development.stdout.contains(problem),
            "{problem}: {}{}",
            development.stdout,
            development.stderr
        );
    }
    let key = "k3y-0f-the-production-shop-9f8e7d6c5b4a3928171605f4e3d2c1b0a99887766";
    let production = shop_check("manouche.production.toml", &[("SECRET_KEY", key)]);
    assert!(production.success(), "{}{}", production.stdout, production.stderr);
    // No deployment warning either (an unapplied migration of the machine's database may show).
    assert!(
        production.stdout.contains("(0 errors)") || production.stdout.contains("no issues"),
        "{}",
        production.stdout
    );
    for checked in ["debug", "secret_key", "hsts", "ssl_redirect", "cookie_secure", "middleware", "proxy"] {
        assert!(!production.stdout.contains(checked), "{checked}: {}", production.stdout);
    }
    // Without the key from the environment it fails, naming it.
    let keyless = shop_check("manouche.production.toml", &[]);
    assert!(!keyless.success());
    assert!(keyless.stderr.contains("`secret_key` is not set"), "{}", keyless.stderr);
}

#[test]
fn https_is_enforced_and_forwarded_headers_are_believed_from_trusted_proxies_only() {
    let secure = "[security]\nssl_redirect = true\nhsts_seconds = 3600\nhsts_include_subdomains = true\nredirect_exempt = [\"/form/\"]\n";
    let middleware = "middleware = [\"manouche.security\"]\n";
    // Without a trusted proxy, X-Forwarded-Proto changes nothing: still redirected.
    let direct = LiveServer::start(project(&format!(
        "{middleware}[proxy]\nsecure_proxy_ssl_header = [\"X-Forwarded-Proto\", \"https\"]\n{secure}"
    )))
    .unwrap();
    let raw = |server: &LiveServer, headers: &[(&str, &str)], path: &str| {
        Browser::new(server.addr()).send("GET", path, headers, None)
    };
    let spoofed = raw(&direct, &[("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")], "/hello/?a=1");
    assert_eq!(spoofed.status, 301, "{spoofed:?}");
    assert_eq!(spoofed.header("location"), Some("https://localhost/hello/?a=1"));
    assert!(spoofed.header("strict-transport-security").is_none(), "{spoofed:?}");
    // An exempt path is served over HTTP.
    let exempt = raw(&direct, &[], "/form/");
    assert_ne!(exempt.status, 301, "{exempt:?}");
    drop(direct);

    // Behind a trusted proxy (here: loopback), its X-Forwarded-Proto and X-Forwarded-Host count.
    let proxied = LiveServer::start(project(&format!(
        "{middleware}[proxy]\ntrusted_proxies = [\"127.0.0.1\"]\nsecure_proxy_ssl_header = [\"X-Forwarded-Proto\", \"https\"]\nuse_x_forwarded_host = true\n{secure}"
    )))
    .unwrap();
    let over_https = raw(&proxied, &[("X-Forwarded-Proto", "https")], "/hello/");
    assert_eq!(over_https.status, 200, "{over_https:?}");
    assert_eq!(over_https.header("strict-transport-security"), Some("max-age=3600; includeSubDomains"));
    let plain = raw(&proxied, &[("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "shop.example")], "/hello/");
    assert_eq!(plain.header("location"), Some("https://shop.example/hello/"), "the forwarded host: {plain:?}");
    // The forwarded host is still checked against allowed_hosts.
    let evil = raw(&proxied, &[("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")], "/hello/");
    assert_eq!(evil.status, 400, "{evil:?}");
}

#[test]
fn forwarded_for_is_ignored_without_a_trusted_proxy_and_honoured_with_one() {
    #[view(GET)]
    async fn whoami(req: Request) -> String {
        manouche::http::client_ip(req.as_http())
    }
    let serve = |proxy: &str| {
        let settings = settings(proxy);
        LiveServer::start(
            Project::new(settings).app(App::new("who").urls(urlpatterns![manouche::urls::path("whoami/", whoami)])),
        )
        .unwrap()
    };
    let ask = |server: &LiveServer| {
        Browser::new(server.addr()).send("GET", "/whoami/", &[("X-Forwarded-For", "203.0.113.9")], None).body
    };
    assert_eq!(ask(&serve("")), "127.0.0.1", "a spoofed X-Forwarded-For from a direct client");
    assert_eq!(ask(&serve("[proxy]\ntrusted_proxies = [\"127.0.0.1\"]")), "203.0.113.9", "from the trusted proxy");
}

#[test]
fn the_access_log_has_a_line_per_request_with_its_id() {
    let dir = std::env::temp_dir().join(format!("manouche-access-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("fixture.toml"),
        "debug = false\nsecret_key = \"access-log-secret-key-0123456789abcdefghijklmnop\"\n\
         allowed_hosts = [\"localhost\"]\nmiddleware = [\"manouche.logging\"]\nlog_level = \"info\"\n\
         [proxy]\ntrusted_proxies = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let log = dir.join("server.log");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", crate::common::free_port()).parse().unwrap();
    let mut child = std::process::Command::new(crate::common::workspace_binary("manouche-tests", "fixture_server"))
        .args(["runserver", &addr.to_string()])
        .current_dir(&dir)
        .env("MANOUCHE_SETTINGS", "fixture.toml")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    assert!(crate::common::wait_for_server(addr, &mut child), "the server did not come up");
    let get = |headers: &[(&str, &str)]| Browser::new(addr).send("GET", "/ping/?q=1", headers, None);
    let passed = get(&[("X-Request-Id", "nginx-7f3a"), ("X-Forwarded-For", "203.0.113.9")]);
    assert_eq!(passed.header("x-request-id"), Some("nginx-7f3a"), "{passed:?}");
    let made = get(&[]);
    let id = made.header("x-request-id").expect("an id is made when none is sent").to_owned();
    let lines = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(lines().contains("request_id=nginx-7f3a") && lines().contains(&format!("request_id={id}"))) {
        assert!(Instant::now() < deadline, "no access log lines: {}", lines());
        std::thread::sleep(Duration::from_millis(20));
    }
    let line = lines().lines().find(|l| l.contains("request_id=nginx-7f3a")).unwrap().to_owned();
    for part in ["method=GET", "path=\"/ping/?q=1\"", "status=200", "bytes=4", "client=203.0.113.9", "duration_ms="] {
        assert!(line.contains(part), "{part} in {line}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_oversized_request_head_is_refused() {
    let server = LiveServer::start(project("[server]\nmax_header_bytes = 8192")).unwrap();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let big = "x".repeat(9000);
    let _ = write!(stream, "GET /hello/ HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 431"), "{}", &response[..response.len().min(200)]);
    assert!(
        response.contains("The request&#39;s headers are larger than this server accepts.")
            || response.contains("headers are larger"),
        "{response}"
    );
    // The server still answers others.
    assert_eq!(crate::common::http_get(server.addr(), "/hello/").unwrap().0, 200);
}
