//! One description of a model field, shared by the models, migrations, forms and the admin.

use std::borrow::Cow;
use std::fmt;

use super::{ModelMeta, OnDelete};

/// A column's type, independent of the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// `i16`.
    SmallInt,
    /// `i32`.
    Integer,
    /// `i64`.
    BigInt,
    /// `f32`.
    Float,
    /// `f64`.
    Double,
    /// `bool`.
    Bool,
    /// `String`.
    Text,
    /// `Vec<u8>`.
    Bytes,
    /// [`super::Decimal`], with `max_digits` and `decimal_places`.
    Decimal,
    /// [`super::Date`].
    Date,
    /// [`super::DateTime`], in UTC.
    DateTime,
    /// [`super::DateTimeTz`]: an instant, `TIMESTAMPTZ` on PostgreSQL.
    DateTimeTz,
    /// [`super::Uuid`].
    Uuid,
    /// [`super::Json`].
    Json,
    /// A [`super::ForeignKey`]: the target's key type (see [`Field::relation`]).
    ForeignKey,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::SmallInt => "smallint",
            FieldType::Integer => "integer",
            FieldType::BigInt => "bigint",
            FieldType::Float => "float",
            FieldType::Double => "double",
            FieldType::Bool => "bool",
            FieldType::Text => "text",
            FieldType::Bytes => "bytes",
            FieldType::Decimal => "decimal",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::DateTimeTz => "datetimetz",
            FieldType::Uuid => "uuid",
            FieldType::Json => "json",
            FieldType::ForeignKey => "foreign key",
        })
    }
}

/// A field's default value, as the database stores it: what `#[field(default = ...)]` says and
/// what rows already in a table get when a migration adds the field.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// Text (also the stored value of a `choices` field).
    Text(Cow<'static, str>),
    /// A default written in a migration file by an earlier version that was not a literal (a
    /// path or a call): kept as written, and refused when a migration needs its value.
    Expression(Cow<'static, str>),
}

impl Value {
    /// Reads a Rust literal (`true`, `-3`, `1_000i64`, `1.5`, `"draft"`), as migration files
    /// write defaults; anything else is kept as an [`Value::Expression`].
    pub fn from_literal(text: &str) -> Value {
        let text = text.trim();
        match text {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            return unescape(inner)
                .map_or_else(|| Value::Expression(text.to_owned().into()), |s| Value::Text(s.into()));
        }
        // An earlier version wrote negative numbers as the macro's tokens: `- 1`.
        let joined = text.replacen("- ", "-", 1);
        const SUFFIXES: [&str; 14] =
            ["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64"];
        let number = SUFFIXES.iter().find_map(|s| joined.strip_suffix(s)).unwrap_or(&joined).replace('_', "");
        let unsigned = number.strip_prefix('-').unwrap_or(&number);
        if unsigned.starts_with(|c: char| c.is_ascii_digit()) {
            if let Ok(n) = number.parse::<i64>() {
                return Value::Int(n);
            }
            if let Ok(x) = number.parse::<f64>() {
                return Value::Float(x);
            }
        }
        Value::Expression(text.to_owned().into())
    }

    /// The value as a Rust literal, as migration files write it (`Value::from_literal` reads it
    /// back to the same value).
    pub fn to_literal(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(x) => format!("{x:?}"),
            Value::Text(text) => format!("{:?}", text.as_ref()),
            Value::Expression(text) => text.to_string(),
        }
    }
}

/// `\n`, `\t`, `\r`, `\0`, `\\`, `\"` and `\'` escapes of a Rust string literal's inside.
fn unescape(inner: &str) -> Option<String> {
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        value.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            c @ ('\\' | '"' | '\'') => c,
            _ => return None,
        });
    }
    Some(value)
}

/// The model a foreign key points to: the compiled model, or its label as a migration file
/// names it (`"shop.Category"`).
#[derive(Clone)]
pub enum RelationTarget {
    /// The target model's metadata (what `#[model]` writes).
    Model(fn() -> &'static ModelMeta),
    /// `app.Model` (what migration files write).
    Label(Cow<'static, str>),
}

impl RelationTarget {
    /// `app.Model`.
    pub fn label(&self) -> Cow<'static, str> {
        match self {
            RelationTarget::Model(meta) => Cow::Owned(meta().label()),
            RelationTarget::Label(label) => label.clone(),
        }
    }

    /// The target model, when it is compiled into the program.
    pub fn model(&self) -> Option<&'static ModelMeta> {
        match self {
            RelationTarget::Model(meta) => Some(meta()),
            RelationTarget::Label(label) => {
                super::registered_models().into_iter().find(|m| m.label() == label.as_ref())
            }
        }
    }
}

impl fmt::Debug for RelationTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.label())
    }
}

/// Two targets are the same model when their labels are.
impl PartialEq for RelationTarget {
    fn eq(&self, other: &Self) -> bool {
        self.label() == other.label()
    }
}

