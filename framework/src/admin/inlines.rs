//! Inlines: the child rows of an object edited on its page (Django's `TabularInline`), e.g. an
//! order's items. Fields are named `<prefix>-<n>-<field>` with the prefix `<child>_set`; each
//! existing row carries its key and a delete box, and three empty rows add new children.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::views::esc;
use crate::db::capitalize;
use crate::db::registry::{self, ListRequest, Registered, Row};
use crate::db::{AnyConnection, Error, Field, FieldType, ModelMeta, Widget};
use crate::forms::FormData;

/// Empty rows offered for new children (Django's `extra`).
const EXTRA: usize = 3;

/// One inline of a page: the child model and its key to the parent.
pub(super) struct Inline {
    pub(super) meta: &'static ModelMeta,
    model: &'static dyn Registered,
    /// The child's foreign key to the parent.
    parent_field: String,
    pub(super) prefix: String,
    /// Whether the user may add, change and delete the children (else they are shown read-only).
    pub(super) editable: bool,
}

/// The inlines of `parent`, each with the child's key to it; a child without one is skipped.
pub(super) fn inlines(parent: &ModelMeta, children: &[fn() -> &'static ModelMeta]) -> Vec<Inline> {
    let label = parent.label();
    children
        .iter()
        .filter_map(|child| {
            let meta = child();
            let key = meta.fields.iter().find(|f| f.relation.as_ref().is_some_and(|r| r.to.label() == label))?;
            let model = registry::model(&meta.label())?;
            Some(Inline {
                meta,
                model,
                parent_field: key.name.to_string(),
                prefix: format!("{}_set", meta.name.to_lowercase()),
                editable: false,
            })
        })
        .collect()
}

/// What an inline shows: its rows (existing then empty), their values and errors, the choices
/// of its foreign keys.
pub(super) struct InlineState {
    rows: Vec<(Option<String>, BTreeMap<String, String>, bool)>,
    errors: Vec<(String, String)>,
    choices: BTreeMap<String, Vec<(String, String)>>,
}

impl Inline {
    fn fields(&self) -> Vec<&'static Field> {
        self.meta
            .fields
            .iter()
            .filter(|f| f.editable && f.widget != Widget::Hidden && f.name != self.parent_field.as_str())
            .collect()
    }

    fn children(&self, conn: &mut AnyConnection, pk: &str) -> Result<Vec<Row>, Error> {
        let request = ListRequest {
            filters: vec![(self.parent_field.clone(), pk.to_owned())],
            per_page: u32::MAX,
            ..ListRequest::default()
        };
        Ok(self.model.list(conn, &request)?.rows)
    }

    fn choices(&self, conn: &mut AnyConnection) -> Result<BTreeMap<String, Vec<(String, String)>>, Error> {
        let mut choices = BTreeMap::new();
        for field in self.fields() {
            if let Some(target) = field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) {
                choices.insert(
                    field.name.to_string(),
                    target.dump(conn)?.into_iter().map(|r| (r.pk, r.display)).collect(),
                );
            }
        }
        Ok(choices)
    }

    /// The state to show: `pk`'s children (none on an add page) and empty rows, or what was posted.
    pub(super) fn state(
        &self,
        conn: &mut AnyConnection,
        pk: Option<&str>,
        posted: Option<&FormData>,
    ) -> Result<InlineState, Error> {
        let choices = self.choices(conn)?;
        let rows = match posted {
            Some(data) => self.posted_rows(data),
            None => {
                let mut rows: Vec<_> = match pk {
                    Some(pk) => self
                        .children(conn, pk)?
                        .into_iter()
                        .map(|row| {
                            (
                                Some(row.pk.clone()),
                                row.values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
                                false,
                            )
                        })
                        .collect(),
                    None => Vec::new(),
                };
                rows.extend((0..EXTRA).map(|_| (None, BTreeMap::new(), false)));
                rows
            }
        };
        Ok(InlineState { rows, errors: Vec::new(), choices })
    }

    fn posted_rows(&self, data: &FormData) -> Vec<(Option<String>, BTreeMap<String, String>, bool)> {
        let total: usize = data.get(&format!("{}-TOTAL_FORMS", self.prefix)).and_then(|n| n.parse().ok()).unwrap_or(0);
        // A forged count cannot make the server loop for long (Django's `absolute_max`).
        (0..total.min(1000))
            .map(|i| {
                let name = |field: &str| format!("{}-{i}-{field}", self.prefix);
                let id = data.get(&name("id")).filter(|v| !v.is_empty()).map(str::to_owned);
                let delete = data.get(&name("DELETE")).is_some_and(|v| !v.is_empty());
                let values = self
                    .fields()
                    .into_iter()
                    .map(|f| {
                        let value = match (f.ty, data.get(&name(&f.name))) {
                            (FieldType::Bool, Some(v)) => (!v.is_empty() && v != "false").to_string(),
                            (FieldType::Bool, None) => "false".to_owned(),
                            (_, v) => v.unwrap_or("").to_owned(),
                        };
                        (f.name.to_string(), value)
                    })
                    .collect();
                (id, values, delete)
            })
            .collect()
    }

    /// Saves the posted rows under parent `pk`: existing ones changed or deleted, filled empty
    /// ones added. Errors name `<prefix>-<n>-<field>`; the caller rolls back when there are any.
    pub(super) fn save(&self, conn: &mut AnyConnection, pk: &str, state: &mut InlineState) -> Result<bool, Error> {
        let existing: Vec<String> = self.children(conn, pk)?.into_iter().map(|r| r.pk).collect();
        let mut changed = false;
        for (i, (id, values, delete)) in state.rows.iter().enumerate() {
            let mut values = values.clone();
            let outcome = match id {
                // Only this parent's children: a forged key of another row is refused.
                Some(id) if !existing.contains(id) => {
                    state.errors.push((
                        format!("{}-{i}-id", self.prefix),
                        "Select a valid choice. That choice is not one of the available choices.".into(),
                    ));
                    continue;
                }
                Some(id) if *delete => self.model.delete(conn, id).map(drop),
                Some(id) => self.model.update(conn, id, &values).map(drop),
                None if values.values().all(String::is_empty) || *delete => continue,
                None => {
                    values.insert(self.parent_field.clone(), pk.to_owned());
                    self.model.create(conn, &values).map(drop)
                }
            };
            match outcome {
                Ok(()) => changed = true,
                Err(Error::InvalidInput { errors, .. }) => {
                    state.errors.extend(
                        errors.into_iter().map(|(field, message)| (format!("{}-{i}-{field}", self.prefix), message)),
                    );
                }
                Err(Error::Protected { rows, .. }) => {
                    let listed: Vec<String> =
                        rows.iter().map(|(label, display)| format!("{label} {display}")).collect();
                    state.errors.push((
                        format!("{}-{i}-DELETE", self.prefix),
                        format!("Cannot delete: protected by {}.", listed.join(", ")),
                    ));
                }
                Err(other) => return Err(other),
            }
        }
        Ok(changed)
    }

    /// The inline as a table.
    pub(super) fn html(&self, state: &InlineState, read_only: bool, out: &mut String) {
        let fields = self.fields();
        let prefix = esc(&self.prefix);
        let _ = write!(
            out,
            "<fieldset class=\"module inline\" id=\"{prefix}-group\"><h2>{}</h2>",
            esc(&capitalize(&self.meta.verbose_name_plural()))
        );
        let _ = write!(out, "<input type=\"hidden\" name=\"{prefix}-TOTAL_FORMS\" value=\"{}\">", state.rows.len());
        out.push_str("<table><thead><tr>");
        for field in &fields {
            let _ = write!(out, "<th>{}</th>", esc(&capitalize(&field.verbose_name)));
        }
        if !read_only {
            out.push_str("<th>Delete?</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for (i, (id, values, delete)) in state.rows.iter().enumerate() {
            if read_only && id.is_none() {
                continue;
            }
            let errors: Vec<&str> = state
                .errors
                .iter()
                .filter(|(name, _)| name.starts_with(&format!("{}-{i}-", self.prefix)))
                .map(|(_, m)| m.as_str())
                .collect();
            if !errors.is_empty() {
                let _ = write!(
                    out,
                    "<tr class=\"row-errors\"><td colspan=\"{}\"><ul class=\"errorlist\">",
                    fields.len() + 1
                );
                for message in &errors {
                    let _ = write!(out, "<li>{}</li>", esc(message));
                }
                out.push_str("</ul></td></tr>");
            }
            out.push_str("<tr>");
            for (column, field) in fields.iter().enumerate() {
                let value = values.get(field.name.as_ref()).map_or("", String::as_str);
                let name = format!("{prefix}-{i}-{}", esc(&field.name));
                out.push_str("<td>");
                if column == 0
                    && let Some(id) = id
                {
                    let _ = write!(out, "<input type=\"hidden\" name=\"{prefix}-{i}-id\" value=\"{}\">", esc(id));
                }
                if read_only {
                    let shown = state
                        .choices
                        .get(field.name.as_ref())
                        .and_then(|rows| rows.iter().find(|(k, _)| k == value))
                        .map_or(value, |(_, d)| d.as_str());
                    out.push_str(&esc(shown));
                } else if let Some(rows) = state.choices.get(field.name.as_ref()) {
                    let _ = write!(
                        out,
                        "<select name=\"{name}\" aria-label=\"{}\"><option value=\"\">---------</option>",
                        esc(&field.verbose_name)
                    );
                    for (key, display) in rows {
                        let _ = write!(
                            out,
                            "<option value=\"{}\"{}>{}</option>",
                            esc(key),
                            if key == value { " selected" } else { "" },
                            esc(display)
                        );
                    }
                    out.push_str("</select>");
                } else if field.ty == FieldType::Bool {
                    let _ = write!(
                        out,
                        "<input type=\"checkbox\" name=\"{name}\"{}>",
                        if value == "true" { " checked" } else { "" }
                    );
                } else {
                    let kind = if matches!(field.widget, Widget::Integer | Widget::Number) {
                        "number\" step=\"any"
                    } else {
                        "text"
                    };
                    let _ = write!(
                        out,
                        "<input type=\"{kind}\" name=\"{name}\" value=\"{}\" aria-label=\"{}\">",
                        esc(value),
                        esc(&field.verbose_name)
                    );
                }
                out.push_str("</td>");
            }
            if !read_only {
                out.push_str("<td>");
                if id.is_some() {
                    let _ = write!(
                        out,
                        "<input type=\"checkbox\" name=\"{prefix}-{i}-DELETE\"{} aria-label=\"Delete\">",
                        if *delete { " checked" } else { "" }
                    );
                }
                out.push_str("</td>");
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></fieldset>");
    }
}

impl InlineState {
    /// The errors found while saving.
    pub(super) fn errors(&self) -> &[(String, String)] {
        &self.errors
    }
}
