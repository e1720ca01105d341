use manouche::prelude::*;

#[model]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: i64,
}

fn main() {
    let _ = Order { id: 1 };
}
