use std::future::{Ready, ready};
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::conf::Settings;
use crate::db::Database;

/// What the project puts in every request's app data.
pub(crate) struct SiteState {
    pub(crate) settings: Arc<Settings>,
    pub(crate) db: Database,
    /// Every migration of the project's apps, `(app, name)`: what the health check expects applied.
    pub(crate) migrations: Vec<(String, String)>,
    /// The apps' context processors, in app order.
    pub(crate) context_processors: Vec<crate::templates::ContextProcessor>,
    /// The authentication backends of the `auth.backends` setting, in order.
    pub(crate) auth_backends: Vec<crate::auth::backends::NamedBackend>,
    /// The `[caches]` of the settings.
    pub(crate) caches: crate::cache::Caches,
    /// The proxies whose `X-Forwarded-For` is believed.
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
    /// `[proxy] secure_proxy_ssl_header`: the header and the value meaning HTTPS, believed from a
    /// trusted proxy only.
    pub(crate) proxy_ssl_header: Option<(actix_web::http::header::HeaderName, String)>,
    /// `[proxy] use_x_forwarded_host`, believed from a trusted proxy only.
    pub(crate) use_x_forwarded_host: bool,
    /// The `[tasks]` backend.
    pub(crate) tasks: crate::tasks::Tasks,
    /// The `[server]` limits of a request body.
    pub(crate) limits: super::server::BodyLimits,
    /// The `[server]` limit of the request's headers, in bytes.
    pub(crate) max_header_bytes: usize,
}

/// `(max_body_bytes, max_form_fields)` of the project serving `req` (the defaults outside one).
pub(crate) fn body_limits(req: &HttpRequest) -> (usize, usize) {
    match req.app_data::<actix_web::web::Data<SiteState>>() {
        Some(state) => (state.limits.max_body_bytes, state.limits.max_form_fields),
        None => {
            let defaults = super::ServerSettings::default();
            (defaults.max_body_bytes, defaults.max_form_fields)
        }
    }
}

/// Every `[server]` limit of a request body, for a multipart upload (the defaults outside a project).
pub(crate) fn upload_limits(req: &HttpRequest) -> super::server::BodyLimits {
    match req.app_data::<actix_web::web::Data<SiteState>>() {
        Some(state) => state.limits.clone(),
        None => (&super::ServerSettings::default()).into(),
    }
}

impl std::fmt::Debug for SiteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteState")
            .field("db", &self.db)
            .field("migrations", &self.migrations.len())
            .field("context_processors", &self.context_processors.len())
            .finish_non_exhaustive()
    }
}

/// Calls `f` with the authentication backends of the project serving `req` (the model backend
/// alone outside a project), without copying them.
pub(crate) fn with_auth_backends<T>(
    req: &HttpRequest,
    f: impl FnOnce(&[crate::auth::backends::NamedBackend]) -> T,
) -> T {
    match req.app_data::<actix_web::web::Data<SiteState>>() {
        Some(state) => f(&state.auth_backends),
        None => f(&[(crate::auth::MODEL_BACKEND.to_owned(), std::sync::Arc::new(crate::auth::backends::ModelBackend))]),
    }
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
    /// A request built outside a project (plain actix-web, a hand-made test request) has no
    /// database: every query on the handle fails with [`crate::db::Error::NotConfigured`].
    pub fn db(&self) -> Database {
        match self.inner.app_data::<actix_web::web::Data<SiteState>>() {
            Some(state) => state.db.clone(),
            None => Database::missing("this request is not served by a Manouche project; build it with `Project`"),
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

    /// The request's user, or the anonymous user (Django's `request.user`), loaded once by the
    /// `manouche.auth` middleware. Reading it makes the response vary on the session cookie.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ImproperlyConfigured`] (a 500) when `manouche.auth` is not in the
    /// `middleware` setting.
    pub fn user(&self) -> Result<crate::auth::RequestUser, crate::Error> {
        let user = self.inner.extensions().get::<crate::auth::RequestUser>().cloned().ok_or_else(|| {
            crate::Error::ImproperlyConfigured(
                "`req.user()` needs the `manouche.auth` middleware: add it to `middleware` in the settings".into(),
            )
        })?;
        if let Some(session) = self.inner.extensions().get::<crate::sessions::Session>() {
            session.mark_accessed();
        }
        Ok(user)
    }

    /// The visitor's messages (Django's `messages`), kept in the session.
    ///
    /// # Errors
    ///
    /// As [`Request::session`]: the sessions middleware is required.
    pub fn messages(&self) -> Result<crate::messages::Messages, crate::Error> {
        self.session().map(crate::messages::Messages::new)
    }

    /// The project's `default` cache (Django's `cache`).
    pub fn cache(&self) -> crate::cache::Cache {
        crate::cache::request_caches(&self.inner).default_cache()
    }

    /// The project's cache `alias` (Django's `caches[alias]`).
    ///
    /// # Errors
    ///
    /// [`crate::cache::CacheError::UnknownAlias`] when the settings have no such cache.
    pub fn caches(&self, alias: &str) -> Result<crate::cache::Cache, crate::cache::CacheError> {
        crate::cache::request_caches(&self.inner).get(alias)
    }

    /// The context every template of this request can use (`{{ ctx.static_url }}`).
    pub fn context(&self) -> RequestContext {
        RequestContext::from_request(&self.inner)
    }
}

/// The address of the client: the connection's peer, or, when the peer is one of the
/// `[proxy] trusted_proxies`, the last address in `X-Forwarded-For` that is not itself a
/// trusted proxy. A client cannot make itself someone else by sending `X-Forwarded-For` to a
/// server it reaches directly. `"unknown"` when there is no peer (a hand-made test request).
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|addr| addr.ip()) else { return "unknown".to_owned() };
    let trusted: &[std::net::IpAddr] =
        req.app_data::<actix_web::web::Data<SiteState>>().map_or(&[], |state| state.trusted_proxies.as_slice());
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer).to_string()
}

