//! Deleting the Django way on the shop: cascades with signals for every row, protected rows
//! refusing the delete, and the same collector behind instances, query sets and the registry.

use std::sync::Mutex;

use example_shop::shop::models::{
    Customer, Order, OrderItem, OrderItemOrderReverse as _, Product, ProductCategoryReverse as _, Review,
    ReviewProductReverse as _,
};
use manouche::db::{DeleteEvent, Error, Model};
use manouche::prelude::ExpressionMethods as _;

/// `post_delete` of reviews and order lines, by key, from every test of this module.
static DELETED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record() -> impl FnOnce() {
    let reviews = manouche::db::post_delete::<Review>()
        .connect(|e: &DeleteEvent<Review>| DELETED.lock().unwrap().push(format!("review {}", e.instance.id)));
    let items = manouche::db::post_delete::<OrderItem>()
        .connect(|e: &DeleteEvent<OrderItem>| DELETED.lock().unwrap().push(format!("item {}", e.instance.id)));
    move || {
        manouche::db::post_delete::<Review>().disconnect(reviews);
        manouche::db::post_delete::<OrderItem>().disconnect(items);
    }
}

fn deleted(what: &str) -> bool {
    DELETED.lock().unwrap().iter().any(|d| d == what)
}

#[test]
fn deleting_an_order_cascades_to_its_lines_with_their_signals() {
    let stop = record();
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            let order = Order::objects().get_sync(conn)?;
            let lines: Vec<i64> = OrderItem::objects()
                .filter(OrderItem::order.eq(order.id))
                .all_sync(conn)?
                .iter()
                .map(|l| l.id)
                .collect();
            assert_eq!(lines.len(), 2);
            let orders = manouche::db::model("shop.Order").unwrap();
            // What would go, for a confirmation page, without deleting anything.
            let preview = manouche::db::collector::collect(conn, orders, &[order.id.to_string()])?;
            assert_eq!(preview.counts().get("shop.OrderItem"), Some(&2));
            assert_eq!(
                preview.deleted.last().map(|(label, _)| label.as_str()),
                Some("shop.Order"),
                "the order goes last"
            );
            assert_eq!(OrderItem::objects().count_sync(conn)?, 2, "collecting deletes nothing");

            let gone = orders.delete(conn, &order.id.to_string())?;
            assert_eq!(gone.total(), 3);
            assert_eq!(OrderItem::objects().count_sync(conn)?, 0);
            for line in lines {
                assert!(deleted(&format!("item {line}")), "post_delete for cascaded line {line}");
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    stop();
}

#[test]
fn protected_rows_refuse_the_delete_and_are_named() {
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            // Ada has an order, which protects her.
            let ada = Customer::objects().filter(Customer::email.eq("ada@example.com")).get_sync(conn)?;
            let refused = ada.clone().delete_sync(conn);
            let Err(Error::Protected { model: "Customer", rows }) = refused else { panic!("{refused:?}") };
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].0, "shop.Order");
            assert_eq!(Error::Protected { model: "Customer", rows: Vec::new() }.status().as_u16(), 409);
            assert!(Customer::objects().filter(Customer::id.eq(ada.id)).exists_sync(conn)?, "nothing deleted");
            assert!(Review::objects().filter(Review::customer.eq(ada.id)).count_sync(conn)? > 0, "her reviews stay too");
            // A product on an order line is protected by it.
            let sencha = Product::objects().filter(Product::slug.eq("sencha-kyoto")).get_sync(conn)?;
            let refused = manouche::db::model("shop.Product").unwrap().delete(conn, &sencha.id.to_string());
            assert!(matches!(&refused, Err(Error::Protected { rows, .. }) if rows.iter().all(|(m, _)| m == "shop.OrderItem")), "{refused:?}");
            Ok::<_, Error>(())
        })
        .unwrap();
}

