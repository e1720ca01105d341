//! `#[cache_page]`, the per-site middleware pair, the header decorators, conditional GET,
//! invalidation by `depends_on` and dog-pile prevention: Django's rules (its `CacheMiddleware`
//! and `CacheUtils` tests name the cases), each checked through the test client or a live
//! server. Every view answers with a number unique to its run, so "the same body twice" means
//! "served from the cache".

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use manouche::http::HttpResponse;
use manouche::prelude::*;
use manouche::test::Client;
use manouche::urls::path;

static RUNS: AtomicU64 = AtomicU64::new(0);

fn run() -> String {
    format!("run {}", RUNS.fetch_add(1, Ordering::Relaxed))
}

#[view(GET, POST)]
#[cache_page(60)]
async fn cached() -> String {
    run()
}

#[view(GET)]
#[cache_page(60)]
async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().body(run())
}

#[view(GET)]
#[cache_page(60)]
#[cache_control(private)]
async fn private_page() -> String {
    run()
}

#[view(GET)]
#[cache_page(60)]
#[cache_control(no_store)]
async fn no_store() -> String {
    run()
}

#[view(GET)]
#[cache_page(60)]
#[vary_on_cookie]
async fn sets_cookie() -> HttpResponse {
    HttpResponse::Ok().cookie(manouche::http::cookie::Cookie::new("flavour", "mint")).body(run())
}

#[view(GET)]
#[cache_page(60)]
#[vary_on_headers("Accept-Language")]
async fn by_language() -> String {
    run()
}

#[view(GET)]
#[cache_page(60)]
#[cache_control(max_age = 0)]
async fn zero_age() -> String {
    run()
}

#[view(GET)]
#[cache_page(600)]
#[cache_control(max_age = 30, public)]
async fn thirty_seconds() -> String {
    run()
}

#[view(GET)]
#[never_cache]
async fn never() -> String {
    run()
}

#[view(GET)]
#[cache_page(60)]
async fn with_session(req: Request) -> manouche::Result<String> {
    let session = req.session()?;
    let visits: u64 = session.get("visits")?.unwrap_or(0);
    session.insert("visits", &(visits + 1))?;
    Ok(format!("{} visits={visits}", run()))
}

#[view(GET)]
async fn plain() -> String {
    run()
}

#[view(GET)]
async fn dated() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT")).body(run())
}

fn app() -> App {
    App::new("pages").urls(urlpatterns![
        path("cached/", cached),
        path("not-found/", not_found),
        path("private/", private_page),
        path("no-store/", no_store),
        path("sets-cookie/", sets_cookie),
        path("by-language/", by_language),
        path("zero-age/", zero_age),
        path("thirty/", thirty_seconds),
        path("never/", never),
        path("session/", with_session),
        path("plain/", plain),
        path("dated/", dated),
    ])
}

fn settings(extra: &str) -> Settings {
    let toml = format!(
        "debug = true\nsecret_key = \"cache-page-tests\"\nallowed_hosts = [\"testserver\", \"localhost\", \"127.0.0.1\"]\n{extra}"
    );
    Settings::from_toml_str(&toml, std::env::temp_dir().as_path(), Vec::<(String, String)>::new()).expect("settings")
}

fn client_with(extra: &str) -> Client {
    Client::new(Project::new(settings(extra)).app(app())).expect("the project builds")
}

fn client() -> Client {
    client_with("")
}

fn body(client: &Client, path: &str) -> String {
    let response = client.get(path).send();
    response.text()
}

#[test]
fn get_is_served_from_the_cache_and_other_methods_are_not() {
    let client = client();
    let first = client.get("/cached/").send();
    assert_eq!(first.status(), 200);
    assert_eq!(body(&client, "/cached/"), first.text(), "the second GET is the stored page");
    let head = client.head("/cached/").send();
    assert_eq!(head.status(), 200, "HEAD is answered from the stored GET");
    let posted = client.post("/cached/").send();
    assert_ne!(posted.text(), first.text(), "POST runs the view");
    assert_ne!(client.post("/cached/").send().text(), posted.text(), "and is never stored");
}

#[test]
fn the_key_covers_the_query_string_and_the_host() {
    let client = client();
    let a = body(&client, "/cached/?page=1");
    assert_eq!(body(&client, "/cached/?page=1"), a);
    assert_ne!(body(&client, "/cached/?page=2"), a, "another query is another page");
    let other_host = client.get("/cached/?page=1").header("Host", "localhost").send().text();
    assert_ne!(other_host, a, "another host is another page");
}

