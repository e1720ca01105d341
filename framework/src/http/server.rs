//! The `[server]` settings: what one client may take of the server (a slow client cannot hold a
//! worker, a large body is refused before it is read) and how the listening socket behaves.

use std::time::Duration;

/// The `[server]` settings (besides `workers`, `bind` and `shutdown_timeout_seconds`, which are
/// top-level settings).
///
/// ```toml
/// [server]
/// backlog = 2048                    # connections waiting to be accepted
/// keep_alive_seconds = 5            # an idle keep-alive connection is closed after this
/// client_request_timeout_ms = 5000  # the request head must arrive within this (slowloris)
/// max_body_bytes = 2621440          # Django's DATA_UPLOAD_MAX_MEMORY_SIZE: larger bodies get 413
/// max_form_fields = 1000            # Django's DATA_UPLOAD_MAX_NUMBER_FIELDS: more get 400
/// max_header_bytes = 32768          # the request's headers together: more get 431
/// max_upload_bytes = 104857600      # a multipart/form-data body (files included): more get 413
/// max_upload_files = 100            # Django's DATA_UPLOAD_MAX_NUMBER_FILES: more get 400
/// file_upload_max_memory_bytes = 2621440  # Django's FILE_UPLOAD_MAX_MEMORY_SIZE: larger files go to disk
/// file_upload_temp_dir = "/var/tmp/shop"  # Django's FILE_UPLOAD_TEMP_DIR (default: the system's)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSettings {
    /// Connections the kernel queues before they are accepted.
    pub backlog: u32,
    /// Connections each worker serves at once.
    pub max_connections: usize,
    /// Seconds an idle keep-alive connection stays open (0: no keep-alive).
    pub keep_alive_seconds: u64,
    /// Milliseconds a client has to send its whole request head; past it the connection is
    /// answered 408 and closed, so a client trickling headers cannot hold a worker.
    pub client_request_timeout_ms: u64,
    /// Milliseconds given to a client to close its side after the server closed the connection.
    pub client_disconnect_timeout_ms: u64,
    /// The largest request body read into memory (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`, 2.5 MB):
    /// a `Content-Length` over it is answered 413 before the body is read, and a chunked body
    /// stops being read past it. For a `multipart/form-data` body it bounds the text fields
    /// together, the files being bounded by `max_upload_bytes`.
    pub max_body_bytes: usize,
    /// The most fields a form may send (Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS`): more is a 400.
    pub max_form_fields: usize,
    /// The largest request head: the headers' names and values together (actix itself stops at
    /// 128 KiB and 96 headers). More is a 431.
    pub max_header_bytes: usize,
    /// The largest `multipart/form-data` body, files included: a `Content-Length` over it is
    /// answered 413 before the body is read, a chunked one stops being read past it. Django
    /// leaves this to the web server; keep nginx's `client_max_body_size` at least as large.
    pub max_upload_bytes: u64,
    /// The most files one form may send (Django's `DATA_UPLOAD_MAX_NUMBER_FILES`): more is a 400.
    pub max_upload_files: usize,
    /// An uploaded file larger than this is streamed to a temporary file instead of memory
    /// (Django's `FILE_UPLOAD_MAX_MEMORY_SIZE`, 2.5 MB); the file is deleted when the request's
    /// last handle to it is dropped.
    pub file_upload_max_memory_bytes: usize,
    /// Where uploads streamed to disk go (Django's `FILE_UPLOAD_TEMP_DIR`); the system's
    /// temporary directory when unset.
    pub file_upload_temp_dir: Option<std::path::PathBuf>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            backlog: 2048,
            max_connections: 25_000,
            keep_alive_seconds: 5,
            client_request_timeout_ms: 5_000,
            client_disconnect_timeout_ms: 1_000,
            max_body_bytes: 2_621_440,
            max_form_fields: 1_000,
            max_header_bytes: 32_768,
            max_upload_bytes: 104_857_600,
            max_upload_files: 100,
            file_upload_max_memory_bytes: 2_621_440,
            file_upload_temp_dir: None,
        }
    }
}

impl crate::conf::Section for ServerSettings {
    const NAME: &'static str = "server";
    const ENV_PREFIX: &'static str = "SERVER";
}

crate::register_section!(ServerSettings);

/// Applies the `[server]` socket and timeout settings to an actix `HttpServer`.
macro_rules! apply_server_settings {
    ($settings:expr, $server:expr) => {{
        let settings: &$crate::http::ServerSettings = $settings;
        $server
            .backlog(settings.backlog)
            .max_connections(settings.max_connections)
            .keep_alive(settings.keep_alive())
            .client_request_timeout(::std::time::Duration::from_millis(settings.client_request_timeout_ms))
            .client_disconnect_timeout(::std::time::Duration::from_millis(settings.client_disconnect_timeout_ms))
    }};
}
pub(crate) use apply_server_settings;

/// What a request body may hold, from `[server]`: what the site checks and the form readers obey.
#[derive(Debug, Clone)]
pub(crate) struct BodyLimits {
    pub(crate) max_body_bytes: usize,
    pub(crate) max_form_fields: usize,
    pub(crate) max_upload_bytes: u64,
    pub(crate) max_upload_files: usize,
    pub(crate) file_upload_max_memory_bytes: usize,
    pub(crate) file_upload_temp_dir: Option<std::sync::Arc<std::path::Path>>,
}

impl From<&ServerSettings> for BodyLimits {
    fn from(settings: &ServerSettings) -> Self {
        BodyLimits {
            max_body_bytes: settings.max_body_bytes,
            max_form_fields: settings.max_form_fields,
            max_upload_bytes: settings.max_upload_bytes,
            max_upload_files: settings.max_upload_files,
            file_upload_max_memory_bytes: settings.file_upload_max_memory_bytes,
            file_upload_temp_dir: settings.file_upload_temp_dir.as_deref().map(std::sync::Arc::from),
        }
    }
}

impl ServerSettings {
    /// The keep-alive policy.
    pub(crate) fn keep_alive(&self) -> actix_web::http::KeepAlive {
        match self.keep_alive_seconds {
            0 => actix_web::http::KeepAlive::Disabled,
            seconds => actix_web::http::KeepAlive::Timeout(Duration::from_secs(seconds)),
        }
    }
}
