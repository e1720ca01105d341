use manouche::prelude::*;

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub price: Decimal,
    #[field(max_digits = 4, decimal_places = 6)]
    pub weight: Decimal,
    #[field(max_digits = 99, decimal_places = 2)]
    pub huge: Decimal,
    #[field(auto_now)]
    pub stock: i64,
    #[field(decimal_places = 2)]
    pub name: String,
    #[field(primary_key)]
    pub ratio: f64,
    #[field(choices = floaty)]
    pub level: String,
}

fn main() {}
