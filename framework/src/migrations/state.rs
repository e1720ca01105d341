//! What the migrations know of the models: the schema-relevant part of each field and model,
//! rebuilt by replaying operations or read from the models compiled into the program.

use std::collections::BTreeMap;
use std::fmt;

use crate::db::{FieldMeta, FieldType, ModelMeta, OnDelete};

/// One field as migrations see it: what its column needs. Written in migration files as
/// `field("name", FieldType::Text).max_length(100).unique()` or
/// `foreign_key("category", "shop.Category", OnDelete::Protect)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct Field {
    pub(crate) name: String,
    pub(crate) column: String,
    pub(crate) ty: FieldType,
    pub(crate) nullable: bool,
    pub(crate) primary_key: bool,
    pub(crate) auto: bool,
    pub(crate) unique: bool,
    pub(crate) db_index: bool,
    pub(crate) max_length: Option<u32>,
    pub(crate) max_digits: Option<u32>,
    pub(crate) decimal_places: Option<u32>,
    /// The default as written in `#[field(default = ...)]`: a Rust literal.
    pub(crate) default: Option<String>,
    pub(crate) auto_now: bool,
    pub(crate) auto_now_add: bool,
    /// A foreign key's target (`app.Model`) and `on_delete`.
    pub(crate) relation: Option<(String, OnDelete)>,
}

/// A field named `name` of type `ty`, not null, with no options: the start of a field in a
/// migration file.
pub fn field(name: &str, ty: FieldType) -> Field {
    Field {
        name: name.to_owned(),
        column: name.to_owned(),
        ty,
        nullable: false,
        primary_key: false,
        auto: false,
        unique: false,
        db_index: false,
        max_length: None,
        max_digits: None,
        decimal_places: None,
        default: None,
        auto_now: false,
        auto_now_add: false,
        relation: None,
    }
}

/// A foreign key `name` (column `<name>_id`, indexed) to the model labelled `to` (`"shop.Category"`).
pub fn foreign_key(name: &str, to: &str, on_delete: OnDelete) -> Field {
    Field {
        column: format!("{name}_id"),
        db_index: true,
        relation: Some((to.to_owned(), on_delete)),
        ..field(name, FieldType::ForeignKey)
    }
}

impl Field {
    /// The SQL column, when it is not the field's name (or `<name>_id`).
    #[must_use]
    pub fn column(mut self, column: &str) -> Self {
        column.clone_into(&mut self.column);
        self
    }
    /// Nullable (an `Option` field).
    #[must_use]
    pub fn null(mut self) -> Self {
        self.nullable = true;
        self
    }
    /// The primary key.
    #[must_use]
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }
    /// Filled by the database (auto-increment).
    #[must_use]
    pub fn auto(mut self) -> Self {
        self.auto = true;
        self
    }
    /// Unique.
    #[must_use]
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    /// Indexed.
    #[must_use]
    pub fn db_index(mut self) -> Self {
        self.db_index = true;
        self
    }
    /// Not indexed (a foreign key is indexed unless told otherwise).
    #[must_use]
    pub fn no_index(mut self) -> Self {
        self.db_index = false;
        self
    }
    /// The longest text accepted.
    #[must_use]
    pub fn max_length(mut self, n: u32) -> Self {
        self.max_length = Some(n);
        self
    }
    /// A decimal's digits in all and after the point.
    #[must_use]
    pub fn digits(mut self, max_digits: u32, decimal_places: u32) -> Self {
        self.max_digits = Some(max_digits);
        self.decimal_places = Some(decimal_places);
        self
    }
    /// The default, as the Rust literal written in the model (`"true"`, `"0"`, `"\"draft\""`):
    /// the value rows already in the table get when the field is added.
    #[must_use]
    pub fn default(mut self, literal: &str) -> Self {
        self.default = Some(literal.to_owned());
        self
    }
    /// Set to now on every save (existing rows get now when it is added).
    #[must_use]
    pub fn auto_now(mut self) -> Self {
        self.auto_now = true;
        self
    }
    /// Set to now when a row is created (existing rows get now when it is added).
    #[must_use]
    pub fn auto_now_add(mut self) -> Self {
        self.auto_now_add = true;
        self
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field as a model declares it.
    pub(crate) fn from_meta(meta: &FieldMeta) -> Field {
        Field {
            name: meta.name.to_owned(),
            column: meta.column.to_owned(),
            ty: meta.ty,
            nullable: meta.nullable,
            primary_key: meta.primary_key,
            auto: meta.auto,
            unique: meta.unique,
            db_index: meta.db_index,
            max_length: meta.max_length,
            max_digits: meta.max_digits,
            decimal_places: meta.decimal_places,
            default: meta.default.map(normalize_literal),
            auto_now: meta.auto_now,
            auto_now_add: meta.auto_now_add,
            relation: meta.relation.map(|r| ((r.to)().label(), r.on_delete)),
        }
    }

    /// The same definition under another name (what a rename keeps).
    pub(crate) fn same_but_name(&self, other: &Field) -> bool {
        let default_column = |f: &Field| {
            if f.relation.is_some() { f.column == format!("{}_id", f.name) } else { f.column == f.name }
        };
        let strip = |f: &Field| Field { name: String::new(), column: String::new(), ..f.clone() };
        default_column(self) == default_column(other) && strip(self) == strip(other)
    }

    /// A short description: `text`, `foreign key to shop.Category`.
    pub(crate) fn kind(&self) -> String {
        match &self.relation {
            Some((to, _)) => format!("foreign key to {to}"),
            None => self.ty.to_string(),
        }
    }
}

/// `- 1` (how the macro writes a token stream) as `-1`.
fn normalize_literal(text: &str) -> String {
    match text.strip_prefix("- ") {
        Some(rest) => format!("-{rest}"),
        None => text.to_owned(),
    }
}

/// One model as migrations see it: its table, fields and multi-column constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
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
            meta.fields.iter().find(|f| f.column == column || f.name == column).map_or(column, |f| f.name).to_owned()
        };
        let groups = |groups: &[&[&str]]| -> Vec<Vec<String>> {
            groups.iter().map(|g| g.iter().map(|c| field_of(c)).collect()).collect()
        };
        ModelState {
            app: meta.app.to_owned(),
            name: meta.name.to_owned(),
            table: meta.table.to_owned(),
            fields: meta.fields.iter().map(Field::from_meta).collect(),
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
        self.field(field).map_or(field, |f| f.column.as_str())
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
