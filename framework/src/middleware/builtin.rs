use std::time::Instant;

use actix_web::http::header::{self, HeaderName, HeaderValue};

use super::{Middleware, MiddlewareFuture, Next, ServiceRequest};
use crate::conf::Settings;

/// The `[security]` settings of the `manouche.security` middleware: Django's `SECURE_*`.
///
/// ```toml
/// [security]
/// ssl_redirect = true               # SECURE_SSL_REDIRECT: plain HTTP is redirected to HTTPS (301)
/// hsts_seconds = 31536000           # SECURE_HSTS_SECONDS: Strict-Transport-Security on HTTPS answers
/// hsts_include_subdomains = true    # SECURE_HSTS_INCLUDE_SUBDOMAINS
/// hsts_preload = false              # SECURE_HSTS_PRELOAD
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SecuritySettings {
    /// Redirect requests that are not secure to `https://` (Django's `SECURE_SSL_REDIRECT`).
    pub ssl_redirect: bool,
    /// The host to redirect to instead of the request's (`SECURE_SSL_HOST`).
    pub ssl_host: Option<String>,
    /// Path prefixes never redirected (a health check the proxy calls over HTTP).
    pub redirect_exempt: Vec<String>,
    /// `max-age` of `Strict-Transport-Security`, sent on secure answers; 0: not sent.
    pub hsts_seconds: u64,
    /// Add `includeSubDomains`.
    pub hsts_include_subdomains: bool,
    /// Add `preload`.
    pub hsts_preload: bool,
}

impl crate::conf::Section for SecuritySettings {
    const NAME: &'static str = "security";
    const ENV_PREFIX: &'static str = "SECURITY";
}

crate::register_section!(SecuritySettings);

/// Django's `SecurityMiddleware`: redirects plain HTTP to HTTPS (`ssl_redirect`), sends
/// `Strict-Transport-Security` on secure answers (`hsts_seconds`), and adds Django's security
/// headers unless the view set them: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
/// `Referrer-Policy: same-origin` and `Cross-Origin-Opener-Policy: same-origin`. Whether a request
/// is secure is [`crate::http::is_secure`]: behind a proxy, `[proxy] secure_proxy_ssl_header`.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
    hsts: Option<HeaderValue>,
    ssl_redirect: bool,
    ssl_host: Option<String>,
    redirect_exempt: Vec<String>,
}

impl SecurityHeaders {
    /// The middleware for these settings.
    ///
    /// # Errors
    ///
    /// The `[security]` section's error.
    pub fn from_settings(settings: &Settings) -> Result<Self, crate::conf::Error> {
        let security: SecuritySettings = settings.section()?;
        let hsts = (security.hsts_seconds > 0).then(|| {
            let mut value = format!("max-age={}", security.hsts_seconds);
            if security.hsts_include_subdomains {
                value.push_str("; includeSubDomains");
            }
            if security.hsts_preload {
                value.push_str("; preload");
            }
            HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("max-age=0"))
        });
        Ok(SecurityHeaders {
            headers: vec![
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
                (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
            ],
            hsts,
            ssl_redirect: security.ssl_redirect,
            ssl_host: security.ssl_host,
            redirect_exempt: security.redirect_exempt,
        })
    }
}

impl Middleware for SecurityHeaders {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            let secure = crate::http::is_secure(req.request());
            if self.ssl_redirect && !secure && !self.redirect_exempt.iter().any(|p| req.path().starts_with(p.as_str()))
            {
                let host = self.ssl_host.as_deref().unwrap_or_else(|| crate::http::request_host(req.request()));
                let target = match req.uri().path_and_query() {
                    Some(pq) => format!("https://{host}{pq}"),
                    None => format!("https://{host}{}", req.path()),
                };
                return req.into_response(crate::http::redirect_permanent(&target));
            }
            let mut response = next.run(req).await;
            let headers = response.headers_mut();
            for (name, value) in &self.headers {
                if !headers.contains_key(name) {
                    headers.insert(name.clone(), value.clone());
                }
            }
            if secure
                && let Some(hsts) = &self.hsts
                && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY)
            {
                headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
            }
            response
        })
    }
}

/// The id of a request: the `X-Request-Id` a trusted proxy sent (nginx's `$request_id`), or one
/// made here. It is in the access log line and answered in `X-Request-Id`, so a line of the
/// proxy's log, of this server's and an error report name the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id of `req`, when the logging middleware gave it one.
    pub fn of(req: &actix_web::HttpRequest) -> Option<String> {
        use actix_web::HttpMessage as _;
        req.extensions().get::<RequestId>().map(|id| id.0.clone())
    }
}

/// A new id: this process's random prefix and a counter, unique without a random draw per request.
fn next_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: std::sync::LazyLock<u32> = std::sync::LazyLock::new(|| {
        let mut bytes = [0u8; 4];
        let _ = getrandom::fill(&mut bytes);
        u32::from_le_bytes(bytes)
    });
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{:08x}{:012x}", *PREFIX, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Whether `id` can be repeated in a log line and a header as it is: 1 to 128 letters, digits,
/// `-`, `_` or `.`.
fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The access log: one line per request (target `manouche.request`), in `key=value` form:
/// `method`, `path` (with the query string), `status`, `duration_ms`, `bytes` (of the body, `-`
/// when streamed), `client` (the address, through trusted proxies only) and `request_id`, which
/// is also answered in `X-Request-Id` (a trusted proxy's own id is kept). Server errors log at
/// `error`, client errors at `warn`, the rest at `info`.
#[derive(Debug, Clone, Copy)]
pub struct RequestLogging;

impl Middleware for RequestLogging {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            use actix_web::HttpMessage as _;
            let start = Instant::now();
            // Nothing to compute for a line no logger takes.
            let logged = log::log_enabled!(target: "manouche.request", log::Level::Error);
            let line = logged.then(|| {
                let path = match req.query_string() {
                    "" => req.path().to_owned(),
                    query => format!("{}?{query}", req.path()),
                };
                (req.method().clone(), path, crate::http::client_ip(req.request()))
            });
            let forwarded = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .filter(|id| plain_id(id) && crate::http::from_trusted_proxy(req.request()))
                .map(str::to_owned);
            let id = forwarded.unwrap_or_else(next_request_id);
            req.extensions_mut().insert(RequestId(id.clone()));
            let mut response = next.run(req).await;
            let status = response.status();
            let level = if status.is_server_error() {
                log::Level::Error
            } else if status.is_client_error() {
                log::Level::Warn
            } else {
                log::Level::Info
            };
            if let Some((method, path, client)) = line {
                let bytes = match actix_web::body::MessageBody::size(response.response().body()) {
                    actix_web::body::BodySize::Sized(n) => n.to_string(),
                    actix_web::body::BodySize::None => "0".to_owned(),
                    actix_web::body::BodySize::Stream => "-".to_owned(),
                };
                log::log!(
                    target: "manouche.request",
                    level,
                    "method={method} path={path:?} status={} duration_ms={:.2} bytes={bytes} client={client} request_id={id}",
                    status.as_u16(),
                    start.elapsed().as_secs_f64() * 1000.0
                );
            }
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
            }
            response
        })
    }
}
