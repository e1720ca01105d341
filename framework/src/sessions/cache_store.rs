//! The `cache` and `cached_db` engines (Django's `cache` and `cached_db` session backends).

use actix_web::HttpRequest;
use serde_json::{Map, Value};

use super::database::{DatabaseStore, new_session_key};
use super::store::{SessionStore, StoreFuture, Stored};
use crate::cache::Cache;

const PREFIX: &str = "manouche.sessions.cache.";

fn cache_of(req: &HttpRequest, alias: &str) -> Result<Cache, crate::Error> {
    crate::cache::request_caches(req)
        .get(alias)
        .map_err(|e| crate::Error::ImproperlyConfigured(format!("`sessions.cache_alias`: {e}")))
}

fn plausible(key: &str) -> bool {
    !key.is_empty() && key.len() <= 40 && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Sessions in a cache only: fast, and lost when the cache evicts them or restarts (use a
/// persistent cache such as Redis, or `cached_db`). A key the client sends that the cache does
/// not hold is never adopted.
#[derive(Debug, Clone)]
pub struct CacheStore {
    alias: String,
}

impl CacheStore {
    /// Sessions in the cache `alias`.
    pub fn new(alias: impl Into<String>) -> Self {
        CacheStore { alias: alias.into() }
    }
}

async fn cache_load(cache: &Cache, key: &str) -> Result<Option<Map<String, Value>>, crate::Error> {
    if !plausible(key) {
        return Ok(None);
    }
    Ok(cache.get(&format!("{PREFIX}{key}")).await?)
}

/// Stores `data` under a new key (`add`, so an existing session is never overwritten).
async fn cache_create(cache: &Cache, data: &Map<String, Value>) -> Result<String, crate::Error> {
    for _ in 0..10 {
        let key = new_session_key()?;
        if cache.add(&format!("{PREFIX}{key}"), data).await? {
            return Ok(key);
        }
    }
    Err(crate::Error::other("no unused session key after 10 tries: is the session cache working?"))
}

impl SessionStore for CacheStore {
    fn load<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, Option<Map<String, Value>>> {
        Box::pin(async move { cache_load(&cache_of(req, &self.alias)?, cookie).await })
    }

    fn save<'a>(
        &'a self,
        req: &'a HttpRequest,
        previous: Option<&'a str>,
        new_key: bool,
        data: &'a Map<String, Value>,
        age: u64,
    ) -> StoreFuture<'a, Stored> {
        Box::pin(async move {
            let cache = cache_of(req, &self.alias)?.with_timeout(age);
            let cookie = match previous {
                Some(key) if !new_key => {
                    cache.set(&format!("{PREFIX}{key}"), data).await?;
                    key.to_owned()
                }
                _ => {
                    if let Some(old) = previous {
                        cache.delete(&format!("{PREFIX}{old}")).await?;
                    }
                    cache_create(&cache, data).await?
                }
            };
            Ok(Stored { cookie })
        })
    }

    fn delete<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if plausible(cookie) {
                cache_of(req, &self.alias)?.delete(&format!("{PREFIX}{cookie}")).await?;
            }
            Ok(())
        })
    }
}

/// Sessions in the database, read through a cache (Django's `cached_db`): a read is a cache
/// hit after the first, every write goes to both, so nothing is lost when the cache is.
#[derive(Debug, Clone)]
pub struct CachedDbStore {
    alias: String,
}

impl CachedDbStore {
    /// Sessions in the database, cached in `alias`.
    pub fn new(alias: impl Into<String>) -> Self {
        CachedDbStore { alias: alias.into() }
    }
}

impl SessionStore for CachedDbStore {
    fn load<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, Option<Map<String, Value>>> {
        Box::pin(async move {
            let cache = cache_of(req, &self.alias)?;
            if let Some(data) = cache_load(&cache, cookie).await? {
                return Ok(Some(data));
            }
            let data = DatabaseStore.load(req, cookie).await?;
            if let Some(data) = &data {
                // Cached only for a while: the database row keeps the real expiry.
                cache.with_timeout(300).set(&format!("{PREFIX}{cookie}"), data).await?;
            }
            Ok(data)
        })
    }

    fn save<'a>(
        &'a self,
        req: &'a HttpRequest,
        previous: Option<&'a str>,
        new_key: bool,
        data: &'a Map<String, Value>,
        age: u64,
    ) -> StoreFuture<'a, Stored> {
        Box::pin(async move {
            let stored = DatabaseStore.save(req, previous, new_key, data, age).await?;
            let cache = cache_of(req, &self.alias)?.with_timeout(age);
            if let Some(old) = previous.filter(|old| *old != stored.cookie) {
                cache.delete(&format!("{PREFIX}{old}")).await?;
            }
            cache.set(&format!("{PREFIX}{}", stored.cookie), data).await?;
            Ok(stored)
        })
    }

    fn delete<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if plausible(cookie) {
                cache_of(req, &self.alias)?.delete(&format!("{PREFIX}{cookie}")).await?;
            }
            DatabaseStore.delete(req, cookie).await
        })
    }
}
