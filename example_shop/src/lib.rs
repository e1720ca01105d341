//! The Manouche example shop: a project built only on the framework's public API.

pub mod shop;

use manouche::prelude::*;

/// The shop project: settings from `manouche.toml` (or `MANOUCHE_SETTINGS`) and its apps.
pub fn project() -> Project {
    Project::from_settings_file(concat!(env!("CARGO_MANIFEST_DIR"), "/manouche.toml"))
        .app(shop::app())
        .error_page(manouche::http::StatusCode::NOT_FOUND, shop::views::not_found)
}
