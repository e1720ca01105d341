//! Password-reset tokens, Django's `PasswordResetTokenGenerator`: `<timestamp>-<hash>`, valid
//! for `auth.password_reset_timeout` seconds and only until the user's password or last login
//! changes (both are part of the hash), so a link works once.

use super::User;

const KEY_SALT: &str = "django.contrib.auth.tokens.PasswordResetTokenGenerator";

/// Seconds since 2001-01-01, Django's token clock.
fn seconds(now: chrono::NaiveDateTime) -> i64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(2001, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    (now - epoch).num_seconds()
}

fn base36(mut n: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n <= 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[usize::try_from(n % 36).unwrap_or(0)]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn hash_value(user: &User, timestamp: i64) -> String {
    let login = user.last_login.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
    format!("{}{}{login}{timestamp}{}", user.id, user.password, user.email)
}

fn token_at(user: &User, timestamp: i64, secret: &str) -> String {
    let hash = crate::signing::salted_hmac_hex(KEY_SALT, &hash_value(user, timestamp), secret);
    let every_other: String = hash.chars().step_by(2).collect();
    format!("{}-{every_other}", base36(timestamp))
}

/// A token for `user`, now.
pub fn make_token(user: &User, secret: &str) -> String {
    make_token_at(user, chrono::Utc::now().naive_utc(), secret)
}

/// A token for `user` as if made at `when` (UTC): for tests of expiry and custom flows.
pub fn make_token_at(user: &User, when: chrono::NaiveDateTime, secret: &str) -> String {
    token_at(user, seconds(when), secret)
}

/// Whether `token` was made for `user` as they are now, within `timeout_seconds`.
pub fn check_token(user: &User, token: &str, secret: &str, timeout_seconds: u64) -> bool {
    let Some((stamp, _)) = token.split_once('-') else { return false };
    let Ok(timestamp) = i64::from_str_radix(stamp, 36) else { return false };
    let expected = token_at(user, timestamp, secret);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), token.as_bytes())) {
        return false;
    }
    let age = seconds(chrono::Utc::now().naive_utc()) - timestamp;
    u64::try_from(age).is_ok_and(|age| age <= timeout_seconds)
}

/// Django's `urlsafe_base64_encode(force_bytes(pk))`: the key in a reset link.
pub fn encode_uid(id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.to_string())
}

/// The key of a reset link, if it is one.
pub fn decode_uid(uid: &str) -> Option<i64> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(uid.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_djangos() {
        // Made by Django 5.2's PasswordResetTokenGenerator for this user at this timestamp.
        let user = User {
            id: 7,
            password: "pbkdf2_sha256$1000$salt$hash".into(),
            last_login: Some("2026-12-01T10:20:30".parse().unwrap()),
            is_superuser: false,
            username: "ada".into(),
            first_name: String::new(),
            last_name: String::new(),
            email: "ada@example.com".into(),
            is_staff: false,
            is_active: true,
            date_joined: "2026-11-01T00:00:00".parse().unwrap(),
        };
        assert_eq!(token_at(&user, 817_900_000, "test-secret"), DJANGO_TOKEN);
        assert_eq!(encode_uid(7), "Nw");
        assert_eq!(decode_uid("Nw"), Some(7));
        assert_eq!(decode_uid("!!"), None);
    }

    const DJANGO_TOKEN: &str = "diyfog-5edbfc261207330cbcb9d86527fdc7d5";
}
