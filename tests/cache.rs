//! The cache API: one contract, mirroring Django's `BaseCacheTests`, run on every backend
//! (Redis and Memcached for real when their servers are given, as `.ci/run` does), plus
//! settings errors, outages and `createcachetable`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use manouche::cache::{Backend, Cache, CacheError, Caches, ErrorKind, Timeout};
use manouche::conf::Settings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Basket {
    owner: String,
    items: Vec<(String, u32)>,
    note: Option<String>,
}

fn unique(label: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{label}{}x{n}", std::process::id())
}

/// Waits until `condition` holds (expiry is the server's business: poll, do not guess).
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two caches over one storage, with different key prefixes.
type Pair = (Cache, Cache);

/// Django's cache contract, on the sync API.
fn contract(name: &str, (cache, other): Pair) {
    let c = &cache;
    // get / set / types
    assert_eq!(c.get_sync::<String>("missing").unwrap(), None, "{name}");
    c.set_sync("greeting", "hello").unwrap();
    assert_eq!(c.get_sync::<String>("greeting").unwrap().as_deref(), Some("hello"), "{name}");
    let basket = Basket { owner: "Zoë".into(), items: vec![("tea".into(), 2)], note: None };
    c.set_sync("basket", &basket).unwrap();
    assert_eq!(c.get_sync::<Basket>("basket").unwrap(), Some(basket.clone()), "{name}");
    c.set_sync("unicodé_ключ", &"ok").unwrap();
    assert_eq!(c.get_sync::<String>("unicodé_ключ").unwrap().as_deref(), Some("ok"), "{name}: non-ASCII keys");
    let big = "x".repeat(200_000);
    c.set_sync("big", &big).unwrap();
    assert_eq!(c.get_sync::<String>("big").unwrap().as_deref(), Some(big.as_str()), "{name}: a large value");
    // A value read as the wrong type is a miss, not an error.
    assert_eq!(c.get_sync::<u64>("greeting").unwrap(), None, "{name}");

    // Key prefixes keep caches apart on one storage.
    assert_eq!(other.get_sync::<String>("greeting").unwrap(), None, "{name}: prefixes separate");
    other.set_sync("greeting", "other").unwrap();
    assert_eq!(c.get_sync::<String>("greeting").unwrap().as_deref(), Some("hello"), "{name}");

    // add
    assert!(!c.add_sync("greeting", "again").unwrap(), "{name}: add keeps a live value");
    assert_eq!(c.get_sync::<String>("greeting").unwrap().as_deref(), Some("hello"), "{name}");
    assert!(c.add_sync("fresh", "new").unwrap(), "{name}");
    assert_eq!(c.get_sync::<String>("fresh").unwrap().as_deref(), Some("new"), "{name}");

    // get_many / set_many / delete / delete_many / has_key
    c.set_many_sync(&[("a", 1), ("b", 2), ("c", 3)]).unwrap();
    let many = c.get_many_sync::<i64>(&["a", "b", "nope", "c"]).unwrap();
    assert_eq!(many.len(), 3, "{name}: only the keys that hold values");
    assert_eq!((many["a"], many["b"], many["c"]), (1, 2, 3), "{name}");
    assert!(c.delete_sync("a").unwrap(), "{name}");
    assert!(!c.delete_sync("a").unwrap(), "{name}: deleting twice");
    assert!(!c.has_key_sync("a").unwrap(), "{name}");
    assert!(c.has_key_sync("b").unwrap(), "{name}");
    c.delete_many_sync(&["b", "c"]).unwrap();
    assert!(c.get_many_sync::<i64>(&["b", "c"]).unwrap().is_empty(), "{name}");

    // get_or_set
    assert_eq!(c.get_or_set_sync("lazy", || 41).unwrap(), 41, "{name}");
    assert_eq!(c.get_or_set_sync("lazy", || 99).unwrap(), 41, "{name}: the stored value wins");

    // incr / decr
    c.set_sync("n", &1).unwrap();
    assert_eq!(c.incr_sync("n", 1).unwrap(), 2, "{name}");
    assert_eq!(c.incr_sync("n", 10).unwrap(), 12, "{name}");
    assert_eq!(c.decr_sync("n", 2).unwrap(), 10, "{name}");
    assert_eq!(c.get_sync::<i64>("n").unwrap(), Some(10), "{name}: incr stores a readable integer");
    assert!(matches!(c.incr_sync("never-set", 1), Err(CacheError::Missing { .. })), "{name}");
    assert!(
        matches!(c.incr_sync("greeting", 1), Err(CacheError::Backend { kind: ErrorKind::Invalid, .. })),
        "{name}: incr of text"
    );

    // versions
    c.with_version(2).set_sync("versioned", "two").unwrap();
    assert_eq!(c.get_sync::<String>("versioned").unwrap(), None, "{name}");
    assert_eq!(c.with_version(2).get_sync::<String>("versioned").unwrap().as_deref(), Some("two"), "{name}");
    c.set_sync("moving", "v").unwrap();
    assert_eq!(c.incr_version_sync("moving", 1).unwrap(), 2, "{name}");
    assert_eq!(c.get_sync::<String>("moving").unwrap(), None, "{name}: the old version is gone");
    assert_eq!(c.with_version(2).get_sync::<String>("moving").unwrap().as_deref(), Some("v"), "{name}");
    assert!(matches!(c.incr_version_sync("never-set", 1), Err(CacheError::Missing { .. })), "{name}");

    // timeouts: 0 does not store (and removes), Never keeps, a short one expires.
    c.with_timeout(0).set_sync("greeting", "gone").unwrap();
    assert_eq!(c.get_sync::<String>("greeting").unwrap(), None, "{name}: timeout 0 removes");
    assert!(!c.with_timeout(0).add_sync("zero", "x").unwrap() || !c.has_key_sync("zero").unwrap(), "{name}");
    c.with_timeout(Timeout::Never).set_sync("forever", "x").unwrap();
    c.with_timeout(1).set_sync("short", "x").unwrap();
    c.with_timeout(1).set_sync("touched", "x").unwrap();
    assert!(c.with_timeout(3600).touch_sync("touched").unwrap(), "{name}");
    assert!(!c.touch_sync("never-set").unwrap(), "{name}");
    eventually(&format!("{name}: a one-second value expires"), || c.get_sync::<String>("short").unwrap().is_none());
    assert!(c.has_key_sync("touched").unwrap(), "{name}: touch gave it an hour");
    assert!(c.has_key_sync("forever").unwrap(), "{name}");
    // Expired keys read as absent everywhere: add succeeds again, incr misses.
    c.with_timeout(1).set_sync("counter", &5).unwrap();
    eventually(&format!("{name}: the counter expires"), || !c.has_key_sync("counter").unwrap());
    assert!(matches!(c.incr_sync("counter", 1), Err(CacheError::Missing { .. })), "{name}");
    assert!(c.add_sync("counter", &0).unwrap(), "{name}");

    // clear empties this cache.
    c.clear_sync().unwrap();
    assert_eq!(c.get_sync::<String>("forever").unwrap(), None, "{name}: clear");
    assert_eq!(c.get_sync::<i64>("lazy").unwrap(), None, "{name}: clear");
}

