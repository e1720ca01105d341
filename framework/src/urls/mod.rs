//! URL patterns, resolving and reversing: Django's `urls.py`.
//!
//! An app lists its patterns in order with [`path`], [`re_path`] and [`include()`]:
//!
//! ```
//! use manouche::prelude::*;
//! use manouche::urls::{include, path, re_path};
//!
//! #[view(GET)]
//! async fn detail(id: Path<i64>) -> String { format!("product {id}") }
//! #[view(GET)]
//! async fn archive(year: Path<u16>) -> String { format!("{year}") }
//!
//! let urls = urlpatterns![
//!     path("products/{id:int}/", detail),
//!     re_path(r"^archive/(?P<year>[0-9]{4})/$", archive),
//!     include("api/", urlpatterns![path("products/{id:int}/", detail).name("api_detail")]),
//! ];
//! ```
//!
//! Route syntax: `{name}` matches one path segment; `{name:CONVERTER}` uses a converter:
//! `str` (default, no `/`), `int` (digits), `slug` (letters, digits, `-`, `_`), `uuid`, and `path`
//! (anything, `/` included). A route never starts with `/`.

mod pattern;
mod resolver;
mod reverse;

pub use self::pattern::{Pattern, Urls, include, path, re_path};
pub use self::resolver::{Match, Resolution, Resolver, ResolverMatch, Route};
pub use self::reverse::{NoReverseMatch, UrlArg, reverse};
pub(crate) use self::reverse::{install_current, reverse_view};
