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
    /// `bulk_update` was asked to change the primary key, which identifies the rows it updates.
    #[error("`bulk_update` cannot change the primary key of {model}; save the rows one by one")]
    PrimaryKeyUpdate {
        /// The model.
        model: &'static str,
    },
    /// Values given as text (a form, a fixture, an admin filter) that do not fit the model's
    /// fields: each `(field, message)`, as Django's form errors. A 400.
    #[error("invalid {model}: {}", .errors.iter().map(|(f, m)| if f.is_empty() { m.clone() } else { format!("{f}: {m}") }).collect::<Vec<_>>().join("; "))]
    InvalidInput {
        /// The model.
        model: &'static str,
        /// `(field, message)` pairs; the field is empty for a problem of the whole input.
        errors: Vec<(String, String)>,
    },
    /// A delete refused because `protect` (or `restrict`) relations keep rows referring to the
    /// ones to delete: Django's `ProtectedError`. A 409.
    #[error("cannot delete {model}: {} refer to it and are protected", .rows.iter().map(|(m, r)| format!("{m} `{r}`")).collect::<Vec<_>>().join(", "))]
    Protected {
        /// The model whose rows were to be deleted.
        model: &'static str,
        /// `(model label, display)` of each protected row.
        rows: Vec<(String, String)>,
    },
    /// A [`super::Paginator`] page number out of range: a 404, as Django's list views answer.
    #[error("invalid page: {message}")]
    InvalidPage {
        /// Why, e.g. "that page contains no results".
        message: String,
    },
    /// A connection could not be opened or configured.
    #[error("cannot connect to the database: {0}")]
    Connection(String),
    /// The handle has no database behind it: a request built outside a project.
    #[error("no database: {0}")]
    NotConfigured(&'static str),
}

impl Error {
    /// The HTTP status a view failing with this error answers: 404 for [`Error::DoesNotExist`],
    /// 503 when the database is unavailable, 400 when the database refused a value the request
    /// supplied ([`Error::is_bad_input`]), else 500.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::DoesNotExist { .. } | Error::InvalidPage { .. } => StatusCode::NOT_FOUND,
            Error::Unavailable { .. } | Error::Connection(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Query(_) if self.is_bad_input() => StatusCode::BAD_REQUEST,
            Error::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            Error::Protected { .. } => StatusCode::CONFLICT,
            Error::MultipleObjectsReturned { .. }
            | Error::Query(_)
            | Error::Serialize(_)
            | Error::DeclaredThrough { .. }
            | Error::PrimaryKeyUpdate { .. }
            | Error::NotConfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl Error {
    /// Whether the database refused the query because of a value too large or too complex for
    /// it, which comes from what a user typed rather than from the code: SQLite's `LIKE or GLOB
    /// pattern too complex` and `string or blob too big`, PostgreSQL's `value too long for type`
    /// and out-of-range numbers. Views answer these with 400 instead of 500.
    pub fn is_bad_input(&self) -> bool {
        const INPUT_ERRORS: &[&str] = &[
            "LIKE or GLOB pattern too complex",
            "string or blob too big",
            "value too long for type",
            "out of range for type",
            "invalid byte sequence for encoding",
        ];
        match self {
            Error::Query(diesel::result::Error::DatabaseError(_, info)) => {
                INPUT_ERRORS.iter().any(|text| info.message().contains(text))
            }
            _ => false,
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
