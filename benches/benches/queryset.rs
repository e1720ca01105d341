//! A query-set fetch against the same query in hand-written Diesel, and `bulk_create` against a
//! `save` per row, on one SQLite connection.
//! `cargo bench -p manouche-bench`; the README's performance section reports the result.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};

fn fetch(c: &mut Criterion) {
    let db = manouche_bench::database(5_000);
    db.run_sync(|conn| {
        let (a, b) = (manouche_bench::with_queryset(conn)?, manouche_bench::with_diesel(conn)?);
        assert_eq!(a.len(), b.len(), "both forms return the same rows");
        assert!(a.iter().zip(&b).all(|(x, y)| x.id == y.id));
        let mut group = c.benchmark_group("fetch 50 of 5000 rows");
        group.bench_function("query set", |bench| {
            bench.iter(|| manouche_bench::with_queryset(conn).expect("query set"));
        });
        group.bench_function("hand-written diesel", |bench| {
            bench.iter(|| manouche_bench::with_diesel(conn).expect("diesel"));
        });
        group.finish();
        Ok(())
    })
    .expect("a connection");
}

fn insert(c: &mut Criterion) {
    let db = manouche_bench::database(0);
    db.run_sync(|conn| {
        let mut group = c.benchmark_group("insert 1000 rows");
        group.bench_function("bulk_create", |bench| {
            bench.iter_batched(
                || manouche_bench::items(1_000),
                |items| manouche_bench::insert_bulk(conn, items).expect("bulk_create"),
                criterion::BatchSize::LargeInput,
            );
        });
        group.bench_function("save each, in one transaction", |bench| {
            bench.iter_batched(
                || manouche_bench::items(1_000),
                |items| manouche_bench::insert_one_by_one(conn, items).expect("save"),
                criterion::BatchSize::LargeInput,
            );
        });
        group.finish();
        Ok(())
    })
    .expect("a connection");
}

criterion_group!(benches, fetch, insert);
criterion_main!(benches);
