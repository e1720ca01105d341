//! Models as text: what forms, the admin, fixtures and the registry read and write.

use super::Model;

/// A model driven by field names and text values instead of its Rust type: `#[model]`
/// implements it. The registry ([`super::model`], [`super::models`]), forms, the admin and `dumpdata`/`loaddata`
/// use it; typed code has no need of it.
pub trait ModelText: Model {
    /// Each field's value as text (see [`super::FieldValue::to_text`]), in declaration order.
    fn to_texts(&self) -> Vec<(&'static str, String)>;

    /// An instance from the text of each field (`text(name)`); every field that does not parse
    /// is reported with its message.
    ///
    /// # Errors
    ///
    /// `(field, message)` for each field whose text is not a value of its type.
    fn from_texts(text: &dyn Fn(&str) -> String) -> Result<Self, Vec<(&'static str, String)>>;

    /// Sets one field from text: `None` when the model has no such field.
    fn set_text(&mut self, field: &str, text: &str) -> Option<Result<(), String>>;

    /// `query` restricted to rows whose `field` equals the value `text` reads as (an empty text
    /// is NULL for a nullable field).
    ///
    /// # Errors
    ///
    /// An unknown field, or a text that is not a value of the field's type.
    fn filter_text(query: Self::Query, field: &str, text: &str) -> Result<Self::Query, String>;

    /// `query` restricted to rows whose `field` is one of the values `texts` read as.
    ///
    /// # Errors
    ///
    /// As [`ModelText::filter_text`].
    fn filter_in_text(query: Self::Query, field: &str, texts: &[String]) -> Result<Self::Query, String>;

    /// `query` restricted to rows whose date or time `field` is at least `lower` and before
    /// `upper` (either may be absent): the admin's date filters.
    ///
    /// # Errors
    ///
    /// A field that is not a date or time, or a bound that is not one of its values.
    fn filter_range_text(
        query: Self::Query,
        field: &str,
        lower: Option<&str>,
        upper: Option<&str>,
    ) -> Result<Self::Query, String>;

    /// `query` restricted to rows where any of the text `fields` (`None`: every text field)
    /// contains `text`, ignoring case, or whose primary key is one of `keys` (rows a search of
    /// related rows found): the admin's search box, Django's `icontains` over `search_fields`. A
    /// search with no field and no key leaves the query unchanged.
    fn search_text(query: Self::Query, text: &str, fields: Option<&[&str]>, keys: &[String]) -> Self::Query;

    /// `query` ordered (then) by `field`.
    ///
    /// # Errors
    ///
    /// The query unchanged when the model has no such field.
    fn order_text(query: Self::Query, field: &str, descending: bool) -> Result<Self::Query, Self::Query>;

    /// The row as one line of text, for choosing it among others: its `Display` when the model
    /// implements it, else `Product object (1)`, as Django's `__str__` default.
    fn display(&self) -> String;
}

/// `%text%` for a case-insensitive LIKE with `\` escapes: `%` and `_` match themselves.
#[doc(hidden)]
pub fn __like_pattern(text: &str) -> String {
    let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

diesel::define_sql_function! {
    /// SQL's `lower()`.
    #[sql_name = "lower"]
    fn __lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `text` with its first letter upper-cased (Django's `capfirst`), for labels and messages.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}
