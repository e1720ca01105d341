//! What a form submitted: Django's `request.POST` (a `QueryDict`), as an extractor.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest};

use super::UploadedFile;

/// The default largest form body read (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`, 2.5 MB): a larger
/// one is refused with 413 before it is held in memory. The `[server] max_body_bytes` setting
/// changes it.
pub const MAX_FORM_BODY: usize = 2_621_440;

/// The fields a form submitted, in order, each key possibly repeated (a multi-select sends one
/// pair a chosen option), and the files it sent (Django's `request.POST` and `request.FILES`).
///
/// As an extractor it reads an `application/x-www-form-urlencoded` or `multipart/form-data`
/// body of a `POST`, `PUT`, `PATCH` or `DELETE` request and is then *submitted*; any other
/// request gives empty, not submitted data, so one view shows the empty form on `GET` and
/// checks it on `POST`. Files of a multipart body are kept in memory up to `[server]
/// file_upload_max_memory_bytes` and streamed to a temporary file beyond it
/// ([`UploadedFile`](super::UploadedFile)).
///
/// ```
/// use manouche::forms::FormData;
///
/// let data = FormData::from_urlencoded(b"tag=a&tag=b&name=Ada+L.&empty=");
/// assert_eq!(data.get("name"), Some("Ada L."));
/// assert_eq!(data.get_all("tag"), ["a", "b"]);
/// assert!(data.is_submitted());
/// assert!(!FormData::default().is_submitted());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData {
    pairs: Vec<(String, String)>,
    files: Vec<(String, UploadedFile)>,
    submitted: bool,
}

impl FormData {
    /// Submitted data from a urlencoded body or query string (without `?`).
    pub fn from_urlencoded(body: &[u8]) -> Self {
        FormData { pairs: form_urlencoded::parse(body).into_owned().collect(), files: Vec::new(), submitted: true }
    }

    /// Submitted fields and files (what a multipart body gave).
    pub(crate) fn with_files(pairs: Vec<(String, String)>, files: Vec<(String, UploadedFile)>) -> Self {
        FormData { pairs, files, submitted: true }
    }

    /// Submitted, with no fields (a body that is not a form: required fields say so).
    pub(crate) fn submitted_empty() -> Self {
        FormData { submitted: true, ..FormData::default() }
    }

    /// Submitted data from pairs (tests, and forms built from something other than a request).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        FormData {
            pairs: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            files: Vec::new(),
            submitted: true,
        }
    }

    /// The same data with `file` sent for the field `name` (tests, and forms bound by hand).
    #[must_use]
    pub fn with_file(mut self, name: impl Into<String>, file: UploadedFile) -> Self {
        self.files.push((name.into(), file));
        self.submitted = true;
        self
    }

    /// The request's query string as submitted data (a search or filter form sent by `GET`);
    /// not submitted when the query string is empty.
    pub fn from_query(req: &HttpRequest) -> Self {
        let query = req.query_string();
        if query.is_empty() { FormData::default() } else { FormData::from_urlencoded(query.as_bytes()) }
    }

    /// Whether a form was submitted: a bound form validates it, an unbound one shows initial values.
    pub fn is_submitted(&self) -> bool {
        self.submitted
    }

    /// The last value sent for `name` (Django's `POST.get`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value sent for `name`, in order (Django's `POST.getlist`).
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Whether `name` was sent at all.
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// The pairs, in the order sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The last file sent for `name` (Django's `FILES.get`).
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().rev().find(|(k, _)| k == name).map(|(_, f)| f)
    }

    /// Every file sent for `name`, in order (Django's `FILES.getlist`: a `multiple` input).
    pub fn files(&self, name: &str) -> Vec<&UploadedFile> {
        self.files.iter().filter(|(k, _)| k == name).map(|(_, f)| f).collect()
    }

    /// `(field, file)` of every file sent, in order.
    pub fn all_files(&self) -> impl Iterator<Item = (&str, &UploadedFile)> {
        self.files.iter().map(|(k, f)| (k.as_str(), f))
    }
}

fn carries_form(req: &HttpRequest) -> bool {
    matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// The whole body of a form, bounded by `[server] max_body_bytes` (413 past it): for the
/// extractor and for rate limits keyed by a field.
pub(crate) async fn read_body(req: &HttpRequest, payload: Payload) -> crate::Result<actix_web::web::Bytes> {
    let (max, _) = crate::http::body_limits(req);
    crate::http::read_bounded(payload, max).await.map_err(|error| match error {
        crate::http::BodyError::TooLarge => {
            crate::http::Error::payload_too_large(format!("The form is too large ({max} bytes at most).")).into()
        }
        crate::http::BodyError::Broken(e) => crate::http::Error::bad_request(format!("unreadable form: {e}")).into(),
    })
}

/// Whether the declared `Content-Type`, parameters aside, is `essence` (in any case).
pub(crate) fn content_type_is(headers: &header::HeaderMap, essence: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|declared| declared.trim().eq_ignore_ascii_case(essence))
}

/// Whether the request's body is declared urlencoded.
pub(crate) fn is_urlencoded(req: &HttpRequest) -> bool {
    content_type_is(req.headers(), "application/x-www-form-urlencoded")
}

/// A urlencoded body's pairs, refused with 400 past `[server] max_form_fields` (Django's
/// `DATA_UPLOAD_MAX_NUMBER_FIELDS`, counted before anything is decoded).
pub(crate) fn parse_counted(req: &HttpRequest, body: &[u8]) -> crate::Result<FormData> {
    let (_, max_fields) = crate::http::body_limits(req);
    let fields = body.split(|b| *b == b'&').filter(|pair| !pair.is_empty()).count();
    if fields > max_fields {
        return Err(crate::http::Error::bad_request(format!(
            "The form sent {fields} fields; {max_fields} at most are accepted."
        ))
        .into());
    }
    Ok(FormData::from_urlencoded(body))
}

impl FromRequest for FormData {
    type Error = crate::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !carries_form(req) {
            return Box::pin(std::future::ready(Ok(FormData::default())));
        }
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move { super::upload::submitted(&req, &mut payload).await })
    }
}