/// The `[proxy]` settings: which reverse proxies' forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ProxySettings {
    /// IP addresses of the proxies in front of this server (none by default, as in Django:
    /// `X-Forwarded-For` is then ignored everywhere).
    pub trusted_proxies: Vec<String>,
    /// Django's `SECURE_PROXY_SSL_HEADER`: `["X-Forwarded-Proto", "https"]` makes a request
    /// secure when a trusted proxy sends that header with that value (off by default). Unlike
    /// Django, the header is ignored from any other peer, so a client reaching the server
    /// directly cannot claim HTTPS.
    pub secure_proxy_ssl_header: Option<Vec<String>>,
    /// Django's `USE_X_FORWARDED_HOST`: the host is a trusted proxy's `X-Forwarded-Host` (off
    /// by default); it is still checked against `allowed_hosts`.
    pub use_x_forwarded_host: bool,
}

impl crate::conf::Section for ProxySettings {
    const NAME: &'static str = "proxy";
    const ENV_PREFIX: &'static str = "PROXY";
}

crate::register_section!(ProxySettings);

impl ProxySettings {
    /// The addresses, parsed.
    ///
    /// # Errors
    ///
    /// A message naming the entry that is not an IP address.
    pub fn addresses(&self) -> Result<Vec<std::net::IpAddr>, String> {
        self.trusted_proxies
            .iter()
            .map(|text| {
                text.trim().parse().map_err(|_| format!("`proxy.trusted_proxies`: `{text}` is not an IP address"))
            })
            .collect()
    }

    /// The `secure_proxy_ssl_header` setting as a header name and value.
    ///
    /// # Errors
    ///
    /// A message when it is not two strings, a header name and a value.
    pub fn ssl_header(&self) -> Result<Option<(actix_web::http::header::HeaderName, String)>, String> {
        let Some(pair) = &self.secure_proxy_ssl_header else { return Ok(None) };
        let [name, value] = pair.as_slice() else {
            return Err(
                "`proxy.secure_proxy_ssl_header` is a header and its value: [\"X-Forwarded-Proto\", \"https\"]".into(),
            );
        };
        let name = actix_web::http::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("`proxy.secure_proxy_ssl_header`: `{name}` is not a header name"))?;
        Ok(Some((name, value.clone())))
    }
}

/// Whether the connection of `req` comes from one of the `[proxy] trusted_proxies`.
pub(crate) fn from_trusted_proxy(req: &HttpRequest) -> bool {
    req.app_data::<actix_web::web::Data<SiteState>>().is_some_and(|state| trusted_peer(req, state))
}

fn trusted_peer(req: &HttpRequest, state: &SiteState) -> bool {
    !state.trusted_proxies.is_empty() && req.peer_addr().is_some_and(|peer| state.trusted_proxies.contains(&peer.ip()))
}

/// Whether the request came over HTTPS: TLS on this server, an absolute `https://` target, or
/// (with `[proxy] secure_proxy_ssl_header`) a trusted proxy saying so. The header from any other
/// peer is ignored.
pub fn is_secure(req: &HttpRequest) -> bool {
    if req.app_config().secure() || req.uri().scheme_str() == Some("https") {
        return true;
    }
    let Some(state) = req.app_data::<actix_web::web::Data<SiteState>>() else { return false };
    match &state.proxy_ssl_header {
        Some((name, expected)) => {
            trusted_peer(req, state)
                && req.headers().get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == expected)
        }
        None => false,
    }
}

