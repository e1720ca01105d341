//! E-mail through a real SMTP server (Python's `smtpd`, started by the test), and the backends'
//! errors.

use std::io::BufRead as _;
use std::time::{Duration, Instant};

use manouche::conf::Settings;
use manouche::mail::{EmailMessage, send};

fn settings(email: &str) -> Settings {
    Settings::from_toml_str(&format!("debug = true\n[email]\n{email}"), "/tmp".as_ref(), std::iter::empty()).unwrap()
}

/// An SMTP server on loopback writing what it receives to a file; `None` (with a notice) where
/// Python's `smtpd` is missing, outside CI.
fn smtp_server() -> Option<(std::process::Child, u16, std::path::PathBuf)> {
    let port = crate::common::free_port();
    let out = std::env::temp_dir().join(format!("manouche-smtp-{}-{port}.txt", std::process::id()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/smtp_sink.py");
    let spawned = std::process::Command::new("python3")
        .args([script, &port.to_string(), &out.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            assert!(std::env::var_os("CI").is_none(), "CI must run the SMTP test: python3 failed to start: {error}");
            eprintln!("notice: skipping the SMTP test: python3 is not available ({error})");
            return None;
        }
    };
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    let read = std::io::BufReader::new(stdout).read_line(&mut line);
    if read.is_err() || line.trim() != "ready" {
        let _ = child.kill();
        assert!(std::env::var_os("CI").is_none(), "CI must run the SMTP test: the Python SMTP server did not start");
        eprintln!("notice: skipping the SMTP test: Python's smtpd is not available");
        return None;
    }
    Some((child, port, out))
}

#[test]
fn the_smtp_backend_delivers_to_a_real_server() {
    let Some((mut server, port, out)) = smtp_server() else { return };
    let relay = settings(&format!(
        "backend = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nfrom_email = \"shop@example.com\"\n"
    ));
    let message = EmailMessage::new(
        "Your order is on its way",
        "Two tins of Sencha.\nThank you!",
        vec!["ada@example.com".into()],
    );
    send(&relay, message).unwrap();
    // Wait for the server to have written it (a condition, with a generous bound).
    let deadline = Instant::now() + Duration::from_secs(30);
    let received = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.contains("\n.\n") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_file(&out);
    assert!(received.contains("MAIL FROM: shop@example.com"), "{received}");
    assert!(received.contains("RCPT TO: ada@example.com"), "{received}");
    assert!(received.contains("Subject: Your order is on its way"), "{received}");
    assert!(received.contains("Two tins of Sencha."), "{received}");

    // A relay that is not there: a clear error, not a hang or a panic.
    let closed = crate::common::free_port();
    let nowhere =
        settings(&format!("backend = \"smtp\"\nhost = \"127.0.0.1\"\nport = {closed}\ntimeout_seconds = 5\n"));
    let error = send(&nowhere, EmailMessage::new("x", "y", vec!["a@example.com".into()])).unwrap_err().to_string();
    assert!(error.contains(&format!("the SMTP relay 127.0.0.1:{closed}")), "{error}");
}

#[test]
fn messages_are_checked_before_any_backend_runs() {
    let locmem = settings("backend = \"locmem\"\n");
    let injected = EmailMessage::new("Hello\nBcc: everyone@example.com", "body", vec!["a@example.com".into()]);
    assert!(send(&locmem, injected).unwrap_err().to_string().contains("line break"));
    assert!(send(&locmem, EmailMessage::new("x", "y", Vec::new())).unwrap_err().to_string().contains("recipient"));
    let unknown = settings("backend = \"pigeon\"\n");
    let error = send(&unknown, EmailMessage::new("x", "y", vec!["a@example.com".into()])).unwrap_err().to_string();
    assert!(error.contains("unknown `email.backend` `pigeon`"), "{error}");
    let dir = std::env::temp_dir().join(format!("manouche-mail-{}", std::process::id()));
    let file = settings(&format!("backend = \"file\"\nfile_path = \"{}\"\n", dir.display()));
    send(&file, EmailMessage::new("Filed", "kept on disk", vec!["a@example.com".into()])).unwrap();
    let written: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(written.len(), 1);
    let text = std::fs::read_to_string(written[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("Subject: Filed") && text.contains("From: webmaster@localhost"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
