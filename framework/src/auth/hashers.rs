//! Password hashing compatible with Django's `django.contrib.auth.hashers`: the stored form is
//! `<algorithm>$<parameters>$<salt>$<hash>`, so hashes move both ways between a Django project
//! and a Manouche one.
//!
//! | algorithm | stored as |
//! |---|---|
//! | `pbkdf2_sha256` (the default) | `pbkdf2_sha256$1200000$<salt>$<base64 hash>` |
//! | `pbkdf2_sha1` | `pbkdf2_sha1$<iterations>$<salt>$<base64 hash>` |
//! | `argon2` | `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` |
//!
//! A password starting with `!` is unusable (Django's `set_unusable_password`): nothing checks
//! against it. Comparisons are in constant time. Hashing is slow on purpose (about half a second
//! at Django 6's 1,200,000 iterations): call these from the blocking pool or a command, never on
//! an actix worker; [`crate::auth`]'s functions do.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use subtle::ConstantTimeEq;

/// Django 6's default PBKDF2 iteration count.
pub const PBKDF2_ITERATIONS: u32 = 1_200_000;
/// What marks an unusable password (Django's `UNUSABLE_PASSWORD_PREFIX`).
pub const UNUSABLE_PREFIX: char = '!';

/// The hashing algorithms, by Django's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// PBKDF2 with HMAC-SHA256: Django's default.
    Pbkdf2Sha256,
    /// PBKDF2 with HMAC-SHA1: Django's legacy hasher, still verified.
    Pbkdf2Sha1,
    /// Argon2id with Django's parameters (time 2, memory 100 MiB, 8 lanes).
    Argon2,
}

impl Algorithm {
    /// Django's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "pbkdf2_sha256",
            Algorithm::Pbkdf2Sha1 => "pbkdf2_sha1",
            Algorithm::Argon2 => "argon2",
        }
    }

    /// The algorithm Django calls `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Algorithm::Pbkdf2Sha256, Algorithm::Pbkdf2Sha1, Algorithm::Argon2].into_iter().find(|a| a.name() == name)
    }
}

/// How new passwords are hashed: the first of Django's `PASSWORD_HASHERS` and its work factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hasher {
    /// The algorithm new hashes use.
    pub algorithm: Algorithm,
    /// PBKDF2 iterations for new hashes; a stored hash with another count is re-hashed on login.
    pub iterations: u32,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher { algorithm: Algorithm::Pbkdf2Sha256, iterations: PBKDF2_ITERATIONS }
    }
}

impl Hasher {
    /// `password` hashed with a new random salt (Django's `make_password`).
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness, or (argon2) the hasher refuses its input.
    pub fn encode(&self, password: &str) -> crate::Result<String> {
        // 22 characters of 62: 128 bits, Django's salt entropy.
        let salt = crate::signing::get_random_string(22)?;
        self.encode_with_salt(password, &salt)
    }

    /// `password` hashed with `salt` (which must not contain `$`).
    ///
    /// # Errors
    ///
    /// When the salt holds `$`, or (argon2) the hasher refuses its input.
    pub fn encode_with_salt(&self, password: &str, salt: &str) -> crate::Result<String> {
        if salt.contains('$') {
            return Err(crate::Error::other("a password salt cannot contain `$`"));
        }
        match self.algorithm {
            Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => {
                let hash = pbkdf2(self.algorithm, password, salt, self.iterations);
                Ok(format!("{}${}${salt}${}", self.algorithm.name(), self.iterations, STANDARD.encode(hash)))
            }
            Algorithm::Argon2 => {
                let hash = argon2_hash(password.as_bytes(), salt.as_bytes(), ARGON2_DEFAULT)?;
                let (m, t, p) = ARGON2_DEFAULT;
                Ok(format!(
                    "argon2$argon2id$v=19$m={m},t={t},p={p}${}${}",
                    STANDARD_NO_PAD.encode(salt),
                    STANDARD_NO_PAD.encode(hash)
                ))
            }
        }
    }

    /// Whether a stored hash should be replaced on the next login (Django's `must_update`):
    /// another algorithm, or PBKDF2 with another iteration count, or other argon2 parameters.
    pub fn must_update(&self, encoded: &str) -> bool {
        let Some(algorithm) = identify(encoded) else { return false };
        if algorithm != self.algorithm {
            return true;
        }
        match algorithm {
            Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => {
                encoded.split('$').nth(1).and_then(|n| n.parse::<u32>().ok()) != Some(self.iterations)
            }
            Algorithm::Argon2 => {
                let (m, t, p) = ARGON2_DEFAULT;
                encoded.split('$').nth(3) != Some(format!("m={m},t={t},p={p}").as_str())
            }
        }
    }
}

/// The algorithm of a stored hash, if it is usable and one this crate knows.
pub fn identify(encoded: &str) -> Option<Algorithm> {
    if encoded.starts_with(UNUSABLE_PREFIX) {
        return None;
    }
    Algorithm::from_name(encoded.split('$').next()?)
}

/// Whether the stored value can ever match a password (Django's `is_password_usable`).
pub fn is_usable(encoded: &str) -> bool {
    !encoded.starts_with(UNUSABLE_PREFIX)
}

