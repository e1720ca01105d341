//! `order_by` terms that can be reversed, so `reverse()` and `last()` can flip any ordering.

use diesel::helper_types::{Asc, Desc};
use diesel::query_dsl::methods::ThenOrderDsl;
use diesel::{Column, ExpressionMethods};

/// What [`super::QuerySet::order_by`] takes: a column (ascending), `column.asc()`,
/// `column.desc()`, or a tuple of them. Each term knows its reverse, which is how
/// [`super::QuerySet::reverse`] and [`super::QuerySet::last`] flip an ordering, as Django does.
///
/// ```
/// # use manouche::prelude::*;
/// # use diesel::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
/// let cheapest_first = Tea::objects().order_by((Tea::price_cents.asc(), Tea::name));
/// let dearest_first = Tea::objects().order_by((Tea::price_cents.asc(), Tea::name)).reverse();
/// # let _ = (cheapest_first, dearest_first);
/// ```
///
/// Ordering by another expression (`(price * 2).desc()`) is plain Diesel: use
/// [`super::QuerySet::into_diesel`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot order a query set",
    label = "not a column, `column.asc()` or `column.desc()`",
    note = "order by columns: `Product::name`, `Product::name.asc()`, `Product::price.desc()` or a tuple of them; \
            for other expressions use `into_diesel()`"
)]
pub trait OrderTerm<Q>: Send + 'static {
    /// Adds the term (or its reverse) after the query's earlier ones.
    #[doc(hidden)]
    fn __then_order(self, query: Q, reversed: bool) -> Q;
}

impl<Q, C> OrderTerm<Q> for Asc<C>
where
    C: Column + Default + ExpressionMethods + Send + 'static,
    Q: ThenOrderDsl<Asc<C>, Output = Q> + ThenOrderDsl<Desc<C>, Output = Q>,
{
    fn __then_order(self, query: Q, reversed: bool) -> Q {
        if reversed { query.then_order_by(C::default().desc()) } else { query.then_order_by(self) }
    }
}

impl<Q, C> OrderTerm<Q> for Desc<C>
where
    C: Column + Default + ExpressionMethods + Send + 'static,
    Q: ThenOrderDsl<Asc<C>, Output = Q> + ThenOrderDsl<Desc<C>, Output = Q>,
{
    fn __then_order(self, query: Q, reversed: bool) -> Q {
        if reversed { query.then_order_by(C::default().asc()) } else { query.then_order_by(self) }
    }
}

macro_rules! tuple_terms {
    ($($name:ident)+) => {
        impl<Q, $($name: OrderTerm<Q>),+> OrderTerm<Q> for ($($name,)+) {
            #[allow(non_snake_case)]
            fn __then_order(self, query: Q, reversed: bool) -> Q {
                let ($($name,)+) = self;
                $(let query = $name.__then_order(query, reversed);)+
                query
            }
        }
    };
}

tuple_terms!(A);
tuple_terms!(A B);
tuple_terms!(A B C);
tuple_terms!(A B C D);
tuple_terms!(A B C D E);
tuple_terms!(A B C D E F);

/// A bare column orders ascending; `#[model]` implements [`OrderTerm`] for its columns with this.
#[doc(hidden)]
pub fn __column_term<Q, C>(column: C, query: Q, reversed: bool) -> Q
where
    C: Column + ExpressionMethods,
    Q: ThenOrderDsl<Asc<C>, Output = Q> + ThenOrderDsl<Desc<C>, Output = Q>,
{
    if reversed { query.then_order_by(column.desc()) } else { query.then_order_by(column.asc()) }
}