#[test]
fn only_200_responses_are_stored() {
    let client = client();
    let first = client.get("/not-found/").send();
    assert_eq!(first.status(), 404);
    assert_ne!(body(&client, "/not-found/"), first.text());
}

#[test]
fn private_and_no_store_responses_are_not_stored() {
    let client = client();
    for path in ["/private/", "/no-store/", "/zero-age/"] {
        let first = body(&client, path);
        assert_ne!(body(&client, path), first, "{path}");
    }
}

#[test]
fn a_cookie_set_for_a_cookieless_request_varying_on_cookie_is_not_stored() {
    let client = client();
    let first = client.get("/sets-cookie/").send();
    assert!(first.header("set-cookie").is_some());
    assert!(first.header("vary").is_some_and(|v| v.contains("Cookie")));
    // The client now sends the cookie it got: such a request's page may be stored, for the
    // requests carrying the same cookie, and without the Set-Cookie header.
    let with_cookie = client.get("/sets-cookie/").send();
    assert_ne!(with_cookie.text(), first.text(), "the cookieless answer was not stored");
    let again = client.get("/sets-cookie/").send();
    assert_eq!(again.text(), with_cookie.text(), "the answer to a request with the cookie was");
    assert!(again.header("set-cookie").is_none(), "a stored page never sets anyone's cookie");
    // Another visitor, without the cookie, does not get it.
    let stranger = client_with("").get("/sets-cookie/").send();
    assert_ne!(stranger.text(), again.text());
}

#[test]
fn the_key_covers_the_headers_the_page_varies_on() {
    let client = client();
    let french = client.get("/by-language/").header("Accept-Language", "fr").send();
    assert!(french.header("vary").is_some_and(|v| v.contains("Accept-Language")));
    let german = client.get("/by-language/").header("Accept-Language", "de").send().text();
    assert_ne!(german, french.text());
    assert_eq!(client.get("/by-language/").header("Accept-Language", "fr").send().text(), french.text());
    assert_eq!(client.get("/by-language/").header("Accept-Language", "de").send().text(), german);
}

#[test]
fn stored_pages_get_expires_max_age_and_an_etag() {
    let client = client();
    let page = client.get("/cached/?headers").send();
    assert_eq!(page.header("cache-control"), Some("max-age=60"));
    assert!(page.header("expires").is_some_and(|v| v.ends_with("GMT")));
    let etag = page.header("etag").expect("an ETag").to_owned();
    // The response's own max-age decides how long, and is kept.
    let thirty = client.get("/thirty/").send();
    let control = thirty.header("cache-control").unwrap_or_default().to_owned();
    assert!(control.contains("max-age=30") && control.contains("public"), "{control}");
    assert_eq!(body(&client, "/thirty/"), thirty.text());
    // A conditional request for the stored page is a bodiless 304.
    let unchanged = client.get("/cached/?headers").header("If-None-Match", &etag).send();
    assert_eq!(unchanged.status(), 304);
    assert!(unchanged.bytes().is_empty());
    assert_eq!(unchanged.header("etag"), Some(etag.as_str()));
    let changed = client.get("/cached/?headers").header("If-None-Match", "\"other\"").send();
    assert_eq!(changed.status(), 200);
}

#[test]
fn never_cache_and_cache_control_set_django_headers() {
    let client = client();
    let never = client.get("/never/").send();
    let control = never.header("cache-control").unwrap_or_default();
    for directive in ["max-age=0", "no-cache", "no-store", "must-revalidate", "private"] {
        assert!(control.contains(directive), "{directive} in {control}");
    }
    assert!(never.header("expires").is_some());
}

#[test]
fn a_page_that_reads_the_session_varies_on_the_cookie() {
    let client = client_with("middleware = [\"manouche.sessions\"]\n[sessions]\nengine = \"signed_cookies\"\n");
    let first = client.get("/session/").send();
    assert!(first.text().ends_with("visits=0"));
    assert!(first.header("vary").is_some_and(|v| v.contains("Cookie")), "{:?}", first.header("vary"));
    // The next request carries this visitor's session cookie: its own page, not the first one.
    let second = client.get("/session/").send();
    assert!(second.text().ends_with("visits=1"), "{}", second.text());
    // Another visitor never sees this visitor's page.
    let other = client_with("middleware = [\"manouche.sessions\"]\n[sessions]\nengine = \"signed_cookies\"\n");
    assert!(other.get("/session/").send().text().ends_with("visits=0"));
}

