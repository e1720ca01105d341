use manouche::prelude::*;

#[model(app = "shop")]
pub struct Order(i64);

fn main() {
    let _ = Order(1);
}
