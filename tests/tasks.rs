//! Background tasks through the public API: `#[task]`, enqueue, results, retries, on-commit,
//! run_after, periodic tasks and workers, on every backend (database on SQLite and PostgreSQL,
//! Redis, RabbitMQ); the kill tests run workers as separate processes.

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use manouche::prelude::*;
use manouche::tasks::{
    TASK_ENQUEUED, TaskError, TaskOptions, TaskResult, TaskSpec, TaskStatus, Worker, WorkerOptions, WorkerStop,
};
use manouche::test::{Client, TestDatabase};

/// Adds two numbers (a sync task).
#[task(name = "tests.add")]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Attempts per key, across every backend's tests.
static ATTEMPTS: LazyLock<Mutex<HashMap<String, u32>>> = LazyLock::new(Mutex::default);

fn attempts_of(key: &str) -> u32 {
    ATTEMPTS.lock().unwrap().get(key).copied().unwrap_or(0)
}

/// Fails its first `failures` attempts, then returns the attempt number.
#[task(name = "tests.flaky", max_retries = 3, retry_backoff = 0.05, retry_jitter = false)]
async fn flaky(ctx: TaskContext, key: String, failures: u32) -> Result<u32, TaskError> {
    *ATTEMPTS.lock().unwrap().entry(key).or_default() += 1;
    if ctx.attempt() <= failures {
        return Err(TaskError::new(format!("attempt {} failed on purpose", ctx.attempt())));
    }
    Ok(ctx.attempt())
}

/// Always fails: twice retried, then failed for good.
#[task(name = "tests.doomed", max_retries = 2, retry_backoff = 0.02, retry_jitter = false)]
fn doomed(key: String) -> Result<(), String> {
    *ATTEMPTS.lock().unwrap().entry(key).or_default() += 1;
    Err("the kettle is broken".into())
}

/// Panics: a failed attempt, not a dead worker.
#[task(name = "tests.panics")]
fn panics() -> u32 {
    panic!("the teapot exploded")
}

/// Stops retrying at once.
#[task(name = "tests.permanent", max_retries = 5)]
fn permanent(key: String) -> Result<(), TaskError> {
    *ATTEMPTS.lock().unwrap().entry(key).or_default() += 1;
    Err(TaskError::permanent("order 7 does not exist"))
}

/// Runs past its time limit.
#[task(name = "tests.slow", time_limit = 0.2)]
async fn slow() -> u32 {
    actix_web::rt::time::sleep(Duration::from_secs(30)).await;
    1
}

/// Reads the project's database from the task.
#[task(name = "tests.count_tasks")]
fn count_rows(ctx: TaskContext) -> Result<i64, manouche::Error> {
    use diesel::sql_types::BigInt;
    let db = ctx.db();
    Ok(db.run_sync(|conn| manouche::db::RawRows::<BigInt>::new("SELECT COUNT(*) FROM manouche_task").one_sync(conn))?)
}

/// Ticks every second on every worker's clock; the tick is claimed once across workers.
#[task(name = "tests.every_second", every = 1, queue = "periodic")]
fn every_second() {}

fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn settings(tasks: &str) -> Settings {
    let text = format!(
        "debug = true\nsecret_key = \"tasks-tests-secret-key-0123456789abcdef\"\nallowed_hosts = [\"testserver\"]\n[tasks]\n{tasks}"
    );
    Settings::from_toml_str(&text, FsPath::new("."), std::iter::empty()).expect("valid settings")
}

