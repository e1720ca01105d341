use std::fmt;
use std::marker::PhantomData;

use diesel::RunQueryDsl;
use diesel::dsl::CountStar;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{DistinctDsl, FilterDsl, LimitDsl, OffsetDsl, SelectDsl, ThenOrderDsl};

use super::{AnyConnection, Database, Error, Model};

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
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> fmt::Debug for QuerySet<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuerySet").field("model", &M::meta().name).finish_non_exhaustive()
    }
}

impl<M: Model> QuerySet<M> {
    #[doc(hidden)]
    pub fn __new(query: M::Query) -> Self {
        QuerySet { query, _model: PhantomData }
    }

    /// The underlying boxed Diesel query, to go further than the query set does.
    pub fn into_diesel(self) -> M::Query {
        self.query
    }

    /// Keeps the rows matching `predicate` (and any earlier filters).
    #[must_use]
    pub fn filter<P>(self, predicate: P) -> Self
    where
        M::Query: FilterDsl<P, Output = M::Query>,
    {
        QuerySet::__new(self.query.filter(predicate))
    }

    /// Drops the rows matching `predicate`: Django's `exclude`.
    #[must_use]
    pub fn exclude<P>(self, predicate: P) -> Self
    where
        M::Query: FilterDsl<diesel::dsl::not<P>, Output = M::Query>,
        P: diesel::Expression,
        P::SqlType: diesel::sql_types::BoolOrNullableBool,
    {
        QuerySet::__new(self.query.filter(diesel::dsl::not(predicate)))
    }

    /// Orders by `order` after any earlier ordering (`Tea::name.asc()`, `Tea::price_cents.desc()`).
    #[must_use]
    pub fn order_by<O>(self, order: O) -> Self
    where
        M::Query: ThenOrderDsl<O, Output = M::Query>,
    {
        QuerySet::__new(self.query.then_order_by(order))
    }

    /// At most `n` rows: Django's `[:n]`.
    #[must_use]
    pub fn limit(self, n: i64) -> Self
    where
        M::Query: LimitDsl<Output = M::Query>,
    {
        QuerySet::__new(self.query.limit(n))
    }

    /// Skips `n` rows: Django's `[n:]`.
    #[must_use]
    pub fn offset(self, n: i64) -> Self
    where
        M::Query: OffsetDsl<Output = M::Query>,
    {
        QuerySet::__new(self.query.offset(n))
    }

    /// Drops duplicate rows: Django's `distinct()`.
    #[must_use]
    pub fn distinct(self) -> Self
    where
        M::Query: DistinctDsl<Output = M::Query>,
    {
        QuerySet::__new(self.query.distinct())
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
        Values { query: self.query.select(columns) }
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
        Ok(self.query.load(conn)?)
    }

    /// The first matching row, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn first_sync(self, conn: &mut AnyConnection) -> Result<Option<M>, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        Ok(self.query.limit(1).load(conn)?.into_iter().next())
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
        let mut rows = self.query.limit(2).load(conn)?;
        match rows.len() {
            0 => Err(Error::DoesNotExist { model: M::meta().name }),
            1 => rows.pop().ok_or(Error::DoesNotExist { model: M::meta().name }),
            n => Err(Error::MultipleObjectsReturned { model: M::meta().name, count: n }),
        }
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
}

/// The async forms, for views: the query runs on the blocking pool.
impl<M: Model + Send> QuerySet<M>
where
    M::Query: Send + 'static,
{
    /// Every matching row.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::all_sync`], plus [`Error::Unavailable`].
    pub async fn all(self, db: &Database) -> Result<Vec<M>, Error>
    where
        M::Query: LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.all_sync(conn)).await
    }

    /// The first matching row, if any.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::first_sync`], plus [`Error::Unavailable`].
    pub async fn first(self, db: &Database) -> Result<Option<M>, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.first_sync(conn)).await
    }

    /// The one matching row; `?` in a view turns "none" into a 404.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_sync`], plus [`Error::Unavailable`].
    pub async fn get(self, db: &Database) -> Result<M, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.get_sync(conn)).await
    }

    /// How many rows match.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::count_sync`], plus [`Error::Unavailable`].
    pub async fn count(self, db: &Database) -> Result<i64, Error>
    where
        M::Query: SelectDsl<CountStar>,
        <M::Query as SelectDsl<CountStar>>::Output: LoadQuery<'static, AnyConnection, i64>,
    {
        db.run(move |conn| self.count_sync(conn)).await
    }

    /// Whether any row matches.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::exists_sync`], plus [`Error::Unavailable`].
    pub async fn exists(self, db: &Database) -> Result<bool, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.exists_sync(conn)).await
    }
}

/// Selected values of a query set: typed tuples, a flat list or an aggregate.
#[derive(Debug)]
pub struct Values<Q> {
    query: Q,
}

impl<Q> Values<Q> {
    /// The underlying Diesel query.
    pub fn into_diesel(self) -> Q {
        self.query
    }

    /// Every row.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn all_sync<T>(self, conn: &mut AnyConnection) -> Result<Vec<T>, Error>
    where
        Q: LoadQuery<'static, AnyConnection, T>,
    {
        Ok(self.query.load(conn)?)
    }

    /// The single row of an aggregate (or the first row).
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails or returns no row.
    pub fn one_sync<T>(self, conn: &mut AnyConnection) -> Result<T, Error>
    where
        Q: LoadQuery<'static, AnyConnection, T>,
    {
        Ok(self.query.get_result(conn)?)
    }

    /// Every row, on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`Values::all_sync`], plus [`Error::Unavailable`].
    pub async fn all<T: Send + 'static>(self, db: &Database) -> Result<Vec<T>, Error>
    where
        Q: LoadQuery<'static, AnyConnection, T> + Send + 'static,
    {
        db.run(move |conn| self.all_sync(conn)).await
    }

    /// The single row of an aggregate, on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`Values::one_sync`], plus [`Error::Unavailable`].
    pub async fn one<T: Send + 'static>(self, db: &Database) -> Result<T, Error>
    where
        Q: LoadQuery<'static, AnyConnection, T> + Send + 'static,
    {
        db.run(move |conn| self.one_sync(conn)).await
    }
}
