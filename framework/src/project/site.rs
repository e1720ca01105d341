use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, Responder, web};
use percent_encoding::percent_decode_str;

use super::error_pages::ErrorPages;
use super::panic_guard::CatchUnwind;
use crate::conf::Settings;
use crate::http::{FileResponse, SiteState};
use crate::middleware::{Endpoint, Middleware, MiddlewareFuture, Next};
use crate::signals::{
    GOT_REQUEST_EXCEPTION, GotRequestException, REQUEST_FINISHED, REQUEST_STARTED, RequestFinished, RequestStarted,
};
use crate::urls::{Resolution, Resolver, ResolverMatch};

/// A built project: everything the request path needs, immutable and shared by the workers.
#[derive(Debug)]
pub(crate) struct Site {
    pub(crate) settings: Arc<Settings>,
    pub(crate) resolver: Arc<Resolver>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) error_pages: ErrorPages,
    pub(crate) static_dirs: Vec<PathBuf>,
    pub(crate) state: web::Data<SiteState>,
}

impl Site {
    /// The project's state as the current project of code without a request at hand (tasks).
    pub(crate) fn ambient(&self) -> crate::context::Ambient {
        crate::context::Ambient(self.state.clone().into_inner())
    }
}

impl std::fmt::Debug for dyn Middleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Middleware")
    }
}

/// What URL resolution decided, stored in the request for the endpoint.
#[derive(Debug, Clone)]
enum Outcome {
    View(usize),
    Static(Vec<PathBuf>),
    NotFound(String),
    MethodNotAllowed { allow: String },
    Options { allow: String },
    AppendSlash(String),
    BadRequest(String),
    TooLarge(String),
    HeadersTooLarge(String),
}

impl Site {
    /// An actix `App` serving this site; every request goes through [`Site::handle`].
    pub(crate) fn actix_app(
        self: &Arc<Self>,
    ) -> actix_web::App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<BoxBody>,
            Error = actix_web::Error,
            InitError = (),
        > + use<>,
    > {
        crate::urls::install_current(&self.resolver);
        let site = Arc::clone(self);
        let ambient = self.ambient();
        actix_web::App::new().app_data(self.state.clone()).default_service(fn_service(move |req: ServiceRequest| {
            let site = Arc::clone(&site);
            let ambient = ambient.clone();
            async move { crate::context::scope(ambient, site.handle(req)).await }
        }))
    }

