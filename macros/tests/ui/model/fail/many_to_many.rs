use manouche::prelude::*;

#[model(app = "shop")]
pub struct Tag {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[model(app = "shop")]
#[many_to_many(tags = Tag, tags = Tag, name = Tag, Labels = Tag, other = "Tag")]
#[many_to_many(through = Tag)]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
