//! The shop's models.

use manouche::prelude::*;
use serde::Serialize;

/// A shelf of the shop.
#[model(app = "shop", verbose_name = "category")]
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// Shown to customers.
    #[field(max_length = 100, unique)]
    pub name: String,
    /// The URL name.
    #[field(max_length = 100, unique)]
    pub slug: String,
}

/// Something we sell. Prices are exact decimals: money is never a float.
#[model(app = "shop")]
#[permission(publish = "Can publish products")]
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// Shown to customers.
    #[field(max_length = 200)]
    pub name: String,
    /// The URL name.
    #[field(max_length = 200, unique)]
    pub slug: String,
    /// Its shelf; a category holding products cannot be deleted.
    #[field(on_delete = protect)]
    pub category: ForeignKey<Category>,
    /// A sentence or two.
    #[field(help_text = "Shown on the product page")]
    pub description: String,
    /// The price, in euros.
    #[field(max_digits = 10, decimal_places = 2)]
    pub price: Decimal,
    /// Tins on the shelf.
    pub stock: i32,
    /// Listed in the catalogue.
    #[field(default = true)]
    pub active: bool,
    /// When it was added.
    #[field(auto_now_add)]
    pub created_at: DateTime,
    /// When it last changed.
    #[field(auto_now)]
    pub updated_at: DateTime,
}
