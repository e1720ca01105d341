//! A small project served by `runserver`, for tests that need a real server process: a view that
//! holds its request until the test allows it to finish, to observe shutdown; a rate-limited
//! view and a cached page depending on a model, for tests of two processes sharing a cache
//! (those run with the settings file `MANOUCHE_SETTINGS` names); a task that holds until
//! released, for the tests that kill task workers.

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

/// At most four POSTs an hour per client address, across every process sharing the cache.
#[view(GET, POST, csrf_exempt)]
#[ratelimit(key = "ip", rate = "4/h", method = "POST")]
async fn limited() -> &'static str {
    "within the limit"
}

#[model(app = "fixture")]
pub struct Note {
    #[field(primary_key, auto)]
    pub id: i64,
    pub text: String,
}

/// The notes, cached until a note is saved or deleted, on any server sharing the cache; the
/// process id shows which server computed the page.
#[view(GET)]
#[cache_page(600, depends_on = [Note])]
async fn notes(req: Request) -> manouche::Result<String> {
    let texts: Vec<String> = req
        .db()
        .run(|conn| Note::objects().order_by(Note::id.asc()).values_list(Note::text).all_sync::<String>(conn))
        .await?;
    Ok(format!("{} notes: {} (computed by {})", texts.len(), texts.join(", "), std::process::id()))
}

#[view(POST, csrf_exempt)]
async fn add_note(req: Request, form: manouche::forms::FormData) -> manouche::Result<&'static str> {
    let text = form.get("text").unwrap_or_default().to_owned();
    req.db().run(move |conn| Note { id: 0, text }.save_sync(conn).map(drop)).await?;
    Ok("added")
}

/// Holds until the test creates `<dir>/<key>.release`, then records its one effect: the file
/// `<dir>/<key>.done`, created only if absent (the key is its idempotency key). Each run that
/// reaches the end appends its process id to `<dir>/<key>.completions`.
#[task(name = "fixture.hold_once")]
async fn hold_once(dir: String, key: String) -> Result<u32, std::io::Error> {
    use std::io::Write;
    let dir = PathBuf::from(dir);
    let pid = std::process::id();
    std::fs::write(dir.join(format!("{key}.started.{pid}")), b"")?;
    for _ in 0..6000 {
        if dir.join(format!("{key}.release")).exists() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).open(dir.join(format!("{key}.done"))) {
        Ok(mut done) => write!(done, "{pid}")?,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    let mut completions =
        std::fs::OpenOptions::new().append(true).create(true).open(dir.join(format!("{key}.completions")))?;
    writeln!(completions, "{pid}")?;
    Ok(pid)
}

fn main() -> ExitCode {
    let app = App::new("fixture").urls(urlpatterns![
        path("hold/", hold),
        path("ping/", ping),
        path("limited/", limited),
        path("notes/", notes),
        path("notes/add/", add_note),
    ]);
    if std::env::var_os("MANOUCHE_SETTINGS").is_some() {
        return Project::from_settings_file("fixture.toml").app(app).app(manouche::tasks::app()).execute();
    }
    let mut settings = Settings::for_tests();
    settings.debug = false;
    settings.allowed_hosts = vec!["localhost".into(), "127.0.0.1".into()];
    settings.shutdown_timeout_seconds = 60;
    Project::new(settings).app(app).execute()
}
