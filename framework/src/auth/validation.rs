//! Password validators, Django's `AUTH_PASSWORD_VALIDATORS`: the four Django ships, with its
//! messages and defaults, configured in the `[auth]` section:
//!
//! ```toml
//! [[auth.password_validators]]
//! name = "user_attribute_similarity"   # max_similarity = 0.7, user_attributes = [...]
//! [[auth.password_validators]]
//! name = "minimum_length"
//! min_length = 12
//! [[auth.password_validators]]
//! name = "common_password"
//! [[auth.password_validators]]
//! name = "numeric_password"
//! ```
//!
//! Without the key, all four run with Django's defaults (as in a new Django project);
//! `password_validators = []` turns them off.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The 20,000 most common passwords (lower case), the list Django ships (compiled by Royce
/// Williams from breach corpora).
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

fn default_attributes() -> Vec<String> {
    ["username", "first_name", "last_name", "email"].iter().map(|s| (*s).to_owned()).collect()
}

fn default_similarity() -> f64 {
    0.7
}

fn default_min_length() -> usize {
    8
}

/// One validator and its options, by Django's class (`name = "minimum_length"` for
/// `MinimumLengthValidator`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum PasswordValidator {
    /// Too similar to the user's username, names or e-mail (or their parts).
    UserAttributeSimilarity {
        /// The attributes compared (`username`, `first_name`, `last_name`, `email`).
        #[serde(default = "default_attributes")]
        user_attributes: Vec<String>,
        /// How similar is too similar, 0.1 to 1 (0.7).
        #[serde(default = "default_similarity")]
        max_similarity: f64,
    },
    /// Shorter than `min_length` characters (8).
    MinimumLength {
        /// The fewest characters accepted.
        #[serde(default = "default_min_length")]
        min_length: usize,
    },
    /// One of the 20,000 most common passwords, compared in lower case.
    CommonPassword,
    /// Only digits.
    NumericPassword,
}

/// Django's four validators with their defaults.
pub fn default_validators() -> Vec<PasswordValidator> {
    vec![
        PasswordValidator::UserAttributeSimilarity {
            user_attributes: default_attributes(),
            max_similarity: default_similarity(),
        },
        PasswordValidator::MinimumLength { min_length: default_min_length() },
        PasswordValidator::CommonPassword,
        PasswordValidator::NumericPassword,
    ]
}

/// Django's verbose name of a user attribute, for the similarity message.
fn verbose_name(attribute: &str) -> String {
    match attribute {
        "email" => "email address".into(),
        other => other.replace('_', " "),
    }
}

