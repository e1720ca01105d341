//! The Rust types a form field can have, and how each reads what was submitted.

use std::cmp::Ordering;

use super::{FormData, FormField, Input, UploadedFile};
use crate::db::{self, Choices, Date, DateTime, DateTimeTz, Decimal, FieldValue, Json, Uuid};

/// Django's message for a missing value.
pub const REQUIRED: &str = "This field is required.";

/// A type a `#[derive(Form)]` field can have: how it reads the submitted values, shows itself
/// back, and compares with `min_value`/`max_value`.
///
/// Implemented for `String`, the integers, `f32`, `f64`, `bool`, [`Decimal`], [`Date`],
/// [`DateTime`], [`DateTimeTz`], [`chrono::NaiveTime`], [`Uuid`], [`Json`], every
/// [`Choices`] enum (a select of its variants), `Option<T>` (not required) and `Vec<T>` (every
/// value sent: a multi-select).
pub trait FormValue: Sized {
    /// The input shown.
    const INPUT: Input;
    /// Whether leaving it empty is an error (not for `Option`, `bool` and `Vec`).
    const REQUIRED: bool = true;
    /// `(value, label)` of the choices (a [`Choices`] enum's variants).
    const CHOICES: &'static [(&'static str, &'static str)] = &[];

    /// Reads the values sent for the field (already stripped of surrounding spaces when the
    /// field strips, and at least one not empty unless the type is optional).
    ///
    /// # Errors
    ///
    /// The message shown beside the field.
    fn from_form(values: &[&str], field: &FormField) -> Result<Self, String>;

    /// The values the input shows for this value.
    fn to_form(&self) -> Vec<String>;

    /// How this value compares with a `min_value`/`max_value` bound written as text; `None`
    /// when the type has no order or the bound is not a value of it.
    fn compare(&self, _bound: &str) -> Option<Ordering> {
        None
    }

    /// Whether the value counts as empty for `required` (an unticked box, an empty list).
    #[doc(hidden)]
    fn __is_empty(&self) -> bool {
        false
    }

    /// Reads the value from the files sent, for file fields; `None` for the others, which read
    /// text values.
    #[doc(hidden)]
    fn __from_files(_data: &FormData, _field: &FormField) -> Option<Result<Self, String>> {
        None
    }
}

/// Django's `FileField` messages.
const NO_FILE_ENCTYPE: &str = "No file was submitted. Check the encoding type on the form.";
const EMPTY_FILE: &str = "The submitted file is empty.";

/// A file field (Django's `forms.FileField`): required unless `Option<UploadedFile>`;
/// `max_length` bounds the file's name; an empty file is refused.
impl FormValue for UploadedFile {
    const INPUT: Input = Input::File;

    fn from_form(_values: &[&str], _field: &FormField) -> Result<Self, String> {
        // Text where a file was expected: the form was not sent as multipart.
        Err(NO_FILE_ENCTYPE.to_owned())
    }

    fn to_form(&self) -> Vec<String> {
        Vec::new()
    }

    fn __from_files(data: &FormData, field: &FormField) -> Option<Result<Self, String>> {
        Some(match data.file(field.name) {
            None if data.get(field.name).is_some_and(|v| !v.is_empty()) => Err(NO_FILE_ENCTYPE.to_owned()),
            None => Err(REQUIRED.to_owned()),
            Some(file) => {
                let length = file.name().chars().count();
                match field.max_length {
                    Some(max) if length > max as usize => {
                        Err(format!("Ensure this filename has at most {max} characters (it has {length})."))
                    }
                    _ if file.size() == 0 => Err(EMPTY_FILE.to_owned()),
                    _ => Ok(file.clone()),
                }
            }
        })
    }
}

/// The last non-empty value sent, or `None`.
fn last<'a>(values: &[&'a str]) -> Option<&'a str> {
    values.last().copied().filter(|v| !v.is_empty())
}

