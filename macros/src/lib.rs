//! Procedural macros of [manouche](https://docs.rs/manouche). Use them through `manouche`
//! (`use manouche::prelude::*;`): the generated code calls `::manouche::__private` items.

mod choices;
mod diagnostics;
mod form;
mod model;
mod receiver;
mod task;
mod view;

use proc_macro::TokenStream;

/// Declares a view: an async function URL patterns can route to.
///
/// `#[view(GET, POST, name = "product_detail")]`: the accepted methods (none: any; `GET` implies
/// `HEAD`) and the route name (default: the function's name). The function's parameters are
/// actix-web extractors; its `Path<T>` parameter names the URL parameters, and the macro
/// generates a typed `url()` for reversing: `product_detail::url(slug)`.
///
/// The function is replaced by a unit struct of the same name implementing `manouche::views::View`.
#[proc_macro_attribute]
pub fn view(args: TokenStream, item: TokenStream) -> TokenStream {
    view::expand(args.into(), item.into()).into()
}

/// Declares a model: a struct stored in a table, Django's `models.Model`.
///
/// `#[model(app = "shop")]` (optionally `table = "..."`, `verbose_name = "..."`) generates the
/// Diesel `table!` (named `<app>_<model>` unless given), the `Queryable`, `Selectable`,
/// `Insertable`, `AsChangeset` and `Identifiable` derives, a column handle per field
/// (`Product::price_cents`) and the `Model` metadata migrations and the admin read.
///
/// Field options: `#[field(primary_key, auto, unique, db_index, max_length = 200, default = true,
/// verbose_name = "...", help_text = "...")]`; `Option<T>` fields are nullable. The crate needs a
/// direct `diesel` dependency (Diesel's macros name it).
#[proc_macro_attribute]
pub fn model(args: TokenStream, item: TokenStream) -> TokenStream {
    model::expand(args.into(), item.into()).into()
}

