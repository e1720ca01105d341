//! `cargo run -p example_shop` serves the shop on http://127.0.0.1:8000/;
//! `cargo run -p example_shop -- help` lists the management commands.

fn main() -> std::process::ExitCode {
    example_shop::project().execute()
}
