use std::fmt;

/// A model: a struct marked `#[model]`, stored in one table.
///
/// The macro implements it; the metadata is what migrations and the admin read.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "mark the struct with `#[model(app = \"...\")]`"
)]
pub trait Model: Sized + 'static {
    /// The boxed Diesel query over the model's table that query sets wrap.
    type Query;

    /// The Diesel table.
    type Table: diesel::Table;

    /// The primary key's Rust type.
    type PrimaryKey: super::FieldValue
        + Clone
        + Eq
        + std::hash::Hash
        + fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static;

    /// The primary key's Diesel SQL type (what a `ForeignKey` to this model stores).
    type PrimaryKeySql;

    /// The primary key's value, Django's `instance.pk`.
    fn pk(&self) -> Self::PrimaryKey;

    /// Reloads every field from the database, Django's `refresh_from_db()`.
    ///
    /// # Errors
    ///
    /// [`super::Error::DoesNotExist`] when the row is gone.
    fn refresh_from_db_sync(&mut self, conn: &mut super::AnyConnection) -> Result<(), super::Error>;

    /// The row whose primary key is `pk`, read with a typed query: Diesel caches its prepared
    /// statement by type instead of building its SQL on every call.
    #[doc(hidden)]
    fn __get_by_pk(pk: Self::PrimaryKey, conn: &mut super::AnyConnection) -> Result<Option<Self>, super::Error>;

    /// Inserts the instance without sending signals, as `bulk_create` does.
    #[doc(hidden)]
    fn __insert_sync(self, conn: &mut super::AnyConnection) -> Result<Self, super::Error>;

    /// Inserts the instances with one statement per chunk, without signals (`bulk_create`);
    /// returns them with their keys set.
    #[doc(hidden)]
    fn __insert_many_sync(rows: Vec<Self>, conn: &mut super::AnyConnection) -> Result<Vec<Self>, super::Error>;

    /// `query` in the model's default `ordering`, or its reverse (unchanged when it has none).
    #[doc(hidden)]
    fn __default_order(query: Self::Query, reversed: bool) -> Self::Query;

    /// `query` ordered by primary key, ascending or (reversed) descending.
    #[doc(hidden)]
    fn __order_by_pk(query: Self::Query, reversed: bool) -> Self::Query;

    /// Restricts `query` to the given primary keys (`in_bulk`).
    #[doc(hidden)]
    fn __filter_pks(query: Self::Query, pks: Vec<Self::PrimaryKey>) -> Self::Query;

    /// Inserts the instance with its primary key as it is, auto keys included (`loaddata`),
    /// without signals.
    #[doc(hidden)]
    fn __insert_keyed(self, conn: &mut super::AnyConnection) -> Result<Self, super::Error>;

    /// The primary keys of the rows `query` matches.
    #[doc(hidden)]
    fn __matching_keys(
        query: Self::Query,
        conn: &mut super::AnyConnection,
    ) -> Result<Vec<Self::PrimaryKey>, super::Error>;

    /// Deletes the rows `query` matches, in one statement.
    #[doc(hidden)]
    fn __delete_matching(query: Self::Query, conn: &mut super::AnyConnection) -> Result<usize, super::Error>;

    /// Updates the rows `query` matches, in one statement.
    #[doc(hidden)]
    fn __update_matching<V>(
        query: Self::Query,
        changes: V,
        conn: &mut super::AnyConnection,
    ) -> Result<usize, super::Error>
    where
        V: diesel::AsChangeset<Target = Self::Table> + Clone,
        V::Changeset: diesel::query_builder::QueryFragment<super::MultiBackend>;

    /// Binds this instance's value of the SQL `column` to the next `?` of `query` (`None` for a
    /// column the model does not have): for [`super::QuerySet::bulk_update_sync`].
    #[doc(hidden)]
    fn __bind_column(&self, query: super::RawQuery<()>, column: &str) -> Option<super::RawQuery<()>>;

    /// The model's metadata.
    fn meta() -> &'static ModelMeta;

    /// A query set over every row: Django's `Model.objects.all()`.
    fn objects() -> super::QuerySet<Self>;

    /// A raw SQL query whose rows are instances (columns matched by name): Django's `raw()`.
    /// Write `?` for parameters on every backend; see [`super::RawQuery`].
    fn raw(sql: &str) -> super::RawQuery<Self> {
        super::RawQuery::new(sql)
    }

    /// The rows whose foreign key `field` points to this one, as a query set: Django's reverse
    /// accessor (`category.product_set`), named by the foreign key's column handle.
    /// `#[field(related_name = "products")]` on the foreign key adds `category.products()` too.
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # #[model(app = "shop")] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
    /// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade)] pub category: ForeignKey<Category>, pub name: String }
    /// # fn demo(conn: &mut manouche::db::Connection, green: Category) -> Result<(), manouche::db::Error> {
    /// let teas: Vec<Product> = green.related(Product::category).order_by(Product::name).all_sync(conn)?;
    /// # Ok(()) }
    /// ```
    fn related<R: super::RelatedField<Target = Self>>(&self, _field: R) -> super::QuerySet<R::Model> {
        let query = R::filter_keys(R::Model::objects().__into_unordered(), vec![self.pk()]);
        super::QuerySet::__new(query)
    }

    /// The model's `pre_save`/`post_save`/`pre_delete`/`post_delete` signals.
    fn signals() -> &'static super::ModelSignals<Self>;

    /// Inserts the instance (an `auto` key of 0 means "not saved yet") or updates its row, sending
    /// `pre_save` and `post_save`; returns it with its primary key set. Bulk query-set updates do
    /// not send signals, as in Django.
    ///
    /// # Errors
    ///
    /// [`super::Error::Query`] when the statement fails (a unique constraint, ...).
    fn save_sync(self, conn: &mut super::AnyConnection) -> Result<Self, super::Error>;

    /// Deletes the instance's row, sending `pre_delete` and `post_delete`.
    ///
    /// # Errors
    ///
    /// [`super::Error::DoesNotExist`] when no row had its key; [`super::Error::Query`] otherwise.
    fn delete_sync(self, conn: &mut super::AnyConnection) -> Result<Self, super::Error>;

    /// [`Model::save_sync`] on the blocking pool, for views.
    ///
    /// # Errors
    ///
    /// As [`Model::save_sync`], plus [`super::Error::Unavailable`].
    fn save(self, db: &super::Database) -> impl std::future::Future<Output = Result<Self, super::Error>>
    where
        Self: Send,
    {
        let db = db.clone();
        async move { db.run(move |conn| self.save_sync(conn)).await }
    }

    /// [`Model::delete_sync`] on the blocking pool, for views.
    ///
    /// # Errors
    ///
    /// As [`Model::delete_sync`], plus [`super::Error::Unavailable`].
    fn delete(self, db: &super::Database) -> impl std::future::Future<Output = Result<Self, super::Error>>
    where
        Self: Send,
    {
        let db = db.clone();
        async move { db.run(move |conn| self.delete_sync(conn)).await }
    }
}

