//! `choices`: a field that takes one of a fixed set of values, as a Rust enum.

/// An enum whose variants are a field's choices, Django's `TextChoices`: derive it with
/// `#[derive(Choices)]` and mark the field `#[field(choices)]`. The stored value is text.
///
/// ```
/// use manouche::prelude::*;
///
/// #[derive(Choices, Debug, Clone, Copy, PartialEq)]
/// pub enum Status {
///     Draft,
///     #[choice(value = "live", label = "Published")]
///     Published,
/// }
///
/// assert_eq!(Status::Published.value(), "live");
/// assert_eq!(Status::Draft.label(), "Draft");
/// assert_eq!(Status::from_value("live"), Some(Status::Published));
/// assert_eq!(Status::CHOICES, &[("draft", "Draft"), ("live", "Published")]);
/// assert_eq!(Status::Published.to_string(), "Published");
/// ```
pub trait Choices: Sized + Copy + 'static {
    /// `(stored value, label)` for each variant, in declaration order.
    const CHOICES: &'static [(&'static str, &'static str)];

    /// The value stored in the database (default: the variant's name in snake case).
    fn value(self) -> &'static str;

    /// The human label (default: the variant's name in words), Django's `get_FOO_display()`.
    fn label(self) -> &'static str {
        let value = self.value();
        Self::CHOICES.iter().find(|(v, _)| *v == value).map_or(value, |(_, label)| label)
    }

    /// The variant stored as `value`.
    fn from_value(value: &str) -> Option<Self>;
}

/// Choices stored as integers, Django's `IntegerChoices`: `#[derive(Choices)] #[choices(integer)]`,
/// with the field marked `#[field(choices = integer)]`. [`Choices::value`] is the number as text.
///
/// ```
/// use manouche::prelude::*;
/// use manouche::db::IntegerChoices;
///
/// #[derive(Choices, Debug, Clone, Copy, PartialEq)]
/// #[choices(integer)]
/// pub enum Stars { One = 1, Two = 2, #[choice(label = "Three stars")] Three = 3 }
///
/// assert_eq!(Stars::Two.number(), 2);
/// assert_eq!(Stars::from_number(3), Some(Stars::Three));
/// assert_eq!(Stars::CHOICES[2], ("3", "Three stars"));
/// assert_eq!(serde_json::to_string(&Stars::One).unwrap(), "1");
/// ```
pub trait IntegerChoices: Choices {
    /// The stored number.
    fn number(self) -> i32;

    /// The variant stored as `number`.
    fn from_number(number: i32) -> Option<Self>;
}

/// The error of reading a value that is not one of the choices.
#[doc(hidden)]
pub fn not_a_choice<T: Choices>(value: &str, name: &str) -> Box<dyn std::error::Error + Send + Sync> {
    let expected: Vec<&str> = T::CHOICES.iter().map(|(v, _)| *v).collect();
    format!("`{value}` is not a choice of {name} (expected one of {})", expected.join(", ")).into()
}

