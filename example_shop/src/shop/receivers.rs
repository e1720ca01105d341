//! Signal receivers of the shop, wired at compile time.

use manouche::prelude::*;
use manouche::signals::{GOT_REQUEST_EXCEPTION, GotRequestException};

/// Every server error reaches the log with its path, as Django's admin e-mails would.
#[receiver(GOT_REQUEST_EXCEPTION)]
fn report_server_error(event: &GotRequestException) {
    manouche::log::error!(target: "shop", "server error on {} {}: {}", event.method, event.path, event.error);
}
