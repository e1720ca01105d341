//! What background tasks cost: tasks per second through Redis and RabbitMQ with one worker
//! process (the trivial task `bench.echo`, from enqueue to completion), and the latency a view
//! pays to enqueue a task, on each backend, against the same view without one.
//!
//! `cargo bench -p manouche-bench --bench tasks` with `MANOUCHE_TEST_REDIS_URL` and
//! `MANOUCHE_TEST_AMQP_URL` set; the README reports it.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::Criterion;
use manouche::prelude::*;
use manouche::tasks::{TaskOptions, TaskSpec, TaskStatus, Tasks};
use manouche::test::Client;

/// The same task as the worker's (the names match); the view enqueues it.
#[task(name = "bench.echo")]
fn echo(n: u64) -> u64 {
    n
}

#[view(POST, csrf_exempt)]
async fn enqueue_view() -> manouche::Result<String> {
    let result = echo.enqueue(7).await?;
    Ok(result.id().to_owned())
}

#[view(POST, csrf_exempt)]
async fn plain_view() -> &'static str {
    "ok"
}

const SECRET: &str = "bench-secret-bench-secret-bench-secret-bench-secret";
const CONCURRENCY: usize = 8;
const TASKS: usize = 5_000;

fn settings_text(dir: &std::path::Path, tasks: &str) -> String {
    format!(
        "debug = false\nsecret_key = \"{SECRET}\"\nallowed_hosts = [\"testserver\"]\nmiddleware = []\nlog_level = \"warn\"\n\
         database_url = \"sqlite://{}\"\n[tasks]\n{tasks}\nconcurrency = {CONCURRENCY}\n",
        dir.join("bench.sqlite3").display()
    )
}

fn project(dir: &std::path::Path, tasks: &str) -> Project {
    let settings = Settings::from_toml_str(&settings_text(dir, tasks), dir, std::iter::empty()).expect("settings");
    let app = App::new("bench").urls(manouche::urlpatterns![
        manouche::urls::path("enqueue/", enqueue_view),
        manouche::urls::path("plain/", plain_view),
    ]);
    Project::new(settings).app(manouche::tasks::app()).app(app)
}

/// Runs `TASKS` trivial tasks through `tasks` with one worker process; returns (enqueued/s,
/// completed/s from the first enqueue to the last completion).
fn throughput(dir: &std::path::Path, toml: &str, tasks: &Tasks) -> (f64, f64) {
    std::fs::write(dir.join("worker.toml"), settings_text(dir, toml)).expect("settings file");
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_task_worker"))
        .args(["worker", "--queues", "throughput", "--concurrency", &CONCURRENCY.to_string(), "--no-scheduler"])
        .current_dir(dir)
        .env("MANOUCHE_SETTINGS", dir.join("worker.toml"))
        .spawn()
        .expect("the worker starts");
    // Warm up: the worker is ready once it has run one.
    // A queue of its own: the tasks the view benchmark enqueued stay out of the count.
    let spec = TaskSpec::new("bench.echo");
    let options = TaskOptions::new().queue("throughput");
    let first = tasks.enqueue_raw(&spec, &options, serde_json::json!([0])).expect("enqueue");
    wait(tasks, &first.id);
    let start = Instant::now();
    let ids: Vec<String> =
        (0..TASKS).map(|n| tasks.enqueue_raw(&spec, &options, serde_json::json!([n])).expect("enqueue").id).collect();
    let enqueued = start.elapsed();
    for id in ids.iter().rev() {
        wait(tasks, id);
    }
    let done = start.elapsed();
    let _ = std::process::Command::new("kill").args(["-TERM", &worker.id().to_string()]).status();
    let _ = worker.wait();
    (TASKS as f64 / enqueued.as_secs_f64(), TASKS as f64 / done.as_secs_f64())
}

fn wait(tasks: &Tasks, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if tasks.record(id).is_ok_and(|r| r.status == TaskStatus::Successful) {
            return;
        }
        assert!(Instant::now() < deadline, "task {id} never finished");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args().sample_size(50);
    let mut backends = vec![("database".to_owned(), "backend = \"database\"".to_owned())];
    for (name, var) in [("redis", "MANOUCHE_TEST_REDIS_URL"), ("amqp", "MANOUCHE_TEST_AMQP_URL")] {
        match std::env::var(var) {
            Ok(url) => backends.push((
                name.to_owned(),
                format!("backend = \"{name}\"\nlocation = \"{url}\"\nprefix = \"bench{}\"", std::process::id()),
            )),
            Err(_) => eprintln!("notice: {var} is not set; the {name} task benchmark is skipped"),
        }
    }
    let mut rows = Vec::new();
    for (name, toml) in &backends {
        let dir = std::env::temp_dir().join(format!("manouche-task-bench-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let project = project(&dir, toml);
        let out = project.call_command(["migrate"]);
        assert!(out.success(), "{}", out.stderr);
        let client = Client::queued_tasks(project).expect("builds");
        let mut group = criterion.benchmark_group("enqueue from a view");
        group.bench_function(format!("{name}: POST /enqueue/"), |b| {
            b.iter(|| assert_eq!(client.post("/enqueue/").send().status(), 200));
        });
        group.finish();
        if name != "database" {
            let (enqueue_rate, rate) = throughput(&dir, toml, client.tasks());
            rows.push(format!("| {name} | {rate:.0} | {enqueue_rate:.0} |"));
        }
        drop(client);
        let _ = std::fs::remove_dir_all(&dir);
    }
    {
        let dir = std::env::temp_dir().join(format!("manouche-task-bench-plain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let client = Client::queued_tasks(project(&dir, "backend = \"dummy\"")).expect("builds");
        let mut group = criterion.benchmark_group("enqueue from a view");
        group.bench_function("no task: POST /plain/", |b| {
            b.iter(|| assert_eq!(client.post("/plain/").send().status(), 200));
        });
        group.bench_function("dummy: POST /enqueue/", |b| {
            b.iter(|| assert_eq!(client.post("/enqueue/").send().status(), 200));
        });
        group.finish();
        let _ = std::fs::remove_dir_all(&dir);
    }
    criterion.final_summary();
    println!(
        "\n| broker ({TASKS} tasks, one worker process, concurrency {CONCURRENCY}) | tasks/s, enqueue to completion | enqueued/s (one thread) |"
    );
    println!("|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
