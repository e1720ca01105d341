//! Query sets: [`QuerySet`] and what its methods return.

mod asynchronous;
mod prefetch;
mod values;

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use diesel::RunQueryDsl;
use diesel::dsl::CountStar;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{DistinctDsl, FilterDsl, LimitDsl, OffsetDsl, SelectDsl};

use super::{AnyConnection, Error, Model, RelatedField};

pub use self::prefetch::{__attach_targets, PrefetchMany, PrefetchSet};
pub use self::values::{ValueMaps, Values};

/// A lazy query over a model's table, Django's `QuerySet`: each method returns a new query set,
/// and nothing runs until `all`, `get`, `first`, `count` or `exists`.
///
/// Conditions are typed Diesel expressions on the model's column handles:
///
/// ```
/// # use manouche::prelude::*;
/// # use diesel::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
/// let query = Tea::objects()
///     .filter(Tea::price_cents.lt(1000))
///     .exclude(Tea::name.like("%decaf%"))
///     .order_by(Tea::name.asc())
///     .limit(10);
/// # let _ = query;
/// ```
///
/// Every method has an async form for views (run on the blocking pool) and a `_sync` form taking
/// a connection, for transactions, receivers and commands.
pub struct QuerySet<M: Model> {
    query: M::Query,
    /// `order_by` terms, applied when rows are loaded (not to `count`, `exists`, `aggregate`,
    /// which PostgreSQL refuses to order); none means the model's default `ordering`.
    orders: Vec<Order<M>>,
    /// `reverse()` was called an odd number of times.
    reversed: bool,
    /// Related objects loaded with the rows: `select_related` and `prefetch_related`.
    related: Vec<Related<M>>,
    /// Nothing narrows the rows yet (`Model::objects()` as it came): a primary-key lookup can
    /// then be a typed query.
    whole_table: bool,
    _model: PhantomData<fn() -> M>,
}

/// An `order_by` term; the flag asks for its reverse.
type Order<M> = Box<dyn FnOnce(<M as Model>::Query, bool) -> <M as Model>::Query + Send>;

/// Loads the rows of a query joined to a foreign key's target, in one query.
type JoinLoad<M> = fn(<M as Model>::Query, &mut AnyConnection) -> Result<Vec<M>, Error>;

/// Fills a foreign key's target into loaded rows, with one query.
type Attach<M> = fn(&mut [M], &mut AnyConnection) -> Result<(), Error>;

/// A relation to load with the rows.
struct Related<M: Model> {
    /// `select_related`: the join that loads rows and targets together.
    join: Option<JoinLoad<M>>,
    /// The one-query prefetch, for `prefetch_related` and for a second `select_related`.
    attach: Attach<M>,
}

impl<M: Model> fmt::Debug for QuerySet<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuerySet").field("model", &M::meta().name).finish_non_exhaustive()
    }
}

impl<M: Model> QuerySet<M> {
    #[doc(hidden)]
    pub fn __new(query: M::Query) -> Self {
        QuerySet {
            query,
            orders: Vec::new(),
            reversed: false,
            related: Vec::new(),
            whole_table: false,
            _model: PhantomData,
        }
    }

    /// Every row of the model's table (what `Model::objects()` returns).
    #[doc(hidden)]
    pub fn __whole_table(query: M::Query) -> Self {
        QuerySet { whole_table: true, ..Self::__new(query) }
    }

    /// The same query set with `change` applied to its query.
    fn map(self, change: impl FnOnce(M::Query) -> M::Query) -> Self {
        QuerySet { query: change(self.query), whole_table: false, ..self }
    }

    /// The underlying boxed Diesel query with its ordering, to go further than the query set does.
    pub fn into_diesel(self) -> M::Query {
        self.ordered(false).0
    }

    /// The query without its ordering, for the framework's own statements.
    #[doc(hidden)]
    pub fn __order_with(mut self, order: impl FnOnce(M::Query) -> M::Query + Send + 'static) -> Self {
        self.orders.push(Box::new(move |query, _reversed| order(query)));
        self
    }

    #[doc(hidden)]
    pub fn __into_unordered(self) -> M::Query {
        self.query
    }

    /// Keeps the rows matching `predicate` (and any earlier filters).
    #[must_use]
    pub fn filter<P>(self, predicate: P) -> Self
    where
        M::Query: FilterDsl<P, Output = M::Query>,
    {
        self.map(|query| query.filter(predicate))
    }

