use std::fmt;
use std::path::{Path, PathBuf};

/// The database the project uses, parsed from the `database_url` setting or `DATABASE_URL`.
///
/// # Examples
///
/// ```
/// use manouche::conf::DatabaseUrl;
/// let url = DatabaseUrl::parse("sqlite://db.sqlite3", "/srv/shop".as_ref())?;
/// assert_eq!(url, DatabaseUrl::Sqlite("/srv/shop/db.sqlite3".into()));
/// assert_eq!(DatabaseUrl::parse("sqlite::memory:", "/".as_ref())?, DatabaseUrl::SqliteMemory);
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseUrl {
    /// A SQLite file; a relative path in the URL is resolved against the project directory.
    Sqlite(PathBuf),
    /// A private in-memory SQLite database (`sqlite::memory:`).
    SqliteMemory,
    /// A PostgreSQL URL, kept as written (`postgres://user@host:5432/name`).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite::memory:` or `postgres://...`.
    ///
    /// # Errors
    ///
    /// A message saying which forms are accepted when the scheme is unknown or the path empty.
    pub fn parse(url: &str, base_dir: &Path) -> Result<Self, String> {
        let url = url.trim();
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("`sqlite://` needs a file path, e.g. `sqlite://db.sqlite3`".into());
            }
            let path = Path::new(path);
            let path = if path.is_absolute() { path.to_path_buf() } else { base_dir.join(path) };
            return Ok(DatabaseUrl::Sqlite(path));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        Err(format!(
            "unsupported database URL `{}`; expected `sqlite://PATH`, `sqlite::memory:` or `postgres://...`",
            redact(url)
        ))
    }
}

/// Hides the password of a URL with credentials (`postgres://user:secret@host` → `user:***@host`).
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_sqlite_paths_resolve_against_the_project() {
        let url = DatabaseUrl::parse("sqlite://data/db.sqlite3", Path::new("/p")).unwrap();
        assert_eq!(url, DatabaseUrl::Sqlite(PathBuf::from("/p/data/db.sqlite3")));
        let url = DatabaseUrl::parse("sqlite:///var/db.sqlite3", Path::new("/p")).unwrap();
        assert_eq!(url, DatabaseUrl::Sqlite(PathBuf::from("/var/db.sqlite3")));
    }

    #[test]
    fn postgres_passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/shop", Path::new("/")).unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db/shop");
        let err = DatabaseUrl::parse("mysql://app:hunter2@db/shop", Path::new("/")).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("expected `sqlite://PATH`"), "{err}");
    }
}
