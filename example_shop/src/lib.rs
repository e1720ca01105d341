//! The Manouche example shop: a project built only on the framework's public API.

pub mod shop;

use manouche::prelude::*;

/// The shop project: settings from `manouche.toml` (or `MANOUCHE_SETTINGS`) and its apps.
pub fn project() -> Project {
    configure(Project::from_settings_file(concat!(env!("CARGO_MANIFEST_DIR"), "/manouche.toml")))
}

/// Adds the shop's apps and error pages to a project (tests give it their own settings).
pub fn configure(project: Project) -> Project {
    project
        .app(manouche::sessions::app())
        .app(manouche::auth::app())
        .app(manouche::admin::app())
        .app(manouche::tasks::app())
        .app(shop::app())
        .error_page(manouche::http::StatusCode::NOT_FOUND, shop::views::not_found)
}
