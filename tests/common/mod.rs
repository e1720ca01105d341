//! Shared fixtures: a small project exercising every routing feature, and raw HTTP on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use manouche::prelude::*;
use manouche::urls::{include, path, re_path};

#[view(GET, name = "product_detail")]
pub async fn product_detail(id: Path<i64>) -> String {
    format!("product {id}")
}

#[view(GET)]
pub async fn by_slug(slug: Path<String>) -> String {
    format!("slug {slug}")
}

#[view(GET)]
pub async fn by_uuid(key: Path<String>) -> String {
    format!("uuid {key}")
}

#[view(GET)]
pub async fn files(rest: Path<String>) -> String {
    format!("file {rest}")
}

#[view(GET, name = "archive")]
pub async fn archive(#[params(year, month)] date: Path<(u16, u8)>) -> String {
    let (year, month) = date.into_inner();
    format!("archive {year}-{month:02}")
}

#[view(GET, POST)]
pub async fn echo(req: Request, body: String) -> String {
    format!("{} {}", req.method(), body)
}

#[view(GET)]
pub async fn api_item(id: Path<i64>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "id": *id }))
}

#[view(GET)]
pub async fn boom() -> String {
    panic!("the teapot exploded")
}

#[view(GET)]
pub async fn explode(tag: Path<String>) -> String {
    panic!("exploded {tag}")
}

#[view(GET)]
pub async fn fails() -> manouche::Result<String> {
    Err(manouche::Error::other("database on fire"))
}

#[view(GET)]
pub async fn forbidden() -> manouche::Result<String> {
    Err(manouche::http::Error::permission_denied("staff only").into())
}

/// The fixture app `catalog`, mounted at `/`.
pub fn catalog() -> App {
    App::new("catalog").urls(urlpatterns![
        path("products/{id:int}/", product_detail),
        path("by-slug/{slug:slug}/", by_slug),
        path("by-uuid/{key:uuid}/", by_uuid),
        path("files/{rest:path}", files),
        re_path(r"^archive/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/$", archive),
        path("echo/", echo),
        path("boom/", boom),
        path("explode/{tag}/", explode),
        path("fails/", fails),
        path("forbidden/", forbidden),
        include("api/v1/", urlpatterns![path("items/{id:int}/", api_item).name("item")]).namespace("api"),
    ])
}

/// Test settings with `debug` as given.
pub fn settings(debug: bool) -> Settings {
    let mut settings = Settings::for_tests();
    settings.debug = debug;
    settings
}

pub fn project(debug: bool) -> Project {
    Project::new(settings(debug)).app(catalog())
}

pub fn client(debug: bool) -> manouche::test::Client {
    manouche::test::Client::new(project(debug)).expect("the fixture project builds")
}

/// Sends a raw HTTP/1.1 request and returns the status line and the whole response.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, response))
}

/// The workspace's target folder, found from this test binary's path (target/debug/deps/...).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.ancestors().nth(3).expect("target/debug/deps/<binary>").to_path_buf()
}

/// Builds a binary of the workspace (a no-op when it is up to date) and returns its path.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {bin} failed");
    target_dir().join("debug").join(bin)
}

/// A free port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// What a `runserver` process printed and answered.
pub struct Served {
    pub addr: SocketAddr,
    pub stdout: String,
    /// `(status, raw response)` for each path asked, in order.
    pub responses: Vec<(u16, String)>,
}

/// Runs `binary runserver <free port> [extra...]`, GETs each path, stops the process.
pub fn runserver_and_get(binary: &std::path::Path, extra: &[&str], paths: &[&str], env: &[(&str, &str)]) -> Served {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("a loopback address");
    let mut child = Command::new(binary)
        .arg("runserver")
        .arg(addr.to_string())
        .args(extra)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let up = wait_for_server(addr, &mut child);
    let responses: Vec<(u16, String)> =
        if up { paths.iter().map(|p| http_get(addr, p).expect("the server answers")).collect() } else { Vec::new() };
    let _ = child.kill();
    let output = child.wait_with_output().expect("the process ends");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(up, "runserver did not start: {stdout}");
    Served { addr, stdout, responses }
}

