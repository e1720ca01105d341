//! Model forms: Django's `ModelForm`, from a model's field metadata and the registry.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::many::{ManyToMany, many_to_many};
use super::render::escaped as esc;
use super::{FormData, FormHtml};
use crate::db::capitalize;
use crate::db::registry::{self, Entry, Registered, Row};
use crate::db::{AnyConnection, Database, Error, Field, FieldType, Model, ModelMeta, Widget};
use crate::http::RequestContext;

/// A many-to-many relation as the form shows it: its choices and what is chosen.
#[derive(Debug, Clone)]
struct ManyState {
    name: String,
    label: String,
    choices: Vec<(String, String)>,
    selected: Vec<String>,
}

/// A form for a model's rows, built from its fields (Django's `ModelForm`): every editable
/// field by default, or those chosen with [`ModelForm::fields`]; foreign keys as selects of the
/// target's rows, `choices` fields as selects, many-to-many relations as multi-selects. Saving
/// validates each field, checks unique fields and `unique_together` against the database and
/// saves through the model's `save()`, so `pre_save`/`post_save` receivers run.
///
/// Model forms read and write the database, so their work runs on the blocking pool: [`load`]
/// and [`save`] in views, or the `_sync` forms inside `db.run(...)`.
///
/// ```ignore
/// let form = ModelForm::of::<Product>().fields(&["name", "price", "category", "tags"])?;
/// let mut form = form.load(&req.db(), Some(&pk), Some(&data)).await?; // the row, and what was posted
/// if let Some(row) = form.save(&req.db()).await? { return Ok(redirect(...)); }
/// render(&Page { form: form.render(&req.context(), "", "Save") })  // errors and values kept
/// ```
///
/// [`load`]: ModelForm::load
/// [`save`]: ModelForm::save
#[derive(Debug)]
pub struct ModelForm {
    model: &'static dyn Registered,
    fields: Vec<&'static Field>,
    read_only_fields: Vec<String>,
    raw_id_fields: Vec<String>,
    relations: Vec<ManyToMany>,
    prepopulated: Vec<(String, Vec<String>)>,
    pk: Option<String>,
    /// The row as loaded (before any save), for the changed fields and the page's title.
    instance: Option<Row>,
    posted: Option<FormData>,
    values: BTreeMap<String, String>,
    many: Vec<ManyState>,
    choices: BTreeMap<String, Vec<(String, String)>>,
    errors: Vec<(String, String)>,
    changed: Vec<String>,
    read_only: bool,
    html: BTreeMap<String, String>,
    /// The display of each raw id field's current target.
    raw_displays: BTreeMap<String, String>,
}

impl ModelForm {
    /// The form of a registered model, with every editable field and many-to-many relation.
    pub fn new(model: &'static dyn Registered) -> Self {
        let meta = model.meta();
        ModelForm {
            model,
            fields: meta.fields.iter().filter(|f| f.editable && f.widget != Widget::Hidden).collect(),
            read_only_fields: Vec::new(),
            raw_id_fields: Vec::new(),
            relations: many_to_many(meta),
            prepopulated: Vec::new(),
            pk: None,
            instance: None,
            posted: None,
            values: BTreeMap::new(),
            many: Vec::new(),
            choices: BTreeMap::new(),
            errors: Vec::new(),
            changed: Vec::new(),
            read_only: false,
            html: BTreeMap::new(),
            raw_displays: BTreeMap::new(),
        }
    }

    /// The form of `M`.
    pub fn of<M: Model + 'static>() -> Self
    where
        Entry<M>: Registered,
    {
        ModelForm::new(registry::entry::<M>())
    }

