//! The query-string extractor, with Django's `QueryDict` rules.

use std::borrow::Cow;
use std::fmt;
use std::future::{Ready, ready};
use std::ops::{Deref, DerefMut};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};

/// The query string deserialised into `T`, read as Django reads `request.GET`:
///
/// - a repeated key gives its **last** value to a single field (`?page=1&page=2` is page 2, as
///   `request.GET["page"]`), and **all** values to a `Vec` field (`request.GET.getlist`);
/// - an empty value is **absent** for an `Option` field (`?category=` is no category filter: what
///   a form's "All" choice submits), and an empty string for a `String` field;
/// - a value that does not parse is a 400 naming the field (`?page=two`).
///
/// # Examples
///
/// ```
/// use manouche::http::Query;
/// #[derive(serde::Deserialize)]
/// struct Filters { category: Option<String>, page: Option<u32>, #[serde(default)] tag: Vec<String> }
///
/// let Query(f) = Query::<Filters>::from_query("category=&page=1&page=3&tag=a&tag=b")?;
/// assert_eq!((f.category, f.page, f.tag), (None, Some(3), vec!["a".to_owned(), "b".to_owned()]));
/// assert!(Query::<Filters>::from_query("page=two").is_err());
/// # Ok::<(), manouche::http::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The deserialised value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> Query<T> {
    /// Deserialises a raw query string (without the `?`).
    ///
    /// # Errors
    ///
    /// [`super::Error::BadRequest`] naming the field whose value does not fit, or the field missing.
    pub fn from_query(query: &str) -> Result<Self, super::Error> {
        let mut pairs: Vec<(Cow<'_, str>, Vec<Cow<'_, str>>)> = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match pairs.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value),
                None => pairs.push((key, vec![value])),
            }
        }
        let access = Pairs { pairs: pairs.into_iter(), current: None };
        T::deserialize(Top(access))
            .map(Query)
            .map_err(|e: QueryError| super::Error::bad_request(format!("invalid query string: {}", e.0)))
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Query<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = crate::Error;
    type Future = Ready<Result<Self, crate::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Query::from_query(req.query_string()).map_err(crate::Error::from))
    }
}

/// Encodes `(key, value)` pairs as a query string (without the `?`), Django's
/// `QueryDict.urlencode()`: spaces as `+`, everything else that is not URL-safe escaped.
///
/// ```
/// assert_eq!(manouche::http::urlencode([("q", "green & black"), ("page", "2")]), "q=green+%26+black&page=2");
/// ```
pub fn urlencode<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key.as_ref(), value.as_ref());
    }
    serializer.finish()
}

/// A deserialisation error's message.
#[derive(Debug)]
struct QueryError(String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

impl de::Error for QueryError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        QueryError(msg.to_string())
    }
}

type PairIter<'a> = std::vec::IntoIter<(Cow<'a, str>, Vec<Cow<'a, str>>)>;

/// The whole query string: a map of keys to their values.
struct Top<'a>(Pairs<'a>);

impl<'de> de::Deserializer<'de> for Top<'de> {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_map(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Pairs<'a> {
    pairs: PairIter<'a>,
    current: Option<(Cow<'a, str>, Vec<Cow<'a, str>>)>,
}

impl<'de> MapAccess<'de> for Pairs<'de> {
    type Error = QueryError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, QueryError> {
        let Some((key, values)) = self.pairs.next() else { return Ok(None) };
        let value = seed.deserialize(Part(key.clone()))?;
        self.current = Some((key, values));
        Ok(Some(value))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, QueryError> {
        let (key, values) = self.current.take().ok_or_else(|| QueryError("a value without a key".into()))?;
        seed.deserialize(Values(values)).map_err(|e| QueryError(format!("`{key}`: {e}")))
    }
}

/// Every value of one key: the last for a single field, all of them for a sequence.
struct Values<'a>(Vec<Cow<'a, str>>);

impl<'a> Values<'a> {
    fn last(mut self) -> Part<'a> {
        Part(self.0.pop().unwrap_or_default())
    }
}

impl<'de> de::Deserializer<'de> for Values<'de> {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        self.last().deserialize_any(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_seq(de::value::SeqDeserializer::new(self.0.into_iter().map(Part)))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, QueryError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        self.last().deserialize_option(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        self.last().deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct tuple_struct map struct identifier ignored_any
    }
}

/// One value as text, parsed into what the field asks for.
struct Part<'a>(Cow<'a, str>);

impl<'de> IntoDeserializer<'de, QueryError> for Part<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
            match self.0.trim().parse() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(QueryError(format!("`{}` is not a valid number", self.0.escape_debug()))),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Part<'de> {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        match self.0 {
            Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
            Cow::Owned(text) => visitor.visit_string(text),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        match self.0.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => visitor.visit_bool(true),
            "false" | "0" | "off" | "no" | "" => visitor.visit_bool(false),
            _ => Err(QueryError(format!("`{}` is not true or false", self.0.escape_debug()))),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8, deserialize_i16 => visit_i16, deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64, deserialize_i128 => visit_i128, deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16, deserialize_u32 => visit_u32, deserialize_u64 => visit_u64,
        deserialize_u128 => visit_u128, deserialize_f32 => visit_f32, deserialize_f64 => visit_f64,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        if self.0.is_empty() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        visitor.visit_enum(de::value::StrDeserializer::<QueryError>::new(&self.0))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_seq(de::value::SeqDeserializer::new(std::iter::once(self)))
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier ignored_any
    }
}
