//! Cryptographic signing, Django's `django.core.signing`: values that travel through a client (a
//! cookie, a URL) and come back unaltered, or are refused.
//!
//! The format is Django's: `value:signature`, the signature an HMAC-SHA256 keyed by
//! `SHA-256(salt + "signer" + secret)`, URL-safe base64 without padding; [`TimestampSigner`] adds
//! `:timestamp` (base 62 seconds) before signing. A value signed here unsigns in Django with the
//! same secret and salt, and the other way round.
//!
//! ```
//! use manouche::signing::{Signer, TimestampSigner};
//!
//! let signer = Signer::new("the secret key", "shop.cart");
//! let signed = signer.sign("cart-42");
//! assert_eq!(signer.unsign(&signed)?, "cart-42");
//! assert!(signer.unsign(&signed.replace("42", "43")).is_err());
//!
//! // Expiring: refused after `max_age`.
//! let stamped = TimestampSigner::new("the secret key", "shop.reset").sign("ada");
//! let (value, _) = TimestampSigner::new("the secret key", "shop.reset").unsign(&stamped, Some(std::time::Duration::from_secs(3600)))?;
//! assert_eq!(value, "ada");
//! # Ok::<(), manouche::signing::BadSignature>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why a signed value was refused. The text is for logs: it never says what the right signature
/// would have been.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadSignature {
    /// The value has no signature (no `:`).
    #[error("no signature in the value")]
    Missing,
    /// The signature does not match the value: it was altered, or signed with another key or salt.
    #[error("the signature does not match")]
    Mismatch,
    /// The timestamp is not base 62, or the signed payload is not what was signed.
    #[error("the signed value is malformed: {0}")]
    Malformed(String),
    /// The signature is valid but older than the allowed age.
    #[error("the signature expired {0} seconds ago")]
    Expired(u64),
}

/// Signs and checks values with a secret and a salt (Django's `Signer`). Different salts give
/// independent signatures: a session cookie cannot be replayed as a password-reset token.
#[derive(Clone)]
pub struct Signer {
    /// `SHA-256(salt + "signer" + secret)` for each key, the current one first (then fallbacks).
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `salt` (a namespace such as `"manouche.sessions"`) with `secret`.
    pub fn new(secret: &str, salt: &str) -> Self {
        Signer::with_fallbacks(secret, &[], salt)
    }

    /// Also accepts signatures made with older secrets (Django's `SECRET_KEY_FALLBACKS`), so a key
    /// can be rotated without logging everyone out; new signatures use `secret`.
    pub fn with_fallbacks(secret: &str, fallbacks: &[&str], salt: &str) -> Self {
        let derive = |secret: &str| -> [u8; 32] {
            let mut hasher = Sha256::new();
            hasher.update(salt.as_bytes());
            hasher.update(b"signer");
            hasher.update(secret.as_bytes());
            hasher.finalize().into()
        };
        Signer { keys: std::iter::once(secret).chain(fallbacks.iter().copied()).map(derive).collect() }
    }

    fn mac(key: &[u8; 32], value: &str) -> Hmac<Sha256> {
        // An HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(value.as_bytes());
        mac
    }

    /// The signature of `value`.
    pub fn signature(&self, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(Self::mac(&self.keys[0], value).finalize().into_bytes())
    }

    /// `value:signature`.
    pub fn sign(&self, value: &str) -> String {
        format!("{value}:{}", self.signature(value))
    }

    /// The value of `signed`, when its signature is this signer's (or a fallback's), compared in
    /// constant time.
    ///
    /// # Errors
    ///
    /// [`BadSignature::Missing`] or [`BadSignature::Mismatch`].
    pub fn unsign<'a>(&self, signed: &'a str) -> Result<&'a str, BadSignature> {
        let (value, signature) = signed.rsplit_once(':').ok_or(BadSignature::Missing)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| BadSignature::Mismatch)?;
        // `verify_slice` compares in constant time.
        if self.keys.iter().any(|key| Self::mac(key, value).verify_slice(&signature).is_ok()) {
            Ok(value)
        } else {
            Err(BadSignature::Mismatch)
        }
    }
}

/// A [`Signer`] that also signs when (Django's `TimestampSigner`), so a value can expire.
#[derive(Debug, Clone)]
pub struct TimestampSigner {
    signer: Signer,
}

