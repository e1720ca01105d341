//! The shop's models in the admin at `/admin/`. Create a staff account with
//! `cargo run -p example_shop -- createsuperuser`.

use manouche::admin::register;

use super::models::{Category, Customer, Order, OrderItem, Product, Review, Tag};

register!(Category, list_display = [name, slug], search_fields = [name], prepopulated_fields = { slug: [name] });
register!(Tag, list_display = [name], search_fields = [name]);
register!(
    Product,
    list_display = [name, category, price, stock, active],
    list_filter = [category, active],
    search_fields = [name, description],
    prepopulated_fields = { slug: [name] },
    list_per_page = 50,
);
register!(Customer, list_display = [name, email, user, joined_at], search_fields = [name, email]);
register!(
    Order,
    list_display = [reference, customer, status, placed_at],
    list_filter = [status],
    inlines = [OrderItem],
);
register!(OrderItem, list_display = [order, product, quantity, unit_price]);
register!(Review, list_display = [product, customer, rating, created_at], list_filter = [rating]);
