use manouche::db::SaveEvent;
use manouche::prelude::*;

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[model(app = "shop")]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: i64,
    pub number: i64,
}

#[receiver(post_save, sender = Product)]
fn reindex(event: &SaveEvent<Order>) {
    let _ = event;
}

#[receiver(post_save, model = Product)]
fn typo(event: &SaveEvent<Product>) {
    let _ = event;
}

fn main() {}
