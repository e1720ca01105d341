use manouche::prelude::*;

#[model(app = "shop")]
pub struct Category {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub category: ForeignKey<Category>,
    #[field(on_delete = set_null)]
    pub shelf: ForeignKey<Category>,
    #[field(on_delete = vanish)]
    pub other: ForeignKey<Category>,
    #[field(on_delete = set_default)]
    pub fallback: ForeignKey<Category>,
    #[field(on_delete = cascade)]
    pub name: String,
}

// Two keys to one target give it the same reverse accessor, `swap_set`.
#[model(app = "shop")]
pub struct Swap {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = cascade)]
    pub given: ForeignKey<Category>,
    #[field(on_delete = cascade)]
    pub taken: ForeignKey<Category>,
}

fn main() {}
