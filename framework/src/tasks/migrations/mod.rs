//! Migrations of the `tasks` app. `makemigrations` writes this file when it adds a migration.

#[path = "0001_initial.rs"]
pub mod m0001_initial;

/// The app's migrations, in order: what `App::migrations` takes.
pub fn all() -> Vec<manouche::migrations::Migration> {
    vec![m0001_initial::migration()]
}
