//! The shop's accounts and checkout: sign-up keeps the cart, checkout places an order in one
//! transaction that never oversells (N buyers racing for K tins on SQLite and PostgreSQL, on a
//! real server), customers see only their own orders, editors publish through a group.

use diesel::ExpressionMethods as _;
use example_shop::shop::models::{Order, OrderItem, Product};
use manouche::Project;
use manouche::db::Model as _;
use manouche::test::{Client, LiveServer, TestDatabase};

use crate::common::Browser;
use crate::shop::seeded_settings;

pub(crate) fn token_in(html: &str) -> String {
    let start = html.find(r#"name="csrfmiddlewaretoken" value=""#).expect("a CSRF field") + 34;
    html[start..start + 64].to_owned()
}

pub(crate) fn field(html: &str, name: &str) -> String {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html.find(&needle).unwrap_or_else(|| panic!("no {name} in {html}")) + needle.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn sign_up(client: &Client, username: &str) -> manouche::test::Response {
    let token = token_in(&client.get("/accounts/signup/").send().text());
    client
        .post("/accounts/signup/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", username),
            ("email", &format!("{username}@example.com")),
            ("password1", "a velvet teapot sings"),
            ("password2", "a velvet teapot sings"),
        ])
        .send()
}

/// The stock of the product `slug`, read from the database.
fn stock_of(client: &Client, slug: &'static str) -> i32 {
    client.db().run_sync(move |conn| Product::objects().filter(Product::slug.eq(slug)).get_sync(conn)).unwrap().stock
}

fn add_to_cart(client: &Client, slug: &str, quantity: &str) {
    let page = client.get(&format!("/products/{slug}/")).send().text();
    let form = [
        ("csrfmiddlewaretoken", token_in(&page)),
        ("product", field(&page, "product")),
        ("quantity", quantity.to_owned()),
    ];
    assert_eq!(client.post("/cart/add/").form(&form).send().status(), 303);
}

