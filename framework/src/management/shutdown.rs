//! How `runserver` stops: SIGINT (CONTROL-C) and SIGTERM drain in-flight requests within the
//! shutdown timeout; a second SIGINT, or SIGQUIT, stops at once.
//!
//! actix-server's own handling forces a stop on SIGINT, dropping requests in flight with no
//! answer; the server is started with its signals disabled and this task handles them instead.

use actix_web::dev::ServerHandle;

#[cfg(unix)]
#[derive(Clone, Copy, PartialEq)]
enum Received {
    Interrupt,
    Terminate,
    Quit,
}

/// The next of the signals to arrive.
#[cfg(unix)]
async fn next(signals: &mut [(&mut actix_web::rt::signal::unix::Signal, Received); 3]) -> Received {
    std::future::poll_fn(|cx| {
        for (signal, kind) in signals.iter_mut() {
            if signal.poll_recv(cx).is_ready() {
                return std::task::Poll::Ready(*kind);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Waits for signals and stops the server as described in the module docs.
#[cfg(unix)]
pub(super) async fn on_signals(handle: ServerHandle, grace_seconds: u64) {
    use actix_web::rt::signal::unix::{SignalKind, signal};

    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut quit)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()), signal(SignalKind::quit()))
    else {
        log::error!(target: "manouche.server", "cannot listen for signals; stop the server with SIGKILL");
        return;
    };
    let mut signals =
        [(&mut interrupt, Received::Interrupt), (&mut terminate, Received::Terminate), (&mut quit, Received::Quit)];
    let first = next(&mut signals).await;
    if first == Received::Quit {
        log::warn!(target: "manouche.server", "SIGQUIT: stopping at once");
        handle.stop(false).await;
        return;
    }
    log::info!(
        target: "manouche.server",
        "shutting down: requests in flight get up to {grace_seconds} s to finish (CONTROL-C again stops at once)"
    );
    // The server works through one stop command at a time, so a forced stop cannot be queued
    // behind the graceful one: the process leaves instead.
    actix_web::rt::spawn(handle.stop(true));
    loop {
        let again = next(&mut signals).await;
        if again != Received::Terminate {
            log::warn!(target: "manouche.server", "second signal: stopping at once");
            std::process::exit(130);
        }
    }
}

/// Elsewhere: CONTROL-C drains, a second one stops at once.
#[cfg(not(unix))]
pub(super) async fn on_signals(handle: ServerHandle, grace_seconds: u64) {
    if actix_web::rt::signal::ctrl_c().await.is_err() {
        return;
    }
    log::info!(target: "manouche.server", "shutting down: requests in flight get up to {grace_seconds} s to finish");
    actix_web::rt::spawn(handle.stop(true));
    if actix_web::rt::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}
