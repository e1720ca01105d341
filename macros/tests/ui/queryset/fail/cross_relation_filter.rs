use manouche::db::Lookups as _;
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
    pub active: bool,
}

fn main() {
    // A field the target does not have.
    let _ = Product::objects().filter(Product::category.matches(Category::title.eq("Cups")));
    // A predicate on the wrong model: the product's own column, not the category's.
    let _ = Product::objects().filter(Product::category.matches(Product::active.eq(true)));
}
