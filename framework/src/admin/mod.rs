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

use crate::db::{AnyConnection, ModelMeta};

/// How the admin shows one model: what [`register!`](crate::admin::register) builds.
#[derive(Debug, Clone, Copy)]
pub struct ModelAdmin {
    /// The model's metadata.
    pub model: fn() -> &'static ModelMeta,
    /// Columns of the change list (default: the row as one line).
    pub list_display: &'static [Column],
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
    /// Foreign keys typed as a key instead of a select of every target row.
    pub raw_id_fields: &'static [&'static str],
    /// The fields of the add and change pages, in order (default: every editable field).
    pub fields: &'static [&'static str],
    /// `(title, fields)`: the add and change pages' fields in titled groups (instead of `fields`).
    pub fieldsets: &'static [(&'static str, &'static [&'static str])],
    /// The change list's order, `(field, descending)` (default: the model's `ordering`).
    pub ordering: &'static [(&'static str, bool)],
    /// `(field, sources)`: fields a script fills from others as they are typed (a slug from a name).
    pub prepopulated_fields: &'static [(&'static str, &'static [&'static str])],
    /// Child models edited on the page, each with a foreign key to this one (Django's inlines).
    pub inlines: &'static [fn() -> &'static ModelMeta],
    /// Custom actions of the change list, beside "Delete selected".
    pub actions: &'static [Action],
}

impl ModelAdmin {
    /// The registration of the model `model` describes, with Django's defaults.
    pub const fn new(model: fn() -> &'static ModelMeta) -> Self {
        ModelAdmin {
            model,
            list_display: &[],
            list_display_links: &[],
            list_filter: &[],
            search_fields: &[],
            list_per_page: 100,
            readonly_fields: &[],
            raw_id_fields: &[],
            fields: &[],
            fieldsets: &[],
            ordering: &[],
            prepopulated_fields: &[],
            inlines: &[],
            actions: &[],
        }
    }

    pub(crate) fn meta(&self) -> &'static ModelMeta {
        (self.model)()
    }
}

/// A column of the change list: a field (`price`), a field of a foreign key's target
/// (`category.name`) or a method of the model (`margin()`, whose value is shown with `Display`).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// `price`, `category.name` or `margin()`.
    pub name: &'static str,
    /// For a method: loads the page's rows by key and gives `(key, text)` for each.
    pub cells: Option<Cells>,
}

/// What a method column computes: `(key, text)` of the rows with these keys.
pub type Cells = fn(&mut AnyConnection, &[String]) -> Result<Vec<(String, String)>, crate::db::Error>;

impl Column {
    /// The method's name, for a method column.
    pub fn method(&self) -> Option<&'static str> {
        self.name.strip_suffix("()")
    }
}

/// The text of a method column for the rows with these keys: what `register!` wraps each
/// method column in (one query a column and page).
#[doc(hidden)]
pub fn __method_cells<M>(
    conn: &mut AnyConnection,
    keys: &[String],
    cell: fn(&M) -> String,
) -> Result<Vec<(String, String)>, crate::db::Error>
where
    M: crate::db::ModelText,
    M::Query: diesel::query_dsl::LoadQuery<'static, AnyConnection, M>,
{
    let rows = crate::db::registry::load_keys::<M>(conn, keys)?;
    Ok(rows.iter().map(|row| (crate::db::FieldValue::to_text(&row.pk()), cell(row))).collect())
}

/// A custom action of the change list (Django's admin actions): run on the selected rows.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    /// Its name in the form (the function's path).
    pub name: &'static str,
    /// What the action menu shows.
    pub description: &'static str,
    /// Loads the rows with these keys and runs the action on them; the success message.
    pub run: fn(&mut AnyConnection, &[String]) -> Result<String, crate::db::Error>,
}

/// Runs a typed action on the rows with these keys: what `register!` wraps each action in.
#[doc(hidden)]
pub fn __run_action<M>(
    conn: &mut AnyConnection,
    keys: &[String],
    action: fn(&mut AnyConnection, Vec<M>) -> Result<String, crate::db::Error>,
) -> Result<String, crate::db::Error>
where
    M: crate::db::ModelText,
    M::Query: diesel::query_dsl::LoadQuery<'static, AnyConnection, M>,
{
    let rows = crate::db::registry::load_keys::<M>(conn, keys)?;
    action(conn, rows)
}

