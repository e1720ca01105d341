//! The crate-wide [`Error`] and [`Result`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Any error a view, command or the framework can return; views use `?` on every module's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An HTTP-level outcome: 404, 403, 400 and friends.
    #[error(transparent)]
    Http(#[from] crate::http::Error),
    /// A database operation failed (404 for `DoesNotExist`, 503 when unavailable).
    #[error(transparent)]
    Db(#[from] crate::db::Error),
    /// A cache operation failed (503 when the cache is down and errors are raised).
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    /// A task could not be enqueued or its result read (503 when the broker is down).
    #[error(transparent)]
    Tasks(#[from] crate::tasks::TasksError),
    /// Settings could not be loaded.
    #[error(transparent)]
    Settings(#[from] crate::conf::Error),
    /// A URL could not be reversed.
    #[error(transparent)]
    Reverse(#[from] crate::urls::NoReverseMatch),
    /// A template failed to render.
    #[error("template rendering failed: {0}")]
    Template(#[from] askama::Error),
    /// An extractor rejected the request (bad path parameter, JSON body, form, ...).
    #[error("{0}")]
    Request(actix_web::Error),
    /// The project is misconfigured (bad URL pattern, unknown middleware, ...).
    #[error("improperly configured: {0}")]
    ImproperlyConfigured(String),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Any other error, wrapped by [`Error::other`].
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// `Result<T, manouche::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps any error, answered as a 500.
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Other(error.into())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Http(e) => e.status(),
            Error::Db(e) => e.status(),
            Error::Cache(e) => e.status(),
            Error::Tasks(e) => e.status(),
            Error::Request(e) => e.as_response_error().status_code(),
            Error::Reverse(_)
            | Error::Settings(_)
            | Error::Template(_)
            | Error::ImproperlyConfigured(_)
            | Error::Io(_)
            | Error::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<actix_web::Error> for Error {
    fn from(error: actix_web::Error) -> Self {
        Error::Request(error)
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        // Outside a project's pipeline (plain actix), answer without details.
        let status = self.status();
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(status.canonical_reason().unwrap_or("Error").to_owned())
    }
}
