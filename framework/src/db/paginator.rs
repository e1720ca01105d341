//! Django's `Paginator` for query sets.

use std::ops::RangeInclusive;

use diesel::dsl::CountStar;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl, SelectDsl};

use super::{AnyConnection, Database, Error, Model, QuerySet};

/// Splits a query set into pages: Django's `Paginator`. It is given a function that makes the
/// query set, since counting the rows and loading one page are two queries.
///
/// ```
/// # use manouche::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String }
/// use manouche::db::Paginator;
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// let page = Paginator::new(|| Tea::objects().order_by(Tea::name), 25).page_sync(conn, 2)?;
/// for tea in &page.object_list { println!("{}", tea.name); }
/// println!("page {} of {}, teas {} to {}", page.number, page.num_pages, page.start_index(), page.end_index());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Paginator<F> {
    make: F,
    per_page: i64,
    orphans: i64,
    allow_empty_first_page: bool,
}

/// One page of a [`Paginator`]: Django's `Page`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<M> {
    /// The rows of this page.
    pub object_list: Vec<M>,
    /// This page's number, from 1.
    pub number: i64,
    /// How many pages there are (at least 1 when an empty first page is allowed).
    pub num_pages: i64,
    /// How many rows there are in all pages.
    pub count: i64,
    per_page: i64,
}

impl<F> Paginator<F> {
    /// Pages of `per_page` rows (at least 1) of the query set `make` returns.
    pub fn new(make: F, per_page: u32) -> Self {
        Paginator { make, per_page: i64::from(per_page.max(1)), orphans: 0, allow_empty_first_page: true }
    }

    /// Django's `orphans`: a last page of this many rows or fewer is merged into the one before.
    #[must_use]
    pub fn orphans(mut self, orphans: u32) -> Self {
        self.orphans = i64::from(orphans);
        self
    }

    /// Django's `allow_empty_first_page` (default true): when false, no rows is an invalid page.
    #[must_use]
    pub fn allow_empty_first_page(mut self, allow: bool) -> Self {
        self.allow_empty_first_page = allow;
        self
    }

    /// The number of pages for `count` rows.
    pub(crate) fn num_pages(&self, count: i64) -> i64 {
        if count == 0 && !self.allow_empty_first_page {
            return 0;
        }
        let hits = (count - self.orphans).max(1);
        ((hits + self.per_page - 1) / self.per_page).max(1)
    }

    /// Checks a page number against the page count: Django's `validate_number`.
    pub(crate) fn validate(&self, number: i64, num_pages: i64) -> Result<(), Error> {
        if number < 1 {
            return Err(Error::InvalidPage { message: "that page number is less than 1".into() });
        }
        if number > num_pages {
            return Err(Error::InvalidPage {
                message: if num_pages == 0 {
                    "that page contains no results".into()
                } else {
                    format!("that page contains no results; there are {num_pages}")
                },
            });
        }
        Ok(())
    }
}

impl<F, M> Paginator<F>
where
    F: Fn() -> QuerySet<M>,
    M: Model,
    M::Query: SelectDsl<CountStar>
        + LimitDsl<Output = M::Query>
        + OffsetDsl<Output = M::Query>
        + LoadQuery<'static, AnyConnection, M>,
    <M::Query as SelectDsl<CountStar>>::Output: LoadQuery<'static, AnyConnection, i64>,
{
    /// Page `number` (from 1), Django's `paginator.page(number)`: two queries, the count and the
    /// page's rows.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPage`] (a 404 in a view) for a number out of range; [`Error::Query`] when a
    /// query fails.
    pub fn page_sync(&self, conn: &mut AnyConnection, number: i64) -> Result<Page<M>, Error> {
        let count = (self.make)().count_sync(conn)?;
        let num_pages = self.num_pages(count);
        self.validate(number, num_pages)?;
        let offset = (number - 1) * self.per_page;
        let mut limit = self.per_page;
        if number == num_pages {
            // The last page takes the orphans.
            limit = count - offset;
        }
        let object_list = (self.make)().offset(offset).limit(limit.max(0)).all_sync(conn)?;
        Ok(Page { object_list, number, num_pages, count, per_page: self.per_page })
    }

    /// Django's `paginator.get_page(number)`: a page number that is missing or not a number is
    /// the first page, one past the end the last page.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when a query fails; [`Error::InvalidPage`] only when there are no rows and
    /// an empty first page is not allowed.
    pub fn get_page_sync(&self, conn: &mut AnyConnection, number: Option<&str>) -> Result<Page<M>, Error> {
        let number = number.and_then(|n| n.trim().parse::<i64>().ok()).unwrap_or(1).max(1);
        match self.page_sync(conn, number) {
            Err(Error::InvalidPage { .. }) if number > 1 => {
                let count = (self.make)().count_sync(conn)?;
                self.page_sync(conn, self.num_pages(count).max(1))
            }
            other => other,
        }
    }
}

impl<F, M> Paginator<F>
where
    F: Fn() -> QuerySet<M> + Send + Sync + 'static,
    M: Model + Send,
    M::Query: SelectDsl<CountStar>
        + LimitDsl<Output = M::Query>
        + OffsetDsl<Output = M::Query>
        + LoadQuery<'static, AnyConnection, M>,
    <M::Query as SelectDsl<CountStar>>::Output: LoadQuery<'static, AnyConnection, i64>,
{
    /// [`Paginator::page_sync`] on the blocking pool, for views.
    ///
    /// # Errors
    ///
    /// As [`Paginator::page_sync`], plus [`Error::Unavailable`].
    pub async fn page(self, db: &Database, number: i64) -> Result<Page<M>, Error> {
        db.run(move |conn| self.page_sync(conn, number)).await
    }

    /// [`Paginator::get_page_sync`] on the blocking pool, for views.
    ///
    /// # Errors
    ///
    /// As [`Paginator::get_page_sync`], plus [`Error::Unavailable`].
    pub async fn get_page(self, db: &Database, number: Option<String>) -> Result<Page<M>, Error> {
        db.run(move |conn| self.get_page_sync(conn, number.as_deref())).await
    }
}

impl<M> Page<M> {
    /// Whether a page follows.
    pub fn has_next(&self) -> bool {
        self.number < self.num_pages
    }

    /// Whether a page precedes.
    pub fn has_previous(&self) -> bool {
        self.number > 1
    }

    /// Whether there is more than one page.
    pub fn has_other_pages(&self) -> bool {
        self.has_next() || self.has_previous()
    }

    /// The next page's number, if any.
    pub fn next_page_number(&self) -> Option<i64> {
        self.has_next().then_some(self.number + 1)
    }

    /// The previous page's number, if any.
    pub fn previous_page_number(&self) -> Option<i64> {
        self.has_previous().then_some(self.number - 1)
    }

    /// The 1-based index of this page's first row among all rows (0 when there are none).
    pub fn start_index(&self) -> i64 {
        if self.count == 0 { 0 } else { (self.number - 1) * self.per_page + 1 }
    }

    /// The 1-based index of this page's last row among all rows.
    pub fn end_index(&self) -> i64 {
        if self.count == 0 { 0 } else { self.start_index() - 1 + self.object_list.len() as i64 }
    }

    /// Every page number, Django's `paginator.page_range`.
    pub fn page_range(&self) -> RangeInclusive<i64> {
        1..=self.num_pages
    }
}
