use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

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
/// answered with 206.
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
    content_type: String,
    attachment: Option<String>,
}

impl FileResponse {
    /// Opens a file for streaming.
    ///
    /// # Errors
    ///
    /// A 404 [`crate::http::Error::NotFound`] when the file does not exist or is a folder,
    /// [`crate::Error::Io`] for other I/O failures.
    pub async fn open(path: impl Into<PathBuf>) -> crate::Result<Self> {
        let path = path.into();
        let opened = spawn_blocking({
            let path = path.clone();
            move || -> io::Result<Option<(File, u64)>> {
                let file = match File::open(&path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                let meta = file.metadata()?;
                Ok(meta.is_file().then_some((file, meta.len())))
            }
        })
        .await
        .map_err(|e| crate::Error::other(e.to_string()))??;
        let Some((file, len)) = opened else {
            return Err(crate::http::Error::not_found(format!("no file {}", path.display())).into());
        };
        let content_type = mime_guess::from_path(&path).first_or_octet_stream();
        let content_type = match content_type.type_() {
            mime_guess::mime::TEXT => format!("{content_type}; charset=utf-8"),
            _ => content_type.to_string(),
        };
        Ok(FileResponse { file, len, content_type, attachment: None })
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
        let mut status = StatusCode::OK;
        let (mut start, mut len) = (0, self.len);
        let mut content_range = None;
        if let Some(range) = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) {
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