/// difflib's `SequenceMatcher(a, b).quick_ratio()`: twice the characters in common (as
/// multisets) over the total length.
fn quick_ratio(a: &str, b: &str) -> f64 {
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for c in b.chars() {
        *available.entry(c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a.chars() {
        if let Some(n) = available.get_mut(&c)
            && *n > 0
        {
            *n -= 1;
            matches += 1;
        }
    }
    // Character counts of a password: far below f64's exact range.
    #[allow(clippy::cast_precision_loss)]
    let ratio = 2.0 * matches as f64 / total as f64;
    ratio
}

/// Django's `exceeds_maximum_length_ratio`: a short value inside a much longer password is
/// not a similarity.
#[allow(clippy::cast_precision_loss)]
fn exceeds_length_ratio(password: &str, max_similarity: f64, value: &str) -> bool {
    let (pwd_len, value_len) = (password.chars().count(), value.chars().count());
    pwd_len >= 10 * value_len && (value_len as f64) < max_similarity / 2.0 * pwd_len as f64
}

impl PasswordValidator {
    /// Checks `password` for a user with these `(attribute, value)` pairs (none for a user not
    /// yet known); `Err` holds Django's message.
    ///
    /// # Errors
    ///
    /// The message when the password is refused.
    pub fn validate(&self, password: &str, user: &[(&str, &str)]) -> Result<(), String> {
        match self {
            PasswordValidator::MinimumLength { min_length } => {
                if password.chars().count() < *min_length {
                    let plural = if *min_length == 1 { "character" } else { "characters" };
                    return Err(format!("This password is too short. It must contain at least {min_length} {plural}."));
                }
            }
            PasswordValidator::CommonPassword => {
                if common_passwords().contains(password.to_lowercase().trim()) {
                    return Err("This password is too common.".into());
                }
            }
            PasswordValidator::NumericPassword => {
                if !password.is_empty() && password.chars().all(char::is_numeric) {
                    return Err("This password is entirely numeric.".into());
                }
            }
            PasswordValidator::UserAttributeSimilarity { user_attributes, max_similarity } => {
                let password = password.to_lowercase();
                for attribute in user_attributes {
                    let Some((_, value)) = user.iter().find(|(name, _)| name == attribute) else { continue };
                    if value.is_empty() {
                        continue;
                    }
                    let value = value.to_lowercase();
                    let mut parts: Vec<&str> = value.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
                    parts.push(&value);
                    for part in parts {
                        if exceeds_length_ratio(&password, *max_similarity, part) {
                            continue;
                        }
                        if quick_ratio(&password, part) >= *max_similarity {
                            return Err(format!("The password is too similar to the {}.", verbose_name(attribute)));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// What the rule asks, for a form's help text (Django's `get_help_text`).
    pub fn help_text(&self) -> String {
        match self {
            PasswordValidator::UserAttributeSimilarity { .. } => {
                "Your password can’t be too similar to your other personal information.".into()
            }
            PasswordValidator::MinimumLength { min_length } => {
                let plural = if *min_length == 1 { "character" } else { "characters" };
                format!("Your password must contain at least {min_length} {plural}.")
            }
            PasswordValidator::CommonPassword => "Your password can’t be a commonly used password.".into(),
            PasswordValidator::NumericPassword => "Your password can’t be entirely numeric.".into(),
        }
    }

    /// A bad option, named (Django refuses `max_similarity` below 0.1).
    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            PasswordValidator::UserAttributeSimilarity { max_similarity, .. }
                if !(0.1..=1.0).contains(max_similarity) =>
            {
                Err(format!("`max_similarity` must be 0.1 to 1, not {max_similarity}"))
            }
            _ => Ok(()),
        }
    }
}

/// Runs every validator (Django's `validate_password`); `Err` holds all their messages.
///
/// # Errors
///
/// The messages of the validators that refused the password, in order.
pub fn validate_password(
    password: &str,
    user: &[(&str, &str)],
    validators: &[PasswordValidator],
) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validators.iter().filter_map(|v| v.validate(password, user).err()).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &[(&str, &str)] = &[
        ("username", "ada_lovelace"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("email", "ada@engine.example"),
    ];

    #[test]
    fn djangos_messages_for_each_rule() {
        let all = default_validators();
        assert_eq!(
            validate_password("1234567", &[], &all).unwrap_err(),
            [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric."
            ]
        );
        assert_eq!(validate_password("PassWord", &[], &all).unwrap_err(), ["This password is too common."]);
        // Values made by Django 5.2's validators for the same user.
        assert_eq!(
            validate_password("lovelace1", USER, &all).unwrap_err(),
            ["The password is too similar to the username."]
        );
        assert_eq!(
            validate_password("engine.example", USER, &all).unwrap_err(),
            ["The password is too similar to the email address."]
        );
        assert_eq!(
            validate_password("ada@engine", USER, &all).unwrap_err(),
            ["The password is too similar to the email address."]
        );
        assert!(validate_password("ada@engine", &[], &all).is_ok(), "no user, no similarity check");
        assert!(validate_password("velvet-teapot-42", USER, &all).is_ok());
        let one = PasswordValidator::MinimumLength { min_length: 1 };
        assert_eq!(
            one.validate("", &[]).unwrap_err(),
            "This password is too short. It must contain at least 1 character."
        );
    }

    #[test]
    fn a_short_attribute_inside_a_long_password_is_not_similar() {
        let similarity = &default_validators()[0];
        assert!(similarity.validate("adaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", USER).is_ok());
        assert_eq!(quick_ratio("abcd", "dcba"), 1.0);
        assert_eq!(quick_ratio("", ""), 1.0);
    }

    #[test]
    fn settings_read_like_djangos_list() {
        #[derive(serde::Deserialize)]
        struct Doc {
            password_validators: Vec<PasswordValidator>,
        }
        let doc: Doc = toml::from_str(
            "[[password_validators]]\nname = \"minimum_length\"\nmin_length = 12\n[[password_validators]]\nname = \"numeric_password\"\n",
        )
        .unwrap();
        assert_eq!(
            doc.password_validators,
            [PasswordValidator::MinimumLength { min_length: 12 }, PasswordValidator::NumericPassword]
        );
        assert!(toml::from_str::<Doc>("[[password_validators]]\nname = \"minimum_lenght\"\n").is_err());
    }
}
