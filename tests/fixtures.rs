//! `dumpdata` and `loaddata`: the seeded shop dumped, loaded into fresh databases (SQLite and
//! PostgreSQL), and dumped again to the same fixture.

use manouche::conf::Settings;

fn shop_project(database_url: &str) -> manouche::Project {
    let settings = Settings::load_with_env(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/manouche.toml"),
        [("DATABASE_URL".to_owned(), database_url.to_owned())],
    )
    .unwrap();
    example_shop::configure(manouche::Project::new(settings))
}

fn scratch_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("manouche-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_dumped_shop_loads_into_a_fresh_database_and_dumps_the_same() {
    let source = shop_project(&format!("sqlite://{}", scratch_file("source.sqlite3").display()));
    for step in ["migrate", "seed"] {
        assert!(source.call_command([step]).success());
    }
    let fixture = scratch_file("shop.json");
    let out = source.call_command(["dumpdata", "shop", "--indent", "2", "--output", &fixture.display().to_string()]);
    assert!(out.success(), "{}", out.stderr);
    let dumped: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let objects = dumped.as_array().unwrap();
    let sencha =
        objects.iter().find(|o| o["model"] == "shop.product" && o["fields"]["slug"] == "sencha-kyoto").unwrap();
    assert!(sencha["pk"].is_i64(), "{sencha}");
    assert_eq!(sencha["fields"]["price"], "14.00", "decimals as exact strings, as Django writes them");
    assert_eq!(sencha["fields"]["active"], true);
    assert!(sencha["fields"]["category"].is_i64(), "a foreign key is its target's key");
    let category_index = objects.iter().position(|o| o["model"] == "shop.category").unwrap();
    let product_index = objects.iter().position(|o| o["model"] == "shop.product").unwrap();
    assert!(category_index < product_index, "targets of foreign keys come first");
    let one: serde_json::Value =
        serde_json::from_str(&source.call_command(["dumpdata", "shop.Category"]).stdout).unwrap();
    assert!(one.as_array().unwrap().iter().all(|o| o["model"] == "shop.category"));

    let mut targets = vec![format!("sqlite://{}", scratch_file("copy.sqlite3").display())];
    let _scratch = crate::db::postgres_admin().map(|admin| {
        let scratch = crate::db::fresh_postgres_database(&admin, "fixtures");
        targets.push(scratch.url.clone());
        scratch
    });
    for url in targets {
        let copy = shop_project(&url);
        assert!(copy.call_command(["migrate"]).success());
        let loaded = copy.call_command(["loaddata", &fixture.display().to_string()]);
        assert!(loaded.success(), "{url}: {}", loaded.stderr);
        assert_eq!(loaded.stdout, format!("Installed {} objects from 1 fixture.\n", objects.len()));
        let again = copy.call_command(["dumpdata", "shop", "--indent", "2"]);
        let reloaded: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert_eq!(reloaded, dumped, "{url}: the same rows, keys and values");
        // Loading twice updates the rows in place; new rows still get fresh keys after it.
        assert!(copy.call_command(["loaddata", &fixture.display().to_string()]).success());
        let db = manouche::db::Database::connect(
            &manouche::conf::DatabaseUrl::parse(&url, "/".as_ref()).unwrap(),
            Default::default(),
        );
        let herbal = db
            .run_sync(|conn| {
                use manouche::db::Model as _;
                example_shop::shop::models::Category { id: 0, name: "Herbal".into(), slug: "herbal".into() }
                    .save_sync(conn)
            })
            .unwrap_or_else(|e| panic!("{url}: an insert after a load must not collide with loaded keys: {e}"));
        assert_eq!(herbal.id, 4, "{url}");
    }
}

#[test]
fn loaddata_reports_bad_fixtures_and_loads_nothing_then() {
    let project = shop_project(&format!("sqlite://{}", scratch_file("bad.sqlite3").display()));
    assert!(project.call_command(["migrate"]).success());
    let fixture = scratch_file("bad.json");
    std::fs::write(
        &fixture,
        r#"[{"model": "shop.category", "pk": 1, "fields": {"name": "Teas", "slug": "teas"}},
            {"model": "shop.product", "pk": 1, "fields": {"name": "X", "slug": "x", "category": 1, "description": "",
             "price": "cheap", "stock": 1, "active": true, "created_at": "2026-01-01 00:00:00", "updated_at": "2026-01-01 00:00:00"}}]"#,
    )
    .unwrap();
    let out = project.call_command(["loaddata", &fixture.display().to_string()]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("nothing was loaded") && out.stderr.contains("price"), "{}", out.stderr);
    let dumped = project.call_command(["dumpdata", "shop.Category"]);
    assert_eq!(dumped.stdout.trim(), "[]", "the category of the failed load was rolled back");
    std::fs::write(&fixture, r#"[{"model": "shop.teapot", "pk": 1, "fields": {}}]"#).unwrap();
    let unknown = project.call_command(["loaddata", &fixture.display().to_string()]);
    assert!(unknown.stderr.contains("unknown model `shop.teapot`"), "{}", unknown.stderr);
    assert_eq!(project.call_command(["dumpdata", "kitchen"]).code, 2);
}
