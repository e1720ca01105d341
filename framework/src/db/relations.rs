//! Relations between models: `ForeignKey<T>` and what `on_delete` does.

use std::fmt;
use std::sync::Arc;

use diesel::backend::Backend as DieselBackend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};

use super::{AnyConnection, Error, Model};

/// A reference to a row of `T`, Django's `ForeignKey`: the field `category: ForeignKey<Category>`
/// is stored in the column `category_id`. `#[field(on_delete = cascade)]` (or `protect`,
/// `restrict`, `set_null` on an `Option<ForeignKey<T>>`) says what deleting the target does;
/// the database enforces it.
///
/// ```
/// # use manouche::prelude::*;
/// # use manouche::db::ForeignKey;
/// # #[model(app = "shop")] #[derive(Debug)] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// #[model(app = "shop")]
/// pub struct Product {
///     #[field(primary_key, auto)]
///     pub id: i64,
///     #[field(on_delete = cascade)]
///     pub category: ForeignKey<Category>,
///     pub name: String,
/// }
///
/// let product = Product { id: 0, category: ForeignKey::new(3), name: "Sencha".into() };
/// assert_eq!(*product.category.id(), 3);
/// ```
pub struct ForeignKey<T: Model> {
    id: T::PrimaryKey,
    loaded: Option<Arc<T>>,
}

impl<T: Model> ForeignKey<T> {
    /// A reference to the row with primary key `id`.
    pub fn new(id: T::PrimaryKey) -> Self {
        ForeignKey { id, loaded: None }
    }

    /// A reference to `target`, which it also holds (no query to reach it).
    pub fn to(target: T) -> Self {
        ForeignKey { id: target.pk(), loaded: Some(Arc::new(target)) }
    }

    /// The target's primary key: Django's `product.category_id`.
    pub fn id(&self) -> &T::PrimaryKey {
        &self.id
    }

    /// The target when it was loaded with the row (`prefetch_related`) or given to [`Self::to`].
    pub fn get(&self) -> Option<&T> {
        self.loaded.as_deref()
    }

    /// The target, loaded now unless it already was: Django's `product.category`.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] when the row is gone.
    pub fn fetch_sync(&self, conn: &mut AnyConnection) -> Result<Arc<T>, Error>
    where
        T::Query: diesel::query_dsl::LoadQuery<'static, AnyConnection, T>,
    {
        if let Some(loaded) = &self.loaded {
            return Ok(loaded.clone());
        }
        let query = T::__filter_pks(T::objects().__into_unordered(), vec![self.id.clone()]);
        let mut found = super::QuerySet::<T>::__new(query).all_sync(conn)?;
        found.pop().map(Arc::new).ok_or(Error::DoesNotExist { model: T::meta().name })
    }

    #[doc(hidden)]
    pub fn __set_loaded(&mut self, target: Arc<T>) {
        self.loaded = Some(target);
    }
}

impl<T: Model> Clone for ForeignKey<T> {
    fn clone(&self) -> Self {
        ForeignKey { id: self.id.clone(), loaded: self.loaded.clone() }
    }
}

impl<T: Model> PartialEq for ForeignKey<T> {
    /// Two references are equal when they name the same row.
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T: Model> Eq for ForeignKey<T> {}

impl<T: Model> fmt::Debug for ForeignKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ForeignKey<{}>({:?})", T::meta().name, self.id)
    }
}

impl<T: Model> serde::Serialize for ForeignKey<T> {
    /// As the target's key, as Django REST framework does.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.id.serialize(serializer)
    }
}

impl<'de, T: Model> serde::Deserialize<'de> for ForeignKey<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::PrimaryKey::deserialize(deserializer).map(ForeignKey::new)
    }
}

// Generic over the SQL type, so one impl serves the key's type and its nullable form.
impl<T: Model, ST> diesel::expression::AsExpression<ST> for ForeignKey<T>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
    T::PrimaryKey: diesel::expression::AsExpression<ST>,
{
    type Expression = diesel::internal::derives::as_expression::Bound<ST, Self>;
    fn as_expression(self) -> Self::Expression {
        diesel::internal::derives::as_expression::Bound::new(self)
    }
}

