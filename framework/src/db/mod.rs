//! Databases: a pool of connections to SQLite or PostgreSQL, chosen by `database_url` at run time.
//!
//! Start with [`Database`]: views reach it with `req.db()`, commands with `Database::connect`.
//! Diesel is synchronous, so [`Database::run`] moves the work to the blocking pool and never
//! blocks an HTTP worker; [`Database::run_sync`] is for code already off the workers (commands,
//! receivers, tasks). Everything is plain Diesel underneath: the closure gets a [`Connection`].

// Diesel's `MultiConnection` derive adds undocumented public items (`MultiBackend`, ...).
mod aggregates;
pub(crate) mod bulk;
pub(crate) mod choices;
pub mod collector;
pub use self::collector::Collected;
#[allow(missing_docs)]
mod connection;
mod database;
mod error;
pub(crate) mod field;
mod field_value;
mod json;
mod lookup_values;
mod lookups;
pub(crate) mod model;
pub(crate) mod ordering;
mod paginator;
mod queries;
pub(crate) mod queryset;
mod raw;
pub(crate) mod registry;
pub(crate) use self::text::capitalize;
mod relations;
pub(crate) mod signals;
pub(crate) mod subqueries;
pub(crate) mod text;
/// SQL's `lower()` on a text column, for case-insensitive comparisons (Django's `iexact`):
/// `lower(User::email).eq(address.to_lowercase())`.
pub use self::text::__lower as lower;
pub mod types;
pub mod values;

pub use self::aggregates::{Avg, IntegerSql, Sum, avg, sum};
pub use self::bulk::Columns;
pub use self::choices::{Choices, IntegerChoices};
pub use self::connection::{AnyConnection, Backend, MultiBackend};

/// The connection a [`Database`] hands out: [`AnyConnection`], SQLite or PostgreSQL.
pub type Connection = AnyConnection;
pub use self::database::{Database, PoolOptions, atomic, on_commit};
pub use self::error::Error;
pub use self::field::{Field, FieldType, Relation, RelationTarget, Value, field, foreign_key};
pub use self::field_value::{FieldValue, Widget};
pub use self::json::{JsonKey, JsonLookups, JsonSql};
pub use self::lookup_values::{Lookup, LookupValues, lookup};
pub use self::lookups::{InSubquery, Lookups};

pub(crate) use self::bulk::BULK_CHUNK;
pub use self::model::{Model, ModelMeta, Permission, registered_models};
pub use self::ordering::OrderTerm;
pub use self::paginator::{Page, Paginator};
pub use self::queryset::{PrefetchMany, PrefetchSet, QuerySet, ValueMaps, Values};
#[doc(hidden)]
pub use self::raw::Typed as __RawTyped;
pub use self::raw::{RawQuery, RawRows};
pub use self::registry::{Entry, ListRequest, Registered, Row, RowPage, entry, model, models};
pub use self::relations::{ForeignKey, ManyRelated, ManyToManyThrough, OnDelete, OneToOne, RelatedField};
pub use self::signals::{DeleteEvent, ModelSignals, SaveEvent, post_delete, post_save, pre_delete, pre_save};
pub use self::subqueries::{
    Comparable, CountCondition, CountRelated, ExistsQuery, Filtered, InQuery, ScalarQuery, Subquery, SubqueryLookups,
    Unfiltered, count_related, exists, subquery,
};
pub use self::text::ModelText;
pub use self::types::{Date, DateTime, DateTimeTz, Decimal, Json, Uuid, now, now_tz, sql_types, today};
