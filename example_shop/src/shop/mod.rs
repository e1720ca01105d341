//! The `shop` app: the catalogue (models, list, detail, JSON API), a cart in the session, pages,
//! a JSON health check, an archive, downloads.

pub mod accounts;
mod admin;
pub mod cart;
pub mod catalogue;
pub mod checkout;
mod middleware;
pub mod migrations;
pub mod models;
mod receivers;
mod seed;
pub mod tasks;
pub mod urls;
pub mod views;

use manouche::App;
use serde::Deserialize;

/// The `[apps.shop]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopSettings {
    /// The shop's name shown in the header.
    pub name: String,
}

impl Default for ShopSettings {
    fn default() -> Self {
        ShopSettings { name: "Manouche Shop".into() }
    }
}

/// The app, mounted at the site root.
pub fn app() -> App {
    App::new("shop")
        .urls(urls::urls())
        .static_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        .templates_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
        .migrations(concat!(env!("CARGO_MANIFEST_DIR"), "/src/shop/migrations"), migrations::all)
        .middleware("shop.timing", |settings| Ok(middleware::timing(settings.debug)))
        // Every page shows the shop's name and how many tins the cart holds.
        .context_processor(|settings| {
            let name: std::sync::Arc<str> =
                settings.app_settings::<ShopSettings>("shop").map_err(|e| e.to_string())?.name.into();
            Ok(move |req: &manouche::http::Request, vars: &mut manouche::templates::ContextVars| {
                vars.insert("shop_name", std::sync::Arc::clone(&name));
                cart::cart_count(req, vars);
            })
        })
        .command(seed::Seed)
        .auth_backend("shop.EmailBackend", accounts::EmailBackend)
}
