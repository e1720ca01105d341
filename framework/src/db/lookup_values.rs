//! `get_or_create` and `update_or_create` with the lookup written once: Django's
//! `get_or_create(slug="tea", defaults=...)`.

use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{FilterDsl, LimitDsl};

use super::{AnyConnection, Error, FieldValue, Model, ModelText, QuerySet};

/// A column and the value it must equal: `lookup(Product::slug, "tea".to_owned())`.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<C, V> {
    column: C,
    value: V,
}

/// Django's `slug="tea"`: the column must equal the value, and a created row gets it.
pub fn lookup<C, V>(column: C, value: V) -> Lookup<C, V> {
    Lookup { column, value }
}

/// [`lookup`]s that both filter rows and set a new instance's fields: one, or a tuple of them.
pub trait LookupValues<M: Model> {
    /// `query` restricted to rows whose columns equal the values.
    #[doc(hidden)]
    fn filter(&self, query: QuerySet<M>) -> QuerySet<M>;
    /// Sets the instance's fields to the values.
    #[doc(hidden)]
    fn assign(&self, instance: &mut M);
}

impl<M, C, V> LookupValues<M> for Lookup<C, V>
where
    M: ModelText,
    C: diesel::Column<Table = M::Table> + diesel::ExpressionMethods + Copy,
    C::SqlType: diesel::sql_types::SqlType,
    V: FieldValue + diesel::expression::AsExpression<C::SqlType> + Clone,
    M::Query: FilterDsl<diesel::dsl::Eq<C, V>, Output = M::Query>,
{
    fn filter(&self, query: QuerySet<M>) -> QuerySet<M> {
        query.filter(self.column.eq(self.value.clone()))
    }

    fn assign(&self, instance: &mut M) {
        // The field whose column this is; every `#[model]` column belongs to one of its fields,
        // and the text of a value of the field's own type always reads back.
        if let Some(field) = M::meta().fields.iter().find(|f| f.column == C::NAME) {
            let _ = instance.set_text(&field.name, &self.value.to_text());
        }
    }
}

macro_rules! tuple_lookups {
    ($($name:ident $index:tt),+) => {
        impl<M: Model, $($name: LookupValues<M>),+> LookupValues<M> for ($($name,)+) {
            fn filter(&self, query: QuerySet<M>) -> QuerySet<M> {
                $(let query = self.$index.filter(query);)+
                query
            }
            fn assign(&self, instance: &mut M) {
                $(self.$index.assign(instance);)+
            }
        }
    };
}

tuple_lookups!(A 0, B 1);
tuple_lookups!(A 0, B 1, C 2);
tuple_lookups!(A 0, B 1, C 2, D 3);

impl<M: Model> QuerySet<M> {
    /// The row matching `lookup`, or a new one made by `defaults` with the lookup's values set
    /// on it, saved: Django's `get_or_create(slug="tea", defaults={...})`. The flag says whether
    /// it was created. Run it in `atomic` when two requests may race.
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # #[model(app = "shop")] pub struct Tag { #[field(primary_key, auto)] pub id: i64, pub name: String, pub uses: i32 }
    /// use manouche::db::lookup;
    /// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
    /// let (tag, created) = Tag::objects()
    ///     .get_or_create_by_sync(conn, lookup(Tag::name, "organic".to_owned()), || Tag { id: 0, name: String::new(), uses: 0 })?;
    /// assert_eq!(tag.name, "organic");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_or_create_sync`].
    pub fn get_or_create_by_sync<L: LookupValues<M>>(
        self,
        conn: &mut AnyConnection,
        lookup: L,
        defaults: impl FnOnce() -> M,
    ) -> Result<(M, bool), Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        lookup.filter(self).get_or_create_sync(conn, || {
            let mut instance = defaults();
            lookup.assign(&mut instance);
            instance
        })
    }

    /// The row matching `lookup` changed by `update`, or a new one from `defaults` with the
    /// lookup's values, changed by `update`, saved: Django's `update_or_create`.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_or_create_sync`].
    pub fn update_or_create_by_sync<L: LookupValues<M>>(
        self,
        conn: &mut AnyConnection,
        lookup: L,
        defaults: impl FnOnce() -> M,
        update: impl FnOnce(&mut M),
    ) -> Result<(M, bool), Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        lookup.filter(self).update_or_create_sync(
            conn,
            || {
                let mut instance = defaults();
                lookup.assign(&mut instance);
                instance
            },
            update,
        )
    }
}
