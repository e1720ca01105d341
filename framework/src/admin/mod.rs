//! The admin site: Django's `django.contrib.admin`, generated from the model registry.
//!
//! Add the app (after `sessions` and `auth`) and register models with [`register!`](crate::admin::register),
//! whose options name fields as identifiers, so a misspelling is a compile error on it:
//!
//! ```ignore
//! manouche::admin::register!(Product,
//!     list_display = [name, category, price, stock, active],
//!     list_filter = [category, active],
//!     search_fields = [name, description],
//!     readonly_fields = [created_at],
//!     prepopulated_fields = { slug: [name] },
//!     list_per_page = 50,
//! );
//! ```
//!
//! The site lives at `/admin/` with Django's URLs (`login/`, `<app>/<model>/`, `add/`,
//! `<pk>/change/`, `<pk>/delete/`, `<pk>/history/`). Only active staff users get in; each page
//! asks for the model's permission (view or change to list, add, change, delete), so a model
//! the user may not see is absent from the index and its pages answer 403. A user with only
//! the view permission sees read-only pages. Every add, change and delete made through it is
//! recorded as a [`LogEntry`], shown per object and as "Recent actions".

mod inlines;
pub mod migrations;
pub mod models;
mod users;
mod views;

pub use self::views::INVALID_STAFF_LOGIN;

pub use self::models::{ADDITION, CHANGE, DELETION, LogEntry};

use crate::db::ModelMeta;

/// How the admin shows one model: what [`register!`](crate::admin::register) builds.
#[derive(Debug, Clone, Copy)]
pub struct ModelAdmin {
    /// The model's metadata.
    pub model: fn() -> &'static ModelMeta,
    /// Columns of the change list (default: the row as one line).
    pub list_display: &'static [&'static str],
    /// Columns that link to the change page (default: the first).
    pub list_display_links: &'static [&'static str],
    /// Fields filtered on in the side bar (booleans, choices, foreign keys).
    pub list_filter: &'static [&'static str],
    /// Text fields the search box looks in (none: no search box).
    pub search_fields: &'static [&'static str],
    /// Rows a page (Django's 100).
    pub list_per_page: u32,
    /// Fields shown but not editable.
    pub readonly_fields: &'static [&'static str],
    /// The fields of the add and change pages, in order (default: every editable field).
    pub fields: &'static [&'static str],
    /// `(field, sources)`: fields a script fills from others as they are typed (a slug from a name).
    pub prepopulated_fields: &'static [(&'static str, &'static [&'static str])],
    /// Child models edited on the page, each with a foreign key to this one (Django's inlines).
    pub inlines: &'static [fn() -> &'static ModelMeta],
}

impl ModelAdmin {
    /// Django's defaults.
    pub const DEFAULT: ModelAdmin = ModelAdmin {
        model: placeholder,
        list_display: &[],
        list_display_links: &[],
        list_filter: &[],
        search_fields: &[],
        list_per_page: 100,
        readonly_fields: &[],
        fields: &[],
        prepopulated_fields: &[],
        inlines: &[],
    };

    pub(crate) fn meta(&self) -> &'static ModelMeta {
        (self.model)()
    }
}

fn placeholder() -> &'static ModelMeta {
    unreachable!("ModelAdmin::DEFAULT is completed by `register!`, which always sets `model`")
}

/// A registration, collected at link time.
#[doc(hidden)]
#[derive(Debug)]
pub struct AdminEntry(pub &'static ModelAdmin);

inventory::collect!(AdminEntry);

/// Every registered model, sorted by app and name (the auth app's `User` and `Group` are
/// registered by the admin itself).
pub fn registered() -> Vec<&'static ModelAdmin> {
    let mut all: Vec<&'static ModelAdmin> = inventory::iter::<AdminEntry>().map(|e| e.0).collect();
    all.sort_by_key(|a| (a.meta().app, a.meta().name));
    all.dedup_by_key(|a| (a.meta().app, a.meta().name));
    all
}

