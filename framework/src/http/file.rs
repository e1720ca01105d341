use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::future::Future as _;

use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::rt::task::{JoinHandle, spawn_blocking};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder};
use futures_core::Stream;

const CHUNK: u64 = 64 * 1024;

/// A file streamed from disk in chunks read on the blocking pool, never on a worker thread.
///
/// The content type is guessed from the extension; single byte ranges (`Range: bytes=0-99`) are
/// answered with 206. Responses carry `Last-Modified` and a strong `ETag` (modification time and
/// size), and conditional requests are answered as RFC 9110 says: `If-Match` and
/// `If-Unmodified-Since` (412), `If-None-Match` and `If-Modified-Since` (304), and `If-Range`
/// (a range only while the file is unchanged, else the whole file).
///
/// # Examples
///
/// ```no_run
/// use manouche::prelude::*;
/// use manouche::http::FileResponse;
///
/// #[view(GET)]
/// async fn catalogue() -> manouche::Result<FileResponse> {
///     Ok(FileResponse::open("data/catalogue.csv").await?.attachment("catalogue.csv"))
/// }
/// ```
#[derive(Debug)]
pub struct FileResponse {
    file: File,
    len: u64,
    /// Whole seconds since the epoch, as HTTP dates carry it.
    modified: Option<u64>,
    content_type: String,
    attachment: Option<String>,
}

impl FileResponse {
    /// Opens a file for streaming.
    ///
    /// # Errors
    ///
    /// A 404 [`crate::http::Error::NotFound`] when the file does not exist, is a folder, or its
    /// name cannot be a file's (a NUL byte); [`crate::Error::Io`] for other I/O failures.
    pub async fn open(path: impl Into<PathBuf>) -> crate::Result<Self> {
        let path = path.into();
        let opened = spawn_blocking({
            let path = path.clone();
            move || -> io::Result<Option<(File, u64, Option<u64>)>> {
                let file = match File::open(&path) {
                    Ok(file) => file,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::NotFound | io::ErrorKind::InvalidInput | io::ErrorKind::NotADirectory
                        ) =>
                    {
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                };
                let meta = file.metadata()?;
                let modified =
                    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs());
                Ok(meta.is_file().then_some((file, meta.len(), modified)))
            }
        })
        .await
        .map_err(|e| crate::Error::other(e.to_string()))??;
        let Some((file, len, modified)) = opened else {
            return Err(crate::http::Error::not_found(format!("no file {}", path.display())).into());
        };
        let content_type = mime_guess::from_path(&path).first_or_octet_stream();
        let content_type = match content_type.type_() {
            mime_guess::mime::TEXT => format!("{content_type}; charset=utf-8"),
            _ => content_type.to_string(),
        };
        Ok(FileResponse { file, len, modified, content_type, attachment: None })
    }

    /// Sends the file as a download with this name (`Content-Disposition: attachment`).
    #[must_use]
    pub fn attachment(mut self, filename: impl Into<String>) -> Self {
        self.attachment = Some(filename.into());
        self
    }

    /// Overrides the guessed content type.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The strong entity tag: modification time and size, as nginx makes it.
    pub fn etag(&self) -> String {
        format!("\"{:x}-{:x}\"", self.modified.unwrap_or(0), self.len)
    }

    fn last_modified(&self) -> Option<header::HttpDate> {
        self.modified.map(|secs| header::HttpDate::from(UNIX_EPOCH + Duration::from_secs(secs)))
    }

    /// RFC 9110 §13.2.2: what the preconditions of `req` make of this file.
    fn precondition(&self, req: &HttpRequest, etag: &str) -> Precondition {
        let headers = req.headers();
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let date = |name| text(name).and_then(|v| v.parse::<header::HttpDate>().ok()).map(SystemTime::from);
        let modified = self.modified.map(|secs| UNIX_EPOCH + Duration::from_secs(secs));
        if let Some(condition) = text(header::IF_MATCH) {
            if !etag_matches(condition, etag, false) {
                return Precondition::Failed;
            }
        } else if let (Some(since), Some(modified)) = (date(header::IF_UNMODIFIED_SINCE), modified)
            && modified > since
        {
            return Precondition::Failed;
        }
        let safe = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
        if let Some(condition) = text(header::IF_NONE_MATCH) {
            if etag_matches(condition, etag, true) {
                return if safe { Precondition::NotModified } else { Precondition::Failed };
            }
        } else if safe
            && let (Some(since), Some(modified)) = (date(header::IF_MODIFIED_SINCE), modified)
            && modified <= since
        {
            return Precondition::NotModified;
        }
        let range_allowed = match text(header::IF_RANGE) {
            None => true,
            Some(value) if value.trim_start().starts_with('"') => value.trim() == etag,
            // A date validates a range only when it is exactly the modification time.
            Some(_) => modified.is_some() && date(header::IF_RANGE) == modified,
        };
        Precondition::Proceed { range_allowed }
    }
}

/// How a conditional request on a file is answered.
enum Precondition {
    /// 412 Precondition Failed.
    Failed,
    /// 304 Not Modified.
    NotModified,
    /// 200 or 206; a `Range` is honoured only when `If-Range` (if any) still matches.
    Proceed { range_allowed: bool },
}

