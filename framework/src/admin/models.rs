//! The admin's history: Django's `LogEntry`.

use crate::auth::User;
use crate::db::{DateTime, ForeignKey};

/// One add, change or delete made through the admin: who, when, which object, what changed.
#[crate::model(app = "admin", table = "manouche_admin_log", ordering = ["-action_time"], verbose_name = "log entry", display = "{object_repr}")]
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// When.
    #[field(auto_now_add)]
    pub action_time: DateTime,
    /// Who.
    #[field(on_delete = cascade)]
    pub user: ForeignKey<User>,
    /// The model's app label.
    #[field(max_length = 100)]
    pub app_label: String,
    /// The model's name.
    #[field(max_length = 100)]
    pub model: String,
    /// The object's primary key, as text.
    pub object_id: String,
    /// The object as one line, when the entry was made.
    #[field(max_length = 200)]
    pub object_repr: String,
    /// [`ADDITION`], [`CHANGE`] or [`DELETION`].
    pub action_flag: i16,
    /// What changed ("Changed price and stock.").
    pub change_message: String,
}

/// An object added.
pub const ADDITION: i16 = 1;
/// An object changed.
pub const CHANGE: i16 = 2;
/// An object deleted.
pub const DELETION: i16 = 3;

impl LogEntry {
    /// "Added", "Changed" or "Deleted".
    pub fn action(&self) -> &'static str {
        match self.action_flag {
            ADDITION => "Added",
            CHANGE => "Changed",
            _ => "Deleted",
        }
    }
}
