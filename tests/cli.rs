//! The management CLI: in-process with `call_command`, and the shop binary as a real process.

use std::process::Command;

use manouche::management::{Argument, Command as ManagementCommand, CommandContext, CommandError};
use manouche::prelude::*;

use crate::common;

#[test]
fn check_passes_on_a_sound_project() {
    let out = common::project(false).call_command(["check"]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stdout, "System check identified no issues.\n");
}

#[test]
fn check_reports_duplicate_names_and_missing_folders() {
    #[view(GET, name = "same")]
    async fn a() -> &'static str {
        "a"
    }
    #[view(GET, name = "same")]
    async fn b() -> &'static str {
        "b"
    }
    let app = App::new("dup")
        .urls(urlpatterns![manouche::urls::path("a/", a), manouche::urls::path("b/", b)])
        .templates_dir("/no/such/templates")
        .static_dir("/no/such/static");
    let out = Project::new(Settings::for_tests()).app(app).call_command(["check"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("ERROR: the URL name `dup:same` is used by more than one pattern"), "{}", out.stderr);
    assert!(out.stderr.contains("ERROR: template folder /no/such/templates does not exist"), "{}", out.stderr);
    assert!(out.stdout.contains("WARNING: static folder /no/such/static does not exist"), "{}", out.stdout);
    assert!(out.stdout.contains("System check identified 3 issues (2 errors)."), "{}", out.stdout);
}

