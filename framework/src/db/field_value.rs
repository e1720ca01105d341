//! What makes a Rust type usable as a model field: [`FieldValue`].

use diesel::sql_types;

use super::{Date, DateTime, Decimal, FieldType, ForeignKey, Json, Model, Uuid};

/// How forms and the admin present a field: the input they show for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Widget {
    /// A one-line text input.
    Text,
    /// An e-mail address input.
    Email,
    /// A whole-number input.
    Integer,
    /// A number input with a fraction.
    Number,
    /// A checkbox.
    Checkbox,
    /// A date picker.
    Date,
    /// A date and time picker.
    DateTime,
    /// A choice among fixed values.
    Select,
    /// A choice among the rows of another model.
    Related,
    /// A multi-line text area (JSON, long text).
    TextArea,
    /// Not editable in a form (binary data).
    Hidden,
}

/// A Rust type a `#[model]` field can have: its column's Diesel SQL type, its kind in the schema
/// that migrations write, and its form input. `#[model]` checks every field's type against it,
/// with the error on the field's type.
///
/// Implemented for `i16`, `i32`, `i64`, `f32`, `f64`, `bool`, `String`, `Vec<u8>`, [`Decimal`],
/// [`Date`], [`DateTime`], [`Uuid`], [`Json`], [`ForeignKey<T>`] (and `OneToOne<T>`, its alias), every
/// `#[derive(Choices)]` enum, and `Option` of each. A type of your own gets it, with Diesel's
/// conversions on both backends, from [`crate::newtype_field!`] when it wraps a stored type; its
/// fields name the SQL type with `#[field(sql_type = ...)]` (Diesel's `table!` needs it written
/// out; `#[model]` checks it is the one the impl says). An e-mail address stored as text:
///
/// ```
/// use manouche::prelude::*;
/// use manouche::db::{FieldType, Widget};
///
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Email(pub String);
/// manouche::newtype_field!(Email(String): diesel::sql_types::Text, Text, Email);
///
/// #[model(app = "crm")]
/// pub struct Contact {
///     #[field(primary_key, auto)]
///     pub id: i64,
///     #[field(max_length = 254, unique, sql_type = diesel::sql_types::Text)]
///     pub email: Email,
///     #[field(sql_type = diesel::sql_types::Text)]
///     pub backup: Option<Email>,
/// }
///
/// # fn main() {
/// let email = Contact::meta().field("email").unwrap();
/// assert_eq!((email.ty, email.widget, email.max_length), (FieldType::Text, Widget::Email, Some(254)));
/// # }
/// ```
///
/// A type that is not a wrapper implements this trait and Diesel's `AsExpression`, `ToSql` and
/// `FromSql` for SQLite, PostgreSQL and [`super::MultiBackend`] itself, as the macro's expansion
/// does.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model field",
    label = "not a field type",
    note = "a field is an i16, i32, i64, f32, f64, bool, String, Vec<u8>, Decimal, Date, DateTime, Uuid, Json, \
            ForeignKey<Model>, OneToOne<Model>, a `#[derive(Choices)]` enum, or an `Option` of one of them",
    note = "for a type of your own, implement `manouche::db::FieldValue` (see its documentation)"
)]
pub trait FieldValue {
    /// The column's Diesel SQL type.
    type SqlType;
    /// The column's kind in the schema.
    const TYPE: FieldType;
    /// Whether the column accepts NULL (`Option` fields).
    const NULLABLE: bool = false;
    /// The input forms and the admin show.
    const WIDGET: Widget;
}

macro_rules! field_values {
    ($($rust:ty => $sql:ty, $kind:ident, $widget:ident;)*) => {$(
        impl FieldValue for $rust {
            type SqlType = $sql;
            const TYPE: FieldType = FieldType::$kind;
            const WIDGET: Widget = Widget::$widget;
        }
    )*};
}

field_values! {
    i16 => sql_types::SmallInt, SmallInt, Integer;
    i32 => sql_types::Integer, Integer, Integer;
    i64 => sql_types::BigInt, BigInt, Integer;
    f32 => sql_types::Float, Float, Number;
    f64 => sql_types::Double, Double, Number;
    bool => sql_types::Bool, Bool, Checkbox;
    String => sql_types::Text, Text, Text;
    Vec<u8> => sql_types::Binary, Bytes, Hidden;
    Decimal => super::sql_types::Decimal, Decimal, Number;
    Date => sql_types::Date, Date, Date;
    DateTime => sql_types::Timestamp, DateTime, DateTime;
    Uuid => super::sql_types::Uuid, Uuid, Text;
    Json => sql_types::Json, Json, TextArea;
}

