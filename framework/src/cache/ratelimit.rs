//! Rate limiting on the cache, as django-ratelimit does it: a counter per key and time window,
//! counted atomically by the backend (`Backend::count`), so limits hold across servers sharing
//! Redis or Memcached. Past the
//! limit the answer is `429 Too Many Requests` with `Retry-After`.
//!
//! On views: `#[ratelimit(key = "ip", rate = "5/m", method = "POST")]` (several allowed; the
//! rate is checked when the view compiles). For the whole site: the `manouche.ratelimit`
//! middleware with a `[ratelimit]` section. A cache that is down lets requests through (with a
//! logged warning) rather than refusing everyone.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use sha2::{Digest as _, Sha256};

use super::{Cache, CacheError};
use crate::conf::{Section, Settings};
use crate::middleware::{Middleware, MiddlewareFuture, Next, ServiceRequest};

/// A rate: `count` requests per `period` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per window.
    pub count: u64,
    /// The window, in seconds.
    pub period: u64,
}

impl Rate {
    #[doc(hidden)]
    pub const fn __new(count: u64, period: u64) -> Self {
        Rate { count, period }
    }

    /// Parses django-ratelimit's notation: `5/m`, `100/h`, `10/s`, `1000/d`, `5/10m`.
    ///
    /// # Errors
    ///
    /// A message saying what is wrong.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let (count, per) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a rate: write requests/period, e.g. \"5/m\" or \"100/h\""))?;
        let count: u64 =
            count.trim().parse().map_err(|_| format!("`{count}` in `{text}` is not a number of requests"))?;
        let per = per.trim();
        let unit_at = per.find(|c: char| !c.is_ascii_digit()).unwrap_or(per.len());
        let (multiple, unit) = per.split_at(unit_at);
        let multiple: u64 = if multiple.is_empty() {
            1
        } else {
            multiple.parse().map_err(|_| format!("`{multiple}` in `{text}` is not a number"))?
        };
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            other => {
                return Err(format!(
                    "unknown period `{other}` in `{text}`; use s, m, h or d (e.g. \"5/m\", \"5/10m\")"
                ));
            }
        };
        if multiple == 0 {
            return Err(format!("the period of `{text}` is zero"));
        }
        Ok(Rate { count, period: multiple * seconds })
    }
}

/// What a limit counts requests by.
#[derive(Debug, Clone, Copy)]
pub enum RateKey {
    /// The client's IP address (through trusted proxies only, see [`crate::http::client_ip`]).
    Ip,
    /// The logged-in user's id, or the IP address for anonymous visitors.
    User,
    /// A request header's value (requests without it share one counter).
    Header(&'static str),
    /// A field of the submitted form (`application/x-www-form-urlencoded`), e.g. a username.
    Field(&'static str),
    /// A function of the request; `None` exempts the request.
    Function(fn(&HttpRequest) -> Option<String>),
}

/// One limit on a view: `#[ratelimit(key = ..., rate = ..., method = ...)]`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// The counter's group: the view, unless `group = "..."` shares it.
    pub group: &'static str,
    /// What is counted by.
    pub key: RateKey,
    /// How many per window.
    pub rate: Rate,
    /// The methods counted (all when empty).
    pub methods: &'static [&'static str],
    /// The cache alias the counters live in.
    pub cache: &'static str,
}

/// The `[ratelimit]` settings of the `manouche.ratelimit` middleware: one limit for every
/// request of the site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitSettings {
    /// The rate, e.g. `"300/m"`.
    pub rate: String,
    /// `ip`, `user` or `header:<name>`.
    pub key: String,
    /// The methods counted (all when empty).
    pub methods: Vec<String>,
    /// The cache alias the counters live in.
    pub cache: String,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings { rate: "300/m".into(), key: "ip".into(), methods: Vec::new(), cache: "default".into() }
    }
}

impl Section for RateLimitSettings {
    const NAME: &'static str = "ratelimit";
    const ENV_PREFIX: &'static str = "RATELIMIT";
}

crate::register_section!(RateLimitSettings);

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// The answer past the limit.
fn too_many(retry_after: u64) -> HttpResponse {
    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
        .insert_header((header::RETRY_AFTER, retry_after.to_string()))
        .content_type("text/plain; charset=utf-8")
        .body(format!("Too many requests. Try again in {retry_after} seconds."))
}

/// Counts one request of `value` in `group`; `Some(retry_after)` when it is over the limit.
async fn count(cache: &Cache, group: &str, value: &str, rate: Rate) -> Result<Option<u64>, CacheError> {
    let now = now();
    let window = now / rate.period;
    let key = format!("manouche.ratelimit.{}.{}.{window}", digest(group), digest(value));
    // One round trip on Redis (a script), usually one on Memcached (`incr`, `add` the first time).
    if let Some(hits) = cache.with_timeout(rate.period + 1).count(&key).await? {
        let over = u64::try_from(hits).unwrap_or(0) > rate.count;
        return Ok(over.then(|| ((window + 1) * rate.period).saturating_sub(now).max(1)));
    }
    log::warn!(target: "manouche.ratelimit", "the rate-limit counter of `{group}` could not be kept; request let through");
    Ok(None)
}

