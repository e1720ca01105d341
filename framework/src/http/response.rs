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

/// Adds `name` to the response's `Vary` header unless it (or `*`) is already there (Django's
/// `patch_vary_headers` for one header).
pub fn vary_on(headers: &mut header::HeaderMap, name: &'static str) {
    let present = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(name) || v.trim() == "*");
    if !present {
        headers.append(header::VARY, header::HeaderValue::from_static(name));
    }
}

/// A cookie's `SameSite` from a setting (`Lax`, `Strict` or `None`, any case); the error names
/// `key`.
pub(crate) fn parse_same_site(text: &str, key: &str) -> Result<actix_web::cookie::SameSite, String> {
    use actix_web::cookie::SameSite;
    match text.to_ascii_lowercase().as_str() {
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        "none" => Ok(SameSite::None),
        other => Err(format!("`{key}` is `Lax`, `Strict` or `None`, not `{other}`")),
    }
}
