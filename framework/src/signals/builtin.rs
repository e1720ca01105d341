use std::time::Duration;

use super::Signal;

/// Sent before a request is handled.
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestStarted {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The request path.
    pub path: String,
}

/// Sent after the response is produced.
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestFinished {
    /// The HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The response status code.
    pub status: u16,
    /// Time spent producing the response.
    pub duration: Duration,
}

/// Sent when a view fails with a server error or panics.
#[derive(Debug)]
#[non_exhaustive]
pub struct GotRequestException {
    /// The HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The error or panic message.
    pub error: String,
    /// Whether the view panicked (rather than returned an error).
    pub panicked: bool,
}

/// Django's `request_started`.
pub static REQUEST_STARTED: Signal<RequestStarted> = Signal::new("request_started");
/// Django's `request_finished`.
pub static REQUEST_FINISHED: Signal<RequestFinished> = Signal::new("request_finished");
/// Django's `got_request_exception`.
pub static GOT_REQUEST_EXCEPTION: Signal<GotRequestException> = Signal::new("got_request_exception");
