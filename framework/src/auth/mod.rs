//! Authentication: Django's `django.contrib.auth`. Passwords hashed as Django hashes them
//! ([`hashers`]).

pub mod hashers;
