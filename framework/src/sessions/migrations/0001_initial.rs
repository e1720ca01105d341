//! Migration `0001_initial` of the `sessions` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-03 16:32 UTC.
//!
//! - Create model Session

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0001_initial").operation(create_model(
        "Session",
        "manouche_session",
        [
            field("session_key", FieldType::Text).primary_key().max_length(40),
            field("session_data", FieldType::Text),
            field("expire_date", FieldType::DateTime).db_index(),
        ],
    ))
}