#[test]
fn the_per_site_middleware_pair_caches_every_page() {
    let client = client_with(
        "middleware = [\"manouche.cache.update\", \"manouche.security\", \"manouche.cache.fetch\"]\n[cache_middleware]\nseconds = 120\nkey_prefix = \"site\"\n",
    );
    let first = client.get("/plain/").send();
    assert_eq!(first.header("cache-control"), Some("max-age=120"));
    assert_eq!(body(&client, "/plain/"), first.text());
    assert_ne!(client.post("/plain/").send().status(), 200, "POST is not served from the cache");
    let never_first = body(&client, "/never/");
    assert_ne!(body(&client, "/never/"), never_first, "never_cache pages are not stored by the middleware");
}

#[test]
fn conditional_get_answers_304_from_etags_and_dates() {
    let client = client_with("middleware = [\"manouche.conditional_get\"]\n");
    let page = client.get("/plain/").send();
    let etag = page.header("etag").expect("an ETag from the body").to_owned();
    // The body changes every run, so the ETag does: a stale one gets the new page.
    let fresh = client.get("/plain/").header("If-None-Match", &etag).send();
    assert_eq!(fresh.status(), 200);
    let dated = client.get("/dated/").header("If-Modified-Since", "Wed, 02 Dec 2026 10:00:00 GMT").send();
    assert_eq!(dated.status(), 304);
    assert!(dated.bytes().is_empty());
    let older = client.get("/dated/").header("If-Modified-Since", "Mon, 30 Nov 2026 10:00:00 GMT").send();
    assert_eq!(older.status(), 200);
    let star = client.get("/plain/").header("If-None-Match", "*").send();
    assert_eq!(star.status(), 304);
    let failed = client.get("/dated/").header("If-Unmodified-Since", "Mon, 30 Nov 2026 10:00:00 GMT").send();
    assert_eq!(failed.status(), 412);
    let mismatch = client.get("/plain/").header("If-Match", "\"nope\"").send();
    assert_eq!(mismatch.status(), 412);
}

// ---- depends_on -------------------------------------------------------------------------------

