//! What the migrations know of the models: the schema-relevant part of each field and model,
//! rebuilt by replaying operations or read from the models compiled into the program.

use std::collections::BTreeMap;
use std::fmt;

use crate::db::ModelMeta;
pub use crate::db::{Field, field, foreign_key};

/// One model as migrations see it: its table, fields and multi-column constraints.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelState {
    pub(crate) app: String,
    pub(crate) name: String,
    pub(crate) table: String,
    pub(crate) fields: Vec<Field>,
    /// Groups of field names unique together.
    pub(crate) unique_together: Vec<Vec<String>>,
    /// Groups of field names indexed together.
    pub(crate) indexes: Vec<Vec<String>>,
}

impl ModelState {
    /// The model as compiled into the program.
    pub(crate) fn from_meta(meta: &ModelMeta) -> ModelState {
        let field_of = |column: &str| {
            meta.fields.iter().find(|f| f.column == column || f.name == column).map_or(column, |f| &f.name).to_owned()
        };
        let groups = |groups: &[&[&str]]| -> Vec<Vec<String>> {
            groups.iter().map(|g| g.iter().map(|c| field_of(c)).collect()).collect()
        };
        ModelState {
            app: meta.app.to_owned(),
            name: meta.name.to_owned(),
            table: meta.table.to_owned(),
            fields: meta.fields.to_vec(),
            unique_together: groups(meta.unique_together),
            indexes: groups(meta.indexes),
        }
    }

    /// `app.Model`.
    pub(crate) fn label(&self) -> String {
        format!("{}.{}", self.app, self.name)
    }

    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub(crate) fn primary_key(&self) -> Option<&Field> {
        self.fields.iter().find(|f| f.primary_key)
    }

    /// The column of a field, for index and constraint groups.
    pub(crate) fn column_of<'a>(&'a self, field: &'a str) -> &'a str {
        self.field(field).map_or(field, |f| &*f.column)
    }

    /// The same schema: fields compared whatever their order, groups as sets.
    pub(crate) fn same_schema(&self, other: &ModelState) -> bool {
        let sorted_fields = |m: &ModelState| {
            let mut fields = m.fields.clone();
            fields.sort_by(|a, b| a.name.cmp(&b.name));
            fields
        };
        let sorted_groups = |groups: &[Vec<String>]| {
            let mut groups = groups.to_vec();
            groups.sort();
            groups
        };
        self.table == other.table
            && sorted_fields(self) == sorted_fields(other)
            && sorted_groups(&self.unique_together) == sorted_groups(&other.unique_together)
            && sorted_groups(&self.indexes) == sorted_groups(&other.indexes)
    }
}

/// Every model of a project at one point of its migration history.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProjectState {
    pub(crate) models: BTreeMap<(String, String), ModelState>,
}

impl ProjectState {
    /// The models compiled into the program, for the given apps.
    pub(crate) fn from_models(models: &[&'static ModelMeta]) -> ProjectState {
        let models = models.iter().map(|m| ((m.app.to_owned(), m.name.to_owned()), ModelState::from_meta(m))).collect();
        ProjectState { models }
    }

    pub(crate) fn model(&self, app: &str, name: &str) -> Option<&ModelState> {
        self.models.get(&(app.to_owned(), name.to_owned()))
    }

    pub(crate) fn model_mut(&mut self, app: &str, name: &str) -> Option<&mut ModelState> {
        self.models.get_mut(&(app.to_owned(), name.to_owned()))
    }

    /// A model by its label, `app.Model`.
    pub(crate) fn by_label(&self, label: &str) -> Option<&ModelState> {
        let (app, name) = label.split_once('.')?;
        self.model(app, name)
    }

    /// The models of one app, by name.
    pub(crate) fn app_models<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a ModelState> + 'a {
        self.models.values().filter(move |m| m.app == app)
    }
}

impl fmt::Display for ProjectState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for model in self.models.values() {
            writeln!(f, "{} ({})", model.label(), model.table)?;
            for field in &model.fields {
                writeln!(f, "  {} {}{}", field.name, field.kind(), if field.nullable { " null" } else { "" })?;
            }
        }
        Ok(())
    }
}
