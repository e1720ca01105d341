//! Templates: askama, compiled and type-checked with the crate.
//!
//! Derive [`Template`] (re-exported so an app needs no `askama` dependency), keep the request
//! context in a field, and render with [`render`]:
//!
//! ```
//! use manouche::prelude::*;
//!
//! #[derive(Template)]
//! #[template(source = "<h1>{{ title }}</h1><p>{{ ctx.path }}</p>", ext = "html")]
//! struct Page { title: String, ctx: RequestContext }
//!
//! #[view(GET)]
//! async fn page(req: Request) -> manouche::Result<HttpResponse> {
//!     render(&Page { title: "<Tea & cake>".into(), ctx: req.context() })
//! }
//! ```
//!
//! Templates live in the crate's `templates/` folder, support `{% extends %}` and blocks, and
//! escape HTML in `.html` files. A template naming a field the struct lacks does not compile.

use actix_web::HttpResponse;
pub use askama::Template;

mod context;
pub mod filters;
pub use self::context::{ContextProcessor, ContextProcessorFactory, ContextVars};
pub use manouche_macros::filter_fn;

/// The template a response was rendered from, read by the test client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateUsed(pub &'static str);

/// Renders a template into a 200 HTML response.
///
/// # Errors
///
/// [`crate::Error::Template`] when rendering fails (a filter error or a failing `Display`).
pub fn render<T: Template>(template: &T) -> crate::Result<HttpResponse> {
    render_with_status(template, actix_web::http::StatusCode::OK)
}

/// Renders a template into an HTML response with the given status.
///
/// # Errors
///
/// As [`render`].
pub fn render_with_status<T: Template>(
    template: &T,
    status: actix_web::http::StatusCode,
) -> crate::Result<HttpResponse> {
    let body = template.render()?;
    let mut response = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body);
    response.extensions_mut().insert(TemplateUsed(short_type_name::<T>()));
    Ok(response)
}

/// `example_shop::shop::views::Home` → `Home`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
