//! Running one attempt of a task (shared by the immediate backend and the worker): the
//! status change, signals, the time limit, panics, the retry decision and the log line.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    AttemptError, Claim, ResultRecord, Runner, TASK_FINISHED, TASK_STARTED, TaskContext, TaskDef, TaskError,
    TaskMessage, TaskStatus, Tasks, now_millis, send,
};

/// What became of an attempt.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Finished (successfully or for good): the final record.
    Finished(ResultRecord),
    /// Failed with retries left: the message to send again.
    Retry(TaskMessage, ResultRecord),
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn time_limit_error(limit: Duration) -> TaskError {
    TaskError::of_kind("time_limit", format!("the attempt ran past its time limit of {limit:?}"), false)
}

/// Runs the task's function once, on this thread (a sync task) or on `runtime` (an async one;
/// a fresh thread with its own runtime when none is given), within its time limit. A panic is
/// an error of kind `panic`.
pub(crate) fn call(
    def: &TaskDef,
    ctx: TaskContext,
    args: Value,
    runtime: Option<&tokio::runtime::Runtime>,
) -> Result<Value, TaskError> {
    let limit = def.spec.time_limit;
    match def.runner {
        Runner::Sync(f) => match limit {
            None => {
                let inner = ctx.clone();
                catch_unwind(AssertUnwindSafe(|| ctx.enter(|| f(inner, args))))
                    .unwrap_or_else(|panic| Err(TaskError::of_kind("panic", panic_message(&*panic), false)))
            }
            Some(limit) => {
                // A thread cannot be stopped from outside: past the limit the attempt is failed
                // and the thread left to finish in the background (Celery's soft limit).
                let (sender, receiver) = std::sync::mpsc::channel();
                let spawned = std::thread::Builder::new().name("manouche-task".into()).spawn(move || {
                    let inner = ctx.clone();
                    let result = catch_unwind(AssertUnwindSafe(|| ctx.enter(|| f(inner, args))))
                        .unwrap_or_else(|panic| Err(TaskError::of_kind("panic", panic_message(&*panic), false)));
                    let _ = sender.send(result);
                });
                if let Err(error) = spawned {
                    return Err(TaskError::new(format!("cannot start a thread for the task: {error}")));
                }
                receiver.recv_timeout(limit).unwrap_or_else(|_| Err(time_limit_error(limit)))
            }
        },
        Runner::Async(f) => {
            let run = |runtime: &tokio::runtime::Runtime| {
                let ambient = ctx.clone();
                runtime.block_on(async move {
                    let handle = tokio::spawn(crate::context::scope_optional(ambient.ambient_handle(), f(ctx, args)));
                    let joined = match limit {
                        Some(limit) => {
                            let abort = handle.abort_handle();
                            match tokio::time::timeout(limit, handle).await {
                                Ok(joined) => joined,
                                Err(_) => {
                                    abort.abort();
                                    return Err(time_limit_error(limit));
                                }
                            }
                        }
                        None => handle.await,
                    };
                    match joined {
                        Ok(result) => result,
                        Err(join) if join.is_panic() => {
                            Err(TaskError::of_kind("panic", panic_message(&*join.into_panic()), false))
                        }
                        Err(join) => Err(TaskError::new(join)),
                    }
                })
            };
            match runtime {
                Some(runtime) => run(runtime),
                None => std::thread::scope(|scope| {
                    scope
                        .spawn(|| match new_runtime() {
                            Ok(runtime) => run(&runtime),
                            Err(error) => Err(TaskError::new(format!("cannot start a runtime for the task: {error}"))),
                        })
                        .join()
                        .unwrap_or_else(|panic| Err(TaskError::of_kind("panic", panic_message(&*panic), false)))
                }),
            }
        }
    }
}

