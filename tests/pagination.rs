//! `Paginator` over query sets, as Django's pagination tests check it.

use manouche::db::{Error, Model, Paginator};
use manouche::prelude::*;

#[model(app = "paging")]
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    #[field(primary_key, auto)]
    pub id: i64,
    pub n: i32,
}

/// The tests share the table on PostgreSQL: one at a time.
static TABLE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn with_leaves(count: i32, check: impl Fn(&mut manouche::db::Connection) -> Result<(), Error> + Send + 'static) {
    let _turn = TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in crate::common::test_databases("pagination") {
        crate::common::recreate_tables(&db, &[Leaf::meta()]);
        let leaves: Vec<Leaf> = (1..=count).map(|n| Leaf { id: 0, n }).collect();
        db.run_sync(|conn| Leaf::objects().bulk_create_sync(conn, leaves)).unwrap();
        db.run_sync(|conn| check(conn)).unwrap();
    }
}

fn numbers(page: &manouche::db::Page<Leaf>) -> Vec<i32> {
    page.object_list.iter().map(|l| l.n).collect()
}

#[test]
fn pages_split_the_rows_in_order() {
    with_leaves(23, |conn| {
        let paginator = Paginator::new(|| Leaf::objects().order_by(Leaf::n), 10);
        let first = paginator.page_sync(conn, 1)?;
        assert_eq!((first.count, first.num_pages, numbers(&first)), (23, 3, (1..=10).collect()));
        assert_eq!((first.has_previous(), first.has_next(), first.next_page_number()), (false, true, Some(2)));
        let last = paginator.page_sync(conn, 3)?;
        assert_eq!(numbers(&last), [21, 22, 23]);
        assert_eq!((last.start_index(), last.end_index(), last.previous_page_number()), (21, 23, Some(2)));
        assert_eq!(last.page_range(), 1..=3);
        for bad in [0, 4, -1] {
            let error = paginator.page_sync(conn, bad).unwrap_err();
            assert!(matches!(error, Error::InvalidPage { .. }), "{bad}: {error:?}");
            assert_eq!(error.status(), 404);
        }
        Ok(())
    });
}

#[test]
fn orphans_join_the_last_page_and_get_page_is_lenient() {
    with_leaves(23, |conn| {
        let paginator = Paginator::new(|| Leaf::objects().order_by(Leaf::n), 10).orphans(3);
        let last = paginator.page_sync(conn, 2)?;
        assert_eq!((last.num_pages, last.object_list.len(), last.end_index()), (2, 13, 23), "3 orphans join page 2");
        assert_eq!(paginator.get_page_sync(conn, Some("two"))?.number, 1);
        assert_eq!(paginator.get_page_sync(conn, None)?.number, 1);
        assert_eq!(paginator.get_page_sync(conn, Some("99"))?.number, 2);
        Ok(())
    });
}

#[test]
fn an_empty_query_set_has_one_empty_page_unless_refused() {
    with_leaves(0, |conn| {
        let page = Paginator::new(Leaf::objects, 10).page_sync(conn, 1)?;
        assert_eq!((page.num_pages, page.count, page.start_index(), page.end_index()), (1, 0, 0, 0));
        assert!(page.object_list.is_empty() && !page.has_other_pages());
        let strict = Paginator::new(Leaf::objects, 10).allow_empty_first_page(false);
        assert!(matches!(strict.page_sync(conn, 1), Err(Error::InvalidPage { .. })));
        Ok(())
    });
}

#[test]
fn integer_sums_and_averages_read_the_same_on_both_backends() {
    use manouche::db::{avg, sum};
    with_leaves(4, |conn| {
        // n = 1, 2, 3, 4; ids are 64-bit.
        let total: Option<i64> = Leaf::objects().aggregate(sum(Leaf::n)).one_sync(conn)?;
        assert_eq!(total, Some(10));
        let ids: Option<i64> = Leaf::objects().aggregate(sum(Leaf::id)).one_sync(conn)?;
        assert_eq!(ids, Some(10), "a BIGINT sum reads as i64, not NUMERIC");
        let mean: Option<f64> = Leaf::objects().filter(Leaf::n.le(2)).aggregate(avg(Leaf::n)).one_sync(conn)?;
        assert_eq!(mean, Some(1.5), "the average of integers is not truncated");
        let both: (Option<i64>, Option<f64>) =
            Leaf::objects().filter(Leaf::n.gt(100)).aggregate((sum(Leaf::n), avg(Leaf::id))).one_sync(conn)?;
        assert_eq!(both, (None, None), "over no rows: NULL, as Django's Sum and Avg");
        Ok(())
    });
}

#[test]
fn distinct_values_in_either_order_of_calls() {
    with_leaves(0, |conn| {
        let rows: Vec<Leaf> = [1, 1, 2, 2, 2, 3].into_iter().map(|n| Leaf { id: 0, n }).collect();
        Leaf::objects().bulk_create_sync(conn, rows)?;
        let mut after: Vec<i32> = Leaf::objects().values_list(Leaf::n).distinct().all_sync(conn)?;
        let mut before: Vec<i32> = Leaf::objects().distinct().values_list(Leaf::n).all_sync(conn)?;
        after.sort_unstable();
        before.sort_unstable();
        assert_eq!((after.as_slice(), before.as_slice()), ([1, 2, 3].as_slice(), [1, 2, 3].as_slice()));
        Ok(())
    });
}
