//! The shop's URL patterns.

use manouche::urlpatterns;
use manouche::urls::{Urls, include, path, re_path};

use super::{accounts, cart, catalogue, checkout, views};

/// Reversed as `shop:<name>`.
pub fn urls() -> Urls {
    urlpatterns![
        path("", views::home),
        path("about/", views::about),
        path("healthz", manouche::views::health), // 503 with no details when the database is not ready
        re_path(r"^archive/(?P<year>[0-9]{4})/$", views::archive),
        path("downloads/catalogue.csv", views::catalogue),
        path("products/", catalogue::product_list),
        path("products/import-stock/", accounts::import_stock),
        path("products/{slug:slug}/", catalogue::product_detail),
        path("cart/", cart::cart_detail),
        path("cart/add/", cart::cart_add),
        path("cart/change/", cart::cart_change),
        path("cart/remove/", cart::cart_remove),
        path("checkout/", checkout::checkout),
        path("orders/", checkout::order_list),
        path("orders/{reference:uuid}/", checkout::order_detail),
        path("accounts/signup/", accounts::signup),
        path("products/{slug:slug}/publish/", accounts::publish),
        path("products/{slug:slug}/review/", catalogue::review),
        include(
            "api/",
            urlpatterns![
                path("products/", catalogue::api_products).name("products"),
                path("products/{id:int}/", catalogue::api_product).name("product"),
                path("cart/", cart::api_cart_view),
            ]
        )
        .namespace("api"),
    ]
}
