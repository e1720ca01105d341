//! Django's `PyMemcacheCache`: memcached's text protocol over pools (r2d2) of TCP connections
//! with connect, read and write timeouts, one per server; several servers share the keys by a
//! hash of each key, as pymemcache's `HashClient` does. Keys longer than 250 bytes or holding spaces or
//! control characters are refused before they reach the server (Django's `InvalidCacheKey`).
//! `incr` and `decr` are memcached's own atomic commands; `decr` stops at zero, as memcached's
//! does.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::backend::{Backend, BackendError, BackendResult, Expiry};

/// Memcached reads an expiry above thirty days as a Unix timestamp.
const RELATIVE_LIMIT: u64 = 60 * 60 * 24 * 30;

/// One connection: a buffered reader over the socket, writes through the same socket.
#[derive(Debug)]
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
    broken: bool,
}

fn io(error: &std::io::Error) -> BackendError {
    BackendError::unavailable(format!("memcached: {error}"))
}

impl Conn {
    fn send(&mut self, bytes: &[u8]) -> BackendResult<()> {
        let result = self.reader.get_mut().write_all(bytes);
        result.map_err(|e| {
            self.broken = true;
            io(&e)
        })
    }

    fn line(&mut self) -> BackendResult<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => {
                self.broken = true;
                Err(BackendError::unavailable("memcached closed the connection"))
            }
            Ok(_) => {
                let line = line.trim_end_matches(['\r', '\n']).to_owned();
                if line == "ERROR" || line.starts_with("SERVER_ERROR") {
                    self.broken = true;
                    return Err(BackendError::unavailable(format!("memcached answered {line}")));
                }
                if let Some(message) = line.strip_prefix("CLIENT_ERROR ") {
                    // What follows the refused line may be read as a command: start afresh.
                    self.broken = true;
                    return Err(BackendError::invalid(format!("memcached refused the request: {message}")));
                }
                Ok(line)
            }
            Err(error) => {
                self.broken = true;
                Err(io(&error))
            }
        }
    }

    /// `VALUE <key> <flags> <bytes>` blocks until `END`.
    fn values(&mut self) -> BackendResult<Vec<(String, Vec<u8>)>> {
        let mut found = Vec::new();
        loop {
            let line = self.line()?;
            if line == "END" {
                return Ok(found);
            }
            let mut parts = line.split(' ');
            let (Some("VALUE"), Some(key), Some(_flags), Some(len)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                self.broken = true;
                return Err(BackendError::unavailable(format!("memcached: unexpected reply `{line}`")));
            };
            let len: usize = len.parse().map_err(|_| BackendError::unavailable("memcached: bad value length"))?;
            let mut data = vec![0; len + 2];
            self.reader.read_exact(&mut data).map_err(|e| {
                self.broken = true;
                io(&e)
            })?;
            data.truncate(len);
            found.push((key.to_owned(), data));
        }
    }
}

/// Opens connections for the pool.
#[derive(Debug)]
struct Manager {
    addrs: Vec<SocketAddr>,
    location: String,
    timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = std::io::Error;

    fn connect(&self) -> Result<Conn, std::io::Error> {
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, format!("no address for {}", self.location));
        for addr in &self.addrs {
            match TcpStream::connect_timeout(addr, self.timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(self.timeout))?;
                    stream.set_write_timeout(Some(self.timeout))?;
                    stream.set_nodelay(true)?;
                    return Ok(Conn { reader: BufReader::new(stream), broken: false });
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    fn is_valid(&self, _conn: &mut Conn) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken
    }
}

/// The Memcached backend: one pool per server; a key lives on the server its hash picks.
pub struct MemcachedBackend {
    servers: Vec<(String, r2d2::Pool<Manager>)>,
    location: String,
}

impl std::fmt::Debug for MemcachedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemcachedBackend").field("location", &self.location).finish_non_exhaustive()
    }
}

/// The exptime memcached expects for `expiry`: 0 for never, seconds (rounded up) up to thirty
/// days, a Unix timestamp beyond.
fn exptime(expiry: Expiry) -> u64 {
    let Some(ms) = expiry.millis() else { return 0 };
    let seconds = ms.div_ceil(1000).max(1);
    if seconds <= RELATIVE_LIMIT {
        return seconds;
    }
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |now| now.as_secs()).saturating_add(seconds)
}

