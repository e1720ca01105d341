//! A migration: a named, ordered list of operations with its dependencies.

use super::operation::Operation;

/// One migration file's content, Django's `Migration` class: its name, the migrations it
/// depends on (the previous one of its app, and those creating the models its foreign keys
/// point to) and its operations. `makemigrations` writes them; the app registers them with
/// [`crate::App::migrations`], which also sets the app label.
///
/// ```
/// use manouche::migrations::prelude::*;
///
/// let migration = Migration::new("0002_product_stock")
///     .depends_on("shop", "0001_initial")
///     .operation(add_field("Product", field("stock", FieldType::Integer).default("0")));
/// assert_eq!(migration.name(), "0002_product_stock");
/// ```
#[derive(Debug, Clone)]
pub struct Migration {
    pub(crate) app: String,
    pub(crate) name: String,
    pub(crate) dependencies: Vec<(String, String)>,
    pub(crate) operations: Vec<Operation>,
    /// Applied in one transaction (Django's `Migration.atomic`, on by default).
    pub(crate) atomic: bool,
}

impl Migration {
    /// A migration named `name` (`0001_initial`), with no operations yet.
    pub fn new(name: &str) -> Self {
        Migration {
            app: String::new(),
            name: name.to_owned(),
            dependencies: Vec::new(),
            operations: Vec::new(),
            atomic: true,
        }
    }

    /// Runs after the migration `name` of `app`.
    #[must_use]
    pub fn depends_on(mut self, app: &str, name: &str) -> Self {
        self.dependencies.push((app.to_owned(), name.to_owned()));
        self
    }

    /// Adds an operation.
    #[must_use]
    pub fn operation(mut self, operation: impl Into<Operation>) -> Self {
        self.operations.push(operation.into());
        self
    }

    /// Whether it runs in one transaction (the default): `atomic(false)` for statements a
    /// transaction refuses, such as PostgreSQL's `CREATE INDEX CONCURRENTLY`. A non-atomic
    /// migration that fails part-way leaves its earlier statements applied.
    #[must_use]
    pub fn atomic(mut self, atomic: bool) -> Self {
        self.atomic = atomic;
        self
    }

    /// The Diesel migration this is, when it comes from a Diesel migrations folder.
    pub fn diesel(&self) -> Option<&super::DieselMigration> {
        match self.operations.as_slice() {
            [Operation::RunDiesel(diesel)] => Some(diesel),
            _ => None,
        }
    }

    /// The migration's name, e.g. `0001_initial`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The app label (set when the app registers it).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The operations, in order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// `(app, name)` of the migrations it runs after.
    pub fn dependencies(&self) -> &[(String, String)] {
        &self.dependencies
    }

    /// `app.name`, e.g. `shop.0001_initial`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.app, self.name)
    }
}

/// The number a migration name starts with.
pub(crate) fn number_of(name: &str) -> Option<u32> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() { None } else { digits.parse().ok() }
}
