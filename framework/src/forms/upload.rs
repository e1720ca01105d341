//! Uploaded files: Django's `request.FILES`, read from a `multipart/form-data` body.
//!
//! A file up to `[server] file_upload_max_memory_bytes` (2.5 MB) is kept in memory; a larger
//! one is streamed to a temporary file as it arrives (Django's `TemporaryUploadedFile`), so an
//! upload never holds more than that much memory per file. The temporary file is deleted when
//! the last [`UploadedFile`] handle to it is dropped: save or copy it in the view.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::HeaderMap;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use futures_core::Stream;

use super::FormData;
use crate::http::BodyLimits;

/// Bytes gathered before one write to a temporary file (one hop to the blocking pool each).
const WRITE_BATCH: usize = 256 * 1024;

/// A file sent with a form: its name as the client gave it (without any directory), its
/// content type, its size, and its content, in memory or in a temporary file.
///
/// ```
/// use manouche::forms::UploadedFile;
///
/// let file = UploadedFile::from_bytes("notes.txt", "text/plain", b"hello".to_vec());
/// assert_eq!((file.name(), file.content_type(), file.size()), ("notes.txt", "text/plain", 5));
/// assert_eq!(file.read().unwrap(), b"hello");
/// assert!(file.temporary_path().is_none());
/// ```
#[derive(Clone)]
pub struct UploadedFile(Arc<Inner>);

struct Inner {
    name: String,
    content_type: String,
    charset: Option<String>,
    size: u64,
    content: Content,
}

enum Content {
    Memory(Bytes),
    Disk(TempFile),
}

/// A temporary file removed when dropped.
struct TempFile {
    path: PathBuf,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Already gone (moved away by the view, or the directory cleaned) is fine.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl UploadedFile {
    /// A file held in memory: for tests and for forms bound to data built by hand.
    pub fn from_bytes(name: impl Into<String>, content_type: impl Into<String>, content: impl Into<Bytes>) -> Self {
        let content = content.into();
        UploadedFile(Arc::new(Inner {
            name: name.into(),
            content_type: content_type.into(),
            charset: None,
            size: content.len() as u64,
            content: Content::Memory(content),
        }))
    }

    /// The file's name as the client sent it, without directories or control characters
    /// (Django's sanitised `UploadedFile.name`). Never trust it as a path: choose where to
    /// store the file yourself.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The content type the client declared (`application/octet-stream` when it declared
    /// none). Declared, not checked: look at the content when it matters.
    pub fn content_type(&self) -> &str {
        &self.0.content_type
    }

    /// The `charset` parameter of the declared content type, if any.
    pub fn charset(&self) -> Option<&str> {
        self.0.charset.as_deref()
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.0.size
    }

    /// Where the file was streamed on disk (Django's `temporary_file_path()`), or `None` when it
    /// is held in memory. The file is deleted when the last handle is dropped.
    pub fn temporary_path(&self) -> Option<&Path> {
        match &self.0.content {
            Content::Memory(_) => None,
            Content::Disk(file) => Some(&file.path),
        }
    }

    /// A reader over the content.
    ///
    /// # Errors
    ///
    /// When the temporary file cannot be opened.
    pub fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(match &self.0.content {
            Content::Memory(bytes) => Box::new(&bytes[..]),
            Content::Disk(file) => Box::new(std::fs::File::open(&file.path)?),
        })
    }

    /// The whole content. For a large file prefer [`open`](Self::open) or [`save`](Self::save),
    /// which do not hold it in memory.
    ///
    /// # Errors
    ///
    /// When the temporary file cannot be read.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        match &self.0.content {
            Content::Memory(bytes) => Ok(bytes.to_vec()),
            Content::Disk(file) => std::fs::read(&file.path),
        }
    }

    /// Writes the content to `path` (created or truncated), copying a temporary file without
    /// reading it into memory. Blocking: in an async view, call it from
    /// [`Database::run`](crate::db::Database::run) or a blocking task.
    ///
    /// # Errors
    ///
    /// When `path` cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<u64> {
        match &self.0.content {
            Content::Memory(bytes) => {
                let mut out = std::fs::File::create(path)?;
                out.write_all(bytes)?;
                Ok(bytes.len() as u64)
            }
            Content::Disk(file) => std::fs::copy(&file.path, path),
        }
    }
}

impl fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadedFile")
            .field("name", &self.0.name)
            .field("content_type", &self.0.content_type)
            .field("size", &self.0.size)
            .field("temporary_path", &self.temporary_path())
            .finish()
    }
}

/// Two handles are equal when they name the same upload, or hold equal files in memory.
impl PartialEq for UploadedFile {
    fn eq(&self, other: &Self) -> bool {
        if Arc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        let (a, b) = (&*self.0, &*other.0);
        let same_content = match (&a.content, &b.content) {
            (Content::Memory(x), Content::Memory(y)) => x == y,
            (Content::Disk(x), Content::Disk(y)) => x.path == y.path,
            _ => false,
        };
        same_content && a.name == b.name && a.content_type == b.content_type
    }
}

