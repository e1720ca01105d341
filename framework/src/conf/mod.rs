//! Settings: `manouche.toml` beside the project, overridden by environment variables.
//!
//! Start with [`Settings::load`]. Every value has a typed field; a bad value is an [`Error`]
//! naming the key and where it came from (the file or the environment variable).

mod database_url;
mod error;
mod section;
mod settings;

pub use self::database_url::DatabaseUrl;
pub use self::error::{Error, Origin};
pub use self::section::{Section, SectionEntry};
pub(crate) use self::section::{Sections, registered as registered_sections};
pub use self::settings::{SecretKey, Settings};
#[doc(inline)]
pub use crate::register_section;
