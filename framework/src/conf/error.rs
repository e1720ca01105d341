use std::fmt;
use std::path::PathBuf;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The settings file.
    File(PathBuf),
    /// An environment variable, e.g. `MANOUCHE_DEBUG` or `DATABASE_URL`.
    Env(String),
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "settings file {}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Default => f.write_str("the default value"),
        }
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings file could not be read.
    #[error("cannot read settings file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The settings file is not valid TOML or has an unknown key or a value of the wrong type.
    #[error("invalid settings file {}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the parser said, with the line and the key.
        message: String,
    },
    /// A value has the right type but is not acceptable.
    #[error("invalid value for `{key}` from {origin}: {message}")]
    Invalid {
        /// The setting, e.g. `allowed_hosts`.
        key: &'static str,
        /// Where the value came from.
        origin: Origin,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A value of a `[section]` does not fit it.
    #[error("invalid value for `{section}.{key}` from {origin}: {message}")]
    InvalidSection {
        /// The section, e.g. `sessions`.
        section: &'static str,
        /// The key within it, e.g. `cookie_age`.
        key: String,
        /// Where the value came from.
        origin: Origin,
        /// What is wrong and what is expected.
        message: String,
    },
    /// `debug` is off and no secret key is set.
    #[error(
        "`secret_key` is required when `debug` is false: set it in {} or in the SECRET_KEY environment variable",
        path.display()
    )]
    MissingSecretKey {
        /// The settings file that was read.
        path: PathBuf,
    },
}