    /// Drops the rows matching `predicate`: Django's `exclude`.
    #[must_use]
    pub fn exclude<P>(self, predicate: P) -> Self
    where
        M::Query: FilterDsl<diesel::dsl::not<P>, Output = M::Query>,
        P: diesel::Expression,
        P::SqlType: diesel::sql_types::BoolOrNullableBool,
    {
        self.map(|query| query.filter(diesel::dsl::not(predicate)))
    }

    /// Orders by `order`: a column (`Tea::name`), `Tea::name.asc()`, `Tea::price_cents.desc()` or
    /// a tuple of them, after earlier `order_by` terms; any `order_by` replaces the model's
    /// default `ordering`, as in Django. See [`super::OrderTerm`].
    #[must_use]
    pub fn order_by<O: super::OrderTerm<M::Query>>(mut self, order: O) -> Self {
        self.orders.push(Box::new(move |query: M::Query, reversed| order.__then_order(query, reversed)));
        self
    }

    /// The same rows in the opposite order: Django's `reverse()`. Without `order_by` it flips the
    /// model's default `ordering`; with neither it changes nothing (but [`QuerySet::last`] still
    /// takes the greatest key).
    #[must_use]
    pub fn reverse(mut self) -> Self {
        self.reversed = !self.reversed;
        self
    }

    /// The query in its order and the relations to load with it. With `by_key`, a query set with
    /// no ordering at all is ordered by primary key (as Django's `first()` and `last()` do).
    fn ordered(self, by_key: bool) -> (M::Query, Vec<Related<M>>) {
        let QuerySet { query, orders, reversed, related, .. } = self;
        let query = if !orders.is_empty() {
            orders.into_iter().fold(query, |query, order| order(query, reversed))
        } else if by_key && M::meta().ordering.is_empty() {
            M::__order_by_pk(query, reversed)
        } else {
            M::__default_order(query, reversed)
        };
        (query, related)
    }

    /// The query to nest in another statement: ordered only when `order_by` was called (an
    /// order matters there only with a limit).
    pub(crate) fn into_subquery(self) -> M::Query {
        if self.orders.is_empty() { self.query } else { self.ordered(false).0 }
    }

    /// At most `n` rows: Django's `[:n]`.
    #[must_use]
    pub fn limit(self, n: i64) -> Self
    where
        M::Query: LimitDsl<Output = M::Query>,
    {
        self.map(|query| query.limit(n))
    }

    /// Skips `n` rows: Django's `[n:]`.
    #[must_use]
    pub fn offset(self, n: i64) -> Self
    where
        M::Query: OffsetDsl<Output = M::Query>,
    {
        self.map(|query| query.offset(n))
    }

    /// Drops duplicate rows: Django's `distinct()`.
    #[must_use]
    pub fn distinct(self) -> Self
    where
        M::Query: DistinctDsl<Output = M::Query>,
    {
        self.map(DistinctDsl::distinct)
    }

    /// Selected columns instead of whole models: Django's `values_list`. A tuple of columns gives
    /// typed tuples; one column gives a flat list (`values_list(flat=True)`).
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # use diesel::prelude::*;
    /// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
    /// # async fn demo(db: manouche::db::Database) -> Result<(), manouche::db::Error> {
    /// let names: Vec<String> = Tea::objects().values_list(Tea::name).all(&db).await?;
    /// let pairs: Vec<(String, i64)> = Tea::objects().values_list((Tea::name, Tea::price_cents)).all(&db).await?;
    /// # Ok(()) }
    /// ```
    pub fn values_list<S>(self, columns: S) -> Values<<M::Query as SelectDsl<S>>::Output>
    where
        S: diesel::Expression,
        M::Query: SelectDsl<S>,
    {
        Values { query: self.ordered(false).0.select(columns) }
    }

