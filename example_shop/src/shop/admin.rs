//! The shop's models in the admin at `/admin/`. Create a staff account with
//! `cargo run -p example_shop -- createsuperuser`.

use diesel::ExpressionMethods as _;
use manouche::admin::register;
use manouche::db::{Connection, Model as _};

use super::models::{Category, Customer, Order, OrderItem, Product, Review, Tag};

/// An admin action: takes the selected products off sale in one statement.
fn withdraw(conn: &mut Connection, products: Vec<Product>) -> Result<String, manouche::db::Error> {
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let withdrawn = Product::objects().filter(Product::id.eq_any(ids)).update_sync(conn, Product::active.eq(false))?;
    Ok(format!("{withdrawn} products withdrawn from sale."))
}

register!(Category, list_display = [name, slug], search_fields = [name], prepopulated_fields = { slug: [name] });
register!(Tag, list_display = [name], search_fields = [name]);
register!(
    Product,
    list_display = [name, category, price, stock, stock_value(), active],
    list_filter = [category, active, created_at],
    actions = [withdraw => "Withdraw selected products from sale"],
    search_fields = [name, description, category.name],
    prepopulated_fields = { slug: [name] },
    ordering = [name],
    list_per_page = 50,
);
register!(Customer, list_display = [name, email, user, joined_at], search_fields = [name, email]);
register!(
    Order,
    list_display = [reference, customer, status, placed_at],
    list_filter = [status, placed_at],
    raw_id_fields = [customer],
    fieldsets = [("", [reference, customer, status]), ("Delivery", [ship_to, address, postcode, city])],
    inlines = [OrderItem],
);
register!(OrderItem, list_display = [order, product, product.slug, quantity, unit_price]);
register!(Review, list_display = [product, customer, rating, created_at], list_filter = [rating]);
