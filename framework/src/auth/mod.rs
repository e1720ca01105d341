//! Authentication: Django's `django.contrib.auth`. Users, groups and permissions (the built-in
//! `auth` app, [`app`]), passwords hashed as Django hashes them ([`hashers`]) and checked by
//! Django's validators ([`validation`]), [`authenticate`], [`login`] and [`logout`] on the
//! session, and the `manouche.auth` middleware ([`AuthenticationMiddleware`]) that gives every
//! request its user: `req.user()?` in views, `ctx.user()` in templates.
//!
//! ```toml
//! middleware = ["manouche.security", "manouche.sessions", "manouche.csrf", "manouche.auth"]
//!
//! [auth]                                  # Django's names; MANOUCHE_AUTH_LOGIN_URL=... overrides
//! password_hashers = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2"]   # the first hashes new passwords
//! pbkdf2_iterations = 1200000
//! login_url = "/accounts/login/"
//! login_redirect_url = "/accounts/profile/"
//! ```
//!
//! Extra data about users goes in a model of the project with a one-to-one key to [`User`]
//! (`#[field(on_delete = cascade, unique)] pub user: OneToOne<User>`), as Django recommends.

pub mod backends;
mod commands;
mod guards;
pub mod hashers;
mod login;
mod middleware;
pub mod migrations;
pub mod models;
mod permissions;
pub mod perms;
pub mod tokens;
pub mod validation;
pub mod views;

use std::sync::Arc;

pub use self::guards::{Guard, check as check_guard, redirect_to_login};
pub use self::login::{
    BACKEND_SESSION_KEY, HASH_SESSION_KEY, MODEL_BACKEND, SESSION_KEY, USER_LOGGED_IN, USER_LOGGED_OUT,
    USER_LOGIN_FAILED, UserLoggedIn, UserLoggedOut, UserLoginFailed, authenticate, hasher, login, logout,
    session_auth_hash, update_session_auth_hash,
};
pub use self::middleware::AuthenticationMiddleware;
pub use self::models::{Group, Permission, User};
pub use self::perms::{
    PermissionName, Permissions, get_all_permissions, get_group_permissions, get_user_permissions, has_module_perms,
    has_perm, has_perms,
};
use self::validation::PasswordValidator;

/// Checks a view's guard: what `#[login_required]` and its kin expand to.
#[doc(hidden)]
pub async fn __guard(req: &actix_web::HttpRequest, guard: Guard) -> crate::Result<Option<actix_web::HttpResponse>> {
    guards::check(&crate::http::Request::new(req.clone()), guard).await
}

/// The built-in `auth` app: the `auth_user`, `auth_group` and `auth_permission` tables (and their
/// many-to-many tables) by its migration, the permissions of every model created after each
/// `migrate`, and the login and logout views at `accounts/login/` and `accounts/logout/`
/// (reversed as `auth:login`, `auth:logout`; `.mount("users/")` moves them, with the
/// `auth.login_url` setting). Add it with the sessions app:
/// `Project::new(settings).app(manouche::sessions::app()).app(manouche::auth::app())`.
pub fn app() -> crate::App {
    crate::App::new("auth")
        .mount("accounts/")
        .urls(crate::urlpatterns![
            crate::urls::path("login/", views::login),
            crate::urls::path("logout/", views::logout),
            crate::urls::path("password_change/", views::password_change),
            crate::urls::path("password_change/done/", views::password_change_done),
            crate::urls::path("password_reset/", views::password_reset),
            crate::urls::path("password_reset/done/", views::password_reset_done),
            crate::urls::path("reset/{uidb64}/{token}/", views::password_reset_confirm),
            crate::urls::path("reset/done/", views::password_reset_complete),
        ])
        .migrations(concat!(env!("CARGO_MANIFEST_DIR"), "/src/auth/migrations"), migrations::all)
        .post_migrate(permissions::sync)
        .command(commands::CreateSuperuser)
        .command(commands::ChangePassword)
}

