//! Django's e-mail, URL and slug validators.

use std::sync::LazyLock;

use regex::Regex;

/// What a text field's value must look like beyond its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Anything.
    None,
    /// An e-mail address (Django's `EmailValidator`).
    Email,
    /// An `http`, `https`, `ftp` or `ftps` URL (Django's `URLValidator`).
    Url,
    /// Letters, digits, underscores and hyphens (Django's `validate_slug`).
    Slug,
}

impl Check {
    /// The message for `value`, when it is not what the check wants.
    pub fn message(self, value: &str) -> Option<&'static str> {
        match self {
            Check::None => None,
            Check::Email => (!is_email(value)).then_some("Enter a valid email address."),
            Check::Url => (!is_url(value)).then_some("Enter a valid URL."),
            Check::Slug => (!is_slug(value))
                .then_some("Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
        }
    }
}

static USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:[-!#$%&'*+/=?^_`{}|~0-9a-zA-Z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*|"(?:[\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0d-\x7f])*")$"#,
    )
    .expect("valid regex")
});

static LABELS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}$").expect("valid regex")
});

/// Django's `EmailValidator`: a dot-atom or quoted user part, and a domain of labels with a
/// top-level label of two or more characters, `localhost`, or an IP literal in brackets.
pub fn is_email(value: &str) -> bool {
    if value.len() > 320 {
        return false;
    }
    let Some((user, domain)) = value.rsplit_once('@') else { return false };
    if !USER.is_match(user) {
        return false;
    }
    if domain.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip = literal.strip_prefix("IPv6:").unwrap_or(literal);
        return ip.parse::<std::net::IpAddr>().is_ok();
    }
    // Django's `(?<!-)` on the last label: it may not end with a hyphen.
    LABELS.is_match(domain) && !domain.ends_with('-')
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:http|https|ftp|ftps)://",
        r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?",
        r"(?P<host>\[[0-9a-fA-F:.]+\]|[^\s:/?#\[\]@]+)",
        r"(?::(?P<port>[0-9]{1,5}))?",
        r"(?:[/?#]\S*)?$",
    ))
    .expect("valid regex")
});

static HOST_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9\u{a1}-\u{ffff}](?:[a-zA-Z0-9\u{a1}-\u{ffff}-]{0,61}[a-zA-Z0-9\u{a1}-\u{ffff}])?$")
        .expect("valid regex")
});

static TLD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[a-zA-Z\u{a1}-\u{ffff}-]{2,63}|xn--[a-zA-Z0-9]{1,59})$").expect("valid regex"));

/// Django's `URLValidator` with its default schemes: a host name with a top-level domain,
/// `localhost`, an IPv4 address or an IPv6 one in brackets; an optional port up to 65535.
pub fn is_url(value: &str) -> bool {
    if value.len() > 2048 {
        return false;
    }
    // Schemes compare without case (the regex crate here has no Unicode case folding).
    let lowered;
    let value = match value.split_once("://") {
        Some((scheme, rest)) if scheme.bytes().any(|b| b.is_ascii_uppercase()) => {
            lowered = format!("{}://{rest}", scheme.to_ascii_lowercase());
            lowered.as_str()
        }
        _ => value,
    };
    let Some(parts) = URL.captures(value) else { return false };
    if let Some(port) = parts.name("port")
        && port.as_str().parse::<u16>().is_err()
    {
        return false;
    }
    let host = &parts["host"];
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ip.parse::<std::net::Ipv6Addr>().is_ok();
    }
    if host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    let mut labels: Vec<&str> = host.split('.').collect();
    let Some(tld) = labels.pop() else { return false };
    !labels.is_empty()
        && labels.iter().all(|label| HOST_LABEL.is_match(label))
        && TLD.is_match(tld)
        && !tld.starts_with('-')
        && !tld.ends_with('-')
}

/// Django's `validate_slug`.
pub fn is_slug(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cases from Django's tests/validators/tests.py.
    #[test]
    fn emails_as_django_accepts_them() {
        for good in [
            "email@here.com",
            "weirder-email@here.and.there.com",
            "email@[127.0.0.1]",
            "email@[2001:dB8::1]",
            "email@[IPv6:2001:db8::1]",
            "example@valid-----hyphens.com",
            "example@valid-with-hyphens.com",
            "test@domain.with.idn.tld.com",
            "email@localhost",
            "\"test@test\"@example.com",
        ] {
            assert!(is_email(good), "{good}");
        }
        assert!(is_email(&format!("example@atm.{}", "a".repeat(63))));
        assert!(!is_email(&format!("example@atm.{}", "a".repeat(64))));
        for bad in [
            "",
            "abc",
            "abc@",
            "abc@bar",
            "a @x.cz",
            "abc@.com",
            "something@@somewhere.com",
            "email@127.0.0.1",
            "email@[127.0.0.256]",
            "example@invalid-.com",
            "example@-invalid.com",
            "example@invalid.com-",
            "example@inv-.alid-.com",
            "test@example.com\n\n<script src=\"x.js\">",
            "trailingdot@shouldfail.com.",
            "a@b.com\n",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn urls_as_django_accepts_them() {
        for good in [
            "http://www.djangoproject.com/",
            "HTTP://WWW.DJANGOPROJECT.COM/",
            "http://localhost/",
            "http://example.com/",
            "http://example.com./",
            "http://www.example.com:8000/test",
            "http://valid-with-hyphens.com/",
            "http://subdomain.example.com/",
            "http://200.8.9.10/",
            "http://200.8.9.10:8000/test",
            "http://[2001:db8::1]/",
            "https://example.com/?q=1#frag",
            "ftp://example.com/",
            "http://user:pass@example.com/",
        ] {
            assert!(is_url(good), "{good}");
        }
        for bad in [
            "no_scheme",
            "foo",
            "http://",
            "http://example",
            "http://example.",
            "http://.com",
            "http://invalid-.com",
            "http://-invalid.com",
            "http://inv-.alid-.com",
            "http://inv-.-alid.com",
            "file://localhost/path",
            "git://example.com/",
            "http://example.com:99999/",
            "http://[::1:2::3]:8080/",
            "http:// shouldfail.com",
            "http://example.com/\n",
        ] {
            assert!(!is_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn slugs() {
        assert!(is_slug("a-b_c9"));
        assert!(!is_slug("a b") && !is_slug("") && !is_slug("é"));
    }
}
