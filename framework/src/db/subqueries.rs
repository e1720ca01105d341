//! Query sets inside other statements: Django's `filter(product__in=qs)`, `Exists(qs)` and
//! `Subquery(qs)`, rendered by the framework (Diesel's own subselects are per backend, which the
//! two-backend connection cannot nest), so each is one statement however deep it nests.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::query_dsl::methods::SelectDsl;
use diesel::sql_types::{Bool, IntoNullable, Nullable, SingleValue};

use super::{Model, MultiBackend, QuerySet, Values};

/// A statement selecting one column, usable inside another: a [`QuerySet`] (its rows' primary
/// keys, as Django uses a query set in `__in`) or a one-column [`Values`] (`values_list(column)`).
pub trait Subquery {
    /// The SQL type of the column it selects.
    type SqlType;
    /// The statement.
    type Statement: QueryFragment<MultiBackend>;
    /// The statement, to render inside another.
    fn into_statement(self) -> Self::Statement;
}

type KeyOf<M> = <<M as Model>::Table as diesel::Table>::PrimaryKey;
type KeyStatement<M> = <<M as Model>::Query as SelectDsl<KeyOf<M>>>::Output;

impl<M: Model> Subquery for QuerySet<M>
where
    M::Table: Default,
    KeyOf<M>: Expression,
    M::Query: SelectDsl<KeyOf<M>>,
    KeyStatement<M>: QueryFragment<MultiBackend>,
{
    type SqlType = <KeyOf<M> as Expression>::SqlType;
    type Statement = KeyStatement<M>;
    fn into_statement(self) -> Self::Statement {
        let key = diesel::Table::primary_key(&M::Table::default());
        self.into_subquery().select(key)
    }
}

impl<Q> Subquery for Values<Q>
where
    Q: diesel::query_builder::Query + QueryFragment<MultiBackend>,
{
    type SqlType = Q::SqlType;
    type Statement = Q;
    fn into_statement(self) -> Q {
        self.query
    }
}

/// SQL types a column and a subquery's column may have to be compared: the same, or one the
/// nullable form of the other.
#[diagnostic::on_unimplemented(
    message = "a subquery selecting `{Other}` cannot be compared with a `{Self}` expression",
    label = "this subquery selects `{Other}`",
    note = "a query set selects its primary keys; select one column of the expression's type with `values_list(column)`"
)]
pub trait Comparable<Other> {}
impl<T> Comparable<T> for T {}
impl<T: SingleValue> Comparable<T> for Nullable<T> {}
impl<T: SingleValue> Comparable<Nullable<T>> for T {}

/// `expression IN (subquery)`: see [`SubqueryLookups::is_in`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct InQuery<C, S> {
    expression: C,
    statement: S,
}

/// `EXISTS (subquery)`: see [`exists`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct ExistsQuery<S> {
    statement: S,
}

/// `(subquery)` as a value: see [`subquery`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct ScalarQuery<S, ST> {
    statement: S,
    _type: std::marker::PhantomData<ST>,
}

/// `column IN (subquery)` on any expression: Django's `__in` with a query set.
///
/// ```
/// # use manouche::prelude::*;
/// # use diesel::prelude::*;
/// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// # #[model(app = "shop")] pub struct Line { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade)] pub product: ForeignKey<Product>, pub order_ref: i64 }
/// use manouche::db::SubqueryLookups as _;
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// // Line.objects.filter(product__in=Product.objects.filter(name__startswith="S"))
/// let teas = Product::objects().filter(Product::name.like("S%"));
/// let lines = Line::objects().filter(Line::product.is_in(teas)).all_sync(conn)?;
/// // Product.objects.filter(pk__in=Line.objects.values_list("product"))
/// let sold = Product::objects().filter(Product::id.is_in(Line::objects().values_list(Line::product))).all_sync(conn)?;
/// # Ok(()) }
/// ```
///
/// A subquery selecting another SQL type than the expression's does not compile.
pub trait SubqueryLookups: Expression + Sized {
    /// Rows whose value is one the subquery selects.
    // Django's `__in`; an expression builder takes `self`, as Diesel's `is_null` and `eq_any` do.
    #[allow(clippy::wrong_self_convention)]
    fn is_in<S>(self, subquery: S) -> InQuery<Self, S::Statement>
    where
        S: Subquery,
        Self::SqlType: Comparable<S::SqlType>,
    {
        InQuery { expression: self, statement: subquery.into_statement() }
    }
}

