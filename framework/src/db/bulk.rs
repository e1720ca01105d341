//! `bulk_update`: Django's one statement per batch for many rows' changed fields.

use super::{AnyConnection, Database, Error, Model, QuerySet, RawQuery};

/// A list of one model's columns: one column handle (`Product::price`) or a tuple of them
/// (`(Product::price, Product::stock)`). `#[model]` implements it for each column of the table,
/// so a column of another model does not compile.
pub trait Columns<T> {
    /// Appends the SQL names of the columns.
    #[doc(hidden)]
    fn __names(names: &mut Vec<&'static str>);
}

macro_rules! tuple_columns {
    ($($name:ident)+) => {
        impl<T, $($name: Columns<T>),+> Columns<T> for ($($name,)+) {
            fn __names(names: &mut Vec<&'static str>) {
                $($name::__names(names);)+
            }
        }
    };
}

tuple_columns!(A);
tuple_columns!(A B);
tuple_columns!(A B C);
tuple_columns!(A B C D);
tuple_columns!(A B C D E);
tuple_columns!(A B C D E F);
tuple_columns!(A B C D E F G);
tuple_columns!(A B C D E F G H);

/// Keys per statement in bulk writes: well under SQLite's 32,766 bound parameters.
pub const BULK_CHUNK: usize = 10_000;

/// Rows per multi-row insert of a model with `columns` columns: under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters.
pub const fn bulk_rows(columns: usize) -> usize {
    let rows = 30_000 / if columns == 0 { 1 } else { columns };
    if rows == 0 { 1 } else { rows }
}

/// Bound parameters per statement, under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMETERS: usize = 30_000;

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl<M: Model> QuerySet<M> {
    /// Writes the given columns of every instance in one `UPDATE ... SET col = CASE WHEN pk = ?
    /// THEN ? ... END WHERE pk IN (...)` per batch: Django's `bulk_update(objs, fields)`. Like
    /// Django, it sends no signals, does not touch `auto_now` fields it is not given, and ignores
    /// the query set's filters. Returns how many rows were updated. The primary key cannot be
    /// one of the columns.
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub stock: i32 }
    /// # fn demo(conn: &mut manouche::db::Connection, mut teas: Vec<Tea>) -> Result<(), manouche::db::Error> {
    /// for tea in &mut teas { tea.stock += 10; }
    /// let updated = Tea::objects().bulk_update_sync(conn, &teas, Tea::stock)?;
    /// Tea::objects().bulk_update_sync(conn, &teas, (Tea::name, Tea::stock))?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PrimaryKeyUpdate`] when the columns include the primary key (before any SQL);
    /// [`Error::Query`] when a statement fails (then every batch is rolled back).
    pub fn bulk_update_sync<C: Columns<M::Table>>(
        self,
        conn: &mut AnyConnection,
        instances: &[M],
        _columns: C,
    ) -> Result<usize, Error> {
        bulk_update::<M, C>(conn, instances)
    }

    /// [`QuerySet::bulk_update_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`QuerySet::bulk_update_sync`], plus [`Error::Unavailable`].
    pub async fn bulk_update<C>(self, db: &Database, instances: Vec<M>, _columns: C) -> Result<usize, Error>
    where
        C: Columns<M::Table>,
        M: Send,
    {
        db.run(move |conn| bulk_update::<M, C>(conn, &instances)).await
    }
}

fn bulk_update<M: Model, C: Columns<M::Table>>(conn: &mut AnyConnection, instances: &[M]) -> Result<usize, Error> {
    let mut names = Vec::new();
    C::__names(&mut names);
    let updated = update_columns(conn, instances, names)?;
    if updated > 0 {
        crate::db::signals::table_changed(M::meta().table);
    }
    Ok(updated)
}

/// `bulk_update` of the columns named: one statement per batch of rows, no signals.
pub(crate) fn update_columns<M: Model>(
    conn: &mut AnyConnection,
    instances: &[M],
    mut names: Vec<&str>,
) -> Result<usize, Error> {
    names.dedup();
    let meta = M::meta();
    let pk = meta.primary_key().map_or("id", |f| &*f.column);
    if names.contains(&pk) {
        return Err(Error::PrimaryKeyUpdate { model: meta.name });
    }
    if instances.is_empty() || names.is_empty() {
        return Ok(0);
    }
    // Per row: a key and a value for each column, and the key in the IN list.
    let per_row = names.len() * 2 + 1;
    let rows_per_batch = (MAX_PARAMETERS / per_row).max(1);
    // Django's `atomic(savepoint=False)`: one statement is atomic by itself, and inside a
    // transaction already open a savepoint would only add two round trips.
    super::database::atomic_without_savepoint(conn, instances.len() > rows_per_batch, |conn| {
        let mut updated = 0;
        for batch in instances.chunks(rows_per_batch) {
            let statement = update_statement(meta.table, pk, &names, batch.len());
            let mut query = RawQuery::<()>::new(statement);
            for name in &names {
                for instance in batch {
                    query = instance.__bind_column(query, pk).ok_or(Error::PrimaryKeyUpdate { model: meta.name })?;
                    query = instance.__bind_column(query, name).ok_or(Error::PrimaryKeyUpdate { model: meta.name })?;
                }
            }
            for instance in batch {
                query = instance.__bind_column(query, pk).ok_or(Error::PrimaryKeyUpdate { model: meta.name })?;
            }
            updated += query.execute_sync(conn)?;
        }
        Ok(updated)
    })
}

/// `UPDATE t SET "a" = CASE WHEN "pk" = ? THEN ? ... END, ... WHERE "pk" IN (?, ...)`.
fn update_statement(table: &str, pk: &str, columns: &[&str], rows: usize) -> String {
    let pk = quoted(pk);
    let cases = " WHEN ".to_owned() + &vec![format!("{pk} = ? THEN ?"); rows].join(" WHEN ");
    let sets: Vec<String> = columns.iter().map(|c| format!("{} = CASE{cases} END", quoted(c))).collect();
    let keys = vec!["?"; rows].join(", ");
    format!("UPDATE {} SET {} WHERE {pk} IN ({keys})", quoted(table), sets.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_statement_sets_each_column_by_key() {
        assert_eq!(
            super::update_statement("shop_tea", "id", &["name", "stock"], 2),
            "UPDATE \"shop_tea\" SET \"name\" = CASE WHEN \"id\" = ? THEN ? WHEN \"id\" = ? THEN ? END, \
             \"stock\" = CASE WHEN \"id\" = ? THEN ? WHEN \"id\" = ? THEN ? END WHERE \"id\" IN (?, ?)"
        );
    }
}
