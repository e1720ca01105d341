//! Forms: Django's `django.forms`, declared with `#[derive(Form)]` on a struct whose fields are
//! the cleaned values.
//!
//! ```
//! use manouche::forms::{Errors, Form, FormData};
//!
//! #[derive(Form, Debug)]
//! #[form(clean = Self::check)]
//! struct Signup {
//!     #[form(max_length = 150, help_text = "Letters, digits and @/./+/-/_ only.")]
//!     username: String,
//!     #[form(email)]
//!     email: String,
//!     #[form(min_value = 13, max_value = 130)]
//!     age: Option<i32>,
//!     #[form(password)]
//!     password: String,
//!     #[form(password, label = "Password confirmation")]
//!     password2: String,
//! }
//!
//! impl Signup {
//!     fn check(&mut self, errors: &mut Errors) {
//!         if self.password != self.password2 {
//!             errors.add("password2", "The two password fields didn’t match.");
//!         }
//!     }
//! }
//!
//! let data = FormData::from_pairs([("username", "ada"), ("email", "ada@example"), ("password", "x"), ("password2", "y")]);
//! let form = Signup::bind(&data);
//! assert!(!form.is_valid());
//! assert_eq!(form.errors().get("email"), ["Enter a valid email address."]);
//!
//! let data = FormData::from_pairs([("username", " ada "), ("email", "ada@example.com"), ("password", "x"), ("password2", "x")]);
//! let signup = Signup::bind(&data).into_cleaned().unwrap();
//! assert_eq!((signup.username.as_str(), signup.age), ("ada", None));
//! ```
//!
//! In a view, take [`FormData`] (it reads a posted form, and is empty and *not submitted* on
//! `GET`), make the form with [`Form::form`], and either use [`BoundForm::cleaned`] or render the
//! form again: its values are kept, its errors shown, everything escaped.
//!
//! Field options (`#[form(...)]`): `label`, `help_text`, `required` (a `bool` that must be
//! ticked), `initial = "text"`, `max_length`, `min_length`, `min_value`, `max_value`,
//! `max_digits`, `decimal_places`, `choices = [("value", "Label"), ...]`, `email`, `url`, `slug`,
//! `password`, `textarea`, `hidden`, `no_strip`, `clean = path` (a `fn(T) -> Result<T, String>`
//! run after the field's own checks). On the struct, `#[form(clean = path)]` names a
//! `fn(&mut Self, &mut Errors)` run once every field is valid (Django's `Form.clean`; its
//! values are typed, so it cannot run on a half-valid form), and `#[form(clean_data = path)]` a
//! `fn(&FormData, &mut Errors)` run on every submission, for checks that must show beside other
//! errors (two passwords that differ, as Django's `clean_password2`).
//! A field's type says how it is read ([`FormValue`]); `Option<T>` fields are not required.

mod data;
mod many;
mod model;
pub(crate) mod render;
mod upload;
mod validators;
mod values;

use std::fmt;
use std::marker::PhantomData;

pub use self::data::{FormData, MAX_FORM_BODY};
pub use self::model::{ModelForm, display_value};
pub use self::render::FormHtml;
pub(crate) use self::upload::submitted;
pub use self::upload::{UploadedFile, is_multipart};
pub use self::validators::{Check, is_email, is_slug, is_url};
pub use self::values::{FormValue, REQUIRED, invalid_choice};
pub use manouche_macros::Form;

/// The HTML input of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// `<input type="text">`.
    Text,
    /// `<input type="email">`.
    Email,
    /// `<input type="url">`.
    Url,
    /// `<input type="password">`, never shown back filled.
    Password,
    /// `<input type="number">`.
    Number,
    /// `<input type="checkbox">`.
    Checkbox,
    /// `<input type="date">`.
    Date,
    /// `<input type="datetime-local">`.
    DateTime,
    /// `<input type="time">`.
    Time,
    /// `<select>`.
    Select,
    /// `<select multiple>`.
    SelectMultiple,
    /// `<textarea>`.
    TextArea,
    /// `<input type="hidden">`.
    Hidden,
    /// `<input type="file">` (an [`UploadedFile`] field): the form must be sent as
    /// `multipart/form-data` ([`BoundForm::is_multipart`]).
    File,
}

/// One field of a form: what `#[derive(Form)]` writes for each struct field, and what rendering
/// and validation read.
#[derive(Debug, Clone, Copy)]
pub struct FormField {
    /// The struct field's name, also the input's `name`.
    pub name: &'static str,
    /// The label (default: the name with spaces, capitalised).
    pub label: &'static str,
    /// Help text shown under the label.
    pub help_text: &'static str,
    /// Whether an empty value is an error.
    pub required: bool,
    /// The input shown.
    pub input: Input,
    /// The check a text value passes.
    pub check: Check,
    /// Longest text accepted, in characters.
    pub max_length: Option<u32>,
    /// Shortest text accepted, in characters.
    pub min_length: Option<u32>,
    /// The smallest value accepted, as text of the field's type.
    pub min_value: Option<&'static str>,
    /// The largest value accepted.
    pub max_value: Option<&'static str>,
    /// A decimal's digits in all.
    pub max_digits: Option<u32>,
    /// A decimal's digits after the point.
    pub decimal_places: Option<u32>,
    /// `(value, label)` of a choice field.
    pub choices: &'static [(&'static str, &'static str)],
    /// The value an unbound form shows.
    pub initial: Option<&'static str>,
    /// Whether surrounding spaces are removed before validation (default: yes).
    pub strip: bool,
}