fn unique(label: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{label}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A queued backend under test: its client (tasks wait for a worker) and database.
struct Queued {
    name: String,
    client: Client,
    _db: TestDatabase,
}

fn project(tasks: &str) -> Project {
    Project::new(settings(tasks)).app(manouche::tasks::app())
}

/// Every queued backend this machine has: the database on SQLite and PostgreSQL, Redis and
/// RabbitMQ when their URLs are set (`.ci/run` sets them).
fn queued(label: &str) -> Vec<Queued> {
    let mut all = Vec::new();
    for db in TestDatabase::all(label) {
        let name = format!("database ({:?})", db.backend());
        let project = db.migrated(project("backend = \"database\"\nvisibility_timeout = 2")).expect("migrates");
        all.push(Queued { name, client: Client::queued_tasks(project).expect("builds"), _db: db });
    }
    let brokers = [
        ("redis", std::env::var("MANOUCHE_TEST_REDIS_URL").ok()),
        ("amqp", std::env::var("MANOUCHE_TEST_AMQP_URL").ok()),
    ];
    for (backend, url) in brokers {
        let Some(url) = url else {
            eprintln!(
                "notice: MANOUCHE_TEST_{}_URL is not set; the {backend} task tests are skipped (.ci/run sets it)",
                backend.to_uppercase()
            );
            continue;
        };
        let Ok(db) = TestDatabase::sqlite(&format!("{label}-{backend}")) else { continue };
        let toml = format!(
            "backend = \"{backend}\"\nlocation = \"{url}\"\nprefix = \"{}\"\nvisibility_timeout = 2",
            unique("t")
        );
        let project = db.migrated(project(&toml)).expect("migrates");
        all.push(Queued { name: backend.to_owned(), client: Client::queued_tasks(project).expect("builds"), _db: db });
    }
    all
}

/// A worker on `client`'s backend in a thread, stopped (and joined) when dropped.
struct Running {
    stop: WorkerStop,
    thread: Option<std::thread::JoinHandle<manouche::tasks::WorkerReport>>,
}

impl Running {
    fn start(client: &Client, options: WorkerOptions) -> Self {
        let worker = client.within(|| Worker::new(options));
        let stop = worker.stopper();
        let thread = std::thread::spawn(move || worker.run().expect("the worker runs"));
        Running { stop, thread: Some(thread) }
    }

    fn finish(mut self) -> manouche::tasks::WorkerReport {
        self.stop.stop();
        self.thread.take().expect("running").join().expect("the worker thread")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn options() -> WorkerOptions {
    WorkerOptions::default().queues(["default"]).concurrency(2).scheduler(false)
}

fn finished<R: serde::de::DeserializeOwned>(client: &Client, id: &str) -> TaskResult<R> {
    wait_for(&format!("task {id} to finish"), Duration::from_secs(60), || {
        let result = client.tasks().get_result::<R>(id).ok()?;
        result.is_finished().then_some(result)
    })
}

#[test]
fn the_immediate_backend_runs_tasks_in_place_with_their_results() {
    let client = Client::new(Project::new(settings("backend = \"immediate\""))).unwrap();
    client.within(|| {
        let result = add.enqueue_sync(2, 3).unwrap();
        assert_eq!(result.status(), TaskStatus::Successful);
        assert_eq!(result.return_value(), Some(5));
        assert_eq!(result.attempts(), 1);
        assert_eq!(add.get_result(result.id()).unwrap().return_value(), Some(5));

        // Retries run at once, without the backoff.
        let key = unique("immediate-flaky");
        let result = flaky.enqueue_sync(key.clone(), 2).unwrap();
        assert_eq!((result.status(), result.return_value(), attempts_of(&key)), (TaskStatus::Successful, Some(3), 3));
        assert_eq!(result.errors().len(), 2);
        assert_eq!(result.errors()[0].message, "attempt 1 failed on purpose");

        let panicked = panics.enqueue_sync().unwrap();
        assert_eq!(panicked.status(), TaskStatus::Failed);
        assert_eq!(panicked.errors()[0].kind, "panic");
        assert!(panicked.errors()[0].message.contains("the teapot exploded"));

        let limited = slow.enqueue_sync().unwrap();
        assert_eq!((limited.status(), limited.errors()[0].kind.as_str()), (TaskStatus::Failed, "time_limit"));

        let key = unique("permanent");
        let refused = permanent.enqueue_sync(key.clone()).unwrap();
        assert_eq!((refused.status(), attempts_of(&key)), (TaskStatus::Failed, 1));

        // Django's rules: priorities within -100..=100; the immediate backend cannot wait.
        let error = add.using(TaskOptions::new().priority(101)).enqueue_sync(1, 1).unwrap_err();
        assert!(error.to_string().contains("outside -100..=100"), "{error}");
        let error = add.using(TaskOptions::new().run_after(Duration::from_secs(5))).enqueue_sync(1, 1).unwrap_err();
        assert!(error.to_string().contains("runs tasks at once"), "{error}");
        assert!(matches!(add.get_result("no-such-id"), Err(manouche::tasks::TasksError::NotFound(_))));
    });
    // `call` runs the function itself.
    assert_eq!(add.call(20, 22), 42);
}

#[test]
fn a_view_enqueues_and_the_signals_tell_each_step() {
    #[view(POST, csrf_exempt)]
    async fn sum(#[params(a, b)] numbers: Path<(i64, i64)>) -> manouche::Result<String> {
        let (a, b) = numbers.into_inner();
        let result = add.enqueue(a, b).await?;
        Ok(format!("{} {}", result.status(), result.return_value().unwrap_or_default()))
    }
    let events: &'static Mutex<Vec<String>> = Box::leak(Box::default());
    let ids = [
        manouche::tasks::TASK_ENQUEUED
            .connect(move |e| events.lock().unwrap().push(format!("enqueued {}", e.result.args))),
        manouche::tasks::TASK_STARTED
            .connect(move |e| events.lock().unwrap().push(format!("started {}", e.result.args))),
        manouche::tasks::TASK_FINISHED.connect(move |e| {
            events.lock().unwrap().push(format!("finished {} {}", e.result.args, e.result.status));
        }),
    ];
    let project = Project::new(settings("backend = \"immediate\""))
        .app(App::new("sums").urls(urlpatterns![manouche::urls::path("sum/{a}/{b}/", sum)]));
    let client = Client::new(project).unwrap();
    let response = client.post("/sum/40/2/").send();
    assert_eq!((response.status(), response.text()), (200, "SUCCESSFUL 42".to_owned()));
    manouche::tasks::TASK_ENQUEUED.disconnect(ids[0]);
    manouche::tasks::TASK_STARTED.disconnect(ids[1]);
    manouche::tasks::TASK_FINISHED.disconnect(ids[2]);
    let events = events.lock().unwrap();
    let mine: Vec<&String> = events.iter().filter(|e| e.contains("[40,2]")).collect();
    assert_eq!(mine, ["enqueued [40,2]", "started [40,2]", "finished [40,2] SUCCESSFUL"]);
}

#[test]
fn the_dummy_backend_records_without_running() {
    let client = Client::new(Project::new(settings("backend = \"dummy\""))).unwrap();
    let result = client.within(|| add.enqueue_sync(1, 2)).unwrap();
    assert_eq!(result.status(), TaskStatus::Ready);
    let record = client.tasks().record(result.id()).unwrap();
    assert_eq!((record.task.as_str(), record.args.to_string()), ("tests.add", "[1,2]".to_owned()));
    assert!(Worker::with_tasks(client.tasks().clone(), options()).run().is_err(), "no queue for a worker");
}

#[test]
fn settings_name_a_known_backend_and_queue() {
    let error = Client::new(Project::new(settings("backend = \"celery\""))).unwrap_err();
    assert!(error.to_string().contains("unknown task backend `celery`"), "{error}");
    let error = Client::queued_tasks(Project::new(settings("backend = \"redis\""))).unwrap_err();
    assert!(error.to_string().contains("needs `tasks.location`"), "{error}");
    let error = Client::queued_tasks(project("backend = \"amqp\"\nlocation = \"http://rabbit\"")).unwrap_err();
    assert!(error.to_string().contains("not an AMQP URL"), "{error}");
    let error = Client::queued_tasks(Project::new(settings("backend = \"database\""))).unwrap_err();
    assert!(error.to_string().contains("add `manouche::tasks::app()` to the project"), "{error}");
    let client = Client::new(Project::new(settings("queues = [\"emails\"]"))).unwrap();
    let error = client.within(|| add.enqueue_sync(1, 1)).unwrap_err();
    assert!(error.to_string().contains("queue `default` of task `tests.add` is not in `tasks.queues`"), "{error}");
}

#[test]
fn workers_run_tasks_with_retries_and_failures_on_every_backend() {
    for backend in queued("tasks-worker") {
        let client = &backend.client;
        let name = &backend.name;
        let (sum, flaky_key, doomed_key) =
            (client.within(|| add.enqueue_sync(19, 23)).unwrap(), unique("flaky"), unique("doomed"));
        assert_eq!(sum.status(), TaskStatus::Ready, "{name}: waits for a worker");
        let retried = client.within(|| flaky.enqueue_sync(flaky_key.clone(), 2)).unwrap();
        let failing = client.within(|| doomed.enqueue_sync(doomed_key.clone())).unwrap();
        let rows = client.within(|| count_rows.enqueue_sync()).unwrap();
        let worker = Running::start(client, options());

        let sum = finished::<i64>(client, sum.id());
        assert_eq!((sum.status(), sum.return_value(), sum.attempts()), (TaskStatus::Successful, Some(42), 1), "{name}");
        assert!(sum.worker_ids()[0].starts_with("worker-"), "{name}: {:?}", sum.worker_ids());
        assert!(sum.finished_at() >= sum.started_at() && sum.started_at() >= sum.enqueued_at(), "{name}");

        let retried = finished::<u32>(client, retried.id());
        assert_eq!((retried.status(), retried.return_value()), (TaskStatus::Successful, Some(3)), "{name}");
        assert_eq!((retried.attempts(), retried.errors().len(), attempts_of(&flaky_key)), (3, 2, 3), "{name}");
        let failing = finished::<()>(client, failing.id());
        assert_eq!(
            (failing.status(), failing.attempts(), attempts_of(&doomed_key)),
            (TaskStatus::Failed, 3, 3),
            "{name}"
        );
        assert!(failing.errors().iter().all(|e| e.message == "the kettle is broken"), "{name}");
        // Exponential backoff: the retries waited (0.02 s, then 0.04 s).
        let rows = finished::<i64>(client, rows.id());
        assert!(rows.status() == TaskStatus::Successful, "{name}: {:?}", rows.errors());

        let report = worker.finish();
        assert!(report.attempts >= 7 && report.failed >= 5, "{name}: {report:?}");
        let out = client.within(|| {
            let tasks = client.tasks().broker().stats().unwrap();
            tasks.failures.iter().any(|f| f.id == failing.id())
        });
        assert!(out, "{name}: the failure is listed");
    }
}

#[test]
fn run_after_holds_a_task_until_its_time_on_every_backend() {
    for backend in queued("tasks-later") {
        let client = &backend.client;
        let worker = Running::start(client, options());
        let soon = client.within(|| add.enqueue_sync(1, 1)).unwrap();
        let later = client
            .within(|| add.using(TaskOptions::new().run_after(Duration::from_millis(1500))).enqueue_sync(2, 2))
            .unwrap();
        let at = manouche::chrono::Utc::now() + manouche::chrono::Duration::milliseconds(1500);
        let dated = client.within(|| add.using(TaskOptions::new().run_after(at)).enqueue_sync(3, 3)).unwrap();
        let enqueued = Instant::now();
        let soon = finished::<i64>(client, soon.id());
        assert_eq!(soon.return_value(), Some(2));
        let later = finished::<i64>(client, later.id());
        let dated = finished::<i64>(client, dated.id());
        let waited = later.started_at().unwrap() - later.enqueued_at().unwrap();
        assert!(waited >= manouche::chrono::Duration::milliseconds(1450), "{}: ran after {waited}", backend.name);
        assert!(dated.started_at().unwrap() >= at - manouche::chrono::Duration::milliseconds(50), "{}", backend.name);
        assert_eq!((later.return_value(), dated.return_value()), (Some(4), Some(6)));
        assert!(enqueued.elapsed() >= Duration::from_millis(1400));
        drop(worker);
    }
}

#[test]
fn enqueue_on_commit_waits_for_the_commit_on_every_backend() {
    for backend in queued("tasks-commit") {
        let client = &backend.client;
        let name = &backend.name;
        let rolled_back = std::cell::RefCell::new(String::new());
        let outcome: Result<(), manouche::db::Error> = client.within(|| {
            client.db().atomic_sync(|_conn| {
                *rolled_back.borrow_mut() = add.enqueue_on_commit(5, 5).expect("valid");
                Err(manouche::db::Error::Unavailable { reason: "rolled back on purpose".into() })
            })
        });
        assert!(outcome.is_err());
        let committed = client
            .within(|| {
                client.db().atomic_sync(|_conn| {
                    let id = add.enqueue_on_commit(6, 6).expect("valid");
                    // Not before the commit.
                    assert!(client.tasks().record(&id).is_err(), "{name}: enqueued before the commit");
                    Ok(id)
                })
            })
            .unwrap();
        let worker = Running::start(client, options());
        assert_eq!(finished::<i64>(client, &committed).return_value(), Some(12), "{name}");
        worker.finish();
        assert!(
            matches!(client.tasks().record(&rolled_back.borrow()), Err(manouche::tasks::TasksError::NotFound(_))),
            "{name}: nothing was enqueued for the rolled-back block"
        );
    }
}

#[test]
fn a_periodic_task_runs_once_per_tick_with_two_workers() {
    for backend in queued("tasks-periodic") {
        let client = &backend.client;
        let seen: &'static Mutex<Vec<i64>> = Box::leak(Box::default());
        let kind = client.tasks().broker().kind();
        let id = TASK_ENQUEUED.connect(move |event| {
            if event.result.task == "tests.every_second"
                && event.backend == kind
                && let Some(tick) = event.result.args.get("periodic_tick").and_then(|t| t.as_i64())
            {
                seen.lock().unwrap().push(tick);
            }
        });
        let periodic = || WorkerOptions::default().queues(["periodic"]).concurrency(1).scheduler(true);
        let (one, two) = (Running::start(client, periodic()), Running::start(client, periodic()));
        wait_for("four ticks", Duration::from_secs(60), || (seen.lock().unwrap().len() >= 4).then_some(()));
        drop((one, two));
        TASK_ENQUEUED.disconnect(id);
        let mut ticks = seen.lock().unwrap().clone();
        let count = ticks.len();
        ticks.sort_unstable();
        ticks.dedup();
        assert_eq!(ticks.len(), count, "{}: a tick ran twice: {:?}", backend.name, seen.lock().unwrap());
    }
}

#[test]
fn tasks_command_lists_tasks_queues_and_failures() {
    let db = TestDatabase::sqlite("tasks-command").unwrap();
    let project = db.migrated(project("backend = \"database\"")).unwrap();
    let client = Client::queued_tasks(db.migrated(project).unwrap()).unwrap();
    client.within(|| add.enqueue_sync(1, 1)).unwrap();
    client.within(|| add.using(TaskOptions::new().queue("emails")).enqueue_sync(1, 1)).unwrap();
    let project = db.project(self::project("backend = \"database\"")).unwrap();
    let out = project.call_command(["tasks"]);
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains("tests.add (queue default, priority 0, max retries 0)"), "{}", out.stdout);
    assert!(out.stdout.contains("tests.flaky (queue default, priority 0, max retries 3)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("tests.every_second (queue periodic, priority 0, max retries 0, every 1 s)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("default: 1 waiting, 0 running"), "{}", out.stdout);
    assert!(out.stdout.contains("emails: 1 waiting, 0 running"), "{}", out.stdout);
    let out = project.call_command(["worker", "--concurrency", "none"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--concurrency must be a positive number, not `none`"), "{}", out.stderr);
    let out = project.call_command(["tasks", "--purge", "soon"]);
    assert!(out.stderr.contains("--purge takes a number of days"), "{}", out.stderr);
}

#[test]
fn retries_back_off_exponentially_up_to_the_cap_with_jitter() {
    let mut spec = TaskSpec::new("tests.backoff");
    spec.retry_backoff = Duration::from_secs(2);
    spec.retry_backoff_max = Duration::from_secs(10);
    spec.retry_jitter = false;
    let delays: Vec<u64> = (2..=6).map(|attempt| spec.retry_delay(attempt).as_secs()).collect();
    assert_eq!(delays, [2, 4, 8, 10, 10]);
    spec.retry_jitter = true;
    for _ in 0..50 {
        let delay = spec.retry_delay(4);
        assert!(delay >= Duration::from_secs(4) && delay <= Duration::from_secs(8), "{delay:?}");
    }
}

/// A `fixture_server worker` process of a kill test.
struct WorkerProcess {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl WorkerProcess {
    fn start(dir: &FsPath, name: &str) -> Self {
        let binary = crate::common::workspace_binary("manouche-tests", "fixture_server");
        let log = dir.join(format!("{name}.log"));
        let child = std::process::Command::new(binary)
            .args(["worker", "--concurrency", "1", "--no-scheduler"])
            .current_dir(dir)
            .env("MANOUCHE_SETTINGS", "fixture.toml")
            .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the worker starts");
        WorkerProcess { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(path: &FsPath) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// SIGKILL a worker while it runs a task: another worker completes it once (and the tasks
/// waiting behind it), nothing lost; SIGTERM lets a running task finish before the worker exits.
fn kill_a_worker_mid_task(backend: &str, url: &str) {
    let dir = std::env::temp_dir().join(unique(&format!("manouche-kill-{backend}")));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = unique("kill");
    std::fs::write(
        dir.join("fixture.toml"),
        format!(
            "debug = true\nsecret_key = \"kill-test-secret-key-0123456789abcdef\"\ndatabase_url = \"sqlite://db.sqlite3\"\n\
             [tasks]\nbackend = \"{backend}\"\nlocation = \"{url}\"\nprefix = \"{prefix}\"\nvisibility_timeout = 2\n\
             concurrency = 1\nshutdown_timeout = 60\n"
        ),
    )
    .unwrap();
    let binary = crate::common::workspace_binary("manouche-tests", "fixture_server");
    let migrate = std::process::Command::new(&binary)
        .arg("migrate")
        .current_dir(&dir)
        .env("MANOUCHE_SETTINGS", "fixture.toml")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let db_url = manouche::conf::DatabaseUrl::parse("sqlite://db.sqlite3", &dir).unwrap();
    let db = manouche::db::Database::connect(&db_url, manouche::db::PoolOptions::default());
    let mut task_settings = manouche::tasks::TaskSettings::new(backend, Some(url));
    task_settings.prefix = prefix;
    let tasks = manouche::tasks::Tasks::from_settings(task_settings, &db).unwrap();
    let spec = TaskSpec::new("fixture.hold_once");
    let enqueue = |key: &str| {
        let args = serde_json::json!([dir.display().to_string(), key]);
        tasks.enqueue_raw(&spec, &TaskOptions::new(), args).expect("enqueued").id
    };
    let succeeded = |id: &str| {
        wait_for(&format!("{backend}: task {id}"), Duration::from_secs(90), || {
            tasks.record(id).ok().filter(|r| r.status == TaskStatus::Successful)
        })
    };

    let a = WorkerProcess::start(&dir, "a");
    let held = enqueue("held");
    let queued: Vec<String> = (0..3)
        .map(|n| {
            std::fs::write(dir.join(format!("q{n}.release")), b"").unwrap();
            enqueue(&format!("q{n}"))
        })
        .collect();
    let started_a = dir.join(format!("held.started.{}", a.pid()));
    wait_for(&format!("{backend}: worker A to start the task"), Duration::from_secs(90), || {
        started_a.exists().then_some(())
    });
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    std::fs::write(dir.join("held.release"), b"").unwrap();

    let b = WorkerProcess::start(&dir, "b");
    let record = succeeded(&held);
    assert_eq!(lines(&dir.join("held.completions")), [b.pid().to_string()], "{backend}: completed once, on B");
    assert_eq!(std::fs::read_to_string(dir.join("held.done")).unwrap(), b.pid().to_string());
    assert_eq!(record.attempts, 2, "{backend}: {record:?}");
    assert_eq!(record.worker_ids.len(), 2, "{backend}: {record:?}");
    assert_eq!(record.errors[0].kind, "worker_lost", "{backend}: the lost attempt is on record");
    for (n, id) in queued.iter().enumerate() {
        succeeded(id);
        assert_eq!(lines(&dir.join(format!("q{n}.completions"))).len(), 1, "{backend}: q{n} ran once");
    }

    // SIGTERM: the running task finishes, then the worker leaves.
    let last = enqueue("last");
    let started_b = dir.join(format!("last.started.{}", b.pid()));
    wait_for(&format!("{backend}: worker B to start the last task"), Duration::from_secs(90), || {
        started_b.exists().then_some(())
    });
    let term = std::process::Command::new("kill").args(["-TERM", &b.pid().to_string()]).status().unwrap();
    assert!(term.success());
    wait_for(&format!("{backend}: worker B to say it is stopping"), Duration::from_secs(90), || {
        b.log().contains("stopping: no new tasks").then_some(())
    });
    let mut b = b;
    assert!(b.child.try_wait().unwrap().is_none(), "{backend}: B left with a task running: {}", b.log());
    std::fs::write(dir.join("last.release"), b"").unwrap();
    let status =
        wait_for(&format!("{backend}: worker B to exit"), Duration::from_secs(90), || b.child.try_wait().unwrap());
    assert!(status.success(), "{backend}: {}", b.log());
    let record = succeeded(&last);
    assert_eq!((record.attempts, lines(&dir.join("last.completions")).len()), (1, 1), "{backend}");
    drop(tasks);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_redis_worker_loses_nothing() {
    let Ok(url) = std::env::var("MANOUCHE_TEST_REDIS_URL") else {
        eprintln!("notice: MANOUCHE_TEST_REDIS_URL is not set; the Redis kill test is skipped (.ci/run sets it)");
        return;
    };
    kill_a_worker_mid_task("redis", &url);
}

#[test]
fn a_killed_rabbitmq_worker_loses_nothing() {
    let Ok(url) = std::env::var("MANOUCHE_TEST_AMQP_URL") else {
        eprintln!("notice: MANOUCHE_TEST_AMQP_URL is not set; the RabbitMQ kill test is skipped (.ci/run sets it)");
        return;
    };
    kill_a_worker_mid_task("amqp", &url);
}
