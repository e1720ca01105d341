//! Testing: an in-process HTTP [`Client`], Django's `django.test.Client`.
//!
//! ```
//! use manouche::prelude::*;
//! use manouche::test::Client;
//!
//! #[view(GET, POST)]
//! async fn hello(req: Request) -> String { format!("{} {}", req.method(), req.path()) }
//!
//! let project = Project::new(Settings::for_tests())
//!     .app(App::new("site").urls(urlpatterns![manouche::urls::path("hello/", hello)]));
//! let client = Client::new(project)?;
//! let response = client.get("/hello/").send();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.text(), "GET /hello/");
//! assert_eq!(client.delete("/hello/").send().status(), 405);
//! # Ok::<(), manouche::Error>(())
//! ```

mod client;
mod live;

pub use self::client::{Client, RequestBuilder, Response};
pub use self::live::LiveServer;
