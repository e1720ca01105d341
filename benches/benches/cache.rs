//! What the cache framework costs and saves. The shop's product list (`#[cache_page]` with
//! `depends_on`) is requested through the in-process client, with the shop's default middleware
//! (security headers, sessions, CSRF, auth, logging), in three projects side by side on one
//! seeded SQLite database: the cache in local memory, in Redis (when `MANOUCHE_TEST_REDIS_URL`
//! is set), and the dummy cache, with which every request renders the page from the database.
//! Then the raw cache API on local memory and Redis.
//!
//! `cargo bench -p manouche-bench --bench cache`; the README reports it. Besides criterion's
//! times it prints requests per second measured in interleaved rounds, and their ratio.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use manouche::prelude::*;
use manouche::test::Client;

fn database_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("shop.sqlite3").display())
}

fn shop_client(dir: &std::path::Path, cache: &str) -> Client {
    let text = format!(
        "debug = false\nsecret_key = \"bench-secret-bench-secret-bench-secret-bench-secret\"\nallowed_hosts = [\"testserver\"]\n\
         database_url = \"{}\"\nmiddleware = [\"manouche.security\", \"manouche.sessions\", \"manouche.csrf\", \"manouche.auth\", \"manouche.logging\"]\n\
         [apps.shop]\nname = \"Manouche Tea & Co.\"\n{cache}",
        database_url(dir)
    );
    let settings = Settings::from_toml_str(&text, dir, std::iter::empty()).expect("settings");
    Client::new(example_shop::configure(Project::new(settings))).expect("the shop builds")
}

#[view(POST, csrf_exempt)]
async fn plain() -> &'static str {
    "ok"
}

#[view(POST, csrf_exempt)]
#[ratelimit(key = "ip", rate = "1000000000/h")]
async fn limited() -> &'static str {
    "ok"
}

/// A bare project with a plain view and the same view under a rate limit, on `cache`.
fn limits_client(cache: &str) -> Client {
    let text = format!(
        "debug = false\nsecret_key = \"bench-secret-bench-secret-bench-secret-bench-secret\"\nallowed_hosts = [\"testserver\"]\nmiddleware = []\n{cache}"
    );
    let settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).expect("settings");
    let app = App::new("limits")
        .urls(manouche::urlpatterns![manouche::urls::path("plain/", plain), manouche::urls::path("limited/", limited)]);
    Client::new(Project::new(settings).app(app)).expect("builds")
}

fn requests_per_second(client: &Client, path: &str, rounds: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        assert_eq!(client.get(path).send().status(), 200);
    }
    rounds as f64 / start.elapsed().as_secs_f64()
}

fn cache(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("manouche-cache-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let project = {
        let settings = Settings::load_with_env(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/manouche.toml"),
            [("DATABASE_URL".to_owned(), database_url(&dir))],
        )
        .expect("the shop's settings");
        example_shop::configure(Project::new(settings))
    };
    for step in ["migrate", "seed"] {
        assert!(project.call_command([step]).success(), "{step}");
    }

    let mut variants = vec![
        ("cached in local memory", shop_client(&dir, "")),
        ("rendered from the database (dummy cache)", shop_client(&dir, "[caches.default]\nbackend = \"dummy\"\n")),
    ];
    let redis = std::env::var("MANOUCHE_TEST_REDIS_URL").ok();
    if let Some(url) = &redis {
        let cache = format!(
            "[caches.default]\nbackend = \"redis\"\nlocation = \"{url}\"\nkey_prefix = \"bench{}\"\n",
            std::process::id()
        );
        variants.insert(1, ("cached in Redis", shop_client(&dir, &cache)));
    } else {
        eprintln!("notice: MANOUCHE_TEST_REDIS_URL is not set; the Redis variant is skipped");
    }
    let path = "/products/";
    for (name, client) in &variants {
        let page = client.get(path).send();
        assert_eq!(page.status(), 200, "{name}");
        assert!(page.text().contains("Our teas"), "{name}");
    }

    // Requests per second, in interleaved rounds so a busy moment hits every variant alike.
    let mut totals = vec![0.0; variants.len()];
    let rounds = 5;
    for _ in 0..rounds {
        for (total, (_, client)) in totals.iter_mut().zip(&variants) {
            *total += requests_per_second(client, path, 400);
        }
    }
    let rendered = totals[variants.len() - 1] / f64::from(rounds);
    println!("\nGET {path} through the shop's middleware, in-process, one thread:");
    for ((name, _), total) in variants.iter().zip(&totals) {
        let rps = total / f64::from(rounds);
        println!("  {name:<44} {rps:>9.0} requests/s  {:>5.1}x", rps / rendered);
    }
    println!();

    let mut group = c.benchmark_group("shop product list");
    group.measurement_time(Duration::from_secs(5));
    for (name, client) in &variants {
        group.bench_function(*name, |b| b.iter(|| assert_eq!(client.get(path).send().status(), 200)));
    }
    group.finish();

    let mut group = c.benchmark_group("rate limit");
    let mut projects = vec![("local memory", limits_client(""))];
    if let Some(url) = &redis {
        let cache = format!(
            "[caches.default]\nbackend = \"redis\"\nlocation = \"{url}\"\nkey_prefix = \"rl{}\"\n",
            std::process::id()
        );
        projects.push(("Redis", limits_client(&cache)));
    }
    for (name, client) in &projects {
        group.bench_function(format!("plain view ({name} project)"), |b| {
            b.iter(|| assert_eq!(client.post("/plain/").send().status(), 200));
        });
        group.bench_function(format!("rate-limited view, counters in {name}"), |b| {
            b.iter(|| assert_eq!(client.post("/limited/").send().status(), 200));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("cache API");
    let local = manouche::cache::Cache::builder("bench")
        .build(manouche::cache::LocMemBackend::new(manouche::cache::Capacity::Entries(10_000)));
    let basket: Vec<(String, u32)> = (0..10).map(|i| (format!("tea {i}"), i)).collect();
    local.set_sync("basket", &basket).expect("set");
    group.bench_function("locmem get (10-line basket)", |b| {
        b.iter(|| local.get_sync::<Vec<(String, u32)>>("basket").expect("get"));
    });
    group.bench_function("locmem set (10-line basket)", |b| b.iter(|| local.set_sync("basket", &basket).expect("set")));
    group.bench_function("locmem incr", |b| {
        local.set_sync("n", &0).expect("set");
        b.iter(|| local.incr_sync("n", 1).expect("incr"));
    });
    if let Some(url) = &redis {
        let backend = manouche::cache::RedisBackend::new(url, 4, Duration::from_secs(1), "bench").expect("redis");
        let remote = manouche::cache::Cache::builder("bench").key_prefix("bench").build(backend);
        remote.set_sync("basket", &basket).expect("set");
        group.bench_function("redis get (10-line basket)", |b| {
            b.iter(|| remote.get_sync::<Vec<(String, u32)>>("basket").expect("get"));
        });
        group.bench_function("redis set (10-line basket)", |b| {
            b.iter(|| remote.set_sync("basket", &basket).expect("set"));
        });
        let runtime = actix_web::rt::System::new();
        group.bench_function("redis get, async (blocking pool)", |b| {
            b.iter(|| runtime.block_on(remote.get::<Vec<(String, u32)>>("basket")).expect("get"));
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, cache);
criterion_main!(benches);
