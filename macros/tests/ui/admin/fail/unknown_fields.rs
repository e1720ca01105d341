//! `admin::register!` checks every field it names against the model (and a related column's
//! field against the target), its options' names, each action's signature, an ordering's
//! direction, the fields of fieldsets and that inlines are models.

use manouche::prelude::*;

#[model(app = "catalog")]
pub struct Author {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

#[model(app = "catalog")]
pub struct Book {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 100)]
    pub title: String,
    pub slug: String,
    #[field(on_delete = cascade)]
    pub author: ForeignKey<Author>,
}

fn wrong_action(_conn: &mut manouche::db::Connection, _books: Vec<Author>) -> Result<String, manouche::db::Error> {
    Ok(String::new())
}

manouche::admin::register!(Book, list_display = [title, autor]);
manouche::admin::register!(Book, search_fields = [titel]);
manouche::admin::register!(Book, prepopulated_fields = { slug: [tilte] });
manouche::admin::register!(Book, list_dispaly = [title]);
manouche::admin::register!(Book, list_display = [title, author.nmae]);
manouche::admin::register!(Book, actions = [wrong_action => "Do something"]);
manouche::admin::register!(Book, list_display = [title, shelf_mark()]);
manouche::admin::register!(Book, ordering = [title.down()]);
manouche::admin::register!(Book, fieldsets = [("Main", [title, summary])]);
manouche::admin::register!(Book, inlines = [String]);

fn main() {}
