//! The example shop through the test client.

use manouche::conf::Settings;
use manouche::test::Client;

/// The shop's own settings file, with a fresh SQLite database in a temporary folder.
fn shop_settings() -> Settings {
    shop_settings_with(&[])
}

/// [`shop_settings`] with more environment variables.
fn shop_settings_with(extra: &[(&str, &str)]) -> Settings {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir =
        std::env::temp_dir().join(format!("manouche-shop-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("shop.sqlite3").display());
    Settings::load_with_env(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/manouche.toml"),
        // Fast password hashing: these tests are not about its cost.
        [("DATABASE_URL".to_owned(), url), ("MANOUCHE_AUTH_PBKDF2_ITERATIONS".to_owned(), "1000".to_owned())]
            .into_iter()
            .chain(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))),
    )
    .unwrap()
}

fn project() -> manouche::Project {
    example_shop::configure(manouche::Project::new(shop_settings()))
}

/// A client on a prepared, seeded shop database.
pub(crate) fn seeded_client() -> Client {
    client()
}

/// The shop's settings on a fresh database, migrated and seeded.
pub(crate) fn seeded_settings() -> Settings {
    seeded_settings_with(&[])
}

/// [`seeded_settings`] with more environment variables.
pub(crate) fn seeded_settings_with(extra: &[(&str, &str)]) -> Settings {
    let settings = shop_settings_with(extra);
    let project = example_shop::configure(manouche::Project::new(settings.clone()));
    for step in ["migrate", "seed"] {
        let out = project.call_command([step]);
        assert!(out.success(), "{step}: {}", out.stderr);
    }
    settings
}

/// A client on a prepared, seeded shop database.
fn client() -> Client {
    let project = project();
    for step in ["migrate", "seed"] {
        let out = project.call_command([step]);
        assert!(out.success(), "{step}: {}", out.stderr);
    }
    Client::new(project).expect("the shop builds")
}

