//! The database store (Django's `db` engine): a row per session in `manouche_session`, the
//! cookie carrying only a random key. Queries run on the blocking pool.

use actix_web::HttpRequest;
use serde_json::{Map, Value};

use super::models::Session as Row;
use super::store::{SessionStore, StoreFuture, Stored};
use crate::db::{Database, Model};
use crate::management::{Command, CommandContext, CommandError};
use crate::prelude::ExpressionMethods as _;

/// A new session key: 32 characters of `[a-z0-9]` from the operating system's CSPRNG (about
/// 165 bits), as Django makes them.
///
/// # Errors
///
/// When the operating system has no randomness to give (a 503 rather than a guessable key).
pub fn new_session_key() -> Result<String, crate::Error> {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut key = String::with_capacity(32);
    let mut bytes = [0u8; 64];
    while key.len() < 32 {
        getrandom::fill(&mut bytes)
            .map_err(|e| crate::Error::other(format!("no randomness for a session key: {e}")))?;
        // Rejection sampling: 252 = 7 × 36, so every character is equally likely.
        key.extend(
            bytes.iter().filter(|b| **b < 252).map(|b| char::from(ALPHABET[usize::from(*b % 36)])).take(32 - key.len()),
        );
    }
    Ok(key)
}

/// Sessions as rows of `manouche_session` (the `sessions` app's migration creates it). A key
/// the client sends that has no live row is never adopted: the next save makes a new key
/// (no session fixation). Two requests of one session saving at once: the later write wins for
/// the whole session (Django's behaviour), never a mix of the two.
#[derive(Debug, Clone, Copy, Default)]
pub struct DatabaseStore;

fn db(req: &HttpRequest) -> Database {
    crate::http::Request::new(req.clone()).db()
}

impl SessionStore for DatabaseStore {
    fn load<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, Option<Map<String, Value>>> {
        let (db, key) = (db(req), cookie.to_owned());
        Box::pin(async move {
            // Keys are 32 characters: anything else is not worth a query.
            if key.len() > 40 || key.is_empty() {
                return Ok(None);
            }
            // By primary key (a typed query, its statement cached by type), expiry checked here.
            let row = match db.run(move |conn| Row::objects().get_by_pk_sync(conn, key)).await {
                Ok(row) => Some(row).filter(|row| row.expire_date > crate::db::now()),
                Err(crate::db::Error::DoesNotExist { .. }) => None,
                Err(error) => return Err(error.into()),
            };
            Ok(row.and_then(|row| serde_json::from_str(&row.session_data).ok()))
        })
    }

    fn save<'a>(
        &'a self,
        req: &'a HttpRequest,
        previous: Option<&'a str>,
        new_key: bool,
        data: &'a Map<String, Value>,
        age: u64,
    ) -> StoreFuture<'a, Stored> {
        let db = db(req);
        let previous = previous.map(str::to_owned);
        let text = serde_json::to_string(data);
        Box::pin(async move {
            let session_data = text.map_err(crate::Error::other)?;
            // Drawn before the transaction: a failure to get randomness is not a database error.
            let fresh = new_session_key()?;
            let expire_date = crate::db::now() + chrono::TimeDelta::seconds(i64::try_from(age).unwrap_or(i64::MAX / 2));
            let key = db
                .atomic(move |conn| {
                    match previous {
                        // `cycle_key`/`flush`: the old key stops working now.
                        Some(old) if new_key => {
                            Row::objects().filter(Row::session_key.eq(old)).delete_sync(conn)?;
                        }
                        Some(key) => {
                            let updated = Row::objects().filter(Row::session_key.eq(key.clone())).update_sync(
                                conn,
                                (Row::session_data.eq(session_data.clone()), Row::expire_date.eq(expire_date)),
                            )?;
                            if updated == 1 {
                                return Ok(key);
                            }
                            // Deleted meanwhile (a logout in another request): a new session.
                        }
                        None => {}
                    }
                    Row { session_key: fresh.clone(), session_data, expire_date }.save_sync(conn)?;
                    Ok(fresh)
                })
                .await?;
            Ok(Stored { cookie: key })
        })
    }

    fn delete<'a>(&'a self, req: &'a HttpRequest, cookie: &'a str) -> StoreFuture<'a, ()> {
        let (db, key) = (db(req), cookie.to_owned());
        Box::pin(async move {
            db.run(move |conn| Row::objects().filter(Row::session_key.eq(key)).delete_sync(conn)).await?;
            Ok(())
        })
    }
}

/// `clearsessions`: deletes expired sessions (Django's command of the same name).
#[derive(Debug)]
pub(crate) struct ClearSessions;

impl Command for ClearSessions {
    fn name(&self) -> &'static str {
        "clearsessions"
    }
    fn help(&self) -> &'static str {
        "Deletes expired sessions from the database (run it from cron)."
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let db = ctx.db()?;
        let deleted = db
            .run_sync(|conn| Row::objects().filter(Row::expire_date.le(crate::db::now())).delete_sync(conn))
            .map_err(|e| CommandError::new(format!("cannot clear sessions: {e}")))?;
        ctx.write_line(&format!("Deleted {deleted} expired session{}.", if deleted == 1 { "" } else { "s" }))
    }
}
