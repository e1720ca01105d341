//! What the admin's change list costs with 10,000 products: the first page, a page deep in the
//! list, a search, and a filtered and sorted page, each a full request through the in-process
//! client as a logged-in superuser (session, user and permission queries included), on a SQLite
//! file. `cargo bench -p manouche-bench --bench admin`; the README reports it.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use example_shop::shop::models::{Category, Product};
use manouche::auth::User;
use manouche::db::Model as _;
use manouche::prelude::*;
use manouche::test::{Client, TestDatabase};

fn admin(c: &mut Criterion) {
    let test_db = TestDatabase::sqlite("admin bench").expect("a SQLite database");
    let text = "debug = false\nsecret_key = \"bench-secret\"\nallowed_hosts = [\"testserver\"]\n\
        middleware = [\"manouche.security\", \"manouche.sessions\", \"manouche.csrf\", \"manouche.auth\"]\n\
        [auth]\npbkdf2_iterations = 1000\n";
    let settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).expect("settings");
    let project = test_db.migrated(example_shop::configure(Project::new(settings))).expect("migrated");
    let client = Client::new(project).expect("client");
    let hasher = manouche::auth::hashers::Hasher { iterations: 1000, ..Default::default() };
    let mut boss = User::new("boss", "boss@example.com", Some("a velvet teapot"), &hasher).expect("a user");
    boss.is_staff = true;
    boss.is_superuser = true;
    client
        .db()
        .run_sync(move |conn| {
            boss.save_sync(conn)?;
            let category = Category { id: 0, name: "Blends".into(), slug: "blends".into() }.save_sync(conn)?;
            let products: Vec<Product> = (0..10_000)
                .map(|i| Product {
                    id: 0,
                    name: format!("Blend {i:05}"),
                    slug: format!("blend-{i:05}"),
                    category: manouche::db::ForeignKey::new(category.id),
                    description: "A house blend.".into(),
                    price: Decimal::new(500 + i64::from(i % 700), 2),
                    stock: i % 50,
                    active: i % 3 != 0,
                    created_at: manouche::db::now(),
                    updated_at: manouche::db::now(),
                })
                .collect();
            Product::objects().bulk_create_sync(conn, products)?;
            Ok(())
        })
        .expect("10,000 products");
    let login = client.post("/admin/login/").form(&[("username", "boss"), ("password", "a velvet teapot")]).send();
    assert_eq!(login.status(), 302, "logged in");
    let first = client.get("/admin/shop/product/").send();
    assert!(first.text().contains("10000 products"), "{}", first.text());

    let mut group = c.benchmark_group("admin change list, 10,000 products");
    group.measurement_time(Duration::from_secs(8));
    for (name, path) in [
        ("first page (50 rows)", "/admin/shop/product/"),
        ("page 150", "/admin/shop/product/?p=150"),
        ("search", "/admin/shop/product/?q=blend+0042"),
        ("filtered and sorted", "/admin/shop/product/?active=true&o=-price"),
    ] {
        group.bench_function(name, |b| b.iter(|| assert_eq!(client.get(path).send().status(), 200)));
    }
    group.finish();
}

criterion_group!(benches, admin);
criterion_main!(benches);