/// Checks a related column of `list_display` (`category.name`): what `register!` expands to.
#[doc(hidden)]
pub fn __related<T: crate::db::Model>(_key: &crate::db::ForeignKey<T>, _check: impl FnOnce(&T)) {}

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
/// `list_filter`, `search_fields`, `readonly_fields`, `raw_id_fields` and `fields` take `[field, ...]`
/// (`list_display` and `search_fields` also `key.field`, a field of a foreign key's target:
/// `category.name`; `list_display` also `method()`, a method of the model shown with `Display`);
/// `prepopulated_fields = { slug: [name] }`; `list_per_page = 50`; `inlines = [OrderItem]`
/// (child models with a foreign key to this one, edited on its page); `ordering = [price.desc(),
/// name]`; `fieldsets = [("Pricing", [price, stock]), ...]` (fields only: a page with fieldsets
/// shows no many-to-many relation); `actions = [withdraw =>
/// "Withdraw selected products"]`, each a `fn(&mut Connection, Vec<Model>) -> Result<String,
/// db::Error>` returning the message shown (run in a transaction, for users with the change
/// permission). Each field is checked
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
                $( $key: $crate::__admin_value!($model; $key = $value), )*
                ..$crate::admin::ModelAdmin::new(<$model as $crate::db::Model>::meta)
            };
            $crate::__private::inventory::submit! { $crate::admin::AdminEntry(&ADMIN) }
        };
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __admin_check {
    ($m:ident, list_per_page = $n:literal) => {};
    ($m:ident, actions = [$($action:path => $label:literal),* $(,)?]) => {};
    ($m:ident, ordering = [$($field:ident $(. $direction:ident ())?),* $(,)?]) => {
        $( let _ = &$m.$field; $( let _: bool = $crate::admin::__Direction::$direction; )? )*
    };
    ($m:ident, fieldsets = [$(($title:literal, [$($field:ident),* $(,)?])),* $(,)?]) => {
        $( $( let _ = &$m.$field; )* )*
    };
    ($m:ident, list_display = [$($columns:tt)*]) => {
        $crate::__admin_columns!(@check $m; $($columns)*);
    };
    ($m:ident, search_fields = [$($first:ident $(. $second:ident)?),* $(,)?]) => {
        $( $crate::__admin_column!($m, $first $(. $second)?); )*
    };
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

/// The directions `ordering = [field.desc()]` takes: naming one that is not here is an error
/// at its name (`no associated item named `down``).
#[doc(hidden)]
#[derive(Debug)]
pub struct __Direction;

#[allow(non_upper_case_globals)]
impl __Direction {
    #[doc(hidden)]
    pub const asc: bool = false;
    #[doc(hidden)]
    pub const desc: bool = true;
}

/// `list_display`'s columns, one at a time: `field`, `key.field` or `method()`.
#[macro_export]
#[doc(hidden)]
macro_rules! __admin_columns {
    (@check $m:ident; $(,)?) => {};
    (@check $m:ident; $first:ident . $second:ident $(, $($rest:tt)*)?) => {
        $crate::__admin_column!($m, $first . $second);
        $crate::__admin_columns!(@check $m; $($($rest)*)?);
    };
    (@check $m:ident; $method:ident () $(, $($rest:tt)*)?) => {
        let _ = ::std::string::ToString::to_string(&$m.$method());
        $crate::__admin_columns!(@check $m; $($($rest)*)?);
    };
    (@check $m:ident; $first:ident $(, $($rest:tt)*)?) => {
        $crate::__admin_column!($m, $first);
        $crate::__admin_columns!(@check $m; $($($rest)*)?);
    };
    (@value $model:ty; [$($done:expr),*]; $(,)?) => { &[$($done),*] };
    (@value $model:ty; [$($done:expr),*]; $first:ident . $second:ident $(, $($rest:tt)*)?) => {
        $crate::__admin_columns!(@value $model; [$($done,)* $crate::admin::Column {
            name: concat!(stringify!($first), ".", stringify!($second)),
            cells: ::core::option::Option::None,
        }]; $($($rest)*)?)
    };
    (@value $model:ty; [$($done:expr),*]; $method:ident () $(, $($rest:tt)*)?) => {
        $crate::__admin_columns!(@value $model; [$($done,)* $crate::admin::Column {
            name: concat!(stringify!($method), "()"),
            cells: ::core::option::Option::Some(|conn, keys| {
                $crate::admin::__method_cells::<$model>(conn, keys, |row| ::std::string::ToString::to_string(&row.$method()))
            }),
        }]; $($($rest)*)?)
    };
    (@value $model:ty; [$($done:expr),*]; $first:ident $(, $($rest:tt)*)?) => {
        $crate::__admin_columns!(@value $model; [$($done,)* $crate::admin::Column {
            name: stringify!($first),
            cells: ::core::option::Option::None,
        }]; $($($rest)*)?)
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __admin_column {
    ($m:ident, $first:ident) => {
        let _ = &$m.$first;
    };
    ($m:ident, $first:ident . $second:ident) => {
        $crate::admin::__related(&$m.$first, |target| {
            let _ = &target.$second;
        });
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __admin_value {
    ($model:ty; list_per_page = $n:literal) => { $n };
    ($model:ty; inlines = [$($child:ty),* $(,)?]) => { &[$(<$child as $crate::db::Model>::meta),*] };
    ($model:ty; actions = [$($action:path => $label:literal),* $(,)?]) => {
        &[$($crate::admin::Action {
            name: stringify!($action),
            description: $label,
            run: |conn, keys| {
                // Typed here so a wrong signature is reported on the action's name.
                let action: fn(
                    &mut $crate::db::AnyConnection,
                    ::std::vec::Vec<$model>,
                ) -> ::core::result::Result<::std::string::String, $crate::db::Error> = $action;
                $crate::admin::__run_action::<$model>(conn, keys, action)
            },
        }),*]
    };
    ($model:ty; ordering = [$($field:ident $(. $direction:ident ())?),* $(,)?]) => {
        &[$( (stringify!($field), false $(|| $crate::admin::__Direction::$direction)?) ),*]
    };
    ($model:ty; fieldsets = [$(($title:literal, [$($field:ident),* $(,)?])),* $(,)?]) => {
        &[$( ($title, &[$(stringify!($field)),*]) ),*]
    };
    ($model:ty; list_display = [$($columns:tt)*]) => {
        $crate::__admin_columns!(@value $model; []; $($columns)*)
    };
    ($model:ty; search_fields = [$($first:ident $(. $second:ident)?),* $(,)?]) => {
        &[$( concat!(stringify!($first) $(, ".", stringify!($second))?) ),*]
    };
    ($model:ty; prepopulated_fields = { $($field:ident : [$($source:ident),* $(,)?]),* $(,)? }) => {
        &[$( (stringify!($field), &[$(stringify!($source)),*]) ),*]
    };
    ($model:ty; $key:ident = [$($field:ident),* $(,)?]) => { &[$(stringify!($field)),*] };
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