/// Polls until a server answers on `addr` or the deadline passes.
pub fn wait_for_server(addr: SocketAddr, child: &mut std::process::Child) -> bool {
    for _ in 0..200 {
        if TcpStream::connect(addr).is_ok() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A database of a test and the guard that removes it afterwards.
pub struct TestDb {
    pub db: manouche::db::Database,
    _guard: manouche::test::TestDatabase,
}

impl std::ops::Deref for TestDb {
    type Target = manouche::db::Database;
    fn deref(&self) -> &manouche::db::Database {
        &self.db
    }
}

/// A fresh SQLite database and, when `MANOUCHE_TEST_POSTGRES_URL` is set (as `.ci/run` does), a
/// fresh PostgreSQL one, each this test's own (`manouche::test::TestDatabase`); without the
/// variable a notice says `what` is tested on SQLite only.
pub fn test_databases(what: &str) -> Vec<TestDb> {
    manouche::test::TestDatabase::all(what)
        .into_iter()
        .map(|guard| TestDb { db: guard.connect(), _guard: guard })
        .collect()
}

/// Drops the models' tables and creates them again, targets of foreign keys first.
pub fn recreate_tables(db: &manouche::db::Database, models: &[&'static manouche::db::ModelMeta]) {
    use diesel::connection::SimpleConnection;
    use manouche::migrations as schema;
    let ordered = schema::creation_order(models.to_vec());
    let backend = db.backend();
    db.run_sync(move |conn| {
        for meta in ordered.iter().rev() {
            conn.batch_execute(&format!("DROP TABLE IF EXISTS \"{}\"", meta.table))?;
        }
        for meta in &ordered {
            for sql in schema::create_table(meta, backend).unwrap() {
                conn.batch_execute(&sql)?;
            }
        }
        Ok(())
    })
    .unwrap();
}

/// `manouche startproject NAME` in `base` and `startapp APP` in it, with `main.rs` edited as
/// `startapp` says, and the workspace's lock file (same dependency versions, so sharing the
/// workspace's target folder only compiles the new project). Returns the project folder.
pub fn scaffold_project(base: &std::path::Path, name: &str, app: &str) -> PathBuf {
    let manouche = workspace_binary("manouche", "manouche");
    let dir = base.join(name);
    let out = Command::new(&manouche).args(["startproject", name]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&manouche).args(["startapp", app, "--project"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(&format!("add `mod {app};`")), "{printed}");
    let main = dir.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    let source = source.replacen("mod pages;", &format!("mod {app};\nmod pages;"), 1).replacen(
        ".execute()",
        &format!(".app({app}::app())\n        .execute()"),
        1,
    );
    std::fs::write(&main, source).unwrap();
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

/// A response read by [`Browser`].
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A minimal browser over raw HTTP/1.1 on loopback: keeps cookies, sends forms, follows nothing.
#[derive(Debug)]
pub struct Browser {
    pub addr: SocketAddr,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Self {
        Browser { addr, cookies: std::collections::BTreeMap::new() }
    }

    pub fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, &[], None)
    }

    /// POSTs a URL-encoded form, with extra headers (e.g. `Origin`).
    pub fn post_form(&mut self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body = manouche::http::urlencode(form.iter().copied());
        self.send("POST", path, headers, Some(("application/x-www-form-urlencoded", body)))
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<(&str, String)>) -> Page {
        let mut stream = TcpStream::connect(self.addr).expect("the server accepts");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.map(|(content_type, text)| {
            head.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", text.len()));
            text
        });
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        if let Some(body) = body {
            stream.write_all(body.as_bytes()).unwrap();
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
        let chunked = headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
        let body = if chunked { dechunk(body) } else { body.to_owned() };
        for (_, header) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie")) {
            let pair = header.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else { continue };
            if value.is_empty() || header.contains("Max-Age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        Page { status, headers, body }
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A server process, killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