macro_rules! through_field_value {
    ($($rust:ty => $input:ident, $message:literal;)*) => {$(
        impl FormValue for $rust {
            const INPUT: Input = Input::$input;
            fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
                let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
                <$rust as FieldValue>::from_text(text).map_err(|_| $message.to_owned())
            }
            fn to_form(&self) -> Vec<String> {
                vec![FieldValue::to_text(self)]
            }
            fn compare(&self, bound: &str) -> Option<Ordering> {
                let bound = <$rust as FieldValue>::from_text(bound).ok()?;
                self.partial_cmp(&bound)
            }
        }
    )*};
}

through_field_value! {
    i16 => Number, "Enter a whole number.";
    i32 => Number, "Enter a whole number.";
    i64 => Number, "Enter a whole number.";
    f32 => Number, "Enter a number.";
    f64 => Number, "Enter a number.";
    Uuid => Text, "Enter a valid UUID.";
}

impl FormValue for u32 {
    const INPUT: Input = Input::Number;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        text.parse().map_err(|_| "Enter a whole number.".to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.to_string()]
    }
    fn compare(&self, bound: &str) -> Option<Ordering> {
        bound.parse::<u32>().ok().map(|bound| self.cmp(&bound))
    }
}

impl FormValue for String {
    const INPUT: Input = Input::Text;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        last(values).map(str::to_owned).ok_or_else(|| REQUIRED.to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.clone()]
    }
    fn __is_empty(&self) -> bool {
        self.is_empty()
    }
}

/// A checkbox: ticked when sent with any value but `false` (Django's `CheckboxInput`), so
/// not required unless the field says so (then it must be ticked: "accept the terms").
impl FormValue for bool {
    const INPUT: Input = Input::Checkbox;
    const REQUIRED: bool = false;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        Ok(last(values).is_some_and(|v| !v.eq_ignore_ascii_case("false")))
    }
    fn to_form(&self) -> Vec<String> {
        if *self { vec!["on".to_owned()] } else { Vec::new() }
    }
    fn __is_empty(&self) -> bool {
        !*self
    }
}

impl FormValue for Decimal {
    const INPUT: Input = Input::Number;
    fn from_form(values: &[&str], field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        let number: Decimal = text.parse().map_err(|_| "Enter a number.".to_owned())?;
        match crate::db::field::decimal_problem(number.0, field.max_digits, field.decimal_places) {
            Some(problem) => Err(problem),
            None => Ok(number),
        }
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.to_string()]
    }
    fn compare(&self, bound: &str) -> Option<Ordering> {
        bound.parse::<Decimal>().ok().map(|bound| self.cmp(&bound))
    }
}

/// Django's default `DATE_INPUT_FORMATS`.
const DATE_FORMATS: [&str; 11] = [
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%b %d %Y",
    "%b %d, %Y",
    "%d %b %Y",
    "%d %b, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%d %B, %Y",
];

fn parse_date(text: &str) -> Option<Date> {
    DATE_FORMATS.iter().find_map(|format| Date::parse_from_str(text, format).ok())
}

impl FormValue for Date {
    const INPUT: Input = Input::Date;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        parse_date(text).ok_or_else(|| "Enter a valid date.".to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.format("%Y-%m-%d").to_string()]
    }
    fn compare(&self, bound: &str) -> Option<Ordering> {
        parse_date(bound).map(|bound| self.cmp(&bound))
    }
}

fn parse_time(text: &str) -> Option<chrono::NaiveTime> {
    ["%H:%M:%S", "%H:%M:%S%.f", "%H:%M"].iter().find_map(|format| chrono::NaiveTime::parse_from_str(text, format).ok())
}

impl FormValue for chrono::NaiveTime {
    const INPUT: Input = Input::Time;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        parse_time(text).ok_or_else(|| "Enter a valid time.".to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.format("%H:%M:%S").to_string()]
    }
    fn compare(&self, bound: &str) -> Option<Ordering> {
        parse_time(bound).map(|bound| self.cmp(&bound))
    }
}

/// Django's `DateTimeField`: ISO 8601 with a space or `T`, seconds and fractions optional, or
/// any accepted date alone (midnight).
fn parse_datetime(text: &str) -> Option<DateTime> {
    if let Ok(value) = <DateTime as FieldValue>::from_text(text) {
        return Some(value);
    }
    parse_date(text).and_then(|date| date.and_hms_opt(0, 0, 0))
}

