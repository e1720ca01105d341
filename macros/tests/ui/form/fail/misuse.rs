//! Mistakes in `#[derive(Form)]`, each reported on the user's code.

use manouche::forms::{Errors, Form};

#[derive(Form)]
struct Options {
    #[form(maxlength = 10)]
    misspelled: String,
    #[form(email, url)]
    two_inputs: String,
    #[form(choices = [("a", "A")], password)]
    choices_and_password: String,
    #[form(max_length = "ten")]
    not_a_number: String,
    #[form(choices = ["a"])]
    not_pairs: String,
}

struct Unsupported;

#[derive(Form)]
struct WrongType {
    field: Unsupported,
}

fn hook(value: i32) -> Result<i32, String> {
    Ok(value)
}

fn form_check(_: &WrongHooks) {}

#[derive(Form)]
#[form(clean = form_check)]
struct WrongHooks {
    #[form(clean = hook)]
    name: String,
}

fn data_check(_: &mut WrongHooks) {}

#[derive(Form)]
#[form(clean_data = data_check)]
struct WrongDataHook {
    name: String,
}

#[derive(Form)]
#[form(check = form_check)]
struct StructOption {
    name: String,
}

#[derive(Form)]
struct Tuple(String);

fn main() {
    let _ = Errors::default();
}
