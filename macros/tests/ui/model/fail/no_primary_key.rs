use manouche::prelude::*;

#[model(app = "shop")]
pub struct Order {
    pub number: i64,
}

fn main() {
    let _ = Order { number: 2 };
}
