use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::app::App;
use super::error_pages::{ErrorContext, ErrorHandler, ErrorPages};
use super::site::Site;
use crate::conf::{self, Settings};
use crate::db::{Database, PoolOptions};
use crate::http::SiteState;
use crate::management::{self, Command, CommandOutput};
use crate::middleware::{Factory, Middleware, builtin_factories};
use crate::urls::Resolver;

/// A project: settings plus apps. `execute()` is Django's `manage.py`.
pub struct Project {
    settings: Result<Arc<Settings>, Arc<conf::Error>>,
    pub(crate) apps: Vec<App>,
    error_pages: ErrorPages,
    default_command: String,
}

impl fmt::Debug for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Project").field("settings", &self.settings).field("apps", &self.apps).finish_non_exhaustive()
    }
}

impl Project {
    /// A project with these settings.
    pub fn new(settings: Settings) -> Self {
        Project {
            settings: Ok(Arc::new(settings)),
            apps: Vec::new(),
            error_pages: ErrorPages::default(),
            default_command: "runserver".into(),
        }
    }

    /// A project whose settings come from a TOML file and the environment.
    ///
    /// The `MANOUCHE_SETTINGS` environment variable, when set, names the file instead. A missing
    /// or invalid file is reported when the project runs, naming the file and key.
    pub fn from_settings_file(path: impl Into<PathBuf>) -> Self {
        let path = std::env::var_os("MANOUCHE_SETTINGS").map_or_else(|| path.into(), PathBuf::from);
        let settings = Settings::load(&path).map(Arc::new).map_err(Arc::new);
        Project { settings, ..Project::new(Settings::for_tests()) }
    }

    /// Adds an app; apps are matched and listed in the order they are added.
    #[must_use]
    pub fn app(mut self, app: App) -> Self {
        self.apps.push(app);
        self
    }

    /// Replaces the built-in page for an error status (Django's `handler404`, `handler500`, ...).
    #[must_use]
    pub fn error_page<F>(mut self, status: StatusCode, handler: F) -> Self
    where
        F: Fn(&ErrorContext<'_>) -> crate::Result<HttpResponse> + Send + Sync + 'static,
    {
        let handler: ErrorHandler = Arc::new(handler);
        self.error_pages.handlers.insert(status.as_u16(), handler);
        self
    }

    /// The command `execute()` runs when given no arguments (default: `runserver`).
    #[must_use]
    pub fn default_command(mut self, name: impl Into<String>) -> Self {
        self.default_command = name.into();
        self
    }

    /// The settings, or why they could not be loaded.
    ///
    /// # Errors
    ///
    /// The [`conf::Error`] met when loading the settings file.
    pub fn settings(&self) -> Result<&Settings, &conf::Error> {
        self.settings.as_deref().map_err(|e| &**e)
    }

    /// The apps, in order.
    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    pub(crate) fn settings_arc(&self) -> Result<Arc<Settings>, crate::Error> {
        self.settings.clone().map_err(|e| crate::Error::ImproperlyConfigured(e.to_string()))
    }

    pub(crate) fn default_command_name(&self) -> &str {
        &self.default_command
    }

    pub(crate) fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Ok(Arc::new(settings));
        self
    }

    /// Every command: the built-in ones, then the apps'.
    pub(crate) fn commands(&self) -> Vec<Arc<dyn Command>> {
        let mut commands = management::builtin_commands();
        for app in &self.apps {
            commands.extend(app.commands.iter().cloned());
        }
        commands
    }

