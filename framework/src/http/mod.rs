//! Requests and responses: the [`Request`] extractor, redirects, JSON and streamed files.
//!
//! actix-web's own types are re-exported unchanged: a view can take any actix extractor and return
//! any actix `Responder`.

mod body;
mod error;
mod file;
mod query;
mod request;
mod response;
mod safe_url;
mod server;

pub use self::error::Error;
pub use self::file::FileResponse;
pub use self::query::{Query, urlencode};
pub(crate) use self::request::{SiteState, body_limits, site_migrations, upload_limits};

/// Seconds a `503 Service Unavailable` asks clients to wait before retrying (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 5;
pub(crate) use self::body::{BodyError, read_bounded};
pub use self::request::{ProxySettings, Request, RequestContext, client_ip, is_secure, request_host};
pub(crate) use self::request::{from_trusted_proxy, with_auth_backends};
pub(crate) use self::response::parse_same_site;
pub use self::response::{json, redirect, redirect_permanent, vary_on};
pub use self::safe_url::url_has_allowed_host_and_scheme;
pub use self::server::ServerSettings;
pub(crate) use self::server::{BodyLimits, apply_server_settings};
pub use actix_web::cookie;
pub use actix_web::http::{Method, StatusCode, header};
pub use actix_web::web::{Form, Json, Path};
pub use actix_web::{HttpRequest, HttpResponse, Responder};
