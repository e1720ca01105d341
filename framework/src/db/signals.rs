use crate::signals::Signal;

use super::Model;

/// What `pre_save` and `post_save` receivers get: the instance and whether it was inserted.
///
/// In `pre_save`, `created` is not known yet and is `false`.
#[derive(Debug)]
#[non_exhaustive]
pub struct SaveEvent<M> {
    /// The instance being saved (with its primary key set, in `post_save`).
    pub instance: M,
    /// Whether the save inserted a new row.
    pub created: bool,
}

/// What `pre_delete` and `post_delete` receivers get.
#[derive(Debug)]
#[non_exhaustive]
pub struct DeleteEvent<M> {
    /// The instance being deleted.
    pub instance: M,
}

/// The four model signals of one model; `#[model]` keeps one set per model.
#[derive(Debug)]
pub struct ModelSignals<M: 'static> {
    pub(crate) pre_save: Signal<SaveEvent<M>>,
    pub(crate) post_save: Signal<SaveEvent<M>>,
    pub(crate) pre_delete: Signal<DeleteEvent<M>>,
    pub(crate) post_delete: Signal<DeleteEvent<M>>,
}

impl<M: 'static> ModelSignals<M> {
    #[doc(hidden)]
    pub const fn __new() -> Self {
        ModelSignals {
            pre_save: Signal::new("pre_save"),
            post_save: Signal::new("post_save"),
            pre_delete: Signal::new("pre_delete"),
            post_delete: Signal::new("post_delete"),
        }
    }
}

/// Django's `pre_save` for model `M`: `#[receiver(pre_save, sender = Product)]`.
pub fn pre_save<M: Model>() -> &'static Signal<SaveEvent<M>> {
    &M::signals().pre_save
}

/// Django's `post_save` for model `M`: `#[receiver(post_save, sender = Product)]`.
pub fn post_save<M: Model>() -> &'static Signal<SaveEvent<M>> {
    &M::signals().post_save
}

/// Django's `pre_delete` for model `M`.
pub fn pre_delete<M: Model>() -> &'static Signal<DeleteEvent<M>> {
    &M::signals().pre_delete
}

/// Django's `post_delete` for model `M`.
pub fn post_delete<M: Model>() -> &'static Signal<DeleteEvent<M>> {
    &M::signals().post_delete
}

#[doc(hidden)]
impl<M> SaveEvent<M> {
    pub fn __new(instance: M, created: bool) -> Self {
        SaveEvent { instance, created }
    }
}

#[doc(hidden)]
impl<M> DeleteEvent<M> {
    pub fn __new(instance: M) -> Self {
        DeleteEvent { instance }
    }
}

/// Told when rows of a table change without model signals (`update()`, a fast `delete()`,
/// `bulk_create`, `bulk_update`): the cache's `depends_on` registers itself here, so this layer
/// does not know the cache.
static TABLE_CHANGED: std::sync::OnceLock<fn(&'static str)> = std::sync::OnceLock::new();

/// Registers the listener of [`table_changed`] (once per process).
pub(crate) fn on_table_changed(listener: fn(&'static str)) {
    let _ = TABLE_CHANGED.set(listener);
}

/// Rows of `table` changed without model signals.
pub(crate) fn table_changed(table: &'static str) {
    if let Some(listener) = TABLE_CHANGED.get() {
        listener(table);
    }
}
