//! The example shop through the test client.

use manouche::test::Client;

fn client() -> Client {
    Client::new(example_shop::project()).expect("the shop builds")
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
    assert_eq!((health["status"].as_str(), health["database"].as_str()), (Some("ok"), Some("ok")));
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
    let out = example_shop::project().call_command(["check"]);
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
    let mut settings = manouche::conf::Settings::for_tests();
    settings.database_url =
        manouche::conf::DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:1/shop?connect_timeout=1".into());
    settings.database_timeout_seconds = 1;
    let client = Client::new(manouche::Project::new(settings).app(example_shop::shop::app())).unwrap();
    let response = client.get("/healthz").send();
    assert_eq!(response.status(), 503);
    let health: serde_json::Value = response.json().unwrap();
    assert_eq!(health["status"], "error");
    assert!(health["database"].as_str().unwrap().starts_with("database unavailable"), "{health}");
}
