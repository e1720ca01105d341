//! `worker` and `tasks`: the commands of the `tasks` app.

use std::time::Duration;

use super::{Schedule, Worker, WorkerOptions, WorkerStop};
use crate::management::{Argument, Command, CommandContext, CommandError};

/// Builds the project and runs `f` with its task backend and its state current.
fn with_project<T>(
    ctx: &CommandContext<'_>,
    f: impl FnOnce(super::Tasks) -> Result<T, CommandError>,
) -> Result<T, CommandError> {
    let site = ctx.project().build().map_err(|e| CommandError::new(e.to_string()))?;
    let tasks = site.state.tasks.clone();
    crate::context::enter(Some(site.ambient()), || f(tasks))
}

/// `worker`: runs tasks until SIGTERM or SIGINT.
pub(crate) struct WorkerCommand;

impl Command for WorkerCommand {
    fn name(&self) -> &'static str {
        "worker"
    }
    fn help(&self) -> &'static str {
        "Runs background tasks from the task backend until stopped (SIGTERM lets running tasks finish)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::option(
                "queues",
                "A,B",
                "the queues to take tasks from (default: the settings' queues, or `default`)",
            ),
            Argument::option("concurrency", "N", "tasks run at once (default: `tasks.concurrency`)"),
            Argument::flag("no-scheduler", "do not enqueue periodic tasks from this worker"),
        ]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let settings: super::TaskSettings = ctx.settings()?.section().map_err(|e| CommandError::new(e.to_string()))?;
        let mut options = WorkerOptions::from_settings(&settings).scheduler(!ctx.flag("no-scheduler"));
        if let Some(queues) = ctx.arg("queues") {
            let queues: Vec<&str> = queues.split(',').map(str::trim).filter(|q| !q.is_empty()).collect();
            if queues.is_empty() {
                return Err(CommandError::usage("--queues needs at least one queue name"));
            }
            options = options.queues(queues);
        }
        if let Some(n) = ctx.arg("concurrency") {
            let n: usize =
                n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    CommandError::usage(format!("--concurrency must be a positive number, not `{n}`"))
                })?;
            options = options.concurrency(n);
        }
        crate::project::install_logger(ctx.settings()?.log_level);
        let report = with_project(ctx, |tasks| {
            let worker = Worker::with_tasks(tasks, options);
            watch_signals(worker.stopper(), settings.shutdown_timeout);
            worker.run().map_err(|e| CommandError::new(e.to_string()))
        })?;
        ctx.write_line(&format!(
            "Worker stopped: {} attempt(s), {} failed, {} left to be delivered again.",
            report.attempts, report.failed, report.abandoned
        ))
    }
}

/// Stops `stop` on the first SIGTERM or SIGINT; a second one exits at once.
fn watch_signals(stop: WorkerStop, grace: u64) {
    let spawned = std::thread::Builder::new().name("manouche-signals".into()).spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async move {
            #[cfg(unix)]
            {
                use actix_web::rt::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
                else {
                    log::error!(target: "manouche.tasks", "cannot listen for signals; stop the worker with SIGKILL");
                    return;
                };
                tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
                log::info!(
                    target: "manouche.tasks",
                    "stopping: no new tasks; running ones get up to {grace} s (a second signal stops at once)"
                );
                stop.stop();
                tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
                log::warn!(target: "manouche.tasks", "second signal: stopping at once");
                std::process::exit(1);
            }
            #[cfg(not(unix))]
            {
                let _ = actix_web::rt::signal::ctrl_c().await;
                stop.stop();
            }
        });
    });
    if let Err(error) = spawned {
        log::error!(target: "manouche.tasks", "cannot watch for signals: {error}");
    }
}

/// `tasks`: the registered tasks, queue depths and recent failures.
pub(crate) struct TasksCommand;

fn describe(schedule: Option<Schedule>) -> String {
    schedule.map_or_else(String::new, |s| format!(", {s}"))
}

impl Command for TasksCommand {
    fn name(&self) -> &'static str {
        "tasks"
    }
    fn help(&self) -> &'static str {
        "Lists the registered tasks and, for queued backends, queue depths and recent failures."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::option("purge", "DAYS", "first delete finished results older than DAYS days (database, amqp)")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let purge = match ctx.arg("purge") {
            Some(days) => Some(
                days.parse::<u64>()
                    .map_err(|_| CommandError::usage(format!("--purge takes a number of days, not `{days}`")))?,
            ),
            None => None,
        };
        let mut defs: Vec<_> = super::registered().collect();
        defs.sort_by_key(|def| def.spec.name);
        ctx.write_line(&format!("Registered tasks ({}):", defs.len()))?;
        for def in defs {
            let spec = &def.spec;
            ctx.write_line(&format!(
                "  {} (queue {}, priority {}, max retries {}{}{})",
                spec.name,
                spec.queue,
                spec.priority,
                spec.max_retries,
                spec.time_limit.map_or_else(String::new, |t: Duration| format!(", time limit {} s", t.as_secs_f64())),
                describe(spec.schedule)
            ))?;
        }
        let (kind, purged, stats) = with_project(ctx, |tasks| {
            let kind = tasks.broker().kind();
            let purged = match purge {
                Some(days) => Some(
                    tasks
                        .broker()
                        .purge(Duration::from_secs(days.saturating_mul(86_400)))
                        .map_err(|e| CommandError::new(e.to_string()))?,
                ),
                None => None,
            };
            Ok((kind, purged, tasks.broker().stats()))
        })?;
        ctx.write_line(&format!("Backend: {kind}"))?;
        if let Some(purged) = purged {
            ctx.write_line(&format!("Purged {purged} finished result(s)."))?;
        }
        let stats = stats.map_err(|e| CommandError::new(e.to_string()))?;
        if !matches!(kind, "immediate" | "dummy") {
            ctx.write_line("Queues:")?;
            if stats.queues.is_empty() {
                ctx.write_line("  (none yet)")?;
            }
            for depth in &stats.queues {
                ctx.write_line(&format!("  {}: {} waiting, {} running", depth.queue, depth.waiting, depth.running))?;
            }
        }
        ctx.write_line(&format!("Recent failures ({}):", stats.failures.len()))?;
        for failure in &stats.failures {
            let last = failure.errors.last().map_or("", |e| e.message.as_str());
            ctx.write_line(&format!(
                "  {} [{}] after {} attempt(s): {last}",
                failure.task, failure.id, failure.attempts
            ))?;
        }
        Ok(())
    }
}