#[test]
fn instance_and_query_set_deletes_send_signals_for_cascaded_rows() {
    let stop = record();
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            // A product on no order: its reviews and tag links go with it.
            let reviewed: Vec<Review> = Review::objects().all_sync(conn)?;
            let target = reviewed
                .iter()
                .map(|r| *r.product.id())
                .find(|id| !OrderItem::objects().filter(OrderItem::product.eq(*id)).exists_sync(conn).unwrap_or(true))
                .expect("a reviewed product on no order");
            let product = Product::objects().filter(Product::id.eq(target)).get_sync(conn)?;
            let its_reviews: Vec<i64> = reviewed.iter().filter(|r| *r.product.id() == target).map(|r| r.id).collect();
            product.delete_sync(conn)?;
            for review in &its_reviews {
                assert!(deleted(&format!("review {review}")), "post_delete for cascaded review {review}");
            }
            assert_eq!(Review::objects().filter(Review::product.eq(target)).count_sync(conn)?, 0);

            // A query set delete sends them too, and says how many went.
            let left: Vec<i64> = Review::objects().all_sync(conn)?.iter().map(|r| r.id).collect();
            assert_eq!(Review::objects().delete_sync(conn)?, left.len());
            for review in &left {
                assert!(deleted(&format!("review {review}")), "post_delete for review {review}");
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    stop();
}

#[test]
fn reverse_accessors_are_query_sets() {
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            use example_shop::shop::models::Category;
            let green = Category::objects().filter(Category::slug.eq("green")).get_sync(conn)?;
            let named: Vec<String> =
                green.products().order_by(Product::name).values_list(Product::name).all_sync(conn)?;
            let generic: Vec<Product> = green.related(Product::category).order_by(Product::name).all_sync(conn)?;
            assert_eq!(named, generic.iter().map(|p| p.name.clone()).collect::<Vec<_>>());
            assert!(named.contains(&"Sencha Kyoto".to_owned()) && !named.contains(&"Assam Breakfast".to_owned()));
            let order = Order::objects().get_sync(conn)?;
            assert_eq!(order.items().count_sync(conn)?, 2);
            let sencha = Product::objects().filter(Product::slug.eq("sencha-kyoto")).get_sync(conn)?;
            assert_eq!(
                sencha.reviews().filter(Review::rating.eq(example_shop::shop::models::Stars::Five)).count_sync(conn)?,
                1
            );
            Ok::<_, Error>(())
        })
        .unwrap();
}

#[test]
fn filters_across_relations_are_one_statement() {
    use example_shop::shop::models::Category;
    use manouche::db::Lookups as _;
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            // Product.objects.filter(category__slug="green")
            let (green, statements) = crate::relations::statements(conn, |conn| {
                Product::objects()
                    .filter(Product::category.matches(Category::slug.eq("green")))
                    .order_by(Product::name)
                    .values_list(Product::name)
                    .all_sync::<String>(conn)
            });
            let green = green?;
            assert_eq!(statements, 1);
            assert!(
                green.contains(&"Sencha Kyoto".to_owned()) && !green.contains(&"Assam Breakfast".to_owned()),
                "{green:?}"
            );
            // Category.objects.filter(product__stock=0): a reverse lookup.
            let sold_out: Vec<String> = Category::objects()
                .filter(Product::category.referenced_by(Product::stock.eq(0)))
                .values_list(Category::slug)
                .all_sync(conn)?;
            assert_eq!(sold_out, ["green"]);
            // Order.objects.filter(items__product__category__slug=...): three levels, one statement,
            // and no duplicate orders (an IN subquery, not a join).
            let orders_of = |conn: &mut manouche::db::Connection, slug: &'static str| {
                crate::relations::statements(conn, |conn| {
                    Order::objects()
                        .filter(OrderItem::order.referenced_by(
                            OrderItem::product.matches(Product::category.matches(Category::slug.eq(slug))),
                        ))
                        .count_sync(conn)
                })
            };
            let (green_orders, statements) = orders_of(conn, "green");
            assert_eq!((green_orders?, statements), (1, 1));
            assert_eq!(orders_of(conn, "oolong").0?, 0);
            Ok::<_, Error>(())
        })
        .unwrap();
}

#[test]
fn lookups_go_through_many_to_many_links() {
    use example_shop::shop::models::{ProductTags, Tag};
    use manouche::db::Lookups as _;
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            // Product.objects.filter(tags__name="smoky"): through the generated link model.
            let smoky: Vec<String> = Product::objects()
                .filter(ProductTags::product.referenced_by(ProductTags::tag.matches(Tag::name.eq("smoky"))))
                .order_by(Product::name)
                .values_list(Product::name)
                .all_sync(conn)?;
            assert_eq!(smoky, ["Gunpowder", "Lapsang Souchong"]);
            Ok::<_, Error>(())
        })
        .unwrap();
}

#[test]
fn get_or_create_with_the_lookup_written_once() {
    use example_shop::shop::models::Category;
    use manouche::db::lookup;
    let client = crate::shop::seeded_client();
    client
        .db()
        .run_sync(|conn| {
            let blank = || Category { id: 0, name: String::new(), slug: String::new() };
            let herbal =
                (lookup(Category::slug, "herbal".to_owned()), lookup(Category::name, "Herbal teas".to_owned()));
            let (created, was_created) = Category::objects().get_or_create_by_sync(conn, herbal.clone(), blank)?;
            assert!(was_created);
            assert_eq!(
                (created.slug.as_str(), created.name.as_str()),
                ("herbal", "Herbal teas"),
                "set from the lookup"
            );
            let (found, was_created) = Category::objects().get_or_create_by_sync(conn, herbal, blank)?;
            assert!(!was_created);
            assert_eq!(found.id, created.id);
            let (renamed, was_created) = Category::objects().update_or_create_by_sync(
                conn,
                lookup(Category::slug, "herbal".to_owned()),
                blank,
                |category| category.name = "Tisanes".into(),
            )?;
            assert_eq!((was_created, renamed.id, renamed.name.as_str()), (false, created.id, "Tisanes"));
            Ok::<_, Error>(())
        })
        .unwrap();
}