impl FormValue for DateTime {
    const INPUT: Input = Input::DateTime;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        parse_datetime(text).ok_or_else(|| "Enter a valid date/time.".to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.format("%Y-%m-%dT%H:%M:%S").to_string()]
    }
    fn compare(&self, bound: &str) -> Option<Ordering> {
        parse_datetime(bound).map(|bound| self.cmp(&bound))
    }
}

impl FormValue for DateTimeTz {
    const INPUT: Input = Input::DateTime;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        if let Ok(value) = <DateTimeTz as FieldValue>::from_text(text) {
            return Ok(value);
        }
        // A browser's `datetime-local` input sends no offset: read it as UTC.
        parse_datetime(text)
            .map(|naive| DateTimeTz::from(naive.and_utc()))
            .ok_or_else(|| "Enter a valid date/time.".to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![FieldValue::to_text(self)]
    }
}

impl FormValue for Json {
    const INPUT: Input = Input::TextArea;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        <Json as FieldValue>::from_text(text).map_err(|_| "Enter a valid JSON.".to_owned())
    }
    fn to_form(&self) -> Vec<String> {
        vec![FieldValue::to_text(self)]
    }
}

/// A select of the enum's variants; a value that is not one of them is Django's
/// "Select a valid choice" error.
impl<C: Choices> FormValue for C {
    const INPUT: Input = Input::Select;
    const CHOICES: &'static [(&'static str, &'static str)] = C::CHOICES;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        C::from_value(text).ok_or_else(|| invalid_choice(text))
    }
    fn to_form(&self) -> Vec<String> {
        vec![self.value().to_owned()]
    }
}

/// Django's message for a value that is not among the choices.
pub fn invalid_choice(value: &str) -> String {
    format!("Select a valid choice. {value} is not one of the available choices.")
}

/// Not required: empty is `None`.
impl<T: FormValue> FormValue for Option<T> {
    const INPUT: Input = T::INPUT;
    const REQUIRED: bool = false;
    const CHOICES: &'static [(&'static str, &'static str)] = T::CHOICES;
    fn from_form(values: &[&str], field: &FormField) -> Result<Self, String> {
        if last(values).is_none() { Ok(None) } else { T::from_form(values, field).map(Some) }
    }
    fn to_form(&self) -> Vec<String> {
        self.as_ref().map(T::to_form).unwrap_or_default()
    }
    fn compare(&self, bound: &str) -> Option<Ordering> {
        self.as_ref().and_then(|value| value.compare(bound))
    }
    fn __is_empty(&self) -> bool {
        self.is_none()
    }
    fn __from_files(data: &FormData, field: &FormField) -> Option<Result<Self, String>> {
        let read = T::__from_files(data, field)?;
        let nothing_sent = data.file(field.name).is_none() && data.get(field.name).is_none_or(str::is_empty);
        Some(match read {
            Ok(value) => Ok(Some(value)),
            Err(_) if nothing_sent => Ok(None),
            Err(message) => Err(message),
        })
    }
}

/// Every value sent (a multi-select, Django's `MultipleChoiceField`): each read as a `T`.
impl<T: FormValue> FormValue for Vec<T> {
    const INPUT: Input = match T::INPUT {
        Input::Select => Input::SelectMultiple,
        other => other,
    };
    const REQUIRED: bool = false;
    const CHOICES: &'static [(&'static str, &'static str)] = T::CHOICES;
    fn from_form(values: &[&str], field: &FormField) -> Result<Self, String> {
        values.iter().filter(|v| !v.is_empty()).map(|value| T::from_form(&[value], field)).collect()
    }
    fn to_form(&self) -> Vec<String> {
        self.iter().flat_map(T::to_form).collect()
    }
    fn __is_empty(&self) -> bool {
        self.is_empty()
    }
}

impl<T: db::Model> FormValue for db::ForeignKey<T> {
    const INPUT: Input = Input::Text;
    fn from_form(values: &[&str], _field: &FormField) -> Result<Self, String> {
        let text = last(values).ok_or_else(|| REQUIRED.to_owned())?;
        <Self as FieldValue>::from_text(text).map_err(|_| invalid_choice(text))
    }
    fn to_form(&self) -> Vec<String> {
        vec![FieldValue::to_text(self)]
    }
}
