//! Serves the TechEmpower tests: `te_server manouche|manouche-stack|reference ADDR` with
//! `DATABASE_URL` (PostgreSQL) in the environment; `te_server prepare` fills the database.
//! Two workers and 16 database connections each way.

use std::process::ExitCode;

use manouche::prelude::*;

const WORKERS: usize = 2;
const POOL: u32 = 16;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("error: set DATABASE_URL to a PostgreSQL database");
        return ExitCode::from(2);
    };
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["prepare"] => {
            let parsed = match manouche::conf::DatabaseUrl::parse(&url, ".".as_ref()) {
                Ok(parsed) => parsed,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            };
            let db = manouche::db::Database::connect(&parsed, manouche::db::PoolOptions::default());
            match manouche_bench::techempower::prepare(&db) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        [mode @ ("manouche" | "manouche-stack"), addr] => {
            let middleware = if *mode == "manouche" {
                "[]"
            } else {
                // What `startproject` gives a new project, plus sessions and auth.
                "[\"manouche.security\", \"manouche.sessions\", \"manouche.csrf\", \"manouche.auth\", \"manouche.logging\"]"
            };
            let text = format!(
                "debug = false\nsecret_key = \"techempower-benchmark-secret-key-0123456789abcdef\"\n\
                 allowed_hosts = [\"127.0.0.1\", \"localhost\"]\ndatabase_url = \"{url}\"\ndatabase_pool_size = {POOL}\n\
                 workers = {WORKERS}\nmiddleware = {middleware}\nlog_level = \"info\"\n"
            );
            let settings = match Settings::from_toml_str(&text, ".".as_ref(), std::iter::empty()) {
                Ok(settings) => settings,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            };
            let mut project = Project::new(settings).app(manouche_bench::techempower::app());
            if *mode == "manouche-stack" {
                project = project.app(manouche::sessions::app()).app(manouche::auth::app());
            }
            project.run_command(["runserver", addr])
        }
        ["reference", addr] => {
            let pool = manouche_bench::reference::pool(&url, POOL);
            let addr = addr.to_string();
            let served = actix_web::rt::System::new().block_on(async move {
                actix_web::HttpServer::new(move || manouche_bench::reference::app(pool.clone()))
                    .workers(WORKERS)
                    .bind(addr.as_str())?
                    .run()
                    .await
            });
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: te_server prepare | manouche ADDR | manouche-stack ADDR | reference ADDR");
            ExitCode::from(2)
        }
    }
}
