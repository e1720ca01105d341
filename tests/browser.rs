//! The admin in a real browser: headless Chromium driven over WebDriver (chromedriver) with
//! fantoccini, against the shop on a live server. A staff user logs in, adds a product with a
//! bad price (the error is shown and the values kept), fixes it, finds it by search and by
//! filter, edits it and deletes it through the confirmation page; a staff user without
//! permissions sees no shop models. Screenshots of the change list and the change form go to
//! `target/browser/`.
//!
//! Skipped, with a notice, where chromedriver is missing, except in CI (`CI` set), where
//! `.ci/run` installs it and a missing one is a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use manouche::Project;
use manouche::auth::User;
use manouche::db::Model as _;
use manouche::test::LiveServer;

use crate::shop::seeded_settings;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must have chromedriver: .ci/run installs chromium-driver");
        eprintln!(
            "notice: {CHROMEDRIVER} not found; skipping the browser test (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    // Wait for it to listen: a condition, not a guessed duration (generous for a busy machine).
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(driver)
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

async fn fill(page: &Client, name: &str, value: &str) {
    let input = page.find(Locator::Css(&format!("[name='{name}']"))).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn click(page: &Client, css: &str) {
    page.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

/// Waits until the page's HTML contains `needle` (pages load after a click).
async fn wait_for(page: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let html = page.source().await.unwrap();
        if html.contains(needle) {
            return html;
        }
        assert!(Instant::now() < deadline, "never saw {needle:?} in {html}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn log_in(page: &Client, base: &str, name: &str) {
    page.goto(&format!("{base}/admin/")).await.unwrap();
    wait_for(page, "id=\"login-form\"").await;
    assert!(page.current_url().await.unwrap().as_str().contains("/admin/login/?next="));
    fill(page, "username", name).await;
    fill(page, "password", "a velvet teapot").await;
    click(page, "#login-form button[type=submit]").await;
    wait_for(page, "Site administration").await;
}

async fn screenshot(page: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    let png = page.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

fn add_user(server_settings: &manouche::conf::Settings, name: &str, superuser: bool) {
    let hasher = manouche::auth::hashers::Hasher { iterations: 1000, ..Default::default() };
    let mut user = User::new(name, &format!("{name}@example.com"), Some("a velvet teapot"), &hasher).unwrap();
    user.is_staff = true;
    user.is_superuser = superuser;
    let options = manouche::db::PoolOptions::from_settings(server_settings);
    let db = manouche::db::Database::connect(&server_settings.database_url, options);
    db.run_sync(|conn| user.save_sync(conn)).unwrap();
}

#[test]
fn a_staff_user_manages_a_product_in_a_real_browser() {
    let Some(driver) = start_driver() else { return };
    let settings = seeded_settings();
    add_user(&settings, "boss", true);
    add_user(&settings, "clerk", false);
    let server = LiveServer::start(example_shop::configure(Project::new(settings))).unwrap();
    let base = format!("http://{}", server.addr());
    actix_web::rt::System::new().block_on(async move {
        let page = browser(&driver).await;
        log_in(&page, &base, "boss").await;

        // Add a product with a bad price: the error shows, the values stay.
        page.goto(&format!("{base}/admin/shop/product/add/")).await.unwrap();
        wait_for(&page, "Add product").await;
        fill(&page, "name", "Matcha Uji").await;
        let slug = page.find(Locator::Css("[name='slug']")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(slug.as_deref(), Some("matcha-uji"), "the slug follows the name as it is typed");
        page.find(Locator::Css("select[name='category'] option:nth-child(3)")).await.unwrap().click().await.unwrap();
        fill(&page, "description", "Stone-ground, from Uji.").await;
        fill(&page, "price", "12.345").await;
        fill(&page, "stock", "5").await;
        click(&page, "button[name='_save']").await;
        let html = wait_for(&page, "Please correct the error below.").await;
        assert!(html.contains("Ensure that there are no more than 2 decimal places."), "{html}");
        let kept = page.find(Locator::Css("[name='name']")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("Matcha Uji"));
        screenshot(&page, "admin-change-form-error").await;

        fill(&page, "price", "12.50").await;
        click(&page, "button[name='_save']").await;
        wait_for(&page, "was added successfully").await;

        // Find it by search, then by filter.
        fill(&page, "q", "uji").await;
        click(&page, "#changelist-search button").await;
        let found = wait_for(&page, "1 result").await;
        assert!(found.contains(">Matcha Uji</a>"), "{found}");
        page.goto(&format!("{base}/admin/shop/product/")).await.unwrap();
        wait_for(&page, "By category").await;
        page.find(Locator::LinkText("Green teas")).await.unwrap().click().await.unwrap();
        let filtered = wait_for(&page, "class=\"selected\"><a href=\"?category=").await;
        assert!(filtered.contains(">Matcha Uji</a>") && !filtered.contains(">Assam Breakfast</a>"), "{filtered}");
        screenshot(&page, "admin-change-list").await;

        // Edit it.
        page.find(Locator::LinkText("Matcha Uji")).await.unwrap().click().await.unwrap();
        wait_for(&page, "Change product").await;
        screenshot(&page, "admin-change-form").await;
        fill(&page, "stock", "7").await;
        click(&page, "button[name='_save']").await;
        wait_for(&page, "was changed successfully").await;
        assert!(page.source().await.unwrap().contains("<td>7</td>"));

        // Delete it through the confirmation page.
        page.find(Locator::LinkText("Matcha Uji")).await.unwrap().click().await.unwrap();
        wait_for(&page, "Change product").await;
        click(&page, "a.deletelink").await;
        wait_for(&page, "Are you sure you want to delete the product “Matcha Uji”?").await;
        click(&page, "button.default").await;
        let gone = wait_for(&page, "was deleted successfully").await;
        assert!(!gone.contains(">Matcha Uji</a>"));

        // A staff user without permissions sees no shop models.
        click(&page, "#user-tools button").await;
        wait_for(&page, "Logged out").await;
        log_in(&page, &base, "clerk").await;
        let index = page.source().await.unwrap();
        assert!(index.contains("You don’t have permission to view or edit anything."), "{index}");
        assert!(!index.contains("/admin/shop/"));
        page.close().await.unwrap();
    });
}