    /// The model's metadata.
    pub fn meta(&self) -> &'static ModelMeta {
        self.model.meta()
    }

    /// Only these fields and relations, in this order (Django's `fields`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming a field the model does not have.
    pub fn fields(mut self, names: &[&str]) -> Result<Self, Error> {
        let meta = self.meta();
        let mut fields = Vec::new();
        let mut unknown = Vec::new();
        let all_relations = std::mem::take(&mut self.relations);
        let mut relations = Vec::new();
        for name in names {
            if let Some(field) = meta.field(name) {
                fields.push(field);
            } else if let Some(relation) = all_relations.iter().find(|r| r.name == *name) {
                relations.push(relation.clone());
            } else {
                unknown.push(((*name).to_owned(), format!("{} has no field `{name}`.", meta.name)));
            }
        }
        if !unknown.is_empty() {
            return Err(Error::InvalidInput { model: meta.name, errors: unknown });
        }
        self.fields = fields;
        self.relations = relations;
        Ok(self)
    }

    /// Fields shown but not editable (Django's admin `readonly_fields`).
    #[must_use]
    pub fn read_only_fields(mut self, names: &[&str]) -> Self {
        self.read_only_fields = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// Foreign keys typed as the target's key instead of chosen from a select of every target
    /// row (Django's `raw_id_fields`, for targets with many rows); the target's display is
    /// shown beside it.
    #[must_use]
    pub fn raw_id_fields(mut self, names: &[&str]) -> Self {
        self.raw_id_fields = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// The whole form shown read-only (a user with only the view permission).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// `(field, sources)`: a script fills the field from the sources as they are typed.
    #[must_use]
    pub fn prepopulated(mut self, pairs: &[(&str, &[&str])]) -> Self {
        self.prepopulated =
            pairs.iter().map(|(f, s)| ((*f).to_owned(), s.iter().map(|s| (*s).to_owned()).collect())).collect();
        self
    }

    /// HTML shown instead of a read-only field's value (already escaped by the caller).
    #[must_use]
    pub fn field_html(mut self, field: &str, html: String) -> Self {
        self.html.insert(field.to_owned(), html);
        self
    }

    fn editable(&self, field: &Field) -> bool {
        !self.read_only
            && field.editable
            && field.widget != Widget::Hidden
            && !self.read_only_fields.iter().any(|f| *f == field.name)
    }

    /// The values a posted form gives the editable fields (an unticked box sends nothing: false).
    fn posted_values(&self, data: &FormData) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter(|f| self.editable(f))
            .map(|f| {
                let value = match (f.ty, data.get(&f.name)) {
                    (FieldType::Bool, Some(v)) => (!v.is_empty() && v != "false").to_string(),
                    (FieldType::Bool, None) => "false".to_owned(),
                    (FieldType::DateTime | FieldType::DateTimeTz, Some(v)) => v.replacen('T', " ", 1),
                    (_, v) => v.unwrap_or("").to_owned(),
                };
                (f.name.to_string(), value)
            })
            .collect()
    }

    /// Loads what the form shows: the row with key `pk` (none for a new row), the choices of its
    /// selects, and the posted `data` when the form was submitted (which [`ModelForm::save_sync`]
    /// then saves).
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] for an unknown key; [`Error::Query`] when a query fails.
    pub fn load_sync(
        &mut self,
        conn: &mut AnyConnection,
        pk: Option<&str>,
        data: Option<&FormData>,
    ) -> Result<(), Error> {
        let instance = pk.map(|pk| self.model.get(conn, pk)).transpose()?;
        self.pk = instance.as_ref().map(|row| row.pk.clone());
        self.values = match &instance {
            Some(row) => row.values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            None => self.fields.iter().map(|f| (f.name.to_string(), registry::initial_text(f))).collect(),
        };
        self.instance = instance;
        let submitted = data.filter(|d| d.is_submitted() && !self.read_only);
        if let Some(data) = submitted {
            let posted = self.posted_values(data);
            self.values.extend(posted);
        }
        self.posted = submitted.cloned();
        self.choices.clear();
        self.raw_displays.clear();
        for field in &self.fields {
            let Some(target) = field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) else { continue };
            if self.raw_id_fields.iter().any(|f| *f == field.name) {
                // Only the row chosen, for its display: no select of every row.
                let key = self.values.get(field.name.as_ref()).cloned().unwrap_or_default();
                if !key.is_empty()
                    && let Some((_, display)) = target.rows_by_keys(conn, &[key])?.into_iter().next()
                {
                    self.raw_displays.insert(field.name.to_string(), display);
                }
                continue;
            }
            let rows = target.dump(conn)?.into_iter().map(|r| (r.pk, r.display)).collect();
            self.choices.insert(field.name.to_string(), rows);
        }
        self.many.clear();
        for relation in &self.relations {
            let selected = match (submitted, &self.pk) {
                (Some(data), _) => data.get_all(&relation.name).into_iter().map(str::to_owned).collect(),
                (None, Some(pk)) => relation.chosen(conn, pk)?,
                (None, None) => Vec::new(),
            };
            let choices = relation.choices(conn)?;
            self.many.push(ManyState { name: relation.name.clone(), label: relation.label.clone(), choices, selected });
        }
        Ok(())
    }

    /// Validates and saves what was posted, in a transaction (a savepoint inside the caller's):
    /// the row (created, or changed) and its many-to-many links. `Ok(None)` when nothing was
    /// posted or the values are not valid; the errors are then the form's.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the database fails (not for invalid input).
    pub fn save_sync(&mut self, conn: &mut AnyConnection) -> Result<Option<Row>, Error> {
        if self.posted.is_none() {
            return Ok(None);
        }
        let meta = self.meta();
        let before = self.instance.clone();
        let posted = self.posted.as_ref().map(|d| self.posted_values(d)).unwrap_or_default();
        let bad_choices: Vec<(String, String)> = self
            .many
            .iter()
            .filter_map(|state| {
                let bad = state.selected.iter().find(|key| !state.choices.iter().any(|(k, _)| k == *key))?;
                Some((state.name.clone(), super::invalid_choice(bad)))
            })
            .collect();
        let (model, pk, relations, many) = (self.model, self.pk.clone(), &self.relations, &self.many);
        let outcome = crate::db::atomic(conn, |conn| {
            let saved = match &pk {
                Some(pk) => model.update(conn, pk, &posted),
                None => model.create(conn, &posted),
            };
            let row = match saved {
                Err(Error::InvalidInput { model, mut errors }) => {
                    errors.extend(bad_choices.iter().cloned());
                    return Err(Error::InvalidInput { model, errors });
                }
                other => other?,
            };
            if !bad_choices.is_empty() {
                return Err(Error::InvalidInput { model: meta.name, errors: bad_choices.clone() });
            }
            let mut changed_relations = Vec::new();
            for (relation, state) in relations.iter().zip(many) {
                if relation.set(conn, &row.pk, &state.selected)? {
                    changed_relations.push(relation.label.clone());
                }
            }
            Ok((row, changed_relations))
        });
        match outcome {
            Ok((row, changed_relations)) => {
                // In the form's order, as Django lists them.
                self.changed = self
                    .fields
                    .iter()
                    .filter(|f| {
                        let new = row.value(&f.name);
                        before.as_ref().is_some_and(|b| b.value(&f.name) != new)
                    })
                    .map(|f| capitalize(&f.verbose_name))
                    .chain(changed_relations)
                    .collect();
                self.pk = Some(row.pk.clone());
                self.errors.clear();
                Ok(Some(row))
            }
            Err(Error::InvalidInput { errors, .. }) => {
                self.errors = errors;
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// [`ModelForm::load_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`ModelForm::load_sync`].
    pub async fn load(mut self, db: &Database, pk: Option<&str>, data: Option<&FormData>) -> Result<Self, Error> {
        let (pk, data) = (pk.map(str::to_owned), data.cloned());
        db.run(move |conn| {
            self.load_sync(conn, pk.as_deref(), data.as_ref())?;
            Ok(self)
        })
        .await
    }

    /// [`ModelForm::save_sync`] on the blocking pool: the form back, with the saved row.
    ///
    /// # Errors
    ///
    /// As [`ModelForm::save_sync`].
    pub async fn save(mut self, db: &Database) -> Result<(Self, Option<Row>), Error> {
        db.run(move |conn| {
            let row = self.save_sync(conn)?;
            Ok((self, row))
        })
        .await
    }

    pub(crate) fn relation_names(&self) -> Vec<&str> {
        self.relations.iter().map(|r| r.name.as_str()).collect()
    }

    /// Whether the form is shown read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether a submission was loaded.
    pub fn is_bound(&self) -> bool {
        self.posted.is_some()
    }

    /// `(field, message)` of the last save; an empty field is an error of the whole form.
    pub fn errors(&self) -> &[(String, String)] {
        &self.errors
    }

    /// Adds an error (a field's, or the whole form's with `""`).
    pub fn add_error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push((field.to_owned(), message.into()));
    }

    /// The labels of the fields and relations the last save changed, in the form's order.
    pub fn changed(&self) -> &[String] {
        &self.changed
    }

    /// The row as it was loaded, before any save (none for a new row).
    pub fn instance(&self) -> Option<&Row> {
        self.instance.as_ref()
    }

    /// The key of the row shown (after a save, the saved row's).
    pub fn pk(&self) -> Option<&str> {
        self.pk.as_deref()
    }

    /// The value shown for `field`.
    pub fn value(&self, field: &str) -> Option<&str> {
        self.values.get(field).map(String::as_str)
    }

    /// Whether `name` is one of the form's fields or relations.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name) || self.many.iter().any(|m| m.name == name)
    }

    /// Each field and relation in a `<div>`: label, errors, input (or the value, read-only), help.
    pub fn as_div(&self) -> FormHtml {
        let mut out = String::new();
        for field in &self.fields {
            self.field_div(field, &mut out);
        }
        for many in &self.many {
            self.many_div(many, &mut out);
        }
        FormHtml::trusted(out)
    }

    /// The `<div>` of one field or relation, by name (for layouts of their own: fieldsets).
    pub fn field(&self, name: &str) -> FormHtml {
        let mut out = String::new();
        if let Some(field) = self.fields.iter().find(|f| f.name == name) {
            self.field_div(field, &mut out);
        } else if let Some(many) = self.many.iter().find(|m| m.name == name) {
            self.many_div(many, &mut out);
        }
        FormHtml::trusted(out)
    }

    /// A whole `<form method="post">` with the CSRF token of `ctx`, the errors of the form as a
    /// whole, the fields and a submit button.
    pub fn render(&self, ctx: &RequestContext, action: &str, button: &str) -> FormHtml {
        let mut out = format!("<form method=\"post\" action=\"{}\" novalidate>{}", esc(action), ctx.csrf_input());
        out.push_str(self.non_field_errors().as_str());
        out.push_str(self.as_div().as_str());
        let _ = write!(out, "<button type=\"submit\">{}</button></form>", esc(button));
        FormHtml::trusted(out)
    }

    /// The errors that belong to no field of the form, as lists.
    pub fn non_field_errors(&self) -> FormHtml {
        let mut out = String::new();
        for (field, message) in &self.errors {
            if field.is_empty() || !self.has_field(field) && !field.contains('-') {
                let _ = write!(out, "<ul class=\"errorlist nonfield\"><li>{}</li></ul>", esc(message));
            }
        }
        FormHtml::trusted(out)
    }

    fn errors_of(&self, name: &str) -> Vec<&str> {
        self.errors.iter().filter(|(f, _)| f == name).map(|(_, m)| m.as_str()).collect()
    }

    fn open_div(&self, name: &str, label: &str, required: bool, out: &mut String) {
        let errors = self.errors_of(name);
        let name = esc(name);
        let _ = write!(out, "<div class=\"field field-{name}{}\">", if errors.is_empty() { "" } else { " errors" });
        let _ = write!(
            out,
            "<label for=\"id_{name}\"{}>{}:</label>",
            if required && !self.read_only { " class=\"required\"" } else { "" },
            esc(&capitalize(label))
        );
        if !errors.is_empty() {
            out.push_str("<ul class=\"errorlist\">");
            for message in errors {
                let _ = write!(out, "<li>{}</li>", esc(message));
            }
            out.push_str("</ul>");
        }
    }

    fn field_div(&self, field: &Field, out: &mut String) {
        let name = field.name.as_ref();
        let value = self.values.get(name).map_or("", String::as_str);
        let required = !(field.blank || field.nullable || field.ty == FieldType::Bool);
        self.open_div(name, &field.verbose_name, required, out);
        if let Some(html) = self.html.get(name) {
            let _ = write!(out, "<div class=\"readonly\">{html}</div>");
        } else if !self.editable(field) {
            let shown =
                self.choices.get(name).and_then(|rows| rows.iter().find(|(k, _)| k == value)).map(|(_, d)| d.as_str());
            let _ = write!(out, "<div class=\"readonly\">{}</div>", display_value(field, value, shown));
        } else {
            self.input(field, value, required, out);
        }
        if !field.help_text.is_empty() {
            let _ = write!(out, "<div class=\"helptext\">{}</div>", esc(&field.help_text));
        }
        out.push_str("</div>");
    }

    fn input(&self, field: &Field, value: &str, required: bool, out: &mut String) {
        let name = esc(&field.name);
        let id = format!("id_{name}");
        let req_attr = if required { " required" } else { "" };
        if let Some(rows) = self.choices.get(field.name.as_ref()) {
            let _ = write!(out, "<select name=\"{name}\" id=\"{id}\"{req_attr}><option value=\"\">---------</option>");
            for (pk, display) in rows {
                let selected = if pk == value { " selected" } else { "" };
                let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", esc(pk), esc(display));
            }
            out.push_str("</select>");
            return;
        }
        if let Some(display) = self.raw_displays.get(field.name.as_ref()).filter(|_| field.relation.is_some()) {
            let _ = write!(
                out,
                "<input type=\"text\" name=\"{name}\" value=\"{}\" id=\"{id}\" class=\"raw-id\"{req_attr}> <strong>{}</strong>",
                esc(value),
                esc(display)
            );
            return;
        }
        if field.relation.is_some() && self.raw_id_fields.iter().any(|f| *f == field.name) {
            let _ = write!(
                out,
                "<input type=\"text\" name=\"{name}\" value=\"{}\" id=\"{id}\" class=\"raw-id\"{req_attr}>",
                esc(value)
            );
            return;
        }
        if !field.choices.is_empty() {
            let _ = write!(out, "<select name=\"{name}\" id=\"{id}\"{req_attr}>");
            if !required {
                out.push_str("<option value=\"\">---------</option>");
            }
            for (choice, label) in field.choices {
                let selected = if *choice == value { " selected" } else { "" };
                let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", esc(choice), esc(label));
            }
            out.push_str("</select>");
            return;
        }
        match field.widget {
            Widget::Checkbox => {
                let checked = if value == "true" { " checked" } else { "" };
                let _ = write!(out, "<input type=\"checkbox\" name=\"{name}\" id=\"{id}\"{checked}>");
            }
            Widget::TextArea => {
                let _ =
                    write!(out, "<textarea name=\"{name}\" id=\"{id}\" rows=\"6\"{req_attr}>{}</textarea>", esc(value));
            }
            widget => {
                let (kind, extra) = match widget {
                    Widget::Integer => ("number", String::new()),
                    Widget::Number => (
                        "number",
                        match field.decimal_places {
                            None => " step=\"any\"".to_owned(),
                            Some(0) => " step=\"1\"".to_owned(),
                            Some(places) => format!(" step=\"0.{}1\"", "0".repeat(places as usize - 1)),
                        },
                    ),
                    Widget::Email => ("email", String::new()),
                    Widget::Date => ("date", String::new()),
                    Widget::DateTime => ("datetime-local", " step=\"1\"".to_owned()),
                    _ => ("text", String::new()),
                };
                let shown = if kind == "datetime-local" {
                    value.replacen(' ', "T", 1).split('.').next().unwrap_or("").to_owned()
                } else {
                    value.to_owned()
                };
                let max = field.max_length.map(|n| format!(" maxlength=\"{n}\"")).unwrap_or_default();
                let prepopulate = self
                    .prepopulated
                    .iter()
                    .find(|(target, _)| *target == field.name)
                    .map(|(_, sources)| {
                        let ids: Vec<String> = sources.iter().map(|s| format!("id_{}", esc(s))).collect();
                        format!(" data-prepopulate=\"{}\"", ids.join(","))
                    })
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "<input type=\"{kind}\" name=\"{name}\" value=\"{}\" id=\"{id}\"{max}{extra}{req_attr}{prepopulate}>",
                    esc(&shown)
                );
            }
        }
    }

    fn many_div(&self, many: &ManyState, out: &mut String) {
        self.open_div(&many.name, &many.label, false, out);
        let name = esc(&many.name);
        if self.read_only {
            let chosen: Vec<String> =
                many.choices.iter().filter(|(k, _)| many.selected.contains(k)).map(|(_, d)| esc(d)).collect();
            let shown = if chosen.is_empty() { "-".to_owned() } else { chosen.join(", ") };
            let _ = write!(out, "<div class=\"readonly\">{shown}</div></div>");
            return;
        }
        let _ = write!(
            out,
            "<input type=\"search\" class=\"filter-options\" data-for=\"id_{name}\" placeholder=\"Filter\" aria-label=\"Filter {}\"><select name=\"{name}\" id=\"id_{name}\" multiple>",
            esc(&many.label.to_lowercase())
        );
        for (key, display) in &many.choices {
            let selected = if many.selected.contains(key) { " selected" } else { "" };
            let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", esc(key), esc(display));
        }
        out.push_str(
            "</select><div class=\"helptext\">Hold down “Control”, or “Command” on a Mac, to select more than one.</div></div>",
        );
    }
}

/// A field's value for reading, escaped: a target's display, a choice's label, a tick, `-`.
pub fn display_value(field: &Field, text: &str, related: Option<&str>) -> String {
    if field.ty == FieldType::Bool {
        let yes = text == "true";
        return format!(
            "<span class=\"{}\">{}</span>",
            if yes { "yes" } else { "no" },
            if yes { "✔ Yes" } else { "✘ No" }
        );
    }
    if text.is_empty() {
        return "-".to_owned();
    }
    if let Some(related) = related {
        return esc(related);
    }
    if let Some((_, label)) = field.choices.iter().find(|(value, _)| *value == text) {
        return esc(label);
    }
    esc(text)
}
