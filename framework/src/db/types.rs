//! Field types beyond Rust's scalars, stored the same way on SQLite and PostgreSQL.
//!
//! | Rust type          | PostgreSQL                      | SQLite                                   |
//! |--------------------|---------------------------------|------------------------------------------|
//! | [`Decimal`]        | `NUMERIC(max_digits, places)`   | `DECIMAL(...)`, read back at its scale   |
//! | [`Date`]           | `DATE`                          | `DATE` (text `YYYY-MM-DD`)               |
//! | [`DateTime`] (UTC) | `TIMESTAMP`                     | `DATETIME` (text)                        |
//! | [`DateTimeTz`]     | `TIMESTAMPTZ`                   | `DATETIME` (UTC text with `+00:00`)      |
//! | [`Uuid`]           | `UUID`                          | `CHAR(36)` (hyphenated text)             |
//! | [`Json`]           | `JSONB`                         | `TEXT`                                   |
//!
//! Diesel's operators and aggregates work on these columns as on integers:
//! `Product::price.gt(Decimal::new(1000, 2))`, `sum(Product::price)`, `Product::price + Product::price`.
//!
//! [`Decimal`] and [`Uuid`] are thin wrappers of `rust_decimal` and `uuid` (they deref to them):
//! Diesel's coherence rules let a crate teach both backends a value type only if it owns the type.
//! [`DateTime`] is `chrono::NaiveDateTime` holding UTC, the type both backends share in Diesel;
//! [`now`] gives the current one.

use std::fmt;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sqlite::{Sqlite, SqliteType};

use super::MultiBackend;

/// A calendar date: `chrono::NaiveDate`.
pub type Date = chrono::NaiveDate;
/// A date and time in UTC (`chrono::NaiveDateTime`), Django's `DateTimeField` with `USE_TZ`.
pub type DateTime = chrono::NaiveDateTime;
/// A JSON document: `serde_json::Value`.
pub type Json = serde_json::Value;

/// The current date and time in UTC, as `auto_now` and `auto_now_add` store it: to the
/// microsecond, the finest both backends keep, so a saved value reads back equal.
pub fn now() -> DateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

/// The current instant, as `auto_now` and `auto_now_add` store it on [`DateTimeTz`] fields: to the
/// microsecond.
pub fn now_tz() -> DateTimeTz {
    DateTimeTz(now().and_utc())
}

/// An aware date and time, held in UTC: Django's `DateTimeField` with `USE_TZ = True`. A value
/// made in any time zone is converted (`DateTimeTz::from(paris_time)`), stored as UTC
/// (`TIMESTAMPTZ` on PostgreSQL) and read back as the same instant; show it in a zone with
/// [`chrono::DateTime::with_timezone`] (it derefs to `chrono::DateTime<Utc>`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = sql_types::TimestampTz)]
pub struct DateTimeTz(pub chrono::DateTime<chrono::Utc>);

impl DateTimeTz {
    /// The Unix epoch: the value an unsaved `auto_now` field holds.
    pub const UNIX_EPOCH: DateTimeTz = DateTimeTz(chrono::DateTime::UNIX_EPOCH);

    /// Parses RFC 3339 / ISO 8601 with an offset (`2026-12-03T10:00:00+01:00`, `...Z`), or a
    /// date and time without one, taken as UTC.
    ///
    /// # Errors
    ///
    /// When `text` is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(aware) = chrono::DateTime::parse_from_rfc3339(text) {
            return Ok(aware.into());
        }
        for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
            if let Ok(aware) = chrono::DateTime::parse_from_str(text, format) {
                return Ok(aware.into());
            }
        }
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
            .map(|naive| DateTimeTz(naive.and_utc()))
            .ok_or_else(|| format!("`{text}` is not a date and time (YYYY-MM-DD HH:MM[:SS][+HH:MM])"))
    }

    /// The fixed-width UTC text SQLite stores: `2026-12-03 09:00:00.000000+00:00`.
    fn sqlite_text(&self) -> String {
        self.0.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
    }
}

impl Default for DateTimeTz {
    fn default() -> Self {
        DateTimeTz::UNIX_EPOCH
    }
}

