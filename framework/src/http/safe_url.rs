//! Django's `url_has_allowed_host_and_scheme`: whether a URL from the request (a `?next=`) is
//! safe to redirect to, so a link to this site cannot send a visitor elsewhere.

/// Whether `url` stays on one of `allowed_hosts` (host and port as the `Host` header has them)
/// with an `http`/`https` scheme (`https` only with `require_https`), or is a path on this site.
/// As in Django, `//evil.example`, `///evil.example`, `http:evil.example`, `javascript:...`,
/// a backslash read as a slash, and a leading control character are all refused.
///
/// ```
/// use manouche::http::url_has_allowed_host_and_scheme as safe;
/// assert!(safe("/cart/?step=2", &["shop.example"], false));
/// assert!(safe("https://shop.example/cart/", &["shop.example"], true));
/// assert!(!safe("//evil.example/", &["shop.example"], false));
/// assert!(!safe("/\\evil.example", &["shop.example"], false));
/// ```
pub fn url_has_allowed_host_and_scheme(url: &str, allowed_hosts: &[&str], require_https: bool) -> bool {
    let url = url.trim();
    if url.is_empty() {
        return false;
    }
    // Browsers read a backslash as a slash in paths: both readings must be safe.
    allowed(url, allowed_hosts, require_https) && allowed(&url.replace('\\', "/"), allowed_hosts, require_https)
}

fn allowed(url: &str, allowed_hosts: &[&str], require_https: bool) -> bool {
    // Browsers treat three slashes as an absolute URL.
    if url.starts_with("///") {
        return false;
    }
    // Python's `urlsplit` drops leading control characters and spaces, and tabs and newlines.
    let cleaned: String =
        url.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\r' | '\n')).collect();
    let (scheme, rest) = match cleaned.split_once(':') {
        Some((scheme, rest))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (scheme.to_ascii_lowercase(), rest)
        }
        _ => (String::new(), cleaned.as_str()),
    };
    let netloc = rest.strip_prefix("//").map_or("", |after| after.split(['/', '?', '#']).next().unwrap_or(""));
    // `http:///evil.example`: a scheme without a host; browsers would take `evil.example`.
    if netloc.is_empty() && !scheme.is_empty() {
        return false;
    }
    // Browsers skip some control and format characters at the start and read what follows.
    if url.chars().next().is_some_and(is_control_or_format) {
        return false;
    }
    let scheme = if scheme.is_empty() && !netloc.is_empty() { "http".to_owned() } else { scheme };
    let valid_scheme = match scheme.as_str() {
        "" => true,
        "https" => true,
        "http" => !require_https,
        _ => false,
    };
    (netloc.is_empty() || allowed_hosts.contains(&netloc)) && valid_scheme
}

/// Unicode's "C" categories as far as they matter here: controls and the invisible format
/// characters (zero-width spaces and joiners, direction marks, the byte-order mark).
fn is_control_or_format(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::url_has_allowed_host_and_scheme as safe;

    #[test]
    fn djangos_unsafe_urls_are_refused() {
        // A selection of Django's `test_http.URLHasAllowedHostAndSchemeTests.test_bad_urls`.
        for bad in [
            "http://example.com",
            "http:///example.com",
            "https://example.com",
            "ftp://example.com",
            r"\\example.com",
            r"\\\example.com",
            r"/\\/example.com",
            r"\\\\example.com",
            r"\\//example.com",
            r"/\/example.com",
            r"\/example.com",
            r"/\example.com",
            "http:///example.com",
            r"http:/\//example.com",
            r"http:\/example.com",
            r"http:/\example.com",
            "javascript:alert(\"XSS\")",
            "\njavascript:alert(x)",
            "\x08//example.com",
            r"http://otherserver\@example.com",
            r"http:\\testserver\@example.com",
            r"http://testserver\me:pass@example.com",
            r"http://testserver\@example.com",
            r"http:\\testserver\confirm\me@example.com",
            "http:999999999",
            "ftp:9999999999",
            "\n",
            "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
            "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
        ] {
            assert!(!safe(bad, &["testserver"], false), "{bad:?} is not safe");
        }
    }

    #[test]
    fn djangos_safe_urls_are_accepted() {
        for good in [
            "/view/?param=http://example.com",
            "/view/?param=https://example.com",
            "/view?param=ftp://example.com",
            "view/?param=//example.com",
            "https://testserver/",
            "HTTPS://testserver/",
            "//testserver/",
            "http://testserver/confirm?email=me@example.com",
            "/url%20with%20spaces/",
            "path/http:2222222222",
        ] {
            assert!(safe(good, &["testserver"], false), "{good:?} is safe");
        }
        assert!(!safe("http://testserver/", &["testserver"], true), "require_https");
        assert!(safe("https://testserver/", &["testserver"], true));
    }
}
