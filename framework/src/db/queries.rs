//! Every statement a pool's connections run: logged at `debug` (target `manouche.db.sql`, with its
//! duration), and captured on request for tests (Django's `CaptureQueriesContext` and
//! `assertNumQueries`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The statements captured for a pool while a capture is open.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    /// Open captures; statements are only formatted and kept while one is.
    open: AtomicUsize,
    statements: Mutex<Vec<String>>,
}

impl Capture {
    /// Runs `f` and returns the statements run meanwhile on this pool's connections, whatever the
    /// thread. Captures nest: an outer one sees the inner one's statements too.
    pub(crate) fn around<T>(&self, f: impl FnOnce() -> T) -> (T, Vec<String>) {
        let start = {
            let statements = self.statements.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.open.fetch_add(1, Ordering::AcqRel);
            statements.len()
        };
        /// Closes the capture even if `f` panics.
        struct Close<'a>(&'a Capture);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                let mut statements = self.0.statements.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
                    statements.clear();
                }
            }
        }
        let close = Close(self);
        let value = f();
        let captured = {
            let statements = self.statements.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            statements.get(start..).map(<[String]>::to_vec).unwrap_or_default()
        };
        drop(close);
        (value, captured)
    }

    fn record(&self, statement: String) {
        self.statements.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(statement);
    }
}

/// The instrumentation every pooled connection carries.
pub(crate) struct QueryLog {
    pub(crate) capture: std::sync::Arc<Capture>,
    pub(crate) started: Option<Instant>,
}

impl Instrumentation for QueryLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if log::log_enabled!(target: "manouche.db.sql", log::Level::Debug) {
                    self.started = Some(Instant::now());
                }
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                if let Some(started) = self.started.take() {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    match error {
                        None => log::debug!(target: "manouche.db.sql", "({ms:.3} ms) {query}"),
                        Some(error) => {
                            log::debug!(target: "manouche.db.sql", "({ms:.3} ms) {query} -- failed: {error}")
                        }
                    }
                }
                if self.capture.open.load(Ordering::Acquire) > 0 {
                    self.capture.record(query.to_string());
                }
            }
            _ => {}
        }
    }
}
