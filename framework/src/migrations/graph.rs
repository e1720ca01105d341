//! The migrations of every app as one dependency graph: its order, its plans and the state it
//! builds.

use std::collections::{BTreeMap, BTreeSet};

use super::Error;
use super::migration::Migration;
use super::state::ProjectState;

/// `(app, name)`.
pub(crate) type Key = (String, String);

/// Every migration of the project, checked: names unique, dependencies present, no cycle.
#[derive(Debug)]
pub(crate) struct Graph {
    nodes: BTreeMap<Key, Migration>,
    /// Every node after its dependencies; ties broken by app and name, so the order is stable.
    order: Vec<Key>,
}

impl Graph {
    /// The graph of `migrations`.
    ///
    /// # Errors
    ///
    /// [`Error::Graph`] for a duplicate name, a missing dependency or a cycle.
    pub(crate) fn new(migrations: Vec<Migration>) -> Result<Graph, Error> {
        let mut nodes = BTreeMap::new();
        for migration in migrations {
            let key = (migration.app.clone(), migration.name.clone());
            if nodes.insert(key, migration).is_some() {
                return Err(Error::Graph("two migrations have the same app and name".into()));
            }
        }
        for migration in nodes.values() {
            for (app, name) in &migration.dependencies {
                if !nodes.contains_key(&(app.clone(), name.clone())) {
                    return Err(Error::Graph(format!(
                        "{} depends on {app}.{name}, which does not exist (is the app `{app}` in the project, \
                         with its migrations?)",
                        migration.label()
                    )));
                }
            }
        }
        let mut order = Vec::with_capacity(nodes.len());
        let mut done = BTreeSet::new();
        for key in nodes.keys() {
            visit(&nodes, key, &mut done, &mut Vec::new(), &mut order)?;
        }
        Ok(Graph { nodes, order })
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&Migration> {
        self.nodes.get(key)
    }

    /// Every node in dependency order.
    pub(crate) fn order(&self) -> &[Key] {
        &self.order
    }

    /// The nodes of `app`, in order.
    pub(crate) fn app_nodes(&self, app: &str) -> Vec<&Key> {
        self.order.iter().filter(|(a, _)| a == app).collect()
    }

    /// The migrations of `app` nothing else of the app depends on: one, unless two were made on
    /// separate branches.
    pub(crate) fn leaves(&self, app: &str) -> Vec<&Key> {
        self.app_nodes(app)
            .into_iter()
            .filter(|key| {
                !self
                    .nodes
                    .values()
                    .any(|m| m.app == app && m.dependencies.iter().any(|(a, n)| a == &key.0 && n == &key.1))
            })
            .collect()
    }

    /// Apps with more than one leaf, and their leaves.
    pub(crate) fn conflicts(&self) -> Vec<(String, Vec<String>)> {
        let apps: BTreeSet<&str> = self.nodes.keys().map(|(a, _)| a.as_str()).collect();
        apps.into_iter()
            .filter_map(|app| {
                let leaves = self.leaves(app);
                (leaves.len() > 1).then(|| (app.to_owned(), leaves.into_iter().map(|(_, n)| n.clone()).collect()))
            })
            .collect()
    }

    /// `key` and everything it depends on, directly or not.
    pub(crate) fn ancestors(&self, key: &Key) -> BTreeSet<Key> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![key.clone()];
        while let Some(next) = stack.pop() {
            if seen.insert(next.clone())
                && let Some(migration) = self.nodes.get(&next)
            {
                stack.extend(migration.dependencies.iter().cloned());
            }
        }
        seen
    }

    /// `key` and everything that depends on it, directly or not.
    pub(crate) fn descendants(&self, key: &Key) -> BTreeSet<Key> {
        let mut seen = BTreeSet::from([key.clone()]);
        // The order puts dependents after their dependencies: one pass finds them all.
        for node in &self.order {
            if let Some(migration) = self.nodes.get(node)
                && migration.dependencies.iter().any(|d| seen.contains(d))
            {
                seen.insert(node.clone());
            }
        }
        seen
    }