impl MemcachedBackend {
    /// A backend for the servers of `location` (`host:port`, or several separated by commas),
    /// with up to `pool_size` connections each; none is opened until the first use. Keys are
    /// spread over the servers by a hash of the key, the same in every process.
    ///
    /// # Errors
    ///
    /// A message when an address does not resolve.
    pub fn new(location: &str, pool_size: u32, timeout: Duration) -> Result<Self, String> {
        let mut servers = Vec::new();
        for server in location.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let addrs: Vec<SocketAddr> = server
                .to_socket_addrs()
                .map_err(|e| format!("`{server}` is not a memcached address (host:port): {e}"))?
                .collect();
            let manager = Manager { addrs, location: server.to_owned(), timeout };
            servers.push((server.to_owned(), super::backend::pool(manager, pool_size, timeout)));
        }
        if servers.is_empty() {
            return Err("name a memcached server (host:port)".to_owned());
        }
        Ok(MemcachedBackend { servers, location: location.to_owned() })
    }

    /// The server a key lives on: FNV-1a of the key, modulo the number of servers.
    fn server_of(&self, key: &str) -> usize {
        let hash = key
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
        usize::try_from(hash % self.servers.len() as u64).unwrap_or(0)
    }

    fn on<T>(&self, server: usize, f: impl FnOnce(&mut Conn) -> BackendResult<T>) -> BackendResult<T> {
        let (name, pool) = &self.servers[server];
        let mut conn = pool.get().map_err(|e| BackendError::unavailable(format!("memcached at {name}: {e}")))?;
        f(&mut conn)
    }

    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Conn) -> BackendResult<T>) -> BackendResult<T> {
        self.on(self.server_of(key), f)
    }

    fn store(&self, verb: &str, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        self.with(key, |conn| {
            let mut request = format!("{verb} {key} 0 {} {}\r\n", exptime(expiry), value.len()).into_bytes();
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
            conn.send(&request)?;
            match conn.line()?.as_str() {
                "STORED" => Ok(true),
                "NOT_STORED" => Ok(false),
                other => Err(BackendError::unavailable(format!("memcached: unexpected reply `{other}` to {verb}"))),
            }
        })
    }
}

impl Backend for MemcachedBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        Ok(self.get_many(&[key.to_owned()])?.pop().flatten())
    }

    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One `get` of several keys per server holding some of them.
        let mut found = Vec::new();
        for server in 0..self.servers.len() {
            let mine: Vec<&str> = keys.iter().filter(|key| self.server_of(key) == server).map(String::as_str).collect();
            if !mine.is_empty() {
                found.extend(self.on(server, |conn| {
                    conn.send(format!("get {}\r\n", mine.join(" ")).as_bytes())?;
                    conn.values()
                })?);
            }
        }
        Ok(keys.iter().map(|key| found.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())).collect())
    }

    fn set(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<()> {
        self.store("set", key, value, expiry).map(drop)
    }

    fn add(&self, key: &str, value: &[u8], expiry: Expiry) -> BackendResult<bool> {
        self.store("add", key, value, expiry)
    }

    fn delete(&self, key: &str) -> BackendResult<bool> {
        self.with(key, |conn| {
            conn.send(format!("delete {key}\r\n").as_bytes())?;
            Ok(conn.line()? == "DELETED")
        })
    }

    fn incr(&self, key: &str, delta: i64) -> BackendResult<Option<i64>> {
        let verb = if delta < 0 { "decr" } else { "incr" };
        self.with(key, |conn| {
            conn.send(format!("{verb} {key} {}\r\n", delta.unsigned_abs()).as_bytes())?;
            let line = conn.line()?;
            if line == "NOT_FOUND" {
                return Ok(None);
            }
            line.trim()
                .parse::<u64>()
                .ok()
                .and_then(|value| i64::try_from(value).ok())
                .map(Some)
                .ok_or_else(|| BackendError::invalid(format!("memcached: `{key}` is not a counter ({line})")))
        })
    }

    /// `incr` first (one round trip once the counter exists), `add` when it does not.
    fn count(&self, key: &str, expiry: Expiry) -> BackendResult<Option<i64>> {
        for _ in 0..2 {
            if let Some(value) = self.incr(key, 1)? {
                return Ok(Some(value));
            }
            if self.add(key, b"1", expiry)? {
                return Ok(Some(1));
            }
        }
        Ok(None)
    }

    fn touch(&self, key: &str, expiry: Expiry) -> BackendResult<bool> {
        self.with(key, |conn| {
            conn.send(format!("touch {key} {}\r\n", exptime(expiry)).as_bytes())?;
            Ok(conn.line()? == "TOUCHED")
        })
    }

    /// `flush_all` on every server: empties them whole, as Django's `clear` does.
    fn clear(&self) -> BackendResult<()> {
        (0..self.servers.len()).try_for_each(|server| {
            self.on(server, |conn| {
                conn.send(b"flush_all\r\n")?;
                match conn.line()?.as_str() {
                    "OK" => Ok(()),
                    other => {
                        Err(BackendError::unavailable(format!("memcached: unexpected reply `{other}` to flush_all")))
                    }
                }
            })
        })
    }

    fn strict_keys(&self) -> bool {
        true
    }
}
