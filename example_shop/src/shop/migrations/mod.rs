//! Migrations of the `shop` app. `makemigrations` writes this file when it adds a migration.

#[path = "0001_initial.rs"]
pub mod m0001_initial;

#[path = "0002_customer_user.rs"]
pub mod m0002_customer_user;

#[path = "0003_order_ship_to_and_more.rs"]
pub mod m0003_order_ship_to_and_more;

#[path = "0004_alter_product_name.rs"]
pub mod m0004_alter_product_name;

/// The app's migrations, in order: what `App::migrations` takes.
pub fn all() -> Vec<manouche::migrations::Migration> {
    vec![
        m0001_initial::migration(),
        m0002_customer_user::migration(),
        m0003_order_ship_to_and_more::migration(),
        m0004_alter_product_name::migration(),
    ]
}
