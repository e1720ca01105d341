//! Migration `0003_order_ship_to_and_more` of the `shop` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-04 20:00 UTC.
//!
//! - Add field ship_to to Order
//! - Add field address to Order
//! - Add field postcode to Order
//! - Add field city to Order

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0003_order_ship_to_and_more")
        .depends_on("shop", "0002_customer_user")
        .operation(add_field("Order", field("ship_to", FieldType::Text).max_length(100).default("\"\"")))
        .operation(add_field("Order", field("address", FieldType::Text).default("\"\"")))
        .operation(add_field("Order", field("postcode", FieldType::Text).max_length(12).default("\"\"")))
        .operation(add_field("Order", field("city", FieldType::Text).max_length(100).default("\"\"")))
}