impl TimestampSigner {
    /// A timestamping signer for `salt` with `secret`.
    pub fn new(secret: &str, salt: &str) -> Self {
        TimestampSigner { signer: Signer::new(secret, salt) }
    }

    /// A timestamping signer over a [`Signer`] (with its fallback keys).
    pub fn from_signer(signer: Signer) -> Self {
        TimestampSigner { signer }
    }

    /// `value:timestamp:signature`, stamped now.
    pub fn sign(&self, value: &str) -> String {
        self.sign_at(value, unix_now())
    }

    /// `value:timestamp:signature`, stamped at `unix_seconds`.
    pub fn sign_at(&self, value: &str, unix_seconds: u64) -> String {
        self.signer.sign(&format!("{value}:{}", b62_encode(unix_seconds)))
    }

    /// The value and when it was signed (Unix seconds), when the signature is valid and, with
    /// `max_age`, not older than that.
    ///
    /// # Errors
    ///
    /// [`BadSignature`]: altered, foreign, malformed or expired.
    pub fn unsign<'a>(&self, signed: &'a str, max_age: Option<Duration>) -> Result<(&'a str, u64), BadSignature> {
        let stamped = self.signer.unsign(signed)?;
        let (value, stamp) = stamped.rsplit_once(':').ok_or(BadSignature::Missing)?;
        let signed_at = b62_decode(stamp).ok_or_else(|| BadSignature::Malformed(format!("bad timestamp `{stamp}`")))?;
        if let Some(max_age) = max_age {
            let age = unix_now().saturating_sub(signed_at);
            if age > max_age.as_secs() {
                return Err(BadSignature::Expired(age - max_age.as_secs()));
            }
        }
        Ok((value, signed_at))
    }
}

/// A serialisable value as a signed, timestamped, URL-safe string (Django's `signing.dumps`
/// without compression): compact JSON in base64, signed with `salt`.
///
/// # Errors
///
/// When `value` cannot be serialised to JSON.
pub fn dumps<T: serde::Serialize + ?Sized>(value: &T, signer: &TimestampSigner) -> Result<String, serde_json::Error> {
    let json = serde_json::to_vec(value)?;
    Ok(signer.sign(&URL_SAFE_NO_PAD.encode(json)))
}

/// The value [`dumps`] signed, when the signature is valid and younger than `max_age`.
///
/// # Errors
///
/// [`BadSignature`], also for a payload that is not the expected type (or is compressed, which
/// Django does only for payloads that shrink; those are refused here).
pub fn loads<T: serde::de::DeserializeOwned>(
    signed: &str,
    signer: &TimestampSigner,
    max_age: Option<Duration>,
) -> Result<T, BadSignature> {
    let (payload, _) = signer.unsign(signed, max_age)?;
    if payload.starts_with('.') {
        return Err(BadSignature::Malformed("compressed payloads are not supported".into()));
    }
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|e| BadSignature::Malformed(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| BadSignature::Malformed(e.to_string()))
}

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn b62_encode(mut n: u64) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(B62[(n % 62) as usize]);
        n /= 62;
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

fn b62_decode(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 11 {
        return None;
    }
    text.bytes().try_fold(0u64, |n, c| {
        let digit = B62.iter().position(|d| *d == c)? as u64;
        n.checked_mul(62)?.checked_add(digit)
    })
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The alphabet of [`get_random_string`]: Django's `RANDOM_STRING_CHARS`.
pub const RANDOM_STRING_CHARS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `len` characters of `[a-zA-Z0-9]` from the operating system's CSPRNG, each equally likely
/// (Django's `get_random_string`): salts, CSRF secrets, unusable passwords.
///
/// # Errors
///
/// When the operating system has no randomness to give.
pub fn get_random_string(len: usize) -> crate::Result<String> {
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut bytes).map_err(|e| crate::Error::other(format!("no randomness: {e}")))?;
        // Rejection sampling: 248 = 4 × 62, so every character is equally likely.
        out.extend(
            bytes
                .iter()
                .filter(|b| **b < 248)
                .map(|b| char::from(RANDOM_STRING_CHARS[usize::from(*b % 62)]))
                .take(len - out.len()),
        );
    }
    Ok(out)
}

