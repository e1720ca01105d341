//! `manouche.csrf`: Django's `CsrfViewMiddleware`, check for check and reason for reason.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use super::token::{self, BadFormat};
use super::{CsrfSettings, CsrfToken, FORM_FIELD, SESSION_KEY, SkipChecks};
use crate::conf::Settings;
use crate::http::{is_secure, request_host};
use crate::middleware::{Middleware, MiddlewareFuture, Next, ServiceRequest, ServiceResponse};
use crate::urls::ResolverMatch;
use askama::Template;
use manouche_macros::Template;

const REASON_NO_REFERER: &str = "Referer checking failed - no Referer.";
const REASON_MALFORMED_REFERER: &str = "Referer checking failed - Referer is malformed.";
const REASON_INSECURE_REFERER: &str = "Referer checking failed - Referer is insecure while host is secure.";
const REASON_NO_CSRF_COOKIE: &str = "CSRF cookie not set.";
const REASON_CSRF_TOKEN_MISSING: &str = "CSRF token missing.";
/// A form that could not be read for its token (too large, too many fields, a broken upload).
struct Unreadable(crate::Error);

/// Why an unsafe request is refused.
enum Refusal {
    /// A CSRF failure, with Django's reason: 403.
    Forbidden(String),
    /// A form that could not be read for its token (413 or 400), not a forgery.
    Unreadable(crate::Error),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Forbidden(reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Refusal::Forbidden(reason.to_owned())
    }
}

impl From<Unreadable> for Refusal {
    fn from(Unreadable(error): Unreadable) -> Self {
        Refusal::Unreadable(error)
    }
}

/// Django's `CsrfViewMiddleware`: see [`crate::csrf`].
#[derive(Debug)]
pub struct CsrfMiddleware {
    settings: CsrfSettings,
    same_site: SameSite,
    header: HeaderName,
    debug: bool,
    /// `trusted_origins` without a wildcard, compared whole.
    exact_origins: Vec<String>,
    /// `(scheme, .domain)` of the wildcard origins (`https://*.shop.example`).
    wildcard_origins: Vec<(String, String)>,
    /// The host part of every trusted origin, wildcards as `.domain`, for the Referer check.
    trusted_hosts: Vec<String>,
    /// The cookie domain a secure Referer may match: the session cookie's with `use_sessions`.
    referer_domain: Option<String>,
}

