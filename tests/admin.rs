//! The admin site through the test client, on the example shop: staff-only login, the index by
//! permission, the change list (search, filters, sorting, pagination in a constant number of
//! queries), add/change with errors kept, read-only view permission, delete confirmation with
//! protected rows, the bulk delete action and history entries. Mirrors Django's
//! `admin_views` tests.

use diesel::ExpressionMethods as _;
use example_shop::shop::models::{Category, Product};
use manouche::Project;
use manouche::admin::LogEntry;
use manouche::auth::{Permission, User};
use manouche::db::Model as _;
use manouche::test::{Client, TestDatabase};

use crate::shop::seeded_settings;

fn token_in(html: &str) -> String {
    let start = html.find(r#"name="csrfmiddlewaretoken" value=""#).expect("a CSRF field") + 34;
    html[start..start + 64].to_owned()
}

fn hasher() -> manouche::auth::hashers::Hasher {
    manouche::auth::hashers::Hasher { iterations: 1000, ..Default::default() }
}

fn shop() -> Client {
    Client::new(example_shop::configure(Project::new(seeded_settings()))).unwrap().enforce_csrf_checks()
}

/// A user with these flags and permissions (`shop.view_product`, ...).
fn user(client: &Client, name: &str, staff: bool, superuser: bool, perms: &[&str]) -> User {
    let mut user = User::new(name, &format!("{name}@example.com"), Some("a velvet teapot"), &hasher()).unwrap();
    user.is_staff = staff;
    user.is_superuser = superuser;
    let perms: Vec<(String, String)> =
        perms.iter().map(|p| p.split_once('.').map(|(a, c)| (a.to_owned(), c.to_owned())).unwrap()).collect();
    client
        .db()
        .run_sync(move |conn| {
            let user = user.save_sync(conn)?;
            for (app, codename) in perms {
                let perm = Permission::objects()
                    .filter(Permission::app_label.eq(app))
                    .filter(Permission::codename.eq(codename))
                    .get_sync(conn)?;
                user.user_permissions().add_sync(conn, &perm)?;
            }
            Ok(user)
        })
        .unwrap()
}

fn log_in(client: &Client, name: &str) -> manouche::test::Response {
    let token = token_in(&client.get("/admin/login/").send().text());
    client
        .post("/admin/login/?next=/admin/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("username", name), ("password", "a velvet teapot")])
        .send()
}

fn post(client: &Client, path: &str, fields: &[(&str, &str)]) -> manouche::test::Response {
    let token = token_in(&client.get(path).send().text());
    let mut form: Vec<(&str, &str)> = vec![("csrfmiddlewaretoken", &token)];
    form.extend_from_slice(fields);
    client.post(path).form(&form).send()
}

#[test]
fn only_active_staff_get_in_and_see_the_models_they_may_use() {
    let client = shop();
    let anonymous = client.get("/admin/").send();
    assert_eq!(anonymous.status(), 302);
    assert_eq!(anonymous.header("location"), Some("/admin/login/?next=%2Fadmin%2F"));
    assert_eq!(
        client.get("/admin/shop/product/").send().header("location"),
        Some("/admin/login/?next=%2Fadmin%2Fshop%2Fproduct%2F")
    );
    let login = client.get("/admin/login/").send();
    assert_eq!(login.header("x-frame-options"), Some("DENY"), "clickjacking protection");

    user(&client, "customer", false, false, &[]);
    let refused = log_in(&client, "customer");
    assert_eq!(refused.status(), 200);
    assert!(refused.text().contains(manouche::admin::INVALID_STAFF_LOGIN));

    user(&client, "clerk", true, false, &[]);
    assert_eq!(log_in(&client, "clerk").header("location"), Some("/admin/"));
    let index = client.get("/admin/").send().text();
    assert!(index.contains("You don’t have permission to view or edit anything."), "{index}");
    assert!(!index.contains("/admin/shop/product/"));
    for path in [
        "/admin/shop/product/",
        "/admin/shop/product/add/",
        "/admin/shop/product/1/change/",
        "/admin/shop/product/1/delete/",
        "/admin/shop/product/1/history/",
    ] {
        assert_eq!(client.get(path).send().status(), 403, "{path}");
    }

    let client = shop();
    user(&client, "lister", true, false, &["shop.view_product", "shop.add_category"]);
    log_in(&client, "lister");
    let index = client.get("/admin/").send().text();
    assert!(index.contains(r#"<a href="/admin/shop/product/">Products</a>"#), "{index}");
    assert!(index.contains(r#"<a href="/admin/shop/category/add/" class="addlink">Add</a>"#), "{index}");
    assert!(!index.contains("/admin/shop/order/") && !index.contains("/admin/auth/user/"), "{index}");
    assert_eq!(client.get("/admin/shop/order/").send().status(), 403);
    assert_eq!(client.get("/admin/shop/nothing/").send().status(), 404);

    // A next that leaves the site is not followed.
    let client = shop();
    user(&client, "boss", true, true, &[]);
    let token = token_in(&client.get("/admin/login/").send().text());
    let away = client
        .post("/admin/login/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", "boss"),
            ("password", "a velvet teapot"),
            ("next", "https://evil.example/"),
        ])
        .send();
    assert_eq!(away.header("location"), Some("/admin/"));
}

#[test]
fn the_change_list_searches_filters_sorts_and_pages() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let list = client.get("/admin/shop/product/").send().text();
    for column in ["Name", "Category", "Price", "Stock", "Active"] {
        assert!(list.contains(&format!(">{column}</a></th>")), "{column}: {list}");
    }
    assert!(list.contains("<td>Black teas</td>"), "a foreign key shows its target: {list}");
    assert!(list.contains("<th scope=\"col\">Stock value</th>"), "a method column: {list}");
    assert!(list.contains("<td>120</td><td>960.00</td>"), "Assam: 8.00 × 120 tins: {list}");
    assert!(list.contains("9 products"), "{list}");

    let found = client.get("/admin/shop/product/?q=rolled+leaves").send().text();
    assert!(found.contains(">Tieguanyin</a>") && !found.contains(">Gunpowder</a>"), "every word must match: {found}");
    assert!(found.contains("1 result (<a href=\"?\">9 total</a>)"), "{found}");

    let oolongs = client.get("/admin/shop/product/?q=oolongs").send().text();
    assert!(
        oolongs.contains(">Tieguanyin</a>") && oolongs.contains(">Da Hong Pao</a>"),
        "found by the category's name: {oolongs}"
    );
    assert!(oolongs.contains("2 results"), "{oolongs}");
    let rock = client.get("/admin/shop/product/?q=oolongs+rock").send().text();
    assert!(
        rock.contains(">Da Hong Pao</a>") && rock.contains("1 result ("),
        "each word in one field or another: {rock}"
    );
    let inactive = client.get("/admin/shop/product/?active=false").send().text();
    assert!(inactive.contains("0 products") || inactive.contains("0 result"), "{inactive}");
    let green = client.get(&format!("/admin/shop/product/?category={}", category_id(&client, "green"))).send().text();
    assert!(green.contains("4 products") && !green.contains(r#"<li class="selected"><a href="?">All</a>"#), "{green}");
    assert!(green.contains(">Hojicha</a>") && !green.contains(">Assam Breakfast</a>"));

    let default = client.get("/admin/shop/product/").send().text();
    assert!(
        default.find(">Assam Breakfast</a>").unwrap() < default.find(">Tieguanyin</a>").unwrap(),
        "ordering = [name]"
    );
    let by_price = client.get("/admin/shop/product/?o=-price").send().text();
    let (expensive, cheap) = (by_price.find(">Da Hong Pao</a>").unwrap(), by_price.find(">Gunpowder</a>").unwrap());
    assert!(expensive < cheap, "sorted by price, highest first");
    assert!(by_price.contains(r#"class="sorted descending""#));
    assert_eq!(client.get("/admin/shop/product/?o=-password").send().status(), 200, "an unknown column is ignored");
    assert_eq!(client.get("/admin/shop/product/?p=99").send().status(), 200, "a page past the end shows the first");
    assert_eq!(
        client.get("/admin/shop/product/?category=abc").send().status(),
        400,
        "a filter value of the wrong type"
    );
}

fn category_id(client: &Client, slug: &'static str) -> i64 {
    client.db().run_sync(move |conn| Category::objects().filter(Category::slug.eq(slug)).get_sync(conn)).unwrap().id
}

#[test]
fn the_change_list_of_ten_thousand_products_pages_in_a_constant_number_of_queries() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let category = category_id(&client, "black");
    let many: Vec<Product> = (0..10_000)
        .map(|i| Product {
            id: 0,
            name: format!("Blend {i:05}"),
            slug: format!("blend-{i:05}"),
            category: manouche::db::ForeignKey::new(category),
            description: "A house blend.".into(),
            price: "5.00".parse().unwrap(),
            stock: 1,
            active: true,
            created_at: manouche::db::now(),
            updated_at: manouche::db::now(),
        })
        .collect();
    client.db().run_sync(move |conn| Product::objects().bulk_create_sync(conn, many)).unwrap();
    let count = |path: &str| client.db().capture_queries(|| client.get(path).send()).1.len();
    let first = count("/admin/shop/product/");
    let last = count("/admin/shop/product/?p=201");
    let searched = count("/admin/shop/product/?q=blend&category=1&o=-price");
    assert_eq!(first, last, "a full page of 50 and the short last one cost the same");
    // A search word costs two more (the categories whose name has it: a count and a page; the
    // products pointing to them would be a third when some are found), and a narrowed list two
    // for the unfiltered total beside the search box, whatever the page size.
    assert_eq!(searched, first + 4);
    // The session, the user, the permissions (one for a superuser), the count, the page, the
    // categories shown, the stock value method's rows and the category filter's choices.
    assert_eq!(first, 8, "{first} queries for a page of 10,009 products");
    let page = client.get("/admin/shop/product/?p=2").send().text();
    assert!(page.contains(r#"<span class="this-page">2</span>"#), "{page}");
    assert!(page.contains("10009 products"));
    assert!(page.contains(r#"<a href="?p=201">201</a>"#), "the last page is linked: {page}");
    assert_eq!(page.matches("class=\"action-select\"").count(), 50, "list_per_page rows");
}

#[test]
fn adding_and_changing_keep_values_on_errors_and_write_history() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let form = client.get("/admin/shop/product/add/").send().text();
    assert!(form.contains(r#"data-prepopulate="id_name""#), "the slug follows the name: {form}");
    assert!(form.contains(r#"<option value="">---------</option>"#) && form.contains(">Black teas</option>"));
    let category = category_id(&client, "green").to_string();
    let product = |price: &'static str| {
        vec![
            ("name", "Matcha <Ceremonial>"),
            ("slug", "matcha"),
            ("category", category.as_str()),
            ("description", "Stone-ground."),
            ("price", price),
            ("stock", "5"),
            ("active", "on"),
            ("_save", ""),
        ]
    };
    let bad = post(&client, "/admin/shop/product/add/", &product("12.345"));
    assert_eq!(bad.status(), 200);
    let html = bad.text();
    assert!(html.contains("Please correct the error below."), "{html}");
    assert!(html.contains("Ensure that there are no more than 2 decimal places."), "{html}");
    assert!(html.contains(r#"value="Matcha &lt;Ceremonial&gt;""#), "values are kept, escaped: {html}");
    assert!(html.contains(r#"value="12.345""#));

    let saved = post(&client, "/admin/shop/product/add/", &product("12.50"));
    assert_eq!((saved.status(), saved.header("location")), (302, Some("/admin/shop/product/")));
    let list = client.get("/admin/shop/product/").send().text();
    assert!(
        list.contains("The product “Matcha &lt;Ceremonial&gt;” was added successfully.")
            || list.contains("was added successfully"),
        "{list}"
    );
    let matcha =
        client.db().run_sync(|conn| Product::objects().filter(Product::slug.eq("matcha")).get_sync(conn)).unwrap();
    assert_eq!(matcha.price, "12.50".parse().unwrap());

    let twin = post(&client, "/admin/shop/product/add/", &product("3.00")).text();
    assert!(
        twin.contains("<li>Product with this Slug already exists.</li>"),
        "unique fields are checked, not a 500: {twin}"
    );

    let change_url = format!("/admin/shop/product/{}/change/", matcha.id);
    let mut changed = product("14.00");
    changed.retain(|(k, _)| *k != "active" && *k != "_save");
    changed.push(("_continue", ""));
    let saved = post(&client, &change_url, &changed);
    assert_eq!(saved.header("location"), Some(change_url.as_str()), "save and continue editing");
    let matcha =
        client.db().run_sync(move |conn| Product::objects().filter(Product::id.eq(matcha.id)).get_sync(conn)).unwrap();
    assert!(!matcha.active, "an unticked box saves false");

    let history = client.get(&format!("/admin/shop/product/{}/history/", matcha.id)).send().text();
    assert!(history.contains("<td>boss</td><td>Added.</td>"), "{history}");
    assert!(history.contains("Changed Price and Active."), "{history}");
    let index = client.get("/admin/").send().text();
    assert!(
        index.contains(&format!(
            r#"Changed <a href="/admin/shop/product/{}/change/">Matcha &lt;Ceremonial&gt;</a>"#,
            matcha.id
        )),
        "recent actions link to the object: {index}"
    );

    let another = post(&client, "/admin/shop/tag/add/", &[("name", "rare"), ("_addanother", "")]);
    assert_eq!(another.header("location"), Some("/admin/shop/tag/add/"));
}

#[test]
fn foreign_keys_must_name_existing_rows_whether_chosen_or_typed() {
    use example_shop::shop::models::Order;
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let forged = post(
        &client,
        "/admin/shop/product/add/",
        &[
            ("name", "X"),
            ("slug", "x"),
            ("category", "424242"),
            ("description", "x"),
            ("price", "1.00"),
            ("stock", "1"),
        ],
    );
    assert_eq!(forged.status(), 200, "a form error, not the database's");
    assert!(forged.text().contains("Select a valid choice. That choice is not one of the available choices."));

    // The order's customer is a raw id field: a text input with the customer's name beside it.
    let order = client.db().run_sync(|conn| Order::objects().first_sync(conn)).unwrap().unwrap();
    let url = format!("/admin/shop/order/{}/change/", order.id);
    let page = client.get(&url).send().text();
    assert!(
        page.contains(&format!(r#"<input type="text" name="customer" value="{}" id="id_customer" class="raw-id" required> <strong>Ada Lovelace &lt;ada@example.com&gt;</strong>"#, order.customer.id())),
        "{page}"
    );
    let typed = post(
        &client,
        &url,
        &[
            ("reference", &order.reference.to_string()),
            ("customer", "999999"),
            ("status", "paid"),
            ("orderitem_set-TOTAL_FORMS", "0"),
        ],
    );
    assert_eq!(typed.status(), 200);
    assert!(typed.text().contains("Select a valid choice. That choice is not one of the available choices."));
}

#[test]
fn unique_together_is_checked_for_the_form_as_a_whole() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let item = client
        .db()
        .run_sync(|conn| example_shop::shop::models::OrderItem::objects().first_sync(conn))
        .unwrap()
        .unwrap();
    let (order, product) = (item.order.id().to_string(), item.product.id().to_string());
    let again = post(
        &client,
        "/admin/shop/orderitem/add/",
        &[("order", &order), ("product", &product), ("quantity", "1"), ("unit_price", "1.00")],
    );
    assert_eq!(again.status(), 200);
    let html = again.text();
    assert!(
        html.contains(
            r#"<ul class="errorlist nonfield"><li>Order item with this Order and Product already exists.</li></ul>"#
        ),
        "{html}"
    );
}

#[test]
fn view_permission_alone_gives_a_read_only_page() {
    let client = shop();
    user(&client, "viewer", true, false, &["shop.view_product"]);
    log_in(&client, "viewer");
    let id =
        client.db().run_sync(|conn| Product::objects().filter(Product::slug.eq("hojicha")).get_sync(conn)).unwrap().id;
    let page = client.get(&format!("/admin/shop/product/{id}/change/")).send().text();
    assert!(page.contains("<h1>View product</h1>"), "{page}");
    assert!(page.contains(r#"<div class="readonly">Hojicha</div>"#), "{page}");
    assert!(!page.contains("name=\"_save\"") && !page.contains("<input type=\"text\" name=\"name\""), "{page}");
    let token = token_in(&page);
    let refused = client
        .post(&format!("/admin/shop/product/{id}/change/"))
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("name", "Renamed")])
        .send();
    assert_eq!(refused.status(), 403);
    assert!(
        !client.get("/admin/shop/product/").send().text().contains(r#"id="action-toggle""#),
        "no delete action without the permission"
    );
}

#[test]
fn deleting_confirms_what_goes_and_refuses_protected_rows() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let green = category_id(&client, "green");
    let refused = client.get(&format!("/admin/shop/category/{green}/delete/")).send().text();
    assert!(refused.contains("Cannot delete") && refused.contains("shop.Product: Hojicha"), "{refused}");

    let tag_id = client
        .db()
        .run_sync(|conn| {
            example_shop::shop::models::Tag::objects()
                .filter(example_shop::shop::models::Tag::name.eq("smoky"))
                .get_sync(conn)
        })
        .unwrap()
        .id;
    let confirm = client.get(&format!("/admin/shop/tag/{tag_id}/delete/")).send().text();
    assert!(confirm.contains("Are you sure you want to delete the tag “smoky”?"), "{confirm}");
    assert!(confirm.contains("shop.ProductTags"), "the links to products go too: {confirm}");
    let deleted = post(&client, &format!("/admin/shop/tag/{tag_id}/delete/"), &[("post", "yes")]);
    assert_eq!(deleted.header("location"), Some("/admin/shop/tag/"));
    let entries = client
        .db()
        .run_sync(|conn| LogEntry::objects().filter(LogEntry::action_flag.eq(manouche::admin::DELETION)).all_sync(conn))
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].object_repr, "smoky");
}

#[test]
fn the_bulk_delete_action_confirms_then_deletes_the_selected_rows() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let list = client.get("/admin/shop/tag/").send().text();
    assert!(list.contains(r#"id="action-toggle""#), "select all");
    let ids: Vec<String> = client
        .db()
        .run_sync(|conn| example_shop::shop::models::Tag::objects().all_sync(conn))
        .unwrap()
        .into_iter()
        .map(|t| t.id.to_string())
        .collect();
    let mut form: Vec<(&str, &str)> = vec![("action", "delete_selected")];
    form.extend(ids.iter().map(|id| ("_selected_action", id.as_str())));
    let confirm = post(&client, "/admin/shop/tag/", &form);
    assert!(confirm.text().contains("Are you sure you want to delete the selected tags?"), "{}", confirm.text());
    form.push(("post", "yes"));
    let done = post(&client, "/admin/shop/tag/", &form);
    assert_eq!(done.header("location"), Some("/admin/shop/tag/"));
    let after = client.get("/admin/shop/tag/").send().text();
    assert!(after.contains(&format!("Successfully deleted {} tags.", ids.len())), "{after}");
    assert!(after.contains("0 tags"));
}

#[test]
fn date_filters_narrow_the_change_list_to_today_the_past_week_this_month_and_this_year() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let list = client.get("/admin/shop/order/").send().text();
    assert!(list.contains("<h3>By placed at</h3>"), "{list}");
    for label in ["Any date", "Today", "Past 7 days", "This month", "This year"] {
        assert!(list.contains(&format!(">{label}</a></li>")), "{label}: {list}");
    }
    let today = manouche::db::today();
    let tomorrow = today.succ_opt().unwrap();
    let day = |d: manouche::db::Date| format!("{}+00%3A00%3A00", d.format("%Y-%m-%d"));
    let todays = client
        .get(&format!("/admin/shop/order/?placed_at__gte={}&placed_at__lt={}", day(today), day(tomorrow)))
        .send()
        .text();
    assert!(todays.contains("1 order</p>"), "the seed's order was placed today: {todays}");
    let today_item = todays.split("<li").find(|item| item.contains(">Today</a>")).unwrap();
    assert!(today_item.starts_with(r#" class="selected">"#), "the chosen filter is marked: {today_item}");
    let future = client.get("/admin/shop/order/?placed_at__gte=2999-01-01+00%3A00%3A00").send().text();
    assert!(future.contains("0 orders"), "{future}");
    assert_eq!(client.get("/admin/shop/order/?placed_at__gte=someday").send().status(), 400);
}

#[test]
fn custom_actions_run_on_the_selected_rows_for_users_who_may_change() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let list = client.get("/admin/shop/product/").send().text();
    assert!(list.contains(r#"<option value="withdraw">Withdraw selected products from sale</option>"#), "{list}");
    let ids: Vec<String> = client
        .db()
        .run_sync(|conn| Product::objects().filter(Product::category.eq_any(vec![1_i64])).all_sync(conn))
        .unwrap()
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    let mut form: Vec<(&str, &str)> = vec![("action", "withdraw")];
    form.extend(ids.iter().map(|id| ("_selected_action", id.as_str())));
    let done = post(&client, "/admin/shop/product/", &form);
    assert_eq!(done.header("location"), Some("/admin/shop/product/"));
    let after = client.get("/admin/shop/product/?active=false").send().text();
    assert!(after.contains(&format!("{} products withdrawn from sale.", ids.len())), "{after}");
    assert!(after.contains(&format!("{} products", ids.len())), "{after}");

    // A user who may only view sees no action and cannot post one.
    let client = shop();
    user(&client, "viewer", true, false, &["shop.view_product"]);
    log_in(&client, "viewer");
    let list = client.get("/admin/shop/product/").send().text();
    assert!(!list.contains("withdraw"), "{list}");
    let token = token_in(&list);
    let refused = client
        .post("/admin/shop/product/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("action", "withdraw"), ("_selected_action", "1")])
        .send();
    assert_eq!(refused.status(), 403);
}

#[test]
fn list_display_shows_fields_of_related_rows() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let (list, statements) = client.db().capture_queries(|| client.get("/admin/shop/orderitem/").send().text());
    assert!(list.contains("<th scope=\"col\">Product slug</th>"), "{list}");
    assert!(list.contains("<td>sencha-kyoto</td>"), "the target's field: {list}");
    assert!(statements.len() <= 12, "one query a related column: {statements:#?}");
}

#[test]
fn users_are_added_with_a_checked_hashed_password_which_can_be_changed() {
    let client = shop();
    let boss = user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let add = client.get("/admin/auth/user/add/").send().text();
    assert!(add.contains(r#"<input type="password" name="password1" required id="id_password1">"#), "{add}");
    let add_user = |username: &str, password1: &str, password2: &str| {
        post(
            &client,
            "/admin/auth/user/add/",
            &[("username", username), ("password1", password1), ("password2", password2)],
        )
    };
    let mismatch = add_user("newbie", "cheese and pickles", "cheese").text();
    assert!(mismatch.contains("The two password fields didn’t match."), "{mismatch}");
    let weak = add_user("newbie", "12345678", "12345678").text();
    assert!(
        weak.contains("This password is too common.") && weak.contains("This password is entirely numeric."),
        "{weak}"
    );
    let taken = add_user("boss", "cheese and pickles", "cheese and pickles").text();
    assert!(taken.contains("A user with that username already exists."), "{taken}");

    let saved = add_user("newbie", "cheese and pickles", "cheese and pickles");
    let newbie =
        client.db().run_sync(|conn| User::objects().filter(User::username.eq("newbie")).get_sync(conn)).unwrap();
    assert_eq!(
        saved.header("location"),
        Some(format!("/admin/auth/user/{}/change/", newbie.id).as_str()),
        "details come next"
    );
    assert!(newbie.password.starts_with("pbkdf2_sha256$"), "{}", newbie.password);
    assert!(newbie.check_password("cheese and pickles"));

    let change = client.get(&format!("/admin/auth/user/{}/change/", newbie.id)).send().text();
    assert!(change.contains("algorithm: pbkdf2_sha256"), "{change}");
    assert!(!change.contains(&newbie.password), "the hash is never shown");
    assert!(change.contains(&format!(r#"<a href="/admin/auth/user/{}/password/">this form</a>"#, newbie.id)));

    let changed = post(
        &client,
        &format!("/admin/auth/user/{}/password/", newbie.id),
        &[("password1", "tea for two please"), ("password2", "tea for two please")],
    );
    assert_eq!(changed.status(), 302);
    let newbie =
        client.db().run_sync(|conn| User::objects().filter(User::username.eq("newbie")).get_sync(conn)).unwrap();
    assert!(newbie.check_password("tea for two please"));

    // Changing one's own password keeps one logged in.
    post(
        &client,
        &format!("/admin/auth/user/{}/password/", boss.id),
        &[("password1", "a new velvet teapot"), ("password2", "a new velvet teapot")],
    );
    assert_eq!(client.get("/admin/").send().status(), 200);
    assert_eq!(client.get("/admin/shop/product/1/password/").send().status(), 404);
}

#[test]
fn groups_permissions_and_tags_are_chosen_with_filterable_multi_selects() {
    use manouche::auth::Group;
    let client = shop();
    user(&client, "boss", true, true, &[]);
    let clerk = user(&client, "clerk", true, false, &[]);
    log_in(&client, "boss");
    let url = format!("/admin/auth/user/{}/change/", clerk.id);
    let page = client.get(&url).send().text();
    assert!(page.contains(r#"<select name="groups" id="id_groups" multiple>"#), "{page}");
    assert!(page.contains(r#"data-for="id_user_permissions""#), "a filter box: {page}");
    assert!(page.contains(">shop | product | Can change product</option>"), "{page}");
    let (editors, change_product) = client
        .db()
        .run_sync(|conn| {
            let editors = Group::objects().filter(Group::name.eq("Editors")).get_sync(conn)?;
            let perm = Permission::objects().filter(Permission::codename.eq("change_product")).get_sync(conn)?;
            Ok((editors.id.to_string(), perm.id.to_string()))
        })
        .unwrap();
    let fields = |extra: Vec<(&'static str, String)>| {
        let mut form: Vec<(String, String)> = vec![
            ("username".into(), "clerk".into()),
            ("email".into(), "clerk@example.com".into()),
            ("is_active".into(), "on".into()),
            ("is_staff".into(), "on".into()),
        ];
        form.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        form
    };
    let send = |form: Vec<(String, String)>| {
        let token = token_in(&client.get(&url).send().text());
        let mut pairs = vec![("csrfmiddlewaretoken".to_owned(), token)];
        pairs.extend(form);
        client.post(&url).form(&pairs).send()
    };
    let bad = send(fields(vec![("groups", "999999".into())])).text();
    assert!(bad.contains("Select a valid choice. 999999 is not one of the available choices."), "{bad}");
    let saved = send(fields(vec![("groups", editors.clone()), ("user_permissions", change_product.clone())]));
    assert_eq!(saved.status(), 302, "{}", saved.text());
    let page = client.get(&url).send().text();
    assert!(page.contains(&format!(r#"<option value="{editors}" selected>Editors</option>"#)), "{page}");
    let history = client.get(&format!("/admin/auth/user/{}/history/", clerk.id)).send().text();
    assert!(history.contains("Changed Groups and User permissions."), "{history}");

    let cleared = send(fields(vec![]));
    assert_eq!(cleared.status(), 302);
    assert!(!client.get(&url).send().text().contains(" selected>Editors</option>"), "nothing chosen unlinks all");
}

#[test]
fn an_order_s_items_are_edited_inline_on_its_page() {
    use example_shop::shop::models::{Order, OrderItem};
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    let (order, items) = client
        .db()
        .run_sync(|conn| {
            let order = Order::objects().first_sync(conn)?.unwrap();
            let items = OrderItem::objects().filter(OrderItem::order.eq(order.id)).all_sync(conn)?;
            Ok((order, items))
        })
        .unwrap();
    assert!(!items.is_empty(), "the seed has an order with items");
    let url = format!("/admin/shop/order/{}/change/", order.id);
    let page = client.get(&url).send().text();
    assert!(
        page.contains(r#"<fieldset class="module inline" id="orderitem_set-group"><h2>Order items</h2>"#),
        "{page}"
    );
    let total = items.len() + 3;
    assert!(page.contains(&format!(r#"name="orderitem_set-TOTAL_FORMS" value="{total}""#)), "{page}");
    let first = &items[0];
    let a_product =
        client.db().run_sync(|conn| Product::objects().filter(Product::slug.eq("hojicha")).get_sync(conn)).unwrap();

    let base = |extra: Vec<(String, String)>| {
        let token = token_in(&client.get(&url).send().text());
        let mut form: Vec<(String, String)> = vec![
            ("csrfmiddlewaretoken".into(), token),
            ("reference".into(), order.reference.to_string()),
            ("customer".into(), order.customer.id().to_string()),
            ("status".into(), manouche::db::Choices::value(order.status).to_owned()),
            ("ship_to".into(), order.ship_to.clone()),
            ("address".into(), order.address.clone()),
            ("postcode".into(), order.postcode.clone()),
            ("city".into(), order.city.clone()),
            ("orderitem_set-TOTAL_FORMS".into(), total.to_string()),
        ];
        for (i, item) in items.iter().enumerate() {
            form.push((format!("orderitem_set-{i}-id"), item.id.to_string()));
            form.push((format!("orderitem_set-{i}-product"), item.product.id().to_string()));
            form.push((format!("orderitem_set-{i}-quantity"), item.quantity.to_string()));
            form.push((format!("orderitem_set-{i}-unit_price"), item.unit_price.to_string()));
        }
        form.extend(extra);
        client.post(&url).form(&form).send()
    };
    let n = items.len();
    let bad = base(vec![
        (format!("orderitem_set-{n}-product"), a_product.id.to_string()),
        (format!("orderitem_set-{n}-quantity"), "lots".into()),
        (format!("orderitem_set-{n}-unit_price"), "9.50".into()),
    ]);
    assert_eq!(bad.status(), 200);
    let html = bad.text();
    assert!(html.contains("<tr class=\"row-errors\">") && html.contains("Enter a whole number."), "{html}");
    assert!(html.contains(r#"value="lots""#), "the inline row keeps its values");

    let forged = base(vec![
        (format!("orderitem_set-{n}-product"), "999999".into()),
        (format!("orderitem_set-{n}-quantity"), "1".into()),
        (format!("orderitem_set-{n}-unit_price"), "1.00".into()),
    ]);
    assert_eq!(forged.status(), 200, "a product that does not exist is a row error, not a 500");
    assert!(forged.text().contains("Select a valid choice. That choice is not one of the available choices."));

    let saved = base(vec![
        ("orderitem_set-0-DELETE".into(), "on".into()),
        (format!("orderitem_set-{n}-product"), a_product.id.to_string()),
        (format!("orderitem_set-{n}-quantity"), "2".into()),
        (format!("orderitem_set-{n}-unit_price"), "9.50".into()),
    ]);
    assert_eq!(saved.status(), 302, "{}", saved.text());
    let now: Vec<OrderItem> = client
        .db()
        .run_sync(move |conn| OrderItem::objects().filter(OrderItem::order.eq(order.id)).all_sync(conn))
        .unwrap();
    assert!(!now.iter().any(|i| i.id == first.id), "the ticked row is deleted");
    assert!(now.iter().any(|i| *i.product.id() == a_product.id && i.quantity == 2), "the filled empty row is added");
    let history = client.get(&format!("/admin/shop/order/{}/history/", order.id)).send().text();
    assert!(history.contains("Changed order items."), "{history}");

    // A key of another order's item cannot be edited through this one.
    let other = client
        .db()
        .run_sync(move |conn| OrderItem::objects().filter(OrderItem::order.ne(order.id)).first_sync(conn))
        .unwrap();
    if let Some(other) = other {
        let forged = base(vec![
            (format!("orderitem_set-{n}-id"), other.id.to_string()),
            (format!("orderitem_set-{n}-product"), a_product.id.to_string()),
            (format!("orderitem_set-{n}-quantity"), "99".into()),
            (format!("orderitem_set-{n}-unit_price"), "0.01".into()),
        ]);
        assert_eq!(forged.status(), 200, "refused, not saved");
    }
}

#[test]
fn the_admin_s_static_files_are_collected_and_served_in_debug() {
    let root = std::env::temp_dir().join(format!("manouche-admin-static-{}", std::process::id()));
    let mut settings = seeded_settings();
    settings.static_root = root.join("collected");
    settings.debug = true;
    let project = example_shop::configure(Project::new(settings));
    let out = project.call_command(["collectstatic"]);
    assert!(out.success(), "{}", out.stderr);
    let css = std::fs::read_to_string(root.join("collected/admin/css/base.css")).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    assert!(css.contains("@media (max-width: 40rem)"), "usable on a phone width");
    let client = Client::new(project).unwrap();
    let served = client.get("/static/admin/css/base.css").send();
    assert_eq!(served.status(), 200);
    let login = client.get("/admin/login/").send().text();
    assert!(login.contains(r#"<link rel="stylesheet" href="/static/admin/css/base.css">"#), "{login}");
}

#[test]
fn the_admin_adds_finds_changes_and_deletes_on_sqlite_and_postgresql() {
    for test_db in TestDatabase::all("the admin is") {
        let project = test_db.migrated(example_shop::configure(Project::new(seeded_settings()))).unwrap();
        assert!(project.call_command(["seed"]).success());
        let client = Client::new(test_db.project(example_shop::configure(Project::new(seeded_settings()))).unwrap())
            .unwrap()
            .enforce_csrf_checks();
        user(&client, "boss", true, true, &[]);
        log_in(&client, "boss");
        let green = category_id(&client, "green").to_string();
        let organic = client
            .db()
            .run_sync(|conn| {
                use example_shop::shop::models::Tag;
                Tag::objects().filter(Tag::name.eq("organic")).get_sync(conn)
            })
            .unwrap()
            .id
            .to_string();
        let added = post(
            &client,
            "/admin/shop/product/add/",
            &[
                ("name", "Kukicha"),
                ("slug", "kukicha"),
                ("category", &green),
                ("description", "Twig tea."),
                ("price", "7.25"),
                ("stock", "12"),
                ("active", "on"),
                ("tags", &organic),
                ("_continue", ""),
            ],
        );
        assert_eq!(added.status(), 302, "{}", added.text());
        let change_url = added.header("location").unwrap().to_owned();
        let found = client.get("/admin/shop/product/?q=TWIG").send().text();
        assert!(found.contains(">Kukicha</a>") && found.contains("1 result"), "case-insensitive search: {found}");
        let page = client.get(&change_url).send().text();
        assert!(page.contains(&format!(r#"<option value="{organic}" selected>organic</option>"#)), "{page}");
        let changed = post(
            &client,
            &change_url,
            &[
                ("name", "Kukicha"),
                ("slug", "kukicha"),
                ("category", &green),
                ("description", "Twig tea."),
                ("price", "7.50"),
                ("stock", "12"),
                ("active", "on"),
                ("tags", &organic),
            ],
        );
        assert_eq!(changed.status(), 302, "{}", changed.text());
        let history = client.get(&change_url.replace("/change/", "/history/")).send().text();
        assert!(history.contains("Changed Price."), "{history}");
        let deleted = post(&client, &change_url.replace("/change/", "/delete/"), &[("post", "yes")]);
        assert_eq!(deleted.header("location"), Some("/admin/shop/product/"));
        let gone = client
            .db()
            .run_sync(|conn| Product::objects().filter(Product::slug.eq("kukicha")).exists_sync(conn))
            .unwrap();
        assert!(!gone, "deleted, with its tag links");
    }
}

/// The catalogue pages are cached (`#[cache_page(depends_on = [...])]`): a second visit runs no
/// query, and a price changed in the admin is on the very next visit.
#[test]
fn a_price_changed_in_the_admin_is_on_the_cached_product_page_at_once() {
    let client = shop();
    user(&client, "boss", true, true, &[]);
    log_in(&client, "boss");
    // The visitor's requests carry their own cookie, not the admin's session.
    let visit = |path: &str| client.get(path).header("Cookie", "visitor=ada").send();
    let first = visit("/products/sencha-kyoto/");
    assert_eq!(first.status(), 200);
    let again = manouche::test::assert_num_queries(client.db(), 0, || visit("/products/sencha-kyoto/"));
    assert_eq!(again.text(), first.text(), "served from the cache");
    manouche::test::assert_num_queries(client.db(), 3, || visit("/products/?q=sencha"));
    manouche::test::assert_num_queries(client.db(), 0, || visit("/products/?q=sencha"));

    let sencha = client
        .db()
        .run_sync(|conn| Product::objects().filter(Product::slug.eq("sencha-kyoto")).get_sync(conn))
        .unwrap();
    assert!(!first.text().contains("19.75"));
    let category = sencha.category.id().to_string();
    let change_url = format!("/admin/shop/product/{}/change/", sencha.id);
    let stock = sencha.stock.to_string();
    let fields = vec![
        ("name", sencha.name.as_str()),
        ("slug", sencha.slug.as_str()),
        ("category", category.as_str()),
        ("description", sencha.description.as_str()),
        ("price", "19.75"),
        ("stock", stock.as_str()),
        ("active", "on"),
        ("_save", ""),
    ];
    let saved = post(&client, &change_url, &fields);
    assert_eq!(saved.status(), 302, "{}", saved.text());
    let fresh = visit("/products/sencha-kyoto/");
    assert!(fresh.text().contains("19.75"), "the new price, on the next request: {}", fresh.text());
    let listed = visit("/products/?q=sencha").text();
    assert!(listed.contains("19.75"), "and on the list: {listed}");

    // The cart and account pages are never cached.
    let cart = client.get("/cart/").send();
    let control = cart.header("cache-control").unwrap_or_default();
    assert!(control.contains("no-store") && control.contains("private"), "{control}");
}
