//! Real `runserver` processes: shutdown on signals, a database deleted or restarted under a
//! running server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

use crate::common::Server;

impl Server {
    fn start(binary: &Path, env: &[(&str, &str)]) -> Server {
        let addr: SocketAddr = format!("127.0.0.1:{}", common::free_port()).parse().unwrap();
        let mut child = Command::new(binary)
            .arg("runserver")
            .arg(addr.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        assert!(common::wait_for_server(addr, &mut child), "the server did not come up");
        Server { child, addr }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args([format!("-{name}"), self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Waits up to a minute for the process to end and returns its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(128 + 9));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn get(&self, path: &str) -> (u16, String) {
        common::http_get(self.addr, path).unwrap_or((0, String::new()))
    }
}

fn scratch(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "manouche-server-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Polls until `condition` holds (a minute at most).
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a request to the fixture's `/hold/` view in a thread; returns once the view has it.
fn held_request(server: &Server, dir: &Path) -> (std::thread::JoinHandle<String>, PathBuf) {
    let (started, release) = (dir.join("started"), dir.join("release"));
    let target = format!("/hold/?started={}&release={}", started.display(), release.display());
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let request = std::thread::spawn(move || {
        write!(stream, "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    });
    wait_until("the view to receive the request", || started.exists());
    (request, release)
}

#[test]
fn sigint_drains_requests_in_flight_like_sigterm() {
    let binary = common::workspace_binary("manouche-tests", "fixture_server");
    for signal in ["INT", "TERM"] {
        let dir = scratch("drain");
        let mut server = Server::start(&binary, &[]);
        let (request, release) = held_request(&server, &dir);
        server.signal(signal);
        // The listener closes while the request in flight is still served.
        wait_until("the listener to close", || TcpStream::connect(server.addr).is_err());
        std::fs::write(&release, b"").unwrap();
        let response = request.join().unwrap();
        assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("released"), "SIG{signal}: {response:?}");
        assert_eq!(server.wait_exit(), Some(0), "SIG{signal}: a drained server exits cleanly");
    }
}

#[test]
fn a_second_sigint_stops_at_once() {
    let binary = common::workspace_binary("manouche-tests", "fixture_server");
    let dir = scratch("force");
    let mut server = Server::start(&binary, &[]);
    let (request, _release) = held_request(&server, &dir);
    server.signal("INT");
    wait_until("the listener to close", || TcpStream::connect(server.addr).is_err());
    server.signal("INT");
    assert_eq!(server.wait_exit(), Some(130), "forced by the second CONTROL-C");
    assert_eq!(request.join().unwrap(), "", "the held request was dropped");
}

/// The shop binary with its database prepared by its own `migrate` and `seed` commands.
fn prepared_shop(env: &[(&str, &str)]) -> PathBuf {
    let binary = common::workspace_binary("example_shop", "example_shop");
    for step in ["migrate", "seed"] {
        let out = Command::new(&binary).arg(step).envs(env.iter().copied()).output().unwrap();
        assert!(out.status.success(), "{step}: {}", String::from_utf8_lossy(&out.stderr));
    }
    binary
}

#[test]
fn a_deleted_sqlite_database_is_reported_not_recreated() {
    let dir = scratch("deleted");
    let file = dir.join("shop.sqlite3");
    let url = format!("sqlite://{}", file.display());
    let env = [("DATABASE_URL", url.as_str()), ("MANOUCHE_DEBUG", "false")];
    let binary = prepared_shop(&env);
    let server = Server::start(&binary, &env);
    assert_eq!(server.get("/products/").0, 200);
    assert_eq!(server.get("/healthz").0, 200);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let (status, health) = server.get("/healthz");
    assert_eq!(status, 503, "{health}");
    assert!(health.contains(r#"{"status":"unavailable"}"#) && !health.contains("sqlite3"), "no details: {health}");
    for path in ["/products/", "/api/products/", "/products/sencha-kyoto/"] {
        let (status, body) = server.get(path);
        assert!(status == 200 || status == 503, "{path}: {status} {body}");
    }
    assert!(!file.exists(), "the server never creates the database file");
    let out = Command::new(&binary).arg("migrate").envs(env.iter().copied()).output().unwrap();
    assert!(out.status.success(), "migrate creates it: {}", String::from_utf8_lossy(&out.stderr));
    assert!(file.exists());
}

#[test]
fn terminated_postgres_connections_are_replaced() {
    let Some(admin) = crate::db::postgres_admin() else { return };
    let database = crate::db::fresh_postgres_database(&admin, "shop_restart");
    let url = database.url.clone();
    let env = [("DATABASE_URL", url.as_str()), ("MANOUCHE_DEBUG", "false"), ("MANOUCHE_DATABASE_POOL_SIZE", "4")];
    let binary = prepared_shop(&env);
    let server = Server::start(&binary, &env);
    let paths = ["/products/", "/products/sencha-kyoto/", "/api/products/", "/api/products/1/"];
    // Fill the pool: concurrent requests make the server open every connection it may.
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                for path in paths {
                    assert_eq!(server.get(path).0, 200, "{path}");
                }
            });
        }
    });
    let killed = database.terminate_backends();
    assert!(killed >= 1, "the server held connections");
    let mut failures = 0;
    for round in 0..5 {
        for path in paths {
            let (status, body) = server.get(path);
            match status {
                200 => {}
                503 if round == 0 => {
                    assert!(body.contains("Retry-After") || body.contains("retry-after"), "{body}");
                    failures += 1;
                }
                _ => panic!("round {round} {path}: {status} {body}"),
            }
        }
    }
    assert!(failures <= 4, "at most one failure per pooled connection, got {failures}");
}
