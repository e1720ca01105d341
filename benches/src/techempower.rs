//! The TechEmpower Framework Benchmarks' six tests written with Manouche's public API, as a
//! user would: models, query sets, views, a template. `te_server manouche` serves it (with no
//! middleware, or with the stack a new project gets); `te_compare` loads it beside the
//! reference in plain actix-web + Diesel + askama ([`crate::reference`]).

use std::cell::Cell;

use manouche::db::Model as _;
use manouche::prelude::*;

/// A row of the `world` table (10,000 of them).
#[model(app = "te", table = "world")]
#[derive(Debug, Clone, serde::Serialize)]
pub struct World {
    /// 1 to 10,000.
    #[field(primary_key)]
    pub id: i32,
    /// 1 to 10,000.
    #[serde(rename = "randomNumber")]
    pub randomnumber: i32,
}

/// A row of the `fortune` table (12 of them, HTML and non-ASCII included).
#[model(app = "te", table = "fortune")]
#[derive(Debug, Clone)]
pub struct Fortune {
    /// The key.
    #[field(primary_key)]
    pub id: i32,
    /// The fortune.
    #[field(max_length = 2048)]
    pub message: String,
}

/// The fortunes TechEmpower's database holds.
pub const FORTUNES: [&str; 12] = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "フレームワークのベンチマーク",
];

/// The fortune added at request time.
pub const ADDED_FORTUNE: &str = "Additional fortune added at request time.";

thread_local! {
    static STATE: Cell<u64> = Cell::new({
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes) | 1
    });
}

/// A random id from 1 to 10,000 (xorshift, per thread: the benchmark's rules ask for random ids,
/// not cryptographic ones).
pub fn random_id() -> i32 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        i32::try_from(x % 10_000).unwrap_or(0) + 1
    })
}

/// The `q` of `/queries` and `/updates`: 1 to 500, 1 when missing or not a number.
pub fn queries_count(query: &str) -> usize {
    let q = query.split('&').find_map(|pair| pair.strip_prefix("q=")).and_then(|q| q.parse::<i64>().ok()).unwrap_or(1);
    usize::try_from(q.clamp(1, 500)).unwrap_or(1)
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

/// `/json`.
#[view(GET)]
async fn json() -> Json<Message> {
    Json(Message { message: "Hello, World!" })
}

/// `/plaintext`.
#[view(GET)]
async fn plaintext() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("Hello, World!")
}

/// `/db`: one random row.
#[view(GET)]
async fn db(req: Request) -> manouche::Result<Json<World>> {
    let world = World::objects().get_by_pk(&req.db(), random_id()).await?;
    Ok(Json(world))
}

/// `/queries?q=`: `q` random rows, one query each.
#[view(GET)]
async fn queries(req: Request) -> manouche::Result<Json<Vec<World>>> {
    let count = queries_count(req.query_string());
    let worlds = req
        .db()
        .run(move |conn| (0..count).map(|_| World::objects().get_by_pk_sync(conn, random_id())).collect())
        .await?;
    Ok(Json(worlds))
}

#[derive(Template)]
#[template(path = "fortunes.html")]
struct Fortunes {
    fortunes: Vec<Fortune>,
}

/// `/fortunes`: every fortune plus one added now, sorted by message, escaped in HTML.
#[view(GET)]
async fn fortunes(req: Request) -> manouche::Result<HttpResponse> {
    let mut fortunes = Fortune::objects().all(&req.db()).await?;
    fortunes.push(Fortune { id: 0, message: ADDED_FORTUNE.to_owned() });
    fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
    render(&Fortunes { fortunes })
}

/// `/updates?q=`: `q` random rows read one by one, given new random numbers, written back.
#[view(GET)]
async fn updates(req: Request) -> manouche::Result<Json<Vec<World>>> {
    let count = queries_count(req.query_string());
    let worlds = req
        .db()
        .run(move |conn| {
            let mut worlds = Vec::with_capacity(count);
            for _ in 0..count {
                let mut world = World::objects().get_by_pk_sync(conn, random_id())?;
                world.randomnumber = random_id();
                worlds.push(world);
            }
            // One statement per batch; sorted so concurrent updates lock rows in one order.
            let mut sorted = worlds.clone();
            sorted.sort_unstable_by_key(|w| w.id);
            sorted.dedup_by_key(|w| w.id);
            manouche::db::atomic(conn, |conn| World::objects().bulk_update_sync(conn, &sorted, World::randomnumber))?;
            Ok(worlds)
        })
        .await?;
    Ok(Json(worlds))
}

/// The app: the six URLs at the root.
pub fn app() -> App {
    App::new("te").urls(urlpatterns![
        manouche::urls::path("json", json),
        manouche::urls::path("plaintext", plaintext),
        manouche::urls::path("db", db),
        manouche::urls::path("queries", queries),
        manouche::urls::path("fortunes", fortunes),
        manouche::urls::path("updates", updates),
    ])
}

/// Creates the two tables in `db` and fills them as TechEmpower's database is filled.
///
/// # Errors
///
/// When a statement fails.
pub fn prepare(db: &manouche::db::Database) -> Result<(), manouche::db::Error> {
    db.atomic_sync(|conn| {
        for meta in [World::meta(), Fortune::meta()] {
            diesel::connection::SimpleConnection::batch_execute(conn, &format!("DROP TABLE IF EXISTS {}", meta.table))?;
            for sql in manouche::migrations::create_table(meta, conn.backend()).expect("the table renders") {
                diesel::connection::SimpleConnection::batch_execute(conn, &sql)?;
            }
        }
        let worlds: Vec<World> = (1..=10_000).map(|id| World { id, randomnumber: random_id() }).collect();
        World::objects().bulk_create_sync(conn, worlds)?;
        let fortunes: Vec<Fortune> =
            FORTUNES.iter().zip(1..).map(|(message, id)| Fortune { id, message: (*message).to_owned() }).collect();
        Fortune::objects().bulk_create_sync(conn, fortunes)?;
        Ok(())
    })
}
