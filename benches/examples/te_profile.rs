//! Runs one TechEmpower request many times in-process, for a profiler:
//! `valgrind --tool=callgrind target/release/examples/te_profile manouche|reference PATH N`
//! with `DATABASE_URL` a database `te_server prepare` filled. The test client drives Manouche;
//! actix's test service drives the reference.

use manouche::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, path, n) = match args.as_slice() {
        [mode, path, n] => (mode.as_str(), path.as_str(), n.parse::<usize>().unwrap_or(100)),
        _ => {
            eprintln!("usage: te_profile manouche|reference PATH N");
            std::process::exit(2);
        }
    };
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    match mode {
        "manouche" => {
            let text = format!(
                "debug = false\nsecret_key = \"profile-secret-key-0123456789abcdefghijklmnop\"\nallowed_hosts = [\"testserver\"]\n\
                 database_url = \"{url}\"\nmiddleware = []\n"
            );
            let settings = Settings::from_toml_str(&text, ".".as_ref(), std::iter::empty()).expect("settings");
            let client = manouche::test::Client::new(Project::new(settings).app(manouche_bench::techempower::app()))
                .expect("builds");
            for _ in 0..n {
                assert_eq!(client.get(path).send().status(), 200);
            }
        }
        _ => {
            let pool = manouche_bench::reference::pool(&url, 4);
            actix_web::rt::System::new().block_on(async move {
                let app = actix_web::test::init_service(manouche_bench::reference::app(pool)).await;
                for _ in 0..n {
                    let req = actix_web::test::TestRequest::get().uri(path).to_request();
                    let response = actix_web::test::call_service(&app, req).await;
                    assert_eq!(response.status(), 200);
                }
            });
        }
    }
}