    async fn handle(&self, mut req: ServiceRequest) -> Result<ServiceResponse, actix_web::Error> {
        let start = Instant::now();
        if REQUEST_STARTED.has_receivers() {
            REQUEST_STARTED.send(&RequestStarted { method: req.method().to_string(), path: req.path().to_owned() });
        }
        let outcome = self.resolve(&mut req);
        req.extensions_mut().insert(outcome);
        // Cheap handles kept for a middleware panic, when the request itself is gone. The request
        // is not cloned: middleware may still change its headers, which needs it unshared.
        let (method, uri) = (req.method().clone(), req.uri().clone());
        let endpoint = SiteEndpoint { site: self };
        let response = match CatchUnwind::new(Next::new(&self.middleware, &endpoint).run(req)).await {
            Ok(response) => response,
            Err(message) => {
                let path = uri.path();
                log::error!(target: "manouche.request", "{method} {path}: middleware panicked: {message}");
                GOT_REQUEST_EXCEPTION.send(&GotRequestException {
                    method: method.to_string(),
                    path: path.to_owned(),
                    error: message.clone(),
                    panicked: true,
                });
                let page = self.error_pages.render_plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    method.as_str(),
                    path,
                    &message,
                    self.settings.debug,
                );
                return Err(actix_web::error::InternalError::from_response(message, page).into());
            }
        };
        if REQUEST_FINISHED.has_receivers() {
            REQUEST_FINISHED.send(&RequestFinished {
                method: response.request().method().to_string(),
                path: response.request().path().to_owned(),
                status: response.status().as_u16(),
                duration: start.elapsed(),
            });
        }
        Ok(response)
    }

    /// Host check, static files, then URL resolution; fills `match_info` before the request is
    /// shared (actix needs it unshared to change it).
    fn resolve(&self, req: &mut ServiceRequest) -> Outcome {
        let head: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
        if head > self.state.max_header_bytes {
            return Outcome::HeadersTooLarge(format!(
                "The request headers take {head} bytes; this server accepts {} at most.",
                self.state.max_header_bytes
            ));
        }
        if let Err(detail) = self.check_host(req) {
            return Outcome::BadRequest(detail);
        }
        // Django's DATA_UPLOAD_MAX_MEMORY_SIZE, refused before a byte of the body is read; an
        // upload (files streamed to disk) has its own, larger bound.
        if let Some(length) =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        {
            let limits = &self.state.limits;
            let max = if crate::forms::is_multipart(req.headers()) {
                limits.max_upload_bytes
            } else {
                limits.max_body_bytes as u64
            };
            if length > max {
                return Outcome::TooLarge(format!(
                    "The request body is {length} bytes; this server accepts {max} at most."
                ));
            }
        }
        // Borrowed unless the path has escapes.
        let Ok(path) = percent_decode_str(req.path()).decode_utf8() else {
            return Outcome::BadRequest("the request path is not valid UTF-8".into());
        };
        if self.settings.debug
            && let Some(rel) = path.strip_prefix(self.settings.static_url.as_str())
        {
            return match self.static_candidates(rel) {
                Some(files) => Outcome::Static(files),
                None => Outcome::NotFound(format!("invalid static file path `{rel}`")),
            };
        }
        let found = match self.resolver.resolve(&path, req.method().as_str()) {
            Resolution::Found(found) => found,
            // Django's View answers OPTIONS itself with the allowed methods.
            Resolution::MethodNotAllowed(route) if req.method() == actix_web::http::Method::OPTIONS => {
                return Outcome::Options { allow: route.allow_header() };
            }
            Resolution::MethodNotAllowed(route) => return Outcome::MethodNotAllowed { allow: route.allow_header() },
            Resolution::NotFound => return self.not_found(req, &path),
        };
        let info = req.match_info_mut();
        for (name, value) in found.params {
            info.add_static(name, value);
        }
        let route = found.route;
        req.extensions_mut().insert(ResolverMatch {
            name: route.shared_name(),
            view: route.view_path(),
            csrf_exempt: route.view().info().csrf_exempt,
        });
        Outcome::View(found.index)
    }

    /// Django's `get_host()` check: the host is the authority of an absolute-form request target
    /// (`GET http://host/ HTTP/1.1`, as RFC 9112 says) or else the `Host` header; the whole value
    /// must be `host[:port]` (a name, an IPv4 address or a bracketed IPv6 one, and digits for
    /// the port) before its name is matched against `allowed_hosts`.
    fn check_host(&self, req: &ServiceRequest) -> Result<(), String> {
        let host = crate::http::request_host(req.request());
        let Some(domain) = split_domain_port(host) else {
            return Err(format!(
                "invalid HTTP_HOST header: `{}`; the domain name provided is not valid",
                host.escape_debug()
            ));
        };
        if self.settings.host_allowed(domain) {
            Ok(())
        } else {
            Err(format!("invalid HTTP_HOST header: `{host}`; you may need to add `{domain}` to `allowed_hosts`"))
        }
    }

    /// Django's `APPEND_SLASH`: redirect `GET /x` to `/x/` when only the latter matches.
    fn not_found(&self, req: &ServiceRequest, path: &str) -> Outcome {
        let method = req.method().as_str();
        if self.settings.append_slash && !path.ends_with('/') && matches!(method, "GET" | "HEAD") {
            let with_slash = format!("{path}/");
            if self.resolver.matches(&with_slash) {
                let mut location = format!("{}/", req.path());
                if !req.query_string().is_empty() {
                    location.push('?');
                    location.push_str(req.query_string());
                }
                return Outcome::AppendSlash(location);
            }
        }
        Outcome::NotFound(format!("no URL pattern matches `{path}`"))
    }

    /// Where `rel` may be, in folder order; `..` and absolute paths never escape the folders.
    /// Files are opened later, on the blocking pool.
    fn static_candidates(&self, rel: &str) -> Option<Vec<PathBuf>> {
        let rel = Path::new(rel);
        if rel.as_os_str().is_empty()
            || rel.as_os_str().as_encoded_bytes().contains(&0)
            || rel.components().any(|c| !matches!(c, Component::Normal(_)))
        {
            return None;
        }
        Some(self.static_dirs.iter().map(|dir| dir.join(rel)).collect())
    }

    fn error_response(&self, req: &HttpRequest, status: StatusCode, detail: &str) -> HttpResponse {
        self.error_pages.render(req, status, detail, self.settings.debug, || {
            self.resolver
                .routes()
                .iter()
                .map(|r| match r.name() {
                    Some(name) => format!("{}  [name='{name}']", r.pattern()),
                    None => r.pattern(),
                })
                .collect()
        })
    }

    fn server_error(&self, req: &HttpRequest, status: StatusCode, message: &str, panicked: bool) -> HttpResponse {
        log::error!(target: "manouche.request", "{} {}: {}{message}", req.method(), req.path(), if panicked { "view panicked: " } else { "" });
        GOT_REQUEST_EXCEPTION.send(&GotRequestException {
            method: req.method().to_string(),
            path: req.path().to_owned(),
            error: message.to_owned(),
            panicked,
        });
        self.error_response(req, status, message)
    }

    fn error_to_response(&self, req: &HttpRequest, error: &crate::Error) -> HttpResponse {
        let status = error.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Not a bug of the site: logged by the layer that failed, answered with a hint.
            let mut response = self.error_response(req, status, &error.to_string());
            response.headers_mut().insert(header::RETRY_AFTER, crate::http::RETRY_AFTER_SECONDS.into());
            return response;
        }
        if status.is_server_error() {
            return self.server_error(req, status, &error.to_string(), false);
        }
        let mut response = self.error_response(req, status, &error.to_string());
        if let crate::Error::Http(crate::http::Error::MethodNotAllowed { allow, .. }) = error
            && let Ok(value) = header::HeaderValue::from_str(allow)
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    }
}