    /// The state the migrations before `key` in the order leave (every model `key`'s operations
    /// can name, since its dependencies come first).
    ///
    /// # Errors
    ///
    /// [`Error::BadOperation`] when a migration does not fit the state before it.
    pub(crate) fn state_before(&self, key: &Key) -> Result<ProjectState, Error> {
        let mut state = ProjectState::default();
        for node in self.order.iter().take_while(|node| *node != key) {
            self.apply(node, &mut state)?;
        }
        Ok(state)
    }

    /// The state every migration leaves.
    ///
    /// # Errors
    ///
    /// As [`Graph::state_before`].
    pub(crate) fn final_state(&self) -> Result<ProjectState, Error> {
        let mut state = ProjectState::default();
        for node in &self.order {
            self.apply(node, &mut state)?;
        }
        Ok(state)
    }

    /// Applies one migration's operations to `state`.
    pub(crate) fn apply(&self, key: &Key, state: &mut ProjectState) -> Result<(), Error> {
        if let Some(migration) = self.nodes.get(key) {
            for operation in &migration.operations {
                operation.apply(&migration.app, state).map_err(|e| match e {
                    Error::BadOperation { operation, message } => {
                        Error::BadOperation { operation: format!("{operation} (in {})", migration.label()), message }
                    }
                    other => other,
                })?;
            }
        }
        Ok(())
    }
}

/// Depth-first: dependencies first, in sorted order.
fn visit(
    nodes: &BTreeMap<Key, Migration>,
    key: &Key,
    done: &mut BTreeSet<Key>,
    path: &mut Vec<Key>,
    order: &mut Vec<Key>,
) -> Result<(), Error> {
    if done.contains(key) {
        return Ok(());
    }
    if path.contains(key) {
        let cycle: Vec<String> = path.iter().chain([key]).map(|(a, n)| format!("{a}.{n}")).collect();
        return Err(Error::Graph(format!("the migrations depend on each other in a cycle: {}", cycle.join(" -> "))));
    }
    path.push(key.clone());
    let mut dependencies = nodes.get(key).map(|m| m.dependencies.clone()).unwrap_or_default();
    dependencies.sort();
    for dependency in &dependencies {
        visit(nodes, dependency, done, path, order)?;
    }
    path.pop();
    done.insert(key.clone());
    order.push(key.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(app: &str, name: &str, deps: &[(&str, &str)]) -> Migration {
        let mut m = Migration::new(name);
        m.app = app.to_owned();
        for (a, n) in deps {
            m = m.depends_on(a, n);
        }
        m
    }

    fn key(app: &str, name: &str) -> Key {
        (app.to_owned(), name.to_owned())
    }

    #[test]
    fn orders_dependencies_first_and_finds_leaves_and_conflicts() {
        let graph = Graph::new(vec![
            migration("shop", "0002_b", &[("shop", "0001_a"), ("auth", "0001_initial")]),
            migration("shop", "0001_a", &[]),
            migration("auth", "0001_initial", &[]),
            migration("shop", "0003_c", &[("shop", "0002_b")]),
            migration("shop", "0003_d", &[("shop", "0002_b")]),
        ])
        .unwrap();
        let order: Vec<String> = graph.order().iter().map(|(a, n)| format!("{a}.{n}")).collect();
        assert_eq!(order, ["auth.0001_initial", "shop.0001_a", "shop.0002_b", "shop.0003_c", "shop.0003_d"]);
        assert_eq!(graph.conflicts(), vec![("shop".to_owned(), vec!["0003_c".to_owned(), "0003_d".to_owned()])]);
        assert_eq!(graph.leaves("auth"), vec![&key("auth", "0001_initial")]);
        assert!(graph.descendants(&key("auth", "0001_initial")).contains(&key("shop", "0003_d")));
        assert!(graph.ancestors(&key("shop", "0002_b")).contains(&key("auth", "0001_initial")));
    }

    #[test]
    fn missing_dependencies_and_cycles_are_errors() {
        let missing = Graph::new(vec![migration("shop", "0001_a", &[("auth", "0001_initial")])]).unwrap_err();
        assert!(missing.to_string().contains("depends on auth.0001_initial, which does not exist"), "{missing}");
        let cycle =
            Graph::new(vec![migration("a", "0001", &[("b", "0001")]), migration("b", "0001", &[("a", "0001")])])
                .unwrap_err();
        assert!(cycle.to_string().contains("cycle: a.0001 -> b.0001 -> a.0001"), "{cycle}");
    }
}
