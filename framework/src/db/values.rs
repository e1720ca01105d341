//! `values()`: selected columns as name → JSON value maps.

use diesel::deserialize::FromSqlRow;
use diesel::sql_types;

use super::MultiBackend;

/// The Rust type a column of an SQL type loads as, to turn into JSON.
pub trait JsonValue {
    /// The loaded type.
    type Rust: serde::Serialize;
}

macro_rules! json_value {
    ($($sql:ty => $rust:ty),* $(,)?) => {$(
        impl JsonValue for $sql {
            type Rust = $rust;
        }
    )*};
}

json_value!(
    sql_types::SmallInt => i16,
    sql_types::Integer => i32,
    sql_types::BigInt => i64,
    sql_types::Float => f32,
    sql_types::Double => f64,
    sql_types::Bool => bool,
    sql_types::Text => String,
    sql_types::Binary => Vec<u8>,
    sql_types::Date => super::Date,
    sql_types::Timestamp => super::DateTime,
    sql_types::Json => super::Json,
    super::sql_types::Decimal => super::Decimal,
    super::sql_types::Uuid => super::Uuid,
);

impl<ST: JsonValue + sql_types::SqlType<IsNull = sql_types::is_nullable::NotNull>> JsonValue
    for sql_types::Nullable<ST>
{
    type Rust = Option<ST::Rust>;
}

/// A tuple of columns `values()` can select: each is named and loads as a JSON-able value.
pub trait ColumnList: diesel::Expression {
    /// The loaded row.
    type Row: FromSqlRow<Self::SqlType, MultiBackend> + 'static;

    /// The row as a map from column name to value.
    ///
    /// # Errors
    ///
    /// When a value cannot be represented in JSON.
    fn to_map(row: Self::Row) -> Result<serde_json::Map<String, serde_json::Value>, serde_json::Error>;
}

macro_rules! column_list {
    ($($c:ident $v:ident),+) => {
        impl<$($c),+> ColumnList for ($($c,)+)
        where
            $($c: diesel::Column, $c::SqlType: JsonValue,)+
            ($($c,)+): diesel::Expression<SqlType = ($($c::SqlType,)+)>,
            ($(<$c::SqlType as JsonValue>::Rust,)+): FromSqlRow<($($c::SqlType,)+), MultiBackend> + 'static,
        {
            type Row = ($(<$c::SqlType as JsonValue>::Rust,)+);

            fn to_map(row: Self::Row) -> Result<serde_json::Map<String, serde_json::Value>, serde_json::Error> {
                let ($($v,)+) = row;
                let mut map = serde_json::Map::new();
                $(map.insert($c::NAME.to_owned(), serde_json::to_value($v)?);)+
                Ok(map)
            }
        }
    };
}

column_list!(A a);
column_list!(A a, B b);
column_list!(A a, B b, C c);
column_list!(A a, B b, C c, D d);
column_list!(A a, B b, C c, D d, E e);
column_list!(A a, B b, C c, D d, E e, F f);
column_list!(A a, B b, C c, D d, E e, F f, G g);
column_list!(A a, B b, C c, D d, E e, F f, G g, H h);
