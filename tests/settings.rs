//! Settings: file, environment overrides, and errors naming the key and where it came from.

use manouche::conf::{DatabaseUrl, Error, Origin, Settings};
use manouche::prelude::*;

fn write_settings(text: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("manouche-settings-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("manouche.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn file_values_and_defaults() {
    let (dir, file) = write_settings("debug = true\nallowed_hosts = [\"shop.example\"]\nworkers = 3\n");
    let settings = Settings::load_with_env(&file, env(&[])).unwrap();
    assert!(settings.debug);
    assert_eq!(settings.allowed_hosts, ["shop.example"]);
    assert_eq!(settings.workers, 3);
    assert_eq!(settings.bind, "127.0.0.1:8000");
    assert_eq!(settings.static_url, "/static/");
    assert_eq!(
        settings.database_url,
        DatabaseUrl::Sqlite(dir.join("db.sqlite3")),
        "the default database sits beside the file"
    );
    assert_eq!(
        settings.middleware,
        ["manouche.security", "manouche.csrf", "manouche.logging"],
        "CSRF protection is on by default"
    );
    assert_eq!(settings.source.as_deref(), Some(file.as_path()));
}

#[test]
fn environment_overrides_the_file() {
    let (dir, file) = write_settings("debug = true\nbind = \"127.0.0.1:8000\"\n");
    let settings = Settings::load_with_env(
        &file,
        env(&[
            ("MANOUCHE_DEBUG", "false"),
            ("MANOUCHE_BIND", "0.0.0.0:9000"),
            ("MANOUCHE_ALLOWED_HOSTS", "a.example, b.example"),
            ("DATABASE_URL", "sqlite://data/shop.sqlite3"),
            ("SECRET_KEY", "from-the-environment"),
        ]),
    )
    .unwrap();
    assert!(!settings.debug);
    assert_eq!(settings.bind, "0.0.0.0:9000");
    assert_eq!(settings.allowed_hosts, ["a.example", "b.example"]);
    assert_eq!(settings.database_url, DatabaseUrl::Sqlite(dir.join("data/shop.sqlite3")));
    assert_eq!(settings.secret_key.unwrap().expose(), "from-the-environment");
}

#[test]
fn database_urls() {
    let memory = Settings::from_toml_str("database_url = \"sqlite::memory:\"", "/p".as_ref(), env(&[])).unwrap();
    assert_eq!(memory.database_url, DatabaseUrl::SqliteMemory);
    let pg =
        Settings::from_toml_str("", "/p".as_ref(), env(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")]))
            .unwrap();
    assert_eq!(pg.database_url, DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:5432/test".into()));
    let bad = Settings::from_toml_str("", "/p".as_ref(), env(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
    match bad {
        Error::Invalid { key, origin, message } => {
            assert_eq!(key, "database_url");
            assert_eq!(origin, Origin::Env("DATABASE_URL".into()));
            assert!(message.contains("expected `sqlite://PATH`"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn errors_name_the_key_and_its_origin() {
    let (_, file) = write_settings("workers = 0\n");
    let error = Settings::load_with_env(&file, env(&[])).unwrap_err().to_string();
    assert!(error.contains("`workers`") && error.contains(&file.display().to_string()), "{error}");

    let (_, file) = write_settings("static_url = \"static\"\n");
    let error = Settings::load_with_env(&file, env(&[])).unwrap_err().to_string();
    assert!(error.contains("`static_url`") && error.contains("must start and end with `/`"), "{error}");

    let (_, file) = write_settings("debug = \"yes please\"\n");
    let error = Settings::load_with_env(&file, env(&[])).unwrap_err().to_string();
    assert!(error.contains("debug") && error.contains("manouche.toml"), "{error}");

    let (_, file) = write_settings("deubg = true\n");
    let error = Settings::load_with_env(&file, env(&[])).unwrap_err().to_string();
    assert!(error.contains("unknown field `deubg`"), "{error}");

    let (_, file) = write_settings("");
    let error = Settings::load_with_env(&file, env(&[("MANOUCHE_DEBUG", "maybe")])).unwrap_err().to_string();
    assert_eq!(
        error,
        "invalid value for `debug` from environment variable MANOUCHE_DEBUG: expected `true` or `false`, found `maybe`"
    );

    let error = Settings::load_with_env("/no/such/manouche.toml", env(&[])).unwrap_err().to_string();
    assert!(error.starts_with("cannot read settings file /no/such/manouche.toml"), "{error}");
}

#[test]
fn production_without_a_secret_key_refuses_to_serve() {
    let (_, file) = write_settings("debug = false\nallowed_hosts = [\"shop.example\"]\n");
    let settings = Settings::load_with_env(&file, env(&[])).unwrap();
    let error = settings.validate_for_serving().unwrap_err().to_string();
    assert!(error.contains("`secret_key` is required when `debug` is false"), "{error}");

    let project = Project::new(settings).app(crate::common::catalog());
    let out = project.call_command(["runserver", "127.0.0.1:0"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("`secret_key` is required"), "{}", out.stderr);
    let check = project.call_command(["check"]);
    assert_eq!(check.code, 1);
}

#[test]
fn app_settings_sections() {
    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(default)]
    struct Shop {
        currency: String,
    }
    let settings = Settings::from_toml_str("[apps.shop]\ncurrency = \"EUR\"\n", "/p".as_ref(), env(&[])).unwrap();
    assert_eq!(settings.app_settings::<Shop>("shop").unwrap(), Shop { currency: "EUR".into() });
    assert_eq!(settings.app_settings::<Shop>("blog").unwrap(), Shop::default());
    let bad = Settings::from_toml_str("[apps.shop]\ncurrency = 3\n", "/p".as_ref(), env(&[])).unwrap();
    assert!(bad.app_settings::<Shop>("shop").unwrap_err().to_string().contains("[apps.shop]"));
}

/// A section of the tests' own, as the sessions, CSRF and cache sections are the framework's.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Newsletter {
    sender: String,
    batch_size: u32,
    send_on: Vec<String>,
}

impl Default for Newsletter {
    fn default() -> Self {
        Newsletter { sender: "news@localhost".into(), batch_size: 100, send_on: vec!["monday".into()] }
    }
}

impl manouche::conf::Section for Newsletter {
    const NAME: &'static str = "newsletter";
    const ENV_PREFIX: &'static str = "NEWSLETTER";
}

manouche::conf::register_section!(Newsletter);

#[test]
fn sections_are_one_struct_with_defaults_file_values_and_the_environment_on_top() {
    let read = |text: &str, vars: &[(&str, &str)]| {
        let (_, file) = write_settings(text);
        let settings = Settings::load_with_env(&file, env(vars)).unwrap();
        (settings.section::<Newsletter>(), file)
    };
    assert_eq!(read("", &[]).0.unwrap(), Newsletter::default(), "no table: every default");
    let (newsletter, _) = read(
        "[newsletter]\nsender = \"tea@shop.example\"\nbatch_size = 20\n",
        &[("MANOUCHE_NEWSLETTER_BATCH_SIZE", "500"), ("MANOUCHE_NEWSLETTER_SEND_ON", "[\"friday\"]")],
    );
    assert_eq!(
        newsletter.unwrap(),
        Newsletter { sender: "tea@shop.example".into(), batch_size: 500, send_on: vec!["friday".into()] },
        "the environment wins over the file"
    );

    // Errors name the section's key and where its value came from.
    let (bad, _) = read("", &[("MANOUCHE_NEWSLETTER_BATCH_SIZE", "lots")]);
    let Err(Error::InvalidSection { section: "newsletter", key, origin: Origin::Env(var), .. }) = bad else {
        panic!("{bad:?}")
    };
    assert_eq!((key.as_str(), var.as_str()), ("batch_size", "MANOUCHE_NEWSLETTER_BATCH_SIZE"));
    let (bad, file) = read("[newsletter]\nbatch_size = -1\n", &[]);
    let text = bad.unwrap_err().to_string();
    assert!(text.starts_with("invalid value for `newsletter.batch_size` from settings file"), "{text}");
    assert!(text.contains(&file.display().to_string()), "{text}");
    let (typo, _) = read("[newsletter]\nsendr = \"x\"\n", &[]);
    assert!(typo.unwrap_err().to_string().contains("`newsletter.sendr`"), "an unknown key is named");
    let (typo, _) = read("", &[("MANOUCHE_NEWSLETTER_SENDR", "x")]);
    let text = typo.unwrap_err().to_string();
    assert!(text.contains("`newsletter.sendr`") && text.contains("MANOUCHE_NEWSLETTER_SENDR"), "{text}");

    // A table no section registers is an unknown key of the file, as a misspelled key is.
    let (_, file) = write_settings("[newsleter]\nsender = \"x\"\n");
    let text = Settings::load_with_env(&file, env(&[])).unwrap_err().to_string();
    assert!(text.contains("newsleter"), "{text}");

    // `check` reads every registered section.
    let (_, file) = write_settings("debug = true\n[newsletter]\nbatch_size = \"many\"\n");
    let project = Project::new(Settings::load_with_env(&file, env(&[])).unwrap());
    let check = project.call_command(["check"]);
    assert!(!check.success() && check.stderr.contains("`newsletter.batch_size`"), "{}{}", check.stdout, check.stderr);
}
