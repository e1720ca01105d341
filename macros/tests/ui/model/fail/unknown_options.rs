use manouche::prelude::*;

#[model(app = "shop", db_table = "orders")]
pub struct Order {
    #[field(primary_key, auto, indexed)]
    pub id: i64,
}

#[model(app = "shop", managed = "no")]
pub struct Legacy {
    #[field(primary_key, auto, db_column = "")]
    pub id: i64,
    #[field(db_column = "Name\"")]
    pub name: String,
    #[field(default = String::from("x"))]
    #[field(editable = "no")]
    pub note: String,
    #[field(related_name = "others")]
    pub plain: i32,
    #[field(related_name = "two words")]
    pub other: i32,
}

fn main() {
    let _ = Order { id: 1 };
}
