use std::any::TypeId;
use std::cell::RefCell;
use std::fmt::Display;
use std::sync::{Arc, RwLock};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::Resolver;

/// Why a URL could not be built. Django's `NoReverseMatch`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoReverseMatch {
    /// No route has this name.
    #[error("no URL pattern is named `{name}`")]
    UnknownName {
        /// The name asked for.
        name: String,
    },
    /// The view is not mounted in the project's URL patterns.
    #[error("view `{view}` is not mounted in any URL pattern")]
    ViewNotMounted {
        /// The view.
        view: String,
    },
    /// A parameter of the pattern got no value.
    #[error("`{name}` needs the argument `{argument}`")]
    MissingArgument {
        /// The route.
        name: String,
        /// The missing parameter.
        argument: String,
    },
    /// An argument names no parameter of the pattern.
    #[error("`{name}` has no parameter `{argument}`")]
    UnexpectedArgument {
        /// The route.
        name: String,
        /// The unknown argument.
        argument: String,
    },
    /// The value does not match the parameter's converter.
    #[error("argument `{argument}` of `{name}` is `{value}`, which does not match `{expected}`")]
    InvalidArgument {
        /// The route.
        name: String,
        /// The parameter.
        argument: String,
        /// The value given.
        value: String,
        /// The converter's expression.
        expected: String,
    },
    /// A `re_path` with more than named groups and literal text.
    #[error("pattern `{pattern}` of `{name}` is a regular expression that cannot be reversed")]
    NotReversible {
        /// The route.
        name: String,
        /// The pattern.
        pattern: String,
    },
    /// No project has been started in this process.
    #[error("no URL configuration is installed; build a `Project` first")]
    NoUrlConf,
}

/// A value accepted where a view's URL takes a `T`: the `T` itself, a reference to it, or a
/// `&str` for a `String`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the URL argument of type `{T}` this view takes",
    label = "expected a `{T}` (or a reference to one)"
)]
pub trait UrlArg<T> {
    /// The argument's text in the URL (before percent-encoding).
    fn to_url_arg(&self) -> String;
}

impl<T: Display> UrlArg<T> for T {
    fn to_url_arg(&self) -> String {
        self.to_string()
    }
}

impl<T: Display> UrlArg<T> for &T {
    fn to_url_arg(&self) -> String {
        self.to_string()
    }
}

impl UrlArg<String> for &str {
    fn to_url_arg(&self) -> String {
        (*self).to_owned()
    }
}

const PATH_ARG: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

pub(crate) fn encode_arg(value: &str) -> String {
    utf8_percent_encode(value, PATH_ARG).to_string()
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Resolver>>> = const { RefCell::new(None) };
}
static GLOBAL: RwLock<Option<Arc<Resolver>>> = RwLock::new(None);

/// Makes `resolver` the one `reverse` and typed `url()` use on this thread, and the process-wide
/// fallback for threads that installed none.
pub(crate) fn install_current(resolver: &Arc<Resolver>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(resolver)));
    *GLOBAL.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(resolver));
}

fn with_current<R>(f: impl FnOnce(&Resolver) -> Result<R, NoReverseMatch>) -> Result<R, NoReverseMatch> {
    let local = CURRENT.with(|c| c.borrow().clone());
    let resolver = match local {
        Some(r) => r,
        None => {
            GLOBAL.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone().ok_or(NoReverseMatch::NoUrlConf)?
        }
    };
    f(&resolver)
}

/// Builds the path of a named route of the running project, Django's `reverse()`.
///
/// # Errors
///
/// [`NoReverseMatch`] for an unknown name or arguments that do not fit the pattern.
///
/// # Examples
///
/// ```
/// use manouche::prelude::*;
/// use manouche::urls::{path, reverse};
///
/// #[view(GET, name = "product_detail")]
/// async fn detail(id: Path<i64>) -> String { id.to_string() }
///
/// let project = Project::new(Settings::for_tests())
///     .app(App::new("shop").urls(urlpatterns![path("products/{id:int}/", detail)]));
/// let _client = manouche::test::Client::new(project)?;
/// assert_eq!(reverse("shop:product_detail", &[("id", &42)])?, "/products/42/");
/// assert!(reverse("shop:nope", &[]).is_err());
/// assert_eq!(detail::url(7)?, "/products/7/");
/// # Ok::<(), manouche::Error>(())
/// ```
pub fn reverse(name: &str, args: &[(&str, &dyn Display)]) -> Result<String, NoReverseMatch> {
    let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.to_string())).collect();
    with_current(|r| r.reverse(name, &args))
}

/// Typed reversing, called by the `url()` function `#[view]` generates.
pub(crate) fn reverse_view(view: TypeId, view_name: &str, args: &[(&str, String)]) -> Result<String, NoReverseMatch> {
    with_current(|r| r.reverse_view(view, view_name, args))
}
