//! The login and logout views at Django's paths (`/accounts/login/`, `/accounts/logout/`), with
//! plain built-in pages; a project with its own look writes its own views on
//! [`super::authenticate`] and [`super::login`].

use actix_web::HttpResponse;
use actix_web::web::{Form, Query};

use super::AuthSettings;
use crate::http::{Request, RequestContext, url_has_allowed_host_and_scheme};
use manouche_macros::Template;

use crate::templates::{render, render_with_status};

/// The login form's fields (Django's `AuthenticationForm` plus `next`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LoginForm {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
    /// Where to go after logging in (kept only if it stays on this site).
    pub next: String,
}

/// `?next=`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Next {
    /// Where to go afterwards.
    pub next: String,
}

#[derive(Template)]
#[template(path = "manouche/auth/login.html")]
struct LoginPage<'a> {
    ctx: RequestContext,
    username: &'a str,
    next: &'a str,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "manouche/auth/logged_out.html")]
struct LoggedOutPage {
    login_url: String,
}

/// Django's message for refused credentials.
pub const INVALID_LOGIN: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";

/// The host (and port) the request was made to: what a safe `next` may name.
fn own_host(req: &Request) -> String {
    match req.uri().authority() {
        Some(authority) => authority.as_str().to_owned(),
        None => req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or("").to_owned(),
    }
}

/// `next` if it is safe to go to (this site, and HTTPS if the request was), else `fallback`.
pub fn safe_next(req: &Request, next: &str, fallback: &str) -> String {
    let host = own_host(req);
    let secure = crate::csrf::is_secure(req);
    if url_has_allowed_host_and_scheme(next, &[host.as_str()], secure) { next.to_owned() } else { fallback.to_owned() }
}

/// `GET` shows the login form; `POST` checks it, logs the user in and redirects to a safe `next`
/// (or the `auth.login_redirect_url` setting), or shows the form again with Django's message.
#[crate::view(GET, POST, name = "login")]
pub async fn login(req: Request, form: Option<Form<LoginForm>>, query: Query<Next>) -> crate::Result<HttpResponse> {
    let settings: AuthSettings = req.settings().section()?;
    let form = form.map(Form::into_inner);
    let Some(form) = form.filter(|_| req.method() == actix_web::http::Method::POST) else {
        let page = LoginPage { ctx: req.context(), username: "", next: &query.next, error: None };
        return render(&page);
    };
    match super::authenticate(&req, &form.username, &form.password).await? {
        Some(user) => {
            super::login(&req, &user).await?;
            let next = if form.next.is_empty() { &query.next } else { &form.next };
            Ok(crate::http::redirect(&safe_next(&req, next, &settings.login_redirect_url)))
        }
        None => {
            let page = LoginPage {
                ctx: req.context(),
                username: &form.username,
                next: &form.next,
                error: Some(INVALID_LOGIN),
            };
            render_with_status(&page, actix_web::http::StatusCode::OK)
        }
    }
}

/// `POST` logs out (a GET cannot: a link on another site must not log visitors out), then
/// redirects to a safe `next`, or the `auth.logout_redirect_url` setting, or shows a page.
#[crate::view(POST, name = "logout")]
pub async fn logout(req: Request, form: Option<Form<Next>>) -> crate::Result<HttpResponse> {
    let settings: AuthSettings = req.settings().section()?;
    super::logout(&req)?;
    let next = form.map(|f| f.into_inner().next).unwrap_or_default();
    if !next.is_empty() {
        let fallback = settings.logout_redirect_url.as_deref().unwrap_or("/");
        return Ok(crate::http::redirect(&safe_next(&req, &next, fallback)));
    }
    match settings.logout_redirect_url {
        Some(url) => Ok(crate::http::redirect(&url)),
        None => render(&LoggedOutPage { login_url: settings.login_url }),
    }
}
