use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use actix_web::body::to_bytes;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::rt::SystemRunner;
use actix_web::test::{TestRequest, init_service};
use actix_web::web::Bytes;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Project;
use crate::templates::TemplateUsed;

const URI_UNSAFE: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}').add(b'|').add(b'\\').add(b'^');

type CallFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<ServiceResponse, actix_web::Error>>>>;
type Call = Rc<dyn Fn(actix_http::Request) -> CallFuture>;

/// Drives a project in-process, through the same pipeline as the server, with a cookie jar.
///
/// Requests are sent with `Host: testserver`, which the client adds to `allowed_hosts`. The
/// client runs its own runtime: use it from plain `#[test]` functions.
pub struct Client {
    system: SystemRunner,
    db: crate::db::Database,
    caches: crate::cache::Caches,
    tasks: crate::tasks::Tasks,
    ambient: crate::context::Ambient,
    call: Call,
    cookies: RefCell<BTreeMap<String, String>>,
    enforce_csrf_checks: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("cookies", &self.cookies).finish_non_exhaustive()
    }
}

impl Client {
    /// Builds the project and a client for it.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ImproperlyConfigured`] when the project does not build (bad URL pattern,
    /// unknown middleware, settings error). A SQLite database file that does not exist yet is
    /// created empty, as the test database.
    pub fn new(project: Project) -> crate::Result<Self> {
        Client::build(project, true)
    }

    /// A client that keeps the project's task backend: tasks sent to the database, Redis or
    /// RabbitMQ wait for a worker (run one with [`Client::within`] and
    /// [`crate::tasks::Worker::new`]), where [`Client::new`] runs them in place.
    ///
    /// # Errors
    ///
    /// As [`Client::new`].
    pub fn queued_tasks(project: Project) -> crate::Result<Self> {
        Client::build(project, false)
    }

    fn build(project: Project, tasks_in_place: bool) -> crate::Result<Self> {
        let mut settings = project.settings_arc()?.as_ref().clone();
        if !settings.allowed_hosts.is_empty() && !settings.host_allowed("testserver") {
            settings.allowed_hosts.push("testserver".into());
        }
        // The test database: a SQLite file is created here, as Django's test runner creates its
        // database, since the project's own pool never creates one (only `migrate` does).
        if let crate::conf::DatabaseUrl::Sqlite(path) = &settings.database_url
            && !path.exists()
        {
            crate::db::Database::connect(&settings.database_url, crate::db::PoolOptions::default().max_size(1))
                .run_sync(|_conn| Ok(()))?;
        }
        // Tasks sent to a queue would wait for a worker the test does not run: the client runs
        // them in place (the immediate backend), as a test's `TASKS` setting would in Django.
        if let Ok(tasks) = settings.section::<crate::tasks::TaskSettings>()
            && tasks_in_place
            && matches!(tasks.backend.as_str(), "database" | "redis" | "amqp")
        {
            use crate::conf::Section as _;
            settings.sections.set(
                crate::tasks::TaskSettings::NAME,
                crate::tasks::TaskSettings::ENV_PREFIX,
                "backend",
                toml::Value::String("immediate".into()),
            );
        }
        let project = project.with_settings(settings);
        let site = project.build()?;
        let system = actix_web::rt::System::new();
        let db = site.state.db.clone();
        let caches = site.state.caches.clone();
        let tasks = site.state.tasks.clone();
        let ambient = site.ambient();
        let service = Rc::new(system.block_on(init_service(site.actix_app())));
        let call: Call = Rc::new(move |req| {
            let service = Rc::clone(&service);
            Box::pin(async move { service.call(req).await })
        });
        Ok(Client {
            system,
            db,
            caches,
            tasks,
            ambient,
            call,
            cookies: RefCell::new(BTreeMap::new()),
            enforce_csrf_checks: false,
        })
    }

    /// Makes the `manouche.csrf` middleware check this client's requests. By default, as
    /// Django's test client, it lets them through without a token, so tests of other things
    /// need not fetch one; tests of CSRF protection turn the checks on.
    #[must_use]
    pub fn enforce_csrf_checks(mut self) -> Self {
        self.enforce_csrf_checks = true;
        self
    }

    /// The database the project's views use, to prepare and inspect data.
    pub fn db(&self) -> &crate::db::Database {
        &self.db
    }

    /// The project's caches (`client.caches().default_cache().clear_sync()` between steps).
    pub fn caches(&self) -> &crate::cache::Caches {
        &self.caches
    }

    /// The project's task backend (`client.tasks().get_result::<T>(id)`).
    pub fn tasks(&self) -> &crate::tasks::Tasks {
        &self.tasks
    }

