//! Operations: the steps a migration is made of, what they do to the state, and how a migration
//! file writes them.

use std::fmt;

use super::Error;
use super::state::{Field, ModelState, ProjectState};
use crate::db::{AnyConnection, FieldType, OnDelete};

/// A Rust data migration step: it gets the migration's connection, inside its transaction.
pub type RustStep = fn(&mut AnyConnection) -> Result<(), crate::db::Error>;

/// One step of a migration, Django's `migrations.CreateModel`, `AddField`, ... Operations name
/// models of the migration's own app; foreign keys may point to any app (`"auth.User"`).
#[derive(Clone)]
#[non_exhaustive]
pub enum Operation {
    /// Creates a table.
    CreateModel {
        /// The model's name.
        name: String,
        /// Its SQL table.
        table: String,
        /// Its fields, in order.
        fields: Vec<Field>,
        /// Groups of field names unique together.
        unique_together: Vec<Vec<String>>,
        /// Groups of field names indexed together.
        indexes: Vec<Vec<String>>,
    },
    /// Drops a table.
    DeleteModel {
        /// The model's name.
        name: String,
    },
    /// Renames a model; foreign keys to it follow.
    RenameModel {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Renames a model's table.
    AlterModelTable {
        /// The model's name.
        name: String,
        /// The new table.
        table: String,
    },
    /// Adds a column; rows already there get the field's default.
    AddField {
        /// The model's name.
        model: String,
        /// The new field.
        field: Field,
    },
    /// Drops a column.
    RemoveField {
        /// The model's name.
        model: String,
        /// The field's name.
        name: String,
    },
    /// Changes a column's type, nullability, default, uniqueness, index or foreign key.
    AlterField {
        /// The model's name.
        model: String,
        /// The field's new definition (same name).
        field: Field,
    },
    /// Renames a field and its column, keeping the data.
    RenameField {
        /// The model's name.
        model: String,
        /// The old field name.
        from: String,
        /// The new field name.
        to: String,
    },
    /// Adds an index over several fields (`indexes = [[...]]`).
    AddIndex {
        /// The model's name.
        model: String,
        /// The fields, in index order.
        fields: Vec<String>,
    },
    /// Drops an index over several fields.
    RemoveIndex {
        /// The model's name.
        model: String,
        /// The fields, in index order.
        fields: Vec<String>,
    },
    /// Adds a unique constraint over several fields (`unique_together`).
    AddConstraint {
        /// The model's name.
        model: String,
        /// The fields unique together.
        fields: Vec<String>,
    },
    /// Drops a unique constraint over several fields.
    RemoveConstraint {
        /// The model's name.
        model: String,
        /// The fields unique together.
        fields: Vec<String>,
    },
    /// Raw SQL, with the SQL that undoes it (none: the migration cannot be unapplied).
    RunSql {
        /// Run when applying.
        forward: String,
        /// Run when unapplying.
        backward: Option<String>,
    },
    /// A Rust data migration, with the step that undoes it.
    RunRust {
        /// Run when applying.
        forward: RustStep,
        /// Run when unapplying.
        backward: Option<RustStep>,
    },
    /// A migration of a Diesel migrations folder: its `up.sql` applies it, its `down.sql`
    /// unapplies it (see [`crate::App::diesel_migrations`]). Changes no model state.
    RunDiesel(super::DieselMigration),
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `create_model("Product", "shop_product", [...])`.
pub fn create_model<const N: usize>(name: &str, table: &str, fields: [Field; N]) -> CreateModel {
    CreateModel {
        name: name.to_owned(),
        table: table.to_owned(),
        fields: fields.into(),
        unique_together: Vec::new(),
        indexes: Vec::new(),
    }
}

/// A `CreateModel` being written: see [`create_model`].
#[derive(Debug, Clone)]
pub struct CreateModel {
    name: String,
    table: String,
    fields: Vec<Field>,
    unique_together: Vec<Vec<String>>,
    indexes: Vec<Vec<String>>,
}

impl CreateModel {
    /// These fields are unique together.
    #[must_use]
    pub fn unique_together<const N: usize>(mut self, fields: [&str; N]) -> Self {
        self.unique_together.push(fields.iter().map(|f| (*f).to_owned()).collect());
        self
    }

    /// An index over these fields.
    #[must_use]
    pub fn index<const N: usize>(mut self, fields: [&str; N]) -> Self {
        self.indexes.push(fields.iter().map(|f| (*f).to_owned()).collect());
        self
    }
}

impl From<CreateModel> for Operation {
    fn from(c: CreateModel) -> Self {
        Operation::CreateModel {
            name: c.name,
            table: c.table,
            fields: c.fields,
            unique_together: c.unique_together,
            indexes: c.indexes,
        }
    }
}

/// Drops the model's table.
pub fn delete_model(name: &str) -> Operation {
    Operation::DeleteModel { name: name.to_owned() }
}

/// Renames a model (its table is renamed by [`alter_model_table`]).
pub fn rename_model(from: &str, to: &str) -> Operation {
    Operation::RenameModel { from: from.to_owned(), to: to.to_owned() }
}

/// Renames a model's table.
pub fn alter_model_table(name: &str, table: &str) -> Operation {
    Operation::AlterModelTable { name: name.to_owned(), table: table.to_owned() }
}

/// Adds a field to a model.
pub fn add_field(model: &str, field: Field) -> Operation {
    Operation::AddField { model: model.to_owned(), field }
}

/// Removes a field from a model.
pub fn remove_field(model: &str, name: &str) -> Operation {
    Operation::RemoveField { model: model.to_owned(), name: name.to_owned() }
}

/// Changes a field's definition.
pub fn alter_field(model: &str, field: Field) -> Operation {
    Operation::AlterField { model: model.to_owned(), field }
}

/// Renames a field.
pub fn rename_field(model: &str, from: &str, to: &str) -> Operation {
    Operation::RenameField { model: model.to_owned(), from: from.to_owned(), to: to.to_owned() }
}

/// Adds an index over fields.
pub fn add_index<const N: usize>(model: &str, fields: [&str; N]) -> Operation {
    Operation::AddIndex { model: model.to_owned(), fields: fields.iter().map(|f| (*f).to_owned()).collect() }
}

/// Removes an index over fields.
pub fn remove_index<const N: usize>(model: &str, fields: [&str; N]) -> Operation {
    Operation::RemoveIndex { model: model.to_owned(), fields: fields.iter().map(|f| (*f).to_owned()).collect() }
}

/// Adds a unique constraint over fields.
pub fn add_constraint<const N: usize>(model: &str, fields: [&str; N]) -> Operation {
    Operation::AddConstraint { model: model.to_owned(), fields: fields.iter().map(|f| (*f).to_owned()).collect() }
}

/// Removes a unique constraint over fields.
pub fn remove_constraint<const N: usize>(model: &str, fields: [&str; N]) -> Operation {
    Operation::RemoveConstraint { model: model.to_owned(), fields: fields.iter().map(|f| (*f).to_owned()).collect() }
}

/// Raw SQL run as written on every backend; add `.reverse(sql)` so it can be unapplied.
pub fn run_sql(forward: &str) -> RunSql {
    RunSql { forward: forward.to_owned(), backward: None }
}

/// A `RunSql` being written: see [`run_sql`].
#[derive(Debug, Clone)]
pub struct RunSql {
    forward: String,
    backward: Option<String>,
}

impl RunSql {
    /// The SQL that undoes it.
    #[must_use]
    pub fn reverse(mut self, sql: &str) -> Self {
        self.backward = Some(sql.to_owned());
        self
    }
}

impl From<RunSql> for Operation {
    fn from(r: RunSql) -> Self {
        Operation::RunSql { forward: r.forward, backward: r.backward }
    }
}

/// A Rust data migration step; add `.reverse(step)` so it can be unapplied.
pub fn run_rust(forward: RustStep) -> RunRust {
    RunRust { forward, backward: None }
}

/// A `RunRust` being written: see [`run_rust`].
#[derive(Debug, Clone)]
pub struct RunRust {
    forward: RustStep,
    backward: Option<RustStep>,
}

impl RunRust {
    /// The step that undoes it.
    #[must_use]
    pub fn reverse(mut self, step: RustStep) -> Self {
        self.backward = Some(step);
        self
    }
}

impl From<RunRust> for Operation {
    fn from(r: RunRust) -> Self {
        Operation::RunRust { forward: r.forward, backward: r.backward }
    }
}

impl Operation {
    /// Whether the operation can be unapplied.
    pub fn reversible(&self) -> bool {
        match self {
            Operation::RunSql { backward, .. } => backward.is_some(),
            Operation::RunRust { backward, .. } => backward.is_some(),
            _ => true,
        }
    }

    /// One line for people: `Add field stock to Product`.
    pub fn describe(&self) -> String {
        match self {
            Operation::CreateModel { name, .. } => format!("Create model {name}"),
            Operation::DeleteModel { name } => format!("Delete model {name}"),
            Operation::RenameModel { from, to } => format!("Rename model {from} to {to}"),
            Operation::AlterModelTable { name, table } => format!("Rename table of {name} to {table}"),
            Operation::AddField { model, field } => format!("Add field {} to {model}", field.name),
            Operation::RemoveField { model, name } => format!("Remove field {name} from {model}"),
            Operation::AlterField { model, field } => format!("Alter field {} on {model}", field.name),
            Operation::RenameField { model, from, to } => format!("Rename field {from} on {model} to {to}"),
            Operation::AddIndex { model, fields } => format!("Add index on {model} ({})", fields.join(", ")),
            Operation::RemoveIndex { model, fields } => format!("Remove index on {model} ({})", fields.join(", ")),
            Operation::AddConstraint { model, fields } => {
                format!("Add unique constraint on {model} ({})", fields.join(", "))
            }
            Operation::RemoveConstraint { model, fields } => {
                format!("Remove unique constraint on {model} ({})", fields.join(", "))
            }
            Operation::RunSql { .. } => "Raw SQL".to_owned(),
            Operation::RunRust { .. } => "Rust data migration".to_owned(),
            Operation::RunDiesel(diesel) => format!("Diesel migration {}", diesel.name()),
        }
    }

    /// A fragment of an automatic migration name: `product_stock`, `remove_product_stock`.
    pub(crate) fn name_fragment(&self) -> String {
        let lower = |s: &str| s.to_lowercase();
        match self {
            Operation::CreateModel { name, .. } => lower(name),
            Operation::DeleteModel { name } => format!("delete_{}", lower(name)),
            Operation::RenameModel { from, to } => format!("rename_{}_{}", lower(from), lower(to)),
            Operation::AlterModelTable { name, .. } => format!("alter_{}_table", lower(name)),
            Operation::AddField { model, field } => format!("{}_{}", lower(model), field.name),
            Operation::RemoveField { model, name } => format!("remove_{}_{name}", lower(model)),
            Operation::AlterField { model, field } => format!("alter_{}_{}", lower(model), field.name),
            Operation::RenameField { model, from, to } => format!("rename_{from}_{}_{to}", lower(model)),
            Operation::AddIndex { model, fields } => format!("{}_{}_idx", lower(model), fields.join("_")),
            Operation::RemoveIndex { model, fields } => format!("remove_{}_{}_idx", lower(model), fields.join("_")),
            Operation::AddConstraint { model, fields } => format!("{}_{}_uniq", lower(model), fields.join("_")),
            Operation::RemoveConstraint { model, fields } => {
                format!("remove_{}_{}_uniq", lower(model), fields.join("_"))
            }
            Operation::RunSql { .. } | Operation::RunRust { .. } | Operation::RunDiesel(_) => "data".to_owned(),
        }
    }

    /// Applies the operation to `state` (the models of `app` as this migration leaves them).
    ///
    /// # Errors
    ///
    /// [`Error::BadOperation`] when it names a model or field the state lacks, or creates one
    /// that exists.
    pub(crate) fn apply(&self, app: &str, state: &mut ProjectState) -> Result<(), Error> {
        let bad = |message: String| Error::BadOperation { operation: self.describe(), message };
        let missing_model = |name: &str| bad(format!("there is no model {app}.{name} at this point"));
        match self {
            Operation::CreateModel { name, table, fields, unique_together, indexes } => {
                let key = (app.to_owned(), name.clone());
                if state.models.contains_key(&key) {
                    return Err(bad(format!("the model {app}.{name} exists already")));
                }
                let model = ModelState {
                    app: app.to_owned(),
                    name: name.clone(),
                    table: table.clone(),
                    fields: fields.clone(),
                    unique_together: unique_together.clone(),
                    indexes: indexes.clone(),
                };
                check_groups(&model).map_err(bad)?;
                state.models.insert(key, model);
            }
            Operation::DeleteModel { name } => {
                state.models.remove(&(app.to_owned(), name.clone())).ok_or_else(|| missing_model(name))?;
            }
            Operation::RenameModel { from, to } => {
                let mut model =
                    state.models.remove(&(app.to_owned(), from.clone())).ok_or_else(|| missing_model(from))?;
                if state.model(app, to).is_some() {
                    return Err(bad(format!("the model {app}.{to} exists already")));
                }
                to.clone_into(&mut model.name);
                state.models.insert((app.to_owned(), to.clone()), model);
                // Foreign keys to the old name follow the model.
                let (old, new) = (format!("{app}.{from}"), format!("{app}.{to}"));
                for other in state.models.values_mut() {
                    for field in &mut other.fields {
                        if let Some(relation) = &mut field.relation
                            && relation.to.label() == old
                        {
                            relation.to = crate::db::RelationTarget::Label(new.clone().into());
                        }
                    }
                }
            }
            Operation::AlterModelTable { name, table } => {
                table.clone_into(&mut state.model_mut(app, name).ok_or_else(|| missing_model(name))?.table);
            }
            Operation::AddField { model, field } => {
                let m = state.model_mut(app, model).ok_or_else(|| missing_model(model))?;
                if m.field(&field.name).is_some() {
                    return Err(bad(format!("{model} has a field {} already", field.name)));
                }
                m.fields.push(field.clone());
            }
            Operation::RemoveField { model, name } => {
                let m = state.model_mut(app, model).ok_or_else(|| missing_model(model))?;
                let before = m.fields.len();
                m.fields.retain(|f| f.name != *name);
                if m.fields.len() == before {
                    return Err(bad(format!("{model} has no field {name}")));
                }
                if m.unique_together.iter().chain(&m.indexes).any(|g| g.contains(name)) {
                    return Err(bad(format!(
                        "{name} is still in an index or constraint of {model}; remove that first"
                    )));
                }
            }
            Operation::AlterField { model, field } => {
                let m = state.model_mut(app, model).ok_or_else(|| missing_model(model))?;
                let slot = m
                    .fields
                    .iter_mut()
                    .find(|f| f.name == field.name)
                    .ok_or_else(|| bad(format!("{model} has no field {}", field.name)))?;
                *slot = field.clone();
            }
            Operation::RenameField { model, from, to } => {
                let m = state.model_mut(app, model).ok_or_else(|| missing_model(model))?;
                if m.field(to).is_some() {
                    return Err(bad(format!("{model} has a field {to} already")));
                }
                let slot = m
                    .fields
                    .iter_mut()
                    .find(|f| f.name == *from)
                    .ok_or_else(|| bad(format!("{model} has no field {from}")))?;
                // A column named after the field follows it; an explicit one stays.
                if slot.column == *from {
                    slot.column = to.clone().into();
                } else if slot.relation.is_some() && slot.column == format!("{from}_id") {
                    slot.column = format!("{to}_id").into();
                }
                slot.name = to.clone().into();
                for group in m.unique_together.iter_mut().chain(m.indexes.iter_mut()) {
                    for name in group.iter_mut() {
                        if name == from {
                            to.clone_into(name);
                        }
                    }
                }
            }
            Operation::AddIndex { model, fields } | Operation::AddConstraint { model, fields } => {
                let unique = matches!(self, Operation::AddConstraint { .. });
                let m = state.model_mut(app, model).ok_or_else(|| missing_model(model))?;
                let groups = if unique { &mut m.unique_together } else { &mut m.indexes };
                if groups.contains(fields) {
                    return Err(bad(format!("{model} has it already")));
                }
                groups.push(fields.clone());
                check_groups(m).map_err(bad)?;
            }
            Operation::RemoveIndex { model, fields } | Operation::RemoveConstraint { model, fields } => {
                let unique = matches!(self, Operation::RemoveConstraint { .. });
                let m = state.model_mut(app, model).ok_or_else(|| missing_model(model))?;
                let groups = if unique { &mut m.unique_together } else { &mut m.indexes };
                let before = groups.len();
                groups.retain(|g| g != fields);
                if groups.len() == before {
                    return Err(bad(format!("{model} has no such index or constraint")));
                }
            }
            Operation::RunSql { .. } | Operation::RunRust { .. } | Operation::RunDiesel(_) => {}
        }
        Ok(())
    }

    /// The operation as a migration file writes it.
    pub(crate) fn to_rust(&self) -> String {
        let list = |fields: &[String]| fields.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
        match self {
            Operation::CreateModel { name, table, fields, unique_together, indexes } => {
                let mut out = format!("create_model(\n            {name:?},\n            {table:?},\n            [\n");
                for field in fields {
                    out.push_str(&format!("                {},\n", field_to_rust(field)));
                }
                out.push_str("            ],\n        )");
                for group in unique_together {
                    out.push_str(&format!("\n        .unique_together([{}])", list(group)));
                }
                for group in indexes {
                    out.push_str(&format!("\n        .index([{}])", list(group)));
                }
                out
            }
            Operation::DeleteModel { name } => format!("delete_model({name:?})"),
            Operation::RenameModel { from, to } => format!("rename_model({from:?}, {to:?})"),
            Operation::AlterModelTable { name, table } => format!("alter_model_table({name:?}, {table:?})"),
            Operation::AddField { model, field } => format!("add_field({model:?}, {})", field_to_rust(field)),
            Operation::RemoveField { model, name } => format!("remove_field({model:?}, {name:?})"),
            Operation::AlterField { model, field } => format!("alter_field({model:?}, {})", field_to_rust(field)),
            Operation::RenameField { model, from, to } => format!("rename_field({model:?}, {from:?}, {to:?})"),
            Operation::AddIndex { model, fields } => format!("add_index({model:?}, [{}])", list(fields)),
            Operation::RemoveIndex { model, fields } => format!("remove_index({model:?}, [{}])", list(fields)),
            Operation::AddConstraint { model, fields } => format!("add_constraint({model:?}, [{}])", list(fields)),
            Operation::RemoveConstraint { model, fields } => {
                format!("remove_constraint({model:?}, [{}])", list(fields))
            }
            Operation::RunSql { forward, backward } => match backward {
                Some(backward) => format!("run_sql({forward:?}).reverse({backward:?})"),
                None => format!("run_sql({forward:?})"),
            },
            // The autodetector never emits one: a Rust step is a function the user writes into
            // the file. Should one reach here, the file must not compile rather than lose it.
            Operation::RunRust { .. } => {
                "run_rust(compile_error!(\"a Rust data migration step cannot be written back; write its function here\"))"
                    .to_owned()
            }
            // Nor a Diesel one: it lives in its own folder, as `up.sql` and `down.sql`.
            Operation::RunDiesel(diesel) => format!(
                "compile_error!(\"the Diesel migration {} lives in its Diesel folder, not in a migration file\")",
                diesel.name()
            ),
        }
    }
}

/// Every field of an index or constraint group exists.
fn check_groups(model: &ModelState) -> Result<(), String> {
    for group in model.unique_together.iter().chain(&model.indexes) {
        if let Some(missing) = group.iter().find(|f| model.field(f).is_none()) {
            return Err(format!("{} has no field {missing}", model.name));
        }
    }
    Ok(())
}

/// The `FieldType` variant's name.
pub(crate) fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::SmallInt => "SmallInt",
        FieldType::Integer => "Integer",
        FieldType::BigInt => "BigInt",
        FieldType::Float => "Float",
        FieldType::Double => "Double",
        FieldType::Bool => "Bool",
        FieldType::Text => "Text",
        FieldType::Bytes => "Bytes",
        FieldType::Decimal => "Decimal",
        FieldType::Date => "Date",
        FieldType::DateTime => "DateTime",
        FieldType::DateTimeTz => "DateTimeTz",
        FieldType::Uuid => "Uuid",
        FieldType::Json => "Json",
        FieldType::ForeignKey => "ForeignKey",
    }
}

