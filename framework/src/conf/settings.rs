use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{DatabaseUrl, Error, Origin};

/// The secret used to sign cookies and tokens. Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// The key's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// A project's settings, read from `manouche.toml` and the environment.
///
/// Environment variables override the file: `MANOUCHE_<KEY>` for every key
/// (`MANOUCHE_DEBUG=false`, `MANOUCHE_ALLOWED_HOSTS=shop.example,www.shop.example`), plus the
/// conventional `DATABASE_URL` and `SECRET_KEY`.
///
/// # Examples
///
/// ```
/// use manouche::conf::Settings;
/// let settings = Settings::from_toml_str(
///     "debug = true\nallowed_hosts = [\"shop.example\"]",
///     "/srv/shop".as_ref(),
///     std::iter::empty(),
/// )?;
/// assert!(settings.debug);
/// assert_eq!(settings.bind, "127.0.0.1:8000");
/// # Ok::<(), manouche::conf::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Debug mode: detailed error pages and static files served by the application.
    pub debug: bool,
    /// Signs cookies and tokens; required when `debug` is false.
    pub secret_key: Option<SecretKey>,
    /// Where `secret_key` came from (`check --deploy` warns about a key kept in the settings file).
    pub secret_key_origin: Origin,
    /// Host names this site answers to (`.example.com` matches subdomains, `*` anything).
    /// Empty with `debug` on means localhost only.
    pub allowed_hosts: Vec<String>,
    /// The database; defaults to `db.sqlite3` beside the settings file.
    pub database_url: DatabaseUrl,
    /// Most connections the database pool keeps.
    pub database_pool_size: u32,
    /// Seconds to wait for a pool connection before answering 503.
    pub database_timeout_seconds: u64,
    /// Seconds a PostgreSQL statement may run.
    pub database_statement_timeout_seconds: u64,
    /// Middleware names, outermost first.
    pub middleware: Vec<String>,
    /// HTTP worker threads; defaults to the number of cores.
    pub workers: usize,
    /// Address `runserver` listens on.
    pub bind: String,
    /// Seconds in-flight requests get to finish after SIGINT or SIGTERM (default 30).
    pub shutdown_timeout_seconds: u64,
    /// URL prefix of static files, starting and ending with `/`.
    pub static_url: String,
    /// Extra folders of static files besides each app's.
    pub static_dirs: Vec<PathBuf>,
    /// Where `collectstatic` gathers static files.
    pub static_root: PathBuf,
    /// Extra template folders `check` verifies (templates are compiled into the binary).
    pub template_dirs: Vec<PathBuf>,
    /// Redirect `/path` to `/path/` when only the latter matches a URL pattern.
    pub append_slash: bool,
    /// Log level: `error`, `warn`, `info`, `debug` or `trace`.
    pub log_level: log::LevelFilter,
    /// The folder of the settings file; relative paths are resolved against it.
    pub base_dir: PathBuf,
    /// The settings file that was read, if any.
    pub source: Option<PathBuf>,
    apps: toml::Table,
    /// The registered `[section]` tables and their environment variables.
    pub(crate) sections: super::Sections,
}

/// The file as written: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    debug: Option<bool>,
    secret_key: Option<String>,
    allowed_hosts: Option<Vec<String>>,
    database_url: Option<String>,
    database_pool_size: Option<i64>,
    database_timeout_seconds: Option<i64>,
    database_statement_timeout_seconds: Option<i64>,
    middleware: Option<Vec<String>>,
    workers: Option<i64>,
    bind: Option<String>,
    shutdown_timeout_seconds: Option<i64>,
    static_url: Option<String>,
    static_dirs: Option<Vec<PathBuf>>,
    static_root: Option<PathBuf>,
    template_dirs: Option<Vec<PathBuf>>,
    append_slash: Option<bool>,
    log_level: Option<String>,
    apps: Option<toml::Table>,
}

/// The middleware used when the settings name none.
pub(crate) const DEFAULT_MIDDLEWARE: &[&str] = &["manouche.security", "manouche.csrf", "manouche.logging"];

