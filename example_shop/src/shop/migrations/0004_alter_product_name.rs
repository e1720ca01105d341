//! Migration `0004_alter_product_name` of the `shop` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-04 20:51 UTC.
//!
//! - Alter field name on Product

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0004_alter_product_name")
        .depends_on("shop", "0003_order_ship_to_and_more")
        .operation(alter_field("Product", field("name", FieldType::Text).db_index().max_length(200)))
}
