//! One-time notices to the visitor, Django's messages framework: a view adds "Saved.", the next
//! page shows it once. Messages live in the session (the `manouche.sessions` middleware).
//!
//! ```
//! # use manouche::prelude::*;
//! #[view(POST)]
//! async fn save(req: Request) -> manouche::Result<HttpResponse> {
//!     req.messages()?.success("Your address was saved.")?;
//!     Ok(HttpResponse::SeeOther().insert_header(("Location", "/account/")).finish())
//! }
//! ```
//!
//! A template shows them through its context, which consumes them (shown once):
//! `{% for m in ctx.messages() %}<p class="{{ m.tags() }}">{{ m.text }}</p>{% endfor %}`.

use serde::{Deserialize, Serialize};

use crate::sessions::Session;

/// Where the messages are kept in the session (Django's cookie/session storage key).
const SESSION_KEY: &str = "_messages";

/// How important a message is; its CSS class is its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
#[non_exhaustive]
pub enum Level {
    /// Development notes (not stored at the default minimum level, `Info`).
    Debug = 10,
    /// Information.
    Info = 20,
    /// An action succeeded.
    Success = 25,
    /// Something to look at.
    Warning = 30,
    /// An action failed.
    Error = 40,
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level as u8
    }
}

impl TryFrom<u8> for Level {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, String> {
        Ok(match value {
            10 => Level::Debug,
            20 => Level::Info,
            25 => Level::Success,
            30 => Level::Warning,
            40 => Level::Error,
            other => return Err(format!("unknown message level {other}")),
        })
    }
}

impl Level {
    /// The CSS class: `debug`, `info`, `success`, `warning`, `error`.
    pub fn tag(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its level.
    pub level: Level,
    /// The text (escaped by the template, as any value).
    pub text: String,
    /// Extra CSS classes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub extra_tags: String,
}

impl Message {
    /// The CSS classes: the extra tags, then the level's (`"sticky success"`).
    pub fn tags(&self) -> String {
        if self.extra_tags.is_empty() {
            self.level.tag().to_owned()
        } else {
            format!("{} {}", self.extra_tags, self.level.tag())
        }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A request's messages: see [`crate::http::Request::messages`].
#[derive(Debug, Clone)]
pub struct Messages {
    session: Session,
    minimum: Level,
}

impl Messages {
    pub(crate) fn new(session: Session) -> Self {
        Messages { session, minimum: Level::Info }
    }

    /// Stores messages of `level` and above only (Django's `set_level`; `Info` by default).
    #[must_use]
    pub fn with_level(mut self, minimum: Level) -> Self {
        self.minimum = minimum;
        self
    }

    /// Adds a message, unless below the minimum level.
    ///
    /// # Errors
    ///
    /// When the session's stored messages are not messages (a 500).
    pub fn add(&self, level: Level, text: impl Into<String>, extra_tags: &str) -> Result<(), crate::Error> {
        if level < self.minimum {
            return Ok(());
        }
        let mut queued: Vec<Message> = self.session.get(SESSION_KEY)?.unwrap_or_default();
        queued.push(Message { level, text: text.into(), extra_tags: extra_tags.to_owned() });
        self.session.insert(SESSION_KEY, &queued)
    }

    /// A `Debug` message.
    ///
    /// # Errors
    ///
    /// As [`Messages::add`].
    pub fn debug(&self, text: impl Into<String>) -> Result<(), crate::Error> {
        self.add(Level::Debug, text, "")
    }

    /// An `Info` message.
    ///
    /// # Errors
    ///
    /// As [`Messages::add`].
    pub fn info(&self, text: impl Into<String>) -> Result<(), crate::Error> {
        self.add(Level::Info, text, "")
    }

    /// A `Success` message.
    ///
    /// # Errors
    ///
    /// As [`Messages::add`].
    pub fn success(&self, text: impl Into<String>) -> Result<(), crate::Error> {
        self.add(Level::Success, text, "")
    }

    /// A `Warning` message.
    ///
    /// # Errors
    ///
    /// As [`Messages::add`].
    pub fn warning(&self, text: impl Into<String>) -> Result<(), crate::Error> {
        self.add(Level::Warning, text, "")
    }

    /// An `Error` message.
    ///
    /// # Errors
    ///
    /// As [`Messages::add`].
    pub fn error(&self, text: impl Into<String>) -> Result<(), crate::Error> {
        self.add(Level::Error, text, "")
    }

    /// The queued messages, removed from the session: each is shown once. Stored messages that
    /// cannot be read (an older format) are dropped, not an error page.
    pub fn take(&self) -> Vec<Message> {
        if !self.session.contains(SESSION_KEY) {
            return Vec::new();
        }
        let queued = self.session.get::<Vec<Message>>(SESSION_KEY).ok().flatten().unwrap_or_default();
        self.session.remove(SESSION_KEY);
        queued
    }
}
