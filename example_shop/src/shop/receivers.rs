//! Signal receivers of the shop, wired at compile time.

use manouche::db::SaveEvent;
use manouche::prelude::*;
use manouche::signals::{GOT_REQUEST_EXCEPTION, GotRequestException};

use super::models::Product;

/// Stock changes are worth a log line: a search index or a cache would be refreshed here.
#[receiver(post_save, sender = Product)]
fn product_saved(event: &SaveEvent<Product>) {
    let verb = if event.created { "added" } else { "updated" };
    manouche::log::info!(target: "shop", "product {verb}: {} ({} in stock)", event.instance.slug, event.instance.stock);
}

/// Every server error reaches the log with its path, as Django's admin e-mails would.
#[receiver(GOT_REQUEST_EXCEPTION)]
fn report_server_error(event: &GotRequestException) {
    manouche::log::error!(target: "shop", "server error on {} {}: {}", event.method, event.path, event.error);
}