impl<E: Expression> SubqueryLookups for E {}

/// `EXISTS (subquery)`: true when the query set has a row. Django's `Exists(qs)`; for rows
/// related to each outer row, [`super::Lookups::referenced_by`] is the correlated form.
pub fn exists<S: Subquery>(subquery: S) -> ExistsQuery<S::Statement> {
    ExistsQuery { statement: subquery.into_statement() }
}

/// The one value a subquery selects, as an expression (NULL when it has no row): Django's
/// `Subquery(qs.values("x")[:1])`, usable in filters and `annotate`.
///
/// ```
/// # use manouche::prelude::*;
/// # use diesel::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// // The dearest teas: Tea.objects.filter(price_cents=Subquery(max price)).
/// let top = Tea::objects().aggregate(diesel::dsl::max(Tea::price_cents));
/// let dearest = Tea::objects().filter(Tea::price_cents.nullable().eq(manouche::db::subquery(top))).all_sync(conn)?;
/// # let _ = dearest; Ok(()) }
/// ```
pub fn subquery<S>(subquery: S) -> ScalarQuery<S::Statement, <S::SqlType as IntoNullable>::Nullable>
where
    S: Subquery,
    S::SqlType: IntoNullable,
{
    ScalarQuery { statement: subquery.into_statement(), _type: std::marker::PhantomData }
}

impl<C: Expression, S> Expression for InQuery<C, S> {
    type SqlType = Bool;
}
impl<S> Expression for ExistsQuery<S> {
    type SqlType = Bool;
}
impl<S, ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType> Expression for ScalarQuery<S, ST> {
    type SqlType = ST;
}

impl<C, S, GB> ValidGrouping<GB> for InQuery<C, S> {
    type IsAggregate = is_aggregate::No;
}
impl<S, GB> ValidGrouping<GB> for ExistsQuery<S> {
    type IsAggregate = is_aggregate::Never;
}
impl<S, ST, GB> ValidGrouping<GB> for ScalarQuery<S, ST> {
    type IsAggregate = is_aggregate::Never;
}

impl<C: AppearsOnTable<QS>, S, QS> AppearsOnTable<QS> for InQuery<C, S> where Self: Expression {}
impl<C: SelectableExpression<QS>, S, QS> SelectableExpression<QS> for InQuery<C, S> where Self: AppearsOnTable<QS> {}
// Not correlated: they appear anywhere.
impl<S, QS> AppearsOnTable<QS> for ExistsQuery<S> where Self: Expression {}
impl<S, QS> SelectableExpression<QS> for ExistsQuery<S> where Self: AppearsOnTable<QS> {}
impl<S, ST, QS> AppearsOnTable<QS> for ScalarQuery<S, ST> where Self: Expression {}
impl<S, ST, QS> SelectableExpression<QS> for ScalarQuery<S, ST> where Self: AppearsOnTable<QS> {}

impl<C: QueryFragment<MultiBackend>, S: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for InQuery<C, S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        out.push_sql("(");
        self.expression.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.statement.walk_ast(out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

impl<S: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for ExistsQuery<S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        out.push_sql("EXISTS (");
        self.statement.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<S: QueryFragment<MultiBackend>, ST> QueryFragment<MultiBackend> for ScalarQuery<S, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        out.push_sql("(");
        self.statement.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// How many rows point to each row through a foreign key: Django's `Count("products")` in
/// `annotate`, as a correlated subquery (no join, no `GROUP BY`): see [`count_related`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct CountRelated<R, F, K, P = Unfiltered> {
    field: R,
    /// The model's table (its from clause).
    from: F,
    /// The target's key column.
    key: K,
    /// Which of the pointing rows count.
    condition: P,
}

/// Every pointing row counts: see [`CountRelated::filter`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Unfiltered;

/// Only the pointing rows matching a predicate count.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Filtered<P>(P);

/// The extra condition of a [`CountRelated`].
pub trait CountCondition {
    /// Renders ` AND (...)`, or nothing.
    #[doc(hidden)]
    fn __walk_and<'b>(&'b self, out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()>;
}

impl CountCondition for Unfiltered {
    fn __walk_and<'b>(&'b self, _out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        Ok(())
    }
}

