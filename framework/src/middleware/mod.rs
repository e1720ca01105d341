//! Middleware: code around every view, in the order the settings list it (outermost first).
//!
//! Each middleware gets the request and a [`Next`]; it can act before calling `next.run(req)`,
//! change the response after, or answer itself without calling it (short-circuit, with
//! `req.into_response(...)`). Requests and responses are actix's `ServiceRequest` and
//! `ServiceResponse`, so middleware can change request headers and read the response's request.
//!
//! ```
//! use manouche::middleware::{from_fn, Next};
//! use manouche::http::HttpResponse;
//!
//! let maintenance = from_fn(|req, next: Next<'_>| Box::pin(async move {
//!     if req.path().starts_with("/admin/") {
//!         return req.into_response(HttpResponse::ServiceUnavailable().body("down for maintenance"));
//!     }
//!     let mut response = next.run(req).await;
//!     response.headers_mut().insert(
//!         manouche::http::header::HeaderName::from_static("x-served-by"),
//!         manouche::http::header::HeaderValue::from_static("manouche"),
//!     );
//!     response
//! }));
//! // Register it: App::new("shop").middleware("shop.maintenance", move |_| Ok(maintenance.clone()))
//! // and list "shop.maintenance" in the `middleware` setting.
//! # let _ = maintenance;
//! ```
//!
//! Built-ins: `manouche.security` ([`SecurityHeaders`]), `manouche.sessions`
//! ([`crate::sessions::SessionMiddleware`]), `manouche.csrf` ([`crate::csrf::CsrfMiddleware`])
//! `manouche.logging` ([`RequestLogging`]), the per-site cache pair `manouche.cache.update`
//! (first) and `manouche.cache.fetch` (last), `manouche.conditional_get` (ETags and 304s) and
//! `manouche.ratelimit` (see [`crate::cache`]). Host validation and the panic guard are not middleware: they always run.

mod builtin;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use actix_web::dev::{ServiceRequest, ServiceResponse};

pub use self::builtin::{RequestId, RequestLogging, SecurityHeaders, SecuritySettings};
use crate::conf::Settings;

/// The future a middleware returns.
pub type MiddlewareFuture<'a> = Pin<Box<dyn Future<Output = ServiceResponse> + 'a>>;

/// Code run around every view.
pub trait Middleware: Send + Sync + 'static {
    /// Handles a request, calling `next.run(req)` to continue the chain.
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a>;
}

/// The rest of the chain: the following middleware, then the view.
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    endpoint: &'a dyn Endpoint,
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("remaining", &self.rest.len()).finish()
    }
}

impl<'a> Next<'a> {
    pub(crate) fn new(rest: &'a [Arc<dyn Middleware>], endpoint: &'a dyn Endpoint) -> Self {
        Next { rest, endpoint }
    }

    /// Runs the rest of the chain.
    pub fn run(self, req: ServiceRequest) -> MiddlewareFuture<'a> {
        match self.rest.split_first() {
            Some((first, rest)) => first.call(req, Next { rest, endpoint: self.endpoint }),
            None => self.endpoint.call(req),
        }
    }
}

/// The innermost handler: resolve the URL and call the view.
pub(crate) trait Endpoint {
    fn call<'a>(&'a self, req: ServiceRequest) -> MiddlewareFuture<'a>;
}

/// A middleware from a closure; see the module docs.
pub fn from_fn<F>(f: F) -> Arc<dyn Middleware>
where
    F: for<'a> Fn(ServiceRequest, Next<'a>) -> MiddlewareFuture<'a> + Send + Sync + 'static,
{
    Arc::new(FnMiddleware(f))
}

struct FnMiddleware<F>(F);

impl<F> Middleware for FnMiddleware<F>
where
    F: for<'a> Fn(ServiceRequest, Next<'a>) -> MiddlewareFuture<'a> + Send + Sync + 'static,
{
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        (self.0)(req, next)
    }
}

/// Builds a middleware from the settings; registered under a name the settings refer to.
pub type Factory = Arc<dyn Fn(&Settings) -> Result<Arc<dyn Middleware>, String> + Send + Sync>;

/// The built-in middleware, by setting name.
pub(crate) fn builtin_factories() -> Vec<(&'static str, Factory)> {
    vec![
        (
            "manouche.security",
            Arc::new(|s: &Settings| {
                SecurityHeaders::from_settings(s).map(|m| Arc::new(m) as Arc<dyn Middleware>).map_err(|e| e.to_string())
            }),
        ),
        ("manouche.logging", Arc::new(|_: &Settings| Ok(Arc::new(RequestLogging) as Arc<dyn Middleware>))),
        (
            "manouche.sessions",
            Arc::new(|s: &Settings| {
                crate::sessions::SessionMiddleware::from_settings(s).map(|m| Arc::new(m) as Arc<dyn Middleware>)
            }),
        ),
        (
            "manouche.auth",
            Arc::new(|s: &Settings| {
                crate::auth::AuthenticationMiddleware::from_settings(s).map(|m| Arc::new(m) as Arc<dyn Middleware>)
            }),
        ),
        (
            "manouche.csrf",
            Arc::new(|s: &Settings| {
                crate::csrf::CsrfMiddleware::from_settings(s).map(|m| Arc::new(m) as Arc<dyn Middleware>)
            }),
        ),
        (
            "manouche.cache.update",
            Arc::new(|s: &Settings| {
                crate::cache::CacheMiddleware::from_settings(s, false).map(|m| Arc::new(m) as Arc<dyn Middleware>)
            }),
        ),
        (
            "manouche.cache.fetch",
            Arc::new(|s: &Settings| {
                crate::cache::CacheMiddleware::from_settings(s, true).map(|m| Arc::new(m) as Arc<dyn Middleware>)
            }),
        ),
        (
            "manouche.conditional_get",
            Arc::new(|_: &Settings| Ok(Arc::new(crate::cache::ConditionalGet) as Arc<dyn Middleware>)),
        ),
        ("manouche.ratelimit", Arc::new(crate::cache::ratelimit_middleware)),
    ]
}
