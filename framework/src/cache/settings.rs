//! `[caches.<alias>]`: Django's `CACHES`, one table per alias, and `createcachetable`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::{
    Backend, Cache, Caches, Capacity, DatabaseBackend, DummyBackend, FileBackend, LocMemBackend, MemcachedBackend,
    RedisBackend, Timeout,
};
use crate::conf::{Section, Settings};
use crate::db::Database;
use crate::management::{Argument, Command, CommandContext, CommandError};

/// A timeout as the settings file writes it: seconds, or `"never"`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum TimeoutSetting {
    /// Seconds; 0 does not cache.
    Seconds(u64),
    /// `"never"`: values stay until deleted or evicted.
    Word(String),
}

/// One `[caches.<alias>]` table (Django's `CACHES[alias]`, with `OPTIONS` flattened).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CacheSettings {
    /// `locmem`, `redis`, `memcached`, `file`, `database` or `dummy`.
    pub backend: String,
    /// Where: a Redis URL, memcached's `host:port`, a directory, or a table name.
    pub location: String,
    /// The default timeout: seconds (0 does not cache), or `"never"`.
    pub timeout: TimeoutSetting,
    /// Put before every key (Django's `KEY_PREFIX`).
    pub key_prefix: String,
    /// The default version of keys.
    pub version: i64,
    /// The name of a key function registered with [`crate::register_key_function!`].
    pub key_function: Option<String>,
    /// Entries kept before culling (local memory, file system, database).
    pub max_entries: u64,
    /// Local memory only: bound the cache by bytes of keys and values instead of entries.
    pub max_bytes: Option<u64>,
    /// The share culled when full: one in `cull_frequency` (0 empties the cache).
    pub cull_frequency: u64,
    /// Whether a backend that is down is an error (a 503) rather than a miss.
    pub raise_errors: bool,
    /// Redis and Memcached: connections kept per process.
    pub pool_size: u32,
    /// Redis and Memcached: the connect, read and write timeout, in milliseconds.
    pub socket_timeout_ms: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            backend: "locmem".into(),
            location: String::new(),
            timeout: TimeoutSetting::Seconds(super::DEFAULT_TIMEOUT),
            key_prefix: String::new(),
            version: 1,
            key_function: None,
            max_entries: 300,
            max_bytes: None,
            cull_frequency: 3,
            raise_errors: false,
            pool_size: 8,
            socket_timeout_ms: 1000,
        }
    }
}

/// The `[caches]` table: one [`CacheSettings`] per alias.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct CachesSection(pub BTreeMap<String, CacheSettings>);

impl Section for CachesSection {
    const NAME: &'static str = "caches";
    const ENV_PREFIX: &'static str = "CACHES";
}

crate::register_section!(CachesSection);

/// A key function a `key_function` setting can name: `fn(key, key_prefix, version) -> String`.
#[derive(Debug)]
pub struct KeyFunction {
    /// The name settings use.
    pub name: &'static str,
    /// The function.
    pub function: fn(&str, &str, i64) -> String,
}

inventory::collect!(KeyFunction);

/// Registers a cache key function under a name the `key_function` setting can use:
/// `manouche::register_key_function!("shop.keys", shop_key);`.
#[macro_export]
macro_rules! register_key_function {
    ($name:expr, $function:path) => {
        $crate::__private::inventory::submit! {
            $crate::cache::KeyFunction { name: $name, function: $function }
        }
    };
}

impl CacheSettings {
    fn timeout(&self, alias: &str) -> Result<Timeout, String> {
        match &self.timeout {
            TimeoutSetting::Seconds(seconds) => Ok(Timeout::Seconds(*seconds)),
            TimeoutSetting::Word(word) if word.eq_ignore_ascii_case("never") => Ok(Timeout::Never),
            TimeoutSetting::Word(word) => {
                Err(format!("`caches.{alias}.timeout` is seconds or \"never\", not \"{word}\""))
            }
        }
    }

    fn backend(&self, alias: &str, db: &Database) -> Result<Arc<dyn Backend>, String> {
        let named = |problem: String| format!("`caches.{alias}.location`: {problem}");
        let timeout = Duration::from_millis(self.socket_timeout_ms.max(1));
        Ok(match self.backend.as_str() {
            "locmem" => {
                let bound = self.max_bytes.map_or(Capacity::Entries(self.max_entries), Capacity::Bytes);
                Arc::new(LocMemBackend::new(bound))
            }
            "dummy" => Arc::new(DummyBackend),
            "redis" => {
                let location = if self.location.is_empty() { "redis://127.0.0.1:6379/0" } else { &self.location };
                Arc::new(RedisBackend::new(location, self.pool_size, timeout, &self.key_prefix).map_err(named)?)
            }
            "memcached" => {
                let location = if self.location.is_empty() { "127.0.0.1:11211" } else { &self.location };
                Arc::new(MemcachedBackend::new(location, self.pool_size, timeout).map_err(named)?)
            }
            "file" => {
                if self.location.is_empty() {
                    return Err(format!("`caches.{alias}.location` names the directory of a `file` cache"));
                }
                Arc::new(FileBackend::new(&self.location, self.max_entries, self.cull_frequency))
            }
            "database" => {
                let table = if self.location.is_empty() { DEFAULT_TABLE } else { &self.location };
                Arc::new(DatabaseBackend::new(db.clone(), table, self.max_entries, self.cull_frequency).map_err(named)?)
            }
            other => {
                return Err(format!(
                    "`caches.{alias}.backend`: unknown backend `{other}`; expected locmem, redis, memcached, file, database or dummy"
                ));
            }
        })
    }

