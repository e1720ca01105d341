use manouche::db::SubqueryLookups as _;
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
    #[field(on_delete = cascade)]
    pub category: ForeignKey<Category>,
    pub name: String,
}

fn main() {
    // A text column against a subquery of keys.
    let _ = Product::objects().filter(Product::name.is_in(Category::objects()));
    // A subquery of two columns.
    let _ = Product::objects().filter(Product::id.is_in(Product::objects().values_list((Product::id, Product::name))));
}
