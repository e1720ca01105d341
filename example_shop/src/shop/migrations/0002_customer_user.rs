//! Migration `0002_customer_user` of the `shop` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-04 17:46 UTC.
//!
//! - Add field user to Customer

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0002_customer_user")
        .depends_on("shop", "0001_initial")
        .depends_on("auth", "0001_initial")
        .operation(add_field("Customer", foreign_key("user", "auth.User", OnDelete::Cascade).null().unique()))
}
