use diesel::prelude::*;
use manouche::prelude::*;

#[model(app = "shop")]
pub struct Tea {
    #[field(primary_key, auto)]
    pub id: i64,
    pub price_cents: i64,
}

fn main() {
    // Ordering by a computed expression cannot be reversed: a clear error, not Diesel's wall.
    let _ = Tea::objects().order_by((Tea::price_cents * 2).desc());
    let _ = Tea::objects().order_by(Tea::price_cents.desc());
}
