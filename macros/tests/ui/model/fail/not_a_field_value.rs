use manouche::prelude::*;

pub mod money {
    /// A type of the project's own that happens to be called `Decimal`: not manouche's.
    pub struct Decimal(pub i64);
}

#[model(app = "shop")]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(sql_type = diesel::sql_types::BigInt)]
    pub discount: money::Decimal,
}

fn main() {}
