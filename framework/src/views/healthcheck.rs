//! A health check for load balancers and orchestrators.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::conf::DatabaseUrl;
use crate::http::Request;

/// `GET` health check: `200 {"status": "ok"}` when the database answers and every migration of
/// the project is applied; `503 {"status": "unavailable"}` with `Retry-After` otherwise.
///
/// What failed (a driver message naming a host, a missing table) is logged at `error` under
/// `manouche.health` and shown in the body only with `debug` on: the public answer says nothing
/// about the infrastructure. Checked: the SQLite file still exists (a deleted database is not
/// served from connections that still hold it open), the database answers, and the migrations
/// table lists every migration of the project's apps.
///
/// ```
/// use manouche::urls::path;
/// let pattern = path("healthz", manouche::views::health);
/// ```
#[manouche::view(GET, name = "health")]
pub async fn health(req: Request) -> HttpResponse {
    match problem(&req).await {
        None => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
        Some(detail) => {
            log::error!(target: "manouche.health", "health check failed: {detail}");
            let mut body = serde_json::json!({ "status": "unavailable" });
            if req.settings().debug {
                body["detail"] = serde_json::Value::String(detail);
            }
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, crate::http::RETRY_AFTER_SECONDS))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(body)
        }
    }
}

/// What is wrong, or `None`.
async fn problem(req: &Request) -> Option<String> {
    let settings = req.settings();
    if let DatabaseUrl::Sqlite(path) = &settings.database_url
        && !path.exists()
    {
        return Some(format!("the SQLite database {} does not exist", path.display()));
    }
    let expected = crate::http::site_migrations(req);
    let applied = match req.db().run(crate::migrations::applied_if_recorded).await {
        Ok(applied) => applied,
        Err(error) => return Some(error.to_string()),
    };
    let missing: Vec<String> =
        expected.iter().filter(|key| !applied.contains(*key)).map(|(app, name)| format!("{app}.{name}")).collect();
    if missing.is_empty() { None } else { Some(format!("unapplied migrations: {}", missing.join(", "))) }
}