/// The domain of a `host[:port]` value, or `None` when the value does not fit Django's grammar:
/// `[a-z0-9.-]+` (any case) or `[` hex digits and colons `]`, then optionally `:` and digits.
/// `localhost:80/x`, `a:b@evil`, `[::1]evil` and `host:abc` fail. No allocation: it runs on
/// every request.
fn split_domain_port(host: &str) -> Option<&str> {
    let (domain, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let (domain, rest) = host.split_at(end + 1);
        let inner = &domain[1..domain.len() - 1];
        let valid_ipv6 = inner.contains(':')
            && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            && !inner.starts_with('.');
        if !valid_ipv6 {
            return None;
        }
        match rest {
            "" => (domain, None),
            _ => (domain, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match host.split_once(':') {
            Some((domain, port)) => (domain, Some(port)),
            None => (host, None),
        }
    };
    let valid_name = !domain.is_empty()
        && (domain.starts_with('[') || domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    let valid_port = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (valid_name && valid_port).then_some(domain)
}

struct SiteEndpoint<'s> {
    site: &'s Site,
}

impl Endpoint for SiteEndpoint<'_> {
    fn call<'a>(&'a self, req: ServiceRequest) -> MiddlewareFuture<'a> {
        let site = self.site;
        Box::pin(async move {
            let outcome = req.extensions_mut().remove::<Outcome>().unwrap_or_else(|| Outcome::NotFound(String::new()));
            let (http_req, payload) = req.into_parts();
            let response = match outcome {
                Outcome::View(index) => {
                    let view = site.resolver.routes()[index].view().clone();
                    match CatchUnwind::new(view.call(http_req.clone(), payload)).await {
                        Ok(Ok(response)) => response,
                        Ok(Err(error)) => site.error_to_response(&http_req, &error),
                        Err(message) => site.server_error(&http_req, StatusCode::INTERNAL_SERVER_ERROR, &message, true),
                    }
                }
                Outcome::Static(candidates) => 'found: {
                    for candidate in candidates {
                        match FileResponse::open(candidate).await {
                            Ok(file) => break 'found file.respond_to(&http_req).map_into_boxed_body(),
                            Err(crate::Error::Http(_)) => {}
                            Err(error) => break 'found site.error_to_response(&http_req, &error),
                        }
                    }
                    let detail = format!("no static file `{}`", http_req.path());
                    site.error_response(&http_req, StatusCode::NOT_FOUND, &detail)
                }
                Outcome::NotFound(detail) => site.error_response(&http_req, StatusCode::NOT_FOUND, &detail),
                Outcome::BadRequest(detail) => site.error_response(&http_req, StatusCode::BAD_REQUEST, &detail),
                Outcome::TooLarge(detail) => site.error_response(&http_req, StatusCode::PAYLOAD_TOO_LARGE, &detail),
                Outcome::HeadersTooLarge(detail) => {
                    site.error_response(&http_req, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &detail)
                }
                Outcome::AppendSlash(location) => crate::http::redirect_permanent(&location),
                Outcome::Options { allow } => HttpResponse::Ok()
                    .insert_header((header::ALLOW, allow))
                    .insert_header((header::CONTENT_LENGTH, 0))
                    .finish(),
                Outcome::MethodNotAllowed { allow } => {
                    let error = crate::http::Error::MethodNotAllowed { method: http_req.method().to_string(), allow };
                    site.error_to_response(&http_req, &error.into())
                }
            };
            ServiceResponse::new(http_req, response)
        })
    }
}
