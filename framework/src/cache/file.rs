//! Django's `FileBasedCache`: one file per key in a directory, named by a hash of the key,
//! holding the expiry time then the value. Writes go to a temporary file renamed into place, so
//! a reader never sees half a value; past `max_entries` a share of the files is culled first.
//! `add` and `incr` are atomic within one process (a lock), not across processes sharing the
//! directory: use Redis or Memcached for counters shared by several servers.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use super::backend::{Backend, BackendError, BackendResult, Expiry, add_delta, parse_integer};

const SUFFIX: &str = "mcache";

/// The file-system backend.
#[derive(Debug)]
pub struct FileBackend {
    dir: PathBuf,
    max_entries: u64,
    cull_frequency: u64,
    /// Serialises read-modify-write operations (`add`, `incr`, `touch`) of this process.
    lock: Mutex<()>,
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn io_error(path: &Path, error: &io::Error) -> BackendError {
    BackendError::unavailable(format!("{}: {error}", path.display()))
}

impl FileBackend {
    /// A cache in `dir` (created when missing), culling `1/cull_frequency` of the entries once
    /// there are `max_entries` (a `cull_frequency` of 0 empties the directory instead, as Django).
    pub fn new(dir: impl Into<PathBuf>, max_entries: u64, cull_frequency: u64) -> Self {
        FileBackend { dir: dir.into(), max_entries, cull_frequency, lock: Mutex::new(()) }
    }

    fn path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.{SUFFIX}"))
    }

    /// The live value of the file at `path`, removing it when expired.
    fn read(&self, path: &Path) -> BackendResult<Option<(u64, Vec<u8>)>> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error(path, &error)),
        };
        let Some((head, value)) = bytes.split_first_chunk::<8>() else {
            let _ = fs::remove_file(path);
            return Ok(None);
        };
        let expires = u64::from_le_bytes(*head);
        if expires != 0 && expires <= now_millis() {
            let _ = fs::remove_file(path);
            return Ok(None);
        }
        Ok(Some((expires, value.to_vec())))
    }

    fn expires(expiry: Expiry) -> u64 {
        expiry.millis().map_or(0, |ms| now_millis().saturating_add(ms))
    }

    fn write(&self, path: &Path, expires: u64, value: &[u8]) -> BackendResult<()> {
        fs::create_dir_all(&self.dir).map_err(|e| io_error(&self.dir, &e))?;
        if !path.exists() {
            self.cull()?;
        }
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(BackendError::unavailable)?;
        let temp = self.dir.join(format!(".tmp-{:016x}", u64::from_le_bytes(suffix)));
        let written = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(&expires.to_le_bytes())?;
            file.write_all(value)?;
            file.flush()?;
            fs::rename(&temp, path)
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(io_error(path, &error));
        }
        Ok(())
    }

    fn entries(&self) -> BackendResult<Vec<PathBuf>> {
        let listing = match fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error(&self.dir, &error)),
        };
        Ok(listing
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == SUFFIX))
            .collect())
    }

    /// Django's `_cull`: past `max_entries`, removes expired files, then every
    /// `cull_frequency`-th of the rest (file names are hashes, so that is a random share).
    fn cull(&self) -> BackendResult<()> {
        let entries = self.entries()?;
        if (entries.len() as u64) < self.max_entries {
            return Ok(());
        }
        let mut left = Vec::new();
        for path in entries {
            if self.read(&path)?.is_some() {
                left.push(path);
            }
        }
        if (left.len() as u64) < self.max_entries {
            return Ok(());
        }
        let step = usize::try_from(self.cull_frequency).unwrap_or(usize::MAX);
        for (index, path) in left.iter().enumerate() {
            if step == 0 || index % step == 0 {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Backend for FileBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        Ok(self.read(&self.path(key))?.map(|(_, value)| value))
    }

    fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        self.write(&self.path(key), Self::expires(expiry), value)
    }

    fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        let _guard = self.guard();
        let path = self.path(key);
        if self.read(&path)?.is_some() {
            return Ok(false);
        }
        self.write(&path, Self::expires(expiry), value).map(|()| true)
    }

    fn delete(&self, key: &str) -> BackendResult<bool> {
        let path = self.path(key);
        let live = self.read(&path)?.is_some();
        match fs::remove_file(&path) {
            Ok(()) => Ok(live),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(io_error(&path, &error)),
        }
    }

    fn incr(&self, key: &str, delta: i64) -> BackendResult<Option<i64>> {
        let _guard = self.guard();
        let path = self.path(key);
        let Some((expires, value)) = self.read(&path)? else { return Ok(None) };
        let value = add_delta(key, parse_integer(key, &value)?, delta)?;
        self.write(&path, expires, value.to_string().as_bytes())?;
        Ok(Some(value))
    }

    fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        let _guard = self.guard();
        let path = self.path(key);
        let Some((_, value)) = self.read(&path)? else { return Ok(false) };
        self.write(&path, Self::expires(expiry), &value).map(|()| true)
    }

    fn clear(&self) -> BackendResult<()> {
        for path in self.entries()? {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_error(&path, &error)),
            }
        }
        Ok(())
    }
}
