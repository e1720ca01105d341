//! Context processors: named values apps add to every template's [`RequestContext`].
//!
//! [`RequestContext`]: crate::http::RequestContext

use std::sync::Arc;

use crate::conf::Settings;

/// The values context processors add for one request, by name: `{{ ctx.get("shop_name") }}` in
/// a template. Values are text, shown as they are (escaped like any other); data a template loops
/// over belongs in the template's own struct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextVars {
    // A handful of entries: a scan beats a map and keeps the insertion order.
    vars: Vec<(&'static str, Arc<str>)>,
}

impl ContextVars {
    /// Sets `name` (replacing what an earlier processor set).
    pub fn insert(&mut self, name: &'static str, value: impl Into<Arc<str>>) {
        let value = value.into();
        match self.vars.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    /// The value of `name`, if a processor set it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(n, _)| *n == name).map(|(_, v)| &**v)
    }

    /// The names set, in the order they were first set.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.vars.iter().map(|(n, _)| *n)
    }
}

/// Adds values for a request: see [`crate::App::context_processor`].
pub type ContextProcessor = Arc<dyn Fn(&crate::http::Request, &mut ContextVars) + Send + Sync>;

/// Builds a [`ContextProcessor`] from the settings when the project is built.
pub type ContextProcessorFactory = Arc<dyn Fn(&Settings) -> Result<ContextProcessor, String> + Send + Sync>;
