//! Filters across relations, in one statement: Django's `category__name="Cups"` and
//! `products__active=True`, as `IN` subqueries written by the framework itself (Diesel renders a
//! subselect per backend, which a two-backend query cannot nest).

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;

use super::{Model, MultiBackend, RelatedField};

/// `column IN (SELECT key FROM table WHERE predicate)`: see [`Lookups`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct InSubquery<C, K, F, P> {
    column: C,
    key: K,
    /// The subquery's `FROM` (a table's from clause).
    from: F,
    predicate: P,
}

impl<C: Expression, K, T, P> Expression for InSubquery<C, K, T, P> {
    type SqlType = Bool;
}

impl<C, K, T, P, GB> ValidGrouping<GB> for InSubquery<C, K, T, P> {
    type IsAggregate = is_aggregate::No;
}

impl<C: AppearsOnTable<QS>, K, T, P, QS> AppearsOnTable<QS> for InSubquery<C, K, T, P> where Self: Expression {}

impl<C: SelectableExpression<QS>, K, T, P, QS> SelectableExpression<QS> for InSubquery<C, K, T, P> where
    Self: AppearsOnTable<QS>
{
}

impl<C, K, F, P> QueryFragment<MultiBackend> for InSubquery<C, K, F, P>
where
    C: QueryFragment<MultiBackend>,
    K: QueryFragment<MultiBackend>,
    F: QueryFragment<MultiBackend>,
    P: QueryFragment<MultiBackend>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT ");
        self.key.walk_ast(out.reborrow())?;
        out.push_sql(" FROM ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.predicate.walk_ast(out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

/// The target's table of a relation, and its key column.
type TargetTable<R> = <<R as RelatedField>::Target as Model>::Table;
type TargetKey<R> = <TargetTable<R> as diesel::Table>::PrimaryKey;
type OwnTable<R> = <<R as RelatedField>::Model as Model>::Table;
type From<T> = <T as diesel::query_source::QuerySource>::FromClause;

/// Filters across a foreign key, on its column handle, in one statement. Nested, they reach as
/// far as the relations go:
///
/// ```
/// # use manouche::prelude::*;
/// # #[model(app = "shop")] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade)] pub category: ForeignKey<Category>, pub active: bool }
/// use manouche::db::Lookups as _;
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// // Product.objects.filter(category__name="Cups")
/// let cups = Product::objects().filter(Product::category.matches(Category::name.eq("Cups"))).all_sync(conn)?;
/// // Category.objects.filter(product__active=True)
/// let stocked = Category::objects().filter(Product::category.referenced_by(Product::active.eq(true))).all_sync(conn)?;
/// # Ok(()) }
/// ```
///
/// A predicate on another model's columns than the relation's target (or source) does not
/// compile.
pub trait Lookups: RelatedField + Expression + Sized {
    /// Rows whose foreign key points to a target matching `predicate`: Django's
    /// `field__lookup=value`.
    fn matches<P>(self, predicate: P) -> InSubquery<Self, TargetKey<Self>, From<TargetTable<Self>>, P>
    where
        TargetTable<Self>: Default,
        P: Expression<SqlType = Bool> + AppearsOnTable<TargetTable<Self>>,
    {
        let table = TargetTable::<Self>::default();
        let from = diesel::query_source::QuerySource::from_clause(&table);
        InSubquery { column: self, key: diesel::Table::primary_key(&table), from, predicate }
    }

    /// Rows of the target that some row matching `predicate` points to through this foreign
    /// key: Django's reverse lookups (`product__active=True` on categories).
    fn referenced_by<P>(self, predicate: P) -> InSubquery<TargetKey<Self>, Self, From<OwnTable<Self>>, P>
    where
        TargetTable<Self>: Default,
        OwnTable<Self>: Default,
        P: Expression<SqlType = Bool> + AppearsOnTable<OwnTable<Self>>,
    {
        let target = TargetTable::<Self>::default();
        let from = diesel::query_source::QuerySource::from_clause(&OwnTable::<Self>::default());
        InSubquery { column: diesel::Table::primary_key(&target), key: self, from, predicate }
    }
}

impl<R: RelatedField + Expression> Lookups for R {}
