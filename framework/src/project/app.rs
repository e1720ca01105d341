use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::conf::Settings;
use crate::management::Command;
use crate::middleware::{Factory, Middleware};
use crate::urls::Urls;

/// A Django app: a name (its URL namespace), URL patterns, static files, templates, commands and
/// middleware. Later: models, migrations and admin registrations.
///
/// # Examples
///
/// ```
/// use manouche::prelude::*;
/// #[view(GET)]
/// async fn index() -> &'static str { "blog" }
/// let blog = App::new("blog").mount("blog/").urls(urlpatterns![manouche::urls::path("", index)]);
/// assert_eq!(blog.name(), "blog");
/// ```
#[derive(Clone)]
pub struct App {
    pub(crate) name: String,
    pub(crate) prefix: String,
    pub(crate) urls: Urls,
    pub(crate) static_dirs: Vec<PathBuf>,
    pub(crate) template_dirs: Vec<PathBuf>,
    pub(crate) commands: Vec<Arc<dyn Command>>,
    pub(crate) middleware: Vec<(String, Factory)>,
    pub(crate) context_processors: Vec<crate::templates::ContextProcessorFactory>,
    pub(crate) post_migrate: Vec<crate::migrations::PostMigrateHook>,
    pub(crate) auth_backends: Vec<crate::auth::backends::NamedBackend>,
    pub(crate) migrations: Option<Migrations>,
    pub(crate) diesel_migrations: Option<&'static diesel_migrations::EmbeddedMigrations>,
}

/// An app's migration folder and the list compiled from it.
#[derive(Clone)]
pub(crate) struct Migrations {
    pub(crate) dir: PathBuf,
    pub(crate) list: fn() -> Vec<crate::migrations::Migration>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("name", &self.name).field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl App {
    /// An app named `name` (lowercase letters, digits and `_`), mounted at the site root.
    pub fn new(name: impl Into<String>) -> Self {
        App {
            name: name.into(),
            prefix: String::new(),
            urls: Urls::new(),
            static_dirs: Vec::new(),
            template_dirs: Vec::new(),
            commands: Vec::new(),
            middleware: Vec::new(),
            context_processors: Vec::new(),
            post_migrate: Vec::new(),
            auth_backends: Vec::new(),
            migrations: None,
            diesel_migrations: None,
        }
    }

    /// The app's name and URL namespace.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Mounts the app's URLs under a route prefix, e.g. `"blog/"`.
    #[must_use]
    pub fn mount(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The app's URL patterns, reversed as `"<app>:<name>"`.
    #[must_use]
    pub fn urls(mut self, urls: Urls) -> Self {
        self.urls = urls;
        self
    }

    /// A folder of static files (`concat!(env!("CARGO_MANIFEST_DIR"), "/static")`).
    #[must_use]
    pub fn static_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dirs.push(dir.into());
        self
    }

    /// The app's template folder, which `check` verifies exists.
    #[must_use]
    pub fn templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.template_dirs.push(dir.into());
        self
    }

    /// A management command the app adds to the project's CLI.
    #[must_use]
    pub fn command(mut self, command: impl Command) -> Self {
        self.commands.push(Arc::new(command));
        self
    }

    /// The app's migrations: the folder `makemigrations` writes them to
    /// (`concat!(env!("CARGO_MANIFEST_DIR"), "/src/shop/migrations")`) and the list compiled from
    /// it (the folder's `mod.rs`, also written by `makemigrations`, provides `all`).
    ///
    /// ```
    /// # use manouche::prelude::*;
    /// fn no_migrations_yet() -> Vec<manouche::migrations::Migration> { Vec::new() }
    /// let shop = App::new("shop").migrations(concat!(env!("CARGO_MANIFEST_DIR"), "/src/shop/migrations"), no_migrations_yet);
    /// # let _ = shop;
    /// ```
    #[must_use]
    pub fn migrations(mut self, dir: impl Into<PathBuf>, list: fn() -> Vec<crate::migrations::Migration>) -> Self {
        self.migrations = Some(Migrations { dir: dir.into(), list });
        self
    }