/// The `[auth]` settings, Django's names.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthSettings {
    /// The hashers passwords may be stored with; the first hashes new ones, and a stored hash of
    /// another is re-hashed at login (Django's `PASSWORD_HASHERS`).
    pub password_hashers: Vec<String>,
    /// PBKDF2 iterations for new hashes (Django 6's 1,200,000); lower only in tests.
    pub pbkdf2_iterations: u32,
    /// Django's `AUTH_PASSWORD_VALIDATORS`; all four by default.
    pub password_validators: Vec<PasswordValidator>,
    /// Where `#[login_required]` sends anonymous visitors (`/accounts/login/`).
    pub login_url: String,
    /// Where login goes without a `next` (`/accounts/profile/`).
    pub login_redirect_url: String,
    /// Where logout goes; none: the logged-out page.
    pub logout_redirect_url: Option<String>,
    /// Seconds a password-reset link stays valid (three days).
    pub password_reset_timeout: u64,
    /// The authentication backends tried in order (Django's `AUTHENTICATION_BACKENDS`):
    /// `manouche.auth.ModelBackend` and those apps register with `App::auth_backend`.
    pub backends: Vec<String>,
    /// A rate limit on login attempts (`POST` to the login view), counted per client address
    /// and per username, e.g. `"5/m"`; past it the answer is 429 (none by default).
    pub login_rate: Option<String>,
    /// The cache alias the login counters live in.
    pub login_rate_cache: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            password_hashers: vec!["pbkdf2_sha256".into(), "pbkdf2_sha1".into(), "argon2".into()],
            pbkdf2_iterations: hashers::PBKDF2_ITERATIONS,
            password_validators: validation::default_validators(),
            login_url: "/accounts/login/".into(),
            login_redirect_url: "/accounts/profile/".into(),
            logout_redirect_url: None,
            password_reset_timeout: 60 * 60 * 24 * 3,
            backends: vec![MODEL_BACKEND.to_owned()],
            login_rate: None,
            login_rate_cache: "default".into(),
        }
    }
}

impl crate::conf::Section for AuthSettings {
    const NAME: &'static str = "auth";
    const ENV_PREFIX: &'static str = "AUTH";
}

crate::register_section!(AuthSettings);

impl AuthSettings {
    /// How new passwords are hashed.
    ///
    /// # Errors
    ///
    /// A message naming the setting: an unknown hasher, none, or a bad validator option.
    pub fn hasher(&self) -> Result<hashers::Hasher, String> {
        for name in &self.password_hashers {
            if hashers::Algorithm::from_name(name).is_none() {
                return Err(format!(
                    "unknown `auth.password_hashers` entry `{name}`; expected `pbkdf2_sha256`, `pbkdf2_sha1` or `argon2`"
                ));
            }
        }
        for validator in &self.password_validators {
            validator.check().map_err(|e| format!("`auth.password_validators`: {e}"))?;
        }
        let first = self.password_hashers.first().ok_or("`auth.password_hashers` is empty: list at least one")?;
        if self.pbkdf2_iterations == 0 {
            return Err("`auth.pbkdf2_iterations` must be at least 1".into());
        }
        let algorithm = hashers::Algorithm::from_name(first).unwrap_or(hashers::Algorithm::Pbkdf2Sha256);
        Ok(hashers::Hasher { algorithm, iterations: self.pbkdf2_iterations })
    }
}

/// The user of a request: a [`User`] or the anonymous visitor (Django's `request.user`, with
/// `AnonymousUser`). Cloning is cheap.
#[derive(Debug, Clone, Default)]
pub enum RequestUser {
    /// Nobody logged in.
    #[default]
    Anonymous,
    /// A logged-in user.
    User(Arc<User>),
}

impl RequestUser {
    /// Whether someone is logged in.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, RequestUser::User(_))
    }

    /// Whether nobody is logged in.
    pub fn is_anonymous(&self) -> bool {
        !self.is_authenticated()
    }

    /// The logged-in user.
    pub fn get(&self) -> Option<&User> {
        match self {
            RequestUser::User(user) => Some(user),
            RequestUser::Anonymous => None,
        }
    }

    pub(crate) fn shared(&self) -> Option<Arc<User>> {
        match self {
            RequestUser::User(user) => Some(Arc::clone(user)),
            RequestUser::Anonymous => None,
        }
    }

    /// The user's key, none when anonymous.
    pub fn id(&self) -> Option<i64> {
        self.get().map(|u| u.id)
    }

    /// The username, `""` when anonymous (as Django's `AnonymousUser`).
    pub fn username(&self) -> &str {
        self.get().map_or("", |u| u.username.as_str())
    }

    /// Staff may use the admin; never the anonymous user.
    pub fn is_staff(&self) -> bool {
        self.get().is_some_and(|u| u.is_staff && u.is_active)
    }

    /// Has every permission; never the anonymous user.
    pub fn is_superuser(&self) -> bool {
        self.get().is_some_and(|u| u.is_superuser && u.is_active)
    }
}

/// Django's username rule (`UnicodeUsernameValidator` and `max_length = 150`), with its messages.
///
/// # Errors
///
/// The message when `username` is blank, too long, or holds other than letters, digits and
/// `@.+-_`.
pub fn validate_username(username: &str) -> Result<(), String> {
    if username.is_empty() {
        return Err("This field cannot be blank.".into());
    }
    let length = username.chars().count();
    if length > 150 {
        return Err(format!("Ensure this value has at most 150 characters (it has {length})."));
    }
    if !username.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-')) {
        return Err(
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".into()
        );
    }
    Ok(())
}

/// A blank address, or one Django's `EmailValidator` accepts ([`crate::forms::is_email`]).
///
/// # Errors
///
/// "Enter a valid email address." otherwise.
pub fn validate_email(email: &str) -> Result<(), String> {
    if email.is_empty() || crate::forms::is_email(email) { Ok(()) } else { Err("Enter a valid email address.".into()) }
}
