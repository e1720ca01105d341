use manouche::db::{DeleteEvent, SaveEvent};
use manouche::prelude::*;

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[receiver(post_save, sender = Product)]
fn reindex(event: &SaveEvent<Product>) {
    let _ = (&event.instance.name, event.created);
}

#[receiver(manouche::db::pre_delete, sender = Product,)]
fn archive(event: &DeleteEvent<Product>) {
    let _ = event.instance.id;
}

fn main() {}