impl Eq for UploadedFile {}

/// Whether the request's body is `multipart/form-data`.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    super::data::content_type_is(headers, "multipart/form-data")
}

/// The form of a request, read once and kept in its extensions, so that the CSRF check, a rate
/// limit keyed by a field and the view's [`FormData`] share one reading (a multipart body can
/// only be read once: its files are streamed away).
#[derive(Clone)]
struct ParsedForm(FormData);

/// The form `req` submitted: a urlencoded body (put back for views reading it raw) or a
/// multipart one (fields and files), read once per request. Any other body gives submitted,
/// empty data.
pub(crate) async fn submitted(req: &HttpRequest, payload: &mut Payload) -> crate::Result<FormData> {
    if let Some(ParsedForm(data)) = req.extensions().get::<ParsedForm>() {
        return Ok(data.clone());
    }
    let data = if is_multipart(req.headers()) {
        let data = read_multipart(req, payload.take()).await?;
        *payload = Payload::Stream { payload: Box::pin(Consumed(true)) };
        data
    } else if super::data::is_urlencoded(req) {
        let body = super::data::read_body(req, payload.take()).await?;
        *payload = Payload::from(body.clone());
        super::data::parse_counted(req, &body)?
    } else {
        return Ok(FormData::submitted_empty());
    };
    req.extensions_mut().insert(ParsedForm(data.clone()));
    Ok(data)
}

/// What is left of a multipart body once read as a form: an error for a view reading it raw
/// (Django's `RawPostDataException`), rather than a silently empty body.
struct Consumed(bool);

impl Stream for Consumed {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if std::mem::take(&mut self.0) {
            Poll::Ready(Some(Err(PayloadError::Io(io::Error::other(
                "the multipart body was already read as a form: take `FormData` instead of the raw body",
            )))))
        } else {
            Poll::Ready(None)
        }
    }
}

/// The payload, refused with [`PayloadError::Overflow`] past `max` bytes.
struct Bounded {
    payload: Payload,
    read: u64,
    max: u64,
}

impl Stream for Bounded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.payload).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.read += chunk.len() as u64;
                if this.read > this.max {
                    Poll::Ready(Some(Err(PayloadError::Overflow)))
                } else {
                    Poll::Ready(Some(Ok(chunk)))
                }
            }
            other => other,
        }
    }
}

async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn bad_upload(error: &actix_multipart::MultipartError, limits: &BodyLimits) -> crate::Error {
    match error {
        actix_multipart::MultipartError::Payload(PayloadError::Overflow) => crate::http::Error::payload_too_large(
            format!("The upload is too large ({} bytes at most).", limits.max_upload_bytes),
        )
        .into(),
        other => crate::http::Error::bad_request(format!("unreadable upload: {other}")).into(),
    }
}

/// Django's `MultiPartParser.sanitize_file_name`: the last path component, printable
/// characters only; `None` for an empty name, `.` or `..` (the part is then ignored).
fn sanitize_file_name(name: &str) -> Option<String> {
    let last = name.rsplit('/').next().unwrap_or("").rsplit('\\').next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    (!clean.is_empty() && clean != "." && clean != "..").then(|| clean.to_owned())
}