impl CsrfMiddleware {
    /// The middleware for the `[csrf]` settings.
    ///
    /// # Errors
    ///
    /// A message naming the setting: a bad `[csrf]` value, a trusted origin without a scheme,
    /// an unknown `cookie_samesite` or an invalid `header_name`.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let section: CsrfSettings = settings.section().map_err(|e| e.to_string())?;
        let same_site = crate::http::parse_same_site(&section.cookie_samesite, "csrf.cookie_samesite")?;
        let header = HeaderName::try_from(section.header_name.as_str())
            .map_err(|_| format!("`csrf.header_name` `{}` is not an HTTP header name", section.header_name))?;
        let mut middleware = CsrfMiddleware {
            same_site,
            header,
            debug: settings.debug,
            exact_origins: Vec::new(),
            wildcard_origins: Vec::new(),
            trusted_hosts: Vec::new(),
            referer_domain: None,
            settings: section,
        };
        for origin in &middleware.settings.trusted_origins {
            let Some((scheme, netloc)) = split_url(origin).filter(|(s, n)| !s.is_empty() && !n.is_empty()) else {
                return Err(format!(
                    "`csrf.trusted_origins` entry `{origin}` must be an origin with its scheme, e.g. `https://{origin}`"
                ));
            };
            let host = netloc.trim_start_matches('*');
            if origin.contains('*') {
                middleware.wildcard_origins.push((scheme.to_owned(), host.to_ascii_lowercase()));
            } else {
                middleware.exact_origins.push(origin.clone());
            }
            middleware.trusted_hosts.push(host.to_ascii_lowercase());
        }
        if middleware.settings.use_sessions {
            let position = |name: &str| settings.middleware.iter().position(|m| m == name);
            let sessions_first = match (position("manouche.sessions"), position("manouche.csrf")) {
                (Some(sessions), Some(csrf)) => sessions < csrf,
                (sessions, None) => sessions.is_some(),
                (None, Some(_)) => false,
            };
            if !sessions_first {
                return Err("`csrf.use_sessions` keeps the secret in the session: list `manouche.sessions` before `manouche.csrf` in `middleware`".into());
            }
        }
        middleware.referer_domain = if middleware.settings.use_sessions {
            settings.section::<crate::sessions::SessionSettings>().map_err(|e| e.to_string())?.cookie_domain
        } else {
            middleware.settings.cookie_domain.clone()
        };
        Ok(middleware)
    }

    /// Django's `_get_secret`: the client's secret from the cookie (or session), unmasking a
    /// cookie of the old masked form.
    fn read_secret(&self, req: &ServiceRequest) -> Result<Option<String>, ReadError> {
        let secret = if self.settings.use_sessions {
            let session = req.extensions().get::<crate::sessions::Session>().cloned().ok_or(ReadError::NoSession)?;
            session.get::<String>(SESSION_KEY).ok().flatten()
        } else {
            req.cookie(&self.settings.cookie_name).map(|c| c.value().to_owned())
        };
        let Some(secret) = secret else { return Ok(None) };
        token::check_format(&secret).map_err(ReadError::Format)?;
        Ok(Some(if secret.len() == token::TOKEN_LENGTH { token::unmask(&secret) } else { secret }))
    }

    /// Django's `process_view` checks for an unsafe method; `Err` holds the reason.
    async fn check(&self, req: &mut ServiceRequest, secret: Result<Option<String>, BadFormat>) -> Result<(), Refusal> {
        if let Some(origin) = header_str(req.request(), &header::ORIGIN) {
            if !self.origin_verified(req.request(), origin) {
                return Err(format!("Origin checking failed - {origin} does not match any trusted origins.").into());
            }
        } else if is_secure(req.request()) {
            self.check_referer(req.request())?;
        }
        let secret = match secret {
            Ok(Some(secret)) => secret,
            Ok(None) => return Err(REASON_NO_CSRF_COOKIE.into()),
            Err(bad) => return Err(format!("CSRF cookie {}.", bad.reason()).into()),
        };
        let mut source = "POST".to_owned();
        let mut candidate = if req.method() == Method::POST { form_token(req).await? } else { String::new() };
        if candidate.is_empty() {
            // The header, for scripts and for PUT/PATCH/DELETE.
            candidate = header_str(req.request(), &self.header).ok_or(REASON_CSRF_TOKEN_MISSING)?.to_owned();
            source = format!("the '{}' HTTP header", self.settings.header_name);
        }
        if let Err(bad) = token::check_format(&candidate) {
            return Err(format!("CSRF token from {source} {}.", bad.reason()).into());
        }
        if !token::matches(&candidate, &secret) {
            return Err(format!("CSRF token from {source} incorrect.").into());
        }
        Ok(())
    }

    /// Django's `_origin_verified`: this site's own origin, a trusted one, or a trusted wildcard.
    fn origin_verified(&self, req: &HttpRequest, origin: &str) -> bool {
        let scheme = if is_secure(req) { "https" } else { "http" };
        let own = origin.strip_prefix(scheme).and_then(|rest| rest.strip_prefix("://"));
        if own.is_some_and(|host| host == request_host(req)) {
            return true;
        }
        if self.exact_origins.iter().any(|o| o == origin) {
            return true;
        }
        let Some((scheme, netloc)) = split_url(origin) else { return false };
        self.wildcard_origins.iter().any(|(s, pattern)| s.eq_ignore_ascii_case(scheme) && same_domain(netloc, pattern))
    }

    /// Django's `_check_referer`, for HTTPS requests without `Origin`.
    fn check_referer(&self, req: &HttpRequest) -> Result<(), String> {
        let referer = header_str(req, &header::REFERER).ok_or(REASON_NO_REFERER)?;
        let (scheme, netloc) =
            split_url(referer).filter(|(s, n)| !s.is_empty() && !n.is_empty()).ok_or(REASON_MALFORMED_REFERER)?;
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(REASON_INSECURE_REFERER.into());
        }
        if self.trusted_hosts.iter().any(|host| same_domain(netloc, host)) {
            return Ok(());
        }
        let good = match &self.referer_domain {
            None => request_host(req).to_owned(),
            Some(domain) => match request_host(req).rsplit_once(':').map(|(_, port)| port) {
                Some(port) if port != "443" && port != "80" && !port.ends_with(']') => format!("{domain}:{port}"),
                _ => domain.clone(),
            },
        };
        if same_domain(netloc, &good.to_ascii_lowercase()) {
            Ok(())
        } else {
            Err(format!("Referer checking failed - {referer} does not match any trusted origins."))
        }
    }

    /// The secret goes back to the client: in the cookie (and `Vary: Cookie`), or the session.
    fn send_secret(&self, response: &mut ServiceResponse, secret: String) {
        if self.settings.use_sessions {
            let session = response.request().extensions().get::<crate::sessions::Session>().cloned();
            if let Some(session) = session
                && session.get::<String>(SESSION_KEY).ok().flatten().as_deref() != Some(secret.as_str())
                && let Err(error) = session.insert(SESSION_KEY, &secret)
            {
                log::error!(target: "manouche.security.csrf", "the CSRF secret could not be stored: {error}");
            }
            return;
        }
        let s = &self.settings;
        let mut cookie = Cookie::build(s.cookie_name.clone(), secret)
            .path(s.cookie_path.clone())
            .secure(s.cookie_secure)
            .http_only(s.cookie_httponly)
            .same_site(self.same_site)
            .max_age(actix_web::cookie::time::Duration::seconds(i64::try_from(s.cookie_age).unwrap_or(i64::MAX)))
            .finish();
        if let Some(domain) = &s.cookie_domain {
            cookie.set_domain(domain.clone());
        }
        let _ = response.response_mut().add_cookie(&cookie);
        crate::http::vary_on(response.headers_mut(), "Cookie");
    }

    fn reject(&self, req: ServiceRequest, reason: &str) -> ServiceResponse {
        log::warn!(target: "manouche.security.csrf", "Forbidden ({reason}): {}", req.path());
        let page = FailurePage { reason, debug: self.debug, no_cookie: reason == REASON_NO_CSRF_COOKIE };
        let body = page.render().unwrap_or_else(|_| "CSRF verification failed. Request aborted.".into());
        req.into_response(
            HttpResponse::build(StatusCode::FORBIDDEN).content_type("text/html; charset=utf-8").body(body),
        )
    }
}

