//! `manouche.sessions`: loads the session before the view and saves it after.

use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::cookie::{Cookie, SameSite};

use super::{Expiry, Session, SessionSettings, SessionStore, SignedCookieStore};
use crate::conf::Settings;
use crate::middleware::{Middleware, MiddlewareFuture, Next, ServiceRequest, ServiceResponse};

/// Django's `SessionMiddleware`: see [`crate::sessions`].
pub struct SessionMiddleware {
    settings: SessionSettings,
    same_site: SameSite,
    store: Arc<dyn SessionStore>,
}

impl std::fmt::Debug for SessionMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddleware").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl SessionMiddleware {
    /// The middleware for the `[sessions]` settings.
    ///
    /// # Errors
    ///
    /// A message naming the setting: a bad `[sessions]` value, an unknown `engine` or
    /// `cookie_samesite`, or no `secret_key` to sign with.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let section: SessionSettings = settings.section().map_err(|e| e.to_string())?;
        let same_site = same_site(&section.cookie_samesite)?;
        let secret = settings
            .secret_key
            .as_ref()
            .ok_or("sessions are signed with `secret_key`: set it (or SECRET_KEY in the environment)")?;
        let store: Arc<dyn SessionStore> = match section.engine.as_str() {
            "database" => Arc::new(super::DatabaseStore),
            "signed_cookies" => Arc::new(SignedCookieStore::new(secret.expose(), section.cookie_age)),
            "cache" => Arc::new(super::CacheStore::new(section.cache_alias.clone())),
            "cached_db" => Arc::new(super::CachedDbStore::new(section.cache_alias.clone())),
            other => {
                return Err(format!(
                    "unknown `sessions.engine` `{other}`; expected `database`, `cache`, `cached_db` or `signed_cookies`"
                ));
            }
        };
        Ok(SessionMiddleware { settings: section, same_site, store })
    }

    /// The middleware with a store of the project's own.
    ///
    /// # Errors
    ///
    /// A message naming `sessions.cookie_samesite` when it is not `Lax`, `Strict` or `None`.
    pub fn with_store(settings: SessionSettings, store: Arc<dyn SessionStore>) -> Result<Self, String> {
        let same_site = same_site(&settings.cookie_samesite)?;
        Ok(SessionMiddleware { settings, same_site, store })
    }

    fn cookie<'c>(&self, value: String, max_age: Option<u64>) -> Cookie<'c> {
        let s = &self.settings;
        let mut cookie = Cookie::build(s.cookie_name.clone(), value)
            .path(s.cookie_path.clone())
            .secure(s.cookie_secure)
            .http_only(s.cookie_httponly)
            .same_site(self.same_site)
            .finish();
        if let Some(domain) = &s.cookie_domain {
            cookie.set_domain(domain.clone());
        }
        if let Some(age) = max_age {
            cookie.set_max_age(actix_web::cookie::time::Duration::seconds(i64::try_from(age).unwrap_or(i64::MAX)));
        }
        cookie
    }

    /// After the view: `Vary: Cookie` if the session was read, then save, or drop the cookie of
    /// an empty session.
    async fn finish(
        &self,
        session: &Session,
        cookie: Option<&str>,
        stale: bool,
        mut response: ServiceResponse,
    ) -> ServiceResponse {
        let super::session::Outcome { accessed, modified, new_key, empty } = session.outcome();
        if accessed {
            crate::http::vary_on(response.headers_mut(), "Cookie");
        }
        let request = response.request().clone();
        if empty {
            if let Some(previous) = cookie
                && let Err(error) = self.store.delete(&request, previous).await
            {
                return failed(response, &error);
            }
            if cookie.is_some() || stale {
                let _ = response.response_mut().add_removal_cookie(&self.cookie(String::new(), None));
            }
            return response;
        }
        if !(modified || self.settings.save_every_request) || response.status().is_server_error() {
            return response;
        }
        let age = session.get_expiry_age(self.settings.cookie_age);
        let browser_close = match session.expiry() {
            Expiry::BrowserClose => true,
            Expiry::Default => self.settings.expire_at_browser_close,
            Expiry::Seconds(_) => false,
        };
        // Copied only now, when it is saved: a request that did not change the session pays nothing.
        let data = session.data();
        match self.store.save(&request, cookie, new_key, &data, age).await {
            Ok(stored) => {
                let max_age = (!browser_close).then_some(age);
                let _ = response.response_mut().add_cookie(&self.cookie(stored.cookie, max_age));
                response
            }
            Err(error) => failed(response, &error),
        }
    }
}

fn same_site(text: &str) -> Result<SameSite, String> {
    crate::http::parse_same_site(text, "sessions.cookie_samesite")
}

/// A store that failed: a logged error response, never a silently lost write.
fn failed(response: ServiceResponse, error: &crate::Error) -> ServiceResponse {
    log::error!(target: "manouche.sessions", "the session could not be saved: {error}");
    let (request, _) = response.into_parts();
    let status = error.status();
    ServiceResponse::new(request, actix_web::HttpResponse::build(status).body("The session could not be saved."))
}

impl Middleware for SessionMiddleware {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            let mut cookie = req.cookie(&self.settings.cookie_name).map(|c| c.value().to_owned());
            let mut found = false;
            let session = match &cookie {
                Some(value) => match self.store.load(req.request(), value).await {
                    Ok(Some(data)) => {
                        found = true;
                        Session::from_data(data)
                    }
                    Ok(None) => Session::default(),
                    Err(error) => {
                        log::error!(target: "manouche.sessions", "the session could not be loaded: {error}");
                        let status = error.status();
                        return req.into_response(
                            actix_web::HttpResponse::build(status).body("The session could not be loaded."),
                        );
                    }
                },
                None => Session::default(),
            };
            req.extensions_mut().insert(session.clone());
            let response = next.run(req).await;
            // A key the store does not know is never adopted: saving makes a new one. The cookie
            // itself is still removed if the session stays empty.
            let previous = if found { cookie.take() } else { None };
            let stale = cookie.is_some();
            self.finish(&session, previous.as_deref(), stale, response).await
        })
    }
}
