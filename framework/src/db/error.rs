use actix_web::http::StatusCode;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `get()` matched no row: answered as a 404.
    #[error("no {model} matches the given query")]
    DoesNotExist {
        /// The model queried, e.g. `"Product"`.
        model: &'static str,
    },
    /// `get()` matched several rows.
    #[error("expected one {model}, found {count}")]
    MultipleObjectsReturned {
        /// The model queried.
        model: &'static str,
        /// How many rows matched.
        count: usize,
    },
    /// No connection could be had in time (pool exhausted or database unreachable): a 503.
    #[error("database unavailable: {reason}")]
    Unavailable {
        /// The pool's or driver's explanation.
        reason: String,
    },
    /// A query failed.
    #[error("database error: {}", with_causes(.0))]
    Query(#[from] diesel::result::Error),
    /// `add()` on a many-to-many relation whose through model is declared: its rows carry fields
    /// of their own, so they are created as instances of it.
    #[error("the relation goes through `{through}`: save a `{through}` to link two rows")]
    DeclaredThrough {
        /// The through model.
        through: &'static str,
    },
    /// A value could not be turned into JSON (`values()`).
    #[error("cannot serialise a value: {0}")]
    Serialize(#[source] serde_json::Error),
    /// A connection could not be opened or configured.
    #[error("cannot connect to the database: {0}")]
    Connection(String),
}

impl Error {
    /// The HTTP status a view failing with this error answers.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::DoesNotExist { .. } => StatusCode::NOT_FOUND,
            Error::Unavailable { .. } | Error::Connection(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::MultipleObjectsReturned { .. }
            | Error::Query(_)
            | Error::Serialize(_)
            | Error::DeclaredThrough { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `error: cause: cause`, so a log line says why (Diesel's deserialisation errors name only the
/// field in their own message).
fn with_causes(error: &diesel::result::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
