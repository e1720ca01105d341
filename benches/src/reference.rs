//! The reference for the TechEmpower comparison: the same six tests in plain actix-web, Diesel
//! (an r2d2 pool of `PgConnection`s, queries on actix's blocking pool) and askama, written as
//! TechEmpower's own Rust entries write them, with no framework between. The askama derive is
//! reached through `manouche::Template` (askama's own derive, re-exported with another crate
//! path): turning on askama's `derive` feature in this workspace would clash with the
//! framework's re-export. No Manouche code runs on this app's request path.

use actix_web::{App, HttpResponse, web};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};

/// The tables, as Diesel declares them.
#[allow(missing_docs)]
mod schema {
    diesel::table! {
        world (id) {
            id -> Integer,
            randomnumber -> Integer,
        }
    }

    diesel::table! {
        fortune (id) {
            id -> Integer,
            message -> Text,
        }
    }
}
use schema::{fortune, world};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = world)]
struct World {
    id: i32,
    #[serde(rename = "randomNumber")]
    randomnumber: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fortune)]
struct Fortune {
    id: i32,
    message: String,
}

#[derive(manouche::Template)]
#[template(path = "fortunes.html")]
struct Fortunes {
    fortunes: Vec<Fortune>,
}

/// The pool the reference's handlers share.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;

/// A pool of `size` connections to `url`.
///
/// # Panics
///
/// When the pool cannot be built (the benchmark has nothing to measure then).
pub fn pool(url: &str, size: u32) -> PgPool {
    Pool::builder().max_size(size).build(ConnectionManager::new(url)).expect("a PostgreSQL pool")
}

fn unavailable<E: std::fmt::Display>(error: E) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(error.to_string())
}

/// An error of the blocking closure (`actix_web::Error` cannot cross threads).
fn fail<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

async fn json() -> HttpResponse {
    #[derive(serde::Serialize)]
    struct Message {
        message: &'static str,
    }
    HttpResponse::Ok().json(Message { message: "Hello, World!" })
}

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("Hello, World!")
}

async fn db(pool: web::Data<PgPool>) -> actix_web::Result<HttpResponse> {
    let world = web::block(move || {
        let mut conn = pool.get().map_err(fail)?;
        world::table.find(crate::techempower::random_id()).select(World::as_select()).first(&mut conn).map_err(fail)
    })
    .await
    .map_err(unavailable)?
    .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(world))
}

fn count(query: &str) -> usize {
    crate::techempower::queries_count(query)
}

async fn queries(req: actix_web::HttpRequest, pool: web::Data<PgPool>) -> actix_web::Result<HttpResponse> {
    let count = count(req.query_string());
    let worlds = web::block(move || {
        let mut conn = pool.get().map_err(fail)?;
        (0..count)
            .map(|_| {
                world::table
                    .find(crate::techempower::random_id())
                    .select(World::as_select())
                    .first(&mut conn)
                    .map_err(fail)
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(unavailable)?
    .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(worlds))
}

async fn fortunes(pool: web::Data<PgPool>) -> actix_web::Result<HttpResponse> {
    let mut fortunes = web::block(move || {
        let mut conn = pool.get().map_err(fail)?;
        fortune::table.select(Fortune::as_select()).load(&mut conn).map_err(fail)
    })
    .await
    .map_err(unavailable)?
    .map_err(unavailable)?;
    fortunes.push(Fortune { id: 0, message: crate::techempower::ADDED_FORTUNE.to_owned() });
    fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
    let body = manouche::askama::Template::render(&Fortunes { fortunes }).map_err(unavailable)?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body))
}

async fn updates(req: actix_web::HttpRequest, pool: web::Data<PgPool>) -> actix_web::Result<HttpResponse> {
    let count = count(req.query_string());
    let worlds = web::block(move || {
        let mut conn = pool.get().map_err(fail)?;
        let mut worlds = Vec::with_capacity(count);
        for _ in 0..count {
            let mut world: World = world::table
                .find(crate::techempower::random_id())
                .select(World::as_select())
                .first(&mut conn)
                .map_err(fail)?;
            world.randomnumber = crate::techempower::random_id();
            worlds.push(world);
        }
        let mut sorted = worlds.clone();
        sorted.sort_unstable_by_key(|w| w.id);
        sorted.dedup_by_key(|w| w.id);
        // One statement, as TechEmpower's Diesel entry writes it.
        let cases: String = sorted.iter().map(|w| format!(" WHEN {} THEN {}", w.id, w.randomnumber)).collect();
        let ids: Vec<String> = sorted.iter().map(|w| w.id.to_string()).collect();
        let sql = format!("UPDATE world SET randomnumber = CASE id{cases} END WHERE id IN ({})", ids.join(","));
        conn.transaction(|conn| diesel::sql_query(sql).execute(conn)).map_err(fail)?;
        Ok::<_, String>(worlds)
    })
    .await
    .map_err(unavailable)?
    .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(worlds))
}

/// The actix app with `pool`.
pub fn app(
    pool: PgPool,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(pool))
        .route("/json", web::get().to(json))
        .route("/plaintext", web::get().to(plaintext))
        .route("/db", web::get().to(db))
        .route("/queries", web::get().to(queries))
        .route("/fortunes", web::get().to(fortunes))
        .route("/updates", web::get().to(updates))
}
