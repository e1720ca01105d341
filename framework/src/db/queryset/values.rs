//! Selected values instead of models: typed tuples, flat lists, aggregates and JSON maps.

use std::fmt;
use std::marker::PhantomData;

use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::DistinctDsl;

use crate::db::{AnyConnection, Database, Error};

/// Selected values of a query set: typed tuples, a flat list or an aggregate.
#[derive(Debug)]
pub struct Values<Q> {
    pub(crate) query: Q,
}

impl<Q> Values<Q> {
    /// Drops duplicate rows of the selected values: Django's `values_list(...).distinct()`,
    /// the same as `distinct().values_list(...)`.
    #[must_use]
    pub fn distinct(self) -> Values<<Q as DistinctDsl>::Output>
    where
        Q: DistinctDsl,
    {
        Values { query: self.query.distinct() }
    }

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

/// Rows as name → value maps: see [`QuerySet::values`](super::QuerySet::values).
pub struct ValueMaps<Q, C> {
    pub(crate) query: Q,
    pub(super) _columns: PhantomData<fn() -> C>,
}

impl<Q, C> fmt::Debug for ValueMaps<Q, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueMaps").finish_non_exhaustive()
    }
}

impl<Q, C: crate::db::values::ColumnList> ValueMaps<Q, C> {
    /// Every row as a map from column name to JSON value.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn all_sync(self, conn: &mut AnyConnection) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error>
    where
        Q: LoadQuery<'static, AnyConnection, C::Row>,
    {
        let rows: Vec<C::Row> = self.query.load(conn)?;
        rows.into_iter().map(|row| C::to_map(row).map_err(Error::Serialize)).collect()
    }

    /// [`ValueMaps::all_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`ValueMaps::all_sync`], plus [`Error::Unavailable`].
    pub async fn all(self, db: &Database) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error>
    where
        Q: LoadQuery<'static, AnyConnection, C::Row> + Send + 'static,
        C: 'static,
    {
        db.run(move |conn| self.all_sync(conn)).await
    }
}