#[test]
fn a_customer_signs_up_keeps_the_cart_checks_out_and_sees_only_their_orders() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    assert_eq!(client.get("/checkout/").send().header("location"), Some("/accounts/login/?next=/checkout/"));
    add_to_cart(&client, "gunpowder", "2");

    // Sign-up errors are Django's, by field.
    let token = token_in(&client.get("/accounts/signup/").send().text());
    let bad = client
        .post("/accounts/signup/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", "no spaces"),
            ("email", "x"),
            ("password1", "a"),
            ("password2", "b"),
        ])
        .send()
        .text();
    for message in ["Enter a valid username.", "Enter a valid email address.", "The two password fields didn’t match."]
    {
        assert!(bad.contains(message), "{message} in {bad}");
    }
    let welcome = sign_up(&client, "ada");
    assert_eq!((welcome.status(), welcome.header("location")), (302, Some("/")));
    let home = client.get("/").send().text();
    assert!(home.contains("Welcome, ada! Your account is ready."), "{home}");
    assert!(home.contains("Cart (2)"), "the cart survived the login: {home}");
    assert!(home.contains(r#"<span class="who">ada</span>"#));

    let checkout = client.get("/checkout/").send().text();
    assert!(checkout.contains(r#"<td class="price checkout-total">13.00</td>"#), "6.50 × 2: {checkout}");
    assert!(checkout.contains(r#"<textarea name="address""#), "the address form: {checkout}");
    let token = token_in(&checkout);
    let address = |postcode: &'static str| {
        [
            ("csrfmiddlewaretoken", token.as_str()),
            ("ship_to", "Ada Lovelace"),
            ("address", "12 St James's Square"),
            ("postcode", postcode),
            ("city", "London"),
        ]
    };
    let refused = client.post("/checkout/").form(&address("SW1Y <4JH>")).send().text();
    assert!(refused.contains("Enter a valid postcode."), "no order without a valid address: {refused}");
    assert!(refused.contains("12 St James&#x27;s Square"), "the address is kept: {refused}");
    let placed = client.post("/checkout/").form(&address("sw1y 4jh")).send();
    assert_eq!(placed.status(), 302, "{}", placed.text());
    let location = placed.header("location").unwrap().to_owned();
    assert!(location.starts_with("/orders/"), "{location}");
    let order_page = client.get(&location).send().text();
    assert!(order_page.contains("Thank you! Your order"), "{order_page}");
    assert!(order_page.contains(r#"<td class="price order-total">13.00</td>"#), "{order_page}");
    assert!(order_page.contains("Ada Lovelace<br>12 St James&#39;s Square<br>SW1Y 4JH London"), "{order_page}");
    assert!(client.get("/").send().text().contains("Cart (0)"), "the cart is emptied");
    let shipped = client.db().run_sync(|conn| Order::objects().first_sync(conn)).unwrap().unwrap();
    assert_eq!(
        (shipped.postcode.as_str(), shipped.city.as_str()),
        ("SW1Y 4JH", "London"),
        "the postcode hook upper-cases"
    );
    let stock = client
        .db()
        .run_sync(|conn| Product::objects().filter(Product::slug.eq("gunpowder")).get_sync(conn))
        .unwrap()
        .stock;
    assert_eq!(stock, 78, "80 - 2");
    assert!(client.get("/orders/").send().text().contains(&location[8..44]), "listed under My orders");

    // Another customer sees neither the order nor it in their list.
    let token = token_in(&client.get("/").send().text());
    client.post("/accounts/logout/").form(&[("csrfmiddlewaretoken", token.as_str()), ("next", "/")]).send();
    assert_eq!(sign_up(&client, "grace").status(), 302);
    assert_eq!(client.get(&location).send().status(), 404, "another customer's order");
    assert!(!client.get("/orders/").send().text().contains(&location[8..44]));
    assert_eq!(client.get("/orders/not-a-uuid/").send().status(), 404);
}

#[test]
fn editors_publish_through_their_group_and_others_cannot() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    let page = client.get("/products/hojicha/").send().text();
    assert!(!page.contains("Withdraw from the catalogue"));
    let anonymous = client
        .post("/products/hojicha/publish/")
        .form(&[("csrfmiddlewaretoken", token_in(&client.get("/accounts/signup/").send().text()))])
        .send();
    assert_eq!(anonymous.header("location"), Some("/accounts/login/?next=/products/hojicha/publish/"));
    sign_up(&client, "ed");
    let refused = client
        .post("/products/hojicha/publish/")
        .form(&[("csrfmiddlewaretoken", token_in(&client.get("/accounts/signup/").send().text()))])
        .send();
    assert_eq!(refused.status(), 403, "a customer is not an editor");
    client
        .db()
        .run_sync(|conn| {
            use manouche::auth::{Group, User};
            let ed = User::objects().filter(User::username.eq("ed")).get_sync(conn)?;
            let editors = Group::objects().filter(Group::name.eq("Editors")).get_sync(conn)?;
            ed.groups().add_sync(conn, &editors)
        })
        .unwrap();
    let page = client.get("/products/hojicha/").send().text();
    assert!(page.contains("Withdraw from the catalogue"), "editors see the switch");
    let withdrawn = client.post("/products/hojicha/publish/").form(&[("csrfmiddlewaretoken", token_in(&page))]).send();
    assert_eq!((withdrawn.status(), withdrawn.header("location")), (302, Some("/products/")));
    assert_eq!(client.get("/products/hojicha/").send().status(), 404, "no longer on sale");
}

/// Logs a new account in through a real server and puts `quantity` of `slug` in its cart.
fn shopper(addr: std::net::SocketAddr, name: &str, slug: &str) -> Browser {
    let mut browser = Browser::new(addr);
    let page = browser.get("/accounts/signup/");
    let token = token_in(&page.body);
    let signed = browser.post_form(
        "/accounts/signup/",
        &[
            ("csrfmiddlewaretoken", &token),
            ("username", name),
            ("email", &format!("{name}@example.com")),
            ("password1", "a velvet teapot sings"),
            ("password2", "a velvet teapot sings"),
        ],
        &[],
    );
    assert_eq!(signed.status, 302, "{}", signed.body);
    let page = browser.get(&format!("/products/{slug}/"));
    let (token, id) = (token_in(&page.body), field(&page.body, "product"));
    assert_eq!(
        browser
            .post_form("/cart/add/", &[("csrfmiddlewaretoken", &token), ("product", &id), ("quantity", "1")], &[])
            .status,
        303
    );
    browser
}

#[test]
fn racing_checkouts_for_the_last_tins_never_oversell() {
    const BUYERS: usize = 6;
    const TINS: i32 = 2;
    for test_db in TestDatabase::all("checkouts are") {
        let settings = seeded_settings();
        let project = test_db.migrated(example_shop::configure(Project::new(settings))).unwrap();
        assert!(project.call_command(["seed"]).success());
        let client =
            Client::new(test_db.project(example_shop::configure(Project::new(seeded_settings()))).unwrap()).unwrap();
        client
            .db()
            .run_sync(|conn| {
                Product::objects().filter(Product::slug.eq("da-hong-pao")).update_sync(conn, Product::stock.eq(TINS))
            })
            .unwrap();

        let server = LiveServer::start(project).unwrap();
        let shoppers: Vec<(String, Browser)> = (0..BUYERS)
            .map(|i| {
                let name = format!("buyer{i}");
                let browser = shopper(server.addr(), &name, "da-hong-pao");
                (name, browser)
            })
            .collect();
        // Everyone is ready; all check out at once.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(BUYERS));
        let results: Vec<(String, u16, String)> = shoppers
            .into_iter()
            .map(|(name, mut browser)| {
                let barrier = std::sync::Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let token = token_in(&browser.get("/checkout/").body);
                    barrier.wait();
                    let address = [
                        ("csrfmiddlewaretoken", token.as_str()),
                        ("ship_to", name.as_str()),
                        ("address", "1 Main St"),
                        ("postcode", "12345"),
                        ("city", "Lyon"),
                    ];
                    let response = browser.post_form("/checkout/", &address, &[]);
                    (name, response.status, response.header("location").unwrap_or_default().to_owned())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let placed = results.iter().filter(|(_, _, location)| location.starts_with("/orders/")).count();
        let refused = results.iter().filter(|(_, _, location)| location == "/cart/").count();
        assert_eq!((placed, refused), (2, BUYERS - 2), "{:?}: {results:?}", test_db.backend());
        let (stock, orders, items) = client
            .db()
            .run_sync(|conn| {
                let product = Product::objects().filter(Product::slug.eq("da-hong-pao")).get_sync(conn)?;
                let items = OrderItem::objects().filter(OrderItem::product.eq(product.id)).all_sync(conn)?;
                let orders = Order::objects().count_sync(conn)?;
                Ok((product.stock, orders, items))
            })
            .unwrap();
        assert_eq!(stock, 0, "{:?}: never negative, all sold", test_db.backend());
        assert_eq!(items.len(), 2, "every placed order has its item");
        assert!(items.iter().all(|item| item.quantity == 1));
        assert_eq!(orders, 1 + 2, "the seeded order and the two placed: no empty order from a refusal");

        // A winner logs in again through the login form of the real server and finds the order.
        let (winner, _, location) = results.iter().find(|(_, _, l)| l.starts_with("/orders/")).unwrap();
        let mut browser = Browser::new(server.addr());
        let page = browser.get(&format!("/accounts/login/?next={location}"));
        let form = [
            ("csrfmiddlewaretoken", token_in(&page.body)),
            ("username", winner.clone()),
            ("password", "a velvet teapot sings".to_owned()),
            ("next", location.clone()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let login = browser.post_form("/accounts/login/", &form, &[]);
        assert_eq!((login.status, login.header("location")), (302, Some(location.as_str())), "{}", login.body);
        let order = browser.get(location);
        assert!(order.body.contains("Da Hong Pao") && order.body.contains("24.00"), "{}", order.body);
        assert!(browser.get("/orders/").body.contains(&location[8..44]));
    }
}

#[test]
fn customers_log_in_with_their_email_through_a_second_backend() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap();
    assert_eq!(sign_up(&client, "ada").status(), 302);
    client.post("/accounts/logout/").send();
    let by_email = client
        .post("/accounts/login/")
        .form(&[("username", "ADA@example.com"), ("password", "a velvet teapot sings"), ("next", "/orders/")])
        .send();
    assert_eq!(by_email.header("location"), Some("/orders/"), "{}", by_email.text());
    // The next requests load the user through the backend that logged them in.
    assert!(client.get("/orders/").send().text().contains("My orders"));
    assert!(client.get("/").send().text().contains(r#"<span class="who">ada</span>"#));
    client.post("/accounts/logout/").send();
    let wrong = client.post("/accounts/login/").form(&[("username", "ada@example.com"), ("password", "nope")]).send();
    assert_eq!(wrong.status(), 200, "the form again");
    assert!(wrong.text().contains(manouche::auth::views::INVALID_LOGIN));
}

#[test]
fn a_customer_reviews_a_tea_once_through_the_review_form() {
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    assert_eq!(
        client.get("/products/hojicha/review/").send().header("location"),
        Some("/accounts/login/?next=/products/hojicha/review/")
    );
    sign_up(&client, "grace");
    let page = client.get("/products/hojicha/").send().text();
    assert!(page.contains(r#"href="/products/hojicha/review/">Write a review</a>"#), "{page}");
    let form = client.get("/products/hojicha/review/").send().text();
    assert!(form.contains(r#"<option value="5">"#) && form.contains("<textarea name=\"body\""), "{form}");
    let token = token_in(&form);
    let post = |rating: &str, body: &str| {
        client
            .post("/products/hojicha/review/")
            .form(&[("csrfmiddlewaretoken", token.as_str()), ("rating", rating), ("body", body)])
            .send()
    };
    let bad = post("7", "").text();
    assert!(bad.contains("Select a valid choice. 7 is not one of the available choices."), "{bad}");
    assert!(bad.contains("This field is required."), "{bad}");
    let saved = post("4", "Nutty <and> calm.");
    assert_eq!((saved.status(), saved.header("location")), (302, Some("/products/hojicha/")));
    let page = client.get("/products/hojicha/").send().text();
    assert!(page.contains("<strong title=\"Very good\">4/5</strong> Nutty &#60;and&#62; calm."), "{page}");
    let again = post("5", "Even better.").text();
    assert!(again.contains("You have already reviewed this tea."), "{again}");
}

#[test]
fn the_order_confirmation_goes_out_through_a_task_once_the_order_is_committed() {
    let settings = crate::shop::seeded_settings_with(&[("MANOUCHE_EMAIL_BACKEND", "locmem")]);
    let client = Client::new(example_shop::configure(Project::new(settings))).unwrap().enforce_csrf_checks();
    let sent_to =
        |to: &str| manouche::mail::outbox().into_iter().filter(|m| m.to == [to.to_owned()]).collect::<Vec<_>>();
    sign_up(&client, "confirmed");
    // Refused (more tins than the shelf holds): rolled back, nothing sent.
    add_to_cart(&client, "gunpowder", "2");
    client
        .db()
        .run_sync(|conn| {
            Product::objects().filter(Product::slug.eq("gunpowder")).update_sync(conn, Product::stock.eq(1))
        })
        .unwrap();
    let token = token_in(&client.get("/checkout/").send().text());
    let address = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("ship_to", "Ada Lovelace"),
        ("address", "12 St James's Square"),
        ("postcode", "SW1Y 4JH"),
        ("city", "London"),
    ];
    let refused = client.post("/checkout/").form(&address).send();
    assert_eq!(refused.header("location"), Some("/cart/"));
    assert!(sent_to("confirmed@example.com").is_empty(), "no mail for a rolled-back order");
    client
        .db()
        .run_sync(|conn| {
            Product::objects().filter(Product::slug.eq("gunpowder")).update_sync(conn, Product::stock.eq(80))
        })
        .unwrap();
    let placed = client.post("/checkout/").form(&address).send();
    assert_eq!(placed.status(), 302, "{}", placed.text());
    let reference = placed.header("location").unwrap()[8..44].to_owned();
    let mails = sent_to("confirmed@example.com");
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, format!("Your order {reference}"));
    assert!(mails[0].body.contains("2 × Gunpowder"), "{}", mails[0].body);
    assert!(mails[0].body.contains("Total: 13.00"), "{}", mails[0].body);
}

#[test]
fn unpaid_orders_older_than_a_day_are_cancelled_and_restocked_by_the_nightly_task() {
    use example_shop::shop::models::{Customer, OrderStatus};
    use example_shop::shop::tasks::cancel_unpaid_orders;
    use manouche::db::{ForeignKey, Uuid};
    let client = Client::new(example_shop::configure(Project::new(crate::shop::seeded_settings()))).unwrap();
    let stock = |slug: &'static str| stock_of(&client, slug);
    let before = (stock("gunpowder"), stock("hojicha"));
    let place = |status: OrderStatus, hours_ago: i64, lines: &'static [(&'static str, i32)]| {
        client
            .db()
            .atomic_sync(move |conn| {
                let customer = Customer::objects().first_sync(conn)?.expect("a seeded customer");
                let order = Order {
                    id: 0,
                    reference: Uuid::new_v4(),
                    customer: ForeignKey::new(customer.id),
                    status,
                    placed_at: manouche::db::now(),
                    ship_to: String::new(),
                    address: String::new(),
                    postcode: String::new(),
                    city: String::new(),
                }
                .save_sync(conn)?;
                let placed_at = manouche::db::now() - manouche::chrono::Duration::hours(hours_ago);
                Order::objects().filter(Order::id.eq(order.id)).update_sync(conn, Order::placed_at.eq(placed_at))?;
                for (slug, quantity) in lines {
                    let product = Product::objects().filter(Product::slug.eq(*slug)).get_sync(conn)?;
                    OrderItem {
                        id: 0,
                        order: ForeignKey::new(order.id),
                        product: ForeignKey::new(product.id),
                        quantity: *quantity,
                        unit_price: product.price,
                    }
                    .save_sync(conn)?;
                }
                Ok(order.id)
            })
            .unwrap()
    };
    let stale = place(OrderStatus::Pending, 30, &[("gunpowder", 3), ("hojicha", 2)]);
    let recent = place(OrderStatus::Pending, 2, &[("gunpowder", 1)]);
    let paid = place(OrderStatus::Paid, 48, &[("hojicha", 4)]);
    let result = client.within(|| cancel_unpaid_orders.enqueue_sync()).unwrap();
    assert_eq!(result.return_value(), Some(1), "{:?}", result.errors());
    let status = |id: i64| {
        client.db().run_sync(move |conn| Order::objects().filter(Order::id.eq(id)).get_sync(conn)).unwrap().status
    };
    assert_eq!(
        (status(stale), status(recent), status(paid)),
        (OrderStatus::Cancelled, OrderStatus::Pending, OrderStatus::Paid)
    );
    assert_eq!((stock("gunpowder"), stock("hojicha")), (before.0 + 3, before.1 + 2), "the stale order's tins are back");
    // Nothing left to do the next night.
    assert_eq!(client.within(|| cancel_unpaid_orders.enqueue_sync()).unwrap().return_value(), Some(0));
    assert_eq!(cancel_unpaid_orders::SPEC.schedule.map(|s| s.to_string()).as_deref(), Some("cron `0 3 * * *`"));
}

#[test]
fn staff_import_stock_from_an_uploaded_file_all_or_nothing() {
    use manouche::test::Multipart;
    let client = Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks();
    let stock = |slug: &'static str| stock_of(&client, slug);
    let upload = |csv: &str| {
        let page = client.get("/products/import-stock/").send().text();
        let body = Multipart::new().field("csrfmiddlewaretoken", &token_in(&page)).file(
            "file",
            "stock.csv",
            "text/csv",
            csv.as_bytes().to_vec(),
        );
        client.post("/products/import-stock/").multipart(&body).send()
    };
    let anonymous = client.get("/products/import-stock/").send();
    assert_eq!(anonymous.header("location"), Some("/accounts/login/?next=/products/import-stock/"));
    sign_up(&client, "stockist");
    let refused = client.get("/products/import-stock/").send();
    assert_eq!(refused.status(), 403, "a customer may not change products");
    client
        .db()
        .run_sync(|conn| {
            use manouche::auth::{Permission, User};
            let user = User::objects().filter(User::username.eq("stockist")).get_sync(conn)?;
            let perm = Permission::objects()
                .filter(Permission::app_label.eq("shop"))
                .filter(Permission::codename.eq("change_product"))
                .get_sync(conn)?;
            user.user_permissions().add_sync(conn, &perm)
        })
        .unwrap();
    let page = client.get("/products/import-stock/").send().text();
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("type=\"file\""), "{page}");
    let (sencha, hojicha) = (stock("sencha-kyoto"), stock("hojicha"));

    // One wrong line: nothing changes, and each problem names its line.
    let bad = upload("slug,stock\nsencha-kyoto,40\nno-such-tea,3\nhojicha,-2\n");
    assert_eq!(bad.status(), 200);
    assert!(bad.text().contains("Line 4: the stock must be a whole number, 0 or more."), "{}", bad.text());
    assert_eq!((stock("sencha-kyoto"), stock("hojicha")), (sencha, hojicha));
    let bad = upload("slug,stock\nsencha-kyoto,40\nno-such-tea,3\n");
    assert!(bad.text().contains("Line 3: no product no-such-tea."), "{}", bad.text());
    assert_eq!(stock("sencha-kyoto"), sencha, "all or nothing");

    let done = upload("slug,stock\nsencha-kyoto,40\nhojicha,0\n");
    assert_eq!((done.status(), done.header("location")), (302, Some("/products/")));
    assert_eq!((stock("sencha-kyoto"), stock("hojicha")), (40, 0));
    let list = client.get("/products/").send().text();
    assert!(list.contains("Updated the stock of 2 products."), "the message is shown");
}
