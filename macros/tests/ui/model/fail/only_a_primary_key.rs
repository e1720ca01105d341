use manouche::prelude::*;

#[model(app = "shop")]
pub struct Tag {
    #[field(primary_key, auto)]
    pub id: i64,
}

fn main() {
    let _ = Tag { id: 1 };
}
