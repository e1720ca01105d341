//! Where sessions live between requests.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::HttpRequest;
use serde_json::{Map, Value};

use crate::signing::{TimestampSigner, dumps, loads};

/// The future a store's methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, crate::Error>> + 'a>>;

/// What a store hands back after saving: the cookie's value (a session key, or the data itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The value of the session cookie.
    pub cookie: String,
}

/// A place sessions live between requests (Django's `SessionBase` backends). The database and
/// cache stores plug in here; their I/O goes through the blocking pool or an async client, never
/// blocking an actix worker.
pub trait SessionStore: Send + Sync + 'static {
    /// The data of the session the cookie names: `None` for an unknown, expired or tampered one,
    /// which reads as a new, empty session (never an error page).
    fn load<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, Option<Map<String, Value>>>;

    /// Saves the data, for `age` seconds; `previous` is the cookie the request came with (none
    /// for a new session) and `new_key` says the session asked for a new key. Returns the cookie
    /// to send.
    fn save<'a>(
        &'a self,
        req: &'a HttpRequest,
        previous: Option<&'a str>,
        new_key: bool,
        data: &'a Map<String, Value>,
        age: u64,
    ) -> StoreFuture<'a, Stored>;

    /// Forgets the session the cookie names.
    fn delete<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, ()>;
}

/// The data in the cookie itself, signed with the secret key and timestamped (Django's
/// `signed_cookies` engine): nothing is stored on the server, a tampered cookie or one older
/// than `cookie_age` reads as an empty session. The data is readable by the client (signed, not
/// encrypted) and limited by cookie size (about 4 kB): keep secrets and large values out of it.
#[derive(Debug, Clone)]
pub struct SignedCookieStore {
    signer: TimestampSigner,
    max_age: Duration,
}

impl SignedCookieStore {
    /// A store signing with `secret`, refusing cookies older than `cookie_age` seconds.
    pub fn new(secret: &str, cookie_age: u64) -> Self {
        SignedCookieStore {
            signer: TimestampSigner::new(secret, "manouche.sessions.signed_cookies"),
            max_age: Duration::from_secs(cookie_age),
        }
    }
}

impl SessionStore for SignedCookieStore {
    fn load<'a>(&'a self, _req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, Option<Map<String, Value>>> {
        let data = match loads::<Map<String, Value>>(cookie, &self.signer, Some(self.max_age)) {
            Ok(data) => Some(data),
            Err(error) => {
                log::debug!(target: "manouche.sessions", "session cookie refused: {error}");
                None
            }
        };
        Box::pin(std::future::ready(Ok(data)))
    }

    fn save<'a>(
        &'a self,
        _req: &'a HttpRequest,
        _previous: Option<&'a str>,
        _new_key: bool,
        data: &'a Map<String, Value>,
        _age: u64,
    ) -> StoreFuture<'a, Stored> {
        // The signature changes with the timestamp: a new cookie is a new "key" every time.
        let result = dumps(data, &self.signer).map(|cookie| Stored { cookie }).map_err(crate::Error::other);
        Box::pin(std::future::ready(result))
    }

    fn delete<'a>(&'a self, _req: &'a HttpRequest, _cookie: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}