    /// Runs `f` with this client's project current, as a view runs: `my_task.enqueue_sync(...)`
    /// goes to its backend and a `Worker::new` made inside uses its database.
    pub fn within<T>(&self, f: impl FnOnce() -> T) -> T {
        crate::context::enter(Some(self.ambient.clone()), f)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
            follow: false,
            secure: false,
        }
    }

    /// A GET request.
    pub fn get(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::GET, path)
    }

    /// A POST request.
    pub fn post(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::POST, path)
    }

    /// A PUT request.
    pub fn put(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::PUT, path)
    }

    /// A PATCH request.
    pub fn patch(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::PATCH, path)
    }

    /// A DELETE request.
    pub fn delete(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::DELETE, path)
    }

    /// A HEAD request.
    pub fn head(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::HEAD, path)
    }

    /// The cookies the client holds, by name.
    pub fn cookies(&self) -> BTreeMap<String, String> {
        self.cookies.borrow().clone()
    }

    /// Sets a cookie sent with every later request.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.borrow_mut().insert(name.to_owned(), value.to_owned());
    }

    fn send_once(
        &self,
        method: &Method,
        path: &str,
        headers: &[(String, String)],
        body: Option<&(Vec<u8>, String)>,
        secure: bool,
    ) -> Response {
        // Encode what a browser would, so `client.get("/q/a b/")` is a valid request.
        let path = utf8_percent_encode(path, URI_UNSAFE).to_string();
        let host = headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("host")).map(|(_, v)| v.as_str());
        // An absolute `https://` target: the request counts as made over HTTPS.
        let target = if secure { format!("https://{}{path}", host.unwrap_or("testserver")) } else { path };
        let mut req = TestRequest::default().method(method.clone()).uri(&target);
        if host.is_none() {
            req = req.insert_header((header::HOST, "testserver"));
        }
        let cookies = self.cookies.borrow();
        if !cookies.is_empty() {
            let value: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.insert_header((header::COOKIE, value.join("; ")));
        }
        drop(cookies);
        for (name, value) in headers {
            req = req.insert_header((name.as_str(), value.as_str()));
        }
        if let Some((bytes, content_type)) = body {
            req = req.insert_header((header::CONTENT_TYPE, content_type.as_str())).set_payload(bytes.clone());
        }
        let call = Rc::clone(&self.call);
        let request = req.to_request();
        if !self.enforce_csrf_checks {
            actix_web::HttpMessage::extensions_mut(&request).insert(crate::csrf::SkipChecks);
        }
        let (status, headers, template, body) = self.system.block_on(async move {
            match call(request).await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let template = response.response().extensions().get::<TemplateUsed>().map(|t| t.0);
                    let body = to_bytes(response.into_body()).await.unwrap_or_default();
                    (status, headers, template, body)
                }
                // A panic outside the view (in middleware) is answered through actix's error path.
                Err(error) => {
                    let response = error.error_response();
                    let (status, headers) = (response.status(), response.headers().clone());
                    let body = to_bytes(response.into_body()).await.unwrap_or_default();
                    (status, headers, None, body)
                }
            }
        });
        self.store_cookies(&headers);
        Response { status, headers, body, template, redirect_chain: Vec::new() }
    }

    fn store_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.borrow_mut();
        for value in headers.get_all(header::SET_COOKIE) {
            let Some(cookie) = value.to_str().ok().and_then(|v| Cookie::parse(v.to_owned()).ok()) else { continue };
            let expired = cookie.max_age().is_some_and(|age| age.is_zero() || age.is_negative());
            if expired {
                jar.remove(cookie.name());
            } else {
                jar.insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }
}

/// A request being built; finish with [`RequestBuilder::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder<'c> {
    client: &'c Client,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(Vec<u8>, String)>,
    follow: bool,
    secure: bool,
}

impl RequestBuilder<'_> {
    /// Sets a header, replacing the client's default for it (e.g. `Host`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends a URL-encoded form body.
    ///
    /// # Panics
    ///
    /// When `form` is not a flat map or list of pairs, a mistake in the test itself.
    pub fn form(mut self, form: &impl Serialize) -> Self {
        let body = serde_urlencoded::to_string(form).expect("a test form is a flat list of pairs");
        self.body = Some((body.into_bytes(), "application/x-www-form-urlencoded".into()));
        self
    }

    /// Sends a JSON body.
    ///
    /// # Panics
    ///
    /// When `value` cannot be serialised to JSON, a mistake in the test itself.
    pub fn json(mut self, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).expect("a test JSON body serialises");
        self.body = Some((body, "application/json".into()));
        self
    }

    /// Sends a `multipart/form-data` body: fields and files, as a browser sends a form with a
    /// file input.
    pub fn multipart(mut self, form: &super::Multipart) -> Self {
        let (body, content_type) = form.encode();
        self.body = Some((body, content_type));
        self
    }

    /// Sends raw bytes with a content type.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = Some((bytes.into(), content_type.to_owned()));
        self
    }

    /// Sends the request as if over HTTPS (Django's `secure=True`): CSRF checks then apply
    /// their HTTPS rules (the `Referer`).
    pub fn secure(mut self) -> Self {
        self.secure = true;
        self
    }

    /// Follows redirects (up to 10), recording them in [`Response::redirect_chain`].
    pub fn follow(mut self) -> Self {
        self.follow = true;
        self
    }

    /// Sends the request through the project and returns the response.
    pub fn send(self) -> Response {
        let mut method = self.method;
        let mut path = self.path;
        let mut body = self.body;
        let mut chain = Vec::new();
        loop {
            let mut response = self.client.send_once(&method, &path, &self.headers, body.as_ref(), self.secure);
            let location = response.header(header::LOCATION.as_str()).map(str::to_owned);
            match location {
                Some(location) if self.follow && response.status.is_redirection() && chain.len() < 10 => {
                    chain.push((location.clone(), response.status.as_u16()));
                    if !matches!(response.status, StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT) {
                        method = Method::GET;
                        body = None;
                    }
                    path = location
                        .strip_prefix("http://testserver")
                        .or_else(|| location.strip_prefix("https://testserver"))
                        .unwrap_or(&location)
                        .to_owned();
                }
                _ => {
                    response.redirect_chain = chain;
                    return response;
                }
            }
        }
    }
}

/// A response received by the test [`Client`].
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    template: Option<&'static str>,
    /// `(location, status)` of each redirect followed.
    pub redirect_chain: Vec<(String, u16)>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body as bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    ///
    /// When the body is not JSON of that shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The template type the response was rendered from, e.g. `"Home"`.
    pub fn template(&self) -> Option<&'static str> {
        self.template
    }
}
