//! Migrations of the `admin` app.

#[path = "0001_initial.rs"]
pub mod m0001_initial;

/// The app's migrations, in order: what `App::migrations` takes.
pub fn all() -> Vec<manouche::migrations::Migration> {
    vec![m0001_initial::migration()]
}
