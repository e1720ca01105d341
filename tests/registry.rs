//! The model registry: the shop's products listed, created, updated and deleted from text
//! values, through the same query sets and signals as typed code.

use std::collections::BTreeMap;
use std::sync::Mutex;

use example_shop::shop::models::Product;
use manouche::db::{Error, ListRequest, Model, SaveEvent};
use manouche::prelude::ExpressionMethods as _;

/// The slugs `post_save` saw for products, with `created`.
static SAVED: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn the_registry_drives_a_shop_product_from_text() {
    let receiver = manouche::db::post_save::<Product>().connect(|event: &SaveEvent<Product>| {
        SAVED.lock().unwrap().push((event.instance.slug.clone(), event.created));
    });
    let client = crate::shop::seeded_client();
    let products = manouche::db::model("shop.product").expect("registered, case-insensitively");
    assert_eq!(products.meta().name, "Product");
    assert!(manouche::db::models().iter().any(|m| m.meta().label() == "shop.Category"));
    client
        .db()
        .run_sync(move |conn| {
            // List: filters, search, ordering and pages, all by name and text.
            let green = products.list(
                conn,
                &ListRequest {
                    filters: vec![("active".into(), "true".into())],
                    search: Some("SEN".into()),
                    ordering: vec![("price".into(), true)],
                    ..ListRequest::default()
                },
            )?;
            assert_eq!(green.rows.iter().map(|r| r.display.as_str()).collect::<Vec<_>>(), ["Sencha Kyoto"]);
            let all = products.list(
                conn,
                &ListRequest { ordering: vec![("name".into(), false)], per_page: 4, page: 2, ..ListRequest::default() },
            )?;
            assert_eq!((all.count, all.num_pages, all.rows.len()), (9, 3, 4));
            assert!(all.rows.windows(2).all(|w| w[0].display <= w[1].display));
            // `#[model(display = "{name} <{email}>")]` on customers: Django's `__str__`.
            let customers = manouche::db::model("shop.Customer").unwrap();
            let shown: Vec<String> =
                customers.list(conn, &ListRequest::default())?.rows.into_iter().map(|r| r.display).collect();
            assert!(shown.contains(&"Ada Lovelace <ada@example.com>".to_owned()), "{shown:?}");
            let bad_filter = products
                .list(conn, &ListRequest { filters: vec![("stock".into(), "many".into())], ..ListRequest::default() });
            assert!(
                matches!(&bad_filter, Err(Error::InvalidInput { errors, .. }) if errors[0].0 == "stock"),
                "{bad_filter:?}"
            );
            let unknown = products
                .list(conn, &ListRequest { ordering: vec![("colour".into(), false)], ..ListRequest::default() });
            assert!(matches!(unknown, Err(Error::InvalidInput { .. })));

            // Create, with every problem reported per field.
            let category = all.rows[0].value("category").unwrap().to_owned();
            let refused = products.create(
                conn,
                &values(&[
                    ("name", ""),
                    ("slug", "kukicha"),
                    ("category", &category),
                    ("price", "4.999"),
                    ("stock", "lots"),
                    ("colour", "green"),
                ]),
            );
            let Err(Error::InvalidInput { model: "Product", errors }) = refused else { panic!("{refused:?}") };
            let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
            assert_eq!(fields, ["colour", "description", "name", "price", "stock"], "{errors:?}");
            assert!(
                errors.iter().any(|(f, m)| f == "price" && m.contains("no more than 2 decimal places")),
                "{errors:?}"
            );
            assert!(errors.iter().any(|(f, m)| f == "name" && m == "This field is required."), "{errors:?}");
            assert_eq!(refused_status(), 400);

            let created = products.create(
                conn,
                &values(&[
                    ("name", "Kukicha"),
                    ("slug", "kukicha"),
                    ("category", &category),
                    ("description", "Green tea of stems and twigs."),
                    ("price", "7.50"),
                    ("stock", "12"),
                ]),
            )?;
            assert_eq!((created.display.as_str(), created.value("active")), ("Kukicha", Some("true")), "the default");
            assert_ne!(created.pk, "0", "the database gave it a key");
            let typed = Product::objects().filter(Product::slug.eq("kukicha")).get_sync(conn)?;
            assert_eq!((typed.price.to_string().as_str(), typed.stock), ("7.50", 12));

            // Update some fields; the others keep their values.
            let updated = products.update(conn, &created.pk, &values(&[("stock", "3"), ("active", "")]))?;
            assert_eq!(
                (updated.value("stock"), updated.value("active"), updated.value("name")),
                (Some("3"), Some("false"), Some("Kukicha"))
            );
            let not_editable = products.update(conn, &created.pk, &values(&[("created_at", "2020-01-01 00:00")]));
            assert!(matches!(not_editable, Err(Error::InvalidInput { .. })));
            assert_eq!(products.get(conn, &created.pk)?.value("stock"), Some("3"));

            // Delete; a missing or malformed key is DoesNotExist.
            products.delete(conn, &created.pk)?;
            assert!(matches!(products.get(conn, &created.pk), Err(Error::DoesNotExist { model: "Product" })));
            assert!(matches!(products.get(conn, "not-a-number"), Err(Error::DoesNotExist { .. })));
            Ok(())
        })
        .unwrap();
    manouche::db::post_save::<Product>().disconnect(receiver);
    let saved = SAVED.lock().unwrap().clone();
    let ours: Vec<bool> = saved.iter().filter(|(slug, _)| slug == "kukicha").map(|(_, created)| *created).collect();
    assert_eq!(ours, [true, false], "post_save on create, then on update: {saved:?}");
}

fn refused_status() -> u16 {
    Error::InvalidInput { model: "Product", errors: Vec::new() }.status().as_u16()
}
