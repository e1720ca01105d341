use manouche::prelude::*;

pub struct NotAModel;

#[model(app = "shop")]
pub struct Review {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = cascade)]
    pub stranger: ForeignKey<NotAModel>,
}

fn main() {}
