use manouche::prelude::*;

#[model(app = "shop")]
#[permission(publish = "Can publish", delete = "Can delete", publish = "Again", Shout = "No", empty = "")]
#[permission(archive)]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[permission(publish = "Can publish")]
#[model(app = "shop")]
pub struct Order {
    #[field(primary_key, auto)]
    pub id: i64,
    pub total: i64,
}

fn main() {}