/// The host (and port) the request was made to, Django's `get_host()`: the target's authority,
/// or (with `[proxy] use_x_forwarded_host`, from a trusted proxy) `X-Forwarded-Host`, or the
/// `Host` header; already checked against `allowed_hosts` by the site.
pub fn request_host(req: &HttpRequest) -> &str {
    if let Some(authority) = req.uri().authority() {
        return authority.as_str();
    }
    if let Some(state) = req.app_data::<actix_web::web::Data<SiteState>>()
        && state.use_x_forwarded_host
        && trusted_peer(req, state)
        && let Some(forwarded) = req.headers().get("x-forwarded-host").and_then(|h| h.to_str().ok())
    {
        return forwarded.trim();
    }
    req.headers().get(actix_web::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("")
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

/// Values every template can use: Django's `RequestContext` and its context processors.
///
/// Put it in a template struct as `ctx: RequestContext` and write `{{ ctx.static_url }}`,
/// `{{ ctx.path }}`, `{{ ctx.csrf_input() }}` in forms, `{% for m in ctx.messages() %}` and
/// `{{ ctx.get("shop_name") }}` for what the apps' context processors add
/// ([`crate::App::context_processor`]). Built once per request; cloning it is cheap.
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
    /// The CSRF state, when the CSRF middleware runs.
    csrf: Option<crate::csrf::CsrfToken>,
    /// The user, when the auth middleware runs.
    user: crate::auth::RequestUser,
    /// What the context processors added.
    vars: Arc<crate::templates::ContextVars>,
}

impl RequestContext {
    /// The context of a request: built (running the context processors) on first use, then
    /// the same for the rest of the request.
    pub fn from_request(req: &HttpRequest) -> Self {
        let cached = req.extensions().get::<RequestContext>().cloned();
        if let Some(ctx) = cached {
            return ctx;
        }
        let settings = settings_of(req);
        let mut vars = crate::templates::ContextVars::default();
        if let Some(state) = req.app_data::<actix_web::web::Data<SiteState>>()
            && !state.context_processors.is_empty()
        {
            let request = Request::new(req.clone());
            for processor in &state.context_processors {
                processor(&request, &mut vars);
            }
        }
        let ctx = RequestContext {
            path: req.path().to_owned(),
            debug: settings.debug,
            static_url: settings.static_url.clone(),
            session: req.extensions().get::<crate::sessions::Session>().cloned(),
            csrf: crate::csrf::token_of(req),
            // Read without marking the session: only a template that shows the user varies on it.
            user: req.extensions().get::<crate::auth::RequestUser>().cloned().unwrap_or_default(),
            vars: Arc::new(vars),
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

    /// A new masked CSRF token (Django's `{{ csrf_token }}`), e.g. for a `<meta>` a script reads;
    /// empty without the `manouche.csrf` middleware.
    pub fn csrf_token(&self) -> String {
        self.csrf.as_ref().and_then(|token| token.masked().ok()).unwrap_or_default()
    }

    /// The hidden input carrying a masked CSRF token, for every `<form method="post">` (Django's
    /// `{% csrf_token %}`): `{{ ctx.csrf_input() }}`. Empty without the `manouche.csrf`
    /// middleware.
    pub fn csrf_input(&self) -> crate::csrf::CsrfInput {
        if self.csrf.is_none() && self.debug {
            log::warn!(target: "manouche.templates", "a template used `ctx.csrf_input()` but `manouche.csrf` is not in `middleware`");
        }
        crate::csrf::CsrfInput::new(self.csrf.as_ref().and_then(|token| token.masked().ok()))
    }

    /// What a context processor set under `name`, or `""` (as Django renders an unknown
    /// variable; logged in debug mode).
    pub fn get(&self, name: &str) -> &str {
        match self.vars.get(name) {
            Some(value) => value,
            None => {
                if self.debug {
                    let known: Vec<&str> = self.vars.names().collect();
                    log::warn!(target: "manouche.templates", "no context processor set `{name}`; set: {known:?}");
                }
                ""
            }
        }
    }

    /// The request's user (Django's `{{ user }}`): `{% if ctx.user().is_authenticated() %}Hello
    /// {{ ctx.user().username() }}{% endif %}`. Anonymous without the `manouche.auth` middleware.
    pub fn user(&self) -> &crate::auth::RequestUser {
        if let Some(session) = &self.session {
            session.mark_accessed();
        }
        &self.user
    }

    /// Everything the context processors set.
    pub fn vars(&self) -> &crate::templates::ContextVars {
        &self.vars
    }
}