/// What `#[model]` knows about a model.
#[derive(Debug)]
#[non_exhaustive]
pub struct ModelMeta {
    /// The app label, e.g. `shop`.
    pub app: &'static str,
    /// The struct's name, e.g. `Product`.
    pub name: &'static str,
    /// The SQL table, e.g. `shop_product`.
    pub table: &'static str,
    /// Human name, e.g. `product`.
    pub verbose_name: &'static str,
    /// Fields in declaration order.
    pub fields: &'static [super::Field],
    /// The four default permissions (view, add, change, delete), then the custom ones.
    pub permissions: &'static [Permission],
    /// The default ordering: `(column, descending)`.
    pub ordering: &'static [(&'static str, bool)],
    /// Groups of columns unique together.
    pub unique_together: &'static [&'static [&'static str]],
    /// Groups of columns indexed together.
    pub indexes: &'static [&'static [&'static str]],
    /// Django's `managed`: whether migrations create and alter the table (`false` maps a table
    /// that exists already, e.g. another application's).
    pub managed: bool,
    /// A through model `#[many_to_many]` generated (Django's `auto_created`): its permissions
    /// are not synced and the admin does not list it.
    pub auto_created: bool,
}

impl ModelMeta {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        app: &'static str,
        name: &'static str,
        table: &'static str,
        verbose_name: &'static str,
        fields: &'static [super::Field],
        permissions: &'static [Permission],
        ordering: &'static [(&'static str, bool)],
        unique_together: &'static [&'static [&'static str]],
        indexes: &'static [&'static [&'static str]],
        managed: bool,
    ) -> Self {
        ModelMeta {
            app,
            name,
            table,
            verbose_name,
            fields,
            permissions,
            ordering,
            unique_together,
            indexes,
            managed,
            auto_created: false,
        }
    }

    #[doc(hidden)]
    #[must_use]
    pub const fn __auto_created(mut self) -> Self {
        self.auto_created = true;
        self
    }

    /// The primary key field.
    pub fn primary_key(&self) -> Option<&super::Field> {
        self.fields.iter().find(|f| f.primary_key)
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&super::Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The plural of [`ModelMeta::verbose_name`], as Django's default `verbose_name_plural`
    /// (`products`, `addresses`).
    pub fn verbose_name_plural(&self) -> String {
        let name = self.verbose_name;
        if name.ends_with('s') { format!("{name}es") } else { format!("{name}s") }
    }

    /// `app.Model`, as Django writes a model's label.
    pub fn label(&self) -> String {
        format!("{}.{}", self.app, self.name)
    }
}

/// A permission on a model, Django's `auth.Permission`: `shop.publish_product`.
///
/// Every model has `PERM_VIEW`, `PERM_ADD`, `PERM_CHANGE` and `PERM_DELETE` constants;
/// `#[permission(publish = "Can publish products")]` below `#[model]` adds `PERM_PUBLISH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    /// The app label, e.g. `shop`.
    pub app: &'static str,
    /// The code name, e.g. `publish_product`.
    pub codename: &'static str,
    /// The description, e.g. `Can publish products`.
    pub name: &'static str,
}

impl Permission {
    #[doc(hidden)]
    pub const fn __new(app: &'static str, codename: &'static str, name: &'static str) -> Self {
        Permission { app, codename, name }
    }
}

impl fmt::Display for Permission {
    /// `shop.publish_product`, as `has_perm` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.app, self.codename)
    }
}

/// A model registered by `#[model]`, collected at link time.
#[doc(hidden)]
#[derive(Debug)]
pub struct ModelEntry {
    pub meta: fn() -> &'static ModelMeta,
    pub model: &'static dyn super::Registered,
}

inventory::collect!(ModelEntry);

/// Every model compiled into the program, sorted by app and name.
pub fn registered_models() -> Vec<&'static ModelMeta> {
    let mut models: Vec<&'static ModelMeta> = inventory::iter::<ModelEntry>().map(|e| (e.meta)()).collect();
    models.sort_by_key(|m| (m.app, m.name));
    models
}
