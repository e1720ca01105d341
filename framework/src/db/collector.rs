//! Deleting the Django way: Django's `Collector`. What a delete reaches through the relations'
//! `on_delete` rules is collected first; protected rows refuse the whole delete; every deleted
//! row, cascaded ones included, gets `pre_delete` and `post_delete`.

use std::collections::BTreeMap;

use super::registry::{self, Registered};
use super::{AnyConnection, Error, ModelMeta, OnDelete};

/// `(model label, field, [(primary key, display)])`: rows whose reference a delete changes.
pub type Updated = Vec<(String, String, Vec<(String, String)>)>;

/// What deleting some rows does, model by model: Django's collector result, and the admin's
/// "are you sure?" page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// `(model label, [(primary key, display)])` of the rows deleted, in the order they are
    /// deleted (rows referring to others first).
    pub deleted: Vec<(String, Vec<(String, String)>)>,
    /// `(model label, field, [(primary key, display)])` of rows whose reference is cleared
    /// (`set_null`) by the database.
    pub cleared: Updated,
    /// `(model label, field, [(primary key, display)])` of rows whose reference is set to the
    /// field's default (`set_default`) before the delete.
    pub defaulted: Updated,
}

impl Collected {
    /// How many rows of each model are deleted: Django's `delete()` count per model.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (label, rows) in &self.deleted {
            *counts.entry(label.clone()).or_insert(0) += rows.len();
        }
        counts
    }

    /// Every deleted row, all models together.
    pub fn total(&self) -> usize {
        self.deleted.iter().map(|(_, rows)| rows.len()).sum()
    }
}

/// Whether any model's foreign key points to `meta`.
pub(crate) fn is_referred_to(meta: &ModelMeta) -> bool {
    !referring(meta).is_empty()
}

/// The models whose foreign keys point to `meta`: `(model, field, on_delete)`.
fn referring(meta: &ModelMeta) -> Vec<(&'static dyn Registered, &'static str, OnDelete)> {
    let mut found = Vec::new();
    for model in inventory::iter::<super::model::ModelEntry>().map(|e| e.model) {
        for field in model.meta().fields {
            // Compiled relations name their target's metadata: compared by address, no label built.
            let points_here = field.relation.as_ref().is_some_and(|relation| match &relation.to {
                super::RelationTarget::Model(target) => std::ptr::eq(target(), meta),
                super::RelationTarget::Label(label) => *label == meta.label(),
            });
            if let Some(relation) = field.relation.as_ref().filter(|_| points_here) {
                found.push((model, field_name(field), relation.on_delete));
            }
        }
    }
    found
}

