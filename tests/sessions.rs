//! Sessions through the test client, mirroring Django's `sessions_tests`: written only when
//! changed, cookie flags and expiry, `Vary: Cookie`, tampered and expired cookies, flush and
//! `cycle_key`, settings errors.

use manouche::prelude::*;
use manouche::sessions::Expiry;
use manouche::test::Client;
use manouche::urls::path;

#[view(GET)]
async fn count(req: Request) -> manouche::Result<String> {
    let session = req.session()?;
    let n: u32 = session.get("count")?.unwrap_or(0) + 1;
    session.insert("count", &n)?;
    Ok(n.to_string())
}

#[view(GET)]
async fn peek(req: Request) -> manouche::Result<String> {
    Ok(req.session()?.get::<u32>("count")?.unwrap_or(0).to_string())
}

#[view(GET)]
async fn untouched() -> &'static str {
    "no session here"
}

#[view(GET)]
async fn flush(req: Request) -> manouche::Result<&'static str> {
    req.session()?.flush();
    Ok("flushed")
}

#[view(GET)]
async fn cycle(req: Request) -> manouche::Result<String> {
    let session = req.session()?;
    session.cycle_key();
    Ok(session.keys().join(","))
}

#[view(GET)]
async fn until_browser_closes(req: Request) -> manouche::Result<&'static str> {
    let session = req.session()?;
    session.set_expiry(Expiry::BrowserClose);
    session.insert("kept", "until the browser closes")?;
    Ok("set")
}

#[view(GET)]
async fn typed(req: Request) -> manouche::Result<String> {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Cart {
        lines: Vec<(i64, u32)>,
    }
    let session = req.session()?;
    session.insert("cart", &Cart { lines: vec![(3, 2), (7, 1)] })?;
    let cart: Cart = session.get("cart")?.unwrap_or(Cart { lines: Vec::new() });
    // A value read as another type is a server error, not the visitor's.
    let wrong = session.get::<String>("cart").is_err();
    Ok(format!("{} lines, wrong type refused: {wrong}", cart.lines.len()))
}

fn client(sessions: &str, middleware: &[&str]) -> Client {
    let middleware: Vec<String> = middleware.iter().map(|m| format!("\"{m}\"")).collect();
    let text = format!(
        "debug = true\nsecret_key = \"sessions-test-secret\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [{}]\n{sessions}",
        middleware.join(", ")
    );
    let mut settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).unwrap();
    settings.database_url = manouche::conf::DatabaseUrl::SqliteMemory;
    let app = App::new("sess").urls(urlpatterns![
        path("count/", count),
        path("peek/", peek),
        path("untouched/", untouched),
        path("flush/", flush),
        path("cycle/", cycle),
        path("browser/", until_browser_closes),
        path("typed/", typed),
    ]);
    Client::new(Project::new(settings).app(app)).unwrap()
}