#[model(app = "pagecache")]
pub struct Flavour {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[view(GET)]
#[cache_page(600, depends_on = [Flavour])]
async fn flavours() -> String {
    run()
}

#[view(GET)]
#[cache_page(600)]
async fn independent() -> String {
    run()
}

#[test]
fn depends_on_drops_pages_when_the_transaction_saving_a_row_commits() {
    for db in crate::common::test_databases("depends_on invalidation") {
        crate::common::recreate_tables(&db, &[Flavour::meta()]);
        let mut settings = settings("");
        settings.database_url = db.url().clone();
        let project = Project::new(settings)
            .app(App::new("pagecache").urls(urlpatterns![path("flavours/", flavours), path("other/", independent)]));
        let client = Client::new(project).expect("the project builds");
        let before = body(&client, "/flavours/");
        let other = body(&client, "/other/");
        assert_eq!(body(&client, "/flavours/"), before);

        // Inside the transaction the page stays; a rollback drops nothing.
        let rolled_back: Result<(), manouche::db::Error> = db.atomic_sync(|conn| {
            Flavour { id: 0, name: "Mint".into() }.save_sync(conn)?;
            Err(manouche::db::Error::Unavailable { reason: "changed my mind".into() })
        });
        assert!(rolled_back.is_err());
        assert_eq!(body(&client, "/flavours/"), before, "a rolled-back save invalidates nothing");
        db.atomic_sync(|conn| {
            Flavour { id: 0, name: "Lemon".into() }.save_sync(conn)?;
            assert_eq!(body(&client, "/flavours/"), before, "not before the commit");
            Ok(())
        })
        .unwrap();
        let after = body(&client, "/flavours/");
        assert_ne!(after, before, "the commit dropped the page");
        assert_eq!(body(&client, "/flavours/"), after, "and the new page is cached again");
        assert_eq!(body(&client, "/other/"), other, "pages that do not depend on the model stay");

        // A bulk update sends no signal, and drops the pages all the same.
        db.run_sync(|conn| Flavour::objects().update_sync(conn, Flavour::name.eq("Lime"))).unwrap();
        let updated = body(&client, "/flavours/");
        assert_ne!(updated, after, "update() invalidates");
        let after = updated;

        // Deleting a row drops it too; so does invalidate_model for changes the ORM does not see.
        let lemon = db.run_sync(|conn| Flavour::objects().first_sync(conn)).unwrap().expect("a row");
        db.run_sync(|conn| lemon.delete_sync(conn)).unwrap();
        let deleted = body(&client, "/flavours/");
        assert_ne!(deleted, after);
        manouche::cache::invalidate_model::<Flavour>();
        assert_ne!(body(&client, "/flavours/"), deleted);
    }
}

// ---- dog-pile ---------------------------------------------------------------------------------

static ARRIVED: AtomicUsize = AtomicUsize::new(0);
static COMPUTED: AtomicUsize = AtomicUsize::new(0);
const CONCURRENT: usize = 8;

/// Counts its runs, and does not finish before every request has reached the server: the
/// others arrive while it computes, which is when they must wait instead of computing.
#[view(GET)]
#[cache_page(60)]
async fn slow() -> String {
    COMPUTED.fetch_add(1, Ordering::SeqCst);
    while ARRIVED.load(Ordering::SeqCst) < CONCURRENT {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    run()
}

#[test]
fn concurrent_misses_of_one_page_compute_it_once() {
    let counting = manouche::middleware::from_fn(|req, next: manouche::middleware::Next<'_>| {
        Box::pin(async move {
            if req.path() == "/slow/" {
                ARRIVED.fetch_add(1, Ordering::SeqCst);
            }
            next.run(req).await
        })
    });
    let mut settings = settings("");
    settings.middleware = vec!["pages.count".into()];
    let project = Project::new(settings).app(
        App::new("pages")
            .urls(urlpatterns![path("slow/", slow)])
            .middleware("pages.count", move |_| Ok(counting.clone())),
    );
    let server = manouche::test::LiveServer::start(project).expect("the server starts");
    let addr = server.addr();
    let bodies: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONCURRENT)
            .map(|_| scope.spawn(move || crate::common::http_get(addr, "/slow/").expect("an answer").1))
            .collect();
        handles.into_iter().map(|h| h.join().expect("the request thread")).collect()
    });
    assert_eq!(COMPUTED.load(Ordering::SeqCst), 1, "one computation for {CONCURRENT} concurrent misses");
    let pages: Vec<&str> = bodies.iter().map(|b| b.rsplit("\r\n\r\n").next().unwrap_or_default()).collect();
    assert!(pages.iter().all(|p| *p == pages[0]), "every request got the one page: {pages:?}");
}

static SITE_ARRIVED: AtomicUsize = AtomicUsize::new(0);
static SITE_COMPUTED: AtomicUsize = AtomicUsize::new(0);

/// As `slow`, without `#[cache_page]`: the per-site middleware pair caches it.
#[view(GET)]
async fn slow_site() -> String {
    SITE_COMPUTED.fetch_add(1, Ordering::SeqCst);
    while SITE_ARRIVED.load(Ordering::SeqCst) < CONCURRENT {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    run()
}

#[test]
fn the_middleware_pair_also_computes_concurrent_misses_once() {
    let counting = manouche::middleware::from_fn(|req, next: manouche::middleware::Next<'_>| {
        Box::pin(async move {
            if req.path() == "/slow-site/" {
                SITE_ARRIVED.fetch_add(1, Ordering::SeqCst);
            }
            next.run(req).await
        })
    });
    let mut settings = settings("");
    settings.middleware = vec!["manouche.cache.update".into(), "pages.count".into(), "manouche.cache.fetch".into()];
    let project = Project::new(settings).app(
        App::new("pages")
            .urls(urlpatterns![path("slow-site/", slow_site)])
            .middleware("pages.count", move |_| Ok(counting.clone())),
    );
    let server = manouche::test::LiveServer::start(project).expect("the server starts");
    let addr = server.addr();
    let bodies: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONCURRENT)
            .map(|_| scope.spawn(move || crate::common::http_get(addr, "/slow-site/").expect("an answer").1))
            .collect();
        handles.into_iter().map(|h| h.join().expect("the request thread")).collect()
    });
    assert_eq!(SITE_COMPUTED.load(Ordering::SeqCst), 1, "one computation for {CONCURRENT} concurrent misses");
    let pages: Vec<&str> = bodies.iter().map(|b| b.rsplit("\r\n\r\n").next().unwrap_or_default()).collect();
    assert!(pages.iter().all(|p| *p == pages[0]), "every request got the one page: {pages:?}");
}