impl FormField {
    #[doc(hidden)]
    pub const fn __new(name: &'static str, label: &'static str, input: Input, required: bool) -> Self {
        FormField {
            name,
            label,
            help_text: "",
            required,
            input,
            check: Check::None,
            max_length: None,
            min_length: None,
            min_value: None,
            max_value: None,
            max_digits: None,
            decimal_places: None,
            choices: &[],
            initial: None,
            strip: true,
        }
    }
}

/// Errors of a bound form: per field, and for the form as a whole (Django's `non_field_errors`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors {
    fields: Vec<(String, Vec<String>)>,
    non_field: Vec<String>,
}

impl Errors {
    /// Adds an error to `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.fields.iter_mut().find(|(name, _)| name == field) {
            Some((_, messages)) => messages.push(message),
            None => self.fields.push((field.to_owned(), vec![message])),
        }
    }

    /// Adds an error about the form as a whole.
    pub fn add_non_field(&mut self, message: impl Into<String>) {
        self.non_field.push(message.into());
    }

    /// The errors of `field` (empty when it has none).
    pub fn get(&self, field: &str) -> &[String] {
        self.fields.iter().find(|(name, _)| name == field).map_or(&[], |(_, messages)| messages)
    }

    /// The errors about the form as a whole.
    pub fn non_field(&self) -> &[String] {
        &self.non_field
    }

    /// `(field, messages)` of every field with errors, in the order found.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.fields.iter().map(|(name, messages)| (name.as_str(), messages.as_slice()))
    }

    /// Whether there is no error at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.non_field.is_empty()
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for message in &self.non_field {
            write!(f, "{}{message}", if first { "" } else { "; " })?;
            first = false;
        }
        for (field, messages) in &self.fields {
            for message in messages {
                write!(f, "{}{field}: {message}", if first { "" } else { "; " })?;
                first = false;
            }
        }
        Ok(())
    }
}

/// A form: what `#[derive(Form)]` implements. The struct holds the cleaned values.
pub trait Form: Sized {
    /// The fields, in declaration order.
    fn fields() -> &'static [FormField];

    /// Reads and checks every field; `None` (with `errors` filled) when one is invalid.
    #[doc(hidden)]
    fn __clean_fields(data: &FormData, errors: &mut Errors) -> Option<Self>;

    /// Each field's values as the form shows them, in declaration order.
    #[doc(hidden)]
    fn __values(&self) -> Vec<Vec<String>>;

    /// The whole-form check, `#[form(clean = ...)]`.
    #[doc(hidden)]
    fn __clean(&mut self, _errors: &mut Errors) {}

    /// The check on the submitted data, `#[form(clean_data = ...)]`.
    #[doc(hidden)]
    fn __clean_data(_data: &FormData, _errors: &mut Errors) {}

    /// The empty form, showing each field's `initial`.
    fn unbound() -> BoundForm<Self> {
        BoundForm { data: None, initial: Vec::new(), errors: Errors::default(), cleaned: None, marker: PhantomData }
    }

    /// An unbound form showing `instance`'s values (Django's `initial`, or a model form's instance).
    fn with_initial(instance: &Self) -> BoundForm<Self> {
        let initial = Self::fields().iter().map(|f| f.name).zip(instance.__values()).collect();
        BoundForm { initial, ..Self::unbound() }
    }

    /// The form bound to `data`, validated.
    fn bind(data: &FormData) -> BoundForm<Self> {
        let mut errors = Errors::default();
        let mut cleaned = Self::__clean_fields(data, &mut errors);
        Self::__clean_data(data, &mut errors);
        if let Some(form) = cleaned.as_mut() {
            form.__clean(&mut errors);
        }
        BoundForm { data: Some(data.clone()), initial: Vec::new(), errors, cleaned, marker: PhantomData }
    }

    /// Bound to `data` when it was submitted, unbound otherwise: a view's one line for both
    /// `GET` and `POST`.
    fn form(data: &FormData) -> BoundForm<Self> {
        if data.is_submitted() { Self::bind(data) } else { Self::unbound() }
    }
}

/// A form bound to submitted data (validated) or unbound (showing initial values).
pub struct BoundForm<F> {
    data: Option<FormData>,
    initial: Vec<(&'static str, Vec<String>)>,
    errors: Errors,
    cleaned: Option<F>,
    marker: PhantomData<fn() -> F>,
}

impl<F: Form> BoundForm<F> {
    /// Whether the form holds submitted data.
    pub fn is_bound(&self) -> bool {
        self.data.is_some()
    }