impl<T: Model, ST> diesel::expression::AsExpression<ST> for &ForeignKey<T>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
    T::PrimaryKey: diesel::expression::AsExpression<ST>,
{
    type Expression = diesel::internal::derives::as_expression::Bound<ST, Self>;
    fn as_expression(self) -> Self::Expression {
        diesel::internal::derives::as_expression::Bound::new(self)
    }
}

impl<T: Model, ST, DB: DieselBackend> ToSql<ST, DB> for ForeignKey<T>
where
    T::PrimaryKey: ToSql<ST, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.id.to_sql(out)
    }
}

impl<T: Model, ST, DB: DieselBackend> FromSql<ST, DB> for ForeignKey<T>
where
    T::PrimaryKey: FromSql<ST, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        T::PrimaryKey::from_sql(bytes).map(ForeignKey::new)
    }
}

impl<T: Model, ST, DB> diesel::deserialize::Queryable<ST, DB> for ForeignKey<T>
where
    DB: DieselBackend,
    ST: diesel::sql_types::SingleValue,
    Self: FromSql<ST, DB>,
{
    type Row = Self;
    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

/// A unique foreign key, Django's `OneToOneField`: at most one row points to each target.
/// `#[field(on_delete = cascade)] pub profile_of: OneToOne<User>` is a `ForeignKey` with a
/// unique column.
pub type OneToOne<T> = ForeignKey<T>;

/// What deleting the target of a foreign key does to the rows referring to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnDelete {
    /// Delete them too.
    Cascade,
    /// Refuse the delete while they exist (Django's `PROTECT`).
    Protect,
    /// Refuse the delete while they exist, checked at once (SQL's `RESTRICT`).
    Restrict,
    /// Clear their reference (the field is an `Option`).
    SetNull,
    /// Set their reference to the field's default (Django's `SET_DEFAULT`; the field needs a
    /// `default`). The delete collector updates them, without save signals, as Django does.
    SetDefault,
    /// Nothing: the database refuses the delete while they exist, unless something else removes
    /// them first (Django's `DO_NOTHING`).
    DoNothing,
}

impl OnDelete {
    /// The SQL action.
    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            // PROTECT and RESTRICT both refuse; NO ACTION would defer the check to commit.
            OnDelete::Protect | OnDelete::Restrict => "RESTRICT",
            OnDelete::SetNull => "SET NULL",
            // The collector moves the rows to the default before the delete; the database only
            // checks (no `DEFAULT` clause is rendered for the column to fall back on).
            OnDelete::SetDefault | OnDelete::DoNothing => "NO ACTION",
        }
    }
}

/// A foreign key field, seen from its column: `#[model]` implements it for each `ForeignKey`
/// column (`Product::category`), which is how `prefetch_related` names a relation.
pub trait RelatedField: Copy {
    /// The model holding the foreign key (`Product`).
    type Model: Model;
    /// The model it points to (`Category`).
    type Target: Model;

    /// The target's key held by `instance` (`None` for an empty nullable key).
    fn key(instance: &Self::Model) -> Option<<Self::Target as Model>::PrimaryKey>;

    /// Stores the loaded target in `instance`'s field.
    fn set_loaded(instance: &mut Self::Model, target: Arc<Self::Target>);

    /// Restricts a query over the model to rows pointing to one of `keys`.
    fn filter_keys(
        query: <Self::Model as Model>::Query,
        keys: Vec<<Self::Target as Model>::PrimaryKey>,
    ) -> <Self::Model as Model>::Query;

    /// Loads the rows of `query` with their targets, in one joined query (`select_related`).
    #[doc(hidden)]
    fn __select_related(
        query: <Self::Model as Model>::Query,
        conn: &mut AnyConnection,
    ) -> Result<Vec<Self::Model>, Error>;
}