impl Settings {
    /// Reads `path` and applies the process environment on top.
    ///
    /// # Errors
    ///
    /// [`Error::Read`] when the file cannot be read, [`Error::Syntax`] for bad TOML or an unknown
    /// key, [`Error::Invalid`] for a bad value (naming the key and its origin).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Reads `path` and applies the given environment (`(name, value)` pairs) on top.
    ///
    /// # Errors
    ///
    /// As [`Settings::load`].
    pub fn load_with_env(
        path: impl AsRef<Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Error> {
        let path = absolute(path.as_ref());
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
        let base_dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut settings = Self::parse(&text, &base_dir, Some(&path), env)?;
        settings.source = Some(path);
        Ok(settings)
    }

    /// Parses settings from TOML text, resolving paths against `base_dir`.
    ///
    /// # Errors
    ///
    /// As [`Settings::load`].
    pub fn from_toml_str(
        text: &str,
        base_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Error> {
        Self::parse(text, base_dir, None, env)
    }

    /// Settings for tests and embedding: debug on, an in-memory database, the `testserver` host.
    pub fn for_tests() -> Self {
        let mut settings =
            Self::parse("", Path::new("."), None, std::iter::empty()).expect("the defaults are valid settings");
        settings.debug = true;
        settings.database_url = DatabaseUrl::SqliteMemory;
        settings.allowed_hosts = vec!["testserver".into()];
        settings.secret_key = Some(SecretKey("manouche-insecure-test-key".into()));
        settings
    }

    /// Checks what only matters when serving: a secret key outside debug mode.
    ///
    /// # Errors
    ///
    /// [`Error::MissingSecretKey`] when `debug` is false and no key is set.
    pub fn validate_for_serving(&self) -> Result<(), Error> {
        if !self.debug && self.secret_key.is_none() {
            let path = self.source.clone().unwrap_or_else(|| PathBuf::from("manouche.toml"));
            return Err(Error::MissingSecretKey { path });
        }
        Ok(())
    }

    /// The `[apps.<name>]` table of the settings file, deserialized into an app's own type.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming `apps.<name>` when the table does not fit `T`.
    pub fn app_settings<T: serde::de::DeserializeOwned + Default>(&self, app: &'static str) -> Result<T, Error> {
        match self.apps.get(app) {
            None => Ok(T::default()),
            Some(value) => value.clone().try_into().map_err(|e: toml::de::Error| Error::Invalid {
                key: "apps",
                origin: self.source.clone().map_or(Origin::Default, Origin::File),
                message: format!("[apps.{app}]: {}", e.message()),
            }),
        }
    }

    /// Whether `host` (without port) is allowed by `allowed_hosts`, as Django checks it; one
    /// trailing dot (a fully qualified name) is ignored.
    pub fn host_allowed(&self, host: &str) -> bool {
        // Compared without allocating: this runs on every request.
        let host = host.strip_suffix('.').unwrap_or(host);
        if self.allowed_hosts.is_empty() {
            return self.debug
                && ["localhost", "127.0.0.1", "[::1]", "testserver"].iter().any(|h| h.eq_ignore_ascii_case(host));
        }
        self.allowed_hosts.iter().any(|pattern| {
            if pattern == "*" {
                return true;
            }
            match pattern.strip_prefix('.') {
                // `.shop.example` matches `shop.example` and any subdomain of it.
                Some(domain) => {
                    host.eq_ignore_ascii_case(domain)
                        || host
                            .len()
                            .checked_sub(pattern.len())
                            .and_then(|start| host.get(start..))
                            .is_some_and(|tail| tail.eq_ignore_ascii_case(pattern))
                }
                None => host.eq_ignore_ascii_case(pattern),
            }
        })
    }

    fn parse(
        text: &str,
        base_dir: &Path,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Error> {
        let file_origin = file.map_or(Origin::Default, |p| Origin::File(p.to_path_buf()));
        let syntax = |message: String| Error::Syntax {
            path: file.map_or_else(|| PathBuf::from("<settings>"), Path::to_path_buf),
            message: message.trim_end().to_owned(),
        };
        let env: HashMap<String, String> = env.into_iter().collect();
        // The registered sections' tables come out first; what stays must be a known key.
        let mut document: toml::Table = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
        let sections = super::Sections::take(&mut document, &env);
        let raw: RawSettings = document.try_into().map_err(|e: toml::de::Error| syntax(e.to_string()))?;
        let mut b = Builder { env: &env, file_origin };

        let debug = b.value("debug", raw.debug, parse_bool)?.unwrap_or(false);
        let (secret_key, secret_key_origin) =
            match b.value_env_origin("secret_key", &["MANOUCHE_SECRET_KEY", "SECRET_KEY"], raw.secret_key) {
                Some((key, origin)) if !key.is_empty() => (Some(SecretKey(key)), origin),
                _ => (None, Origin::Default),
            };
        let allowed_hosts = b.value("allowed_hosts", raw.allowed_hosts, parse_list)?.unwrap_or_default();
        let database = b.value_env_origin("database_url", &["MANOUCHE_DATABASE_URL", "DATABASE_URL"], raw.database_url);
        let database_url = match database {
            Some((url, origin)) => DatabaseUrl::parse(&url, base_dir).map_err(|message| Error::Invalid {
                key: "database_url",
                origin,
                message,
            })?,
            None => DatabaseUrl::Sqlite(base_dir.join("db.sqlite3")),
        };
        let database_pool_size =
            u32::try_from(b.ranged("database_pool_size", raw.database_pool_size, 1, 1000)?.unwrap_or(10)).unwrap_or(10);
        let database_timeout_seconds =
            b.ranged("database_timeout_seconds", raw.database_timeout_seconds, 1, 600)?.unwrap_or(5).unsigned_abs();
        let database_statement_timeout_seconds = b
            .ranged("database_statement_timeout_seconds", raw.database_statement_timeout_seconds, 1, 86_400)?
            .unwrap_or(30)
            .unsigned_abs();
        let middleware = b
            .value("middleware", raw.middleware, parse_list)?
            .unwrap_or_else(|| DEFAULT_MIDDLEWARE.iter().map(|m| (*m).to_owned()).collect());
        let workers = match b.value_origin("workers", raw.workers, |s| s.parse::<i64>().map_err(|e| e.to_string()))? {
            Some((n, _)) if (1..=1024).contains(&n) => usize::try_from(n).unwrap_or(1),
            Some((n, origin)) => {
                return Err(Error::Invalid {
                    key: "workers",
                    origin,
                    message: format!("expected 1 to 1024 workers, found {n}"),
                });
            }
            None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        };
        let bind = match b.value_origin("bind", raw.bind, |s| Ok(s.to_owned()))? {
            Some((bind, origin)) => {
                check_bind(&bind).map_err(|message| Error::Invalid { key: "bind", origin, message })?;
                bind
            }
            None => "127.0.0.1:8000".to_owned(),
        };
        let shutdown_timeout_seconds =
            b.ranged("shutdown_timeout_seconds", raw.shutdown_timeout_seconds, 0, 3600)?.unwrap_or(30).unsigned_abs();
        let static_url = match b.value_origin("static_url", raw.static_url, |s| Ok(s.to_owned()))? {
            Some((url, origin)) if !(url.starts_with('/') && url.ends_with('/')) => {
                return Err(Error::Invalid {
                    key: "static_url",
                    origin,
                    message: format!("`{url}` must start and end with `/`, e.g. `/static/`"),
                });
            }
            Some((url, _)) => url,
            None => "/static/".to_owned(),
        };
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base_dir.join(p) };
        let static_dirs = b
            .value("static_dirs", raw.static_dirs, |s| Ok(parse_list(s)?.into_iter().map(PathBuf::from).collect()))?
            .unwrap_or_default()
            .into_iter()
            .map(resolve)
            .collect();
        let static_root = resolve(
            b.value("static_root", raw.static_root, |s| Ok(PathBuf::from(s)))?.unwrap_or_else(|| "staticfiles".into()),
        );
        let template_dirs = b
            .value("template_dirs", raw.template_dirs, |s| Ok(parse_list(s)?.into_iter().map(PathBuf::from).collect()))?
            .unwrap_or_default()
            .into_iter()
            .map(resolve)
            .collect();
        let append_slash = b.value("append_slash", raw.append_slash, parse_bool)?.unwrap_or(true);
        let log_level = match b.value_origin("log_level", raw.log_level, |s| Ok(s.to_owned()))? {
            Some((level, origin)) => level.parse().map_err(|_| Error::Invalid {
                key: "log_level",
                origin,
                message: format!(
                    "unknown level `{level}`; expected `error`, `warn`, `info`, `debug`, `trace` or `off`"
                ),
            })?,
            None => log::LevelFilter::Info,
        };

        Ok(Settings {
            debug,
            secret_key,
            secret_key_origin,
            allowed_hosts,
            database_url,
            database_pool_size,
            database_timeout_seconds,
            database_statement_timeout_seconds,
            middleware,
            workers,
            bind,
            shutdown_timeout_seconds,
            static_url,
            static_dirs,
            static_root,
            template_dirs,
            append_slash,
            log_level,
            base_dir: base_dir.to_path_buf(),
            source: None,
            apps: raw.apps.unwrap_or_default(),
            sections,
        })
    }
}

/// Picks each value from the environment first, then the file.
struct Builder<'a> {
    env: &'a HashMap<String, String>,
    file_origin: Origin,
}

impl Builder<'_> {
    fn value<T>(
        &mut self,
        key: &'static str,
        from_file: Option<T>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Error> {
        Ok(self.value_origin(key, from_file, parse)?.map(|(value, _)| value))
    }

    fn value_origin<T>(
        &mut self,
        key: &'static str,
        from_file: Option<T>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<(T, Origin)>, Error> {
        let var = format!("MANOUCHE_{}", key.to_ascii_uppercase());
        self.pick(key, &[var.as_str()], from_file, parse)
    }

    /// A whole number within `min..=max`.
    fn ranged(&mut self, key: &'static str, from_file: Option<i64>, min: i64, max: i64) -> Result<Option<i64>, Error> {
        match self.value_origin(key, from_file, |s| {
            s.trim().parse::<i64>().map_err(|e| format!("expected a whole number: {e}"))
        })? {
            Some((n, _)) if (min..=max).contains(&n) => Ok(Some(n)),
            Some((n, origin)) => {
                Err(Error::Invalid { key, origin, message: format!("expected {min} to {max}, found {n}") })
            }
            None => Ok(None),
        }
    }

    fn value_env_origin(
        &mut self,
        _key: &'static str,
        vars: &[&str],
        from_file: Option<String>,
    ) -> Option<(String, Origin)> {
        for var in vars {
            if let Some(value) = self.env.get(*var) {
                return Some((value.clone(), Origin::Env((*var).to_owned())));
            }
        }
        from_file.map(|value| (value, self.file_origin.clone()))
    }

    fn pick<T>(
        &mut self,
        key: &'static str,
        vars: &[&str],
        from_file: Option<T>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<(T, Origin)>, Error> {
        for var in vars {
            if let Some(text) = self.env.get(*var) {
                let origin = Origin::Env((*var).to_owned());
                return match parse(text) {
                    Ok(value) => Ok(Some((value, origin))),
                    Err(message) => Err(Error::Invalid { key, origin, message }),
                };
            }
        }
        Ok(from_file.map(|value| (value, self.file_origin.clone())))
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("expected `true` or `false`, found `{other}`")),
    }
}

/// A comma-separated list from an environment variable.
fn parse_list(text: &str) -> Result<Vec<String>, String> {
    Ok(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
}

fn check_bind(bind: &str) -> Result<(), String> {
    let valid = bind.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid { Ok(()) } else { Err(format!("expected `HOST:PORT`, e.g. `127.0.0.1:8000`, found `{bind}`")) }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn environment_overrides_the_file() {
        let s =
            Settings::from_toml_str("debug = true\nworkers = 3", Path::new("/p"), env(&[("MANOUCHE_DEBUG", "false")]))
                .unwrap();
        assert!(!s.debug);
        assert_eq!(s.workers, 3);
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let err = Settings::from_toml_str("", Path::new("/p"), env(&[("MANOUCHE_WORKERS", "many")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`workers`") && text.contains("MANOUCHE_WORKERS"), "{text}");
    }

    #[test]
    fn unknown_key_is_a_syntax_error_naming_it() {
        let err = Settings::from_toml_str("debgu = true", Path::new("/p"), env(&[])).unwrap_err();
        assert!(err.to_string().contains("debgu"), "{err}");
    }

    #[test]
    fn allowed_hosts_match_like_django() {
        let s = Settings::from_toml_str(r#"allowed_hosts = [".shop.example", "api.test"]"#, Path::new("/"), env(&[]))
            .unwrap();
        assert!(s.host_allowed("shop.example"));
        assert!(s.host_allowed("www.shop.example"));
        assert!(s.host_allowed("API.test"));
        assert!(!s.host_allowed("evilshop.example"));
        assert!(!s.host_allowed("localhost"));
    }
}