/// A runtime for async tasks on one thread.
pub(crate) fn new_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Runs one attempt of `claim`'s task and decides what follows; stores nothing.
pub(crate) fn attempt(
    tasks: &Tasks,
    claim: &Claim,
    worker: &str,
    runtime: Option<&tokio::runtime::Runtime>,
) -> Outcome {
    let mut message = claim.message.clone();
    if claim.redelivered {
        // The worker of an earlier attempt died with it: the stored result knows of it.
        if let Ok(Some(stored)) = tasks.broker.get(&message.id)
            && stored.attempts > message.attempts
        {
            message.errors = stored.errors;
            for lost in message.attempts + 1..=stored.attempts {
                message.errors.push(AttemptError {
                    attempt: lost,
                    kind: "worker_lost".into(),
                    message: "the worker running this attempt stopped before it finished".into(),
                });
            }
            message.attempts = stored.attempts;
            message.worker_ids = stored.worker_ids;
        }
    }
    let message = &message;
    let number = message.attempts + 1;
    let mut record = ResultRecord::ready(message);
    record.status = TaskStatus::Running;
    record.attempts = number;
    record.started_at = Some(now_millis());
    record.worker_ids.push(worker.to_owned());
    if let Err(error) = tasks.broker.started(claim, &record) {
        log::warn!(target: "manouche.tasks", "task {} [{}]: could not record its start: {error}", message.task, message.id);
    }
    send(&TASK_STARTED, &record, tasks.broker.kind());
    let started = Instant::now();
    let ctx = TaskContext::new(super::current_ambient(), message, number);
    let def = super::find(&message.task);
    let result = match def {
        Some(def) => call(def, ctx, message.args.clone(), runtime),
        None => Err(TaskError::of_kind(
            "unknown_task",
            format!("no task `{}` is registered in this program", message.task),
            true,
        )),
    };
    let elapsed = started.elapsed();
    match result {
        Ok(value) => {
            log::info!(
                target: "manouche.tasks",
                "task {} [{}] succeeded in {:.1} ms (attempt {number})",
                message.task, message.id, elapsed.as_secs_f64() * 1000.0
            );
            record.status = TaskStatus::Successful;
            record.return_value = Some(value);
            record.finished_at = Some(now_millis());
            Outcome::Finished(record)
        }
        Err(error) => {
            record.errors.push(AttemptError {
                attempt: number,
                kind: error.kind.clone(),
                message: error.message.clone(),
            });
            let retries_left = def.is_some_and(|def| number <= def.spec.max_retries);
            if retries_left && !error.permanent {
                let delay = def.map_or(Duration::ZERO, |def| def.spec.retry_delay(number + 1));
                log::warn!(
                    target: "manouche.tasks",
                    "task {} [{}] failed in {:.1} ms (attempt {number}): {}; retrying in {:.1} s",
                    message.task, message.id, elapsed.as_secs_f64() * 1000.0, error.message, delay.as_secs_f64()
                );
                let mut next = message.clone();
                next.attempts = number;
                next.run_after = now_millis().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                next.errors = record.errors.clone();
                next.worker_ids = record.worker_ids.clone();
                record.status = TaskStatus::Ready;
                Outcome::Retry(next, record)
            } else {
                log::error!(
                    target: "manouche.tasks",
                    "task {} [{}] failed in {:.1} ms (attempt {number}, no retries left): {}",
                    message.task, message.id, elapsed.as_secs_f64() * 1000.0, error.message
                );
                record.status = TaskStatus::Failed;
                record.finished_at = Some(now_millis());
                Outcome::Finished(record)
            }
        }
    }
}

/// Stores what became of an attempt and acknowledges the claim; sends `task_finished` once the
/// task is done.
pub(crate) fn conclude(tasks: &Tasks, claim: &Claim, outcome: &Outcome) -> Result<(), super::TasksError> {
    match outcome {
        Outcome::Finished(record) => {
            tasks.broker.finish(claim, record)?;
            send(&TASK_FINISHED, record, tasks.broker.kind());
        }
        Outcome::Retry(message, record) => tasks.broker.retry(claim, message, record)?,
    }
    Ok(())
}

/// The immediate backend: every attempt at once, retries without waiting, on this thread.
pub(crate) fn run_in_place(tasks: &Tasks, message: TaskMessage) -> ResultRecord {
    let mut claim = Claim { message, receipt: String::new(), redelivered: false };
    loop {
        let outcome = attempt(tasks, &claim, "immediate", None);
        if let Err(error) = conclude(tasks, &claim, &outcome) {
            log::warn!(target: "manouche.tasks", "task {}: {error}", claim.message.id);
        }
        match outcome {
            Outcome::Finished(record) => return record,
            Outcome::Retry(mut next, _) => {
                next.run_after = 0;
                claim = Claim { message: next, receipt: String::new(), redelivered: false };
            }
        }
    }
}