/// The async API over the same storage: the same answers without blocking a worker.
fn contract_async(name: &str, cache: Cache) {
    actix_web::rt::System::new().block_on(async move {
        let c = &cache;
        c.set("async", &vec![1, 2, 3]).await.unwrap();
        assert_eq!(c.get::<Vec<i32>>("async").await.unwrap(), Some(vec![1, 2, 3]), "{name}");
        assert!(!c.add("async", &Vec::<i32>::new()).await.unwrap(), "{name}");
        c.set_many(&[("x", 1), ("y", 2)]).await.unwrap();
        assert_eq!(c.get_many::<i64>(&["x", "y", "z"]).await.unwrap().len(), 2, "{name}");
        assert_eq!(c.incr("x", 5).await.unwrap(), 6, "{name}");
        assert_eq!(c.decr("x", 1).await.unwrap(), 5, "{name}");
        assert!(c.has_key("y").await.unwrap(), "{name}");
        assert!(c.delete("y").await.unwrap(), "{name}");
        c.delete_many(&["x", "async"]).await.unwrap();
        assert_eq!(c.get_or_set("computed", || "value".to_owned()).await.unwrap(), "value", "{name}");
        assert!(c.with_timeout(60).touch("computed").await.unwrap(), "{name}");
        assert_eq!(c.incr_version("computed", 1).await.unwrap(), 2, "{name}");
        c.clear().await.unwrap();
        assert!(!c.with_version(2).has_key("computed").await.unwrap(), "{name}");
    });
}