/// Declares a custom permission of a model: `#[permission(publish = "Can publish products")]`,
/// written below `#[model]`, adds `Product::PERM_PUBLISH` (`shop.publish_product`). Alone it is an
/// error: `#[model]` reads it.
#[proc_macro_attribute]
pub fn permission(_args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let span = proc_macro2::Span::call_site();
    let error =
        syn::Error::new(span, "`#[permission]` goes below `#[model(...)]` on a model struct").into_compile_error();
    quote::quote!(#error #item).into()
}

/// Requires a logged-in user: `#[login_required]` below `#[view(...)]`. An anonymous visitor is
/// redirected to the `auth.login_url` setting with `?next=` the requested path. Alone (or above
/// `#[view]`) it is an error: `#[view]` reads it.
#[proc_macro_attribute]
pub fn login_required(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("login_required", item)
}

/// Requires an active staff user (Django's admin `staff_member_required`), below `#[view]`;
/// others are redirected to the login page.
#[proc_macro_attribute]
pub fn staff_member_required(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("staff_member_required", item)
}

/// Requires permissions, named by their constants so a misspelling does not compile:
/// `#[permission_required(Product::PERM_PUBLISH)]` below `#[view]`. An anonymous visitor is
/// redirected to the login page; a logged-in user without them gets 403. (Not to be confused
/// with `#[permission(...)]`, which declares a model's permission.)
#[proc_macro_attribute]
pub fn permission_required(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("permission_required", item)
}

/// Requires `test(&user)` to hold (Django's `user_passes_test`): `#[user_passes_test(is_buyer)]`
/// below `#[view]`, with `fn is_buyer(user: &manouche::auth::RequestUser) -> bool`; otherwise a
/// redirect to the login page.
#[proc_macro_attribute]
pub fn user_passes_test(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("user_passes_test", item)
}

/// Caches the view's responses (Django's `cache_page`), below `#[view]`:
/// `#[cache_page(60 * 15)]`, with options `cache = "alias"`, `key_prefix = "..."` and
/// `depends_on = [Product, Category]` (the pages are dropped when a row of those models is saved
/// or deleted).
#[proc_macro_attribute]
pub fn cache_page(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("cache_page", item)
}

/// Marks the view's responses as never to be cached (Django's `never_cache`), below `#[view]`.
#[proc_macro_attribute]
pub fn never_cache(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("never_cache", item)
}

/// Adds `Cache-Control` directives (Django's `cache_control`), below `#[view]`:
/// `#[cache_control(max_age = 3600, public)]`.
#[proc_macro_attribute]
pub fn cache_control(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("cache_control", item)
}

/// Adds `Vary: Cookie` (Django's `vary_on_cookie`), below `#[view]`.
#[proc_macro_attribute]
pub fn vary_on_cookie(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("vary_on_cookie", item)
}

/// Adds headers to `Vary` (Django's `vary_on_headers`), below `#[view]`:
/// `#[vary_on_headers("Accept-Language")]`.
#[proc_macro_attribute]
pub fn vary_on_headers(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("vary_on_headers", item)
}

/// Limits how often the view is called, below `#[view]`:
/// `#[ratelimit(key = "ip", rate = "5/m", method = "POST")]`; past the rate the answer is 429
/// with `Retry-After`. Keys: `"ip"`, `"user"`, `"header:<name>"`, `"post:<field>"` or a function
/// `fn(&HttpRequest) -> Option<String>`. The rate is checked at compile time.
#[proc_macro_attribute]
pub fn ratelimit(_args: TokenStream, item: TokenStream) -> TokenStream {
    misplaced_guard("ratelimit", item)
}

fn misplaced_guard(name: &str, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let message = format!("`#[{name}]` goes below `#[view(...)]` on a view, which reads it");
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).into_compile_error();
    quote::quote!(#error #item).into()
}

/// Declares many-to-many relations of a model: `#[many_to_many(tags = Tag)]`, written below
/// `#[model]`, generates the through model `ProductTags` (table `shop_product_tags`) and the
/// accessor `product.tags()`. Alone it is an error: `#[model]` reads it.
#[proc_macro_attribute]
pub fn many_to_many(_args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let span = proc_macro2::Span::call_site();
    let error =
        syn::Error::new(span, "`#[many_to_many]` goes below `#[model(...)]` on a model struct").into_compile_error();
    quote::quote!(#error #item).into()
}

/// Connects a function to a signal at compile time: `#[receiver(REQUEST_FINISHED)]`.
///
/// The function takes one `&T` argument, where the signal is a `Signal<T>`; it runs
/// synchronously each time the signal is sent.
#[proc_macro_attribute]
pub fn receiver(args: TokenStream, item: TokenStream) -> TokenStream {
    receiver::expand(args.into(), item.into()).into()
}

/// Declares a background task: `#[task(queue = "emails", max_retries = 3)]` on a `fn` or
/// `async fn` whose arguments and result are serde values.
///
/// The function's name becomes a value with `enqueue(args).await`, `enqueue_sync(args)`,
/// `enqueue_on_commit(args)`, `using(TaskOptions)`, `get_result(id)` and `call(args)`; a worker
/// finds the task by its name (the function's module path, or `name = "..."`). Options: `name`,
/// `queue`, `priority` (-100 to 100), `max_retries`, `retry_backoff` / `retry_backoff_max`
/// (seconds), `retry_jitter`, `time_limit` (seconds), and a schedule for periodic tasks:
/// `cron = "0 3 * * *"` (checked here, at compile time) or `every = 3600` (seconds). A first
/// parameter `ctx: TaskContext` gives the task its database, settings and id.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    task::expand(args.into(), item.into()).into()
}

/// Derives `manouche::db::Choices` on a fieldless enum: the values a `#[field(choices)]` field
/// takes, stored as text. `#[choice(value = "live", label = "Published")]` overrides a variant's
/// stored value (default: its name in snake case) and label (default: its name in words).
///
/// `#[choices(integer)]` on the enum stores numbers instead (Django's `IntegerChoices`): each
/// variant's explicit discriminant (`Paid = 2`), `#[choice(value = 2)]`, or its position; the
/// field is then `#[field(choices = integer)]`.
#[proc_macro_derive(Choices, attributes(choice, choices))]
pub fn derive_choices(item: TokenStream) -> TokenStream {
    choices::expand(item.into()).into()
}

/// Derives `manouche::forms::Form` on a struct whose fields are a form's cleaned values:
/// `#[form(max_length = 100, help_text = "...")]`, `#[form(email)]`, `#[form(choices = [("a",
/// "A")])]`, `#[form(clean = path)]` on a field or the struct. See `manouche::forms`.
#[proc_macro_derive(Form, attributes(form))]
pub fn derive_form(item: TokenStream) -> TokenStream {
    form::expand(item.into()).into()
}

askama_derive::make_filter_fn! {
    /// Askama's `filter_fn` for custom template filters, without a direct `askama` dependency:
    /// `#[manouche::templates::filter_fn] pub fn shout(value: impl Display, _env: &dyn
    /// manouche::askama::Values) -> manouche::askama::Result<String>` in a module named `filters`.
    #[proc_macro_attribute]
    pub fn filter_fn() {
        use ::manouche::__private::askama as askama;
    }
}

askama_derive::make_derive_template! {
    /// Derives `manouche::Template` (askama's) without a direct `askama` dependency.
    ///
    /// `#[template(path = "shop/home.html")]` reads `templates/shop/home.html` of the crate;
    /// `#[template(source = "...", ext = "html")]` takes the template inline.
    #[proc_macro_derive(Template, attributes(template))]
    pub fn derive_template() {
        use ::manouche::__private::askama as askama;
    }
}
