//! `makemigrations`' diff: the operations that take the state the migrations build to the models
//! compiled into the program.

use std::collections::{BTreeMap, BTreeSet};

use super::Error;
use super::operation::Operation;
use super::sql::sql_literal;
use super::state::{Field, ModelState, ProjectState};
use crate::db::Backend;

/// Answers the questions a diff cannot settle alone: was this a rename, or a removal and an
/// addition?
pub(crate) trait Questioner {
    /// Was the model `from` renamed to `to`?
    fn rename_model(&mut self, app: &str, from: &str, to: &str) -> bool;
    /// Was `model.from` renamed to `model.to` (of the described kind)?
    fn rename_field(&mut self, model: &str, from: &str, to: &str, kind: &str) -> bool;
}

/// The operations, per app, that take `from` to `to` for `apps`, in the order they must run.
///
/// # Errors
///
/// [`Error::Unsupported`] for a change migrations cannot make (a new non-null field without a
/// default, a new primary key, a default that is not a literal).
pub(crate) fn changes(
    from: &ProjectState,
    to: &ProjectState,
    apps: &[String],
    questioner: &mut dyn Questioner,
) -> Result<BTreeMap<String, Vec<Operation>>, Error> {
    let mut current = from.clone();
    let mut out = BTreeMap::new();
    for app in apps {
        let mut ops = Ops { app, ops: Vec::new() };
        models_renamed(&mut ops, &mut current, to, questioner)?;
        models_created(&mut ops, &mut current, to)?;
        let both: Vec<String> =
            to.app_models(app).filter(|m| current.model(app, &m.name).is_some()).map(|m| m.name.clone()).collect();
        for name in both {
            if let Some(target) = to.model(app, &name) {
                model_changed(&mut ops, &mut current, target, questioner)?;
            }
        }
        models_deleted(&mut ops, &mut current, to)?;
        // What the operations build must be what the models say: anything else is a bug here.
        let built: Vec<&ModelState> = current.app_models(app).collect();
        let wanted: Vec<&ModelState> = to.app_models(app).collect();
        let same =
            built.len() == wanted.len() && built.iter().zip(&wanted).all(|(a, b)| a.name == b.name && a.same_schema(b));
        if !same {
            return Err(Error::Unsupported(format!(
                "makemigrations could not express the changes to `{app}` as operations; please report this with the models involved"
            )));
        }
        if !ops.ops.is_empty() {
            out.insert(app.clone(), ops.ops);
        }
    }
    Ok(out)
}

/// The operations of one app, each applied to the working state as it is added.
struct Ops<'a> {
    app: &'a str,
    ops: Vec<Operation>,
}

impl Ops<'_> {
    fn push(&mut self, operation: Operation, state: &mut ProjectState) -> Result<(), Error> {
        operation.apply(self.app, state)?;
        self.ops.push(operation);
        Ok(())
    }
}

/// The same fields and groups, whatever the names of model and table.
fn same_shape(a: &ModelState, b: &ModelState) -> bool {
    a.same_schema(&ModelState { table: a.table.clone(), ..b.clone() })
}

fn models_renamed(
    ops: &mut Ops<'_>,
    current: &mut ProjectState,
    to: &ProjectState,
    questioner: &mut dyn Questioner,
) -> Result<(), Error> {
    let app = ops.app;
    let added: Vec<ModelState> =
        to.app_models(app).filter(|m| current.model(app, &m.name).is_none()).cloned().collect();
    for new in added {
        let removed: Vec<ModelState> =
            current.app_models(app).filter(|m| to.model(app, &m.name).is_none()).cloned().collect();
        if let Some(old) = removed.iter().find(|old| same_shape(old, &new))
            && questioner.rename_model(app, &old.name, &new.name)
        {
            ops.push(Operation::RenameModel { from: old.name.clone(), to: new.name.clone() }, current)?;
            if old.table != new.table {
                ops.push(Operation::AlterModelTable { name: new.name.clone(), table: new.table.clone() }, current)?;
            }
        }
    }
    Ok(())
}

fn models_created(ops: &mut Ops<'_>, current: &mut ProjectState, to: &ProjectState) -> Result<(), Error> {
    let app = ops.app;
    let created: Vec<ModelState> =
        to.app_models(app).filter(|m| current.model(app, &m.name).is_none()).cloned().collect();
    // A model after the new models its foreign keys point to.
    for model in in_order(created, |m, pending| {
        m.fields
            .iter()
            .filter_map(|f| f.relation.as_ref())
            .map(|r| r.to.label())
            .all(|target| target == m.label() || !pending.iter().any(|p| p.label() == target))
    }) {
        let operation = Operation::CreateModel {
            name: model.name,
            table: model.table,
            fields: model.fields,
            unique_together: model.unique_together,
            indexes: model.indexes,
        };
        ops.push(operation, current)?;
    }
    Ok(())
}

