//! Many-to-many relations of model forms: a model's `#[many_to_many]` through
//! models, found in the registry, edited as a filterable multi-select (a user's groups and
//! permissions, a product's tags).

use std::collections::{BTreeMap, BTreeSet};

use crate::db::registry::{self, ListRequest, Registered};
use crate::db::{AnyConnection, Error, ModelMeta};

/// One many-to-many relation of a model.
#[derive(Clone, Debug)]
pub(crate) struct ManyToMany {
    /// The form field's name: `tags`, `groups`, `user_permissions`.
    pub(crate) name: String,
    /// Its label: `Tags`, `User permissions`.
    pub(crate) label: String,
    through: &'static dyn Registered,
    /// The through model's key to the model edited.
    source: String,
    /// The through model's key to the rows chosen.
    target_field: String,
    target: &'static dyn Registered,
}

/// `UserPermissions` → `user_permissions`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The many-to-many relations of `meta`: the generated through models with a key to it.
pub(crate) fn many_to_many(meta: &ModelMeta) -> Vec<ManyToMany> {
    let label = meta.label();
    let mut found = Vec::new();
    for through in registry::models() {
        let through_meta = through.meta();
        if !through_meta.auto_created {
            continue;
        }
        let keys: Vec<_> = through_meta.fields.iter().filter(|f| f.relation.is_some()).collect();
        let [first, second] = keys.as_slice() else { continue };
        let points_here = |f: &crate::db::Field| f.relation.as_ref().is_some_and(|r| r.to.label() == label);
        let (source, target_field) = if points_here(first) && !points_here(second) {
            (first, second)
        } else if points_here(second) && !points_here(first) {
            (second, first)
        } else {
            continue;
        };
        let Some(target) = target_field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) else {
            continue;
        };
        let Some(rest) = through_meta.name.strip_prefix(meta.name) else { continue };
        let name = snake(rest);
        let label = {
            let spaced = name.replace('_', " ");
            let mut chars = spaced.chars();
            chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        };
        found.push(ManyToMany {
            name,
            label,
            through,
            source: source.name.to_string(),
            target_field: target_field.name.to_string(),
            target,
        });
    }
    found
}

impl ManyToMany {
    /// `(key, display)` of every row that may be chosen.
    pub(crate) fn choices(&self, conn: &mut AnyConnection) -> Result<Vec<(String, String)>, Error> {
        Ok(self.target.dump(conn)?.into_iter().map(|row| (row.pk, row.display)).collect())
    }

    /// `(through key, target key)` of the rows linked to `pk`.
    fn links(&self, conn: &mut AnyConnection, pk: &str) -> Result<Vec<(String, String)>, Error> {
        let request = ListRequest {
            filters: vec![(self.source.clone(), pk.to_owned())],
            per_page: u32::MAX,
            ..ListRequest::default()
        };
        let page = self.through.list(conn, &request)?;
        Ok(page
            .rows
            .into_iter()
            .map(|row| {
                let target = row.value(&self.target_field).unwrap_or("").to_owned();
                (row.pk, target)
            })
            .collect())
    }

    /// The target keys linked to `pk`.
    pub(crate) fn chosen(&self, conn: &mut AnyConnection, pk: &str) -> Result<Vec<String>, Error> {
        Ok(self.links(conn, pk)?.into_iter().map(|(_, target)| target).collect())
    }

    /// Links `pk` to exactly `wanted` (keys among `choices`); whether anything changed.
    pub(crate) fn set(&self, conn: &mut AnyConnection, pk: &str, wanted: &[String]) -> Result<bool, Error> {
        let links = self.links(conn, pk)?;
        let wanted: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
        let gone: Vec<String> = links
            .iter()
            .filter(|(_, target)| !wanted.contains(target.as_str()))
            .map(|(link, _)| link.clone())
            .collect();
        let have: BTreeSet<&str> = links.iter().map(|(_, target)| target.as_str()).collect();
        let new: Vec<&str> = wanted.iter().filter(|key| !have.contains(*key)).copied().collect();
        if !gone.is_empty() {
            self.through.delete_keys(conn, &gone)?;
        }
        for key in &new {
            let values =
                BTreeMap::from([(self.source.clone(), pk.to_owned()), (self.target_field.clone(), (*key).to_owned())]);
            self.through.create(conn, &values)?;
        }
        Ok(!gone.is_empty() || !new.is_empty())
    }
}