/// Whether an `If-Match`/`If-None-Match` list names `etag` (`*` names any); `weak` compares
/// ignoring the `W/` prefix, as `If-None-Match` does.
fn etag_matches(list: &str, etag: &str, weak: bool) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        if candidate == "*" {
            return true;
        }
        match candidate.strip_prefix("W/") {
            Some(opaque) => weak && opaque == etag,
            None => candidate == etag,
        }
    })
}

/// Parses a single `bytes=` range against a length; `Err(())` means unsatisfiable.
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // several ranges: answer the whole file, as allowed
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (start, "") => (start.parse().ok()?, len.checked_sub(1)?),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(len.saturating_sub(1))),
    };
    if start > end || start >= len { Some(Err(())) } else { Some(Ok((start, end))) }
}

fn sanitize_filename(name: &str) -> String {
    name.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').collect()
}

impl Responder for FileResponse {
    type Body = SizedStream<ChunkedFile>;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        let etag = self.etag();
        let last_modified = self.last_modified();
        let range_allowed = match self.precondition(req, &etag) {
            Precondition::Proceed { range_allowed } => range_allowed,
            outcome => {
                let status = match outcome {
                    Precondition::NotModified => StatusCode::NOT_MODIFIED,
                    _ => StatusCode::PRECONDITION_FAILED,
                };
                let mut response = HttpResponse::with_body(status, SizedStream::new(0, ChunkedFile::empty()));
                let headers = response.headers_mut();
                if let Ok(value) = header::HeaderValue::from_str(&etag) {
                    headers.insert(header::ETAG, value);
                }
                if let Some(date) = &last_modified
                    && let Ok(value) = header::HeaderValue::from_str(&date.to_string())
                {
                    headers.insert(header::LAST_MODIFIED, value);
                }
                return response;
            }
        };
        let mut status = StatusCode::OK;
        let (mut start, mut len) = (0, self.len);
        let mut content_range = None;
        let range = req.headers().get(header::RANGE).filter(|_| range_allowed).and_then(|v| v.to_str().ok());
        if let Some(range) = range {
            match parse_range(range, self.len) {
                Some(Ok((from, to))) => {
                    status = StatusCode::PARTIAL_CONTENT;
                    start = from;
                    len = to - from + 1;
                    content_range = Some(format!("bytes {from}-{to}/{}", self.len));
                }
                Some(Err(())) => {
                    status = StatusCode::RANGE_NOT_SATISFIABLE;
                    len = 0;
                    content_range = Some(format!("bytes */{}", self.len));
                }
                None => {}
            }
        }
        let mut builder = HttpResponse::build(status);
        builder.insert_header((header::CONTENT_TYPE, self.content_type.as_str()));
        builder.insert_header((header::ACCEPT_RANGES, "bytes"));
        builder.insert_header((header::ETAG, etag));
        if let Some(date) = last_modified {
            builder.insert_header((header::LAST_MODIFIED, date));
        }
        if let Some(range) = content_range {
            builder.insert_header((header::CONTENT_RANGE, range));
        }
        if let Some(name) = &self.attachment {
            builder.insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", sanitize_filename(name)),
            ));
        }
        let stream = ChunkedFile { file: Some(self.file), offset: start, remaining: len, pending: None };
        builder.message_body(SizedStream::new(len, stream)).unwrap_or_else(|_| {
            // Only an invalid header can fail here, and every header above is valid text.
            HttpResponse::with_body(StatusCode::INTERNAL_SERVER_ERROR, SizedStream::new(0, ChunkedFile::empty()))
        })
    }
}

/// The body stream of a [`FileResponse`].
#[derive(Debug)]
pub struct ChunkedFile {
    file: Option<File>,
    offset: u64,
    remaining: u64,
    pending: Option<JoinHandle<io::Result<(File, Bytes)>>>,
}

impl ChunkedFile {
    fn empty() -> Self {
        ChunkedFile { file: None, offset: 0, remaining: 0, pending: None }
    }
}

impl Stream for ChunkedFile {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            if this.remaining == 0 {
                return Poll::Ready(None);
            }
            let Some(mut file) = this.file.take() else { return Poll::Ready(None) };
            let (offset, size) = (this.offset, this.remaining.min(CHUNK));
            this.pending = Some(spawn_blocking(move || {
                file.seek(SeekFrom::Start(offset))?;
                let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                (&mut file).take(size).read_to_end(&mut buf)?;
                Ok((file, Bytes::from(buf)))
            }));
        }
        let Some(pending) = this.pending.as_mut() else { return Poll::Ready(None) };
        match Pin::new(pending).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(joined) => {
                this.pending = None;
                let result = joined.map_err(io::Error::other).and_then(|r| r);
                match result {
                    Ok((_, bytes)) if bytes.is_empty() => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shrank while being sent",
                    )))),
                    Ok((file, bytes)) => {
                        let n = bytes.len() as u64;
                        this.offset += n;
                        this.remaining -= n.min(this.remaining);
                        this.file = Some(file);
                        Poll::Ready(Some(Ok(bytes)))
                    }
                    Err(e) => Poll::Ready(Some(Err(e))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Some(Ok((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
