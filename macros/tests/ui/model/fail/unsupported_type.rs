use manouche::prelude::*;

pub struct Money(i64);

#[model(app = "shop")]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: i64,
    pub total: Money,
    pub tags: Vec<String>,
}

fn main() {
    let _ = Order { id: 1, total: Money(3), tags: Vec::new() };
}
