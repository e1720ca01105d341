//! Migration files: what `makemigrations` writes, and the folder listing it keeps.

use std::path::Path;

use super::operation::Operation;

/// The file of a new migration.
pub(crate) fn render(app: &str, name: &str, dependencies: &[(String, String)], operations: &[Operation]) -> String {
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let mut out = format!(
        "//! Migration `{name}` of the `{app}` app, written by `makemigrations` (Manouche {}) on {now}.\n",
        env!("CARGO_PKG_VERSION")
    );
    if !operations.is_empty() {
        out.push_str("//!\n");
        for operation in operations {
            out.push_str(&format!("//! - {}\n", operation.describe()));
        }
    }
    out.push_str("\nuse manouche::migrations::prelude::*;\n\n/// The migration.\npub fn migration() -> Migration {\n");
    out.push_str(&format!("    Migration::new({name:?})"));
    for (dep_app, dep_name) in dependencies {
        out.push_str(&format!("\n        .depends_on({dep_app:?}, {dep_name:?})"));
    }
    for operation in operations {
        out.push_str(&format!("\n        .operation({})", operation.to_rust()));
    }
    if operations.is_empty() {
        out.push_str(
            "\n    // Add operations here, e.g. `.operation(run_sql(\"UPDATE ...\").reverse(\"UPDATE ...\"))`, or\n    \
             // `.operation(run_rust(forward).reverse(backward))` with\n    \
             // `fn forward(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error>`.",
        );
    }
    out.push_str("\n}\n");
    out
}

/// The folder's `mod.rs`: one module per migration file and the list `App::migrations` takes.
pub(crate) fn render_listing(app: &str, names: &[String]) -> String {
    let mut out =
        format!("//! Migrations of the `{app}` app. `makemigrations` writes this file when it adds a migration.\n");
    for name in names {
        out.push_str(&format!("\n#[path = \"{name}.rs\"]\npub mod m{name};\n"));
    }
    out.push_str("\n/// The app's migrations, in order: what `App::migrations` takes.\n");
    out.push_str("pub fn all() -> Vec<manouche::migrations::Migration> {\n    vec![");
    let calls: Vec<String> = names.iter().map(|n| format!("m{n}::migration()")).collect();
    if !calls.is_empty() {
        out.push_str(&format!("\n        {},\n    ", calls.join(",\n        ")));
    }
    out.push_str("]\n}\n");
    out
}

/// The migration files in `dir` (`0001_initial.rs`, ...), by name, sorted.
pub(crate) fn on_disk(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    if !dir.is_dir() {
        return Ok(names);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        if path.extension().is_some_and(|e| e == "rs")
            && valid_name(stem)
            && stem.starts_with(|c: char| c.is_ascii_digit())
        {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Lowercase letters, digits and `_`: a name that makes a module name after `m`.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `0002_product_stock`: the number, then what the operations do (Django's names).
pub(crate) fn auto_name(number: u32, operations: &[Operation], first: bool) -> String {
    let suffix = if first {
        "initial".to_owned()
    } else if operations.is_empty() {
        "empty".to_owned()
    } else {
        let fragments: Vec<String> = operations.iter().map(Operation::name_fragment).collect();
        let joined = fragments.join("_");
        if joined.len() <= 50 { joined } else { format!("{}_and_more", fragments[0]) }
    };
    let suffix: String =
        suffix.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{number:04}_{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::FieldType;
    use crate::migrations::prelude::*;

    #[test]
    fn names_say_what_the_migration_does() {
        let add = add_field("Product", field("stock", FieldType::Integer).default("0"));
        assert_eq!(auto_name(1, std::slice::from_ref(&add), true), "0001_initial");
        assert_eq!(auto_name(2, std::slice::from_ref(&add), false), "0002_product_stock");
        let many = vec![add.clone(), remove_field("Product", "colour"), rename_field("Product", "title", "name")];
        assert_eq!(auto_name(3, &many, false), "0003_product_stock_and_more");
        assert_eq!(auto_name(4, &[], false), "0004_empty");
    }

    #[test]
    fn a_rust_step_is_never_written_back_as_a_silent_no_op() {
        fn step(_: &mut crate::db::Connection) -> Result<(), crate::db::Error> {
            Ok(())
        }
        let source = render("shop", "0002_data", &[], &[run_rust(step).into()]);
        assert!(source.contains("run_rust(compile_error!("), "{source}");
    }

    #[test]
    fn the_listing_names_every_file() {
        let listing = render_listing("shop", &["0001_initial".to_owned(), "0002_product_stock".to_owned()]);
        assert!(listing.contains("#[path = \"0002_product_stock.rs\"]\npub mod m0002_product_stock;"), "{listing}");
        assert!(
            listing.contains("m0001_initial::migration(),\n        m0002_product_stock::migration(),"),
            "{listing}"
        );
        assert!(render_listing("shop", &[]).contains("vec![]"));
    }
}
