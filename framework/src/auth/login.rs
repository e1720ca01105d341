//! `authenticate`, `login`, `logout`: Django's session-based authentication.

use std::sync::Arc;

use actix_web::HttpMessage as _;
use diesel::ExpressionMethods as _;

use super::hashers::Hasher;
use super::{AuthSettings, RequestUser, User};
use crate::db::Model as _;
use crate::http::Request;
use crate::signals::Signal;

/// The session key holding the logged-in user's id (Django's name).
pub const SESSION_KEY: &str = "_auth_user_id";
/// The session key naming the backend that authenticated the user (Django's name).
pub const BACKEND_SESSION_KEY: &str = "_auth_user_backend";
/// The session key holding the hash that ties the session to the password (Django's name).
pub const HASH_SESSION_KEY: &str = "_auth_user_hash";
/// The one backend: users of the `auth_user` table with their passwords.
pub const MODEL_BACKEND: &str = "manouche.auth.ModelBackend";

/// Sent after a successful [`login`] (Django's `user_logged_in`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UserLoggedIn {
    /// Who logged in.
    pub user: Arc<User>,
}

/// Sent by [`logout`] (Django's `user_logged_out`); `None` when nobody was logged in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UserLoggedOut {
    /// Who logged out.
    pub user: Option<Arc<User>>,
}

/// Sent when [`authenticate`] refuses credentials (Django's `user_login_failed`); the password
/// is never part of it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UserLoginFailed {
    /// The username that was tried.
    pub username: String,
}

/// Django's `user_logged_in`.
pub static USER_LOGGED_IN: Signal<UserLoggedIn> = Signal::new("user_logged_in");
/// Django's `user_logged_out`.
pub static USER_LOGGED_OUT: Signal<UserLoggedOut> = Signal::new("user_logged_out");
/// Django's `user_login_failed`.
pub static USER_LOGIN_FAILED: Signal<UserLoginFailed> = Signal::new("user_login_failed");

/// The value tying a session to the user's current password (Django's
/// `get_session_auth_hash`): changing the password logs out the user's other sessions.
pub fn session_auth_hash(user: &User, secret: &str) -> String {
    crate::signing::salted_hmac_hex(
        "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
        &user.password,
        secret,
    )
}

/// The secret key sessions and reset links are signed with.
pub(crate) fn secret(req: &Request) -> crate::Result<String> {
    req.settings().secret_key.as_ref().map(|k| k.expose().to_owned()).ok_or_else(|| {
        crate::Error::ImproperlyConfigured(
            "authentication signs sessions and reset links with `secret_key`: set it".into(),
        )
    })
}

/// Checks a username and password (Django's `authenticate`): each backend of `auth.backends`
/// in order, the first that knows the user wins (`None` when none does). Runs on the blocking
/// pool. With the model backend an unknown username costs a password hash too, so timing does
/// not tell which usernames exist, and a correct password stored with an outdated algorithm or
/// iteration count is re-hashed and saved.
///
/// # Errors
///
/// A database error, or a bad `[auth]` setting.
pub async fn authenticate(req: &Request, username: &str, password: &str) -> crate::Result<Option<User>> {
    let settings: AuthSettings = req.settings().section()?;
    let hasher = settings.hasher().map_err(crate::Error::ImproperlyConfigured)?;
    // Copied once: the backends run on the blocking pool.
    let backends = crate::http::with_auth_backends(req, <[_]>::to_vec);
    let (name, pass) = (username.to_owned(), password.to_owned());
    let found = req
        .db()
        .run(move |conn| {
            let credentials = super::backends::Credentials::new(&name, &pass);
            for (backend_name, backend) in &backends {
                if let Some(user) = backend.authenticate(conn, &credentials, &hasher)? {
                    return Ok(Some((backend_name.clone(), user)));
                }
            }
            Ok(None)
        })
        .await?;
    let Some((backend, user)) = found else {
        if USER_LOGIN_FAILED.has_receivers() {
            USER_LOGIN_FAILED.send(&UserLoginFailed { username: username.to_owned() });
        }
        return Ok(None);
    };
    req.extensions_mut().insert(AuthenticatedBy { user: user.id, backend });
    Ok(Some(user))
}

/// Which backend [`authenticate`] found a user with, for [`login`] to record.
#[derive(Debug, Clone)]
struct AuthenticatedBy {
    user: i64,
    backend: String,
}

