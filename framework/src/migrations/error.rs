//! Why a migration step failed.

/// What went wrong in the migration system.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operation does not fit the state it is applied to (a hand-edited migration, usually).
    #[error("cannot {operation}: {message}")]
    BadOperation {
        /// The operation, described.
        operation: String,
        /// What is wrong.
        message: String,
    },
    /// The migrations do not form a sound history: a missing dependency, a duplicate, a cycle,
    /// or two latest migrations in one app.
    #[error("{0}")]
    Graph(String),
    /// A migration refers to an app or migration that does not exist.
    #[error("{0}")]
    Unknown(String),
    /// A model change that migrations cannot make by themselves.
    #[error("{0}")]
    Unsupported(String),
    /// An operation that cannot be unapplied.
    #[error("{migration} cannot be unapplied: operation {index} ({operation}) has no reverse")]
    Irreversible {
        /// `app.name` of the migration.
        migration: String,
        /// The operation's position, from 1.
        index: usize,
        /// The operation, described.
        operation: String,
    },
    /// A statement failed; the migration's transaction was rolled back.
    #[error(
        "{migration} failed at operation {index} ({operation}): {cause}; the database is as it was before {migration}"
    )]
    Failed {
        /// `app.name` of the migration.
        migration: String,
        /// The operation's position, from 1.
        index: usize,
        /// The operation, described.
        operation: String,
        /// The database's message.
        cause: String,
    },
    /// A statement of a non-atomic migration failed: the statements before it stay applied.
    #[error(
        "{migration} failed at operation {index} ({operation}): {cause}; {migration} is not atomic, so what ran before operation {index} stays applied and it is not recorded"
    )]
    FailedPartway {
        /// `app.name` of the migration.
        migration: String,
        /// The operation's position, from 1.
        index: usize,
        /// The operation, described.
        operation: String,
        /// The database's message.
        cause: String,
    },
    /// The database could not be reached or read.
    #[error(transparent)]
    Database(#[from] crate::db::Error),
}
