use std::future::{Ready, ready};
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::conf::Settings;
use crate::db::Database;

/// What the project puts in every request's app data.
#[derive(Debug)]
pub(crate) struct SiteState {
    pub(crate) settings: Arc<Settings>,
    pub(crate) db: Database,
    /// Every migration of the project's apps, `(app, name)`: what the health check expects applied.
    pub(crate) migrations: Vec<(String, String)>,
}

/// The migrations of the project serving `req` (none outside a project).
pub(crate) fn site_migrations(req: &HttpRequest) -> &[(String, String)] {
    req.app_data::<actix_web::web::Data<SiteState>>().map_or(&[], |state| state.migrations.as_slice())
}

/// The request a view receives: actix's [`HttpRequest`] plus the project's settings and
/// template context. Dereferences to [`HttpRequest`].
#[derive(Debug, Clone)]
pub struct Request {
    inner: HttpRequest,
}

impl Request {
    /// Wraps an actix request.
    pub fn new(inner: HttpRequest) -> Self {
        Request { inner }
    }

    /// The underlying actix request.
    pub fn as_http(&self) -> &HttpRequest {
        &self.inner
    }

    /// The project's settings.
    ///
    /// # Panics
    ///
    /// Never inside a project; only a request built by hand outside one has no settings, and
    /// then this falls back to test settings rather than panicking.
    pub fn settings(&self) -> Arc<Settings> {
        settings_of(&self.inner)
    }

    /// The project's database pool: `req.db().run(|conn| ...).await`.
    ///
    /// A request built outside a project gets a private in-memory SQLite database.
    pub fn db(&self) -> Database {
        match self.inner.app_data::<actix_web::web::Data<SiteState>>() {
            Some(state) => state.db.clone(),
            None => Database::connect(&crate::conf::DatabaseUrl::SqliteMemory, crate::db::PoolOptions::default()),
        }
    }

    /// The visitor's session (Django's `request.session`).
    ///
    /// # Errors
    ///
    /// [`crate::Error::ImproperlyConfigured`] (a 500) when the `manouche.sessions` middleware is
    /// not in the `middleware` setting.
    pub fn session(&self) -> Result<crate::sessions::Session, crate::Error> {
        self.inner.extensions().get::<crate::sessions::Session>().cloned().ok_or_else(|| {
            crate::Error::ImproperlyConfigured(
                "the session needs the `manouche.sessions` middleware: add it to `middleware` in the settings".into(),
            )
        })
    }

    /// The visitor's messages (Django's `messages`), kept in the session.
    ///
    /// # Errors
    ///
    /// As [`Request::session`]: the sessions middleware is required.
    pub fn messages(&self) -> Result<crate::messages::Messages, crate::Error> {
        self.session().map(crate::messages::Messages::new)
    }

    /// The context every template of this request can use (`{{ ctx.static_url }}`).
    pub fn context(&self) -> RequestContext {
        RequestContext::from_request(&self.inner)
    }
}

pub(crate) fn settings_of(req: &HttpRequest) -> Arc<Settings> {
    match req.app_data::<actix_web::web::Data<SiteState>>() {
        Some(state) => Arc::clone(&state.settings),
        None => Arc::new(Settings::for_tests()),
    }
}

impl Deref for Request {
    type Target = HttpRequest;
    fn deref(&self) -> &HttpRequest {
        &self.inner
    }
}

impl FromRequest for Request {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Request::new(req.clone())))
    }
}

/// Values every template can use: Django's request context processors.
///
/// Put it in a template struct as `ctx: RequestContext` and write `{{ ctx.static_url }}` or
/// `{{ ctx.path }}` in the template.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestContext {
    /// The request path.
    pub path: String,
    /// Whether debug mode is on.
    pub debug: bool,
    /// The static files prefix, e.g. `/static/`.
    pub static_url: String,
    /// The session, when the sessions middleware runs: for [`RequestContext::messages`].
    session: Option<crate::sessions::Session>,
}

impl RequestContext {
    /// The context of a request.
    pub fn from_request(req: &HttpRequest) -> Self {
        let cached = req.extensions().get::<RequestContext>().cloned();
        if let Some(ctx) = cached {
            return ctx;
        }
        let settings = settings_of(req);
        let ctx = RequestContext {
            path: req.path().to_owned(),
            debug: settings.debug,
            static_url: settings.static_url.clone(),
            session: req.extensions().get::<crate::sessions::Session>().cloned(),
        };
        req.extensions_mut().insert(ctx.clone());
        ctx
    }

    /// The visitor's pending messages, consumed: shown once. Empty without sessions. In a
    /// template: `{% for m in ctx.messages() %}<p class="{{ m.tags() }}">{{ m }}</p>{% endfor %}`.
    pub fn messages(&self) -> Vec<crate::messages::Message> {
        self.session.clone().map(|s| crate::messages::Messages::new(s).take()).unwrap_or_default()
    }

    /// The URL of a static file: `ctx.static_file("shop/site.css")` → `/static/shop/site.css`.
    pub fn static_file(&self, path: &str) -> String {
        format!("{}{}", self.static_url, path.trim_start_matches('/'))
    }
}

impl FromRequest for RequestContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(RequestContext::from_request(req)))
    }
}
