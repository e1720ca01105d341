//! Cross-site request forgery protection, Django's `CsrfViewMiddleware`: list `"manouche.csrf"`
//! in the `middleware` setting (new projects have it), after `manouche.sessions`.
//!
//! Each client gets a random secret, kept in the `csrftoken` cookie (or in the session with
//! `use_sessions`). Pages put a *masked* token in their forms, `{{ ctx.csrf_input() }}`: the
//! secret shifted by a random mask, different in every response (so compression cannot leak
//! it, BREACH) and unmasking to the same secret. A POST, PUT, PATCH or DELETE to a view must
//! carry such a token in the `csrfmiddlewaretoken` form field or the `X-CSRFToken` header;
//! it is compared with the secret in constant time. Before that, the `Origin` header, when
//! sent, must be this site or one of `trusted_origins`; on HTTPS without `Origin`, the `Referer`
//! must be. A failure is a 403 whose reason (Django's wording) is shown only in debug mode and
//! always logged under `manouche.security.csrf`.
//!
//! A view that authenticates its callers another way (a webhook with a signature) opts out:
//! `#[view(POST, csrf_exempt)]`. JavaScript on the site's own pages reads the token from the
//! page (or the `csrftoken` cookie) and sends it as `X-CSRFToken`. The test client skips the
//! checks unless built with [`crate::test::Client::enforce_csrf_checks`], as Django's does.
//!
//! The `[csrf]` section ([`CsrfSettings`]) has Django's `CSRF_*` settings without the prefix.

mod middleware;
mod token;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::{HttpMessage, HttpRequest};

pub use self::middleware::CsrfMiddleware;
pub use self::token::{SECRET_LENGTH, TOKEN_LENGTH};

/// The form field a token is read from (Django's name).
pub const FORM_FIELD: &str = "csrfmiddlewaretoken";
/// Where the secret is kept with `use_sessions`.
pub const SESSION_KEY: &str = "_csrftoken";

/// The `[csrf]` settings, Django's `CSRF_*` names without the prefix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CsrfSettings {
    /// The secret's cookie (`csrftoken`).
    pub cookie_name: String,
    /// Seconds the cookie lasts (a year: a form left open for days still posts).
    pub cookie_age: u64,
    /// The cookie's domain, for a secret shared by subdomains (`.shop.example`); none: this host.
    pub cookie_domain: Option<String>,
    /// The cookie's path (`/`).
    pub cookie_path: String,
    /// Send the cookie over HTTPS only.
    pub cookie_secure: bool,
    /// Hide the cookie from JavaScript (off: scripts read the token from the page or the cookie).
    pub cookie_httponly: bool,
    /// `Lax` (the default), `Strict` or `None`.
    pub cookie_samesite: String,
    /// The request header a token may come in (`X-CSRFToken`).
    pub header_name: String,
    /// Origins trusted for unsafe requests besides this site: `https://pay.example`, or with a
    /// wildcard subdomain `https://*.shop.example`. Each starts with its scheme.
    pub trusted_origins: Vec<String>,
    /// Keep the secret in the session instead of a cookie (needs `manouche.sessions` first).
    pub use_sessions: bool,
}

impl Default for CsrfSettings {
    fn default() -> Self {
        CsrfSettings {
            cookie_name: "csrftoken".into(),
            cookie_age: 60 * 60 * 24 * 7 * 52,
            cookie_domain: None,
            cookie_path: "/".into(),
            cookie_secure: false,
            cookie_httponly: false,
            cookie_samesite: "Lax".into(),
            header_name: "X-CSRFToken".into(),
            trusted_origins: Vec::new(),
            use_sessions: false,
        }
    }
}

impl crate::conf::Section for CsrfSettings {
    const NAME: &'static str = "csrf";
    const ENV_PREFIX: &'static str = "CSRF";
}

crate::register_section!(CsrfSettings);

#[derive(Debug, Default)]
struct State {
    /// The secret this response's tokens carry (Django's `META["CSRF_COOKIE"]`).
    secret: Option<String>,
    /// The secret must be (re)sent: a token was handed out, or it was rotated.
    needs_update: bool,
}

/// The CSRF state of one request, in its extensions while `manouche.csrf` runs. Cloning gives
/// another handle to the same state.
#[derive(Debug, Clone, Default)]
pub struct CsrfToken {
    state: Arc<Mutex<State>>,
}

impl CsrfToken {
    fn state(&self) -> MutexGuard<'_, State> {
        // Plain data: a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn with_secret(secret: Option<String>) -> Self {
        CsrfToken { state: Arc::new(Mutex::new(State { secret, needs_update: false })) }
    }

    /// A new masked token for forms and headers (Django's `get_token`): different on each call,
    /// each unmasking to the client's secret, which is made (and sent in the response) if the
    /// client had none.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness to give.
    pub fn masked(&self) -> crate::Result<String> {
        let mut state = self.state();
        let secret = match &state.secret {
            Some(secret) => secret.clone(),
            None => {
                let secret = token::new_secret()?;
                state.secret = Some(secret.clone());
                secret
            }
        };
        state.needs_update = true;
        drop(state);
        token::mask(&secret)
    }

    /// Replaces the client's secret (Django's `rotate_token`): login does it, so tokens taken
    /// before cannot be replayed after.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness to give.
    pub fn rotate(&self) -> crate::Result<()> {
        let secret = token::new_secret()?;
        let mut state = self.state();
        state.secret = Some(secret);
        state.needs_update = true;
        Ok(())
    }

    /// Whether this response carries a token or a new secret (so it differs per visitor).
    pub(crate) fn handed_out(&self) -> bool {
        self.state().needs_update
    }

    /// The secret to send, once: `None` when nothing asked for it.
    pub(crate) fn take_update(&self) -> Option<String> {
        let mut state = self.state();
        if std::mem::take(&mut state.needs_update) { state.secret.clone() } else { None }
    }
}

/// The request's CSRF state, when `manouche.csrf` runs.
pub fn token_of(req: &HttpRequest) -> Option<CsrfToken> {
    req.extensions().get::<CsrfToken>().cloned()
}

/// A new masked token for `req` (Django's `get_token`); see [`CsrfToken::masked`].
///
/// # Errors
///
/// [`crate::Error::ImproperlyConfigured`] when `manouche.csrf` is not in the `middleware`
/// setting; an error when the operating system has no randomness.
pub fn get_token(req: &HttpRequest) -> crate::Result<String> {
    token_of(req)
        .ok_or_else(|| {
            crate::Error::ImproperlyConfigured(
                "CSRF tokens need the `manouche.csrf` middleware: add it to `middleware` in the settings".into(),
            )
        })?
        .masked()
}

/// Gives `req`'s client a new secret (Django's `rotate_token`); nothing without the middleware.
///
/// # Errors
///
/// When the operating system has no randomness to give.
pub fn rotate_token(req: &HttpRequest) -> crate::Result<()> {
    match token_of(req) {
        Some(token) => token.rotate(),
        None => Ok(()),
    }
}

/// The hidden form field carrying a masked token: `{{ ctx.csrf_input() }}` in a `<form>`.
/// Marked safe for askama (the token is letters and digits only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsrfInput(String);

impl CsrfInput {
    pub(crate) fn new(token: Option<String>) -> Self {
        CsrfInput(
            token.map_or_else(String::new, |token| {
                format!(r#"<input type="hidden" name="{FORM_FIELD}" value="{token}">"#)
            }),
        )
    }
}

impl std::fmt::Display for CsrfInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for CsrfInput {}

/// Marks a test client's request: skip the checks (Django's `_dont_enforce_csrf_checks`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SkipChecks;
