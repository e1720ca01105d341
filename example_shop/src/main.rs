//! `cargo run -p example_shop` applies pending migrations to the embedded database, seeds it when empty and serves the
//! shop on http://127.0.0.1:8000/; `cargo run -p example_shop -- help` lists the commands.

use std::process::ExitCode;

fn main() -> ExitCode {
    let project = example_shop::project();
    if std::env::args().len() == 1 {
        // The one-command demo: apply pending migrations, seed an empty catalogue, serve.
        for step in ["migrate", "seed"] {
            let code = project.run_command([step]);
            if code != ExitCode::SUCCESS {
                return code;
            }
        }
    }
    project.execute()
}
