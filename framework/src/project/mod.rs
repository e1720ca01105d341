//! Projects and apps: Django's settings module, `INSTALLED_APPS`, root URLconf and `manage.py`.
//!
//! ```no_run
//! use manouche::prelude::*;
//!
//! #[view(GET)]
//! async fn home() -> &'static str { "welcome" }
//!
//! fn main() -> std::process::ExitCode {
//!     Project::from_settings_file(concat!(env!("CARGO_MANIFEST_DIR"), "/manouche.toml"))
//!         .app(App::new("pages").urls(urlpatterns![manouche::urls::path("", home)]))
//!         .execute()
//! }
//! ```

mod app;
mod error_pages;
mod logger;
mod panic_guard;
#[allow(clippy::module_inception)]
mod project;
mod site;

pub use self::app::App;
pub use self::error_pages::{ErrorContext, ErrorHandler};
pub(crate) use self::logger::install_logger;
pub use self::project::Project;
