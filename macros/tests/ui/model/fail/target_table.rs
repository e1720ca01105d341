use manouche::prelude::*;

#[model(app = "shop")]
pub struct Category {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[model(app = "shop")]
pub struct Shelf {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

// The table named is not the target's: the compiler says which two differ.
#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
    #[field(on_delete = cascade, target_table = shop_shelf)]
    pub category: ForeignKey<Category>,
}

// `target_table` names a foreign key's table: on another field it is refused.
#[model(app = "shop")]
pub struct Tag {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(target_table = shop_category)]
    pub name: String,
}

fn main() {}
