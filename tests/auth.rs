//! Authentication, mirroring Django's `auth_tests` for what is built: password hashes made by
//! Django verify here (and ours verify in Django's format).

use manouche::auth::hashers::{self, Algorithm, Hasher};

#[test]
fn every_hash_django_made_verifies_and_the_wrong_password_does_not() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/django-password-hashes.json")).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let valid = fixture["valid"].as_array().unwrap();
    assert!(valid.len() >= 6, "the fixture lists pbkdf2_sha256, pbkdf2_sha1 and argon2 hashes");
    for entry in valid {
        let (password, encoded) = (entry["password"].as_str().unwrap(), entry["encoded"].as_str().unwrap());
        assert!(hashers::verify(password, encoded), "{encoded} should verify");
        assert_eq!(hashers::identify(encoded).map(Algorithm::name), entry["algorithm"].as_str());
        assert!(!hashers::verify(&format!("{password}x"), encoded), "{encoded} with another password");
    }
    for entry in fixture["invalid"].as_array().unwrap() {
        assert!(!hashers::verify(entry["password"].as_str().unwrap(), entry["encoded"].as_str().unwrap()));
    }
}

#[test]
fn new_hashes_are_djangos_format_at_django_6s_count_and_old_ones_are_flagged_for_rehash() {
    let hasher = Hasher::default();
    assert_eq!(hasher.iterations, 1_200_000, "Django 6.0's default");
    // The same password and salt as a Django 5.2 vector, at its count: the same bytes.
    let django = "pbkdf2_sha256$600000$saltysaltsalt123$EhIbztM35uzUJB9SWiHDWKX0FqmpHZmBOEf3qSTHF70=";
    let ours = Hasher { iterations: 600_000, ..hasher }.encode_with_salt("pässwörd ✓", "saltysaltsalt123").unwrap();
    assert_eq!(ours, django);
    assert!(hasher.must_update(django), "600,000 iterations is outdated");
    let argon = Hasher { algorithm: Algorithm::Argon2, ..hasher };
    let encoded = argon.encode_with_salt("correct horse battery staple", "argon2saltvalue1").unwrap();
    assert_eq!(
        encoded,
        "argon2$argon2id$v=19$m=102400,t=2,p=8$YXJnb24yc2FsdHZhbHVlMQ$1d2v/F1vAKIgDNsy2EGtzNbe7ELUd0wWSaT0+lG8VAE",
        "Django's argon2 parameters and encoding"
    );
    assert!(!argon.must_update(&encoded) && argon.must_update(django));
}