/// Why the secret could not be read.
enum ReadError {
    Format(BadFormat),
    NoSession,
}

#[derive(Template)]
#[template(path = "manouche/csrf_failure.html")]
struct FailurePage<'a> {
    reason: &'a str,
    debug: bool,
    no_cookie: bool,
}

impl Middleware for CsrfMiddleware {
    fn call<'a>(&'a self, mut req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            // Django's process_request: a malformed secret is replaced (and the reason kept
            // for the check); a masked one is unmasked.
            let secret = match self.read_secret(&req) {
                Ok(secret) => Ok(secret),
                Err(ReadError::Format(bad)) => Err(bad),
                Err(ReadError::NoSession) => {
                    log::error!(target: "manouche.security.csrf", "`csrf.use_sessions` needs `manouche.sessions` before `manouche.csrf` in `middleware`");
                    return req
                        .into_response(HttpResponse::InternalServerError().body("CSRF protection is misconfigured."));
                }
            };
            let state = CsrfToken::with_secret(secret.clone().ok().flatten());
            if secret.is_err() && state.rotate().is_err() {
                return req.into_response(HttpResponse::ServiceUnavailable().finish());
            }
            req.extensions_mut().insert(state.clone());
            // Django's process_view: only requests that reached a view, not exempt, unsafe.
            let checked = {
                let extensions = req.extensions();
                extensions.get::<ResolverMatch>().is_some_and(|m| !m.csrf_exempt)
                    && !extensions.contains::<SkipChecks>()
            };
            let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
            if checked
                && !safe
                && let Err(refusal) = self.check(&mut req, secret).await
            {
                return match refusal {
                    Refusal::Forbidden(reason) => self.reject(req, &reason),
                    Refusal::Unreadable(error) => req.into_response(
                        HttpResponse::build(error.status())
                            .content_type("text/plain; charset=utf-8")
                            .body(error.to_string()),
                    ),
                };
            }
            let mut response = next.run(req).await;
            if let Some(secret) = state.take_update() {
                self.send_secret(&mut response, secret);
            }
            response
        })
    }
}

fn header_str<'r>(req: &'r HttpRequest, name: &HeaderName) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `scheme://netloc/...` → `(scheme, netloc)`, as Python's `urlsplit` takes them apart; a
/// value without `scheme:` is `None`, one without `//` has an empty netloc.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !valid_scheme {
        return None;
    }
    let netloc = match rest.strip_prefix("//") {
        Some(after) => after.split(['/', '?', '#']).next().unwrap_or(""),
        None => "",
    };
    Some((scheme, netloc))
}

/// Django's `is_same_domain`: `pattern` (lower case) is `host`, or `.domain` matching the domain
/// and its subdomains.
fn same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix('.') {
        Some(domain) => host.ends_with(pattern) || host == domain,
        None => host == pattern,
    }
}

/// The `csrfmiddlewaretoken` field of a submitted form (its last value, as Django's
/// `POST.get`); `""` when the body is not a form or has no such field. The form is read once
/// and kept for the view (a multipart body's files are streamed, so it cannot be read twice).
async fn form_token(req: &mut ServiceRequest) -> Result<String, Unreadable> {
    let mut payload = req.take_payload();
    let read = crate::forms::submitted(req.request(), &mut payload).await;
    req.set_payload(payload);
    // Too large, too many fields or files, a broken upload: the client's mistake, said as such
    // (the view would not run either way).
    read.map(|form| form.get(FORM_FIELD).unwrap_or_default().to_owned()).map_err(Unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_like_python() {
        assert_eq!(split_url("https://shop.example:8443/a?b#c"), Some(("https", "shop.example:8443")));
        assert_eq!(split_url("https://shop.example"), Some(("https", "shop.example")));
        assert_eq!(split_url("null"), None);
        assert_eq!(split_url("https:shop"), Some(("https", "")));
        assert_eq!(split_url("//shop.example/"), None);
    }

    #[test]
    fn domains_match_like_django() {
        assert!(same_domain("shop.example", "shop.example"));
        assert!(same_domain("Pay.Shop.example", ".shop.example"));
        assert!(same_domain("shop.example", ".shop.example"));
        assert!(!same_domain("evilshop.example", ".shop.example"));
        assert!(!same_domain("shop.example", ""));
        assert!(!same_domain("shop.example:8000", "shop.example"));
    }
}
