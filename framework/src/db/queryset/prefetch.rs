//! Related rows loaded with a query set: foreign-key targets (`select_related`,
//! `prefetch_related`), reverse sets (`prefetch_related_set`) and many-to-many sets.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::LimitDsl;

use super::QuerySet;
use crate::db::{AnyConnection, Database, Error, Model, RelatedField};

/// Fills the targets of the foreign key `R` into `rows`, with one query whatever their number.
#[doc(hidden)]
pub fn __attach_targets<R: RelatedField>(rows: &mut [R::Model], conn: &mut AnyConnection) -> Result<(), Error>
where
    <R::Target as Model>::Query: LoadQuery<'static, AnyConnection, R::Target>,
{
    let mut keys: Vec<<R::Target as Model>::PrimaryKey> = rows.iter().filter_map(R::key).collect();
    dedup(&mut keys);
    if keys.is_empty() {
        return Ok(());
    }
    let query = R::Target::__filter_pks(R::Target::objects().__into_unordered(), keys);
    let targets: HashMap<_, std::sync::Arc<R::Target>> = QuerySet::<R::Target>::__new(query)
        .all_sync(conn)?
        .into_iter()
        .map(|t| (t.pk(), std::sync::Arc::new(t)))
        .collect();
    for row in rows.iter_mut() {
        if let Some(target) = R::key(row).and_then(|k| targets.get(&k)) {
            R::set_loaded(row, target.clone());
        }
    }
    Ok(())
}

/// A query set with the rows pointing to it to load: see [`QuerySet::prefetch_related_set`].
pub struct PrefetchSet<M: Model, R: RelatedField> {
    pub(super) rows: QuerySet<M>,
    /// The relation is named by its column's type; the value carries nothing.
    pub(super) _field: PhantomData<fn() -> R>,
    pub(super) related: Option<QuerySet<R::Model>>,
}

impl<M: Model, R: RelatedField> fmt::Debug for PrefetchSet<M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrefetchSet")
            .field("model", &M::meta().name)
            .field("related", &R::Model::meta().name)
            .finish_non_exhaustive()
    }
}

impl<M: Model, R: RelatedField<Target = M>> PrefetchSet<M, R> {
    /// Filters and orders the related rows (Django's `Prefetch("product_set", queryset=...)`):
    /// `.related(Product::objects().order_by(Product::name.asc()))`.
    #[must_use]
    pub fn related(mut self, query: QuerySet<R::Model>) -> Self {
        self.related = Some(query);
        self
    }

    /// Every matching row with its related rows: two queries.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when a query fails.
    #[allow(clippy::type_complexity)]
    pub fn all_sync(self, conn: &mut AnyConnection) -> Result<Vec<(M, Vec<R::Model>)>, Error>
    where
        M::Query: LoadQuery<'static, AnyConnection, M>,
        <R::Model as Model>::Query: LoadQuery<'static, AnyConnection, R::Model>,
    {
        let rows = self.rows.all_sync(conn)?;
        with_sets::<M, R>(self.related, rows, conn)
    }

    /// The one matching row with its related rows, Django's `get()` on a prefetching query set.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] or [`Error::MultipleObjectsReturned`] as [`QuerySet::get_sync`];
    /// [`Error::Query`] when a query fails.
    pub fn get_sync(self, conn: &mut AnyConnection) -> Result<(M, Vec<R::Model>), Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
        <R::Model as Model>::Query: LoadQuery<'static, AnyConnection, R::Model>,
    {
        let row = self.rows.get_sync(conn)?;
        Ok(with_sets::<M, R>(self.related, vec![row], conn)?.remove(0))
    }

