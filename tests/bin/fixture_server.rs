//! A small project served by `runserver`, for tests that need a real server process: a view that
//! holds its request until the test allows it to finish, to observe shutdown.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use manouche::prelude::*;
use manouche::urls::path;

#[derive(serde::Deserialize)]
struct Hold {
    /// Created by the view when the request has arrived.
    started: PathBuf,
    /// The view answers once the test creates this file.
    release: PathBuf,
}

/// Waits (without blocking the worker) until the test creates the `release` file.
#[view(GET)]
async fn hold(query: Query<Hold>) -> manouche::Result<String> {
    std::fs::write(&query.started, b"")?;
    // Bounded: a test that never releases still ends.
    for _ in 0..6000 {
        if query.release.exists() {
            return Ok("released".into());
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    Err(manouche::Error::other("never released"))
}

#[view(GET)]
async fn ping() -> &'static str {
    "pong"
}

fn main() -> ExitCode {
    let mut settings = Settings::for_tests();
    settings.debug = false;
    settings.allowed_hosts = vec!["localhost".into(), "127.0.0.1".into()];
    settings.shutdown_timeout_seconds = 60;
    Project::new(settings)
        .app(App::new("fixture").urls(urlpatterns![path("hold/", hold), path("ping/", ping)]))
        .execute()
}
