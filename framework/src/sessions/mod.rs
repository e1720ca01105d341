//! Sessions, Django's `SessionMiddleware`: per-visitor data kept between requests, read and
//! written by views through [`crate::http::Request::session`].
//!
//! List `"manouche.sessions"` in the `middleware` setting (before what reads the session); the
//! `[sessions]` section ([`SessionSettings`]) has Django's settings under their Django names
//! (`cookie_age` for `SESSION_COOKIE_AGE`, overridable as `MANOUCHE_SESSION_COOKIE_AGE`).
//!
//! A session is written only when a view changed it (or every request with
//! `save_every_request`); a request that did not touch it sets no cookie, and one that read it
//! gets `Vary: Cookie`. Stores: `database` (the default: rows of `manouche_session`, from the
//! built-in [`app`]'s migration; the cookie holds a random key only), `cache` and `cached_db`
//! (see [`CacheStore`], [`CachedDbStore`]) and `signed_cookies` (the
//! data in the cookie, signed with the secret key: a tampered or expired cookie reads as an empty
//! session); a project's own store implements [`SessionStore`].

mod cache_store;
mod database;
mod middleware;
pub mod migrations;
pub mod models;
mod session;
mod store;

pub use self::cache_store::{CacheStore, CachedDbStore};
pub use self::database::{DatabaseStore, new_session_key};
pub use self::middleware::SessionMiddleware;
pub use self::session::{Expiry, Session};
pub use self::store::{SessionStore, SignedCookieStore, StoreFuture, Stored};

/// The built-in `sessions` app: the database store's table (`manouche_session`, by its
/// migration) and the `clearsessions` command. Add it to the project for the `database` engine:
/// `Project::new(settings).app(manouche::sessions::app())`.
pub fn app() -> crate::App {
    crate::App::new("sessions")
        .migrations(concat!(env!("CARGO_MANIFEST_DIR"), "/src/sessions/migrations"), migrations::all)
        .command(database::ClearSessions)
}

/// The `[sessions]` settings, Django's `SESSION_*` names without the prefix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionSettings {
    /// Where sessions live: `database` (the default, with the `sessions` app), `cache`,
    /// `cached_db` (the database read through the cache) or `signed_cookies`.
    pub engine: String,
    /// The cache alias of the `cache` and `cached_db` engines (`SESSION_CACHE_ALIAS`).
    pub cache_alias: String,
    /// The cookie's name (`sessionid`).
    pub cookie_name: String,
    /// Seconds a session lasts (two weeks).
    pub cookie_age: u64,
    /// The cookie's domain, for sessions shared by subdomains (`.shop.example`); none: this host.
    pub cookie_domain: Option<String>,
    /// The cookie's path (`/`).
    pub cookie_path: String,
    /// Send the cookie over HTTPS only.
    pub cookie_secure: bool,
    /// Hide the cookie from JavaScript (on).
    pub cookie_httponly: bool,
    /// `Lax` (the default), `Strict` or `None`.
    pub cookie_samesite: String,
    /// End sessions when the browser closes (a cookie without `Max-Age`).
    pub expire_at_browser_close: bool,
    /// Write the session (and refresh its expiry) on every request, not only when changed.
    pub save_every_request: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            engine: "database".into(),
            cache_alias: "default".into(),
            cookie_name: "sessionid".into(),
            cookie_age: 60 * 60 * 24 * 7 * 2,
            cookie_domain: None,
            cookie_path: "/".into(),
            cookie_secure: false,
            cookie_httponly: true,
            cookie_samesite: "Lax".into(),
            expire_at_browser_close: false,
            save_every_request: false,
        }
    }
}

impl crate::conf::Section for SessionSettings {
    const NAME: &'static str = "sessions";
    const ENV_PREFIX: &'static str = "SESSION";
}

crate::register_section!(SessionSettings);