    /// Runs the management command named by the process arguments and returns its exit code.
    pub fn execute(self) -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        management::execute(&self, &args)
    }

    /// Runs a management command with the process's stdout and stderr, as `execute` does with the
    /// command line: for a `main` that chains commands (`migrate`, then `runserver`).
    pub fn run_command<I, S>(&self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        management::execute(self, &args)
    }

    /// Runs a management command in-process and captures its output: Django's `call_command`.
    ///
    /// # Examples
    ///
    /// ```
    /// use manouche::prelude::*;
    /// let project = Project::new(Settings::for_tests()).app(App::new("shop"));
    /// let out = project.call_command(["check"]);
    /// assert!(out.success(), "{}", out.stderr);
    /// assert!(out.stdout.contains("no issues"));
    /// ```
    pub fn call_command<I, S>(&self, args: I) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        management::call(self, &args, management::Input::Closed)
    }

    /// Runs a command as [`Project::call_command`] does, answering its prompts with `answers` in
    /// order (passwords included), as a person at a terminal would: for testing interactive
    /// commands such as `createsuperuser`.
    pub fn call_command_with_input<I, S, A, T>(&self, args: I, answers: A) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        A: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        let answers = answers.into_iter().map(Into::into).collect();
        management::call(self, &args, management::Input::Scripted(answers))
    }

    /// Compiles URL patterns and middleware into the immutable [`Site`] the workers share.
    pub(crate) fn build(&self) -> Result<Arc<Site>, crate::Error> {
        let settings = self.settings_arc()?;
        let mut problems = Vec::new();
        let mut seen = HashMap::new();
        for app in &self.apps {
            if !valid_app_name(&app.name) {
                problems.push(format!(
                    "app name `{}` must be lowercase letters, digits and `_`, starting with a letter",
                    app.name
                ));
            }
            if seen.insert(app.name.as_str(), ()).is_some() {
                problems.push(format!("app `{}` is added twice", app.name));
            }
        }
        let mounts = self.apps.iter().map(|app| (Some(app.name.as_str()), app.prefix.as_str(), &app.urls));
        let resolver = match Resolver::new(mounts) {
            Ok(r) => Some(r),
            Err(errors) => {
                problems.extend(errors);
                None
            }
        };
        let middleware = match self.middleware(&settings) {
            Ok(m) => m,
            Err(errors) => {
                problems.extend(errors);
                Vec::new()
            }
        };
        let mut context_processors = Vec::new();
        for app in &self.apps {
            for factory in &app.context_processors {
                match factory(&settings) {
                    Ok(processor) => context_processors.push(processor),
                    Err(e) => problems.push(format!("a context processor of app `{}` could not start: {e}", app.name)),
                }
            }
        }
        let auth_backends = match self.auth_backends(&settings) {
            Ok(backends) => backends,
            Err(problem) => {
                problems.push(problem);
                Vec::new()
            }
        };
        let db = Database::connect(&settings.database_url, PoolOptions::from_settings(&settings));
        let caches = match crate::cache::Caches::from_settings(&settings, &db) {
            Ok(caches) => Some(caches),
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let proxy = settings.section::<crate::http::ProxySettings>().unwrap_or_else(|error| {
            problems.push(error.to_string());
            crate::http::ProxySettings::default()
        });
        let trusted_proxies = proxy.addresses().unwrap_or_else(|problem| {
            problems.push(problem);
            Vec::new()
        });
        let proxy_ssl_header = proxy.ssl_header().unwrap_or_else(|problem| {
            problems.push(problem);
            None
        });
        let tasks = match settings.section::<crate::tasks::TaskSettings>() {
            Ok(section)
                if matches!(section.backend.as_str(), "database" | "amqp")
                    && !self.apps.iter().any(|a| a.name == "tasks") =>
            {
                problems.push(format!(
                    "the {} task backend keeps tasks in the tasks app's table: add `manouche::tasks::app()` to the project",
                    section.backend
                ));
                None
            }
            Ok(section) => crate::tasks::Tasks::from_settings(section, &db).map_err(|e| problems.push(e)).ok(),
            Err(error) => {
                problems.push(error.to_string());
                None
            }
        };
        let server = settings.section::<crate::http::ServerSettings>().unwrap_or_else(|error| {
            problems.push(error.to_string());
            crate::http::ServerSettings::default()
        });
        let (Some(resolver), Some(caches), Some(tasks)) = (resolver.filter(|_| problems.is_empty()), caches, tasks)
        else {
            return Err(crate::Error::ImproperlyConfigured(problems.join("; ")));
        };
        crate::cache::install(&caches);
        crate::cache::watch_dependencies(&caches);
        let static_dirs = self.static_search_path(&settings);
        let site = Arc::new(Site {
            state: web::Data::new(SiteState {
                db,
                caches,
                trusted_proxies,
                proxy_ssl_header,
                use_x_forwarded_host: proxy.use_x_forwarded_host,
                tasks: tasks.clone(),
                limits: (&server).into(),
                max_header_bytes: server.max_header_bytes,
                settings: Arc::clone(&settings),
                migrations: self
                    .apps
                    .iter()
                    .flat_map(App::migration_list)
                    .map(|migration| (migration.app, migration.name))
                    .collect(),
                context_processors,
                auth_backends,
            }),
            settings,
            resolver: Arc::new(resolver),
            middleware,
            error_pages: self.error_pages.clone(),
            static_dirs,
        });
        crate::tasks::install(&tasks, site.ambient());
        Ok(site)
    }

    /// Where static files are looked up, in Django's finder order: the `static_dirs` setting
    /// first (so a project can override an app's file), then each app's folders.
    pub(crate) fn static_search_path(&self, settings: &Settings) -> Vec<PathBuf> {
        let mut dirs = settings.static_dirs.clone();
        dirs.extend(self.apps.iter().flat_map(|a| a.static_dirs.iter().cloned()));
        dirs
    }

    /// The backends `auth.backends` lists, found among the built-in one and the apps'.
    fn auth_backends(&self, settings: &Settings) -> Result<Vec<crate::auth::backends::NamedBackend>, String> {
        let section: crate::auth::AuthSettings = settings.section().map_err(|e| e.to_string())?;
        if let Some(rate) = &section.login_rate {
            crate::cache::Rate::parse(rate).map_err(|e| format!("`auth.login_rate`: {e}"))?;
        }
        let mut known: Vec<crate::auth::backends::NamedBackend> =
            vec![(crate::auth::MODEL_BACKEND.to_owned(), Arc::new(crate::auth::backends::ModelBackend))];
        known.extend(self.apps.iter().flat_map(|app| app.auth_backends.iter().cloned()));
        section
            .backends
            .iter()
            .map(|name| {
                known.iter().find(|(known, _)| known == name).cloned().ok_or_else(|| {
                    let names: Vec<&str> = known.iter().map(|(n, _)| n.as_str()).collect();
                    format!("unknown backend `{name}` in `auth.backends`; known: {}", names.join(", "))
                })
            })
            .collect()
    }

    fn middleware(&self, settings: &Settings) -> Result<Vec<Arc<dyn Middleware>>, Vec<String>> {
        let mut factories: HashMap<String, Factory> =
            builtin_factories().into_iter().map(|(n, f)| (n.to_owned(), f)).collect();
        for app in &self.apps {
            for (name, factory) in &app.middleware {
                factories.insert(name.clone(), Arc::clone(factory));
            }
        }
        let mut errors = Vec::new();
        let mut chain = Vec::new();
        for name in &settings.middleware {
            match factories.get(name) {
                Some(factory) => match factory(settings) {
                    Ok(m) => chain.push(m),
                    Err(e) => errors.push(format!("middleware `{name}` could not start: {e}")),
                },
                None => {
                    let mut known: Vec<&str> = factories.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    errors.push(format!(
                        "unknown middleware `{name}` in the `middleware` setting; known: {}",
                        known.join(", ")
                    ));
                }
            }
        }
        if errors.is_empty() { Ok(chain) } else { Err(errors) }
    }
}

fn valid_app_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
