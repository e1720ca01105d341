//! The worker: `cargo run -- worker [--queues a,b] [--concurrency N]`, or [`Worker::run`] from
//! code. Each of its threads claims a task, runs it and concludes it; a heartbeat thread keeps
//! running tasks visible as alive; a scheduler thread enqueues periodic tasks, once per tick
//! across all workers. Stopping (SIGTERM, [`WorkerStop::stop`]) stops claiming and lets running
//! tasks finish within the shutdown timeout; what is left unfinished is delivered again later.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::execute::{self, Outcome};
use super::{Claim, TaskOptions, Tasks, TasksError};
use crate::context::Ambient;

/// How a worker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// The queues it takes tasks from.
    pub queues: Vec<String>,
    /// Tasks it runs at once.
    pub concurrency: usize,
    /// How long running tasks get to finish once it is told to stop.
    pub shutdown_timeout: Duration,
    /// Whether it enqueues periodic tasks (on by default).
    pub scheduler: bool,
    /// Its name in results and logs (default: `worker-<pid>-<random>`).
    pub name: Option<String>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            queues: vec!["default".to_owned()],
            concurrency: 2,
            shutdown_timeout: Duration::from_secs(30),
            scheduler: true,
            name: None,
        }
    }
}

impl WorkerOptions {
    /// The options the `[tasks]` settings give: concurrency and shutdown timeout, and every queue
    /// the settings list (`default` when they list none).
    pub fn from_settings(settings: &super::TaskSettings) -> Self {
        WorkerOptions {
            queues: if settings.queues.is_empty() { vec!["default".to_owned()] } else { settings.queues.clone() },
            concurrency: settings.concurrency.max(1),
            shutdown_timeout: Duration::from_secs(settings.shutdown_timeout),
            ..WorkerOptions::default()
        }
    }

    /// Takes tasks from `queues`.
    #[must_use]
    pub fn queues<S: Into<String>>(mut self, queues: impl IntoIterator<Item = S>) -> Self {
        self.queues = queues.into_iter().map(Into::into).collect();
        self
    }

    /// Runs `n` tasks at once.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Gives running tasks `timeout` to finish when stopping.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Enqueues periodic tasks, or not.
    #[must_use]
    pub fn scheduler(mut self, on: bool) -> Self {
        self.scheduler = on;
        self
    }

