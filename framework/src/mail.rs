//! Sending e-mail, Django's `django.core.mail`: [`send`] an [`EmailMessage`] through the backend
//! the `[email]` section names.
//!
//! ```toml
//! [email]
//! backend = "console"        # "smtp", "file" (one .eml file per message in `file_path`), "locmem" (tests)
//! from_email = "shop@example.com"
//! host = "localhost"         # smtp: the relay, its port, and credentials if it asks
//! port = 25
//! ```
//!
//! The SMTP backend (through `lettre`) speaks plain SMTP to a relay: a local MTA, or a
//! provider's submission port reached through it. TLS to a remote server is not built in yet.
//!
//! `locmem` keeps messages in memory for tests to read with [`outbox`] (Django's
//! `mail.outbox`). Sending blocks: views call it on the blocking pool (`web::block`) or from a
//! task.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// The `[email]` settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EmailSettings {
    /// `console` (the default: messages are printed), `file` or `locmem`.
    pub backend: String,
    /// The sender when a message names none (Django's `DEFAULT_FROM_EMAIL`).
    pub from_email: String,
    /// The folder the `file` backend writes to.
    pub file_path: Option<PathBuf>,
    /// The SMTP relay's host.
    pub host: String,
    /// The SMTP relay's port.
    pub port: u16,
    /// The SMTP user, if the relay asks for one.
    pub username: Option<String>,
    /// The SMTP password.
    pub password: Option<String>,
    /// Seconds to wait for the relay.
    pub timeout_seconds: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            backend: "console".into(),
            from_email: "webmaster@localhost".into(),
            file_path: None,
            host: "localhost".into(),
            port: 25,
            username: None,
            password: None,
            timeout_seconds: 10,
        }
    }
}

impl crate::conf::Section for EmailSettings {
    const NAME: &'static str = "email";
    const ENV_PREFIX: &'static str = "EMAIL";
}

crate::register_section!(EmailSettings);

/// One message: plain text to one or more recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The subject line (one line).
    pub subject: String,
    /// The text.
    pub body: String,
    /// The sender; empty: the `email.from_email` setting.
    pub from_email: String,
    /// The recipients.
    pub to: Vec<String>,
}

impl EmailMessage {
    /// A message from the default sender.
    pub fn new(subject: impl Into<String>, body: impl Into<String>, to: Vec<String>) -> Self {
        EmailMessage { subject: subject.into(), body: body.into(), from_email: String::new(), to }
    }

    /// The message as RFC 5322 text, for the console and file backends.
    pub fn to_rfc5322(&self) -> String {
        let date = chrono::Utc::now().to_rfc2822();
        format!(
            "Content-Type: text/plain; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\nSubject: {}\r\nFrom: {}\r\nTo: {}\r\nDate: {date}\r\n\r\n{}\r\n",
            self.subject,
            self.from_email,
            self.to.join(", "),
            self.body.replace('\n', "\r\n")
        )
    }
}

static OUTBOX: Mutex<Vec<EmailMessage>> = Mutex::new(Vec::new());

/// The messages the `locmem` backend sent in this process, oldest first (Django's
/// `mail.outbox`). Tests running in parallel share it: filter by recipient.
pub fn outbox() -> Vec<EmailMessage> {
    OUTBOX.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Sends `message` with the project's backend.
///
/// # Errors
///
/// A subject or address holding a line break (header injection, Django's `BadHeaderError`), no
/// recipient, an unknown backend or a missing `file_path`, or the file backend failing to write.
pub fn send(settings: &crate::conf::Settings, mut message: EmailMessage) -> crate::Result<()> {
    let config: EmailSettings = settings.section()?;
    if message.from_email.is_empty() {
        message.from_email.clone_from(&config.from_email);
    }
    let headers = std::iter::once(&message.subject).chain(std::iter::once(&message.from_email)).chain(&message.to);
    if headers.into_iter().any(|h| h.contains(['\r', '\n'])) {
        return Err(crate::Error::other("an e-mail header (subject or address) holds a line break"));
    }
    if message.to.is_empty() {
        return Err(crate::Error::other("an e-mail needs at least one recipient"));
    }
    match config.backend.as_str() {
        "console" => {
            println!("{}{}", message.to_rfc5322(), "-".repeat(79));
            Ok(())
        }
        "locmem" => {
            OUTBOX.lock().unwrap_or_else(PoisonError::into_inner).push(message);
            Ok(())
        }
        "file" => {
            let dir = config.file_path.ok_or_else(|| {
                crate::Error::ImproperlyConfigured("`email.backend = \"file\"` needs `email.file_path`".into())
            })?;
            let dir = if dir.is_absolute() { dir } else { settings.base_dir.join(dir) };
            std::fs::create_dir_all(&dir)?;
            let name = format!(
                "{}-{}.eml",
                chrono::Utc::now().format("%Y%m%d-%H%M%S%.6f"),
                crate::signing::get_random_string(8)?
            );
            std::fs::write(dir.join(name), message.to_rfc5322())?;
            Ok(())
        }
        "smtp" => send_smtp(&config, &message),
        other => Err(crate::Error::ImproperlyConfigured(format!(
            "unknown `email.backend` `{other}`; expected `console`, `smtp`, `file` or `locmem`"
        ))),
    }
}

/// Hands `message` to the `[email]` relay over SMTP.
fn send_smtp(config: &EmailSettings, message: &EmailMessage) -> crate::Result<()> {
    use lettre::Transport as _;
    let address = |text: &str| {
        text.parse::<lettre::message::Mailbox>()
            .map_err(|e| crate::Error::other(format!("bad e-mail address `{text}`: {e}")))
    };
    let mut builder = lettre::Message::builder().from(address(&message.from_email)?).subject(message.subject.as_str());
    for to in &message.to {
        builder = builder.to(address(to)?);
    }
    let email = builder
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|e| crate::Error::other(format!("the e-mail could not be built: {e}")))?;
    let mut transport = lettre::SmtpTransport::builder_dangerous(config.host.as_str())
        .port(config.port)
        .timeout(Some(std::time::Duration::from_secs(config.timeout_seconds)));
    if let (Some(username), Some(password)) = (&config.username, &config.password) {
        transport = transport
            .credentials(lettre::transport::smtp::authentication::Credentials::new(username.clone(), password.clone()));
    }
    transport.build().send(&email).map_err(|e| {
        crate::Error::other(format!("the SMTP relay {}:{} refused or failed: {e}", config.host, config.port))
    })?;
    Ok(())
}
