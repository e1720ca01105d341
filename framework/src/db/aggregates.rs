//! Sums and averages of number columns that read the same on both backends, as Django's `Sum`
//! and `Avg` do: Diesel types `SUM` of a `BIGINT` as `NUMERIC` (which PostgreSQL returns and an
//! `i64` cannot read) and `AVG` of integers as the backend gives it (truncated on neither, but a
//! `NUMERIC` on PostgreSQL and a `REAL` on SQLite).
//!
//! ```
//! # use manouche::prelude::*;
//! # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub stock: i32, pub price_cents: i64 }
//! use manouche::db::{avg, sum};
//! # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
//! let tins: Option<i64> = Tea::objects().aggregate(sum(Tea::stock)).one_sync(conn)?;
//! let value: Option<i64> = Tea::objects().aggregate(sum(Tea::price_cents)).one_sync(conn)?;
//! let mean: Option<f64> = Tea::objects().aggregate(avg(Tea::stock)).one_sync(conn)?;
//! let both: (Option<i64>, Option<f64>) = Tea::objects().aggregate((sum(Tea::stock), avg(Tea::price_cents))).one_sync(conn)?;
//! # Ok(()) }
//! ```

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Double, Integer, Nullable, SmallInt};

use super::MultiBackend;

/// The integer SQL types `sum` and `avg` take (and their nullable forms).
pub trait IntegerSql {}
impl IntegerSql for SmallInt {}
impl IntegerSql for Integer {}
impl IntegerSql for BigInt {}
impl<T: IntegerSql> IntegerSql for Nullable<T> {}

/// `SUM` of an integer column as a 64-bit integer (`NULL` over no rows): Django's `Sum`.
pub fn sum<E>(expression: E) -> Sum<E>
where
    E: Expression,
    E::SqlType: IntegerSql,
{
    Sum(expression)
}

/// `AVG` of an integer column as a float, not truncated (`NULL` over no rows): Django's `Avg`.
pub fn avg<E>(expression: E) -> Avg<E>
where
    E: Expression,
    E::SqlType: IntegerSql,
{
    Avg(expression)
}

/// See [`sum`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Sum<E>(E);

/// See [`avg`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Avg<E>(E);

macro_rules! aggregate {
    ($name:ident, $sql:ty, $open:literal, $close:literal) => {
        impl<E: Expression> Expression for $name<E> {
            type SqlType = Nullable<$sql>;
        }

        impl<E, GB> ValidGrouping<GB> for $name<E> {
            type IsAggregate = is_aggregate::Yes;
        }

        impl<E: SelectableExpression<QS>, QS> SelectableExpression<QS> for $name<E> where Self: AppearsOnTable<QS> {}

        impl<E: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for $name<E> where Self: Expression {}

        impl<E: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for $name<E> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
                out.push_sql($open);
                self.0.walk_ast(out.reborrow())?;
                out.push_sql($close);
                Ok(())
            }
        }
    };
}

// BIGINT and DOUBLE PRECISION are spelled the same by SQLite (integer and real affinity).
aggregate!(Sum, BigInt, "CAST(SUM(", ") AS BIGINT)");
aggregate!(Avg, Double, "AVG(CAST(", " AS DOUBLE PRECISION))");
