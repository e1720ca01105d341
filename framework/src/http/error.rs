use actix_web::http::StatusCode;

/// An HTTP-level error a view returns to answer with an error page.
///
/// # Examples
///
/// ```
/// use manouche::http::Error;
/// fn find(slug: &str) -> Result<&'static str, Error> {
///     if slug == "teapot" { Ok("Teapot") } else { Err(Error::not_found(format!("no product `{slug}`"))) }
/// }
/// assert_eq!(find("kettle").unwrap_err().status().as_u16(), 404);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 404: Django's `Http404`.
    #[error("not found: {message}")]
    NotFound {
        /// Shown only in debug mode.
        message: String,
    },
    /// 403: Django's `PermissionDenied`.
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// Shown only in debug mode.
        message: String,
    },
    /// 400: Django's `SuspiciousOperation` and `BadRequest`.
    #[error("bad request: {message}")]
    BadRequest {
        /// Shown to the client: say what was wrong.
        message: String,
    },
    /// 413: a request body over the limit (Django's `RequestDataTooBig`).
    #[error("request body too large: {message}")]
    PayloadTooLarge {
        /// Shown to the client: say what the limit is.
        message: String,
    },
    /// 405, with the methods the resource accepts.
    #[error("method {method} not allowed; allowed: {allow}")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The `Allow` header value.
        allow: String,
    },
}

impl Error {
    /// A 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound { message: message.into() }
    }

    /// A 403.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::PermissionDenied { message: message.into() }
    }

    /// A 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest { message: message.into() }
    }

    /// A 413.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Error::PayloadTooLarge { message: message.into() }
    }

    /// The status code answered.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::PermissionDenied { .. } => StatusCode::FORBIDDEN,
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}
