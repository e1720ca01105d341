use manouche::prelude::*;

#[model(app = "shop", managed = false)]
pub struct Order {
    #[field(primary_key, auto, indexed)]
    pub id: i64,
}

fn main() {
    let _ = Order { id: 1 };
}