    /// Each row with a computed value: Django's `annotate`. The expression is any typed Diesel
    /// expression on the row, including a correlated subquery (Django's `Subquery` with
    /// `OuterRef`): a count or aggregate of related rows per row, with no join and no group by.
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # use diesel::prelude::*;
    /// # #[model(app = "shop")] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
    /// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade)] pub category: ForeignKey<Category>, pub name: String }
    /// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
    /// // Categories with how many products each holds.
    /// let counted: Vec<(Category, Option<i64>)> = Category::objects()
    ///     .annotate(shop_product::table.filter(Product::category.eq(Category::id)).count().single_value())
    ///     .all_sync(conn)?;
    /// # Ok(()) }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn annotate<E>(
        self,
        expression: E,
    ) -> Values<<M::Query as SelectDsl<(diesel::dsl::AsSelect<M, super::MultiBackend>, E)>>::Output>
    where
        M: diesel::Selectable<super::MultiBackend>,
        E: diesel::Expression,
        (diesel::dsl::AsSelect<M, super::MultiBackend>, E): diesel::Expression,
        M::Query: SelectDsl<(diesel::dsl::AsSelect<M, super::MultiBackend>, E)>,
    {
        use diesel::SelectableHelper;
        Values { query: self.ordered(false).0.select((M::as_select(), expression)) }
    }

    /// Selected columns as rows of name → value maps, serialisable to JSON: Django's `values()`.
    /// `Product::objects().values((Product::name, Product::price))` gives
    /// `[{"name": "Sencha", "price": "14.00"}, ...]`.
    pub fn values<C>(self, columns: C) -> ValueMaps<<M::Query as SelectDsl<C>>::Output, C>
    where
        C: super::values::ColumnList,
        M::Query: SelectDsl<C>,
    {
        ValueMaps { query: self.ordered(false).0.select(columns), _columns: PhantomData }
    }

    /// An aggregate over the matching rows: Django's `aggregate`. Read it with [`Values::one`].
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # use diesel::prelude::*;
    /// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
    /// # async fn demo(db: manouche::db::Database) -> Result<(), manouche::db::Error> {
    /// let dearest: Option<i64> = Tea::objects().aggregate(diesel::dsl::max(Tea::price_cents)).one(&db).await?;
    /// # Ok(()) }
    /// ```
    pub fn aggregate<S>(self, expression: S) -> Values<<M::Query as SelectDsl<S>>::Output>
    where
        S: diesel::Expression,
        M::Query: SelectDsl<S>,
    {
        Values { query: self.query.select(expression) }
    }

    /// Every matching row.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn all_sync(self, conn: &mut AnyConnection) -> Result<Vec<M>, Error>
    where
        M::Query: LoadQuery<'static, AnyConnection, M>,
    {
        let (query, related) = self.ordered(false);
        load_with(query, &related, conn)
    }

    /// The first matching row, if any: Django's `first()`. A query set with no ordering (and a
    /// model with no default `ordering`) is ordered by primary key for it.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn first_sync(self, conn: &mut AnyConnection) -> Result<Option<M>, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        let (query, related) = self.ordered(true);
        Ok(load_with(query.limit(1), &related, conn)?.into_iter().next())
    }

    /// The last matching row, if any: Django's `last()`, the first of the reversed ordering
    /// (by primary key when there is no ordering).
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn last_sync(self, conn: &mut AnyConnection) -> Result<Option<M>, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        self.reverse().first_sync(conn)
    }

    /// The one matching row.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] (a 404 in a view) when none matches,
    /// [`Error::MultipleObjectsReturned`] when several do.
    pub fn get_sync(self, conn: &mut AnyConnection) -> Result<M, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        let mut rows = load_with(self.query.limit(2), &self.related, conn)?;
        match rows.len() {
            0 => Err(Error::DoesNotExist { model: M::meta().name }),
            1 => rows.pop().ok_or(Error::DoesNotExist { model: M::meta().name }),
            n => Err(Error::MultipleObjectsReturned { model: M::meta().name, count: n }),
        }
    }

    /// The row whose primary key is `pk`: Django's `get(pk=...)`, the lookup of a detail view.
    ///
    /// On `Model::objects()` itself it runs a typed Diesel query, whose prepared statement is
    /// found by type rather than by building its SQL again (a fraction of the cost of
    /// `filter(..).get()`); after `filter`, `select_related` and the like it adds the key to
    /// them.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] (a 404 in a view) when there is no such row.
    pub fn get_by_pk_sync(self, conn: &mut AnyConnection, pk: M::PrimaryKey) -> Result<M, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        if self.whole_table && self.related.is_empty() {
            return M::__get_by_pk(pk, conn)?.ok_or(Error::DoesNotExist { model: M::meta().name });
        }
        QuerySet { query: M::__filter_pks(self.query, vec![pk]), ..self }.get_sync(conn)
    }

    /// How many rows match.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn count_sync(self, conn: &mut AnyConnection) -> Result<i64, Error>
    where
        M::Query: SelectDsl<CountStar>,
        <M::Query as SelectDsl<CountStar>>::Output: LoadQuery<'static, AnyConnection, i64>,
    {
        Ok(self.query.select(diesel::dsl::count_star()).get_result(conn)?)
    }

    /// Whether any row matches.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn exists_sync(self, conn: &mut AnyConnection) -> Result<bool, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        Ok(!self.query.limit(1).load(conn)?.is_empty())
    }

    /// The matching rows whose primary key is in `keys`, by key: Django's `in_bulk`. One
    /// statement: SQLite takes up to 32,766 keys.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn in_bulk_sync(
        self,
        conn: &mut AnyConnection,
        keys: impl IntoIterator<Item = M::PrimaryKey>,
    ) -> Result<HashMap<M::PrimaryKey, M>, Error>
    where
        M::Query: LoadQuery<'static, AnyConnection, M>,
    {
        let keys: Vec<M::PrimaryKey> = keys.into_iter().collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = QuerySet::<M>::__new(M::__filter_pks(self.query, keys)).all_sync(conn)?;
        Ok(rows.into_iter().map(|m| (m.pk(), m)).collect())
    }

    /// Updates every matching row in SQL, Django's `update()`: returns how many changed. Column
    /// arithmetic runs in the database, so concurrent updates do not lose each other's work
    /// (Django's `F`): `.update_sync(conn, Product::stock.eq(Product::stock - 1))`.
    /// No `pre_save`/`post_save` signal is sent, as in Django.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when a statement fails; nothing is changed then.
    pub fn update_sync<V>(self, conn: &mut AnyConnection, changes: V) -> Result<usize, Error>
    where
        V: diesel::AsChangeset<Target = M::Table> + Clone,
        V::Changeset: diesel::query_builder::QueryFragment<super::MultiBackend>,
    {
        let updated = M::__update_matching(self.query, changes, conn)?;
        if updated > 0 {
            crate::db::signals::table_changed(M::meta().table);
        }
        Ok(updated)
    }

    /// Deletes every matching row, Django's `QuerySet.delete()`, through the
    /// [collector](super::collector): rows referring to them are deleted too (`cascade`) or keep
    /// them (`protect`), and every deleted row gets `pre_delete` and `post_delete`. Returns how
    /// many rows of this model went. When nothing refers to the model and no delete signal has a
    /// receiver, it is one `DELETE` (Django's fast delete).
    ///
    /// # Errors
    ///
    /// [`Error::Protected`] naming the protected rows; [`Error::Query`] when a statement fails.
    /// Nothing is deleted then.
    pub fn delete_sync(self, conn: &mut AnyConnection) -> Result<usize, Error> {
        let meta = M::meta();
        let signals = super::pre_delete::<M>().has_receivers() || super::post_delete::<M>().has_receivers();
        let entry = if signals || super::collector::is_referred_to(meta) { super::model(&meta.label()) } else { None };
        let Some(model) = entry else {
            let deleted = M::__delete_matching(self.query, conn)?;
            if deleted > 0 {
                crate::db::signals::table_changed(meta.table);
            }
            return Ok(deleted);
        };
        super::atomic(conn, |conn| {
            let keys: Vec<String> =
                M::__matching_keys(self.query, conn)?.iter().map(super::FieldValue::to_text).collect();
            let collected = super::collector::delete(conn, model, &keys)?;
            Ok(collected.counts().get(&meta.label()).copied().unwrap_or(0))
        })
    }

    /// The one matching row, or `create()` saved when there is none: Django's `get_or_create`.
    /// The flag says whether it was created. Run it in `atomic` when two requests may race.
    ///
    /// # Errors
    ///
    /// [`Error::MultipleObjectsReturned`], or what saving returns (a unique constraint, ...).
    pub fn get_or_create_sync(self, conn: &mut AnyConnection, create: impl FnOnce() -> M) -> Result<(M, bool), Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        match self.get_sync(conn) {
            Ok(found) => Ok((found, false)),
            Err(Error::DoesNotExist { .. }) => Ok((create().save_sync(conn)?, true)),
            Err(error) => Err(error),
        }
    }

    /// The one matching row changed by `update` and saved, or `create()` changed by `update` and
    /// saved: Django's `update_or_create` (the flag says whether it was created).
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_or_create_sync`].
    pub fn update_or_create_sync(
        self,
        conn: &mut AnyConnection,
        create: impl FnOnce() -> M,
        update: impl FnOnce(&mut M),
    ) -> Result<(M, bool), Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        let (mut instance, created) = match self.get_sync(conn) {
            Ok(found) => (found, false),
            Err(Error::DoesNotExist { .. }) => (create(), true),
            Err(error) => return Err(error),
        };
        update(&mut instance);
        Ok((instance.save_sync(conn)?, created))
    }

    /// Inserts `instances` with one multi-row `INSERT` per few thousand rows, in one transaction,
    /// without signals: Django's `bulk_create`. `auto_now` and `auto_now_add` fields are set; the
    /// instances come back with their keys.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when an insert fails; none is kept then.
    pub fn bulk_create_sync(self, conn: &mut AnyConnection, instances: Vec<M>) -> Result<Vec<M>, Error> {
        if instances.is_empty() {
            return Ok(instances);
        }
        let created = super::atomic(conn, |conn| M::__insert_many_sync(instances, conn))?;
        crate::db::signals::table_changed(M::meta().table);
        Ok(created)
    }

    /// Loads the target of a foreign key in the same query, with a join: Django's
    /// `select_related`. Each row's field then holds its target (`product.category.get()`).
    /// A nullable key is a left join (rows without a target stay). A second `select_related`
    /// loads its targets with one more query, as `prefetch_related` does.
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # use diesel::prelude::*;
    /// # #[model(app = "shop")] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
    /// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade)] pub category: ForeignKey<Category>, pub name: String }
    /// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
    /// // SELECT shop_product.*, shop_category.* FROM shop_product INNER JOIN shop_category ON ...
    /// let sencha = Product::objects().select_related(Product::category).filter(Product::name.eq("Sencha")).get_sync(conn)?;
    /// println!("{} in {}", sencha.name, sencha.category.get().map_or("?", |c| c.name.as_str()));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn select_related<R>(mut self, _field: R) -> Self
    where
        R: RelatedField<Model = M>,
        <R::Target as Model>::Query: LoadQuery<'static, AnyConnection, R::Target>,
    {
        self.related.push(Related { join: Some(R::__select_related), attach: __attach_targets::<R> });
        self
    }

    /// Loads the targets of a foreign key with one more query, whatever the number of rows:
    /// Django's `prefetch_related` on a forward key. Each row's field then holds its target
    /// (`product.category.get()`).
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # #[model(app = "shop")] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
    /// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade)] pub category: ForeignKey<Category>, pub name: String }
    /// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
    /// for product in Product::objects().prefetch_related(Product::category).all_sync(conn)? {
    ///     println!("{} in {}", product.name, product.category.get().map_or("?", |c| c.name.as_str()));
    /// }
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn prefetch_related<R>(mut self, _field: R) -> Self
    where
        R: RelatedField<Model = M>,
        <R::Target as Model>::Query: LoadQuery<'static, AnyConnection, R::Target>,
    {
        self.related.push(Related { join: None, attach: __attach_targets::<R> });
        self
    }

    /// Loads, with one more query whatever the number of rows, the rows of another model whose
    /// foreign key points to each of these: Django's `prefetch_related("product_set")`. Each row
    /// comes with its set: `Category::objects().prefetch_related_set(Product::category)`.
    pub fn prefetch_related_set<R: RelatedField<Target = M>>(self, _field: R) -> PrefetchSet<M, R> {
        PrefetchSet { rows: self, _field: PhantomData, related: None }
    }

    /// Loads the related rows of a many-to-many relation for every row with one more query:
    /// `Product::objects().prefetch_many::<ProductTags>()` gives each product with its tags.
    pub fn prefetch_many<T: super::ManyToManyThrough<From = M>>(self) -> PrefetchMany<M, T> {
        PrefetchMany { rows: self, _through: PhantomData }
    }

    /// The matching rows one at a time, without loading them all: Django's `iterator()`. The
    /// connection stays busy until the iterator is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails; each item is an error when a row cannot be read.
    pub fn iter_sync(self, conn: &mut AnyConnection) -> Result<impl Iterator<Item = Result<M, Error>> + '_, Error>
    where
        M::Query: diesel::query_dsl::methods::LoadQuery<'static, AnyConnection, M>,
        M: 'static,
    {
        let rows = self.ordered(false).0.load_iter::<M, diesel::connection::DefaultLoadingMode>(conn)?;
        Ok(rows.map(|row| row.map_err(Error::from)))
    }
}

/// Loads `query`'s rows with `related`: the first `select_related` as a join, the others with one
/// query each.
fn load_with<M: Model>(query: M::Query, related: &[Related<M>], conn: &mut AnyConnection) -> Result<Vec<M>, Error>
where
    M::Query: LoadQuery<'static, AnyConnection, M>,
{
    let joined = related.iter().position(|r| r.join.is_some());
    let mut rows = match joined.and_then(|i| related[i].join) {
        Some(join) => join(query, conn)?,
        None => query.load(conn)?,
    };
    for (i, relation) in related.iter().enumerate() {
        if Some(i) != joined {
            (relation.attach)(&mut rows, conn)?;
        }
    }
    Ok(rows)
}
