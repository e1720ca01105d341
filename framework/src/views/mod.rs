//! Views: what a URL pattern calls. `#[view]` implements [`View`] for an async function; any
//! actix-web handler becomes one with [`function`].

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::dev::Payload;

mod healthcheck;
pub use self::healthcheck::health;
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder};

/// A future returned by views and middleware; actix runs each request on one thread.
pub type LocalBoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T>>>;

/// What a view declares about itself.
#[derive(Debug)]
#[non_exhaustive]
pub struct ViewInfo {
    /// The route name it is reversed by unless the pattern sets one (`""`: unnamed).
    pub name: &'static str,
    /// Accepted methods (`GET` implies `HEAD`); empty accepts any.
    pub methods: &'static [&'static str],
    /// The URL parameters the view takes, by name.
    pub params: &'static [&'static str],
    /// Whether a pattern's parameters must be exactly [`ViewInfo::params`].
    pub checks_params: bool,
    /// The view's Rust path, e.g. `shop::views::product_detail`.
    pub path: &'static str,
    /// Whether the CSRF middleware lets unsafe methods through without a token (Django's
    /// `@csrf_exempt`): `#[view(POST, csrf_exempt)]`.
    pub csrf_exempt: bool,
}

impl ViewInfo {
    #[doc(hidden)]
    pub const fn __new(
        name: &'static str,
        methods: &'static [&'static str],
        params: &'static [&'static str],
        path: &'static str,
    ) -> Self {
        ViewInfo { name, methods, params, checks_params: true, path, csrf_exempt: false }
    }

    #[doc(hidden)]
    #[must_use]
    pub const fn __csrf_exempt(mut self) -> Self {
        self.csrf_exempt = true;
        self
    }
}

/// A request handler a URL pattern can route to.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a view",
    label = "not a view",
    note = "mark an async fn with `#[view]` or wrap an actix-web handler with `manouche::views::function`"
)]
pub trait View: Send + Sync + 'static {
    /// The view's metadata.
    fn info(&self) -> &ViewInfo;

    /// Handles a request whose path parameters are already in `req.match_info()`.
    fn call(&self, req: HttpRequest, payload: Payload) -> LocalBoxFuture<Result<HttpResponse, crate::Error>>;

    /// The view's identity for typed reversing.
    fn id(&self) -> TypeId {
        TypeId::of::<Self>()
    }
}

/// A view `#[view]` declares: its metadata is a `static`.
#[doc(hidden)]
pub trait DeclaredView: View {
    /// The view's metadata.
    fn declared_info() -> &'static ViewInfo;
}

/// The argument of the function `#[view]` leaves under the view's name: only the framework makes
/// one, so that function is only a handle for URL patterns.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ViewToken(());

/// A `#[view]` function as URL patterns receive it: `path("products/", product_list)`.
impl<F, V> View for F
where
    F: Fn(ViewToken) -> V + Send + Sync + 'static,
    V: DeclaredView,
{
    fn info(&self) -> &ViewInfo {
        V::declared_info()
    }

    fn call(&self, req: HttpRequest, payload: Payload) -> LocalBoxFuture<Result<HttpResponse, crate::Error>> {
        self(ViewToken(())).call(req, payload)
    }

    fn id(&self) -> TypeId {
        TypeId::of::<V>()
    }
}

/// A shared view.
pub type BoxedView = Arc<dyn View>;

impl fmt::Debug for dyn View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "View({})", self.info().path)
    }
}

/// Wraps a plain actix-web handler (any async fn of extractors returning a `Responder`) as a view
/// that accepts every method and has no name.
///
/// # Examples
///
/// ```
/// use manouche::urls::path;
/// async fn ping() -> &'static str { "pong" }
/// let pattern = path("ping/", manouche::views::function(ping)).name("ping");
/// ```
pub fn function<F, Args>(handler: F) -> FunctionView<F, Args>
where
    F: Handler<Args> + Send + Sync,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let info = ViewInfo {
        name: "",
        methods: &[],
        params: &[],
        checks_params: false,
        path: std::any::type_name::<F>(),
        csrf_exempt: false,
    };
    FunctionView { handler, info, _args: PhantomData }
}

/// A view made by [`function`].
pub struct FunctionView<F, Args> {
    handler: F,
    info: ViewInfo,
    _args: PhantomData<fn(Args)>,
}

impl<F, Args> FunctionView<F, Args> {
    /// Lets unsafe methods through the CSRF middleware without a token (Django's
    /// `@csrf_exempt`), for a webhook that authenticates its caller another way.
    #[must_use]
    pub fn csrf_exempt(mut self) -> Self {
        self.info.csrf_exempt = true;
        self
    }
}

impl<F, Args> fmt::Debug for FunctionView<F, Args> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionView").field("path", &self.info.path).finish()
    }
}

impl<F, Args> View for FunctionView<F, Args>
where
    F: Handler<Args> + Send + Sync,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    fn info(&self) -> &ViewInfo {
        &self.info
    }

    fn call(&self, req: HttpRequest, mut payload: Payload) -> LocalBoxFuture<Result<HttpResponse, crate::Error>> {
        let handler = self.handler.clone();
        Box::pin(async move {
            let args = Args::from_request(&req, &mut payload).await.map_err(|e| crate::Error::Request(e.into()))?;
            let response = handler.call(args).await.respond_to(&req).map_into_boxed_body();
            Ok(response)
        })
    }
}
