//! Django's CSRF secrets and masked tokens (`django.middleware.csrf`), byte for byte: a secret
//! is 32 characters of `[a-zA-Z0-9]`; a token is a 32-character mask followed by the secret
//! shifted by the mask, character by character, modulo 62. A new mask per token keeps the
//! token different in every response (BREACH) while it still unmasks to the same secret.

use subtle::ConstantTimeEq;

/// The alphabet of secrets and tokens, in Django's order (`ascii_letters + digits`).
const CHARS: &[u8; 62] = crate::signing::RANDOM_STRING_CHARS;
/// The length of a secret (`CSRF_SECRET_LENGTH`).
pub const SECRET_LENGTH: usize = 32;
/// The length of a masked token (`CSRF_TOKEN_LENGTH`).
pub const TOKEN_LENGTH: usize = 2 * SECRET_LENGTH;

/// Why a secret or token is not well formed, in Django's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadFormat {
    Length,
    Characters,
}

impl BadFormat {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            BadFormat::Length => "has incorrect length",
            BadFormat::Characters => "has invalid characters",
        }
    }
}

fn index(c: u8) -> usize {
    match c {
        b'a'..=b'z' => usize::from(c - b'a'),
        b'A'..=b'Z' => usize::from(c - b'A') + 26,
        b'0'..=b'9' => usize::from(c - b'0') + 52,
        // Only called on checked input.
        _ => 0,
    }
}

/// A new random secret (Django's `_get_new_csrf_string`).
///
/// # Errors
///
/// When the operating system has no randomness to give.
pub(crate) fn new_secret() -> Result<String, crate::Error> {
    crate::signing::get_random_string(SECRET_LENGTH)
}

/// `secret` masked with `mask` (both checked, `SECRET_LENGTH` long): `mask + cipher`.
fn mask_with(secret: &str, mask: &str) -> String {
    let mut token = String::with_capacity(TOKEN_LENGTH);
    token.push_str(mask);
    token.extend(secret.bytes().zip(mask.bytes()).map(|(s, m)| char::from(CHARS[(index(s) + index(m)) % CHARS.len()])));
    token
}

/// A masked token for `secret`, with a fresh random mask (Django's `_mask_cipher_secret`).
///
/// # Errors
///
/// When the operating system has no randomness to give.
pub(crate) fn mask(secret: &str) -> Result<String, crate::Error> {
    Ok(mask_with(secret, &new_secret()?))
}

/// The secret a well-formed masked token carries (Django's `_unmask_cipher_token`).
pub(crate) fn unmask(token: &str) -> String {
    let (mask, cipher) = token.as_bytes().split_at(SECRET_LENGTH);
    cipher
        .iter()
        .zip(mask)
        .map(|(c, m)| char::from(CHARS[(index(*c) + CHARS.len() - index(*m)) % CHARS.len()]))
        .collect()
}

/// Django's `_check_token_format`: a secret (32) or a masked token (64) of the alphabet.
pub(crate) fn check_format(token: &str) -> Result<(), BadFormat> {
    if token.len() != SECRET_LENGTH && token.len() != TOKEN_LENGTH {
        return Err(BadFormat::Length);
    }
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(BadFormat::Characters);
    }
    Ok(())
}

/// Whether a well-formed token (masked or not) carries `secret`, compared in constant time.
pub(crate) fn matches(token: &str, secret: &str) -> bool {
    let candidate = if token.len() == TOKEN_LENGTH { unmask(token) } else { token.to_owned() };
    bool::from(candidate.as_bytes().ct_eq(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by Django 5.2: `_mask_cipher_secret` with its random mask replaced by `MASK`.
    const SECRET: &str = "lcccccccX2kcccccccY2jcccccccssIC";
    const MASK: &str = "o0Yyv3H8pxmfWfJjJoG6EL6rwPOGcZxf";
    const TOKEN: &str = "o0Yyv3H8pxmfWfJjJoG6EL6rwPOGcZxfz20Ax5JacpwhYhLlLquYNN8tyRQIuh5H";

    #[test]
    fn masking_matches_django() {
        assert_eq!(mask_with(SECRET, MASK), TOKEN);
        assert_eq!(unmask(TOKEN), SECRET);
    }

    #[test]
    fn every_mask_unmasks_to_the_secret() {
        let secret = new_secret().unwrap();
        let (a, b) = (mask(&secret).unwrap(), mask(&secret).unwrap());
        assert_ne!(a, b, "a new mask per token");
        assert_eq!((unmask(&a), unmask(&b)), (secret.clone(), secret.clone()));
        assert!(matches(&a, &secret) && matches(&secret, &secret));
        assert!(!matches(&mask(&new_secret().unwrap()).unwrap(), &secret));
    }

    #[test]
    fn formats_are_checked_like_django() {
        assert_eq!(check_format(SECRET), Ok(()));
        assert_eq!(check_format(TOKEN), Ok(()));
        assert_eq!(check_format("abc"), Err(BadFormat::Length));
        assert_eq!(check_format(&"a".repeat(33)), Err(BadFormat::Length));
        assert_eq!(check_format(&format!("{}-", &SECRET[..31])), Err(BadFormat::Characters));
        assert_eq!(check_format(&"é".repeat(16)), Err(BadFormat::Characters), "32 bytes, not ASCII");
    }
}
