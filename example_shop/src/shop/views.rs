//! The shop's views.

use manouche::http::{FileResponse, HttpResponse};
use manouche::prelude::*;
use manouche::project::ErrorContext;

#[derive(Template)]
#[template(path = "shop/home.html")]
struct Home {
    ctx: RequestContext,
    years: Vec<u16>,
}

/// The front page.
#[view(GET, name = "home")]
pub async fn home(req: Request) -> manouche::Result<HttpResponse> {
    render(&Home { ctx: req.context(), years: vec![2025, 2026] })
}

#[derive(Template)]
#[template(path = "shop/about.html")]
struct About {
    ctx: RequestContext,
}

/// Who we are.
#[view(GET)]
pub async fn about(req: Request) -> manouche::Result<HttpResponse> {
    render(&About { ctx: req.context() })
}

#[derive(Template)]
#[template(path = "shop/archive.html")]
struct Archive {
    ctx: RequestContext,
    year: u16,
}

/// Teas of a given year: a `re_path` route.
#[view(GET)]
pub async fn archive(req: Request, year: Path<u16>) -> manouche::Result<HttpResponse> {
    let year = year.into_inner();
    if !(2000..=2100).contains(&year) {
        return Err(manouche::http::Error::not_found(format!("no archive for {year}")).into());
    }
    render(&Archive { ctx: req.context(), year })
}

/// The catalogue as a CSV download, streamed from disk.
#[view(GET)]
pub async fn catalogue() -> manouche::Result<FileResponse> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalogue.csv");
    Ok(FileResponse::open(path).await?.attachment("catalogue.csv"))
}

#[derive(Template)]
#[template(path = "404.html")]
struct NotFound {
    ctx: RequestContext,
    detail: Option<String>,
}

/// The shop's own 404 page (`Project::error_page`).
///
/// # Errors
///
/// When the template fails to render; the framework then falls back to its built-in page.
pub fn not_found(ctx: &ErrorContext<'_>) -> manouche::Result<HttpResponse> {
    let req = Request::new(ctx.request.clone());
    render(&NotFound { ctx: req.context(), detail: ctx.detail.map(str::to_owned) })
}
