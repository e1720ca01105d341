use manouche::prelude::*;

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 200, verbose_name = "product name")]
    pub name: String,
    pub price_cents: i32,
    pub note: Option<String>,
    pub picture: Vec<u8>,
}

fn main() {
    use diesel::ExpressionMethods;
    let _ = Product::price_cents.gt(3);
    assert_eq!(Product::meta().table, "shop_product");
}
