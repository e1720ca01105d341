//! Runs one form of the benchmark query many times, for an instruction count that does not
//! depend on the machine's load: `valgrind --tool=callgrind target/release/examples/instructions
//! queryset|diesel|bulk|save|setup|setup-empty`. The README's performance section reports the counts.

use std::process::ExitCode;

fn main() -> ExitCode {
    let form = std::env::args().nth(1).unwrap_or_default();
    let rows = if matches!(form.as_str(), "bulk" | "save" | "setup-empty") { 0 } else { 5_000 };
    let db = manouche_bench::database(rows);
    let outcome = db.run_sync(|conn| {
        for _ in 0..200 {
            match form.as_str() {
                "queryset" => drop(manouche_bench::with_queryset(conn)?),
                "diesel" => drop(manouche_bench::with_diesel(conn)?),
                "bulk" => drop(manouche_bench::insert_bulk(conn, manouche_bench::items(100))?),
                "save" => drop(manouche_bench::insert_one_by_one(conn, manouche_bench::items(100))?),
                // The set-up alone, to subtract: `setup` (5,000 rows) and `setup-empty`.
                "setup" | "setup-empty" => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("usage: instructions queryset|diesel|bulk|save|setup|setup-empty");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
