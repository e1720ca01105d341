//! The shop's models.

use manouche::auth::User;
use manouche::prelude::*;
use serde::Serialize;

/// A shelf of the shop.
#[model(app = "shop", verbose_name = "category", display = "{name}")]
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

/// A label customers browse by ("organic", "caffeine-free").
#[model(app = "shop", ordering = ["name"], display = "{name}")]
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// The label.
    #[field(max_length = 50, unique)]
    pub name: String,
}

/// Something we sell. Prices are exact decimals: money is never a float.
#[model(app = "shop")]
#[permission(publish = "Can publish products")]
#[many_to_many(tags = Tag)]
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// Shown to customers.
    #[field(max_length = 200, db_index)]
    pub name: String,
    /// The URL name.
    #[field(max_length = 200, unique)]
    pub slug: String,
    /// Its shelf; a category holding products cannot be deleted. `category.products()`.
    #[field(on_delete = protect, related_name = "products")]
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

impl Product {
    /// What the tins on the shelf are worth at the current price (a column of the admin's list).
    pub fn stock_value(&self) -> Decimal {
        self.price * Decimal::from(self.stock)
    }
}

/// A product is shown by its name where one is chosen among others (the admin, forms).
impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// Someone who buys: the profile of a user account (Django's one-to-one profile pattern). Guests
/// who wrote reviews before accounts existed have none.
#[model(app = "shop", ordering = ["name"], display = "{name} <{email}>")]
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// The account; deleting it deletes the profile. (`User` is another crate's model: its table
    /// is named for Diesel's joins.)
    #[field(on_delete = cascade, unique, target_table = manouche::auth::models::auth_user)]
    #[serde(skip)]
    pub user: Option<OneToOne<User>>,
    /// Full name.
    #[field(max_length = 150)]
    pub name: String,
    /// Where receipts go.
    #[field(max_length = 254, unique)]
    pub email: String,
    /// When they signed up.
    #[field(auto_now_add)]
    pub joined_at: DateTime,
}

/// Where an order stands.
#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Placed, not paid yet.
    Pending,
    /// Paid, being packed.
    Paid,
    /// On its way.
    Shipped,
    /// Called off.
    Cancelled,
}

/// An order of a customer; its lines are `OrderItem`s.
#[model(app = "shop", ordering = ["-placed_at"], display = "Order {reference}")]
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// A public reference, safe to show in URLs and e-mails.
    #[field(unique)]
    pub reference: Uuid,
    /// Who placed it; a customer with orders cannot be deleted.
    #[field(on_delete = protect)]
    pub customer: ForeignKey<Customer>,
    /// Where it stands.
    #[field(choices, max_length = 10)]
    pub status: OrderStatus,
    /// When it was placed.
    #[field(auto_now_add)]
    pub placed_at: DateTime,
    /// Who the parcel goes to (blank on orders placed before addresses were asked for).
    #[field(max_length = 100, default = "", blank)]
    pub ship_to: String,
    /// The street address, on one or more lines.
    #[field(default = "", blank)]
    pub address: String,
    /// The postcode.
    #[field(max_length = 12, default = "", blank)]
    pub postcode: String,
    /// The town or city.
    #[field(max_length = 100, default = "", blank)]
    pub city: String,
}

/// One line of an order: a product, a quantity and the price paid.
#[model(app = "shop", unique_together = [["order", "product"]])]
#[derive(Debug, Clone, Serialize)]
pub struct OrderItem {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// The order it belongs to; deleted with it.
    #[field(on_delete = cascade, related_name = "items")]
    pub order: ForeignKey<Order>,
    /// What was bought; a product that was ordered cannot be deleted.
    #[field(on_delete = protect)]
    pub product: ForeignKey<Product>,
    /// How many.
    pub quantity: i32,
    /// The price of one when ordered (prices change; orders do not).
    #[field(max_digits = 10, decimal_places = 2)]
    pub unit_price: Decimal,
}

/// A review's stars, stored as the number (Django's `IntegerChoices`).
#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
#[choices(integer)]
pub enum Stars {
    /// Poor.
    #[choice(label = "Poor")]
    One = 1,
    /// Fair.
    #[choice(label = "Fair")]
    Two = 2,
    /// Good.
    #[choice(label = "Good")]
    Three = 3,
    /// Very good.
    #[choice(label = "Very good")]
    Four = 4,
    /// Excellent.
    #[choice(label = "Excellent")]
    Five = 5,
}

/// A customer's opinion of a product: one each.
#[model(app = "shop", ordering = ["-created_at"], unique_together = [["product", "customer"]])]
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// The product reviewed.
    #[field(on_delete = cascade, related_name = "reviews")]
    pub product: ForeignKey<Product>,
    /// Who wrote it.
    #[field(on_delete = cascade)]
    pub customer: ForeignKey<Customer>,
    /// 1 to 5 stars.
    #[field(choices = integer)]
    pub rating: Stars,
    /// What they said.
    pub body: String,
    /// When.
    #[field(auto_now_add)]
    pub created_at: DateTime,
}