fn set_cookies(response: &manouche::test::Response) -> Vec<String> {
    response.headers().get_all("set-cookie").filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

#[test]
fn a_session_is_written_only_when_changed_with_djangos_cookie_flags() {
    let client = client("[sessions]\nengine = \"signed_cookies\"\n", &["manouche.sessions"]);
    // Not touched: no cookie, no Vary.
    let plain = client.get("/untouched/").send();
    assert!(set_cookies(&plain).is_empty() && plain.header("vary").is_none());

    let first = client.get("/count/").send();
    assert_eq!(first.text(), "1");
    let cookie = set_cookies(&first).join("; ");
    for flag in ["sessionid=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert_eq!(first.header("vary"), Some("Cookie"));
    assert_eq!(client.get("/count/").send().text(), "2");

    // Read only: varies on the cookie, writes nothing.
    let read = client.get("/peek/").send();
    assert_eq!((read.text().as_str(), read.header("vary")), ("2", Some("Cookie")));
    assert!(set_cookies(&read).is_empty(), "an unchanged session is not saved again");

    // Typed values round-trip; another type is refused.
    assert_eq!(client.get("/typed/").send().text(), "2 lines, wrong type refused: true");
}

#[test]
fn tampered_expired_and_flushed_sessions_read_as_empty() {
    let client = client("[sessions]\nengine = \"signed_cookies\"\n", &["manouche.sessions"]);
    client.get("/count/").send();
    let cookie = client.cookies()["sessionid"].clone();

    // Tampered: the data changed, the signature kept. An empty session, and the cookie removed.
    let (payload, rest) = cookie.split_once(':').unwrap();
    assert_eq!(payload, "eyJjb3VudCI6MX0", "the data, readable: {{\"count\":1}}");
    let forged = format!("eyJjb3VudCI6OX0:{rest}"); // {"count":9} under the old signature
    client.set_cookie("sessionid", &forged);
    let read = client.get("/peek/").send();
    assert_eq!(read.text(), "0", "a tampered cookie is no session, not an error");
    assert!(set_cookies(&read).join(";").contains("Max-Age=0"), "the bad cookie is deleted");
    assert!(!client.cookies().contains_key("sessionid"));

    // Expired: signed with the session's salt three weeks ago.
    let signer = manouche::signing::TimestampSigner::new("sessions-test-secret", "manouche.sessions.signed_cookies");
    let three_weeks_ago =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 21 * 86_400;
    let old = signer.sign_at("eyJjb3VudCI6NX0", three_weeks_ago); // {"count":5}
    client.set_cookie("sessionid", &old);
    assert_eq!(client.get("/peek/").send().text(), "0", "older than cookie_age");
    let fresh = signer.sign("eyJjb3VudCI6NX0");
    client.set_cookie("sessionid", &fresh);
    assert_eq!(client.get("/peek/").send().text(), "5", "the same data, signed now, is read");

    // cycle_key keeps the data (a new cookie); flush drops it and the cookie.
    let cycled = client.get("/cycle/").send();
    assert_eq!(cycled.text(), "count");
    assert!(!set_cookies(&cycled).is_empty(), "a new key is a write");
    assert_eq!(client.get("/peek/").send().text(), "5");
    let flushed = client.get("/flush/").send();
    assert!(set_cookies(&flushed).join(";").contains("Max-Age=0"));
    assert_eq!(client.get("/peek/").send().text(), "0");
}

#[test]
fn settings_shape_the_cookie_and_bad_ones_are_named() {
    let client = client(
        "[sessions]\nengine = \"signed_cookies\"\ncookie_name = \"shop_session\"\ncookie_secure = true\ncookie_samesite = \"Strict\"\ncookie_domain = \".shop.example\"\nsave_every_request = true\n",
        &["manouche.sessions"],
    );
    let cookie = set_cookies(&client.get("/count/").send()).join("; ");
    for flag in ["shop_session=", "Secure", "SameSite=Strict", "Domain=.shop.example"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    // save_every_request: even a read refreshes the cookie.
    assert!(!set_cookies(&client.get("/peek/").send()).is_empty());

    // A session ending with the browser: no Max-Age.
    let browser = client.get("/browser/").send();
    assert!(!set_cookies(&browser).join(";").contains("Max-Age"), "{:?}", set_cookies(&browser));

    // Without the middleware, `req.session()` is a configuration error (500), said in debug.
    let bare = client_without_sessions();
    let response = bare.get("/count/").send();
    assert_eq!(response.status(), 500);
    assert!(response.text().contains("manouche.sessions"), "{}", response.text());

    // Bad settings name the key and refuse to build.
    let text = "debug = true\nsecret_key = \"x\"\nmiddleware = [\"manouche.sessions\"]\n[sessions]\ncookie_samesite = \"Sometimes\"\n";
    let settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).unwrap();
    let error = Client::new(Project::new(settings)).unwrap_err().to_string();
    assert!(error.contains("sessions.cookie_samesite"), "{error}");
    let env = [("MANOUCHE_SESSION_COOKIE_AGE".to_owned(), "soon".to_owned())];
    let settings = Settings::from_toml_str(
        "debug = true\nsecret_key = \"x\"\nmiddleware = [\"manouche.sessions\"]\n",
        "/tmp".as_ref(),
        env,
    )
    .unwrap();
    let error = Client::new(Project::new(settings)).unwrap_err().to_string();
    assert!(error.contains("sessions.cookie_age") && error.contains("MANOUCHE_SESSION_COOKIE_AGE"), "{error}");
}

fn client_without_sessions() -> Client {
    client("", &[])
}

/// A project on a fresh test database with the `sessions` app migrated and the database store.
fn database_clients() -> Vec<(manouche::test::TestDatabase, Client)> {
    manouche::test::TestDatabase::all("database sessions are")
        .into_iter()
        .map(|test_db| {
            let text = "debug = true\nsecret_key = \"sessions-test-secret\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [\"manouche.sessions\"]\n";
            let settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).unwrap();
            let app = App::new("sess").urls(urlpatterns![
                path("count/", count),
                path("peek/", peek),
                path("flush/", flush),
                path("cycle/", cycle),
            ]);
            let project = Project::new(settings).app(manouche::sessions::app()).app(app);
            let project = test_db.migrated(project).unwrap();
            let client = Client::new(project).unwrap();
            (test_db, client)
        })
        .collect()
}

fn stored_keys(client: &Client) -> Vec<String> {
    use manouche::db::Model as _;
    use manouche::sessions::models::Session as Row;
    client.db().run_sync(|conn| Row::objects().values_list(Row::session_key).all_sync::<String>(conn)).unwrap()
}

#[test]
fn the_database_store_keeps_a_random_key_in_the_cookie_and_never_adopts_a_strange_one() {
    for (test_db, client) in database_clients() {
        let backend = test_db.backend();
        assert_eq!(client.get("/count/").send().text(), "1");
        let key = client.cookies()["sessionid"].clone();
        assert_eq!(key.len(), 32, "{backend:?}");
        assert!(key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{key}");
        assert_eq!(stored_keys(&client), std::slice::from_ref(&key), "one row, under the cookie's key");
        // A read takes one query, and no write.
        let read = manouche::test::assert_num_queries(client.db(), 1, || client.get("/peek/").send());
        assert_eq!(read.text(), "1");
        assert_eq!(client.get("/count/").send().text(), "2");
        assert_eq!(client.cookies()["sessionid"], key, "an update keeps the key");

        // A key the server never issued is not adopted (no session fixation).
        client.set_cookie("sessionid", "attackerchosenkey0000000000000000");
        let fresh = client.get("/count/").send();
        assert_eq!(fresh.text(), "1");
        let issued = client.cookies()["sessionid"].clone();
        assert_ne!(issued, "attackerchosenkey0000000000000000", "{backend:?}");
        assert!(!stored_keys(&client).contains(&"attackerchosenkey0000000000000000".to_owned()));

        // cycle_key: the data moves to a new key, the old one stops working.
        client.get("/cycle/").send();
        let cycled = client.cookies()["sessionid"].clone();
        assert_ne!(cycled, issued);
        assert!(!stored_keys(&client).contains(&issued), "the old row is gone");
        assert_eq!(client.get("/peek/").send().text(), "1");
        // flush: the row and the cookie go.
        client.get("/flush/").send();
        assert!(!stored_keys(&client).contains(&cycled));
        assert!(!client.cookies().contains_key("sessionid"));

        // Expired rows read as empty, and `clearsessions` deletes them.
        client.get("/count/").send();
        client
            .db()
            .run_sync(|conn| {
                use manouche::db::Model as _;
                use manouche::sessions::models::Session as Row;
                Row::objects()
                    .update_sync(conn, Row::expire_date.eq(manouche::db::now() - manouche::chrono::TimeDelta::hours(1)))
            })
            .unwrap();
        assert_eq!(client.get("/peek/").send().text(), "0", "{backend:?}: expired");
        let project = test_db.project(Project::new(Settings::for_tests()).app(manouche::sessions::app())).unwrap();
        let out = project.call_command(["clearsessions"]);
        assert!(out.success(), "{}", out.stderr);
        assert!(out.stdout.starts_with("Deleted "), "{}", out.stdout);
        assert!(stored_keys(&client).is_empty());
    }
}

#[view(GET)]
async fn notify(req: Request) -> manouche::Result<HttpResponse> {
    let messages = req.messages()?;
    messages.success("Saved.")?;
    messages.debug("below the minimum level: dropped")?;
    messages.add(manouche::messages::Level::Error, "Card <declined>", "sticky")?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", "/shown/")).finish())
}

#[derive(Template)]
#[template(source = "{% for m in ctx.messages() %}<p class=\"{{ m.tags() }}\">{{ m }}</p>{% endfor %}|", ext = "html")]
struct Shown {
    ctx: RequestContext,
}

#[view(GET)]
async fn shown(req: Request) -> manouche::Result<HttpResponse> {
    manouche::templates::render(&Shown { ctx: req.context() })
}

#[test]
fn messages_are_shown_once_on_the_next_page_escaped_with_their_level_as_class() {
    let mut settings = Settings::from_toml_str(
        "debug = true\nsecret_key = \"s\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [\"manouche.sessions\"]\n[sessions]\nengine = \"signed_cookies\"\n",
        "/tmp".as_ref(),
        std::iter::empty(),
    )
    .unwrap();
    settings.database_url = manouche::conf::DatabaseUrl::SqliteMemory;
    let app = App::new("msg").urls(urlpatterns![path("notify/", notify), path("shown/", shown)]);
    let client = Client::new(Project::new(settings).app(app)).unwrap();
    let page = client.get("/notify/").follow().send();
    assert_eq!(
        page.text(),
        "<p class=\"success\">Saved.</p><p class=\"sticky error\">Card &#60;declined&#62;</p>|",
        "in order, escaped, the debug one dropped"
    );
    assert_eq!(client.get("/shown/").send().text(), "|", "shown once");
}

static ARRIVED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Writes `key` once both racing requests have loaded the session.
#[view(GET)]
async fn write_racing(req: Request, key: Path<String>) -> manouche::Result<&'static str> {
    use std::sync::atomic::Ordering;
    req.session()?.insert(&key.into_inner(), &true)?;
    ARRIVED.fetch_add(1, Ordering::SeqCst);
    // Wait for the other request (a condition, not a guessed delay), giving up after 30 s.
    for _ in 0..30_000 {
        if ARRIVED.load(Ordering::SeqCst) >= 2 {
            return Ok("written");
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    Err(manouche::Error::other("the other request never came"))
}

#[test]
fn concurrent_writes_to_one_session_leave_one_whole_write_never_a_mix() {
    use std::sync::atomic::Ordering;
    for test_db in manouche::test::TestDatabase::all("concurrent session writes are") {
        let text = "debug = true\nsecret_key = \"s\"\nmiddleware = [\"manouche.sessions\"]\n";
        let settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).unwrap();
        let app = App::new("race").urls(urlpatterns![
            path("count/", count),
            path("keys/", cycle),
            path("write/{key}/", write_racing)
        ]);
        let project = test_db.migrated(Project::new(settings).app(manouche::sessions::app()).app(app)).unwrap();
        let server = manouche::test::LiveServer::start(project).unwrap();
        let mut browser = crate::common::Browser::new(server.addr());
        assert_eq!(browser.get("/count/").body, "1");
        ARRIVED.store(0, Ordering::SeqCst);
        let racers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|key| {
                let mut racer = crate::common::Browser { addr: browser.addr, cookies: browser.cookies.clone() };
                std::thread::spawn(move || racer.get(&format!("/write/{key}/")))
            })
            .collect();
        for racer in racers {
            let page = racer.join().unwrap();
            assert_eq!((page.status, page.body.as_str()), (200, "written"), "{:?}", test_db.backend());
        }
        // Each request saved the whole session as it saw it: the later save wins, whole.
        let keys = browser.get("/keys/").body;
        assert!(keys == "a,count" || keys == "b,count", "{:?}: {keys}", test_db.backend());
    }
}

/// The `cache` engine, on local memory and (when given) Redis: a random key in the cookie, never
/// a key the client made up, cycle and flush as in the database store.
#[test]
fn the_cache_store_keeps_sessions_in_the_cache() {
    let mut caches = vec![String::new()];
    if let Ok(url) = std::env::var("MANOUCHE_TEST_REDIS_URL") {
        caches.push(format!(
            "[caches.sessions]\nbackend = \"redis\"\nlocation = \"{url}\"\nkey_prefix = \"sess{}\"\n",
            std::process::id()
        ));
    }
    for extra in caches {
        let alias = if extra.is_empty() { "default" } else { "sessions" };
        let client = client(
            &format!("[sessions]\nengine = \"cache\"\ncache_alias = \"{alias}\"\n{extra}"),
            &["manouche.sessions"],
        );
        assert_eq!(client.get("/count/").send().text(), "1", "{alias}");
        let key = client.cookies()["sessionid"].clone();
        assert_eq!(key.len(), 32);
        assert_eq!(client.get("/count/").send().text(), "2", "{alias}: read back from the cache");
        assert_eq!(client.cookies()["sessionid"], key);
        client.set_cookie("sessionid", "attackerchosenkey0000000000000000");
        assert_eq!(client.get("/count/").send().text(), "1", "{alias}: a strange key reads as a new session");
        assert_ne!(client.cookies()["sessionid"], "attackerchosenkey0000000000000000");
        let before = client.cookies()["sessionid"].clone();
        client.get("/cycle/").send();
        assert_ne!(client.cookies()["sessionid"], before);
        assert_eq!(client.get("/peek/").send().text(), "1", "{alias}: the data moved to the new key");
        client.set_cookie("sessionid", &before);
        assert_eq!(client.get("/peek/").send().text(), "0", "{alias}: the old key stopped working");
        client.get("/count/").send();
        client.get("/flush/").send();
        assert!(!client.cookies().contains_key("sessionid"));
    }
}

#[test]
fn the_cached_db_store_reads_through_the_cache_and_keeps_rows() {
    for test_db in manouche::test::TestDatabase::all("cached_db sessions are") {
        let text = "debug = true\nsecret_key = \"sessions-test-secret\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [\"manouche.sessions\"]\n[sessions]\nengine = \"cached_db\"\n";
        let settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).unwrap();
        let app =
            App::new("sess").urls(urlpatterns![path("count/", count), path("peek/", peek), path("flush/", flush)]);
        let project = test_db.migrated(Project::new(settings).app(manouche::sessions::app()).app(app)).unwrap();
        let client = Client::new(project).unwrap();
        assert_eq!(client.get("/count/").send().text(), "1");
        let key = client.cookies()["sessionid"].clone();
        assert_eq!(stored_keys(&client), std::slice::from_ref(&key), "written to the database");
        let read = manouche::test::assert_num_queries(client.db(), 0, || client.get("/peek/").send());
        assert_eq!(read.text(), "1", "read from the cache, no query");
        // The cache forgets; the row does not.
        client.caches().default_cache().clear_sync().unwrap();
        let read = manouche::test::assert_num_queries(client.db(), 1, || client.get("/peek/").send());
        assert_eq!(read.text(), "1", "read from the database after the cache lost it");
        client.get("/flush/").send();
        assert!(stored_keys(&client).is_empty(), "flush deletes the row");
        client.set_cookie("sessionid", &key);
        assert_eq!(client.get("/peek/").send().text(), "0", "and the cached copy");
    }
}