/// Existing rows need a value for a new non-null field: its default, or now.
fn check_fillable(model: &ModelState, field: &Field) -> Result<(), Error> {
    if field.primary_key {
        return Err(Error::Unsupported(format!(
            "`{}.{}` is a new primary key: migrations cannot change a table's key; write a `run_sql` migration for it",
            model.name, field.name
        )));
    }
    if let Some(default) = &field.default {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            sql_literal(default, field, backend)?;
        }
        return Ok(());
    }
    if field.nullable || field.auto_now || field.auto_now_add {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "`{}.{}` is new, not null and has no default, so the rows already in `{}` would have no value; \
         give it a default (`#[field(default = ...)]`) or make it an `Option`",
        model.name, field.name, model.table
    )))
}

fn model_changed(
    ops: &mut Ops<'_>,
    current: &mut ProjectState,
    target: &ModelState,
    questioner: &mut dyn Questioner,
) -> Result<(), Error> {
    let (app, name) = (ops.app, target.name.clone());
    let model = |state: &ProjectState| state.model(app, &name).cloned().ok_or_else(|| Error::Unknown(name.clone()));
    // Renamed fields: a removed and an added field with the same definition.
    let old = model(current)?;
    let mut renamed_from = BTreeSet::new();
    for added in target.fields.iter().filter(|f| old.field(&f.name).is_none()) {
        let candidate = old
            .fields
            .iter()
            .find(|f| target.field(&f.name).is_none() && !renamed_from.contains(&f.name) && f.same_but_name(added));
        if let Some(removed) = candidate
            && questioner.rename_field(&name, &removed.name, &added.name, &added.kind())
        {
            renamed_from.insert(removed.name.clone());
            let operation = Operation::RenameField {
                model: name.clone(),
                from: removed.name.to_string(),
                to: added.name.to_string(),
            };
            ops.push(operation, current)?;
        }
    }
    let old = model(current)?;
    for group in old.unique_together.iter().filter(|g| !target.unique_together.contains(g)) {
        ops.push(Operation::RemoveConstraint { model: name.clone(), fields: group.clone() }, current)?;
    }
    for group in old.indexes.iter().filter(|g| !target.indexes.contains(g)) {
        ops.push(Operation::RemoveIndex { model: name.clone(), fields: group.clone() }, current)?;
    }
    for field in target.fields.iter().filter(|f| old.field(&f.name).is_none()) {
        check_fillable(target, field)?;
        ops.push(Operation::AddField { model: name.clone(), field: field.clone() }, current)?;
    }
    for field in &target.fields {
        let Some(before) = old.field(&field.name) else { continue };
        if before == field {
            continue;
        }
        if before.primary_key != field.primary_key || before.auto != field.auto {
            return Err(Error::Unsupported(format!(
                "`{name}.{}`: changing which field is the primary key, or whether it is `auto`, is not something \
                 migrations do; write a `run_sql` migration for it",
                field.name
            )));
        }
        if before.nullable && !field.nullable {
            check_fillable(target, field)?;
        }
        ops.push(Operation::AlterField { model: name.clone(), field: field.clone() }, current)?;
    }
    for field in old.fields.iter().filter(|f| target.field(&f.name).is_none()) {
        ops.push(Operation::RemoveField { model: name.clone(), name: field.name.to_string() }, current)?;
    }
    if old.table != target.table {
        ops.push(Operation::AlterModelTable { name: name.clone(), table: target.table.clone() }, current)?;
    }
    for group in target.unique_together.iter().filter(|g| !old.unique_together.contains(g)) {
        ops.push(Operation::AddConstraint { model: name.clone(), fields: group.clone() }, current)?;
    }
    for group in target.indexes.iter().filter(|g| !old.indexes.contains(g)) {
        ops.push(Operation::AddIndex { model: name.clone(), fields: group.clone() }, current)?;
    }
    Ok(())
}

fn models_deleted(ops: &mut Ops<'_>, current: &mut ProjectState, to: &ProjectState) -> Result<(), Error> {
    let app = ops.app;
    let deleted: Vec<ModelState> =
        current.app_models(app).filter(|m| to.model(app, &m.name).is_none()).cloned().collect();
    // A model before the deleted models it points to (a through table before its ends).
    for model in in_order(deleted, |m, pending| {
        !pending.iter().any(|other| {
            other.label() != m.label()
                && other.fields.iter().any(|f| f.relation.as_ref().is_some_and(|r| r.to.label() == m.label()))
        })
    }) {
        ops.push(Operation::DeleteModel { name: model.name }, current)?;
    }
    Ok(())
}

/// `models` one at a time, each the first that is `ready` given those still pending; a cycle
/// takes the first left.
fn in_order(mut pending: Vec<ModelState>, ready: impl Fn(&ModelState, &[ModelState]) -> bool) -> Vec<ModelState> {
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let next = pending.iter().position(|m| ready(m, &pending)).unwrap_or(0);
        ordered.push(pending.remove(next));
    }
    ordered
}
