//! Migration `0001_initial` of the `admin` app.
//!
//! - Create model LogEntry

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0001_initial").depends_on("auth", "0001_initial").operation(create_model(
        "LogEntry",
        "manouche_admin_log",
        [
            field("id", FieldType::BigInt).primary_key().auto(),
            field("action_time", FieldType::DateTime).auto_now_add(),
            foreign_key("user", "auth.User", OnDelete::Cascade),
            field("app_label", FieldType::Text).max_length(100),
            field("model", FieldType::Text).max_length(100),
            field("object_id", FieldType::Text),
            field("object_repr", FieldType::Text).max_length(200),
            field("action_flag", FieldType::SmallInt),
            field("change_message", FieldType::Text),
        ],
    ))
}