/// `Backend::count`, the rate limiter's step: a counter created at 1 with its expiry, then
/// incremented atomically.
fn counts(name: &str, backend: &dyn Backend) {
    use manouche::cache::Expiry;
    let key = unique("counter-");
    let hour = Expiry::After(Duration::from_secs(3600));
    assert_eq!(backend.count(&key, hour).unwrap(), Some(1), "{name}");
    assert_eq!(backend.count(&key, hour).unwrap(), Some(2), "{name}");
    assert_eq!(
        backend.count(&key, Expiry::After(Duration::from_secs(1))).unwrap(),
        Some(3),
        "{name}: the expiry stays"
    );
    let short = unique("short-counter-");
    assert_eq!(backend.count(&short, Expiry::After(Duration::from_secs(1))).unwrap(), Some(1), "{name}");
    eventually(&format!("{name}: a counter expires"), || backend.get(&short).unwrap().is_none());
    assert!(backend.get(&key).unwrap().is_some(), "{name}");
    let text = unique("text-");
    backend.set(&text, b"\"tea\"", hour).unwrap();
    assert!(backend.count(&text, hour).is_err(), "{name}: a value that is not a counter");
}

fn pair(backend: Arc<dyn Backend>) -> Pair {
    let prefix = unique("p");
    (
        Cache::builder("default").key_prefix(prefix.clone()).build_shared(Arc::clone(&backend)),
        Cache::builder("default").key_prefix(format!("{prefix}-other")).build_shared(backend),
    )
}

fn from_settings(toml: &str, alias: &str, db: &manouche::db::Database) -> Cache {
    let settings = Settings::from_toml_str(toml, std::env::temp_dir().as_path(), Vec::<(String, String)>::new())
        .expect("the settings parse");
    Caches::from_settings(&settings, db).expect("the caches build").get(alias).expect("the alias exists")
}

fn no_db() -> manouche::db::Database {
    manouche::db::Database::missing("no database in this test")
}

#[test]
fn local_memory_keeps_the_contract() {
    let backend: Arc<dyn Backend> =
        Arc::new(manouche::cache::LocMemBackend::new(manouche::cache::Capacity::Entries(1000)));
    counts("locmem", &*backend);
    contract("locmem", pair(backend));
    let cache = from_settings("[caches.default]\nbackend = \"locmem\"\n", "default", &no_db());
    contract_async("locmem", cache);
}