/// Logs `user` in for this session (Django's `login`): a new session key (no fixation), or a
/// flushed session when another user was logged in; the user's id, backend and password hash
/// stored; a new CSRF secret; `last_login` updated; `user_logged_in` sent.
///
/// # Errors
///
/// [`crate::Error::ImproperlyConfigured`] without the sessions middleware or a secret key; a
/// database error.
pub async fn login(req: &Request, user: &User) -> crate::Result<()> {
    let session = req.session()?;
    let hash = session_auth_hash(user, &secret(req)?);
    let previous: Option<String> = session.get(SESSION_KEY).ok().flatten();
    let previous_hash: Option<String> = session.get(HASH_SESSION_KEY).ok().flatten();
    let same_user = previous.as_deref() == Some(user.id.to_string().as_str());
    if previous.is_some() && (!same_user || previous_hash.as_deref() != Some(hash.as_str())) {
        session.flush();
    } else {
        session.cycle_key();
    }
    session.insert(SESSION_KEY, &user.id.to_string())?;
    let authenticated_by =
        req.extensions().get::<AuthenticatedBy>().filter(|a| a.user == user.id).map(|a| a.backend.clone());
    let backend = authenticated_by
        .or_else(|| crate::http::with_auth_backends(req, |backends| backends.first().map(|(name, _)| name.clone())))
        .unwrap_or_else(|| MODEL_BACKEND.to_owned());
    session.insert(BACKEND_SESSION_KEY, &backend)?;
    session.insert(HASH_SESSION_KEY, &hash)?;
    crate::csrf::rotate_token(req)?;
    let now = crate::db::now();
    let id = user.id;
    req.db()
        .run(move |conn| User::objects().filter(User::id.eq(id)).update_sync(conn, User::last_login.eq(Some(now))))
        .await?;
    let user = Arc::new(User { last_login: Some(now), ..user.clone() });
    req.extensions_mut().insert(RequestUser::User(Arc::clone(&user)));
    if USER_LOGGED_IN.has_receivers() {
        USER_LOGGED_IN.send(&UserLoggedIn { user });
    }
    Ok(())
}

/// Logs the user out (Django's `logout`): `user_logged_out` sent, the session flushed (data and
/// key), the request's user anonymous.
///
/// # Errors
///
/// [`crate::Error::ImproperlyConfigured`] without the sessions middleware.
pub fn logout(req: &Request) -> crate::Result<()> {
    let session = req.session()?;
    let user = req.extensions().get::<RequestUser>().and_then(RequestUser::shared);
    if USER_LOGGED_OUT.has_receivers() {
        USER_LOGGED_OUT.send(&UserLoggedOut { user });
    }
    session.flush();
    req.extensions_mut().insert(RequestUser::Anonymous);
    Ok(())
}

/// After a password change, keeps the current session logged in (Django's
/// `update_session_auth_hash`); the user's other sessions end.
///
/// # Errors
///
/// As [`login`].
pub fn update_session_auth_hash(req: &Request, user: &User) -> crate::Result<()> {
    let session = req.session()?;
    session.cycle_key();
    session.insert(HASH_SESSION_KEY, &session_auth_hash(user, &secret(req)?))?;
    req.extensions_mut().insert(RequestUser::User(Arc::new(user.clone())));
    Ok(())
}

/// The user a session names, if it still may be (Django's `get_user`): the row exists, is
/// active, and the session's hash matches the current password. Runs on the connection given.
pub(crate) fn user_of_session(
    conn: &mut crate::db::Connection,
    backend: &dyn super::backends::AuthBackend,
    id: &str,
    hash: Option<&str>,
    secret: &str,
) -> Result<Option<User>, crate::db::Error> {
    let Ok(id) = id.parse::<i64>() else { return Ok(None) };
    let Some(user) = backend.get_user(conn, id)? else { return Ok(None) };
    let current = session_auth_hash(&user, secret);
    let verified = hash.is_some_and(|h| bool::from(subtle::ConstantTimeEq::ct_eq(h.as_bytes(), current.as_bytes())));
    Ok((verified && user.is_active).then_some(user))
}

/// What [`Hasher`] a project's settings choose, for code hashing outside a request.
///
/// # Errors
///
/// A bad `[auth]` setting, named.
pub fn hasher(settings: &crate::conf::Settings) -> crate::Result<Hasher> {
    let section: AuthSettings = settings.section()?;
    section.hasher().map_err(crate::Error::ImproperlyConfigured)
}