    /// Bound, and without errors.
    pub fn is_valid(&self) -> bool {
        self.cleaned.is_some() && self.errors.is_empty()
    }

    /// The errors found (none for an unbound form).
    pub fn errors(&self) -> &Errors {
        &self.errors
    }

    /// Whether a field is a file, so the `<form>` needs `enctype="multipart/form-data"`
    /// (Django's `is_multipart`).
    pub fn is_multipart(&self) -> bool {
        F::fields().iter().any(|field| field.input == Input::File)
    }

    /// The cleaned values, when the form is valid.
    pub fn cleaned(&self) -> Option<&F> {
        self.cleaned.as_ref().filter(|_| self.errors.is_empty())
    }

    /// The cleaned values, when the form is valid.
    pub fn into_cleaned(self) -> Option<F> {
        if self.errors.is_empty() { self.cleaned } else { None }
    }

    /// Adds an error found after validation (a username taken, a failed login); the form is
    /// then not valid. `field` `None` is an error of the form as a whole.
    pub fn add_error(&mut self, field: Option<&str>, message: impl Into<String>) {
        match field {
            Some(field) => self.errors.add(field, message),
            None => self.errors.add_non_field(message),
        }
    }

    /// Sets the value an unbound form shows for `field`.
    #[must_use]
    pub fn initial(mut self, field: &'static str, value: impl Into<String>) -> Self {
        self.initial.retain(|(name, _)| *name != field);
        self.initial.push((field, vec![value.into()]));
        self
    }

    /// The values the input of `field` shows: what was submitted, else the initial values.
    pub fn value(&self, field: &FormField) -> Vec<String> {
        if let Some(data) = &self.data {
            return data.get_all(field.name).into_iter().map(str::to_owned).collect();
        }
        match self.initial.iter().find(|(name, _)| *name == field.name) {
            Some((_, values)) => values.clone(),
            None => field.initial.map(|v| vec![v.to_owned()]).unwrap_or_default(),
        }
    }
}

impl<F> fmt::Debug for BoundForm<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundForm").field("bound", &self.data.is_some()).field("errors", &self.errors).finish()
    }
}

/// Validation of one field, for `#[derive(Form)]`: strip, required, lengths, the text check,
/// the type's own reading, choices, and bounds; the error goes in `errors`.
#[doc(hidden)]
pub fn __clean_field<T: FormValue>(data: &FormData, field: &FormField, errors: &mut Errors) -> Option<T> {
    if let Some(read) = T::__from_files(data, field) {
        return read.map_err(|message| errors.add(field.name, message)).ok();
    }
    let raw = data.get_all(field.name);
    let values: Vec<&str> = if field.strip { raw.iter().map(|v| v.trim()).collect() } else { raw };
    match clean_values::<T>(&values, field) {
        Ok(value) => Some(value),
        Err(message) => {
            errors.add(field.name, message);
            None
        }
    }
}

fn clean_values<T: FormValue>(values: &[&str], field: &FormField) -> Result<T, String> {
    let multiple = matches!(field.input, Input::SelectMultiple);
    // A single field reads the last value sent (Django's `POST.get`), a multiple one all of them.
    let values = if multiple { values } else { values.last().map_or(&[][..], std::slice::from_ref) };
    let empty = values.iter().all(|v| v.is_empty());
    if empty && field.required && !matches!(field.input, Input::Checkbox) {
        return Err(REQUIRED.to_owned());
    }
    for text in values.iter().filter(|v| !v.is_empty()) {
        let length = text.chars().count();
        if let Some(max) = field.max_length
            && length > max as usize
        {
            return Err(format!("Ensure this value has at most {max} characters (it has {length})."));
        }
        if let Some(min) = field.min_length
            && length < min as usize
        {
            return Err(format!("Ensure this value has at least {min} characters (it has {length})."));
        }
        if let Some(message) = field.check.message(text) {
            return Err(message.to_owned());
        }
        if !field.choices.is_empty() && !field.choices.iter().any(|(value, _)| value == text) {
            return Err(invalid_choice(text));
        }
    }
    let value = T::from_form(values, field)?;
    if field.required && value.__is_empty() {
        return Err(REQUIRED.to_owned());
    }
    if let Some(max) = field.max_value
        && value.compare(max) == Some(std::cmp::Ordering::Greater)
    {
        return Err(format!("Ensure this value is less than or equal to {max}."));
    }
    if let Some(min) = field.min_value
        && value.compare(min) == Some(std::cmp::Ordering::Less)
    {
        return Err(format!("Ensure this value is greater than or equal to {min}."));
    }
    Ok(value)
}

/// Runs a field's `clean = path` hook on a valid value.
#[doc(hidden)]
pub fn __field_hook<T>(
    value: Option<T>,
    name: &str,
    hook: fn(T) -> Result<T, String>,
    errors: &mut Errors,
) -> Option<T> {
    match hook(value?) {
        Ok(value) => Some(value),
        Err(message) => {
            errors.add(name, message);
            None
        }
    }
}