#[test]
fn home_page_renders_with_the_base_layout() {
    let response = client().get("/").send();
    assert_eq!(response.status(), 200);
    assert_eq!(response.template(), Some("Home"));
    let body = response.text();
    assert!(body.contains("<title>Manouche Tea &#38; Co.</title>"), "the shop name comes from [apps.shop]: {body}");
    assert!(body.contains(r#"<link rel="stylesheet" href="/static/shop/site.css">"#), "{body}");
    assert!(body.contains(r#"<a href="/archive/2026/">2026</a>"#), "{body}");
    assert!(response.header("server-timing").is_some_and(|v| v.starts_with("app;dur=")), "shop.timing middleware ran");
}

#[test]
fn about_archive_and_health() {
    let client = client();
    let about = client.get("/about/").send();
    assert_eq!(about.template(), Some("About"));
    assert!(about.text().contains("<title>About · Manouche Tea &#38; Co.</title>"));
    assert!(client.get("/archive/2025/").send().text().contains("<h1>Teas of 2025</h1>"));
    assert_eq!(client.get("/archive/1999/").send().status(), 404, "the view refuses years out of range");
    let health: serde_json::Value = client.get("/healthz").send().json().unwrap();
    assert_eq!(health, serde_json::json!({ "status": "ok" }));
}

#[test]
fn the_health_check_notices_unapplied_migrations() {
    let project = project();
    let client = Client::new(project).unwrap();
    let response = client.get("/healthz").send();
    assert_eq!(response.status(), 503, "an empty test database: nothing migrated");
    let project = self::project();
    assert!(project.call_command(["migrate", "shop", "zero"]).success());
    let client = Client::new(project).unwrap();
    let response = client.get("/healthz").send();
    assert_eq!(response.status(), 503);
    let health: serde_json::Value = response.json().unwrap();
    let detail = health["detail"].as_str().unwrap();
    assert!(detail.starts_with("unapplied migrations: ") && detail.contains("shop.0001_initial"), "{health}");
}

#[test]
fn server_timing_is_only_sent_in_debug() {
    let mut settings = shop_settings();
    settings.debug = false;
    let project = example_shop::configure(manouche::Project::new(settings));
    assert!(project.call_command(["migrate"]).success());
    let client = Client::new(project).unwrap();
    let response = client.get("/").send();
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("server-timing"), None);
}

#[test]
fn static_files_and_downloads() {
    let client = client();
    let css = client.get("/static/shop/site.css").send();
    assert_eq!(css.status(), 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(client.get("/static/shop/missing.css").send().status(), 404);
    assert_eq!(client.get("/static/../Cargo.toml").send().status(), 404, "no escaping the static folders");
    let csv = client.get("/downloads/catalogue.csv").send();
    assert_eq!(csv.header("content-disposition"), Some("attachment; filename=\"catalogue.csv\""));
    assert!(csv.text().starts_with("sku,name,price\n"));
}

#[test]
fn the_shop_has_its_own_404_page() {
    let response = client().get("/no-such-tea/").send();
    assert_eq!(response.status(), 404);
    assert_eq!(response.template(), Some("NotFound"));
    assert!(response.text().contains("This page is not on the shelf"));
}

#[test]
fn the_shop_passes_its_system_checks() {
    let out = project().call_command(["check"]);
    assert!(out.success(), "{}{}", out.stdout, out.stderr);
}

#[test]
fn static_files_are_not_served_without_debug() {
    let mut settings = manouche::conf::Settings::for_tests();
    settings.debug = false;
    let client = Client::new(manouche::Project::new(settings).app(example_shop::shop::app())).unwrap();
    assert_eq!(
        client.get("/static/shop/site.css").send().status(),
        404,
        "production serves static files from the web server"
    );
    assert_eq!(client.get("/").send().status(), 200);
}

#[test]
fn health_check_reports_an_unreachable_database() {
    for debug in [false, true] {
        let mut settings = manouche::conf::Settings::for_tests();
        settings.debug = debug;
        settings.database_url =
            manouche::conf::DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:1/shop?connect_timeout=1".into());
        settings.database_timeout_seconds = 1;
        let client = Client::new(manouche::Project::new(settings).app(example_shop::shop::app())).unwrap();
        let response = client.get("/healthz").send();
        assert_eq!(response.status(), 503);
        assert_eq!(response.header("retry-after"), Some("5"));
        let health: serde_json::Value = response.json().unwrap();
        assert_eq!(health["status"], "unavailable");
        if debug {
            assert!(health["detail"].as_str().unwrap().starts_with("database unavailable"), "{health}");
        } else {
            assert_eq!(health, serde_json::json!({ "status": "unavailable" }), "no host or port in public");
        }
        let page = client.get("/products/").send();
        assert_eq!((page.status(), page.header("retry-after")), (503, Some("5")), "pages are 503 too, not 500");
    }
}

#[test]
fn long_searches_and_form_parameters_are_handled() {
    let client = client();
    let long = "_".repeat(25_000);
    for path in ["/products/", "/api/products/"] {
        let response = client.get(&format!("{path}?q={long}")).send();
        assert_eq!(response.status(), 400, "{path}");
        assert!(response.text().contains("longer than 200 characters"), "{path}: the message says why");
    }
    // What the filter form submits for "All categories".
    let all = client.get("/products/?category=&q=sen").send();
    assert_eq!(all.status(), 200);
    assert!(all.text().contains("Sencha Kyoto"));
    let api: serde_json::Value = client.get("/api/products/?category=&q=").send().json().unwrap();
    assert_eq!(api["count"], 9);
    // A repeated parameter counts with its last value, as Django's request.GET[...] does.
    assert!(client.get("/products/?page=1&page=2").send().text().contains("Page 2 of 2"));
    let bad = client.get("/products/?page=two").send();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().contains("`page`"), "the field is named: {}", bad.text());
    // Page links keep the filters, encoded.
    let search = client.get("/products/?q=a%26b").send().text();
    assert!(search.contains("No tea matches."), "{search}");
}

#[test]
fn seeding_is_idempotent() {
    let project = project();
    let migrated = project.call_command(["migrate"]).stdout;
    assert!(migrated.contains("Applying shop.0001_initial... OK"), "{migrated}");
    assert_eq!(project.call_command(["seed"]).stdout, "Seeded the catalogue: 29 new rows.\n");
    assert_eq!(project.call_command(["seed"]).stdout, "Seeded the catalogue: 0 new rows.\n");
    assert_eq!(project.call_command(["migrate"]).stdout, "No migrations to apply.\n");
}

#[test]
fn the_catalogue_lists_filters_searches_and_paginates() {
    let client = client();
    let all = client.get("/products/").send();
    assert_eq!(all.template(), Some("ProductList"));
    let body = all.text();
    assert!(body.contains("Page 1 of 2"), "9 teas, 6 a page: {body}");
    assert!(
        body.contains(r#"<a href="/products/assam-breakfast/">Assam Breakfast</a> <span class="price">8.00</span> <small class="category">Black teas</small>"#),
        "{body}"
    );
    assert!(body.contains(r#"<a rel="next" href="/products/?page=2">Next</a>"#), "{body}");
    let second = client.get("/products/?page=2").send().text();
    assert!(second.contains("Page 2 of 2") && second.contains("Tieguanyin"), "{second}");
    assert_eq!(client.get("/products/?page=3").send().status(), 404);

    let green = client.get("/products/?category=green").send().text();
    assert!(green.contains("Sencha Kyoto") && !green.contains("Assam"), "{green}");
    assert!(green.contains("Hojicha</a> <span class=\"price\">9.50</span> <em>sold out</em>"), "{green}");
    assert_eq!(client.get("/products/?category=herbal").send().status(), 404, "unknown category");

    let search = client.get("/products/?q=smok").send().text();
    assert!(
        search.contains("Lapsang Souchong") && search.contains("Gunpowder") && !search.contains("Sencha"),
        "{search}"
    );
    let wildcard = client.get("/products/?q=%25").send().text();
    assert!(wildcard.contains("No tea matches."), "`%` is searched literally: {wildcard}");
}

#[test]
fn product_pages_and_the_json_api() {
    let client = client();
    let page = client.get("/products/sencha-kyoto/").send();
    assert_eq!(page.template(), Some("ProductDetail"));
    let body = page.text();
    assert!(body.contains("<h1>Sencha Kyoto</h1>") && body.contains("14.00") && body.contains("Green teas"), "{body}");
    assert!(
        body.contains(
            r#"<strong title="Excellent">5/5</strong> Fresh and sweet; my morning cup. <em>Ada Lovelace</em>"#
        ),
        "{body}"
    );
    assert_eq!(client.get("/products/earl-grey/").send().status(), 404);

    let api: serde_json::Value = client.get("/api/products/?category=oolong").send().json().unwrap();
    assert_eq!(api["count"], 2);
    assert_eq!(api["results"][0]["slug"], "tieguanyin");
    let id = api["results"][0]["id"].as_i64().unwrap();
    let one: serde_json::Value = client.get(&format!("/api/products/{id}/")).send().json().unwrap();
    assert_eq!((one["name"].as_str(), one["price"].as_str()), (Some("Tieguanyin"), Some("18.00")));
    assert_eq!(client.get("/api/products/99999/").send().status(), 404);
    assert_eq!(manouche::urls::reverse("shop:api:product", &[("id", &id)]).unwrap(), format!("/api/products/{id}/"));
}

#[test]
fn pages_run_a_fixed_number_of_queries() {
    let client = client();
    // Categories with their counts of active products, the count, then one page of products
    // joined with their categories.
    let page = manouche::test::assert_num_queries(client.db(), 3, || client.get("/products/").send());
    assert_eq!(page.status(), 200);
    let text = page.text();
    assert!(text.contains(">Green teas (4)</option>"), "{text}");
    // The product, its tags and its reviews with their customers: three queries in all.
    manouche::test::assert_num_queries(client.db(), 3, || client.get("/products/sencha-kyoto/").send());
    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        manouche::test::assert_num_queries(client.db(), 1, || client.get("/products/").send())
    }));
    let message = *wrong.unwrap_err().downcast::<String>().unwrap();
    assert!(message.starts_with("3 queries executed, 1 expected"), "{message}");
    assert!(message.contains("2. SELECT COUNT(*)"), "the statements are listed: {message}");
    // Only active products count.
    client
        .db()
        .run_sync(|conn| {
            use example_shop::shop::models::Product;
            use manouche::prelude::*;
            Product::objects().filter(Product::slug.eq("sencha-kyoto")).update_sync(conn, Product::active.eq(false))
        })
        .unwrap();
    assert!(client.get("/products/").send().text().contains(">Green teas (3)</option>"));
}

/// The limits are per minute, counted in windows aligned to the minute: start where five
/// requests cannot straddle two windows.
fn at_the_start_of_a_minute() {
    loop {
        let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
        if second < 50 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn logins_are_limited_to_five_a_minute_per_address() {
    let client = client();
    at_the_start_of_a_minute();
    for i in 0..5 {
        let user = format!("nobody{i}");
        let attempt =
            client.post("/accounts/login/").form(&[("username", user.as_str()), ("password", "wrong")]).send();
        assert_eq!(attempt.status(), 200, "attempt {i}: the form again, with Django's message");
    }
    let sixth = client.post("/accounts/login/").form(&[("username", "admin"), ("password", "wrong")]).send();
    assert_eq!(sixth.status(), 429);
    assert!(sixth.header("retry-after").is_some());
    assert_eq!(client.get("/accounts/login/").send().status(), 200, "showing the form is not limited");
}

/// A raw HTTP exchange with the live shop: `(status, headers and body)`.
fn exchange(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    (response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), response)
}

#[test]
fn logins_are_limited_to_five_a_minute_per_username_from_any_address() {
    // Behind a trusted proxy, each attempt comes from another address: only the username's
    // counter stops the sixth.
    let settings = shop_settings_with(&[("MANOUCHE_PROXY_TRUSTED_PROXIES", "[\"127.0.0.1\"]")]);
    let project = example_shop::configure(manouche::Project::new(settings));
    assert!(project.call_command(["migrate"]).success());
    let server = manouche::test::LiveServer::start(project).unwrap();
    let (_, page) =
        exchange(server.addr(), "GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let cookie =
        page.split("csrftoken=").nth(1).and_then(|rest| rest.split(';').next()).expect("a CSRF cookie").to_owned();
    let token = page
        .split(r#"name="csrfmiddlewaretoken" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token")
        .to_owned();
    at_the_start_of_a_minute();
    let statuses: Vec<u16> = (1..=6)
        .map(|i| {
            let body = format!("username=Ada&password=wrong{i}&csrfmiddlewaretoken={token}");
            let request = format!(
                "POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 10.1.0.{i}\r\nCookie: csrftoken={cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            exchange(server.addr(), &request).0
        })
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "the sixth attempt on one username");
}
