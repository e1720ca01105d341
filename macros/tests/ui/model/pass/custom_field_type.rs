//! A field type of the project's own: a newtype stored as text, saved and read back.
use manouche::db::{Database, FieldType, PoolOptions, Widget};
use manouche::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Email(pub String);
manouche::newtype_field!(Email(String): diesel::sql_types::Text, Text, Email);

#[model(app = "crm")]
pub struct Contact {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 254, sql_type = diesel::sql_types::Text)]
    pub email: Email,
}

fn main() {
    let field = Contact::meta().field("email").unwrap();
    assert_eq!((field.ty, field.widget), (FieldType::Text, Widget::Email));
    let db = Database::connect(&manouche::conf::DatabaseUrl::SqliteMemory, PoolOptions::default());
    let read = db
        .run_sync(|conn| {
            for sql in manouche::migrations::create_table(Contact::meta(), conn.backend()).unwrap() {
                diesel::connection::SimpleConnection::batch_execute(conn, &sql)?;
            }
            Contact { id: 0, email: Email("ada@example.com".into()) }.save_sync(conn)?;
            Contact::objects().filter(Contact::email.eq(Email("ada@example.com".into()))).get_sync(conn)
        })
        .unwrap();
    assert_eq!(read.email, Email("ada@example.com".into()));
}