impl<Tz: chrono::TimeZone> From<chrono::DateTime<Tz>> for DateTimeTz {
    fn from(value: chrono::DateTime<Tz>) -> Self {
        DateTimeTz(value.with_timezone(&chrono::Utc))
    }
}

impl std::ops::Deref for DateTimeTz {
    type Target = chrono::DateTime<chrono::Utc>;
    fn deref(&self) -> &chrono::DateTime<chrono::Utc> {
        &self.0
    }
}

/// ISO 8601 in UTC, as Django's serializers write it: `2026-12-03T09:00:00.5Z`.
impl fmt::Display for DateTimeTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl FromStr for DateTimeTz {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        DateTimeTz::parse(text)
    }
}

/// Today's date in UTC, for `auto_now`/`auto_now_add` on [`Date`] fields.
pub fn today() -> Date {
    chrono::Utc::now().date_naive()
}

/// The SQL types of [`Decimal`] and [`Uuid`] columns.
pub mod sql_types {
    use diesel::query_builder::QueryId;
    use diesel::sql_types::SqlType;

    /// An exact decimal: PostgreSQL's `NUMERIC`; on SQLite a number bound as text.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 1700, array_oid = 1231))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Decimal;

    impl diesel::sql_types::SqlOrd for Decimal {}
    impl diesel::sql_types::Foldable for Decimal {
        type Sum = diesel::sql_types::Nullable<Decimal>;
        type Avg = diesel::sql_types::Nullable<Decimal>;
    }
    macro_rules! decimal_op {
        ($($op:ident),*) => {$(
            impl diesel::sql_types::ops::$op for Decimal {
                type Rhs = Decimal;
                type Output = Decimal;
            }
        )*};
    }
    decimal_op!(Add, Sub, Mul, Div);

    /// A UUID: PostgreSQL's `UUID`; hyphenated text on SQLite.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 2950, array_oid = 2951))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;

    /// An instant: PostgreSQL's `TIMESTAMPTZ`; on SQLite fixed-width UTC text, which sorts and
    /// compares in time order.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 1184, array_oid = 1185))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct TimestampTz;

    impl diesel::sql_types::SqlOrd for TimestampTz {}
}

/// An exact decimal number, for money and quantities: never a float.
///
/// ```
/// use manouche::db::Decimal;
///
/// let price: Decimal = "19.99".parse()?;
/// let total = price * Decimal::from(3) + Decimal::new(5, 2);
/// assert_eq!(total.to_string(), "60.02");
/// assert_eq!(serde_json::to_string(&total)?, "\"60.02\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = sql_types::Decimal)]
pub struct Decimal(pub rust_decimal::Decimal);

impl Decimal {
    /// `mantissa × 10^-scale`: `Decimal::new(1999, 2)` is 19.99.
    pub fn new(mantissa: i64, scale: u32) -> Self {
        Decimal(rust_decimal::Decimal::new(mantissa, scale))
    }

    /// The value with exactly `places` digits after the point (rounding half away from zero).
    #[must_use]
    pub fn with_places(self, places: u32) -> Self {
        let mut value = self.0;
        value.rescale(places);
        Decimal(value)
    }

    /// The wrapped `rust_decimal::Decimal`.
    pub fn into_inner(self) -> rust_decimal::Decimal {
        self.0
    }
}

impl std::ops::Deref for Decimal {
    type Target = rust_decimal::Decimal;
    fn deref(&self) -> &rust_decimal::Decimal {
        &self.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Decimal {
    type Err = rust_decimal::Error;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim().parse().map(Decimal)
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(value: rust_decimal::Decimal) -> Self {
        Decimal(value)
    }
}

impl From<i64> for Decimal {
    fn from(value: i64) -> Self {
        Decimal(value.into())
    }
}

impl From<i32> for Decimal {
    fn from(value: i32) -> Self {
        Decimal(value.into())
    }
}

macro_rules! decimal_arith {
    ($($op:ident $method:ident $assign:ident $assign_method:ident),*) => {$(
        impl std::ops::$op for Decimal {
            type Output = Decimal;
            fn $method(self, other: Decimal) -> Decimal {
                Decimal(std::ops::$op::$method(self.0, other.0))
            }
        }
        impl std::ops::$assign for Decimal {
            fn $assign_method(&mut self, other: Decimal) {
                std::ops::$assign::$assign_method(&mut self.0, other.0);
            }
        }
    )*};
}
decimal_arith!(Add add AddAssign add_assign, Sub sub SubAssign sub_assign, Mul mul MulAssign mul_assign, Div div DivAssign div_assign);

impl std::ops::Neg for Decimal {
    type Output = Decimal;
    fn neg(self) -> Decimal {
        Decimal(-self.0)
    }
}

impl std::iter::Sum for Decimal {
    fn sum<I: Iterator<Item = Decimal>>(iter: I) -> Decimal {
        iter.fold(Decimal::default(), |a, b| a + b)
    }
}

/// A universally unique identifier.
///
/// ```
/// use manouche::db::Uuid;
///
/// let id = Uuid::new_v4();
/// assert_eq!(id.to_string().len(), 36);
/// assert_eq!(id.to_string().parse::<Uuid>()?, id);
/// # Ok::<(), uuid::Error>(())
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = sql_types::Uuid)]
pub struct Uuid(pub uuid::Uuid);