    /// The first matching row with its related rows, if any: Django's `first()`.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when a query fails.
    #[allow(clippy::type_complexity)]
    pub fn first_sync(self, conn: &mut AnyConnection) -> Result<Option<(M, Vec<R::Model>)>, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
        <R::Model as Model>::Query: LoadQuery<'static, AnyConnection, R::Model>,
    {
        let rows: Vec<M> = self.rows.first_sync(conn)?.into_iter().collect();
        Ok(with_sets::<M, R>(self.related, rows, conn)?.into_iter().next())
    }

    /// [`PrefetchSet::all_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`PrefetchSet::all_sync`], plus [`Error::Unavailable`].
    #[allow(clippy::type_complexity)]
    pub async fn all(self, db: &Database) -> Result<Vec<(M, Vec<R::Model>)>, Error>
    where
        M: Send,
        R: 'static,
        R::Model: Send,
        M::Query: LoadQuery<'static, AnyConnection, M> + Send,
        <R::Model as Model>::Query: LoadQuery<'static, AnyConnection, R::Model> + Send,
    {
        db.run(move |conn| self.all_sync(conn)).await
    }
}

/// Loads the rows pointing to `rows` through `R` (filtered and ordered by `related`), one query,
/// and pairs each row with its set.
#[allow(clippy::type_complexity)]
fn with_sets<M: Model, R: RelatedField<Target = M>>(
    related: Option<QuerySet<R::Model>>,
    rows: Vec<M>,
    conn: &mut AnyConnection,
) -> Result<Vec<(M, Vec<R::Model>)>, Error>
where
    <R::Model as Model>::Query: LoadQuery<'static, AnyConnection, R::Model>,
{
    let keys: Vec<M::PrimaryKey> = rows.iter().map(Model::pk).collect();
    let mut found = Vec::new();
    if !keys.is_empty() {
        // The related query set's filters, restricted to these rows, in its own order.
        let base = related.unwrap_or_else(R::Model::objects);
        let query = base.map(|query| R::filter_keys(query, keys));
        found = query.all_sync(conn)?.into_iter().filter_map(|r| R::key(&r).map(|k| (k, r))).collect();
    }
    Ok(attach_sets(rows, found))
}

/// Each row with the related rows keyed by its primary key, in their order.
fn attach_sets<M: Model, T>(rows: Vec<M>, related: Vec<(M::PrimaryKey, T)>) -> Vec<(M, Vec<T>)> {
    let mut sets: HashMap<M::PrimaryKey, Vec<T>> = HashMap::with_capacity(rows.len());
    for (key, row) in related {
        sets.entry(key).or_default().push(row);
    }
    rows.into_iter()
        .map(|row| {
            let set = sets.remove(&row.pk()).unwrap_or_default();
            (row, set)
        })
        .collect()
}

/// Drops repeated keys, keeping the first of each.
fn dedup<K: std::hash::Hash + Eq + Clone>(keys: &mut Vec<K>) {
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.retain(|k| seen.insert(k.clone()));
}

/// A query set with a many-to-many relation to load: see [`QuerySet::prefetch_many`].
pub struct PrefetchMany<M: Model, T> {
    pub(super) rows: QuerySet<M>,
    pub(super) _through: PhantomData<fn() -> T>,
}

impl<M: Model, T> fmt::Debug for PrefetchMany<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrefetchMany").field("model", &M::meta().name).finish_non_exhaustive()
    }
}

impl<M: Model, T: crate::db::ManyToManyThrough<From = M>> PrefetchMany<M, T> {
    /// Every matching row with its related rows: two queries.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when a query fails.
    #[allow(clippy::type_complexity)]
    pub fn all_sync(self, conn: &mut AnyConnection) -> Result<Vec<(M, Vec<T::To>)>, Error>
    where
        M::Query: LoadQuery<'static, AnyConnection, M>,
    {
        let rows = self.rows.all_sync(conn)?;
        let keys: Vec<M::PrimaryKey> = rows.iter().map(Model::pk).collect();
        let related = if keys.is_empty() { Vec::new() } else { T::load_for(conn, keys)? };
        Ok(attach_sets(rows, related))
    }
}
