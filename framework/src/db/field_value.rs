//! What makes a Rust type usable as a model field: [`FieldValue`].

use diesel::sql_types;

use super::{Date, DateTime, DateTimeTz, Decimal, FieldType, ForeignKey, Json, Model, Uuid};

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
/// [`Date`], [`DateTime`], [`DateTimeTz`], [`Uuid`], [`Json`], [`ForeignKey<T>`] (and `OneToOne<T>`, its alias), every
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
    note = "a field is an i16, i32, i64, f32, f64, bool, String, Vec<u8>, Decimal, Date, DateTime, DateTimeTz, Uuid, Json, \
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

    /// The value as a form shows it (and `dumpdata` writes it): `19.99`, `2026-12-03`, `true`.
    fn to_text(&self) -> String;

    /// Reads what a form submitted; `Err` says what is wrong in a sentence ("Enter a whole
    /// number."). Text is trimmed; an empty text is `None` for an `Option` field.
    ///
    /// # Errors
    ///
    /// The message a form shows beside the field.
    fn from_text(text: &str) -> Result<Self, String>
    where
        Self: Sized;
}

/// Text conversions of the built-in types, one per kind of value.
macro_rules! parsed_text {
    ($($rust:ty => $message:literal;)*) => {$(
        impl TextForm for $rust {
            fn to_text(&self) -> String {
                self.to_string()
            }
            fn from_text(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| $message.to_owned())
            }
        }
    )*};
}

/// The text side of [`FieldValue`] for the built-in types (kept apart so the `field_values!`
/// table stays one line a type).
trait TextForm: Sized {
    fn to_text(&self) -> String;
    fn from_text(text: &str) -> Result<Self, String>;
}

parsed_text! {
    i16 => "Enter a whole number.";
    i32 => "Enter a whole number.";
    i64 => "Enter a whole number.";
    f32 => "Enter a number.";
    f64 => "Enter a number.";
    Decimal => "Enter a number.";
    Uuid => "Enter a valid UUID.";
}

impl TextForm for bool {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        // A checkbox sends `on` when ticked and nothing when not.
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "on" | "1" | "yes" => Ok(true),
            "false" | "off" | "0" | "no" | "" => Ok(false),
            _ => Err("Enter true or false.".to_owned()),
        }
    }
}

impl TextForm for String {
    fn to_text(&self) -> String {
        self.clone()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        Ok(text.trim().to_owned())
    }
}

impl TextForm for Vec<u8> {
    fn to_text(&self) -> String {
        self.iter().map(|b| format!("{b:02x}")).collect()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let invalid = || "Enter bytes as hexadecimal digits.".to_owned();
        if !text.len().is_multiple_of(2) {
            return Err(invalid());
        }
        (0..text.len())
            .step_by(2)
            .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()).ok_or_else(invalid))
            .collect()
    }
}

impl TextForm for Date {
    fn to_text(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        Date::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| "Enter a valid date (YYYY-MM-DD).".to_owned())
    }
}

impl TextForm for DateTime {
    fn to_text(&self) -> String {
        self.format("%Y-%m-%d %H:%M:%S").to_string()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|format| DateTime::parse_from_str(text, format).ok())
            .ok_or_else(|| "Enter a valid date and time (YYYY-MM-DD HH:MM).".to_owned())
    }
}

impl TextForm for DateTimeTz {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        DateTimeTz::parse(text)
            .map_err(|_| "Enter a valid date and time (YYYY-MM-DD HH:MM, with an offset or in UTC).".to_owned())
    }
}

impl TextForm for Json {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("Enter valid JSON ({e})."))
    }
}

macro_rules! field_values {
    ($($rust:ty => $sql:ty, $kind:ident, $widget:ident;)*) => {$(
        impl FieldValue for $rust {
            type SqlType = $sql;
            const TYPE: FieldType = FieldType::$kind;
            const WIDGET: Widget = Widget::$widget;
            fn to_text(&self) -> String {
                TextForm::to_text(self)
            }
            fn from_text(text: &str) -> Result<Self, String> {
                <Self as TextForm>::from_text(text)
            }
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
    DateTimeTz => super::sql_types::TimestampTz, DateTimeTz, DateTime;
    Uuid => super::sql_types::Uuid, Uuid, Text;
    Json => sql_types::Json, Json, TextArea;
}

impl<T: Model> FieldValue for ForeignKey<T> {
    type SqlType = T::PrimaryKeySql;
    const TYPE: FieldType = FieldType::ForeignKey;
    const WIDGET: Widget = Widget::Related;
    fn to_text(&self) -> String {
        self.id().to_text()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        T::PrimaryKey::from_text(text).map(ForeignKey::new)
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    type SqlType = sql_types::Nullable<T::SqlType>;
    const TYPE: FieldType = T::TYPE;
    const NULLABLE: bool = true;
    const WIDGET: Widget = T::WIDGET;
    fn to_text(&self) -> String {
        self.as_ref().map(T::to_text).unwrap_or_default()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() { Ok(None) } else { T::from_text(text).map(Some) }
    }
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
                fn to_text(&self) -> ::std::string::String {
                    <$stored as $crate::db::FieldValue>::to_text(&self.0)
                }
                fn from_text(text: &str) -> ::core::result::Result<Self, ::std::string::String> {
                    <$stored as $crate::db::FieldValue>::from_text(text).map($ty)
                }
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
