//! The session a request carries: typed values by key, and what the middleware needs to know
//! after the view (was it read, was it changed).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Where a custom expiry is kept in the data, as Django keeps it.
pub(crate) const EXPIRY_KEY: &str = "_session_expiry";

/// When a session ends: see [`Session::set_expiry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// After the `cookie_age` setting (or at browser close with `expire_at_browser_close`).
    Default,
    /// When the browser closes (Django's `set_expiry(0)`).
    BrowserClose,
    /// After this many seconds of inactivity.
    Seconds(u64),
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) data: Map<String, Value>,
    /// A view read or wrote it: the response varies on the cookie.
    pub(crate) accessed: bool,
    /// A view changed it: it is written.
    pub(crate) modified: bool,
    /// `flush` or `cycle_key` asked for a new key (a store with keys forgets the old one).
    pub(crate) new_key: bool,
}

/// A visitor's session, Django's `request.session`: values of any serde type by key. Cloning it
/// gives another handle to the same session.
///
/// ```
/// # use manouche::prelude::*;
/// #[view(POST)]
/// async fn add_to_cart(req: Request) -> manouche::Result<HttpResponse> {
///     let session = req.session()?;
///     let mut cart: Vec<i64> = session.get("cart")?.unwrap_or_default();
///     cart.push(42);
///     session.insert("cart", &cart)?;
///     Ok(HttpResponse::SeeOther().insert_header(("Location", "/cart/")).finish())
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Session {
    state: Arc<Mutex<State>>,
}

impl Session {
    pub(crate) fn from_data(data: Map<String, Value>) -> Self {
        Session { state: Arc::new(Mutex::new(State { data, ..State::default() })) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The lock guards plain data; a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> MutexGuard<'_, State> {
        let mut state = self.state();
        state.accessed = true;
        state
    }

    fn write(&self) -> MutexGuard<'_, State> {
        let mut state = self.read();
        state.modified = true;
        state
    }

    /// The value under `key`, if any.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Other`] (a 500) when the stored value is not a `T` (written as another
    /// type): a programming error, not the visitor's.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, crate::Error> {
        self.read().data.get(key).map(|value| T::deserialize(value)).transpose().map_err(crate::Error::other)
    }

    /// The text under `key` without counting as a read (no `Vary: Cookie`): for middleware that
    /// looks before knowing whether the view will care.
    pub(crate) fn peek_text(&self, key: &str) -> Option<String> {
        self.state().data.get(key).and_then(Value::as_str).map(str::to_owned)
    }

    /// Counts as a read: the response varies on the cookie.
    pub(crate) fn mark_accessed(&self) {
        self.state().accessed = true;
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Other`] (a 500) when `value` cannot be serialised (a map with non-text
    /// keys, say).
    pub fn insert<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), crate::Error> {
        let value = serde_json::to_value(value).map_err(crate::Error::other)?;
        self.write().data.insert(key.to_owned(), value);
        Ok(())
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&self, key: &str) -> bool {
        let mut state = self.read();
        let removed = state.data.remove(key).is_some();
        state.modified |= removed;
        removed
    }

    /// Whether `key` is set.
    pub fn contains(&self, key: &str) -> bool {
        self.read().data.contains_key(key)
    }

    /// The keys set (the expiry's own key excluded).
    pub fn keys(&self) -> Vec<String> {
        self.read().data.keys().filter(|k| *k != EXPIRY_KEY).cloned().collect()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.read().data.keys().all(|k| k == EXPIRY_KEY)
    }

    /// Removes every value, keeping the session (and its key).
    pub fn clear(&self) {
        self.write().data.clear();
    }

    /// Drops the data and the key: the next response removes the cookie, or, if a view stores
    /// something after, starts a new session under a new key (Django's `flush`, as on logout).
    pub fn flush(&self) {
        let mut state = self.write();
        state.data.clear();
        state.new_key = true;
    }

    /// Keeps the data under a new key (Django's `cycle_key`, as on login: a key an attacker
    /// planted before is worthless after).
    pub fn cycle_key(&self) {
        self.write().new_key = true;
    }

    /// Sets when the session ends.
    pub fn set_expiry(&self, expiry: Expiry) {
        let mut state = self.write();
        match expiry {
            Expiry::Default => state.data.remove(EXPIRY_KEY),
            Expiry::BrowserClose => state.data.insert(EXPIRY_KEY.into(), Value::from(0)),
            Expiry::Seconds(seconds) => state.data.insert(EXPIRY_KEY.into(), Value::from(seconds)),
        };
    }

    /// When the session ends, as set by [`Session::set_expiry`].
    pub fn expiry(&self) -> Expiry {
        match self.state().data.get(EXPIRY_KEY).and_then(Value::as_u64) {
            None => Expiry::Default,
            Some(0) => Expiry::BrowserClose,
            Some(seconds) => Expiry::Seconds(seconds),
        }
    }

    /// Seconds the session lasts from now (`cookie_age` unless set otherwise; for a session that
    /// ends with the browser, also `cookie_age`, as Django answers).
    pub fn get_expiry_age(&self, cookie_age: u64) -> u64 {
        match self.expiry() {
            Expiry::Seconds(seconds) => seconds,
            Expiry::Default | Expiry::BrowserClose => cookie_age,
        }
    }

    /// What the middleware needs after the view, without copying the data: whether the session
    /// was read, changed, wants a new key, and holds nothing.
    pub(crate) fn outcome(&self) -> Outcome {
        let state = self.state();
        Outcome {
            accessed: state.accessed,
            modified: state.modified,
            new_key: state.new_key,
            empty: state.data.keys().all(|k| k == EXPIRY_KEY),
        }
    }

    /// Whether the session was read or changed during this request.
    pub(crate) fn accessed(&self) -> bool {
        self.state().accessed
    }

    /// A copy of the data, to save.
    pub(crate) fn data(&self) -> Map<String, Value> {
        self.state().data.clone()
    }
}

/// See [`Session::outcome`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub(crate) accessed: bool,
    pub(crate) modified: bool,
    pub(crate) new_key: bool,
    pub(crate) empty: bool,
}
