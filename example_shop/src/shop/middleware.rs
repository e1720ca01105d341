//! `shop.timing`: adds a `Server-Timing` header with the time the rest of the chain took, in
//! debug mode only (timings help an attacker measure what a request costs).

use std::sync::Arc;
use std::time::Instant;

use manouche::http::header::{HeaderName, HeaderValue};
use manouche::middleware::{Middleware, Next, from_fn};

pub(crate) fn timing(debug: bool) -> Arc<dyn Middleware> {
    if !debug {
        return from_fn(|req, next: Next<'_>| next.run(req));
    }
    from_fn(|req, next: Next<'_>| {
        Box::pin(async move {
            let start = Instant::now();
            let mut response = next.run(req).await;
            let value = format!("app;dur={:.2}", start.elapsed().as_secs_f64() * 1000.0);
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(HeaderName::from_static("server-timing"), value);
            }
            response
        })
    })
}