fn field_name(field: &'static super::Field) -> &'static str {
    match &field.name {
        std::borrow::Cow::Borrowed(name) => name,
        // Compiled models' fields are borrowed; an owned name would come from a migration file.
        std::borrow::Cow::Owned(name) => name.as_str(),
    }
}

/// Collects what deleting the rows `keys` of `model` reaches, without deleting anything.
///
/// # Errors
///
/// [`Error::Protected`] listing the rows a `protect` (or `restrict`, unless they are deleted by
/// a cascade of the same delete) relation keeps; [`Error::Query`] when a query fails.
pub fn collect(conn: &mut AnyConnection, model: &'static dyn Registered, keys: &[String]) -> Result<Collected, Error> {
    let meta = model.meta();
    let roots = model.rows_by_keys(conn, keys)?;
    let mut collected = Collected::default();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    seen.insert(meta.label(), roots.iter().map(|(k, _)| k.clone()).collect());
    let mut protected: Vec<(String, String, String)> = Vec::new();
    let mut restricted: Vec<(String, String, String)> = Vec::new();
    // Breadth first: each level's rows are found from the keys the level above collected.
    let mut frontier: Vec<(&'static dyn Registered, Vec<String>)> =
        vec![(model, roots.iter().map(|(k, _)| k.clone()).collect())];
    let mut levels: Vec<(String, Vec<(String, String)>)> = vec![(meta.label(), roots)];
    while let Some((parent, parent_keys)) = frontier.pop() {
        for (child, field, on_delete) in referring(parent.meta()) {
            let rows = child.referring_rows(conn, field, &parent_keys)?;
            if rows.is_empty() {
                continue;
            }
            let label = child.meta().label();
            match on_delete {
                OnDelete::Cascade => {
                    let known = seen.entry(label.clone()).or_default();
                    let new: Vec<(String, String)> = rows.into_iter().filter(|(k, _)| !known.contains(k)).collect();
                    if new.is_empty() {
                        continue;
                    }
                    known.extend(new.iter().map(|(k, _)| k.clone()));
                    frontier.push((child, new.iter().map(|(k, _)| k.clone()).collect()));
                    levels.push((label, new));
                }
                OnDelete::Protect => protected.extend(rows.into_iter().map(|(k, d)| (label.clone(), k, d))),
                OnDelete::Restrict => restricted.extend(rows.into_iter().map(|(k, d)| (label.clone(), k, d))),
                OnDelete::SetNull => collected.cleared.push((label, field.to_owned(), rows)),
                OnDelete::SetDefault => collected.defaulted.push((label, field.to_owned(), rows)),
                // The database decides (and refuses while they point here).
                OnDelete::DoNothing => {}
            }
        }
    }
    // Django's RESTRICT: allowed when the row is deleted anyway by a cascade of this delete.
    protected.extend(
        restricted.into_iter().filter(|(label, key, _)| !seen.get(label).is_some_and(|keys| keys.contains(key))),
    );
    if !protected.is_empty() {
        return Err(Error::Protected {
            model: meta.name,
            rows: protected.into_iter().map(|(label, _, display)| (label, display)).collect(),
        });
    }
    // Rows that refer to others go first: the deepest level is deleted first.
    levels.reverse();
    collected.deleted = levels;
    Ok(collected)
}

/// Collects and deletes, in one transaction: cascaded rows (children first) then `keys`, each
/// with `pre_delete` and `post_delete`. Returns what was deleted.
///
/// # Errors
///
/// As [`collect`]; nothing is deleted then.
pub fn delete(conn: &mut AnyConnection, model: &'static dyn Registered, keys: &[String]) -> Result<Collected, Error> {
    super::atomic(conn, |conn| {
        let collected = collect(conn, model, keys)?;
        set_defaults(conn, &collected)?;
        for (label, rows) in &collected.deleted {
            let Some(target) = registry::model(label) else { continue };
            let keys: Vec<String> = rows.iter().map(|(k, _)| k.clone()).collect();
            target.delete_keys(conn, &keys)?;
        }
        Ok(collected)
    })
}

/// Moves the `set_default` rows to their field's default, before anything is deleted.
fn set_defaults(conn: &mut AnyConnection, collected: &Collected) -> Result<(), Error> {
    for (label, field, rows) in &collected.defaulted {
        let Some(model) = registry::model(label) else { continue };
        let keys: Vec<String> = rows.iter().map(|(k, _)| k.clone()).collect();
        model.set_default_keys(conn, field, &keys)?;
    }
    Ok(())
}

/// What `#[model]`'s `delete_sync` runs before deleting its own row: the rows that refer to it,
/// collected and deleted with their signals (or a refusal naming the protected ones).
#[doc(hidden)]
pub fn __delete_related(conn: &mut AnyConnection, meta: &'static ModelMeta, key: String) -> Result<(), Error> {
    let Some(model) = registry::model(&meta.label()) else { return Ok(()) };
    if referring(meta).is_empty() {
        return Ok(());
    }
    let collected = collect(conn, model, std::slice::from_ref(&key))?;
    set_defaults(conn, &collected)?;
    let label = meta.label();
    for (model_label, rows) in &collected.deleted {
        if *model_label == label && rows.iter().all(|(k, _)| *k == key) {
            continue; // the row itself: its own `delete_sync` deletes it
        }
        let Some(target) = registry::model(model_label) else { continue };
        let keys: Vec<String> =
            rows.iter().map(|(k, _)| k.clone()).filter(|k| !(*model_label == label && *k == key)).collect();
        target.delete_keys(conn, &keys)?;
    }
    Ok(())
}