/// The through model of a many-to-many relation: `#[many_to_many(tags = Tag)]` on `Product`
/// generates `ProductTags` (table `shop_product_tags`, one row per link) and implements this.
pub trait ManyToManyThrough: Model {
    /// The model declaring the relation (`Product`).
    type From: Model;
    /// The related model (`Tag`).
    type To: Model;

    /// A link row; `None` for a declared through model, whose other fields the caller must fill
    /// (create its rows directly).
    fn link(from: <Self::From as Model>::PrimaryKey, to: <Self::To as Model>::PrimaryKey) -> Option<Self>;

    /// The related rows of `from`.
    fn targets(from: <Self::From as Model>::PrimaryKey) -> <Self::To as Model>::Query;

    /// The link rows of `from` (to `to` only, when given).
    fn links(
        from: <Self::From as Model>::PrimaryKey,
        to: Option<<Self::To as Model>::PrimaryKey>,
    ) -> <Self as Model>::Query;

    /// The related rows of each of `from`, in one query: `(from key, related row)`.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    #[allow(clippy::type_complexity)]
    fn load_for(
        conn: &mut AnyConnection,
        from: Vec<<Self::From as Model>::PrimaryKey>,
    ) -> Result<Vec<(<Self::From as Model>::PrimaryKey, Self::To)>, Error>;
}

/// One row's side of a many-to-many relation: `product.tags()`.
pub struct ManyRelated<T: ManyToManyThrough> {
    from: <T::From as Model>::PrimaryKey,
}

impl<T: ManyToManyThrough> fmt::Debug for ManyRelated<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManyRelated<{}>({:?})", T::meta().name, self.from)
    }
}

impl<T: ManyToManyThrough> ManyRelated<T>
where
    T::Query: diesel::query_dsl::methods::LimitDsl<Output = T::Query>
        + diesel::query_dsl::LoadQuery<'static, AnyConnection, T>,
    <T::To as Model>::Query: diesel::query_dsl::LoadQuery<'static, AnyConnection, T::To>,
{
    #[doc(hidden)]
    pub fn __new(from: <T::From as Model>::PrimaryKey) -> Self {
        ManyRelated { from }
    }

    /// The related rows: Django's `product.tags.all()`.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    pub fn all_sync(&self, conn: &mut AnyConnection) -> Result<Vec<T::To>, Error> {
        super::QuerySet::<T::To>::__new(T::targets(self.from.clone())).all_sync(conn)
    }

    /// The related rows as a query set, to filter further.
    pub fn objects(&self) -> super::QuerySet<T::To> {
        super::QuerySet::__new(T::targets(self.from.clone()))
    }

    /// Links `to`; linking twice keeps one link: Django's `add()`. Returns whether a link was made.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when a statement fails (`to` not saved, ...);
    /// [`Error::DeclaredThrough`] when the relation has a declared through model (save one of
    /// its rows instead, with its own fields).
    pub fn add_sync(&self, conn: &mut AnyConnection, to: &T::To) -> Result<bool, Error> {
        let from = self.from.clone();
        super::atomic(conn, |conn| {
            if super::QuerySet::<T>::__new(T::links(from.clone(), Some(to.pk()))).exists_sync(conn)? {
                return Ok(false);
            }
            let link = T::link(from, to.pk()).ok_or(Error::DeclaredThrough { through: T::meta().name })?;
            link.__insert_sync(conn)?;
            Ok(true)
        })
    }

    /// Unlinks `to`: Django's `remove()`. Returns whether a link was removed.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the statement fails.
    pub fn remove_sync(&self, conn: &mut AnyConnection, to: &T::To) -> Result<bool, Error> {
        Ok(super::QuerySet::<T>::__new(T::links(self.from.clone(), Some(to.pk()))).delete_sync(conn)? > 0)
    }

    /// Removes every link of this row: Django's `clear()`. Returns how many went.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the statement fails.
    pub fn clear_sync(&self, conn: &mut AnyConnection) -> Result<usize, Error> {
        super::QuerySet::<T>::__new(T::links(self.from.clone(), None)).delete_sync(conn)
    }
}
