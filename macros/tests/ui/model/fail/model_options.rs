use manouche::prelude::*;

#[model(app = "shop", ordering = ["-nmae"], unique_together = [["name"], ["name", "colour"]], indexes = "name")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

// An empty `display` is refused.
#[model(app = "shop", display = "")]
pub struct Cup {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
