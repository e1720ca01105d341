//! Sections of the settings file (`[sessions]`, `[csrf]`, ...): one serde struct each, with
//! its defaults, read from the file's table and overlaid by environment variables.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::{Error, Origin, Settings};

/// A `[section]` of the settings file as one typed struct. Adding a setting is adding a field
/// (with `#[serde(default)]` on the struct, its default comes from `Default`); the file's table
/// and the environment fill it, and a bad value is an error naming `section.key` and where it
/// came from.
///
/// ```
/// use manouche::conf::{Section, Settings};
///
/// #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// pub struct Newsletter {
///     pub sender: String,
///     pub batch_size: u32,
/// }
/// impl Default for Newsletter {
///     fn default() -> Self { Newsletter { sender: "news@localhost".into(), batch_size: 100 } }
/// }
/// impl Section for Newsletter {
///     const NAME: &'static str = "newsletter";
///     const ENV_PREFIX: &'static str = "NEWSLETTER";
/// }
/// manouche::conf::register_section!(Newsletter);
///
/// let env = [("MANOUCHE_NEWSLETTER_BATCH_SIZE".to_owned(), "500".to_owned())];
/// let settings = Settings::from_toml_str("[newsletter]\nsender = \"tea@shop.example\"", "/srv".as_ref(), env)?;
/// let newsletter: Newsletter = settings.section()?;
/// assert_eq!(newsletter, Newsletter { sender: "tea@shop.example".into(), batch_size: 500 });
/// # Ok::<(), manouche::conf::Error>(())
/// ```
pub trait Section: DeserializeOwned + Default {
    /// The table's name in the settings file: `sessions` for `[sessions]`.
    const NAME: &'static str;
    /// The environment's prefix: `SESSION` makes `MANOUCHE_SESSION_COOKIE_AGE` set `cookie_age`.
    const ENV_PREFIX: &'static str;
}

/// A section the settings file may hold: see [`register_section!`].
#[doc(hidden)]
#[derive(Debug)]
pub struct SectionEntry {
    /// The table's name.
    pub name: &'static str,
    /// The environment prefix.
    pub env_prefix: &'static str,
    /// Reads the section, for `check`.
    pub check: fn(&Settings) -> Result<(), Error>,
}

impl SectionEntry {
    #[doc(hidden)]
    pub const fn of<T: Section>() -> SectionEntry {
        SectionEntry { name: T::NAME, env_prefix: T::ENV_PREFIX, check: |settings| settings.section::<T>().map(drop) }
    }
}

inventory::collect!(SectionEntry);

/// Lets the settings file hold the section `T` (a `[name]` table of a name no section registers
/// is an unknown key, as a misspelled top-level key is).
#[macro_export]
macro_rules! register_section {
    ($section:ty) => {
        $crate::__private::inventory::submit! { $crate::conf::SectionEntry::of::<$section>() }
    };
}

/// The registered sections.
pub(crate) fn registered() -> impl Iterator<Item = &'static SectionEntry> {
    inventory::iter::<SectionEntry>.into_iter()
}

/// What the settings keep of the sections: the file's tables and the environment variables of
/// their prefixes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sections {
    tables: BTreeMap<String, toml::Table>,
    env: BTreeMap<String, String>,
}

impl Sections {
    /// Sets `key` of `[section]`, over the file and the environment (the test client's
    /// overrides).
    pub(crate) fn set(&mut self, section: &str, env_prefix: &str, key: &str, value: toml::Value) {
        self.tables.entry(section.to_owned()).or_default().insert(key.to_owned(), value);
        self.env.remove(&format!("MANOUCHE_{env_prefix}_{}", key.to_ascii_uppercase()));
    }

    /// Takes the registered sections' tables out of the file's top-level table, and keeps the
    /// environment variables of their prefixes.
    pub(crate) fn take(document: &mut toml::Table, env: &std::collections::HashMap<String, String>) -> Sections {
        let mut sections = Sections::default();
        for entry in registered() {
            if let Some(toml::Value::Table(table)) = document.remove(entry.name) {
                sections.tables.insert(entry.name.to_owned(), table);
            }
            let prefix = format!("MANOUCHE_{}_", entry.env_prefix);
            for (name, value) in env {
                if name.starts_with(&prefix) {
                    sections.env.insert(name.clone(), value.clone());
                }
            }
        }
        sections
    }
}

/// A value from the environment: TOML when it reads as a number, boolean or array, else text.
fn env_value(text: &str) -> toml::Value {
    let parsed: Result<toml::Table, _> = toml::from_str(&format!("v = {text}"));
    match parsed.ok().and_then(|mut t| t.remove("v")) {
        Some(
            value @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) | toml::Value::Array(_)),
        ) => value,
        _ => toml::Value::String(text.to_owned()),
    }
}

impl Settings {
    /// The `[T::NAME]` section: the file's table with `MANOUCHE_<T::ENV_PREFIX>_<KEY>` variables
    /// on top, each key's default from `T::default()`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSection`] naming `section.key` and the file or variable it came from.
    pub fn section<T: Section>(&self) -> Result<T, Error> {
        let mut table = self.sections.tables.get(T::NAME).cloned().unwrap_or_default();
        let prefix = format!("MANOUCHE_{}_", T::ENV_PREFIX);
        let mut from_env: BTreeMap<String, String> = BTreeMap::new();
        for (name, text) in &self.sections.env {
            if let Some(key) = name.strip_prefix(&prefix) {
                let key = key.to_ascii_lowercase();
                table.insert(key.clone(), env_value(text));
                from_env.insert(key, name.clone());
            }
        }
        let file_origin = self.source.clone().map_or(Origin::Default, Origin::File);
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
            let path = error.path().to_string();
            let message = error.into_inner().to_string();
            // An unknown key fails at the table itself: its name is in the message.
            let key = match path.as_str() {
                "." => message
                    .split_once("unknown field `")
                    .and_then(|(_, rest)| rest.split_once('`'))
                    .map_or_else(String::new, |(name, _)| name.to_owned()),
                _ => path,
            };
            let top = key.split(['.', '[']).next().unwrap_or_default();
            let origin = from_env.get(top).map_or(file_origin, |var| Origin::Env(var.clone()));
            Error::InvalidSection { section: T::NAME, key, origin, message }
        })
    }
}