impl Eq for RelationTarget {}

/// A foreign key's target and `on_delete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The model pointed to.
    pub to: RelationTarget,
    /// What deleting the target does.
    pub on_delete: OnDelete,
}

/// A model field: its column's schema (what migrations create, compare and alter) and how
/// forms and the admin present it. `#[model]` writes one per field into
/// [`ModelMeta::fields`]; migration files build them with [`field`] and [`foreign_key`].
///
/// Build one with [`field`] or [`foreign_key`] and the builder methods; the fields are public to
/// read.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)]
pub struct Field {
    /// The field's name in the struct.
    pub name: Cow<'static, str>,
    /// The SQL column: the field's name, or `<name>_id` for a foreign key, or `db_column`.
    pub column: Cow<'static, str>,
    /// The column type.
    pub ty: FieldType,
    /// `Option<T>` fields are nullable.
    pub nullable: bool,
    /// The primary key.
    pub primary_key: bool,
    /// Filled by the database (auto-increment).
    pub auto: bool,
    /// A unique constraint.
    pub unique: bool,
    /// An index.
    pub db_index: bool,
    /// The longest text accepted, for text fields.
    pub max_length: Option<u32>,
    /// Digits in all, for `Decimal` fields.
    pub max_digits: Option<u32>,
    /// Digits after the point, for `Decimal` fields.
    pub decimal_places: Option<u32>,
    /// The default value.
    pub default: Option<Value>,
    /// Set to now on every save.
    pub auto_now: bool,
    /// Set to now when the row is created.
    pub auto_now_add: bool,
    /// A foreign key's target and `on_delete`.
    pub relation: Option<Relation>,
    /// Human name (default: the field name with spaces). Not part of the schema.
    pub verbose_name: Cow<'static, str>,
    /// Help text shown in forms and the admin. Not part of the schema.
    pub help_text: Cow<'static, str>,
    /// Whether a form may leave it empty (Django's `blank`; default: for `Option` fields).
    pub blank: bool,
    /// Whether forms and the admin show it for editing (Django's `editable`; `auto` keys and
    /// `auto_now` fields are not).
    pub editable: bool,
    /// `(stored value, label)` pairs of a `choices` field; empty otherwise.
    pub choices: &'static [(&'static str, &'static str)],
    /// The input forms and the admin show (from the type's [`super::FieldValue`]).
    pub widget: super::Widget,
}

/// Two fields are equal when their schemas are: name, column, type, constraints, default and
/// relation. How forms present them (`verbose_name`, `help_text`, `blank`, `editable`,
/// `choices`) does not change the table, so migrations ignore it.
impl PartialEq for Field {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.column == other.column
            && self.ty == other.ty
            && self.nullable == other.nullable
            && self.primary_key == other.primary_key
            && self.auto == other.auto
            && self.unique == other.unique
            && self.db_index == other.db_index
            && self.max_length == other.max_length
            && self.max_digits == other.max_digits
            && self.decimal_places == other.decimal_places
            && self.default == other.default
            && self.auto_now == other.auto_now
            && self.auto_now_add == other.auto_now_add
            && self.relation == other.relation
    }
}

/// A field named `name` of type `ty`, not null, with no options: the start of a field in a
/// migration file (`field("stock", FieldType::Integer).default("0")`).
pub fn field(name: &str, ty: FieldType) -> Field {
    Field {
        name: Cow::Owned(name.to_owned()),
        column: Cow::Owned(name.to_owned()),
        ty,
        nullable: false,
        primary_key: false,
        auto: false,
        unique: false,
        db_index: false,
        max_length: None,
        max_digits: None,
        decimal_places: None,
        default: None,
        auto_now: false,
        auto_now_add: false,
        relation: None,
        verbose_name: Cow::Owned(name.replace('_', " ")),
        help_text: Cow::Borrowed(""),
        blank: false,
        editable: true,
        choices: &[],
        widget: match ty {
            FieldType::SmallInt | FieldType::Integer | FieldType::BigInt => super::Widget::Integer,
            FieldType::Float | FieldType::Double | FieldType::Decimal => super::Widget::Number,
            FieldType::Bool => super::Widget::Checkbox,
            FieldType::Bytes => super::Widget::Hidden,
            FieldType::Date => super::Widget::Date,
            FieldType::DateTime | FieldType::DateTimeTz => super::Widget::DateTime,
            FieldType::Json => super::Widget::TextArea,
            FieldType::ForeignKey => super::Widget::Related,
            FieldType::Text | FieldType::Uuid => super::Widget::Text,
        },
    }
}

