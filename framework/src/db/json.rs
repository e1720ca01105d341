//! Lookups into JSON fields: Django's `data__key="value"` on a `JSONField`.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Json, Nullable, Text};

use super::MultiBackend;

/// The SQL types a JSON column has: `Json` or its nullable form.
pub trait JsonSql {}
impl JsonSql for Json {}
impl JsonSql for Nullable<Json> {}

/// `column ->> key` as text: see [`JsonLookups::key`].
#[derive(Debug, Clone, QueryId)]
pub struct JsonKey<C> {
    column: C,
    key: String,
}

/// Keys of a JSON column, as text, in filters and `values_list`:
///
/// ```
/// # use manouche::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub attributes: manouche::db::Json }
/// use manouche::db::JsonLookups as _;
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// // Tea.objects.filter(attributes__origin="Japan")
/// let japanese = Tea::objects().filter(Tea::attributes.key("origin").eq("Japan")).all_sync(conn)?;
/// # Ok(()) }
/// ```
///
/// The value is the key's text (a string without its quotes, a number as written, an object or
/// array as JSON), NULL when the key is missing. Booleans read `true`/`false` on PostgreSQL and
/// `1`/`0` on SQLite.
pub trait JsonLookups: Expression + Sized
where
    Self::SqlType: JsonSql,
{
    /// The value of a top-level key, as text.
    fn key(self, key: &str) -> JsonKey<Self> {
        JsonKey { column: self, key: key.to_owned() }
    }
}

impl<E> JsonLookups for E
where
    E: Expression,
    E::SqlType: JsonSql,
{
}

impl<C: Expression> Expression for JsonKey<C> {
    type SqlType = Nullable<Text>;
}

impl<C: ValidGrouping<GB>, GB> ValidGrouping<GB> for JsonKey<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for JsonKey<C> where Self: Expression {}
impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for JsonKey<C> where Self: AppearsOnTable<QS> {}

impl<C: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for JsonKey<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        // `->>` with a key label means the same on PostgreSQL and SQLite (3.38+); the cast makes
        // SQLite's typed result text, as PostgreSQL's is.
        out.push_sql("CAST((");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" ->> ");
        out.push_bind_param::<Text, String>(&self.key)?;
        out.push_sql(") AS TEXT)");
        Ok(())
    }
}