impl<T: Model> FieldValue for ForeignKey<T> {
    type SqlType = T::PrimaryKeySql;
    const TYPE: FieldType = FieldType::ForeignKey;
    const WIDGET: Widget = Widget::Related;
}

impl<T: FieldValue> FieldValue for Option<T> {
    type SqlType = sql_types::Nullable<T::SqlType>;
    const TYPE: FieldType = T::TYPE;
    const NULLABLE: bool = true;
    const WIDGET: Widget = T::WIDGET;
}

/// Makes a one-field tuple struct a model field type stored as its field:
/// `newtype_field!(Email(String): diesel::sql_types::Text, Text, Email)` gives `Email` the
/// [`FieldValue`](crate::db::FieldValue) of kind [`FieldType::Text`](crate::db::FieldType) and
/// widget [`Widget::Email`](crate::db::Widget), and Diesel's conversions on every backend through
/// `String`'s. See [`FieldValue`](crate::db::FieldValue).
#[macro_export]
macro_rules! newtype_field {
    ($ty:ident($stored:ty): $sql:ty, $kind:ident, $widget:ident) => {
        const _: () = {
            use $crate::__private::diesel;

            impl $crate::db::FieldValue for $ty {
                type SqlType = $sql;
                const TYPE: $crate::db::FieldType = $crate::db::FieldType::$kind;
                const WIDGET: $crate::db::Widget = $crate::db::Widget::$widget;
            }
            impl diesel::expression::AsExpression<$sql> for $ty {
                type Expression = diesel::internal::derives::as_expression::Bound<$sql, Self>;
                fn as_expression(self) -> Self::Expression {
                    diesel::internal::derives::as_expression::Bound::new(self)
                }
            }
            impl<'expr> diesel::expression::AsExpression<$sql> for &'expr $ty {
                type Expression = diesel::internal::derives::as_expression::Bound<$sql, Self>;
                fn as_expression(self) -> Self::Expression {
                    diesel::internal::derives::as_expression::Bound::new(self)
                }
            }
            impl diesel::expression::AsExpression<diesel::sql_types::Nullable<$sql>> for $ty {
                type Expression = diesel::internal::derives::as_expression::Bound<diesel::sql_types::Nullable<$sql>, Self>;
                fn as_expression(self) -> Self::Expression {
                    diesel::internal::derives::as_expression::Bound::new(self)
                }
            }
            impl<'expr> diesel::expression::AsExpression<diesel::sql_types::Nullable<$sql>> for &'expr $ty {
                type Expression = diesel::internal::derives::as_expression::Bound<diesel::sql_types::Nullable<$sql>, Self>;
                fn as_expression(self) -> Self::Expression {
                    diesel::internal::derives::as_expression::Bound::new(self)
                }
            }
            impl<__DB: diesel::backend::Backend> diesel::serialize::ToSql<$sql, __DB> for $ty
            where
                $stored: diesel::serialize::ToSql<$sql, __DB>,
            {
                fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, __DB>) -> diesel::serialize::Result {
                    <$stored as diesel::serialize::ToSql<$sql, __DB>>::to_sql(&self.0, out)
                }
            }
            impl<__DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Nullable<$sql>, __DB> for $ty
            where
                $stored: diesel::serialize::ToSql<$sql, __DB>,
            {
                fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, __DB>) -> diesel::serialize::Result {
                    <$stored as diesel::serialize::ToSql<$sql, __DB>>::to_sql(&self.0, out)
                }
            }
            impl<__DB: diesel::backend::Backend> diesel::deserialize::FromSql<$sql, __DB> for $ty
            where
                $stored: diesel::deserialize::FromSql<$sql, __DB>,
            {
                fn from_sql(bytes: <__DB as diesel::backend::Backend>::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                    <$stored as diesel::deserialize::FromSql<$sql, __DB>>::from_sql(bytes).map($ty)
                }
            }
            impl<__ST, __DB> diesel::deserialize::Queryable<__ST, __DB> for $ty
            where
                __DB: diesel::backend::Backend,
                __ST: diesel::sql_types::SingleValue,
                Self: diesel::deserialize::FromSql<__ST, __DB>,
            {
                type Row = Self;
                fn build(row: Self) -> diesel::deserialize::Result<Self> {
                    ::core::result::Result::Ok(row)
                }
            }
        };
    };
}
