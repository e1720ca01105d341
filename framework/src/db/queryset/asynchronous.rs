//! The async forms of query set methods, for views: each runs its `_sync` form on the blocking
//! pool.

use std::collections::HashMap;

use diesel::dsl::CountStar;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{LimitDsl, SelectDsl};

use super::QuerySet;
use crate::db::{AnyConnection, Database, Error, Model};

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

    /// The last matching row, if any.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::last_sync`], plus [`Error::Unavailable`].
    pub async fn last(self, db: &Database) -> Result<Option<M>, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.last_sync(conn)).await
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

    /// [`QuerySet::get_by_pk_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_by_pk_sync`], plus [`Error::Unavailable`].
    pub async fn get_by_pk(self, db: &Database, pk: M::PrimaryKey) -> Result<M, Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
        M::PrimaryKey: Send,
    {
        db.run(move |conn| self.get_by_pk_sync(conn, pk)).await
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

/// The async forms of the writes, for views.
impl<M: Model + Send> QuerySet<M>
where
    M::Query: Send + 'static,
{
    /// [`QuerySet::update_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::update_sync`], plus [`Error::Unavailable`].
    pub async fn update<V>(self, db: &Database, changes: V) -> Result<usize, Error>
    where
        V: diesel::AsChangeset<Target = M::Table> + Clone + Send + 'static,
        V::Changeset: diesel::query_builder::QueryFragment<crate::db::MultiBackend>,
    {
        db.run(move |conn| self.update_sync(conn, changes)).await
    }

    /// [`QuerySet::delete_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::delete_sync`], plus [`Error::Unavailable`].
    pub async fn delete(self, db: &Database) -> Result<usize, Error> {
        db.run(move |conn| self.delete_sync(conn)).await
    }

    /// [`QuerySet::get_or_create_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::get_or_create_sync`], plus [`Error::Unavailable`].
    pub async fn get_or_create(
        self,
        db: &Database,
        create: impl FnOnce() -> M + Send + 'static,
    ) -> Result<(M, bool), Error>
    where
        M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.get_or_create_sync(conn, create)).await
    }

    /// [`QuerySet::bulk_create_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::bulk_create_sync`], plus [`Error::Unavailable`].
    pub async fn bulk_create(self, db: &Database, instances: Vec<M>) -> Result<Vec<M>, Error> {
        db.run(move |conn| self.bulk_create_sync(conn, instances)).await
    }

    /// [`QuerySet::in_bulk_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::in_bulk_sync`], plus [`Error::Unavailable`].
    pub async fn in_bulk(self, db: &Database, keys: Vec<M::PrimaryKey>) -> Result<HashMap<M::PrimaryKey, M>, Error>
    where
        M::Query: LoadQuery<'static, AnyConnection, M>,
    {
        db.run(move |conn| self.in_bulk_sync(conn, keys)).await
    }
}