impl Uuid {
    /// A random (version 4) UUID.
    pub fn new_v4() -> Self {
        Uuid(uuid::Uuid::new_v4())
    }

    /// Parses the hyphenated, simple or braced form.
    ///
    /// # Errors
    ///
    /// When `text` is not a UUID.
    pub fn parse_str(text: &str) -> Result<Self, uuid::Error> {
        uuid::Uuid::parse_str(text).map(Uuid)
    }

    /// The wrapped `uuid::Uuid`.
    pub fn into_inner(self) -> uuid::Uuid {
        self.0
    }
}

impl std::ops::Deref for Uuid {
    type Target = uuid::Uuid;
    fn deref(&self) -> &uuid::Uuid {
        &self.0
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for Uuid {
    type Err = uuid::Error;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text)
    }
}

impl From<uuid::Uuid> for Uuid {
    fn from(value: uuid::Uuid) -> Self {
        Uuid(value)
    }
}

/// The SQL type on the runtime-selected backend: each engine gets its own representation.
macro_rules! multi_backend {
    ($rust:ty, $sql:ty) => {
        impl diesel::sql_types::HasSqlType<$sql> for MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                MultiBackend::lookup_sql_type::<$sql>(lookup)
            }
        }
        impl ToSql<$sql, MultiBackend> for $rust {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((<$sql>::default(), self));
                Ok(IsNull::No)
            }
        }
        impl FromSql<$sql, MultiBackend> for $rust {
            fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, $sql>()
            }
        }
    };
}

multi_backend!(Decimal, sql_types::Decimal);
multi_backend!(Uuid, sql_types::Uuid);
multi_backend!(DateTimeTz, sql_types::TimestampTz);

impl ToSql<sql_types::TimestampTz, Pg> for DateTimeTz {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <chrono::DateTime<chrono::Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<sql_types::TimestampTz, Pg> for DateTimeTz {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <chrono::DateTime<chrono::Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(bytes).map(DateTimeTz)
    }
}

impl ToSql<sql_types::TimestampTz, Sqlite> for DateTimeTz {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.sqlite_text());
        Ok(IsNull::No)
    }
}

impl FromSql<sql_types::TimestampTz, Sqlite> for DateTimeTz {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        DateTimeTz::parse(value.read_text()).map_err(Into::into)
    }
}

// JSON: PostgreSQL columns are `JSONB` (Django's `JSONField`), older ones `JSON`; values are bound
// as `json` text, which PostgreSQL casts on assignment, and read in either column's binary form.
impl diesel::sql_types::HasSqlType<diesel::sql_types::Json> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<diesel::sql_types::Json>(lookup)
    }
}

impl ToSql<diesel::sql_types::Json, MultiBackend> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((diesel::sql_types::Json, self));
        Ok(IsNull::No)
    }
}

impl FromSql<diesel::sql_types::Json, MultiBackend> for Json {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<JsonValue, diesel::sql_types::Json>().map(|value| value.0)
    }
}

/// A JSON value read from a `JSON` or a `JSONB` column.
struct JsonValue(Json);