/// Diesel and serde impls for a `#[derive(Choices)]` enum, stored as text.
#[doc(hidden)]
#[macro_export]
macro_rules! __choices_impls {
    // What both kinds share; `St` is the column's SQL type in the caller's block.
    (@common $ty:ident) => {
        impl diesel::expression::AsExpression<St> for $ty {
            type Expression = diesel::internal::derives::as_expression::Bound<St, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }
        impl diesel::expression::AsExpression<diesel::sql_types::Nullable<St>> for $ty {
            type Expression = diesel::internal::derives::as_expression::Bound<diesel::sql_types::Nullable<St>, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }
        impl<'expr> diesel::expression::AsExpression<St> for &'expr $ty {
            type Expression = diesel::internal::derives::as_expression::Bound<St, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }
        impl<'expr> diesel::expression::AsExpression<diesel::sql_types::Nullable<St>> for &'expr $ty {
            type Expression = diesel::internal::derives::as_expression::Bound<diesel::sql_types::Nullable<St>, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }
        impl<__DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Nullable<St>, __DB> for $ty
        where
            $ty: diesel::serialize::ToSql<St, __DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, __DB>) -> diesel::serialize::Result {
                <Self as diesel::serialize::ToSql<St, __DB>>::to_sql(self, out)
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
        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($crate::db::Choices::label(*self))
            }
        }
    };
    (integer $ty:ident) => {
        const _: () = {
            use $crate::__private::diesel;
            type St = diesel::sql_types::Integer;
            type Db = $crate::db::MultiBackend;

            impl $crate::db::FieldValue for $ty {
                type SqlType = St;
                const TYPE: $crate::db::FieldType = $crate::db::FieldType::Integer;
                const WIDGET: $crate::db::Widget = $crate::db::Widget::Select;
                fn to_text(&self) -> ::std::string::String {
                    $crate::db::IntegerChoices::number(*self).to_string()
                }
                fn from_text(text: &str) -> ::core::result::Result<Self, ::std::string::String> {
                    text.trim()
                        .parse::<i32>()
                        .ok()
                        .and_then(<Self as $crate::db::IntegerChoices>::from_number)
                        .ok_or_else(|| {
                            $crate::__private::not_a_choice::<Self>(text.trim(), stringify!($ty)).to_string()
                        })
                }
            }

    $crate::__choices_impls!(@common $ty);
            impl diesel::serialize::ToSql<St, diesel::sqlite::Sqlite> for $ty {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
                ) -> diesel::serialize::Result {
                    out.set_value($crate::db::IntegerChoices::number(*self));
                    ::core::result::Result::Ok(diesel::serialize::IsNull::No)
                }
            }
            impl diesel::serialize::ToSql<St, diesel::pg::Pg> for $ty {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
                ) -> diesel::serialize::Result {
                    ::std::io::Write::write_all(out, &$crate::db::IntegerChoices::number(*self).to_be_bytes())?;
                    ::core::result::Result::Ok(diesel::serialize::IsNull::No)
                }
            }
            impl diesel::serialize::ToSql<St, Db> for $ty {
                fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, Db>) -> diesel::serialize::Result {
                    out.set_value((St::default(), self));
                    ::core::result::Result::Ok(diesel::serialize::IsNull::No)
                }
            }
            // Every engine reads it as its integer (typed queries run on the engine's own connection).
            impl<__DB: diesel::backend::Backend> diesel::deserialize::FromSql<St, __DB> for $ty
            where
                i32: diesel::deserialize::FromSql<St, __DB>,
            {
                fn from_sql(
                    bytes: <__DB as diesel::backend::Backend>::RawValue<'_>,
                ) -> diesel::deserialize::Result<Self> {
                    let number = <i32 as diesel::deserialize::FromSql<St, __DB>>::from_sql(bytes)?;
                    <Self as $crate::db::IntegerChoices>::from_number(number)
                        .ok_or_else(|| $crate::__private::not_a_choice::<Self>(&number.to_string(), stringify!($ty)))
                }
            }
            impl $crate::__private::serde::Serialize for $ty {
                fn serialize<S: $crate::__private::serde::Serializer>(
                    &self,
                    s: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    s.serialize_i32($crate::db::IntegerChoices::number(*self))
                }
            }
            impl<'de> $crate::__private::serde::Deserialize<'de> for $ty {
                fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                    d: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    let number = <i32 as $crate::__private::serde::Deserialize>::deserialize(d)?;
                    <Self as $crate::db::IntegerChoices>::from_number(number).ok_or_else(|| {
                        <D::Error as $crate::__private::serde::de::Error>::custom(
                            $crate::__private::not_a_choice::<Self>(&number.to_string(), stringify!($ty)),
                        )
                    })
                }
            }
        };
    };
    ($ty:ident) => {
        const _: () = {
            use diesel::backend::Backend as _;
            use $crate::__private::diesel;
            type St = diesel::sql_types::Text;
            type Db = $crate::db::MultiBackend;

            impl $crate::db::FieldValue for $ty {
                type SqlType = St;
                const TYPE: $crate::db::FieldType = $crate::db::FieldType::Text;
                const WIDGET: $crate::db::Widget = $crate::db::Widget::Select;
                fn to_text(&self) -> ::std::string::String {
                    $crate::db::Choices::value(*self).to_owned()
                }
                fn from_text(text: &str) -> ::core::result::Result<Self, ::std::string::String> {
                    <Self as $crate::db::Choices>::from_value(text.trim()).ok_or_else(|| {
                        $crate::__private::not_a_choice::<Self>(text.trim(), stringify!($ty)).to_string()
                    })
                }
            }

    $crate::__choices_impls!(@common $ty);
            impl diesel::serialize::ToSql<St, Db> for $ty {
                fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, Db>) -> diesel::serialize::Result {
                    <str as diesel::serialize::ToSql<St, Db>>::to_sql($crate::db::Choices::value(*self), out)
                }
            }
            // Each engine's own impls: the two-backend connection renders inserts per engine.
            impl diesel::serialize::ToSql<St, diesel::sqlite::Sqlite> for $ty {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
                ) -> diesel::serialize::Result {
                    <str as diesel::serialize::ToSql<St, diesel::sqlite::Sqlite>>::to_sql(
                        $crate::db::Choices::value(*self),
                        out,
                    )
                }
            }
            impl diesel::serialize::ToSql<St, diesel::pg::Pg> for $ty {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
                ) -> diesel::serialize::Result {
                    <str as diesel::serialize::ToSql<St, diesel::pg::Pg>>::to_sql(
                        $crate::db::Choices::value(*self),
                        out,
                    )
                }
            }
            // Every engine reads it as its text (typed queries run on the engine's own connection).
            impl<__DB: diesel::backend::Backend> diesel::deserialize::FromSql<St, __DB> for $ty
            where
                String: diesel::deserialize::FromSql<St, __DB>,
            {
                fn from_sql(
                    bytes: <__DB as diesel::backend::Backend>::RawValue<'_>,
                ) -> diesel::deserialize::Result<Self> {
                    let text = <String as diesel::deserialize::FromSql<St, __DB>>::from_sql(bytes)?;
                    <Self as $crate::db::Choices>::from_value(&text)
                        .ok_or_else(|| $crate::__private::not_a_choice::<Self>(&text, stringify!($ty)))
                }
            }
            impl $crate::__private::serde::Serialize for $ty {
                fn serialize<S: $crate::__private::serde::Serializer>(
                    &self,
                    s: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    s.serialize_str($crate::db::Choices::value(*self))
                }
            }
            impl<'de> $crate::__private::serde::Deserialize<'de> for $ty {
                fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                    d: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    let text = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(d)?;
                    <Self as $crate::db::Choices>::from_value(&text).ok_or_else(|| {
                        <D::Error as $crate::__private::serde::de::Error>::custom(
                            $crate::__private::not_a_choice::<Self>(&text, stringify!($ty)),
                        )
                    })
                }
            }
        };
    };
}