    /// Names the worker.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Tells a running worker to stop (from another thread, a signal handler, a test).
#[derive(Debug, Clone, Default)]
pub struct WorkerStop(Arc<AtomicBool>);

impl WorkerStop {
    /// Stops claiming; running tasks finish within the shutdown timeout.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether it was told to stop.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Attempts run.
    pub attempts: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Tasks still running when the shutdown timeout passed (delivered again later).
    pub abandoned: u64,
}

/// A worker for a project's task backend.
#[derive(Debug)]
pub struct Worker {
    tasks: Tasks,
    ambient: Option<Ambient>,
    options: WorkerOptions,
    stop: WorkerStop,
    id: String,
}

struct Shared {
    in_flight: Mutex<HashMap<String, Claim>>,
    attempts: AtomicU64,
    failed: AtomicU64,
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 3];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Worker {
    /// A worker on the current project's backend ([`super::tasks()`]), running tasks with its
    /// database, settings and caches.
    pub fn new(options: WorkerOptions) -> Self {
        Worker::with_tasks(super::tasks(), options)
    }

    /// A worker on `tasks`.
    pub fn with_tasks(tasks: Tasks, options: WorkerOptions) -> Self {
        let id = options.name.clone().unwrap_or_else(|| format!("worker-{}-{}", std::process::id(), random_suffix()));
        Worker { tasks, ambient: super::current_ambient(), options, stop: WorkerStop::default(), id }
    }

    /// Its name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A handle that stops it.
    pub fn stopper(&self) -> WorkerStop {
        self.stop.clone()
    }

    /// Runs until stopped; returns once running tasks finished or the shutdown timeout passed.
    ///
    /// # Errors
    ///
    /// [`TasksError::Invalid`] when the backend has no queue to work on (`immediate`, `dummy`)
    /// or no queue is given.
    pub fn run(&self) -> Result<WorkerReport, TasksError> {
        let kind = self.tasks.broker().kind();
        if matches!(kind, "immediate" | "dummy") {
            return Err(TasksError::Invalid(format!(
                "the {kind} backend keeps no queue for a worker; set `tasks.backend` to database, redis or amqp"
            )));
        }
        if self.options.queues.is_empty() {
            return Err(TasksError::Invalid("the worker was given no queue".into()));
        }
        log::info!(
            target: "manouche.tasks",
            "worker {} on the {kind} backend: queues {}, concurrency {}",
            self.id, self.options.queues.join(","), self.options.concurrency
        );
        let shared = Arc::new(Shared {
            in_flight: Mutex::new(HashMap::new()),
            attempts: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        });
        let (done_sender, done) = std::sync::mpsc::channel::<()>();
        let mut threads = 0;
        for n in 0..self.options.concurrency {
            let (tasks, ambient, stop, shared, sender) =
                (self.tasks.clone(), self.ambient.clone(), self.stop.clone(), Arc::clone(&shared), done_sender.clone());
            let (queues, id) = (self.options.queues.clone(), self.id.clone());
            let spawned = std::thread::Builder::new().name(format!("manouche-worker-{n}")).spawn(move || {
                crate::context::enter(ambient, || executor(&tasks, &queues, &id, &stop, &shared));
                let _ = sender.send(());
            });
            match spawned {
                Ok(_) => threads += 1,
                Err(error) => log::error!(target: "manouche.tasks", "cannot start a worker thread: {error}"),
            }
        }
        drop(done_sender);
        let background = {
            let (tasks, ambient, stop, shared, id) =
                (self.tasks.clone(), self.ambient.clone(), self.stop.clone(), Arc::clone(&shared), self.id.clone());
            let scheduler = self.options.scheduler;
            std::thread::Builder::new().name("manouche-worker-clock".into()).spawn(move || {
                crate::context::enter(ambient, || clock(&tasks, &id, &stop, &shared, scheduler));
            })
        };
        // Wait for the stop, then for the executors, up to the shutdown timeout.
        let mut finished = 0;
        while !self.stop.is_stopped() && finished < threads {
            if done.recv_timeout(Duration::from_millis(200)).is_ok() {
                finished += 1;
            }
        }
        let running = shared.in_flight.lock().unwrap_or_else(PoisonError::into_inner).len();
        if running > 0 {
            log::info!(
                target: "manouche.tasks",
                "worker {} stopping: {running} running task(s) get up to {:?} to finish",
                self.id, self.options.shutdown_timeout
            );
        }
        let deadline = Instant::now() + self.options.shutdown_timeout;
        while finished < threads {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || done.recv_timeout(left).is_err() {
                break;
            }
            finished += 1;
        }
        let abandoned = shared.in_flight.lock().unwrap_or_else(PoisonError::into_inner).len() as u64;
        if abandoned > 0 {
            log::warn!(
                target: "manouche.tasks",
                "worker {}: {abandoned} task(s) still running past the shutdown timeout; they will be delivered again",
                self.id
            );
        }
        if let Ok(handle) = background
            && abandoned == 0
        {
            let _ = handle.join();
        }
        log::info!(target: "manouche.tasks", "worker {} stopped", self.id);
        Ok(WorkerReport {
            attempts: shared.attempts.load(Ordering::Relaxed),
            failed: shared.failed.load(Ordering::Relaxed),
            abandoned,
        })
    }
}

/// One executor thread: claim, run, conclude, until stopped.
fn executor(tasks: &Tasks, queues: &[String], worker: &str, stop: &WorkerStop, shared: &Shared) {
    let runtime = match execute::new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            log::error!(target: "manouche.tasks", "worker {worker}: cannot start a runtime: {error}");
            return;
        }
    };
    let mut pause = Duration::from_millis(100);
    while !stop.is_stopped() {
        let claim = match tasks.broker().claim(queues, worker, Duration::from_secs(1)) {
            Ok(Some(claim)) => claim,
            Ok(None) => continue,
            Err(error) => {
                log::error!(target: "manouche.tasks", "worker {worker}: {error}; trying again in {pause:?}");
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        pause = Duration::from_millis(100);
        if stop.is_stopped() {
            if let Err(error) = tasks.broker().release(&claim) {
                log::warn!(target: "manouche.tasks", "worker {worker}: could not give back task {}: {error}", claim.message.id);
            }
            break;
        }
        let key = format!("{}#{}", claim.message.id, claim.receipt);
        shared.in_flight.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone(), claim.clone());
        let outcome = execute::attempt(tasks, &claim, worker, Some(&runtime));
        shared.attempts.fetch_add(1, Ordering::Relaxed);
        if !matches!(&outcome, Outcome::Finished(record) if record.status == super::TaskStatus::Successful) {
            shared.failed.fetch_add(1, Ordering::Relaxed);
        }
        // Concluding must not be lost to a passing outage: the task ran.
        let mut wait = Duration::from_millis(100);
        loop {
            match execute::conclude(tasks, &claim, &outcome) {
                Ok(()) => break,
                Err(error) if wait < Duration::from_secs(10) => {
                    log::warn!(target: "manouche.tasks", "task {}: could not store its outcome ({error}); again in {wait:?}", claim.message.id);
                    std::thread::sleep(wait);
                    wait *= 2;
                }
                Err(error) => {
                    log::error!(target: "manouche.tasks", "task {}: outcome lost ({error}); it will be delivered again", claim.message.id);
                    break;
                }
            }
        }
        shared.in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
    }
}