/// A value no password matches, different for each user (Django's `make_password(None)`).
///
/// # Errors
///
/// When the operating system has no randomness to give.
pub fn unusable_password() -> crate::Result<String> {
    Ok(format!("{UNUSABLE_PREFIX}{}", crate::signing::get_random_string(40)?))
}

/// Whether `password` matches the stored `encoded` hash (Django's `check_password`): any known
/// algorithm and work factor, compared in constant time; `false` for an unusable, malformed or
/// unknown one.
pub fn verify(password: &str, encoded: &str) -> bool {
    let Some(algorithm) = identify(encoded) else { return false };
    match algorithm {
        Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => {
            let mut parts = encoded.splitn(4, '$').skip(1);
            let (Some(iterations), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
                return false;
            };
            let Ok(iterations) = iterations.parse::<u32>() else { return false };
            let Ok(expected) = STANDARD.decode(hash) else { return false };
            if iterations == 0 || expected.is_empty() {
                return false;
            }
            bool::from(pbkdf2(algorithm, password, salt, iterations).as_slice().ct_eq(&expected))
        }
        Algorithm::Argon2 => verify_argon2(password, encoded),
    }
}

/// Django's argon2 parameters: memory (KiB), time, parallelism.
const ARGON2_DEFAULT: (u32, u32, u32) = (102_400, 2, 8);

fn pbkdf2(algorithm: Algorithm, password: &str, salt: &str, iterations: u32) -> Vec<u8> {
    match algorithm {
        Algorithm::Pbkdf2Sha1 => pbkdf2_block::<Sha1Rounds>(password.as_bytes(), salt.as_bytes(), iterations),
        _ => pbkdf2_block::<Sha256Rounds>(password.as_bytes(), salt.as_bytes(), iterations),
    }
}

/// One PBKDF2-HMAC block (the digest's length: all Django stores), its iterations run on the
/// hash's compression function directly. The HMAC keys' pad blocks are compressed once; each
/// iteration is then two compressions of one pre-padded block. The compression functions are
/// compiled (and optimised) in `sha1`/`sha2`; a generic `pbkdf2_hmac::<Sha256>` would be
/// compiled unoptimised into this crate in debug builds, ten times slower.
fn pbkdf2_block<H: Rounds>(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    use hmac::Mac as _;
    // U1 = HMAC(password, salt || INT(1)), through the ordinary HMAC once.
    let mut first = H::hmac(password);
    first.update(salt);
    first.update(&1u32.to_be_bytes());
    let first = first.finalize().into_bytes();
    // A digest-sized message after one 64-byte block: the padding and length never change.
    let mut block = [0u8; 64];
    block[H::LEN] = 0x80;
    block[56..].copy_from_slice(&((64 + H::LEN as u64) * 8).to_be_bytes());
    // HMAC's inner and outer states after the key's pad block.
    let key = if password.len() > 64 { H::digest(password) } else { password.to_vec() };
    let pad = |byte: u8| {
        let mut block = [byte; 64];
        block.iter_mut().zip(&key).for_each(|(b, k)| *b ^= k);
        block
    };
    let (inner, outer) = (H::state_after(&pad(0x36)), H::state_after(&pad(0x5c)));
    let mut u = H::words(&first);
    let mut t = u;
    // The loop runs a million times: words, no allocation, no iterator adaptors.
    for _ in 1..iterations {
        H::put(&u, &mut block);
        let mut state = inner;
        H::compress(&mut state, &block);
        H::put(&state, &mut block);
        u = outer;
        H::compress(&mut u, &block);
        H::xor(&mut t, &u);
    }
    let mut out = vec![0u8; H::LEN];
    let mut tail = [0u8; 64];
    H::put(&t, &mut tail);
    out.copy_from_slice(&tail[..H::LEN]);
    out
}

/// What PBKDF2 needs of a Merkle–Damgård hash with 64-byte blocks.
trait Rounds {
    type State: Copy;
    type Mac: hmac::Mac;
    const LEN: usize;
    fn hmac(key: &[u8]) -> Self::Mac;
    fn digest(data: &[u8]) -> Vec<u8>;
    fn state_after(block: &[u8; 64]) -> Self::State;
    fn compress(state: &mut Self::State, block: &[u8; 64]);
    /// A digest's bytes as state words.
    fn words(digest: &[u8]) -> Self::State;
    /// The state's words, big-endian, at the start of `block`.
    fn put(state: &Self::State, block: &mut [u8; 64]);
    fn xor(into: &mut Self::State, other: &Self::State);
}

struct Sha256Rounds;
struct Sha1Rounds;

