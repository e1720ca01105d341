//! `dumpdata` and `loaddata`: JSON fixtures in Django's format, through the model registry.
//!
//! ```json
//! [{"model": "shop.category", "pk": 1, "fields": {"name": "Green teas", "slug": "green"}}]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value as Json};

use super::{Argument, Command, CommandContext, CommandError};
use crate::db::{Backend, FieldType, ModelMeta, Registered};

/// The registered models of the project's apps, targets of foreign keys first (the order rows
/// can be inserted in).
fn project_models(ctx: &CommandContext<'_>) -> Vec<&'static dyn Registered> {
    let apps: Vec<&str> = ctx.project().apps().iter().map(crate::App::name).collect();
    let metas: Vec<&'static ModelMeta> =
        crate::db::registered_models().into_iter().filter(|m| apps.contains(&m.app)).collect();
    crate::migrations::creation_order(metas).into_iter().filter_map(|m| crate::db::model(&m.label())).collect()
}

/// A field's text as the JSON value Django writes: numbers and booleans as such, JSON fields
/// inline, an empty nullable field as `null`, everything else as a string.
fn to_json(meta: &ModelMeta, field: &str, text: String) -> Json {
    let Some(spec) = meta.field(field) else { return Json::String(text) };
    if spec.nullable && text.is_empty() {
        return Json::Null;
    }
    let number = || text.parse::<i64>().map(Json::from).ok();
    match spec.ty {
        FieldType::SmallInt | FieldType::Integer | FieldType::BigInt => number().unwrap_or(Json::String(text)),
        FieldType::Float | FieldType::Double => text.parse::<f64>().map(Json::from).unwrap_or(Json::String(text)),
        FieldType::Bool => Json::Bool(text == "true"),
        FieldType::Json => serde_json::from_str(&text).unwrap_or(Json::String(text)),
        FieldType::ForeignKey => number().unwrap_or(Json::String(text)),
        _ => Json::String(text),
    }
}

/// A fixture's JSON value as the field's text.
fn to_text(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug)]
pub(super) struct DumpData;

impl Command for DumpData {
    fn name(&self) -> &'static str {
        "dumpdata"
    }
    fn help(&self) -> &'static str {
        "Writes the rows of every model (or of the apps and `app.Model`s named) as a JSON fixture."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::many("app_or_model", "apps (`shop`) or models (`shop.Product`) to dump; all when none"),
            Argument::option("indent", "N", "pretty-print with N spaces"),
            Argument::option("output", "FILE", "write to FILE instead of standard output"),
        ]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let wanted = ctx.many().to_vec();
        let models: Vec<&'static dyn Registered> = project_models(ctx)
            .into_iter()
            .filter(|m| {
                wanted.is_empty()
                    || wanted.iter().any(|w| w == m.meta().app || w.eq_ignore_ascii_case(&m.meta().label()))
            })
            .collect();
        for name in &wanted {
            let known = models.iter().any(|m| name == m.meta().app || name.eq_ignore_ascii_case(&m.meta().label()));
            if !known {
                return Err(CommandError::usage(format!("no app or model `{name}` in the project")));
            }
        }
        let indent = match ctx.arg("indent") {
            Some(n) => Some(
                n.parse::<usize>()
                    .map_err(|_| CommandError::usage(format!("`--indent` takes a number, found `{n}`")))?,
            ),
            None => None,
        };
        let db = ctx.db()?;
        let objects = db
            .run_sync(|conn| {
                let mut objects = Vec::new();
                for model in &models {
                    let meta = model.meta();
                    let key = meta.primary_key().map_or("id", |f| f.name.as_ref());
                    for row in model.dump(conn)? {
                        let mut fields = Map::new();
                        for (name, text) in row.values {
                            if name != key {
                                fields.insert(name.to_owned(), to_json(meta, name, text));
                            }
                        }
                        let mut object = Map::new();
                        object.insert("model".into(), Json::String(meta.label().to_lowercase()));
                        object.insert("pk".into(), to_json(meta, key, row.pk));
                        object.insert("fields".into(), Json::Object(fields));
                        objects.push(Json::Object(object));
                    }
                }
                Ok(Json::Array(objects))
            })
            .map_err(|e| CommandError::new(format!("cannot read the database: {e}")))?;
        let text = match indent {
            Some(width) => {
                let indent = " ".repeat(width);
                let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
                let mut out = Vec::new();
                let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
                serde::Serialize::serialize(&objects, &mut serializer).map_err(|e| CommandError::new(e.to_string()))?;
                String::from_utf8_lossy(&out).into_owned()
            }
            None => objects.to_string(),
        };
        match ctx.arg("output") {
            Some(path) => {
                std::fs::write(path, text + "\n").map_err(|e| CommandError::new(format!("cannot write {path}: {e}")))
            }
            None => ctx.write_line(&text),
        }
    }
}