/// The registration of `app.Model`, case-insensitive.
pub fn get(app: &str, model: &str) -> Option<&'static ModelAdmin> {
    inventory::iter::<AdminEntry>()
        .map(|e| e.0)
        .find(|a| a.meta().app.eq_ignore_ascii_case(app) && a.meta().name.eq_ignore_ascii_case(model))
}

/// Registers a model with the admin (Django's `admin.site.register` with a `ModelAdmin`).
///
/// `register!(Model, option = value, ...)`: `list_display`, `list_display_links`,
/// `list_filter`, `search_fields`, `readonly_fields` and `fields` take `[field, ...]`;
/// `prepopulated_fields = { slug: [name] }`; `list_per_page = 50`; `inlines = [OrderItem]`
/// (child models with a foreign key to this one, edited on its page). Each field is checked
/// against the struct, and an unknown option is an error on its name.
#[macro_export]
#[doc(hidden)]
macro_rules! __admin_register {
    ($model:ty $(, $key:ident = $value:tt)* $(,)?) => {
        const _: () = {
            #[allow(unused_variables, clippy::no_effect)]
            fn __fields_exist(m: &$model) {
                $( $crate::__admin_check!(m, $key = $value); )*
            }
            static ADMIN: $crate::admin::ModelAdmin = $crate::admin::ModelAdmin {
                model: <$model as $crate::db::Model>::meta,
                $( $key: $crate::__admin_value!($key = $value), )*
                ..$crate::admin::ModelAdmin::DEFAULT
            };
            $crate::__private::inventory::submit! { $crate::admin::AdminEntry(&ADMIN) }
        };
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __admin_check {
    ($m:ident, list_per_page = $n:literal) => {};
    ($m:ident, inlines = [$($child:ty),* $(,)?]) => {
        $( let _ = <$child as $crate::db::Model>::meta; )*
    };
    ($m:ident, prepopulated_fields = { $($field:ident : [$($source:ident),* $(,)?]),* $(,)? }) => {
        $( let _ = &$m.$field; $( let _ = &$m.$source; )* )*
    };
    ($m:ident, $key:ident = [$($field:ident),* $(,)?]) => {
        $( let _ = &$m.$field; )*
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __admin_value {
    (list_per_page = $n:literal) => { $n };
    (inlines = [$($child:ty),* $(,)?]) => { &[$(<$child as $crate::db::Model>::meta),*] };
    (prepopulated_fields = { $($field:ident : [$($source:ident),* $(,)?]),* $(,)? }) => {
        &[$( (stringify!($field), &[$(stringify!($source)),*]) ),*]
    };
    ($key:ident = [$($field:ident),* $(,)?]) => { &[$(stringify!($field)),*] };
}

#[doc(inline)]
pub use crate::__admin_register as register;

crate::admin::register!(
    crate::auth::User,
    list_display = [username, email, first_name, last_name, is_staff],
    list_filter = [is_staff, is_superuser, is_active],
    search_fields = [username, first_name, last_name, email],
    readonly_fields = [password, last_login, date_joined],
);
crate::admin::register!(crate::auth::Group, search_fields = [name]);

/// The built-in `admin` app: the site at `admin/` (reversed as `admin:index`, ...) and the
/// history table. Add it after `sessions` and `auth`, with the `manouche.sessions`,
/// `manouche.csrf`, `manouche.auth` and `manouche.messages` middleware.
pub fn app() -> crate::App {
    crate::App::new("admin")
        .mount("admin/")
        .urls(crate::urlpatterns![
            crate::urls::path("", views::index),
            crate::urls::path("login/", views::login),
            crate::urls::path("logout/", views::logout),
            crate::urls::path("{app_label}/{model_name}/", views::changelist),
            crate::urls::path("{app_label}/{model_name}/add/", views::add),
            crate::urls::path("{app_label}/{model_name}/{object_id}/change/", views::change),
            crate::urls::path("{app_label}/{model_name}/{object_id}/delete/", views::delete),
            crate::urls::path("{app_label}/{model_name}/{object_id}/history/", views::history),
            crate::urls::path("{app_label}/{model_name}/{object_id}/password/", users::user_password),
        ])
        .migrations(concat!(env!("CARGO_MANIFEST_DIR"), "/src/admin/migrations"), migrations::all)
        .static_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
}
