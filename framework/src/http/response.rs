use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;

/// A 302 redirect, e.g. `redirect(&product_detail::url(slug)?)`.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, location)).finish()
}

/// A 301 redirect.
pub fn redirect_permanent(location: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, location)).finish()
}

/// A JSON response, Django's `JsonResponse`.
///
/// # Errors
///
/// [`crate::Error::Other`] when `value` cannot be serialised (a map with non-string keys).
pub fn json(value: &impl Serialize) -> crate::Result<HttpResponse> {
    let body = serde_json::to_vec(value).map_err(crate::Error::other)?;
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}
