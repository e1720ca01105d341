// A model compiles with nothing imported but the attribute: the generated code names every trait
// it uses itself (a text field's search once needed the user's `EscapeExpressionMethods`).
#[manouche::model(app = "shop", display = "{name}")]
pub struct Tea {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 80)]
    pub name: String,
    pub notes: Option<String>,
    #[field(on_delete = cascade)]
    pub origin: manouche::db::ForeignKey<Origin>,
    pub brewed: manouche::db::DateTimeTz,
}

#[manouche::model(app = "shop")]
pub struct Origin {
    #[field(primary_key, auto)]
    pub id: i64,
    pub country: String,
}

fn main() {
    assert_eq!(<Tea as manouche::db::Model>::meta().table, "shop_tea");
}