#[test]
fn local_memory_is_bounded_by_entries_or_bytes() {
    for (settings, name) in [
        ("[caches.small]\nbackend = \"locmem\"\nmax_entries = 50\n", "entries"),
        ("[caches.small]\nbackend = \"locmem\"\nmax_bytes = 20000\n", "bytes"),
    ] {
        let cache = from_settings(settings, "small", &no_db());
        for i in 0..2000 {
            cache.set_sync(&format!("k{i}"), &"0123456789".repeat(10)).unwrap();
        }
        let keys: Vec<String> = (0..2000).map(|i| format!("k{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        eventually(&format!("the {name} bound evicts"), || cache.get_many_sync::<String>(&refs).unwrap().len() <= 200);
    }
}

#[test]
fn file_system_keeps_the_contract_and_culls() {
    let dir = std::env::temp_dir().join(unique("manouche-file-cache-"));
    let backend: Arc<dyn Backend> = Arc::new(manouche::cache::FileBackend::new(&dir, 1000, 3));
    counts("file", &*backend);
    contract("file", pair(backend));
    let toml = format!("[caches.default]\nbackend = \"file\"\nlocation = \"{}\"\n", dir.display());
    contract_async("file", from_settings(&toml, "default", &no_db()));
    // Past max_entries a third of the files are culled before the next write.
    let culled = dir.join("culled");
    let cache = Cache::builder("default").build(manouche::cache::FileBackend::new(&culled, 30, 3));
    for i in 0..60 {
        cache.set_sync(&format!("k{i}"), &i).unwrap();
    }
    let files = std::fs::read_dir(&culled)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "mcache"));
    assert!(files.count() <= 30, "culled to max_entries");
    assert_eq!(cache.get_sync::<i64>("k59").unwrap(), Some(59), "the newest entry is there");
    // No temporary file is left behind by the atomic writes.
    assert!(
        std::fs::read_dir(&culled)
            .unwrap()
            .filter_map(Result::ok)
            .all(|e| !e.file_name().to_string_lossy().starts_with(".tmp"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn database_keeps_the_contract_on_each_backend() {
    for db in crate::common::test_databases("the database cache") {
        let toml = format!(
            "database_url = \"{}\"\nsecret_key = \"x\"\n[caches.default]\nbackend = \"database\"\nlocation = \"shop_cache\"\nmax_entries = 5000\n",
            db.url()
        );
        let settings =
            Settings::from_toml_str(&toml, std::env::temp_dir().as_path(), Vec::<(String, String)>::new()).unwrap();
        let project = manouche::Project::new(settings.clone());
        // Before the table exists the cache degrades to misses (naming the command to run).
        let cache = Caches::from_settings(&settings, &db).unwrap().get("default").unwrap();
        assert_eq!(cache.get_sync::<String>("k").unwrap(), None);
        let check = project.call_command(["check"]);
        let said = format!("{}{}", check.stdout, check.stderr);
        assert!(said.contains("cache `default` cannot be read") && said.contains("createcachetable"), "{said}");
        let dry = project.call_command(["createcachetable", "--dry-run"]);
        assert!(dry.success() && dry.stdout.contains("CREATE TABLE IF NOT EXISTS shop_cache"), "{}", dry.stdout);
        let out = project.call_command(["createcachetable"]);
        assert!(out.success(), "{}", out.stderr);
        assert!(project.call_command(["createcachetable"]).success(), "createcachetable runs twice");
        let check = project.call_command(["check"]);
        assert!(!format!("{}{}", check.stdout, check.stderr).contains("createcachetable"), "the table is there now");
        let backend: Arc<dyn Backend> =
            Arc::new(manouche::cache::DatabaseBackend::new(db.db.clone(), "shop_cache", 5000, 3).unwrap());
        counts("database", &*backend);
        contract(&format!("database ({:?})", db.backend()), pair(backend));
        contract_async("database", Caches::from_settings(&settings, &db).unwrap().get("default").unwrap());
    }
}

#[test]
fn dummy_stores_nothing() {
    let cache = from_settings("[caches.default]\nbackend = \"dummy\"\n", "default", &no_db());
    cache.set_sync("k", "v").unwrap();
    assert_eq!(cache.get_sync::<String>("k").unwrap(), None);
    assert!(cache.add_sync("k", "v").unwrap());
    assert!(!cache.has_key_sync("k").unwrap());
    assert!(matches!(cache.incr_sync("k", 1), Err(CacheError::Missing { .. })));
    assert_eq!(cache.get_or_set_sync("k", || 5).unwrap(), 5);
    cache.clear_sync().unwrap();
}

fn redis_url() -> Option<String> {
    let url = std::env::var("MANOUCHE_TEST_REDIS_URL").ok();
    if url.is_none() {
        eprintln!("notice: MANOUCHE_TEST_REDIS_URL is not set; the Redis cache tests are skipped (.ci/run sets it)");
    }
    url
}

/// `clear` empties a whole memcached server: its tests take turns.
static MEMCACHED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn memcached_location() -> Option<String> {
    let location = std::env::var("MANOUCHE_TEST_MEMCACHED").ok();
    if location.is_none() {
        eprintln!("notice: MANOUCHE_TEST_MEMCACHED is not set; the Memcached tests are skipped (.ci/run starts one)");
    }
    location
}

#[test]
fn redis_keeps_the_contract() {
    let Some(url) = redis_url() else { return };
    let prefix = unique("r");
    let make = |p: String| {
        let backend = manouche::cache::RedisBackend::new(&url, 4, Duration::from_secs(2), &p).unwrap();
        Cache::builder("default").key_prefix(p).build(backend)
    };
    counts("redis", &manouche::cache::RedisBackend::new(&url, 4, Duration::from_secs(2), &prefix).unwrap());
    contract("redis", (make(prefix.clone()), make(format!("{prefix}-other"))));
    let toml =
        format!("[caches.default]\nbackend = \"redis\"\nlocation = \"{url}\"\nkey_prefix = \"{}\"\n", unique("ra"));
    contract_async("redis", from_settings(&toml, "default", &no_db()));
}

#[test]
fn memcached_keeps_the_contract_and_refuses_bad_keys() {
    let Some(location) = memcached_location() else { return };
    let _alone = MEMCACHED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let backend: Arc<dyn Backend> =
        Arc::new(manouche::cache::MemcachedBackend::new(&location, 4, Duration::from_secs(2)).unwrap());
    counts("memcached", &*backend);
    contract("memcached", pair(Arc::clone(&backend)));
    let toml = format!(
        "[caches.default]\nbackend = \"memcached\"\nlocation = \"{location}\"\nkey_prefix = \"{}\"\n",
        unique("m")
    );
    let cache = from_settings(&toml, "default", &no_db());
    contract_async("memcached", cache.clone());
    // Keys memcached would refuse are refused before they are sent (Django's InvalidCacheKey).
    assert!(matches!(cache.set_sync("has space", "v"), Err(CacheError::InvalidKey { .. })));
    assert!(matches!(cache.get_sync::<String>(&"k".repeat(300)), Err(CacheError::InvalidKey { .. })));
    // Elsewhere they work, with a warning.
    let local =
        Cache::builder("default").build(manouche::cache::LocMemBackend::new(manouche::cache::Capacity::Entries(10)));
    local.set_sync("has space", "v").unwrap();
    assert_eq!(local.get_sync::<String>("has space").unwrap().as_deref(), Some("v"));
}

#[test]
fn a_server_that_is_down_reads_as_misses_unless_errors_are_raised() {
    let dead = format!("127.0.0.1:{}", crate::common::free_port());
    for (backend, location) in [("redis", format!("redis://{dead}/0")), ("memcached", dead.clone())] {
        let toml = format!(
            "[caches.default]\nbackend = \"{backend}\"\nlocation = \"{location}\"\nsocket_timeout_ms = 300\n[caches.strict]\nbackend = \"{backend}\"\nlocation = \"{location}\"\nraise_errors = true\nsocket_timeout_ms = 300\n"
        );
        let cache = from_settings(&toml, "default", &no_db());
        assert_eq!(cache.get_sync::<String>("k").unwrap(), None, "{backend}: a miss");
        cache.set_sync("k", "v").unwrap();
        assert!(!cache.add_sync("k", "v").unwrap(), "{backend}");
        assert!(matches!(cache.incr_sync("k", 1), Err(CacheError::Missing { .. })), "{backend}");
        actix_web::rt::System::new().block_on(async {
            assert_eq!(cache.get::<String>("k").await.unwrap(), None, "{backend}: async miss");
        });
        let strict = from_settings(&toml, "strict", &no_db());
        let error = strict.get_sync::<String>("k").unwrap_err();
        assert!(matches!(error, CacheError::Backend { kind: ErrorKind::Unavailable, .. }), "{backend}: {error}");
        assert_eq!(error.status(), 503, "{backend}");
    }
}

#[test]
fn bad_cache_settings_name_the_alias_and_key() {
    let cases = [
        ("[caches.default]\nbackend = \"mongo\"\n", "caches.default.backend"),
        ("[caches.pages]\ntimeout = \"soon\"\n", "caches.pages.timeout"),
        ("[caches.default]\nbackend = \"file\"\n", "caches.default.location"),
        ("[caches.default]\nbackend = \"database\"\nlocation = \"drop table\"\n", "caches.default.location"),
        ("[caches.default]\nkey_function = \"nope\"\n", "caches.default.key_function"),
        ("[caches.default]\nbackend = \"redis\"\nlocation = \"http://x\"\n", "caches.default.location"),
        ("[caches.default]\ntimout = 3\n", "timout"),
    ];
    for (toml, named) in cases {
        let settings = Settings::from_toml_str(toml, std::env::temp_dir().as_path(), Vec::<(String, String)>::new());
        let problem = match settings {
            Err(error) => error.to_string(),
            Ok(settings) => Caches::from_settings(&settings, &no_db()).expect_err(toml).to_string(),
        };
        assert!(problem.contains(named), "{toml}: {problem}");
    }
    let settings = Settings::from_toml_str(
        "[caches.default]\ntimeout = \"never\"\n",
        std::env::temp_dir().as_path(),
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let cache = Caches::from_settings(&settings, &no_db()).unwrap().default_cache();
    assert_eq!(cache.timeout(), Timeout::Never);
    let caches = Caches::from_settings(&settings, &no_db()).unwrap();
    assert!(matches!(caches.get("pages"), Err(CacheError::UnknownAlias(alias)) if alias == "pages"));
}

fn shop_key(key: &str, prefix: &str, version: i64) -> String {
    format!("{prefix}|v{version}|{}", key.to_uppercase())
}
manouche::register_key_function!("tests.shop_key", shop_key);

#[test]
fn a_registered_key_function_makes_the_keys() {
    let cache =
        from_settings("[caches.default]\nkey_prefix = \"s\"\nkey_function = \"tests.shop_key\"\n", "default", &no_db());
    assert_eq!(cache.make_key("tea"), "s|v1|TEA");
    assert_eq!(cache.with_version(3).make_key("tea"), "s|v3|TEA");
    cache.set_sync("tea", &1).unwrap();
    assert_eq!(cache.get_sync::<i64>("TEA").unwrap(), Some(1), "both spellings make one key");
}

#[test]
fn memcached_spreads_keys_over_several_servers() {
    let Some(first) = memcached_location() else { return };
    let _alone = MEMCACHED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // A second server of our own, when the memcached program is installed (.ci/run installs it).
    let port = crate::common::free_port();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let Ok(mut second) = std::process::Command::new("memcached")
        .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-m", "16", "-u", &user])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        eprintln!("notice: the memcached program is not installed; the two-server test is skipped");
        return;
    };
    let second_location = format!("127.0.0.1:{port}");
    eventually("the second memcached listens", || std::net::TcpStream::connect(&second_location).is_ok());
    let both = format!("{first},{second_location}");
    let make = || manouche::cache::MemcachedBackend::new(&both, 2, Duration::from_secs(2)).unwrap();
    contract(
        "memcached, two servers",
        (
            Cache::builder("default").key_prefix(unique("m2")).build(make()),
            Cache::builder("default").key_prefix(unique("m2o")).build(make()),
        ),
    );
    // Each server holds a share of the keys, and every process finds a key on the same one.
    let prefix = unique("spread");
    let spread = Cache::builder("default").key_prefix(prefix.clone()).build(make());
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    for key in &keys {
        spread.set_sync(key, &1).unwrap();
    }
    let alone = Cache::builder("default")
        .key_prefix(prefix.clone())
        .build(manouche::cache::MemcachedBackend::new(&second_location, 1, Duration::from_secs(2)).unwrap());
    let on_second = keys.iter().filter(|key| alone.has_key_sync(key).unwrap()).count();
    assert!(0 < on_second && on_second < keys.len(), "{on_second} of {} keys on the second server", keys.len());
    let again = Cache::builder("default").key_prefix(prefix).build(make());
    assert_eq!(again.get_many_sync::<i64>(&keys.iter().map(String::as_str).collect::<Vec<_>>()).unwrap().len(), 40);
    let _ = second.kill();
    let _ = second.wait();
}