/// Django's `salted_hmac(key_salt, value, secret, algorithm="sha256")`: HMAC-SHA256 of `value`
/// keyed by `SHA-256(key_salt + secret)`, as lower-case hex. Different salts give independent
/// values.
pub fn salted_hmac_hex(key_salt: &str, value: &str, secret: &str) -> String {
    let key = Sha256::new().chain_update(key_salt).chain_update(secret).finalize();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_hmac_matches_django() {
        // Django 5.2: salted_hmac(<the session auth hash salt>, value, "test-secret", "sha256").
        let salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";
        assert_eq!(
            salted_hmac_hex(salt, "pbkdf2_sha256$1000$salt$hash", "test-secret"),
            "8df8ae6cf213b285d61141b5fafc2ca9c00f376b31d23e2970ed4dc1012332ce"
        );
    }

    // Made by Django 5.2: `Signer(key=SECRET, salt=SALT).sign("hello")`, the same with
    // `TimestampSigner` at 1,700,000,000, and `signing.dumps({"cart": {"3": 2}}, compress=False)`.
    const SECRET: &str = "manouche-test-secret";
    const SALT: &str = "manouche.tests";

    #[test]
    fn signatures_match_djangos() {
        assert_eq!(Signer::new(SECRET, SALT).sign("hello"), "hello:SgIgcSln7zBuw52Y4GDn-5g-1ECqzo8vz1Gjda-rq44");
        assert_eq!(
            Signer::new(SECRET, "django.core.signing.Signer").sign("hello"),
            "hello:igfPeuadBBcynRvbeQOD0eJI2yJpojlhYQxqLRkRyys"
        );
        let stamped = TimestampSigner::new(SECRET, SALT);
        assert_eq!(stamped.sign_at("hello", 1_700_000_000), "hello:1r31eq:k_RkW0YrT6JZuISXftx9NJBdcE-PxX5vzZdqNV0x_xo");
        let django = "eyJjYXJ0Ijp7IjMiOjJ9fQ:1r31eq:sB59VAgCHjyqbCsFZeHNbFdKxebG0bdR7TlVls534AE";
        let cart: serde_json::Value = loads(django, &stamped, None).unwrap();
        assert_eq!(cart, serde_json::json!({"cart": {"3": 2}}));
    }

    #[test]
    fn altered_foreign_and_expired_values_are_refused() {
        let signer = Signer::new(SECRET, SALT);
        let signed = signer.sign("user=1");
        assert_eq!(signer.unsign(&signed), Ok("user=1"));
        assert_eq!(signer.unsign(&signed.replacen("user=1", "user=2", 1)), Err(BadSignature::Mismatch));
        assert_eq!(Signer::new(SECRET, "other.salt").unsign(&signed), Err(BadSignature::Mismatch));
        assert_eq!(Signer::new("another secret", SALT).unsign(&signed), Err(BadSignature::Mismatch));
        assert_eq!(signer.unsign("no signature"), Err(BadSignature::Missing));
        assert_eq!(signer.unsign("value:!!!"), Err(BadSignature::Mismatch));
        // A rotated key: old signatures still pass through the fallback, new ones use the new key.
        let rotated = Signer::with_fallbacks("new secret", &[SECRET], SALT);
        assert_eq!(rotated.unsign(&signed), Ok("user=1"));
        assert_ne!(rotated.sign("user=1"), signed);

        let stamped = TimestampSigner::new(SECRET, SALT);
        let old = stamped.sign_at("token", unix_now() - 7200);
        assert!(
            matches!(stamped.unsign(&old, Some(Duration::from_secs(3600))), Err(BadSignature::Expired(n)) if n >= 3600)
        );
        assert_eq!(stamped.unsign(&old, Some(Duration::from_secs(10_000))).map(|(v, _)| v), Ok("token"));
        assert!(loads::<u32>(&dumps("text", &stamped).unwrap(), &stamped, None).is_err(), "another type is refused");
    }

    #[test]
    fn base62_round_trips() {
        for n in [0, 1, 61, 62, 1_700_000_000, u64::MAX] {
            assert_eq!(b62_decode(&b62_encode(n)), Some(n));
        }
        assert_eq!(b62_encode(1_700_000_000), "1r31eq");
        assert_eq!(b62_decode("!"), None);
    }
}
