//! Authentication backends, Django's `AUTHENTICATION_BACKENDS`: who a set of credentials
//! identifies. `authenticate` asks each backend the `auth.backends` setting lists, in order;
//! the first that knows the user wins, and the session remembers which one it was.

use std::sync::Arc;

use diesel::ExpressionMethods as _;

use super::User;
use super::hashers::{self, Hasher};
use crate::db::{Connection, Model as _};

/// What a login form gives.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Credentials<'a> {
    /// What the visitor typed as their name (a username, or an e-mail for a backend that
    /// accepts one).
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
}

impl<'a> Credentials<'a> {
    /// Credentials from a form.
    pub fn new(username: &'a str, password: &'a str) -> Self {
        Credentials { username, password }
    }
}

/// A way to identify users. Runs on the blocking pool with a connection; `hasher` is the
/// project's, for re-hashing outdated passwords.
pub trait AuthBackend: Send + Sync + 'static {
    /// The active user the credentials identify, or `None` (let the next backend try).
    ///
    /// # Errors
    ///
    /// A database error (which stops the login: it is not a refusal).
    fn authenticate(
        &self,
        conn: &mut Connection,
        credentials: &Credentials<'_>,
        hasher: &Hasher,
    ) -> Result<Option<User>, crate::db::Error>;

    /// The user a session names (by key), if this backend still vouches for them.
    ///
    /// # Errors
    ///
    /// A database error.
    fn get_user(&self, conn: &mut Connection, id: i64) -> Result<Option<User>, crate::db::Error> {
        match User::objects().get_by_pk_sync(conn, id) {
            Ok(user) => Ok(Some(user)),
            Err(crate::db::Error::DoesNotExist { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// Checks `password` against `user` as Django's model backend does: an unusable password, a
/// wrong one or an inactive user is `None`; a right one stored with an outdated hasher is
/// re-hashed and saved. For backends that find the user their own way.
///
/// # Errors
///
/// A database error saving the new hash.
pub fn check_user_password(
    conn: &mut Connection,
    user: User,
    password: &str,
    hasher: &Hasher,
) -> Result<Option<User>, crate::db::Error> {
    if !hashers::verify(password, &user.password) || !user.is_active {
        return Ok(None);
    }
    if hasher.must_update(&user.password)
        && let Ok(encoded) = hasher.encode(password)
    {
        User::objects().filter(User::id.eq(user.id)).update_sync(conn, User::password.eq(encoded.clone()))?;
        return Ok(Some(User { password: encoded, ..user }));
    }
    Ok(Some(user))
}

/// Runs the password hasher once for nothing: an unknown user costs what a known one does, so
/// the time of a refusal does not tell which usernames exist.
pub fn burn_a_hash(password: &str, hasher: &Hasher) {
    let _ = hasher.encode(password);
}

/// Users of the `auth_user` table by username and password (Django's `ModelBackend`):
/// `"manouche.auth.ModelBackend"` in `auth.backends`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelBackend;

impl AuthBackend for ModelBackend {
    fn authenticate(
        &self,
        conn: &mut Connection,
        credentials: &Credentials<'_>,
        hasher: &Hasher,
    ) -> Result<Option<User>, crate::db::Error> {
        let name = credentials.username.to_owned();
        match User::objects().filter(User::username.eq(name)).first_sync(conn)? {
            Some(user) => check_user_password(conn, user, credentials.password, hasher),
            None => {
                burn_a_hash(credentials.password, hasher);
                Ok(None)
            }
        }
    }
}

/// A backend under the name the settings list it by.
pub type NamedBackend = (String, Arc<dyn AuthBackend>);

impl std::fmt::Debug for dyn AuthBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthBackend")
    }
}
