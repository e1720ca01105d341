//! The project a piece of code runs for, when nothing passes it along: the site serving the
//! current request (a task-local value set around each request), carried into the blocking
//! closures of [`crate::db::Database::run`] (a thread-local value), or set by a task worker for
//! its threads. Code that has no request at hand (a task's `enqueue`, a task's context) finds its
//! project here before falling back to the one built last in the process, so two projects in one
//! process (the tests) never see each other's database.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

/// A handle on the current project's shared state (type-erased: this layer knows no project).
#[derive(Clone)]
pub(crate) struct Ambient(pub(crate) Arc<dyn Any + Send + Sync>);

impl std::fmt::Debug for Ambient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ambient")
    }
}

tokio::task_local! {
    static TASK: Ambient;
}

thread_local! {
    static THREAD: RefCell<Option<Ambient>> = const { RefCell::new(None) };
}

/// The current project: the request's (task-local), else this thread's.
pub(crate) fn current() -> Option<Ambient> {
    TASK.try_with(Clone::clone).ok().or_else(|| THREAD.with(|slot| slot.borrow().clone()))
}

/// Runs `future` with `ambient` as the current project.
pub(crate) async fn scope<F: Future>(ambient: Ambient, future: F) -> F::Output {
    TASK.scope(ambient, future).await
}

/// Runs `f` on this thread with `ambient` (when given) as the current project, restoring the
/// previous one afterwards, even when `f` panics.
pub(crate) fn enter<T>(ambient: Option<Ambient>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Option<Ambient>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                THREAD.with(|slot| *slot.borrow_mut() = previous);
            }
        }
    }
    let _restore = Restore(ambient.map(|ambient| THREAD.with(|slot| slot.borrow_mut().replace(ambient))));
    f()
}

/// Runs `future` with `ambient` as the current project when given.
pub(crate) async fn scope_optional<F: Future>(ambient: Option<Ambient>, future: F) -> F::Output {
    match ambient {
        Some(ambient) => TASK.scope(ambient, future).await,
        None => future.await,
    }
}

/// Runs `f` on the blocking pool with the current project carried over (so code in `f` finds
/// it as a request's code does); a panic in `f` resumes in the caller. `Err` is the pool's own
/// failure (the runtime shutting down), as text for the caller's error type.
pub(crate) async fn spawn_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let ambient = current();
    match actix_web::rt::task::spawn_blocking(move || enter(ambient, f)).await {
        Ok(value) => Ok(value),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(join.to_string()),
    }
}
