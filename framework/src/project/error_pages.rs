use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use manouche_macros::Template;

/// What a custom error page gets: Django's `handler404` and friends.
#[derive(Debug)]
#[non_exhaustive]
pub struct ErrorContext<'a> {
    /// The status being answered.
    pub status: StatusCode,
    /// The request.
    pub request: &'a HttpRequest,
    /// The error's message, only when `debug` is on.
    pub detail: Option<&'a str>,
}

/// Renders a project's own page for an error status.
pub type ErrorHandler = Arc<dyn Fn(&ErrorContext<'_>) -> crate::Result<HttpResponse> + Send + Sync>;

#[derive(Template)]
#[template(path = "manouche/error.html")]
struct DefaultErrorPage<'a> {
    status: u16,
    title: &'a str,
    method: &'a str,
    path: &'a str,
    detail: Option<&'a str>,
    patterns: Vec<String>,
    public_message: &'a str,
}

#[derive(Clone, Default)]
pub(crate) struct ErrorPages {
    pub(crate) handlers: HashMap<u16, ErrorHandler>,
}

impl fmt::Debug for ErrorPages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorPages").field("custom", &self.handlers.keys().collect::<Vec<_>>()).finish()
    }
}

fn public_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request could not be understood.",
        403 => "You do not have permission to access this page.",
        404 => "The requested resource was not found on this server.",
        405 => "This method is not allowed for the requested URL.",
        413 => "The request is larger than this server accepts.",
        431 => "The request's headers are larger than this server accepts.",
        _ if status.is_server_error() => "A server error occurred and has been logged. Please try again later.",
        _ => "The request could not be completed.",
    }
}

impl ErrorPages {
    /// The built-in page, for when the request itself is no longer available.
    pub(crate) fn render_plain(
        &self,
        status: StatusCode,
        method: &str,
        path: &str,
        detail: &str,
        debug: bool,
    ) -> HttpResponse {
        let page = DefaultErrorPage {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            method,
            path,
            detail: debug.then_some(detail),
            patterns: Vec::new(),
            public_message: public_message(status),
        };
        let body = page.render().unwrap_or_else(|_| public_message(status).to_owned());
        HttpResponse::build(status).insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(body)
    }

    /// The response for an error status; `detail` and `patterns` show only in debug mode.
    pub(crate) fn render(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        detail: &str,
        debug: bool,
        patterns: impl FnOnce() -> Vec<String>,
    ) -> HttpResponse {
        let detail = debug.then_some(detail);
        if let Some(handler) = self.handlers.get(&status.as_u16()) {
            let ctx = ErrorContext { status, request: req, detail };
            match handler(&ctx) {
                Ok(mut response) => {
                    *response.status_mut() = status;
                    return response;
                }
                Err(e) => log::error!(target: "manouche.request", "the {status} page itself failed: {e}"),
            }
        }
        let page = DefaultErrorPage {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            method: req.method().as_str(),
            path: req.path(),
            detail,
            patterns: if debug && status == StatusCode::NOT_FOUND { patterns() } else { Vec::new() },
            public_message: public_message(status),
        };
        let body = page.render().unwrap_or_else(|_| public_message(status).to_owned());
        HttpResponse::build(status).insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(body)
    }
}