/// Reads a `multipart/form-data` body: text fields (bounded together by `max_body_bytes` and
/// counted against `max_form_fields`), files (counted against `max_upload_files`, streamed to
/// disk past `file_upload_max_memory_bytes`), the whole bounded by `max_upload_bytes`.
async fn read_multipart(req: &HttpRequest, payload: Payload) -> crate::Result<FormData> {
    let limits = crate::http::upload_limits(req);
    let bounded = Bounded { payload, read: 0, max: limits.max_upload_bytes };
    let mut multipart = actix_multipart::Multipart::new(req.headers(), bounded);
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    let mut text_bytes = 0usize;
    while let Some(field) = next(&mut multipart).await {
        let mut field = field.map_err(|e| bad_upload(&e, &limits))?;
        let Some(name) = field.name().map(str::to_owned) else {
            return Err(crate::http::Error::bad_request("unreadable upload: a part has no field name").into());
        };
        let file_name = field.content_disposition().and_then(|cd| {
            cd.get_filename()
                .map(str::to_owned)
                .or_else(|| cd.get_filename_ext().map(|v| String::from_utf8_lossy(&v.value).into_owned()))
        });
        match file_name {
            // A file input left empty sends a part without a name: no file.
            Some(file_name) => {
                let Some(file_name) = sanitize_file_name(&file_name) else {
                    while next(&mut field).await.transpose().map_err(|e| bad_upload(&e, &limits))?.is_some() {}
                    continue;
                };
                if files.len() >= limits.max_upload_files {
                    return Err(crate::http::Error::bad_request(format!(
                        "The form sent more than {} files.",
                        limits.max_upload_files
                    ))
                    .into());
                }
                let (content_type, charset) = match field.content_type() {
                    Some(mime) => (
                        mime.essence_str().to_owned(),
                        mime.get_param(actix_web::mime::CHARSET).map(|c| c.as_str().to_owned()),
                    ),
                    None => ("application/octet-stream".to_owned(), None),
                };
                let (size, content) = receive_file(&mut field, &limits).await?;
                files.push((
                    name,
                    UploadedFile(Arc::new(Inner { name: file_name, content_type, charset, size, content })),
                ));
            }
            None => {
                if pairs.len() >= limits.max_form_fields {
                    return Err(crate::http::Error::bad_request(format!(
                        "The form sent more than {} fields; {} at most are accepted.",
                        limits.max_form_fields, limits.max_form_fields
                    ))
                    .into());
                }
                let mut value = BytesMut::new();
                while let Some(chunk) = next(&mut field).await {
                    let chunk = chunk.map_err(|e| bad_upload(&e, &limits))?;
                    text_bytes += chunk.len();
                    if text_bytes > limits.max_body_bytes {
                        return Err(crate::http::Error::payload_too_large(format!(
                            "The form's fields are too large ({} bytes at most, files aside).",
                            limits.max_body_bytes
                        ))
                        .into());
                    }
                    value.extend_from_slice(&chunk);
                }
                pairs.push((name, String::from_utf8_lossy(&value).into_owned()));
            }
        }
    }
    Ok(FormData::with_files(pairs, files))
}

/// One file's content: in memory up to the threshold, then in a temporary file written in
/// batches on the blocking pool.
async fn receive_file(field: &mut actix_multipart::Field, limits: &BodyLimits) -> crate::Result<(u64, Content)> {
    let mut pending = BytesMut::new();
    let mut disk: Option<(std::fs::File, TempFile)> = None;
    let mut size = 0u64;
    while let Some(chunk) = next(field).await {
        let chunk = chunk.map_err(|e| bad_upload(&e, limits))?;
        size += chunk.len() as u64;
        pending.extend_from_slice(&chunk);
        if disk.is_none() && pending.len() > limits.file_upload_max_memory_bytes {
            disk = Some(temp_file(limits).await?);
        }
        if pending.len() >= WRITE_BATCH
            && let Some(open) = disk.take()
        {
            disk = Some(write_batch(open, pending.split().freeze()).await?);
        }
    }
    match disk {
        None => Ok((size, Content::Memory(pending.freeze()))),
        Some(open) => {
            let (_, temp) = write_batch(open, pending.freeze()).await?;
            Ok((size, Content::Disk(temp)))
        }
    }
}

/// Runs file work on the blocking pool (the project's one hop, [`crate::context::spawn_blocking`]);
/// a failure is logged with `what` and answered as a server error.
async fn on_disk<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> crate::Result<T> {
    crate::context::spawn_blocking(f).await.map_err(io::Error::other).and_then(|done| done).map_err(|error| {
        log::error!("upload: {what}: {error}");
        crate::Error::Io(error)
    })
}

/// A new temporary file in the upload directory, readable by this user only.
async fn temp_file(limits: &BodyLimits) -> crate::Result<(std::fs::File, TempFile)> {
    let dir = limits.file_upload_temp_dir.as_deref().map_or_else(std::env::temp_dir, Path::to_path_buf);
    on_disk("creating a temporary file", move || {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("manouche-upload-{hex}.upload"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        Ok((file, TempFile { path }))
    })
    .await
}

/// Appends `bytes` to the temporary file; on failure `temp` is dropped there, and the partial
/// file with it.
async fn write_batch(
    (mut file, temp): (std::fs::File, TempFile),
    bytes: Bytes,
) -> crate::Result<(std::fs::File, TempFile)> {
    on_disk("writing an upload", move || file.write_all(&bytes).map(|()| (file, temp))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header;

    #[test]
    fn file_names_are_sanitised_like_django() {
        assert_eq!(sanitize_file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitize_file_name("C:\\Users\\ada\\cv.pdf").as_deref(), Some("cv.pdf"));
        assert_eq!(sanitize_file_name("bad\u{0}name\n.txt").as_deref(), Some("badname.txt"));
        assert_eq!(sanitize_file_name(""), None);
        assert_eq!(sanitize_file_name("dir/.."), None);
        assert_eq!(sanitize_file_name("dir/"), None);
    }

    #[test]
    fn multipart_content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        assert!(!is_multipart(&headers));
        headers.insert(header::CONTENT_TYPE, "Multipart/Form-Data; boundary=x".parse().unwrap());
        assert!(is_multipart(&headers));
        headers.insert(header::CONTENT_TYPE, "multipart/mixed; boundary=x".parse().unwrap());
        assert!(!is_multipart(&headers));
    }
}
