//! The shop's views.

use manouche::http::{FileResponse, HttpResponse};
use manouche::prelude::*;
use manouche::project::ErrorContext;

use super::ShopSettings;

pub(crate) fn shop_name(req: &Request) -> String {
    req.settings().app_settings::<ShopSettings>("shop").map(|s| s.name).unwrap_or_else(|_| ShopSettings::default().name)
}

#[derive(Template)]
#[template(path = "shop/home.html")]
struct Home {
    ctx: RequestContext,
    shop_name: String,
    years: Vec<u16>,
}

/// The front page.
#[view(GET, name = "home")]
pub async fn home(req: Request) -> manouche::Result<HttpResponse> {
    render(&Home { shop_name: shop_name(&req), ctx: req.context(), years: vec![2025, 2026] })
}

#[derive(Template)]
#[template(path = "shop/about.html")]
struct About {
    ctx: RequestContext,
    shop_name: String,
}

/// Who we are.
#[view(GET)]
pub async fn about(req: Request) -> manouche::Result<HttpResponse> {
    render(&About { shop_name: shop_name(&req), ctx: req.context() })
}

#[derive(Template)]
#[template(path = "shop/archive.html")]
struct Archive {
    ctx: RequestContext,
    shop_name: String,
    year: u16,
}

/// Teas of a given year: a `re_path` route.
#[view(GET)]
pub async fn archive(req: Request, year: Path<u16>) -> manouche::Result<HttpResponse> {
    let year = year.into_inner();
    if !(2000..=2100).contains(&year) {
        return Err(manouche::http::Error::not_found(format!("no archive for {year}")).into());
    }
    render(&Archive { shop_name: shop_name(&req), ctx: req.context(), year })
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
    shop_name: String,
    detail: Option<String>,
}

/// The shop's own 404 page (`Project::error_page`).
///
/// # Errors
///
/// When the template fails to render; the framework then falls back to its built-in page.
pub fn not_found(ctx: &ErrorContext<'_>) -> manouche::Result<HttpResponse> {
    let req = Request::new(ctx.request.clone());
    render(&NotFound { shop_name: shop_name(&req), ctx: req.context(), detail: ctx.detail.map(str::to_owned) })
}