    /// A Diesel migrations folder (`<version>_<name>/up.sql` and `down.sql`, as Diesel's CLI
    /// writes them), embedded with diesel_migrations' `embed_migrations!`, as the start of the
    /// app's history: each is a migration named like its folder, after the one before it, and the
    /// app's own migrations (if it has a folder too) come after the last. `migrate` applies and
    /// unapplies them, `showmigrations` lists them, and a database Diesel's CLI migrated is
    /// adopted: what its `__diesel_schema_migrations` table records is not run again.
    ///
    /// ```
    /// use manouche::prelude::*;
    /// use manouche::diesel_migrations::{self, EmbeddedMigrations, embed_migrations};
    ///
    /// const BLOG: EmbeddedMigrations = embed_migrations!("../tests/fixtures/diesel_migrations");
    /// let blog = App::new("blog").diesel_migrations(&BLOG);
    /// let names: Vec<String> = blog.migration_list().iter().map(|m| m.name().to_owned()).collect();
    /// assert_eq!(names, ["2024-01-10-090000_create_authors", "2024-01-11-090000_create_posts", "2024-02-01-120000_add_published"]);
    /// ```
    #[must_use]
    pub fn diesel_migrations(mut self, folder: &'static diesel_migrations::EmbeddedMigrations) -> Self {
        self.diesel_migrations = Some(folder);
        self
    }

    /// Whether the app has migrations: a folder of its own, or a Diesel one.
    pub(crate) fn has_migrations(&self) -> bool {
        self.migrations.is_some() || self.diesel_migrations.is_some()
    }

    /// The app's migrations, labelled with its name: its Diesel ones first, then those of its
    /// folder (none when it has neither).
    pub fn migration_list(&self) -> Vec<crate::migrations::Migration> {
        let mut list = self
            .diesel_migrations
            .map(|folder| crate::migrations::diesel_folder(&self.name, folder))
            .unwrap_or_default();
        let last_diesel = list.last().map(|m| m.name().to_owned());
        list.extend(self.own_migrations().into_iter().map(|mut migration| {
            // The app's first migration runs after its Diesel history.
            if let Some(last) = &last_diesel
                && !migration.dependencies.iter().any(|(app, _)| *app == self.name)
            {
                migration.dependencies.push((self.name.clone(), last.clone()));
            }
            migration
        }));
        list
    }

    /// The migrations of the app's folder, labelled with its name.
    pub(crate) fn own_migrations(&self) -> Vec<crate::migrations::Migration> {
        self.migrations.as_ref().map_or_else(Vec::new, |m| {
            (m.list)()
                .into_iter()
                .map(|mut migration| {
                    migration.app.clone_from(&self.name);
                    migration
                })
                .collect()
        })
    }

    /// A middleware the settings can list under `name` (e.g. `"shop.timing"`).
    #[must_use]
    pub fn middleware<F>(mut self, name: impl Into<String>, factory: F) -> Self
    where
        F: Fn(&Settings) -> Result<Arc<dyn Middleware>, String> + Send + Sync + 'static,
    {
        self.middleware.push((name.into(), Arc::new(factory)));
        self
    }

    /// Code run after every successful `migrate` (Django's `post_migrate` signal), in app order,
    /// with the migrated database: the `auth` app syncs permissions this way.
    #[must_use]
    pub fn post_migrate<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut crate::migrations::PostMigrate<'_>) -> Result<(), crate::db::Error> + Send + Sync + 'static,
    {
        self.post_migrate.push(Arc::new(hook));
        self
    }

    /// An authentication backend the `auth.backends` setting can list under `name` (e.g.
    /// `"shop.EmailBackend"`), Django's `AUTHENTICATION_BACKENDS` entry.
    #[must_use]
    pub fn auth_backend(mut self, name: impl Into<String>, backend: impl crate::auth::backends::AuthBackend) -> Self {
        self.auth_backends.push((name.into(), Arc::new(backend)));
        self
    }

    /// A context processor (Django's `context_processors`): values every template of the project
    /// can show through its [`crate::http::RequestContext`], without each view passing them.
    /// `factory` runs once when the project is built, with the settings; what it returns runs
    /// for each request that builds a context.
    ///
    /// ```
    /// use manouche::prelude::*;
    /// use manouche::templates::ContextVars;
    ///
    /// let shop = App::new("shop").context_processor(|settings| {
    ///     let name: std::sync::Arc<str> = if settings.debug { "Tea (dev)".into() } else { "Tea".into() };
    ///     Ok(move |_req: &Request, vars: &mut ContextVars| vars.insert("shop_name", name.clone()))
    /// });
    /// // In a template: <title>{{ ctx.get("shop_name") }}</title>
    /// # let _ = shop;
    /// ```
    #[must_use]
    pub fn context_processor<F, P>(mut self, factory: F) -> Self
    where
        F: Fn(&Settings) -> Result<P, String> + Send + Sync + 'static,
        P: Fn(&crate::http::Request, &mut crate::templates::ContextVars) + Send + Sync + 'static,
    {
        self.context_processors.push(Arc::new(move |settings: &Settings| {
            factory(settings).map(|p| Arc::new(p) as crate::templates::ContextProcessor)
        }));
        self
    }
}