macro_rules! rounds {
    ($name:ident, $words:literal, $digest:ty, $compress:path, $iv:expr) => {
        impl Rounds for $name {
            type State = [u32; $words];
            type Mac = hmac::Hmac<$digest>;
            const LEN: usize = $words * 4;
            fn hmac(key: &[u8]) -> Self::Mac {
                <Self::Mac as hmac::Mac>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
            }
            fn digest(data: &[u8]) -> Vec<u8> {
                <$digest as sha2::Digest>::digest(data).to_vec()
            }
            fn state_after(block: &[u8; 64]) -> Self::State {
                let mut state = $iv;
                Self::compress(&mut state, block);
                state
            }
            fn compress(state: &mut Self::State, block: &[u8; 64]) {
                $compress(state, std::slice::from_ref(sha2::digest::generic_array::GenericArray::from_slice(block)));
            }
            fn words(digest: &[u8]) -> Self::State {
                let mut words = [0u32; $words];
                let mut i = 0;
                while i < $words {
                    words[i] =
                        u32::from_be_bytes([digest[4 * i], digest[4 * i + 1], digest[4 * i + 2], digest[4 * i + 3]]);
                    i += 1;
                }
                words
            }
            fn put(state: &Self::State, block: &mut [u8; 64]) {
                let mut i = 0;
                while i < $words {
                    let [a, b, c, d] = state[i].to_be_bytes();
                    block[4 * i] = a;
                    block[4 * i + 1] = b;
                    block[4 * i + 2] = c;
                    block[4 * i + 3] = d;
                    i += 1;
                }
            }
            fn xor(into: &mut Self::State, other: &Self::State) {
                let mut i = 0;
                while i < $words {
                    into[i] ^= other[i];
                    i += 1;
                }
            }
        }
    };
}

rounds!(
    Sha256Rounds,
    8,
    sha2::Sha256,
    sha2::compress256,
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19]
);
rounds!(Sha1Rounds, 5, sha1::Sha1, sha1::compress, [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]);

fn argon2_hash(password: &[u8], salt: &[u8], (m, t, p): (u32, u32, u32)) -> crate::Result<Vec<u8>> {
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| crate::Error::other(format!("argon2: {e}")))?;
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = vec![0u8; 32];
    hasher.hash_password_into(password, salt, &mut out).map_err(|e| crate::Error::other(format!("argon2: {e}")))?;
    Ok(out)
}

/// `argon2$argon2id$v=19$m=...,t=...,p=...$salt$hash`, salt and hash in unpadded base64.
fn verify_argon2(password: &str, encoded: &str) -> bool {
    let parts: Vec<&str> = encoded.split('$').collect();
    let [_, variant, version, params, salt, hash] = parts.as_slice() else { return false };
    let algorithm = match *variant {
        "argon2id" => argon2::Algorithm::Argon2id,
        "argon2i" => argon2::Algorithm::Argon2i,
        "argon2d" => argon2::Algorithm::Argon2d,
        _ => return false,
    };
    let version = match *version {
        "v=19" => argon2::Version::V0x13,
        "v=16" => argon2::Version::V0x10,
        _ => return false,
    };
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for pair in params.split(',') {
        match pair.split_once('=') {
            Some(("m", v)) => m = v.parse::<u32>().ok(),
            Some(("t", v)) => t = v.parse::<u32>().ok(),
            Some(("p", v)) => p = v.parse::<u32>().ok(),
            _ => return false,
        }
    }
    let (Some(m), Some(t), Some(p)) = (m, t, p) else { return false };
    let (Ok(salt), Ok(expected)) = (STANDARD_NO_PAD.decode(salt), STANDARD_NO_PAD.decode(hash)) else { return false };
    let Ok(params) = argon2::Params::new(m, t, p, Some(expected.len())) else { return false };
    let hasher = argon2::Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if hasher.hash_password_into(password.as_bytes(), &salt, &mut out).is_err() {
        return false;
    }
    bool::from(out.as_slice().ct_eq(&expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rehash_decisions() {
        let fast = Hasher { algorithm: Algorithm::Pbkdf2Sha256, iterations: 1000 };
        let encoded = fast.encode("s3cret").unwrap();
        assert!(encoded.starts_with("pbkdf2_sha256$1000$"), "{encoded}");
        assert_eq!(encoded.split('$').nth(2).unwrap().len(), 22, "Django's salt length");
        assert!(verify("s3cret", &encoded));
        assert!(!verify("S3cret", &encoded));
        assert!(!fast.must_update(&encoded));
        assert!(Hasher { iterations: 2000, ..fast }.must_update(&encoded), "an outdated count is re-hashed");
        let sha1 = Hasher { algorithm: Algorithm::Pbkdf2Sha1, iterations: 1000 };
        assert!(fast.must_update(&sha1.encode("x").unwrap()), "another algorithm is re-hashed");
        assert_ne!(fast.encode("s3cret").unwrap(), encoded, "a new salt each time");
    }

    #[test]
    fn unusable_and_malformed_values_never_match() {
        let unusable = unusable_password().unwrap();
        assert!(unusable.starts_with('!') && unusable.len() == 41);
        assert!(!is_usable(&unusable) && !verify("", &unusable));
        for bad in [
            "",
            "pbkdf2_sha256",
            "pbkdf2_sha256$x$salt$hash",
            "pbkdf2_sha256$0$s$AAAA",
            "md5$salt$hash",
            "argon2$argon2id$v=19$m=1$s$h",
        ] {
            assert!(!verify("", bad), "{bad}");
        }
        assert!(Hasher::default().encode_with_salt("x", "a$b").is_err());
    }
}
