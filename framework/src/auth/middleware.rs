//! `manouche.auth`: Django's `AuthenticationMiddleware`, the user of each request.

use std::sync::Arc;

use actix_web::{HttpMessage, HttpResponse};

use super::RequestUser;
use super::login::{BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, user_of_session};
use crate::conf::Settings;
use crate::middleware::{Middleware, MiddlewareFuture, Next, ServiceRequest};

/// Puts the request's user (or the anonymous user) where [`crate::http::Request::user`] and
/// templates find it: one query for a session that names a user, none otherwise. A session
/// whose user is gone, inactive, or whose password changed since login is flushed (logged out).
#[derive(Debug)]
pub struct AuthenticationMiddleware {
    /// Shared with the blocking closure of each request without a copy.
    secret: Arc<str>,
}

impl AuthenticationMiddleware {
    /// The middleware for the settings.
    ///
    /// # Errors
    ///
    /// Without `secret_key`, or when `manouche.sessions` does not come before `manouche.auth`
    /// in `middleware`.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let position = |name: &str| settings.middleware.iter().position(|m| m == name);
        if let (sessions, Some(auth)) = (position("manouche.sessions"), position("manouche.auth"))
            && sessions.is_none_or(|s| s > auth)
        {
            return Err(
                "users are kept in the session: list `manouche.sessions` before `manouche.auth` in `middleware`".into(),
            );
        }
        let secret = settings.secret_key.as_ref().ok_or("authentication needs `secret_key`: set it")?;
        Ok(AuthenticationMiddleware { secret: Arc::from(secret.expose()) })
    }
}

impl Middleware for AuthenticationMiddleware {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            let session = req.extensions().get::<crate::sessions::Session>().cloned();
            let named = session.as_ref().and_then(|s| s.peek_text(SESSION_KEY));
            let user = match (session, named) {
                (Some(session), Some(id)) => {
                    let hash = session.peek_text(HASH_SESSION_KEY);
                    let secret = Arc::clone(&self.secret);
                    let db = crate::http::Request::new(req.request().clone()).db();
                    // The backend that logged the user in, if the settings still list it.
                    let named = session.peek_text(BACKEND_SESSION_KEY);
                    let backend = crate::http::with_auth_backends(req.request(), |backends| {
                        backends.iter().find(|(name, _)| Some(name) == named.as_ref()).map(|(_, b)| Arc::clone(b))
                    });
                    let found = match backend {
                        Some(backend) => {
                            db.run(move |conn| user_of_session(conn, backend.as_ref(), &id, hash.as_deref(), &secret))
                                .await
                        }
                        None => Ok(None),
                    };
                    match found {
                        Ok(Some(user)) => RequestUser::User(Arc::new(user)),
                        Ok(None) => {
                            session.flush();
                            RequestUser::Anonymous
                        }
                        Err(error) => {
                            log::error!(target: "manouche.auth", "the request's user could not be loaded: {error}");
                            let status = crate::Error::from(error).status();
                            return req
                                .into_response(HttpResponse::build(status).body("The user could not be loaded."));
                        }
                    }
                }
                _ => RequestUser::Anonymous,
            };
            req.extensions_mut().insert(user);
            next.run(req).await
        })
    }
}
