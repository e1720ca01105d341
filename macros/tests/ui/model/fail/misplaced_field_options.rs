use manouche::prelude::*;

#[model(app = "shop")]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: String,
    #[field(auto)]
    pub number: i64,
    #[field(max_length = 10)]
    pub quantity: i32,
    #[field(max_length = -1)]
    pub code: String,
}

fn main() {
    let _ = Order { id: String::new(), number: 1, quantity: 2, code: String::new() };
}
