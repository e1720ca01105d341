//! The shop's URL patterns.

use manouche::urlpatterns;
use manouche::urls::{Urls, path, re_path};

use super::views;

/// Reversed as `shop:<name>`.
pub fn urls() -> Urls {
    urlpatterns![
        path("", views::home),
        path("about/", views::about),
        path("healthz", views::healthz),
        re_path(r"^archive/(?P<year>[0-9]{4})/$", views::archive),
        path("downloads/catalogue.csv", views::catalogue),
    ]
}
