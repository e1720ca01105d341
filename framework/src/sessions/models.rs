//! The database store's table, Django's `django_session`.

use crate::db::DateTime;

/// One stored session: its key, its data (JSON) and when it expires.
#[crate::model(app = "sessions", table = "manouche_session", verbose_name = "session")]
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The key the cookie carries: 32 random characters.
    #[field(primary_key, max_length = 40)]
    pub session_key: String,
    /// The data, as JSON.
    pub session_data: String,
    /// When it expires (UTC); `clearsessions` deletes the expired ones.
    #[field(db_index)]
    pub expire_date: DateTime,
}
