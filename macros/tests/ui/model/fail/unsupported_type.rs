use manouche::prelude::*;

pub struct Money(i64);

pub mod money {
    /// A type of the project's own that happens to be called `Decimal`.
    pub struct Decimal(pub i64);
}

#[model(app = "shop")]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: i64,
    pub total: Money,
    pub tags: Vec<String>,
    #[field(sql_type = diesel::sql_types::BigInt)]
    pub discount: money::Decimal,
    #[field(sql_type = diesel::sql_types::Text)]
    pub count: i32,
}

fn main() {}