/// A foreign key `name` (column `<name>_id`, indexed) to the model labelled `to` (`"shop.Category"`).
pub fn foreign_key(name: &str, to: &str, on_delete: OnDelete) -> Field {
    Field {
        column: Cow::Owned(format!("{name}_id")),
        db_index: true,
        relation: Some(Relation { to: RelationTarget::Label(Cow::Owned(to.to_owned())), on_delete }),
        ..field(name, FieldType::ForeignKey)
    }
}

impl Field {
    /// The SQL column, when it is not the field's name (or `<name>_id`).
    #[must_use]
    pub fn column(mut self, column: &str) -> Self {
        self.column = Cow::Owned(column.to_owned());
        self
    }
    /// Nullable (an `Option` field).
    #[must_use]
    pub fn null(mut self) -> Self {
        self.nullable = true;
        self.blank = true;
        self
    }
    /// The primary key.
    #[must_use]
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }
    /// Filled by the database (auto-increment).
    #[must_use]
    pub fn auto(mut self) -> Self {
        self.auto = true;
        self.editable = false;
        self
    }
    /// Unique.
    #[must_use]
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    /// Indexed.
    #[must_use]
    pub fn db_index(mut self) -> Self {
        self.db_index = true;
        self
    }
    /// Not indexed (a foreign key is indexed unless told otherwise).
    #[must_use]
    pub fn no_index(mut self) -> Self {
        self.db_index = false;
        self
    }
    /// The longest text accepted.
    #[must_use]
    pub fn max_length(mut self, n: u32) -> Self {
        self.max_length = Some(n);
        self
    }
    /// A decimal's digits in all and after the point.
    #[must_use]
    pub fn digits(mut self, max_digits: u32, decimal_places: u32) -> Self {
        self.max_digits = Some(max_digits);
        self.decimal_places = Some(decimal_places);
        self
    }
    /// The default, as a Rust literal (`"true"`, `"0"`, `"\"draft\""`): the value rows already
    /// in the table get when the field is added. See [`Value::from_literal`].
    #[must_use]
    pub fn default(mut self, literal: &str) -> Self {
        self.default = Some(Value::from_literal(literal));
        self
    }
    /// Set to now on every save (existing rows get now when it is added).
    #[must_use]
    pub fn auto_now(mut self) -> Self {
        self.auto_now = true;
        self.editable = false;
        self
    }
    /// Set to now when a row is created (existing rows get now when it is added).
    #[must_use]
    pub fn auto_now_add(mut self) -> Self {
        self.auto_now_add = true;
        self.editable = false;
        self
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same definition under another name (what a rename keeps).
    pub(crate) fn same_but_name(&self, other: &Field) -> bool {
        let default_column = |f: &Field| {
            if f.relation.is_some() { f.column == format!("{}_id", f.name) } else { f.column == f.name }
        };
        let strip = |f: &Field| Field { name: Cow::Borrowed(""), column: Cow::Borrowed(""), ..f.clone() };
        default_column(self) == default_column(other) && strip(self) == strip(other)
    }

    /// A short description: `text`, `foreign key to shop.Category`.
    pub(crate) fn kind(&self) -> String {
        match &self.relation {
            Some(relation) => format!("foreign key to {}", relation.to.label()),
            None => self.ty.to_string(),
        }
    }
}

/// Django's `DecimalValidator`: digits in all, after the point, and before it, as written
/// (trailing zeros count; a leading zero of `0.5` does not).
pub(crate) fn decimal_problem(
    number: rust_decimal::Decimal,
    max_digits: Option<u32>,
    decimal_places: Option<u32>,
) -> Option<String> {
    let places = number.scale();
    let whole = number.trunc().abs().to_string();
    let whole_digits = if whole == "0" { 0 } else { whole.len() as u32 };
    if let Some(max) = max_digits
        && whole_digits + places > max
    {
        return Some(format!("Ensure that there are no more than {max} digits in total."));
    }
    if let Some(max) = decimal_places
        && places > max
    {
        return Some(format!("Ensure that there are no more than {max} decimal places."));
    }
    if let (Some(digits), Some(places)) = (max_digits, decimal_places)
        && whole_digits > digits.saturating_sub(places)
    {
        return Some(format!(
            "Ensure that there are no more than {} digits before the decimal point.",
            digits.saturating_sub(places)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Value;

    #[test]
    fn defaults_read_as_typed_values_and_write_back_the_same() {
        for (literal, value) in [
            ("true", Value::Bool(true)),
            ("-3", Value::Int(-3)),
            ("- 3", Value::Int(-3)),
            ("1_000i64", Value::Int(1000)),
            ("1.5", Value::Float(1.5)),
            ("\"dra\\\"ft\"", Value::Text("dra\"ft".into())),
            ("Status::Draft", Value::Expression("Status::Draft".into())),
        ] {
            assert_eq!(Value::from_literal(literal), value, "{literal}");
            assert_eq!(Value::from_literal(&value.to_literal()), value, "{literal} round trip");
        }
        assert_eq!(Value::Float(2.0).to_literal(), "2.0");
    }
}
