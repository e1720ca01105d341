//! # Manouche
//!
//! A batteries-included web framework: Django's productivity with Rust's compile-time checks, on
//! actix-web and askama. Views, URL patterns, templates, middleware, signals, settings, a
//! management CLI and a test client, declared with attributes and checked by the compiler.
//!
//! ```
//! use manouche::prelude::*;
//! use manouche::urls::path;
//!
//! #[derive(Template)]
//! #[template(source = "<h1>{{ name }}</h1>", ext = "html")]
//! struct Hello { name: String }
//!
//! #[view(GET, name = "hello")]
//! async fn hello(name: Path<String>) -> manouche::Result<HttpResponse> {
//!     render(&Hello { name: name.into_inner() })
//! }
//!
//! fn project() -> Project {
//!     Project::new(Settings::for_tests())
//!         .app(App::new("greet").urls(urlpatterns![path("hello/{name}/", hello)]))
//! }
//!
//! // In `main`: `project().execute()` is the CLI (runserver, check, routes, ...).
//! let client = manouche::test::Client::new(project())?;
//! assert_eq!(client.get("/hello/<b>/").send().text(), "<h1>&#60;b&#62;</h1>");
//! assert_eq!(hello::url("ada")?, "/hello/ada/");
//! # Ok::<(), manouche::Error>(())
//! ```
//!
//! | Module | Django |
//! |---|---|
//! | [`conf`] | `settings.py` |
//! | [`db`] | `django.db`: connections, `transaction.atomic` |
//! | [`project`] | apps, root URLconf, `manage.py` |
//! | [`urls`] | `urls.py`, `reverse()` |
//! | [`views`], [`http`] | views, `HttpResponse`, `JsonResponse`, `FileResponse` |
//! | [`templates`] | templates (askama, compiled) |
//! | [`middleware`] | `MIDDLEWARE` |
//! | [`admin`] | `django.contrib.admin` |
//! | [`sessions`], [`messages`] | `django.contrib.sessions`, `django.contrib.messages` |
//! | [`csrf`] | `CsrfViewMiddleware`, `{% csrf_token %}` |
//! | [`forms`] | `django.forms` |
//! | [`signals`] | `django.dispatch` |
//! | [`tasks`] | `django.tasks`, Celery |
//! | [`management`] | management commands |
//! | [`mod@test`] | `django.test.Client` |
//!
//! Cargo features: none yet; every module is always built.

extern crate self as manouche;

pub mod admin;
pub mod auth;
pub mod cache;
pub mod conf;
mod context;
pub mod csrf;
pub mod db;
mod error;
pub mod forms;
pub mod http;
pub mod mail;
pub mod management;
pub mod messages;
pub mod middleware;
pub mod migrations;
pub mod prelude;
pub mod project;
pub mod sessions;
pub mod signals;
pub mod signing;
pub mod tasks;
pub mod templates;
pub mod test;
pub mod urls;
pub mod views;

#[doc(hidden)]
pub mod __private;

pub use self::error::{Error, Result};
pub use self::project::{App, Project};
/// askama, for code that needs its traits or filters directly.
pub use askama;
/// chrono, whose types `Date`, `DateTime` and `DateTimeTz` are: for time zones and formatting.
pub use chrono;
/// diesel_migrations, for `embed_migrations!` and [`App::diesel_migrations`]: with
/// `use manouche::diesel_migrations;` in scope the macro needs no dependency of its own.
pub use diesel_migrations;
/// The `log` facade the framework logs through; `manouche::log::info!(...)` needs no dependency.
pub use log;
pub use manouche_macros::{
    Choices, Template, cache_control, cache_page, login_required, many_to_many, model, never_cache, permission,
    permission_required, ratelimit, receiver, staff_member_required, task, user_passes_test, vary_on_cookie,
    vary_on_headers, view,
};
