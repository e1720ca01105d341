//! `seed`: loads the demo catalogue; running it again adds nothing twice.

use manouche::db::{Database, Decimal, ForeignKey, Model, PoolOptions};
use manouche::management::{Command, CommandContext, CommandError};

use super::models::{Category, Product};

const CATEGORIES: &[(&str, &str)] = &[("Black teas", "black"), ("Green teas", "green"), ("Oolongs", "oolong")];

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
        "Loads the demo catalogue (idempotent: existing categories and products are kept)."
    }

    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        use diesel::ExpressionMethods;
        let settings = ctx.settings()?;
        let db = Database::connect(&settings.database_url, PoolOptions::from_settings(settings));
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
                Ok(added)
            })
            .map_err(|e| CommandError::new(format!("cannot seed the catalogue: {e}; run `createtables` first")))?;
        ctx.write_line(&format!("Seeded the catalogue: {added} new rows."))
    }
}
