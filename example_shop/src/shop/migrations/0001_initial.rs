//! Migration `0001_initial` of the `shop` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-01 23:24 UTC.
//!
//! - Create model Category
//! - Create model Customer
//! - Create model Order
//! - Create model Product
//! - Create model OrderItem
//! - Create model Review
//! - Create model Tag
//! - Create model ProductTags

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .operation(create_model(
            "Category",
            "shop_category",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("name", FieldType::Text).unique().max_length(100),
                field("slug", FieldType::Text).unique().max_length(100),
            ],
        ))
        .operation(create_model(
            "Customer",
            "shop_customer",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("name", FieldType::Text).max_length(150),
                field("email", FieldType::Text).unique().max_length(254),
                field("joined_at", FieldType::DateTime).auto_now_add(),
            ],
        ))
        .operation(create_model(
            "Order",
            "shop_order",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("reference", FieldType::Uuid).unique(),
                foreign_key("customer", "shop.Customer", OnDelete::Protect),
                field("status", FieldType::Text).max_length(10),
                field("placed_at", FieldType::DateTime).auto_now_add(),
            ],
        ))
        .operation(create_model(
            "Product",
            "shop_product",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("name", FieldType::Text).max_length(200),
                field("slug", FieldType::Text).unique().max_length(200),
                foreign_key("category", "shop.Category", OnDelete::Protect),
                field("description", FieldType::Text),
                field("price", FieldType::Decimal).digits(10, 2),
                field("stock", FieldType::Integer),
                field("active", FieldType::Bool).default("true"),
                field("created_at", FieldType::DateTime).auto_now_add(),
                field("updated_at", FieldType::DateTime).auto_now(),
            ],
        ))
        .operation(
            create_model(
                "OrderItem",
                "shop_orderitem",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("order", "shop.Order", OnDelete::Cascade),
                    foreign_key("product", "shop.Product", OnDelete::Protect),
                    field("quantity", FieldType::Integer),
                    field("unit_price", FieldType::Decimal).digits(10, 2),
                ],
            )
            .unique_together(["order", "product"]),
        )
        .operation(
            create_model(
                "Review",
                "shop_review",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("product", "shop.Product", OnDelete::Cascade),
                    foreign_key("customer", "shop.Customer", OnDelete::Cascade),
                    field("rating", FieldType::Integer),
                    field("body", FieldType::Text),
                    field("created_at", FieldType::DateTime).auto_now_add(),
                ],
            )
            .unique_together(["product", "customer"]),
        )
        .operation(create_model(
            "Tag",
            "shop_tag",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("name", FieldType::Text).unique().max_length(50),
            ],
        ))
        .operation(
            create_model(
                "ProductTags",
                "shop_product_tags",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("product", "shop.Product", OnDelete::Cascade),
                    foreign_key("tag", "shop.Tag", OnDelete::Cascade),
                ],
            )
            .unique_together(["product", "tag"]),
        )
}
