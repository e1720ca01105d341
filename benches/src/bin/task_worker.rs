//! The worker process of the task benchmark: a project with the benchmark's trivial task and
//! the settings file `MANOUCHE_SETTINGS` names; `task_worker worker --concurrency N` runs it.

use manouche::prelude::*;

/// The trivial task the benchmark sends: returns its argument.
#[task(name = "bench.echo")]
fn echo(n: u64) -> u64 {
    n
}

fn main() -> std::process::ExitCode {
    let path = std::env::var("MANOUCHE_SETTINGS").unwrap_or_else(|_| "manouche.toml".into());
    Project::from_settings_file(path).app(manouche::tasks::app()).execute()
}
