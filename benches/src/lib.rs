//! The model the benchmarks query, and the data they query; the TechEmpower tests in Manouche
//! and in plain actix-web for the production comparison.

pub mod reference;
pub mod techempower;

use diesel::prelude::*;
use manouche::conf::DatabaseUrl;
use manouche::db::{Connection, Database, Decimal, Model, PoolOptions};
use manouche::migrations as schema;
use manouche::prelude::*;

/// A product, as the example shop has them.
#[model(app = "bench")]
#[derive(Debug, Clone)]
pub struct Item {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// Shown to customers.
    #[field(max_length = 200)]
    pub name: String,
    /// Exact price.
    #[field(max_digits = 10, decimal_places = 2)]
    pub price: Decimal,
    /// Tins on the shelf.
    pub stock: i32,
    /// Listed in the catalogue.
    pub active: bool,
}

/// `rows` new items.
pub fn items(rows: i64) -> Vec<Item> {
    (0..rows)
        .map(|i| Item {
            id: 0,
            name: format!("Item {i:05}"),
            price: Decimal::new(100 + (i * 37) % 5000, 2),
            stock: i32::try_from(i % 50).unwrap_or(0),
            active: i % 7 != 0,
        })
        .collect()
}

/// Inserts with `bulk_create`: a few multi-row statements.
///
/// # Errors
///
/// When an insert fails.
pub fn insert_bulk(conn: &mut Connection, items: Vec<Item>) -> Result<Vec<Item>, manouche::db::Error> {
    Item::objects().bulk_create_sync(conn, items)
}

/// Inserts with one `save` each, in one transaction: what `bulk_create` saves.
///
/// # Errors
///
/// When an insert fails.
pub fn insert_one_by_one(conn: &mut Connection, items: Vec<Item>) -> Result<Vec<Item>, manouche::db::Error> {
    manouche::db::atomic(conn, |conn| items.into_iter().map(|item| item.save_sync(conn)).collect())
}

/// A fresh SQLite database in a temporary file holding `rows` items.
///
/// # Panics
///
/// When the database cannot be created: a benchmark has nothing to measure then.
pub fn database(rows: i64) -> Database {
    let path = std::env::temp_dir().join(format!("manouche-bench-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = Database::connect(&DatabaseUrl::Sqlite(path), PoolOptions::default().max_size(1));
    db.atomic_sync(|conn| {
        for sql in schema::create_table(Item::meta(), conn.backend()).expect("the table renders") {
            diesel::connection::SimpleConnection::batch_execute(conn, &sql)?;
        }
        Item::objects().bulk_create_sync(conn, items(rows))?;
        Ok(())
    })
    .expect("the benchmark database");
    db
}

/// The query through a query set: active items under a price, by name, a page of 50.
///
/// # Errors
///
/// When the query fails.
pub fn with_queryset(conn: &mut Connection) -> Result<Vec<Item>, manouche::db::Error> {
    Item::objects()
        .filter(Item::active.eq(true))
        .filter(Item::price.lt(Decimal::new(2500, 2)))
        .order_by(Item::name.asc())
        .limit(50)
        .all_sync(conn)
}

/// The same query written in plain Diesel on the same table.
///
/// # Errors
///
/// When the query fails.
pub fn with_diesel(conn: &mut Connection) -> QueryResult<Vec<Item>> {
    bench_item::table
        .filter(bench_item::active.eq(true))
        .filter(bench_item::price.lt(Decimal::new(2500, 2)))
        .order(bench_item::name.asc())
        .limit(50)
        .select(Item::as_select())
        .load(conn)
}
