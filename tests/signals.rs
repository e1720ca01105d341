//! Signals: connect/send/disconnect, compile-time receivers, request lifecycle signals.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use manouche::prelude::*;
use manouche::signals::{GOT_REQUEST_EXCEPTION, REQUEST_FINISHED, REQUEST_STARTED, Signal};

use crate::common;

#[derive(Debug)]
pub struct Restocked {
    pub sku: &'static str,
}

pub static RESTOCKED: Signal<Restocked> = Signal::new("tests.restocked");

static COMPILED_CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[receiver(RESTOCKED)]
fn first_receiver(event: &Restocked) {
    COMPILED_CALLS.lock().unwrap().push(format!("first {}", event.sku));
}

#[receiver(RESTOCKED)]
fn second_receiver(event: &Restocked) {
    COMPILED_CALLS.lock().unwrap().push(format!("second {}", event.sku));
}

#[test]
fn compile_time_receivers_run_in_source_order_then_runtime_ones() {
    let log = std::sync::Arc::new(Mutex::new(Vec::new()));
    let runtime_log = log.clone();
    let id = RESTOCKED.connect(move |event| runtime_log.lock().unwrap().push(event.sku));
    COMPILED_CALLS.lock().unwrap().clear();
    assert_eq!(RESTOCKED.send(&Restocked { sku: "TEA-1" }), 3);
    assert_eq!(*COMPILED_CALLS.lock().unwrap(), ["first TEA-1", "second TEA-1"]);
    assert_eq!(*log.lock().unwrap(), ["TEA-1"]);
    assert!(RESTOCKED.disconnect(id));
    assert!(!RESTOCKED.disconnect(id), "disconnecting twice reports false");
    assert_eq!(RESTOCKED.send(&Restocked { sku: "TEA-2" }), 2);
}

#[test]
fn custom_signals_without_receivers_do_nothing() {
    static QUIET: Signal<u32> = Signal::new("quiet");
    assert!(!QUIET.has_receivers());
    assert_eq!(QUIET.send(&1), 0);
    assert_eq!(QUIET.name(), "quiet");
}

#[test]
fn request_signals_follow_the_lifecycle() {
    // Other tests run in parallel: record only this test's paths.
    let events = std::sync::Arc::new(Mutex::new(Vec::new()));
    let (a, b, c) = (events.clone(), events.clone(), events.clone());
    let started = REQUEST_STARTED.connect(move |e| {
        if e.path.starts_with("/products/777") || e.path == "/fails/" {
            a.lock().unwrap().push(format!("started {}", e.path));
        }
    });
    let finished = REQUEST_FINISHED.connect(move |e| {
        if e.path.starts_with("/products/777") || e.path == "/fails/" {
            b.lock().unwrap().push(format!("finished {} {}", e.path, e.status));
        }
    });
    let failed = GOT_REQUEST_EXCEPTION.connect(move |e| {
        if e.path == "/fails/" {
            c.lock().unwrap().push(format!("exception {} panicked={}", e.error, e.panicked));
        }
    });
    let client = common::client(false);
    client.get("/products/777/").send();
    client.get("/fails/").send();
    REQUEST_STARTED.disconnect(started);
    REQUEST_FINISHED.disconnect(finished);
    GOT_REQUEST_EXCEPTION.disconnect(failed);
    assert_eq!(
        *events.lock().unwrap(),
        [
            "started /products/777/",
            "finished /products/777/ 200",
            "started /fails/",
            "exception database on fire panicked=false",
            "finished /fails/ 500",
        ]
    );
}

#[test]
fn panics_send_got_request_exception() {
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let id = GOT_REQUEST_EXCEPTION.connect(|e| {
        if e.path == "/explode/signals/" && e.panicked && e.error == "exploded signals" {
            SEEN.fetch_add(1, Ordering::SeqCst);
        }
    });
    common::client(false).get("/explode/signals/").send();
    GOT_REQUEST_EXCEPTION.disconnect(id);
    assert_eq!(SEEN.load(Ordering::SeqCst), 1);
}
