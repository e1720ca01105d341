//! The shop's cart end to end: forms with CSRF tokens, messages, exact totals, the JSON API a
//! same-site script uses, a real server with a forged cross-site POST, and a restart.

use manouche::Project;
use manouche::test::{Client, LiveServer};

use crate::common::{Browser, Page};
use crate::shop::seeded_settings;

/// The value of the first `name="<field>" value="..."` in a page.
fn field(html: &str, name: &str) -> String {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html.find(&needle).unwrap_or_else(|| panic!("no field {name} in {html}")) + needle.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn total(html: &str) -> String {
    let start = html.find(r#"class="price cart-total">"#).expect("a total") + 25;
    html[start..].split('<').next().unwrap().to_owned()
}

fn messages(html: &str) -> Vec<String> {
    html.split(r#"<li class=""#)
        .skip(1)
        .filter_map(|item| {
            let (class, rest) = item.split_once("\">")?;
            Some(format!("{class}: {}", rest.split("</li>").next()?))
        })
        .collect()
}

#[test]
fn the_cart_adds_changes_and_removes_lines_with_messages_and_exact_totals() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    let page = client.get("/products/sencha-kyoto/").send().text();
    assert!(page.contains(r#"<form class="add-to-cart" method="post" action="/cart/add/""#), "{page}");
    let (token, sencha) = (field(&page, "csrfmiddlewaretoken"), field(&page, "product"));
    assert_eq!(token.len(), 64);
    let assam = field(&client.get("/products/assam-breakfast/").send().text(), "product");
    let post = |path: &str, fields: &[(&str, &str)]| {
        let mut form: Vec<(&str, &str)> = vec![("csrfmiddlewaretoken", token.as_str())];
        form.extend_from_slice(fields);
        client.post(path).form(&form).send()
    };

    let added = post("/cart/add/", &[("product", &sencha), ("quantity", "2")]);
    assert_eq!((added.status(), added.header("location")), (303, Some("/cart/")));
    let cart = client.get("/cart/").send().text();
    assert_eq!(messages(&cart), ["success: Your cart holds 2 × Sencha Kyoto."]);
    assert!(cart.contains(r#"<td class="price line-total">28.00</td>"#), "14.00 × 2: {cart}");
    assert_eq!(total(&cart), "28.00");
    assert!(messages(&client.get("/cart/").send().text()).is_empty(), "a message is shown once");

    post("/cart/add/", &[("product", &assam), ("quantity", "1")]);
    post("/cart/add/", &[("product", &sencha), ("quantity", "1")]);
    let cart = client.get("/cart/").send().text();
    assert_eq!(total(&cart), "50.00", "14.00 × 3 + 8.00");
    assert!(cart.contains("Cart (4)"), "the context processor counts the tins");

    // More than the stock (30) is capped, with a warning.
    post("/cart/change/", &[("product", &sencha), ("quantity", "45")]);
    let cart = client.get("/cart/").send().text();
    assert_eq!(messages(&cart), ["warning: Only 30 tins of Sencha Kyoto are in stock: your cart holds 30."]);
    assert_eq!(total(&cart), "428.00");

    post("/cart/remove/", &[("product", &assam)]);
    let cart = client.get("/cart/").send().text();
    assert_eq!(messages(&cart), ["success: Removed Assam Breakfast from your cart."]);
    assert_eq!(total(&cart), "420.00");
    post("/cart/change/", &[("product", &sencha), ("quantity", "0")]);
    assert!(client.get("/cart/").send().text().contains("Your cart is empty."));

    // Sold out: refused with an error message.
    let hojicha = client.get("/products/hojicha/").send().text();
    assert!(!hojicha.contains("add-to-cart"), "no form for a sold-out tea");
    let hojicha_id =
        client.get("/api/products/?q=Hojicha").send().json::<serde_json::Value>().unwrap()["results"][0]["id"]
            .to_string();
    post("/cart/add/", &[("product", &hojicha_id), ("quantity", "1")]);
    assert_eq!(messages(&client.get("/cart/").send().text()), ["error: Hojicha is sold out."]);
}

#[test]
fn bad_cart_input_is_a_clear_client_error() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    let page = client.get("/products/gunpowder/").send().text();
    let (token, id) = (field(&page, "csrfmiddlewaretoken"), field(&page, "product"));
    let post = |fields: &[(&str, &str)]| {
        let mut form = vec![("csrfmiddlewaretoken", token.as_str())];
        form.extend_from_slice(fields);
        client.post("/cart/add/").form(&form).send()
    };
    let zero = post(&[("product", &id), ("quantity", "0")]);
    assert_eq!(zero.status(), 400);
    assert!(zero.text().contains("the quantity must be 1 to 99"), "{}", zero.text());
    assert_eq!(post(&[("product", &id), ("quantity", "lots")]).status(), 400);
    assert_eq!(post(&[("product", &id)]).status(), 400, "a missing field");
    assert_eq!(post(&[("product", "999999"), ("quantity", "1")]).status(), 404);
    let no_token = client.post("/cart/add/").form(&[("product", id.as_str()), ("quantity", "1")]).send();
    assert_eq!(no_token.status(), 403);
}

#[test]
fn a_same_site_script_uses_the_json_api_with_the_header_token() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    let page = client.get("/products/genmaicha/").send().text();
    assert!(page.contains(r#"data-api="/api/cart/""#) && page.contains(r#"<script src="/static/shop/cart.js" defer>"#));
    let id: i64 = field(&page, "product").parse().unwrap();
    // A script reads the token from the `csrftoken` cookie, as Django's docs show.
    let token = client.cookies()["csrftoken"].clone();
    let empty: serde_json::Value = client.get("/api/cart/").send().json().unwrap();
    assert_eq!(empty, serde_json::json!({"lines": [], "count": 0, "total": "0.00"}));
    let set = client
        .post("/api/cart/")
        .header("X-CSRFToken", &token)
        .json(&serde_json::json!({"product": id, "quantity": 3}))
        .send();
    assert_eq!(set.status(), 200, "{}", set.text());
    let cart: serde_json::Value = set.json().unwrap();
    assert_eq!(cart["count"], 3);
    assert_eq!(cart["message"], "Your cart holds 3 × Genmaicha.");
    assert_eq!(cart["total"], "27.00");
    assert_eq!(cart["lines"][0]["unit_price"], "9.00");
    let forged = client.post("/api/cart/").json(&serde_json::json!({"product": id, "quantity": 9})).send();
    assert_eq!(forged.status(), 403, "no header, no change");
    let bad = client.post("/api/cart/").header("X-CSRFToken", &token).json(&"nonsense").send();
    assert_eq!(bad.status(), 400);
    assert_eq!(client.get("/api/cart/").send().json::<serde_json::Value>().unwrap()["count"], 3);
    assert!(messages(&client.get("/cart/").send().text()).is_empty(), "the API leaves no message for the next page");
}

fn cart_total(browser: &mut Browser) -> Option<String> {
    let page = browser.get("/cart/");
    assert_eq!(page.status, 200, "{}", page.body);
    page.body.contains("cart-total").then(|| total(&page.body))
}

#[test]
fn the_cart_works_on_a_real_server_refuses_a_forged_post_and_survives_a_restart() {
    let settings = seeded_settings();
    let server = LiveServer::start(example_shop::configure(Project::new(settings.clone()))).unwrap();
    let mut browser = Browser::new(server.addr());
    let page = browser.get("/products/tieguanyin/");
    assert_eq!(page.status, 200);
    assert!(browser.cookies.contains_key("csrftoken"), "the form's page sets the CSRF cookie: {:?}", page.headers);
    let (token, id) = (field(&page.body, "csrfmiddlewaretoken"), field(&page.body, "product"));
    let added: Page = browser.post_form(
        "/cart/add/",
        &[("csrfmiddlewaretoken", &token), ("product", &id), ("quantity", "2")],
        &[("Origin", "http://localhost")],
    );
    assert_eq!((added.status, added.header("location")), (303, Some("/cart/")), "{}", added.body);
    assert!(browser.cookies.contains_key("sessionid"), "the cart started a session");
    assert_eq!(cart_total(&mut browser).as_deref(), Some("36.00"), "18.00 × 2");

    let changed = browser.post_form(
        "/cart/change/",
        &[("csrfmiddlewaretoken", &token), ("product", &id), ("quantity", "5")],
        &[],
    );
    assert_eq!(changed.status, 303);
    assert_eq!(cart_total(&mut browser).as_deref(), Some("90.00"));

    // A page on another site posts with the visitor's cookies but cannot read the token.
    let forged = browser.post_form(
        "/cart/change/",
        &[("product", &id), ("quantity", "15")],
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("CSRF verification failed"));
    // Even a leaked token does not help from another origin.
    let leaked = browser.post_form(
        "/cart/change/",
        &[("csrfmiddlewaretoken", &token), ("product", &id), ("quantity", "15")],
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(leaked.status, 403);
    assert_eq!(cart_total(&mut browser).as_deref(), Some("90.00"), "the forged posts changed nothing");

    // The database store keeps the cart across a restart.
    drop(server);
    let server = LiveServer::start(example_shop::configure(Project::new(settings))).unwrap();
    browser.addr = server.addr();
    assert_eq!(cart_total(&mut browser).as_deref(), Some("90.00"));

    let removed = browser.post_form("/cart/remove/", &[("csrfmiddlewaretoken", &token), ("product", &id)], &[]);
    assert_eq!(removed.status, 303);
    assert_eq!(cart_total(&mut browser), None, "the cart is empty");
}
