//! Requests and responses: the [`Request`] extractor, redirects, JSON and streamed files.
//!
//! actix-web's own types are re-exported unchanged: a view can take any actix extractor and return
//! any actix `Responder`.

mod error;
mod file;
mod request;
mod response;

pub use self::error::Error;
pub use self::file::FileResponse;
pub(crate) use self::request::SiteState;
pub use self::request::{Request, RequestContext};
pub use self::response::{json, redirect, redirect_permanent};
pub use actix_web::cookie;
pub use actix_web::http::{Method, StatusCode, header};
pub use actix_web::web::{Form, Json, Path, Query};
pub use actix_web::{HttpRequest, HttpResponse, Responder};