/// Heartbeats for running tasks and the periodic scheduler, about once a second.
fn clock(tasks: &Tasks, worker: &str, stop: &WorkerStop, shared: &Shared, scheduler: bool) {
    let heartbeat_every = tasks.settings().visibility() / 3;
    let mut last_heartbeat = Instant::now();
    let mut last_ticks: HashMap<&'static str, i64> = HashMap::new();
    loop {
        let running: Vec<Claim> =
            shared.in_flight.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        if stop.is_stopped() && running.is_empty() {
            return;
        }
        if last_heartbeat.elapsed() >= heartbeat_every {
            last_heartbeat = Instant::now();
            for claim in &running {
                if let Err(error) = tasks.broker().heartbeat(claim, worker) {
                    log::warn!(target: "manouche.tasks", "task {}: heartbeat failed: {error}", claim.message.id);
                }
            }
        }
        if scheduler && !stop.is_stopped() {
            schedule(tasks, &mut last_ticks);
        }
        let now = chrono::Utc::now();
        let to_next_second = Duration::from_millis(1000 - u64::from(now.timestamp_subsec_millis().min(999)));
        std::thread::sleep(to_next_second.min(heartbeat_every.max(Duration::from_millis(50))));
    }
}

/// Enqueues each periodic task whose tick has come, if this worker is the first to claim it.
fn schedule(tasks: &Tasks, last_ticks: &mut HashMap<&'static str, i64>) {
    let now = chrono::Utc::now();
    for def in super::registered() {
        let Some(schedule) = def.spec.schedule else { continue };
        let Some(tick) = schedule.tick(now) else { continue };
        if last_ticks.get(def.spec.name) == Some(&tick) {
            continue;
        }
        match tasks.broker().claim_tick(def.spec.name, tick, schedule.tick_length()) {
            Ok(true) => {
                last_ticks.insert(def.spec.name, tick);
                // A periodic task takes no arguments: its result shows the tick instead.
                let args = serde_json::json!({ "periodic_tick": tick });
                match tasks.enqueue_raw(&def.spec, &TaskOptions::DEFAULT, args) {
                    Ok(record) => log::info!(
                        target: "manouche.tasks",
                        "periodic task {} ({schedule}) enqueued as {}", def.spec.name, record.id
                    ),
                    Err(error) => log::error!(target: "manouche.tasks", "periodic task {}: {error}", def.spec.name),
                }
            }
            Ok(false) => {
                last_ticks.insert(def.spec.name, tick);
            }
            Err(error) => log::warn!(target: "manouche.tasks", "periodic task {}: {error}", def.spec.name),
        }
    }
}