impl FromSql<diesel::sql_types::Json, Pg> for JsonValue {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        let raw = bytes.as_bytes();
        // JSONB's binary form is a version byte (1) and the text; JSON text never starts so.
        let text = match raw.split_first() {
            Some((1, rest)) => rest,
            _ => raw,
        };
        serde_json::from_slice(text).map(JsonValue).map_err(|e| format!("invalid JSON in the database: {e}").into())
    }
}

impl FromSql<diesel::sql_types::Json, Sqlite> for JsonValue {
    fn from_sql(value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <Json as FromSql<diesel::sql_types::Json, Sqlite>>::from_sql(value).map(JsonValue)
    }
}

// Decimal: PostgreSQL's NUMERIC. On SQLite the value is bound as text and the column's NUMERIC
// affinity stores it as an integer or a double, which reads back exactly for up to 15
// significant digits (Django's rule on SQLite too).

impl ToSql<sql_types::Decimal, Pg> for Decimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <rust_decimal::Decimal as ToSql<diesel::sql_types::Numeric, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<sql_types::Decimal, Pg> for Decimal {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <rust_decimal::Decimal as FromSql<diesel::sql_types::Numeric, Pg>>::from_sql(bytes).map(Decimal)
    }
}

impl ToSql<sql_types::Decimal, Sqlite> for Decimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<sql_types::Decimal, Sqlite> for Decimal {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(match value.value_type() {
            Some(SqliteType::Long) => Decimal::from(value.read_long()),
            Some(SqliteType::Double) => from_double(value.read_double())?,
            _ => value.read_text().parse()?,
        })
    }
}

/// A double as the decimal it stands for: rounded to 15 significant digits (every decimal of
/// up to 15 digits survives a trip through a double), so 19.99 is 19.99 and a SQLite `SUM` of
/// 20.00 and 4.99 is 24.99, not 24.990000000000002.
fn from_double(value: f64) -> Result<Decimal, rust_decimal::Error> {
    if !value.is_finite() {
        return Err(rust_decimal::Error::ConversionTo(format!("{value}")));
    }
    rust_decimal::Decimal::from_scientific(&format!("{value:.14e}")).map(|d| Decimal(d.normalize()))
}

/// A decimal read at a field's scale: `#[model]` reads `Decimal` fields through it, so a price
/// declared with `decimal_places = 2` is `20.00` on both backends (SQLite keeps the number, not
/// its written scale).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Scaled<const PLACES: u32>(Decimal);

impl<const PLACES: u32> From<Scaled<PLACES>> for Decimal {
    fn from(value: Scaled<PLACES>) -> Decimal {
        value.0
    }
}

impl<const PLACES: u32, DB> diesel::deserialize::Queryable<sql_types::Decimal, DB> for Scaled<PLACES>
where
    DB: diesel::backend::Backend,
    Decimal: FromSql<sql_types::Decimal, DB>,
{
    type Row = Decimal;
    fn build(row: Decimal) -> deserialize::Result<Self> {
        Ok(Scaled(row.with_places(PLACES)))
    }
}

/// [`Scaled`] for `Option<Decimal>` fields.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ScaledOption<const PLACES: u32>(Option<Decimal>);

impl<const PLACES: u32> From<ScaledOption<PLACES>> for Option<Decimal> {
    fn from(value: ScaledOption<PLACES>) -> Option<Decimal> {
        value.0
    }
}

impl<const PLACES: u32, DB> diesel::deserialize::Queryable<diesel::sql_types::Nullable<sql_types::Decimal>, DB>
    for ScaledOption<PLACES>
where
    DB: diesel::backend::Backend,
    Decimal: FromSql<sql_types::Decimal, DB>,
{
    type Row = Option<Decimal>;
    fn build(row: Option<Decimal>) -> deserialize::Result<Self> {
        Ok(ScaledOption(row.map(|d| d.with_places(PLACES))))
    }
}

// Uuid: PostgreSQL's uuid; hyphenated text on SQLite.

impl ToSql<sql_types::Uuid, Pg> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<sql_types::Uuid, Pg> for Uuid {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <uuid::Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(bytes).map(Uuid)
    }
}

impl ToSql<sql_types::Uuid, Sqlite> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<sql_types::Uuid, Sqlite> for Uuid {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = value.read_text();
        Uuid::parse_str(text.trim()).map_err(|e| format!("`{text}` is not a UUID: {e}").into())
    }
}
