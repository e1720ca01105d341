use std::time::Instant;

use actix_web::http::header::{self, HeaderName, HeaderValue};

use super::{Middleware, MiddlewareFuture, Next, ServiceRequest};
use crate::conf::Settings;

/// Adds Django's security headers unless the view set them: `X-Content-Type-Options: nosniff`,
/// `X-Frame-Options: DENY`, `Referrer-Policy: same-origin` and
/// `Cross-Origin-Opener-Policy: same-origin`.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    /// The headers for these settings.
    pub fn from_settings(_settings: &Settings) -> Self {
        SecurityHeaders {
            headers: vec![
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
                (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
            ],
        }
    }
}

impl Middleware for SecurityHeaders {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            let mut response = next.run(req).await;
            let headers = response.headers_mut();
            for (name, value) in &self.headers {
                if !headers.contains_key(name) {
                    headers.insert(name.clone(), value.clone());
                }
            }
            response
        })
    }
}

/// Logs one line per request, its path with the query string, status and duration (target
/// `manouche.request`):
/// server errors at `error`, client errors at `warn`, the rest at `info`.
#[derive(Debug, Clone, Copy)]
pub struct RequestLogging;

impl Middleware for RequestLogging {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            let start = Instant::now();
            let method = req.method().clone();
            let path = match req.query_string() {
                "" => req.path().to_owned(),
                query => format!("{}?{query}", req.path()),
            };
            let response = next.run(req).await;
            let status = response.status();
            let level = if status.is_server_error() {
                log::Level::Error
            } else if status.is_client_error() {
                log::Level::Warn
            } else {
                log::Level::Info
            };
            log::log!(target: "manouche.request", level, "\"{method} {path}\" {} {:.2}ms", status.as_u16(), start.elapsed().as_secs_f64() * 1000.0);
            response
        })
    }
}
