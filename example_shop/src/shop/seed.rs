//! `seed`: loads the demo catalogue; running it again adds nothing twice.

use manouche::db::{Decimal, ForeignKey, Model};
use manouche::management::{Command, CommandContext, CommandError};

use super::models::{Category, Customer, Order, OrderItem, OrderStatus, Product, Review, Stars, Tag};

const CATEGORIES: &[(&str, &str)] = &[("Black teas", "black"), ("Green teas", "green"), ("Oolongs", "oolong")];

const CUSTOMERS: &[(&str, &str)] = &[("Ada Lovelace", "ada@example.com"), ("Alan Turing", "alan@example.com")];

/// `(tag, product slugs)`.
const TAGS: &[(&str, &[&str])] = &[
    ("organic", &["sencha-kyoto", "genmaicha", "darjeeling-first-flush"]),
    ("smoky", &["lapsang-souchong", "gunpowder"]),
];

/// `(product slug, customer e-mail, stars, text)`.
const REVIEWS: &[(&str, &str, Stars, &str)] = &[
    ("sencha-kyoto", "ada@example.com", Stars::Five, "Fresh and sweet; my morning cup."),
    ("sencha-kyoto", "alan@example.com", Stars::Four, "Good, if a little grassy."),
    ("lapsang-souchong", "alan@example.com", Stars::Three, "Like drinking a campfire."),
];

const PRODUCTS: &[(&str, &str, &str, &str, i64, i32)] = &[
    ("Darjeeling First Flush", "darjeeling-first-flush", "black", "Bright, floral and brisk.", 1250, 40),
    ("Assam Breakfast", "assam-breakfast", "black", "Malty and strong; takes milk well.", 800, 120),
    ("Lapsang Souchong", "lapsang-souchong", "black", "Smoked over pine fires.", 1125, 25),
    ("Sencha Kyoto", "sencha-kyoto", "green", "Grassy, sweet, steamed leaves.", 1400, 30),
    ("Gunpowder", "gunpowder", "green", "Rolled pellets, bold and smoky.", 650, 80),
    ("Genmaicha", "genmaicha", "green", "Green tea with roasted rice.", 900, 60),
    ("Hojicha", "hojicha", "green", "Roasted, nutty, low in caffeine.", 950, 0),
    ("Tieguanyin", "tieguanyin", "oolong", "Orchid notes, rolled leaves.", 1800, 15),
    ("Da Hong Pao", "da-hong-pao", "oolong", "Rock oolong, roasted and mineral.", 2400, 10),
];

/// The `seed` command.
#[derive(Debug)]
pub(crate) struct Seed;

impl Command for Seed {
    fn name(&self) -> &'static str {
        "seed"
    }

    fn help(&self) -> &'static str {
        "Loads the demo catalogue (idempotent: existing rows are kept); also customers, reviews and an order."
    }

    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        use diesel::ExpressionMethods;
        let db = ctx.db()?;
        let added = db
            .atomic_sync(|conn| {
                let mut added = 0;
                for (name, slug) in CATEGORIES {
                    if !Category::objects().filter(Category::slug.eq(*slug)).exists_sync(conn)? {
                        Category { id: 0, name: (*name).into(), slug: (*slug).into() }.save_sync(conn)?;
                        added += 1;
                    }
                }
                for (name, slug, category, description, price_cents, stock) in PRODUCTS {
                    if Product::objects().filter(Product::slug.eq(*slug)).exists_sync(conn)? {
                        continue;
                    }
                    let category = Category::objects().filter(Category::slug.eq(*category)).get_sync(conn)?;
                    let product = Product {
                        id: 0,
                        name: (*name).into(),
                        slug: (*slug).into(),
                        category: ForeignKey::to(category),
                        description: (*description).into(),
                        price: Decimal::new(*price_cents, 2),
                        stock: *stock,
                        active: true,
                        created_at: manouche::db::DateTime::default(),
                        updated_at: manouche::db::DateTime::default(),
                    };
                    product.save_sync(conn)?;
                    added += 1;
                }
                added += seed_customers_reviews_and_orders(conn)?;
                added += seed_editors(conn)?;
                Ok(added)
            })
            .map_err(|e| CommandError::new(format!("cannot seed the catalogue: {e}; run `migrate` first")))?;
        ctx.write_line(&format!("Seeded the catalogue: {added} new rows."))
    }
}