#[derive(Debug)]
pub(super) struct LoadData;

impl Command for LoadData {
    fn name(&self) -> &'static str {
        "loaddata"
    }
    fn help(&self) -> &'static str {
        "Saves the rows of JSON fixtures (as `dumpdata` writes them), all or nothing."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::many("fixture", "fixture files")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let files = ctx.many().to_vec();
        if files.is_empty() {
            return Err(CommandError::usage("name at least one fixture file"));
        }
        let mut objects: Vec<(&'static dyn Registered, String, BTreeMap<String, String>)> = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(Path::new(file))
                .map_err(|e| CommandError::new(format!("cannot read fixture {file}: {e}")))?;
            let parsed: Json =
                serde_json::from_str(&text).map_err(|e| CommandError::new(format!("{file} is not valid JSON: {e}")))?;
            let Json::Array(items) = parsed else {
                return Err(CommandError::new(format!("{file}: a fixture is a JSON list of objects")));
            };
            for (n, item) in items.iter().enumerate() {
                let bad = |what: &str| CommandError::new(format!("{file}: object {}: {what}", n + 1));
                let label = item.get("model").and_then(Json::as_str).ok_or_else(|| bad("no \"model\""))?;
                let model = crate::db::model(label).ok_or_else(|| bad(&format!("unknown model `{label}`")))?;
                let pk = item.get("pk").map(to_text).ok_or_else(|| bad("no \"pk\""))?;
                let fields = item.get("fields").and_then(Json::as_object).ok_or_else(|| bad("no \"fields\" object"))?;
                let values = fields.iter().map(|(name, value)| (name.clone(), to_text(value))).collect();
                objects.push((model, pk, values));
            }
        }
        let db = ctx.db()?;
        let count = objects.len();
        let backend = db.backend();
        db.atomic_sync(move |conn| {
            let mut loaded: Vec<&'static ModelMeta> = Vec::new();
            for (model, pk, values) in &objects {
                model.load(conn, pk, values)?;
                if !loaded.iter().any(|m| std::ptr::eq(*m, model.meta())) {
                    loaded.push(model.meta());
                }
            }
            if backend == Backend::Postgres {
                for meta in loaded {
                    reset_sequence(conn, meta)?;
                }
            }
            Ok(())
        })
        .map_err(|e| CommandError::new(format!("nothing was loaded: {e}")))?;
        ctx.write_line(&format!(
            "Installed {count} object{} from {} fixture{}.",
            if count == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ))
    }
}

/// PostgreSQL: moves an auto key's sequence past the keys a fixture inserted (Django's
/// `sqlsequencereset`), so the next ordinary insert does not collide.
fn reset_sequence(conn: &mut crate::db::AnyConnection, meta: &ModelMeta) -> Result<(), crate::db::Error> {
    use diesel::connection::SimpleConnection;
    let Some(key) = meta.primary_key().filter(|k| k.auto) else { return Ok(()) };
    let (table, column) = (meta.table.replace('"', "\"\""), key.column.replace('"', "\"\""));
    conn.batch_execute(&format!(
        "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), COALESCE(MAX(\"{column}\"), 1), \
         MAX(\"{column}\") IS NOT NULL) FROM \"{table}\""
    ))?;
    Ok(())
}