fn on_delete_name(on_delete: OnDelete) -> &'static str {
    match on_delete {
        OnDelete::Cascade => "Cascade",
        OnDelete::Protect => "Protect",
        OnDelete::Restrict => "Restrict",
        OnDelete::SetNull => "SetNull",
        OnDelete::SetDefault => "SetDefault",
        OnDelete::DoNothing => "DoNothing",
    }
}

/// A field as a migration file writes it: `field("name", FieldType::Text).max_length(100)`.
pub(crate) fn field_to_rust(field: &Field) -> String {
    let mut out = match &field.relation {
        Some(relation) => {
            let mut out = format!(
                "foreign_key({:?}, {:?}, OnDelete::{})",
                field.name,
                relation.to.label(),
                on_delete_name(relation.on_delete)
            );
            if field.column != format!("{}_id", field.name) {
                out.push_str(&format!(".column({:?})", field.column));
            }
            if !field.db_index {
                out.push_str(".no_index()");
            }
            out
        }
        None => {
            let mut out = format!("field({:?}, FieldType::{})", field.name, type_name(field.ty));
            if field.column != field.name {
                out.push_str(&format!(".column({:?})", field.column));
            }
            if field.db_index {
                out.push_str(".db_index()");
            }
            out
        }
    };
    let flags = [
        (field.primary_key, ".primary_key()"),
        (field.auto, ".auto()"),
        (field.nullable, ".null()"),
        (field.unique, ".unique()"),
        (field.auto_now, ".auto_now()"),
        (field.auto_now_add, ".auto_now_add()"),
    ];
    for (set, text) in flags {
        if set {
            out.push_str(text);
        }
    }
    if let Some(n) = field.max_length {
        out.push_str(&format!(".max_length({n})"));
    }
    if let (Some(digits), Some(places)) = (field.max_digits, field.decimal_places) {
        out.push_str(&format!(".digits({digits}, {places})"));
    }
    if let Some(default) = &field.default {
        out.push_str(&format!(".default({:?})", default.to_literal()));
    }
    out
}