fn user_key(req: &HttpRequest) -> String {
    let user = req.extensions().get::<crate::auth::RequestUser>().cloned();
    match user.and_then(|user| user.id()) {
        Some(id) => format!("user:{id}"),
        None => format!("ip:{}", crate::http::client_ip(req)),
    }
}

/// Counts one request of `value` in `group` against `rate` in the cache `alias`: the 429
/// response (with `Retry-After`) when it is over the limit, for views that limit by something
/// only they know (a parsed form, an account). A cache that is down lets the request through.
///
/// # Errors
///
/// [`crate::Error::ImproperlyConfigured`] when the cache alias does not exist.
pub async fn check_rate(
    req: &HttpRequest,
    alias: &str,
    group: &str,
    value: &str,
    rate: Rate,
) -> crate::Result<Option<HttpResponse>> {
    let cache = super::request_caches(req)
        .get(alias)
        .map_err(|e| crate::Error::ImproperlyConfigured(format!("rate limit `{group}`: {e}")))?;
    match count(&cache, group, value, rate).await {
        Ok(Some(retry_after)) => {
            log::warn!(target: "manouche.ratelimit", "{} {}: rate limit `{group}` exceeded", req.method(), req.path());
            Ok(Some(too_many(retry_after)))
        }
        Ok(None) => Ok(None),
        Err(error) => {
            log::warn!(target: "manouche.ratelimit", "rate limit `{group}` not checked: {error}");
            Ok(None)
        }
    }
}

/// Checks the limits of a view before it runs; a 429 response when one is exceeded. A limit
/// keyed by a form field reads the form (urlencoded or multipart) once, sharing it with the view.
#[doc(hidden)]
pub async fn __ratelimit_check(
    req: &HttpRequest,
    payload: &mut actix_web::dev::Payload,
    limits: &'static [RateLimit],
) -> crate::Result<Option<HttpResponse>> {
    let mut form: Option<crate::forms::FormData> = None;
    for limit in limits {
        if !limit.methods.is_empty() && !limit.methods.iter().any(|m| *m == req.method().as_str()) {
            continue;
        }
        let value = match limit.key {
            RateKey::Ip => Some(format!("ip:{}", crate::http::client_ip(req))),
            RateKey::User => Some(user_key(req)),
            RateKey::Header(name) => Some(header_value(req, name)),
            RateKey::Field(name) => {
                if form.is_none() {
                    form = Some(crate::forms::submitted(req, payload).await?);
                }
                form.as_ref().and_then(|form| form.get(name)).map(|v| format!("field:{}", v.to_lowercase()))
            }
            RateKey::Function(function) => function(req),
        };
        let Some(value) = value else { continue };
        if let Some(refused) = check_rate(req, limit.cache, limit.group, &value, limit.rate).await? {
            return Ok(Some(refused));
        }
    }
    Ok(None)
}

/// A request header's value as text (empty when absent: such requests share one counter).
fn header_value(req: &HttpRequest, name: &str) -> String {
    req.headers().get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default()
}

/// `manouche.ratelimit`: the `[ratelimit]` limit on every request.
#[derive(Debug)]
pub(crate) struct RateLimitMiddleware {
    rate: Rate,
    key: String,
    methods: Vec<String>,
    cache: String,
}

/// Builds the middleware from the settings.
///
/// # Errors
///
/// A message naming the `[ratelimit]` key that is wrong.
pub fn ratelimit_middleware(settings: &Settings) -> Result<std::sync::Arc<dyn Middleware>, String> {
    let section: RateLimitSettings = settings.section().map_err(|e| e.to_string())?;
    let rate = Rate::parse(&section.rate).map_err(|e| format!("`ratelimit.rate`: {e}"))?;
    if !(section.key == "ip" || section.key == "user" || section.key.starts_with("header:")) {
        return Err(format!("`ratelimit.key` is `ip`, `user` or `header:<name>`, not `{}`", section.key));
    }
    Ok(std::sync::Arc::new(RateLimitMiddleware {
        rate,
        key: section.key,
        methods: section.methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
        cache: section.cache,
    }))
}

impl Middleware for RateLimitMiddleware {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            if !self.methods.is_empty() && !self.methods.iter().any(|m| m == req.method().as_str()) {
                return next.run(req).await;
            }
            let value = match self.key.as_str() {
                "ip" => format!("ip:{}", crate::http::client_ip(req.request())),
                "user" => user_key(req.request()),
                header => header_value(req.request(), header.trim_start_matches("header:")),
            };
            match check_rate(req.request(), &self.cache, "manouche.ratelimit", &value, self.rate).await {
                Ok(Some(refused)) => req.into_response(refused),
                Ok(None) => next.run(req).await,
                Err(error) => {
                    log::error!(target: "manouche.ratelimit", "`manouche.ratelimit`: {error}");
                    next.run(req).await
                }
            }
        })
    }
}
