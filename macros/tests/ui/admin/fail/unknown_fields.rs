//! `admin::register!` checks every field it names against the model, and its options' names.

use manouche::prelude::*;

#[model(app = "catalog")]
pub struct Book {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 100)]
    pub title: String,
    pub slug: String,
}

manouche::admin::register!(Book, list_display = [title, autor]);
manouche::admin::register!(Book, search_fields = [titel]);
manouche::admin::register!(Book, prepopulated_fields = { slug: [tilte] });
manouche::admin::register!(Book, list_dispaly = [title]);

fn main() {}
