//! Every kind of field a form takes, with its options.

use manouche::db::{Date, DateTime, DateTimeTz, Decimal, Json, Uuid};
use manouche::forms::{Errors, Form, FormData};
use manouche::prelude::Choices;

#[derive(Choices, Clone, Copy, Debug, PartialEq)]
enum Kind {
    A,
    B,
}

fn code(code: Option<String>) -> Result<Option<String>, String> {
    Ok(code)
}

fn lower(text: String) -> Result<String, String> {
    Ok(text.to_lowercase())
}

#[derive(Form)]
#[form(clean = Every::check, clean_data = Every::check_data)]
struct Every {
    #[form(max_length = 5, min_length = 1, label = "Text", help_text = "Help", initial = "x", clean = lower)]
    text: String,
    #[form(email)]
    email: Option<String>,
    #[form(url, no_strip)]
    url: Option<String>,
    #[form(slug)]
    slug: Option<String>,
    #[form(textarea)]
    long: Option<String>,
    #[form(hidden)]
    hidden: Option<String>,
    #[form(password)]
    password: Option<String>,
    #[form(min_value = -5, max_value = 5.5)]
    small: Option<i16>,
    int: Option<i32>,
    big: Option<i64>,
    unsigned: Option<u32>,
    float: Option<f64>,
    #[form(max_digits = 4, decimal_places = 1)]
    decimal: Option<Decimal>,
    date: Option<Date>,
    datetime: Option<DateTime>,
    instant: Option<DateTimeTz>,
    time: Option<manouche::chrono::NaiveTime>,
    uuid: Option<Uuid>,
    json: Option<Json>,
    kind: Option<Kind>,
    kinds: Vec<Kind>,
    #[form(choices = [("1", "One"), (2, "Two")])]
    numbers: Vec<String>,
    #[form(required = false)]
    flag: bool,
    r#type: Option<String>,
    #[form(max_length = 100)]
    attachment: Option<manouche::forms::UploadedFile>,
    /// A hook named like its field still names the function.
    #[form(clean = code)]
    code: Option<String>,
}

impl Every {
    fn check(&mut self, _errors: &mut Errors) {}
    fn check_data(_data: &FormData, _errors: &mut Errors) {}
}

fn main() {
    let form = Every::bind(&FormData::from_pairs([("text", "ABC")]));
    assert!(form.is_valid(), "{}", form.errors());
    assert_eq!(form.cleaned().map(|e| e.text.as_str()), Some("abc"));
    assert_eq!(Every::fields()[0].label, "Text");
    assert!(Every::fields().iter().any(|f| f.name == "type"), "a raw identifier's name has no `r#`");
    assert_eq!(Every::fields().last().map(|f| f.name), Some("code"));
    assert!(form.is_multipart(), "a file field makes the form multipart");
}