    fn key_function(&self, alias: &str) -> Result<super::KeyFn, String> {
        let Some(name) = &self.key_function else { return Ok(super::default_key) };
        inventory::iter::<KeyFunction>
            .into_iter()
            .find(|registered| registered.name == name)
            .map(|registered| registered.function)
            .ok_or_else(|| {
                format!(
                    "`caches.{alias}.key_function`: no key function `{name}` is registered (register_key_function!)"
                )
            })
    }
}

/// The table of a `database` cache without a `location`.
pub const DEFAULT_TABLE: &str = "manouche_cache";

impl Caches {
    /// The caches the settings describe, their database caches on `db`.
    ///
    /// # Errors
    ///
    /// A message naming the alias and key of the first bad setting.
    pub fn from_settings(settings: &Settings, db: &Database) -> Result<Caches, String> {
        let section: CachesSection = settings.section().map_err(|e| e.to_string())?;
        let mut by_alias = HashMap::new();
        for (alias, config) in &section.0 {
            let backend = config.backend(alias, db)?;
            let cache = Cache::builder(alias.clone())
                .key_prefix(config.key_prefix.clone())
                .version(config.version)
                .timeout(config.timeout(alias)?)
                .key_function(config.key_function(alias)?)
                .raise_errors(config.raise_errors)
                .build_arc(backend);
            by_alias.insert(alias.clone(), cache);
        }
        if !by_alias.contains_key("default") {
            let cache = Cache::builder("default").build(LocMemBackend::new(Capacity::Entries(300)));
            by_alias.insert("default".to_owned(), cache);
        }
        Ok(Caches::from_map(by_alias))
    }
}

/// For `check`: the tables of the `database` caches that cannot be read (not created yet).
pub(crate) fn unreadable_tables(settings: &Settings, db: &Database) -> Vec<String> {
    let Ok(section) = settings.section::<CachesSection>() else { return Vec::new() };
    section
        .0
        .iter()
        .filter(|(_, config)| config.backend == "database")
        .filter_map(|(alias, config)| {
            let table = if config.location.is_empty() { DEFAULT_TABLE } else { &config.location };
            if !super::database::valid_table(table) {
                return None;
            }
            let probe = format!("SELECT cache_key FROM {table} WHERE 1 = 0");
            let read = db.run_sync(|conn| crate::db::RawQuery::<()>::new(probe).execute_sync(conn));
            read.err().map(|error| {
                format!("the table `{table}` of cache `{alias}` cannot be read ({error}): run `createcachetable`")
            })
        })
        .collect()
}

/// `createcachetable`: creates the table of every `database` cache (Django's command).
#[derive(Debug)]
pub(crate) struct CreateCacheTable;

impl Command for CreateCacheTable {
    fn name(&self) -> &'static str {
        "createcachetable"
    }
    fn help(&self) -> &'static str {
        "Creates the tables the database caches use."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::flag("dry-run", "Prints the SQL instead of running it.")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let section: CachesSection = ctx.settings()?.section().map_err(|e| CommandError::new(e.to_string()))?;
        let tables: Vec<String> = section
            .0
            .iter()
            .filter(|(_, config)| config.backend == "database")
            .map(|(alias, config)| {
                let table = if config.location.is_empty() { DEFAULT_TABLE } else { &config.location };
                if super::database::valid_table(table) {
                    Ok(table.to_owned())
                } else {
                    Err(CommandError::new(format!("`caches.{alias}.location`: `{table}` is not a table name")))
                }
            })
            .collect::<Result<_, _>>()?;
        if tables.is_empty() {
            return ctx.write_line("No database cache is configured.");
        }
        let dry_run = ctx.flag("dry-run");
        let db = if dry_run { None } else { Some(ctx.db()?) };
        for table in tables {
            let statements = super::database::create_table_sql(&table);
            match &db {
                None => {
                    for sql in statements {
                        ctx.write_line(&format!("{sql};"))?;
                    }
                }
                Some(db) => {
                    db.run_sync(|conn| {
                        statements
                            .into_iter()
                            .try_for_each(|sql| crate::db::RawQuery::<()>::new(sql).execute_sync(conn).map(drop))
                    })
                    .map_err(|e| CommandError::new(format!("cannot create the cache table `{table}`: {e}")))?;
                    ctx.write_line(&format!("Cache table `{table}` is ready."))?;
                }
            }
        }
        Ok(())
    }
}
