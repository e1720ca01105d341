use manouche::prelude::*;

#[model(app = "shop")]
pub struct Order {
    #[field(primary_key)]
    pub id: i64,
    #[field(primary_key)]
    pub number: i64,
}

fn main() {
    let _ = Order { id: 1, number: 2 };
}