impl<P: QueryFragment<MultiBackend>> CountCondition for Filtered<P> {
    fn __walk_and<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        out.push_sql(" AND (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

type TargetKey<R> = <<<R as super::RelatedField>::Target as Model>::Table as diesel::Table>::PrimaryKey;
type OwnTable<R> = <<R as super::RelatedField>::Model as Model>::Table;
type OwnFrom<R> = <OwnTable<R> as diesel::QuerySource>::FromClause;

/// Per row of the foreign key's target, how many rows point to it: Django's
/// `Category.objects.annotate(n=Count("products"))`, and with [`CountRelated::filter`]
/// `Count("products", filter=Q(products__active=True))`. One statement; a row nothing points to
/// counts 0. A key from a model to itself (a parent category) is not supported yet: its query
/// fails with an error saying so.
///
/// ```
/// # use manouche::prelude::*;
/// # #[model(app = "shop")] pub struct Category { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// # #[model(app = "shop")] pub struct Product { #[field(primary_key, auto)] pub id: i64, #[field(on_delete = cascade, related_name = "products")] pub category: ForeignKey<Category>, pub active: bool }
/// use manouche::db::count_related;
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// let counted: Vec<(String, i64)> =
///     Category::objects().values_list((Category::name, count_related(Product::category))).all_sync(conn)?;
/// let active = count_related(Product::category).filter(Product::active.eq(true));
/// let stocked = Category::objects().filter(active.gt(0)).all_sync(conn)?;
/// # Ok(()) }
/// ```
pub fn count_related<R>(field: R) -> CountRelated<R, OwnFrom<R>, TargetKey<R>>
where
    R: super::RelatedField + diesel::Column,
    OwnTable<R>: Default,
    <R::Target as Model>::Table: Default,
{
    let from = diesel::QuerySource::from_clause(&OwnTable::<R>::default());
    let key = diesel::Table::primary_key(&<R::Target as Model>::Table::default());
    CountRelated { field, from, key, condition: Unfiltered }
}

impl<R: super::RelatedField, F, K> CountRelated<R, F, K, Unfiltered> {
    /// Counts only the pointing rows matching `predicate` (on their model's columns).
    pub fn filter<P>(self, predicate: P) -> CountRelated<R, F, K, Filtered<P>>
    where
        P: Expression<SqlType = Bool> + AppearsOnTable<OwnTable<R>>,
    {
        let CountRelated { field, from, key, .. } = self;
        CountRelated { field, from, key, condition: Filtered(predicate) }
    }
}

impl<R, F, K, P> Expression for CountRelated<R, F, K, P> {
    type SqlType = diesel::sql_types::BigInt;
}
impl<R, F, K, P, GB> ValidGrouping<GB> for CountRelated<R, F, K, P> {
    type IsAggregate = is_aggregate::Never;
}
// Correlated with the target's key: it appears where that key does.
impl<R, F, K: AppearsOnTable<QS>, P, QS> AppearsOnTable<QS> for CountRelated<R, F, K, P> {}
impl<R, F, K: SelectableExpression<QS>, P, QS> SelectableExpression<QS> for CountRelated<R, F, K, P> {}

impl<R, F, K, P> QueryFragment<MultiBackend> for CountRelated<R, F, K, P>
where
    R: super::RelatedField + diesel::Column + QueryFragment<MultiBackend>,
    F: QueryFragment<MultiBackend>,
    K: QueryFragment<MultiBackend>,
    P: CountCondition,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        // Columns render qualified by their table's name: inside, the model's table would shadow
        // the outer one when both are the same table.
        if <R::Model as Model>::meta().table == <R::Target as Model>::meta().table {
            return Err(diesel::result::Error::QueryBuilderError(
                format!(
                    "count_related on `{}`, a key from {} to itself, is not supported yet",
                    R::NAME,
                    <R::Model as Model>::meta().label()
                )
                .into(),
            ));
        }
        out.push_sql("(SELECT COUNT(*) FROM ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.field.walk_ast(out.reborrow())?;
        out.push_sql(" = ");
        self.key.walk_ast(out.reborrow())?;
        self.condition.__walk_and(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// A row-locking read, `SELECT ... FOR UPDATE` (Django's `select_for_update()`), for PostgreSQL:
/// the rows are locked until the transaction ends, after any concurrent transaction that
/// changed them has finished, and the `WHERE` is checked again on their latest version, so rows
/// that stopped matching are not returned. What `update()` selects its rows with on
/// PostgreSQL (SQLite's `BEGIN IMMEDIATE` already serialises writers).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, QueryId)]
pub struct ForUpdate<Q>(pub Q);

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for ForUpdate<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for ForUpdate<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" FOR UPDATE");
        Ok(())
    }
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for ForUpdate<Q> {}