#[test]
fn check_deploy_runs_djangos_deployment_checks() {
    let out = common::project(true).call_command(["check", "--deploy"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("ERROR: `debug` is true"), "{}", out.stderr);
    assert!(out.stderr.contains("development key"), "the test key is a development key: {}", out.stderr);

    let hardened = "middleware = [\"manouche.security\", \"manouche.sessions\", \"manouche.csrf\"]\n\
                    [security]\nssl_redirect = true\nhsts_seconds = 31536000\nhsts_include_subdomains = true\n\
                    [sessions]\ncookie_secure = true\n[csrf]\ncookie_secure = true\n";
    let deploy = |debug: bool, hosts: &[&str], key: &str, from_file: bool| {
        let mut text = format!("debug = {debug}\nallowed_hosts = {hosts:?}\n");
        let mut env = Vec::new();
        if from_file {
            text.push_str(&format!("secret_key = {key:?}\n"));
        } else {
            env.push(("SECRET_KEY".to_owned(), key.to_owned()));
        }
        text.push_str(hardened);
        let file = std::env::temp_dir().join(format!("manouche-deploy-{}.toml", std::process::id()));
        std::fs::write(&file, text).unwrap();
        let settings = Settings::load_with_env(&file, env).unwrap();
        Project::new(settings).app(common::catalog()).call_command(["check", "--deploy"])
    };
    let strong = "q8Zp3-vX!r7Lm2sK9w_TbY4nH6jD0cF5gA1eU8iO3kPzR7tWx2Vy";
    let good = deploy(false, &["shop.example"], strong, false);
    assert!(good.success(), "{}{}", good.stdout, good.stderr);
    assert_eq!(good.stdout, "System check identified no issues.\n");

    let empty_hosts = deploy(false, &[], strong, false);
    assert_eq!(empty_hosts.code, 1);
    assert!(empty_hosts.stderr.contains("ERROR: `allowed_hosts` is empty"), "{}", empty_hosts.stderr);

    let repeated = deploy(false, &["shop.example"], &"a".repeat(63), false);
    assert_eq!(repeated.code, 1);
    assert!(repeated.stderr.contains("fewer than 5 distinct"), "{}", repeated.stderr);
    let short = deploy(false, &["shop.example"], "kj3h4k5jh6", false);
    assert!(short.stderr.contains("fewer than 50 characters"), "{}", short.stderr);

    let in_file = deploy(false, &["shop.example"], strong, true);
    assert!(in_file.success(), "a warning, not an error: {}", in_file.stderr);
    assert!(in_file.stdout.contains("WARNING: `secret_key` is read from"), "{}", in_file.stdout);

    // The shop's committed settings, as a deployment would run them.
    let shop = Settings::load_with_env(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/manouche.toml"),
        [("MANOUCHE_DEBUG".to_owned(), "false".to_owned())],
    )
    .unwrap();
    let out = example_shop::configure(Project::new(shop)).call_command(["check", "--deploy"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("development key"), "{}", out.stderr);
}

#[test]
fn routes_lists_every_pattern() {
    let out = common::project(false).call_command(["routes"]);
    assert!(out.success(), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("PATTERN"), "{}", out.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/products/{id}/") && l.contains("GET") && l.contains("catalog:product_detail")),
        "{}",
        out.stdout
    );
    assert!(lines.iter().any(|l| l.contains("/api/v1/items/{id}/") && l.contains("catalog:api:item")));
    assert!(lines.iter().any(|l| l.contains("/echo/") && l.contains("GET,POST")));
}

#[test]
fn help_unknown_commands_and_bad_arguments() {
    let project = common::project(false);
    let help = project.call_command(["help"]);
    assert!(help.success());
    for command in ["runserver", "check", "routes", "collectstatic"] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
    let usage = project.call_command(["collectstatic", "--help"]);
    assert!(usage.stdout.starts_with("usage: collectstatic [--clear]"), "{}", usage.stdout);
    let unknown = project.call_command(["migrat"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("unknown command `migrat` (did you mean `migrate`?)"), "{}", unknown.stderr);
    let bad = project.call_command(["routes", "--verbose"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown option `--verbose`"), "{}", bad.stderr);
    let typo = project.call_command(["collectstatic", "--claer"]);
    assert!(typo.stderr.contains("unknown option `--claer` (did you mean `--clear`?)"), "{}", typo.stderr);
    let bad_workers = project.call_command(["runserver", "127.0.0.1:0", "--workers", "lots"]);
    assert_eq!(bad_workers.code, 2);
    assert!(bad_workers.stderr.contains("`--workers` takes a number"), "{}", bad_workers.stderr);
}

#[test]
fn collectstatic_gathers_app_and_project_files() {
    let base = std::env::temp_dir().join(format!("manouche-static-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (app_dir, extra_dir, root) = (base.join("app"), base.join("extra"), base.join("root"));
    std::fs::create_dir_all(app_dir.join("css")).unwrap();
    std::fs::create_dir_all(&extra_dir).unwrap();
    std::fs::write(app_dir.join("css/site.css"), "body{}").unwrap();
    std::fs::write(app_dir.join("logo.svg"), "<svg/>").unwrap();
    std::fs::write(extra_dir.join("logo.svg"), "<svg>project</svg>").unwrap();
    std::fs::write(extra_dir.join("robots.txt"), "User-agent: *").unwrap();
    let mut settings = Settings::for_tests();
    settings.static_dirs = vec![extra_dir.clone()];
    settings.static_root = root.clone();
    let project = Project::new(settings).app(App::new("site").static_dir(&app_dir));
    let out = project.call_command(["collectstatic"]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stdout, format!("3 static files copied to {}.\n", root.display()));
    assert_eq!(std::fs::read_to_string(root.join("css/site.css")).unwrap(), "body{}");
    assert_eq!(
        std::fs::read_to_string(root.join("logo.svg")).unwrap(),
        "<svg>project</svg>",
        "the project's `static_dirs` override an app's file, as Django's finders do"
    );
    std::fs::write(root.join("stale.txt"), "old").unwrap();
    assert!(project.call_command(["collectstatic", "--clear"]).success());
    assert!(!root.join("stale.txt").exists());
    let _ = std::fs::remove_dir_all(&base);
}

#[derive(Debug)]
struct Count;

impl ManagementCommand for Count {
    fn name(&self) -> &'static str {
        "count"
    }
    fn help(&self) -> &'static str {
        "Counts to N."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::required("n", "how far")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let n: u32 = ctx.arg("n").unwrap_or("0").parse().map_err(|_| CommandError::usage("N must be a number"))?;
        let line = (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        ctx.write_line(&line)
    }
}

#[test]
fn apps_add_their_own_commands() {
    let project = Project::new(Settings::for_tests()).app(App::new("counter").command(Count));
    assert_eq!(project.call_command(["count", "3"]).stdout, "1 2 3\n");
    let missing = project.call_command(["count"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("missing argument N"), "{}", missing.stderr);
    let bad = project.call_command(["count", "x"]);
    assert_eq!((bad.code, bad.stderr.as_str()), (2, "error: N must be a number\n"));
    assert!(project.call_command(["help"]).stdout.contains("count"));
}

#[test]
fn the_shop_binary_serves_and_reports_bad_settings() {
    let binary = common::workspace_binary("example_shop", "example_shop");

    let db = std::env::temp_dir().join(format!("manouche-cli-shop-{}.sqlite3", std::process::id()));
    let served = common::runserver_and_get(
        &binary,
        &["--workers", "1"],
        &["/", "/healthz"],
        &[("DATABASE_URL", &format!("sqlite://{}", db.display()))],
    );
    let stdout = &served.stdout;
    assert!(stdout.contains(&format!("Starting development server at http://{}/", served.addr)), "{stdout}");
    let (status, body) = &served.responses[0];
    assert_eq!(*status, 200);
    assert!(body.contains("<h1>Welcome to Manouche Tea &#38; Co.</h1>"), "{body}");
    // Never migrated: the server did not create the database, and the health check says so.
    let (status, health) = &served.responses[1];
    assert_eq!(*status, 503, "{health}");
    assert!(health.contains(r#""status":"unavailable""#) && health.contains("does not exist"), "{health}");
    assert!(!db.exists(), "serving does not create the database file");

    let bad = std::env::temp_dir().join(format!("manouche-bad-{}.toml", std::process::id()));
    std::fs::write(&bad, "workers = \"many\"\n").unwrap();
    let out = Command::new(&binary).arg("check").env("MANOUCHE_SETTINGS", &bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&bad.display().to_string()) && stderr.contains("workers"), "{stderr}");
    let _ = std::fs::remove_file(&bad);

    let out = Command::new(&binary).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_shop_binary_alone_prepares_seeds_and_serves() {
    let binary = common::workspace_binary("example_shop", "example_shop");
    let db = std::env::temp_dir().join(format!("manouche-cli-demo-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", common::free_port()).parse().unwrap();
    let mut child = Command::new(&binary)
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("MANOUCHE_BIND", addr.to_string())
        .env("MANOUCHE_WORKERS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = common::wait_for_server(addr, &mut child);
    let products = up.then(|| common::http_get(addr, "/products/?category=oolong").unwrap());
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(up, "the shop did not start: {stdout}");
    assert!(stdout.contains("Applying shop.0001_initial... OK"), "the migrations ran: {stdout}");
    assert!(stdout.contains("Seeded the catalogue: 29 new rows."), "{stdout}");
    let (status, body) = products.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Tieguanyin") && body.contains("Da Hong Pao"), "{body}");
    let _ = std::fs::remove_file(&db);
}
