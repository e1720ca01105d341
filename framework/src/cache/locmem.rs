//! Django's `LocMemCache` on moka: per process, bounded by entries or bytes, with an expiry
//! per entry. Every operation is a non-blocking in-memory call; `add`, `incr` and `touch` are
//! atomic per key (moka's `and_compute_with`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::ops::compute::{CompResult, Op};

use super::backend::{Backend, BackendResult, Expiry, add_delta, parse_integer};

#[derive(Clone)]
struct Entry {
    data: Arc<[u8]>,
    expires_at: Option<Instant>,
}

impl Entry {
    fn new(data: &[u8], expiry: Expiry) -> Self {
        let expires_at = match expiry {
            Expiry::Never => None,
            Expiry::After(duration) => Instant::now().checked_add(duration),
        };
        Entry { data: Arc::from(data), expires_at }
    }

    fn live(&self) -> bool {
        self.expires_at.is_none_or(|at| at > Instant::now())
    }
}

/// Each entry's own lifetime, told to moka so it evicts the entry when it ends.
struct PerEntry;

impl moka::Expiry<String, Entry> for PerEntry {
    fn expire_after_create(&self, _key: &String, value: &Entry, created_at: Instant) -> Option<Duration> {
        value.expires_at.map(|at| at.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        updated_at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        value.expires_at.map(|at| at.saturating_duration_since(updated_at))
    }
}

/// How a local-memory cache is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// At most this many entries (Django's `MAX_ENTRIES`, 300 by default).
    Entries(u64),
    /// At most this many bytes of keys and values.
    Bytes(u64),
}

/// The local-memory backend.
pub struct LocMemBackend {
    entries: moka::sync::Cache<String, Entry>,
}

impl std::fmt::Debug for LocMemBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocMemBackend").field("entries", &self.entries.entry_count()).finish()
    }
}

impl LocMemBackend {
    /// An empty cache with this bound.
    pub fn new(capacity: Capacity) -> Self {
        let builder = moka::sync::Cache::builder().expire_after(PerEntry);
        let entries = match capacity {
            Capacity::Entries(max) => builder.max_capacity(max).build(),
            Capacity::Bytes(max) => builder
                .max_capacity(max)
                .weigher(|key: &String, value: &Entry| {
                    u32::try_from(key.len() + value.data.len() + 64).unwrap_or(u32::MAX)
                })
                .build(),
        };
        LocMemBackend { entries }
    }

    fn live(&self, key: &str) -> Option<Entry> {
        self.entries.get(key).filter(Entry::live)
    }
}

impl Backend for LocMemBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        Ok(self.live(key).map(|entry| entry.data.to_vec()))
    }

    fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        self.entries.insert(key.to_owned(), Entry::new(value, expiry));
        Ok(())
    }

    fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        let result = self.entries.entry_by_ref(key).and_compute_with(|current| match current {
            Some(entry) if entry.value().live() => Op::Nop,
            _ => Op::Put(Entry::new(value, expiry)),
        });
        Ok(matches!(result, CompResult::Inserted(_) | CompResult::ReplacedWith(_)))
    }

    fn delete(&self, key: &str) -> BackendResult<bool> {
        Ok(self.entries.remove(key).is_some_and(|entry| entry.live()))
    }

    fn has_key(&self, key: &str) -> BackendResult<bool> {
        Ok(self.live(key).is_some())
    }

    fn incr(&self, key: &str, delta: i64) -> BackendResult<Option<i64>> {
        let mut outcome = Ok(None);
        self.entries.entry_by_ref(key).and_compute_with(|current| {
            let Some(entry) = current.map(moka::Entry::into_value).filter(Entry::live) else {
                return Op::Nop;
            };
            match parse_integer(key, &entry.data).and_then(|value| add_delta(key, value, delta)) {
                Ok(value) => {
                    outcome = Ok(Some(value));
                    Op::Put(Entry { data: Arc::from(value.to_string().as_bytes()), expires_at: entry.expires_at })
                }
                Err(error) => {
                    outcome = Err(error);
                    Op::Nop
                }
            }
        });
        outcome
    }

    fn count(&self, key: &str, expiry: Expiry) -> BackendResult<Option<i64>> {
        let mut outcome = Ok(None);
        self.entries.entry_by_ref(key).and_compute_with(|current| {
            let next = match current.map(moka::Entry::into_value).filter(Entry::live) {
                None => Ok(Entry::new(b"1", expiry)),
                Some(entry) => parse_integer(key, &entry.data)
                    .and_then(|v| add_delta(key, v, 1))
                    .map(|value| Entry { data: Arc::from(value.to_string().as_bytes()), expires_at: entry.expires_at }),
            };
            match next {
                Ok(entry) => {
                    outcome = parse_integer(key, &entry.data).map(Some);
                    Op::Put(entry)
                }
                Err(error) => {
                    outcome = Err(error);
                    Op::Nop
                }
            }
        });
        outcome
    }

    fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let result = self.entries.entry_by_ref(key).and_compute_with(|current| {
            match current.map(moka::Entry::into_value).filter(Entry::live) {
                Some(entry) => Op::Put(Entry { expires_at: Entry::new(&[], expiry).expires_at, ..entry }),
                None => Op::Nop,
            }
        });
        Ok(matches!(result, CompResult::ReplacedWith(_)))
    }

    fn clear(&self) -> BackendResult<()> {
        self.entries.invalidate_all();
        Ok(())
    }

    fn in_process(&self) -> bool {
        true
    }
}
