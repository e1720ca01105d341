//! The TechEmpower benchmark app (`benches/src/techempower.rs`) answers every test by the
//! benchmark's rules, through the test client on SQLite (and PostgreSQL when set); the timings
//! are `te_compare`'s, not CI's.

use manouche::db::Model as _;
use manouche::prelude::*;
use manouche::test::{Client, TestDatabase};
use manouche_bench::techempower::{self, ADDED_FORTUNE, FORTUNES, World};

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Row {
    id: i32,
    #[serde(rename = "randomNumber")]
    random_number: i32,
}

#[test]
fn every_techempower_endpoint_answers_by_the_rules() {
    for db in TestDatabase::all("techempower") {
        techempower::prepare(&db.connect()).unwrap();
        let project = db.project(Project::new(Settings::for_tests()).app(techempower::app())).unwrap();
        let client = Client::new(project).unwrap();
        let name = format!("{:?}", db.backend());

        let json = client.get("/json").send();
        assert_eq!(json.text(), r#"{"message":"Hello, World!"}"#, "{name}");
        assert_eq!(json.header("content-type"), Some("application/json"));
        let plain = client.get("/plaintext").send();
        assert_eq!((plain.text().as_str(), plain.header("content-type")), ("Hello, World!", Some("text/plain")));

        let one: Row = client.get("/db").send().json().unwrap();
        assert!((1..=10_000).contains(&one.id) && (1..=10_000).contains(&one.random_number), "{name}: {one:?}");
        // q: 1 to 500, 1 when missing or not a number.
        for (q, expected) in [("", 1), ("?q=foo", 1), ("?q=0", 1), ("?q=20", 20), ("?q=501", 500)] {
            let rows: Vec<Row> = client.get(&format!("/queries{q}")).send().json().unwrap();
            assert_eq!(rows.len(), expected, "{name}: /queries{q}");
        }
        let rows: Vec<Row> = client.get("/queries?q=20").send().json().unwrap();
        let mut ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        ids.dedup();
        assert!(ids.len() > 1, "{name}: random ids, not one row twenty times");

        let fortunes = client.get("/fortunes").send();
        assert_eq!(fortunes.header("content-type"), Some("text/html; charset=utf-8"));
        let html = fortunes.text();
        assert!(html.contains("<td>0</td><td>Additional fortune added at request time.</td>"), "{name}: {html}");
        assert!(html.contains("&#60;script&#62;alert(&#34;This should not be displayed"), "{name}: escaped: {html}");
        assert!(html.contains("フレームワークのベンチマーク"));
        let mut messages: Vec<&str> = FORTUNES.to_vec();
        messages.push(ADDED_FORTUNE);
        messages.sort_unstable();
        let positions: Vec<usize> = messages
            .iter()
            .map(|m| {
                let escaped = m
                    .replace('&', "&#38;")
                    .replace('<', "&#60;")
                    .replace('>', "&#62;")
                    .replace('"', "&#34;")
                    .replace('\'', "&#39;");
                html.find(&escaped).unwrap_or_else(|| panic!("{name}: {m} missing"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{name}: sorted by message");

        let updated: Vec<Row> = client.get("/updates?q=5").send().json().unwrap();
        assert_eq!(updated.len(), 5);
        for row in &updated {
            let id = row.id;
            let stored =
                client.db().run_sync(move |conn| World::objects().filter(World::id.eq(id)).get_sync(conn)).unwrap();
            let last = updated.iter().rev().find(|r| r.id == id).unwrap();
            assert_eq!(stored.randomnumber, last.random_number, "{name}: the update was persisted");
        }
    }
}
