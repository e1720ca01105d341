use manouche::prelude::*;

// `display` names fields: a misspelled one fails on the string.
#[model(app = "shop", display = "{nmae} ({id})")]
pub struct Tea {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