/// The "Editors" group, who may publish and withdraw products (`Product::PERM_PUBLISH`).
fn seed_editors(conn: &mut manouche::db::Connection) -> Result<usize, manouche::db::Error> {
    use diesel::ExpressionMethods;
    use manouche::auth::{Group, Permission};
    let perm = Product::PERM_PUBLISH;
    // Created by `migrate` (the auth app syncs every model's permissions).
    let Some(publish) = Permission::objects()
        .filter(Permission::app_label.eq(perm.app))
        .filter(Permission::codename.eq(perm.codename))
        .first_sync(conn)?
    else {
        return Ok(0);
    };
    let (editors, created) = Group::objects()
        .filter(Group::name.eq("Editors"))
        .get_or_create_sync(conn, || Group { id: 0, name: "Editors".into() })?;
    let linked = editors.permissions().add_sync(conn, &publish)?;
    Ok(usize::from(created) + usize::from(linked))
}

/// Customers, their reviews and a first order; rows already there are kept.
fn seed_customers_reviews_and_orders(conn: &mut manouche::db::Connection) -> Result<usize, manouche::db::Error> {
    use diesel::ExpressionMethods;
    let mut added = 0;
    let mut customers = Vec::new();
    for (name, email) in CUSTOMERS {
        let (customer, created) =
            Customer::objects().filter(Customer::email.eq(*email)).get_or_create_sync(conn, || Customer {
                id: 0,
                user: None,
                name: (*name).into(),
                email: (*email).into(),
                joined_at: Default::default(),
            })?;
        added += usize::from(created);
        customers.push(customer);
    }
    for (slug, email, rating, body) in REVIEWS {
        let product = Product::objects().filter(Product::slug.eq(*slug)).get_sync(conn)?;
        let customer = Customer::objects().filter(Customer::email.eq(*email)).get_sync(conn)?;
        let (_, created) = Review::objects()
            .filter(Review::product.eq(product.id))
            .filter(Review::customer.eq(customer.id))
            .get_or_create_sync(conn, || Review {
                id: 0,
                product: ForeignKey::to(product.clone()),
                customer: ForeignKey::to(customer.clone()),
                rating: *rating,
                body: (*body).into(),
                created_at: Default::default(),
            })?;
        added += usize::from(created);
    }
    for (name, slugs) in TAGS {
        let (tag, created) = Tag::objects()
            .filter(Tag::name.eq(*name))
            .get_or_create_sync(conn, || Tag { id: 0, name: (*name).into() })?;
        added += usize::from(created);
        for slug in *slugs {
            let product = Product::objects().filter(Product::slug.eq(*slug)).get_sync(conn)?;
            added += usize::from(product.tags().add_sync(conn, &tag)?);
        }
    }
    let ada = &customers[0];
    if !Order::objects().filter(Order::customer.eq(ada.id)).exists_sync(conn)? {
        let order = Order {
            id: 0,
            reference: manouche::db::Uuid::new_v4(),
            customer: ForeignKey::to(ada.clone()),
            status: OrderStatus::Paid,
            placed_at: Default::default(),
            ship_to: "Ada Lovelace".into(),
            address: "12 St James's Square".into(),
            postcode: "SW1Y 4JH".into(),
            city: "London".into(),
        }
        .save_sync(conn)?;
        let mut lines = Vec::new();
        for (slug, quantity) in [("sencha-kyoto", 2), ("assam-breakfast", 1)] {
            let product = Product::objects().filter(Product::slug.eq(slug)).get_sync(conn)?;
            lines.push(OrderItem {
                id: 0,
                order: ForeignKey::new(order.id),
                unit_price: product.price,
                product: ForeignKey::to(product),
                quantity,
            });
        }
        added += 1 + OrderItem::objects().bulk_create_sync(conn, lines)?.len();
    }
    Ok(added)
}
