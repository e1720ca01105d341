//! The login and logout views at Django's paths (`/accounts/login/`, `/accounts/logout/`), with
//! plain built-in pages; a project with its own look writes its own views on
//! [`super::authenticate`] and [`super::login`].

use actix_web::HttpResponse;
use actix_web::web::{Form, Query};

use super::AuthSettings;
use crate::http::{Request, RequestContext, is_secure, request_host, url_has_allowed_host_and_scheme};
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

/// `next` if it is safe to go to (this site, and HTTPS if the request was), else `fallback`.
pub fn safe_next(req: &Request, next: &str, fallback: &str) -> String {
    if url_has_allowed_host_and_scheme(next, &[request_host(req)], is_secure(req)) {
        next.to_owned()
    } else {
        fallback.to_owned()
    }
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
    if let Some(rate) = &settings.login_rate {
        let rate = crate::cache::Rate::parse(rate)
            .map_err(|e| crate::Error::ImproperlyConfigured(format!("`auth.login_rate`: {e}")))?;
        let by_ip = format!("ip:{}", crate::http::client_ip(&req));
        let by_name = format!("username:{}", form.username.trim().to_lowercase());
        for (group, value) in [("manouche.auth.login.ip", by_ip), ("manouche.auth.login.username", by_name)] {
            if let Some(refused) =
                crate::cache::check_rate(&req, &settings.login_rate_cache, group, &value, rate).await?
            {
                return Ok(refused);
            }
        }
    }
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

/// The pages of the password views: a title, a text, an optional form, an optional link.
#[derive(Template)]
#[template(path = "manouche/auth/form.html")]
struct FormPage<'a> {
    ctx: RequestContext,
    title: &'a str,
    intro: &'a str,
    /// `(name, label, input type)`.
    fields: Vec<(&'static str, &'static str, &'static str)>,
    errors: Vec<String>,
    help: Vec<String>,
    button: &'a str,
    link: Option<(String, &'a str)>,
}

impl<'a> FormPage<'a> {
    fn message(req: &Request, title: &'a str, intro: &'a str) -> Self {
        FormPage {
            ctx: req.context(),
            title,
            intro,
            fields: Vec::new(),
            errors: Vec::new(),
            help: Vec::new(),
            button: "",
            link: None,
        }
    }
}

/// `email`, as the reset form posts it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct EmailForm {
    /// The address the account was registered with.
    pub email: String,
}

/// The new password, twice (Django's `SetPasswordForm`), and the old one for a change.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    /// The current password (password change only).
    pub old_password: String,
    /// The new password.
    pub new_password1: String,
    /// The new password again.
    pub new_password2: String,
}

/// Django's message after a reset request, whether or not an account has the address.
pub const RESET_SENT: &str = "We’ve emailed you instructions for setting your password, if an account exists with the email you entered. You should receive them shortly.";

fn hosted_url(req: &Request, path: &str) -> String {
    let scheme = if is_secure(req) { "https" } else { "http" };
    format!("{scheme}://{}{path}", request_host(req))
}

/// `/accounts/password_reset/`: asks for an address and e-mails a one-time link to each active
/// account with it (and a usable password); the answer is the same whether or not one exists.
#[crate::view(GET, POST, name = "password_reset")]
pub async fn password_reset(req: Request, form: Option<Form<EmailForm>>) -> crate::Result<HttpResponse> {
    let form = form.map(Form::into_inner).filter(|_| req.method() == actix_web::http::Method::POST);
    let Some(form) = form else {
        let mut page = FormPage::message(
            &req,
            "Password reset",
            "Forgotten your password? Enter your email address below, and we’ll email instructions for setting a new one.",
        );
        page.fields = vec![("email", "Email address", "email")];
        page.button = "Reset my password";
        return render(&page);
    };
    let email = form.email.trim().to_lowercase();
    if !email.is_empty() {
        let secret = super::login::secret(&req)?;
        let users = req
            .db()
            .run(move |conn| {
                use crate::db::Model as _;
                use diesel::ExpressionMethods as _;
                super::User::objects()
                    .filter(crate::db::text::__lower(super::User::email).eq(email))
                    .filter(super::User::is_active.eq(true))
                    .all_sync(conn)
            })
            .await?;
        let settings = req.settings();
        let host = request_host(&req).to_owned();
        for user in users.into_iter().filter(super::User::has_usable_password) {
            let path = format!(
                "{}reset/{}/{}/",
                settings_login_prefix(&settings),
                super::tokens::encode_uid(user.id),
                super::tokens::make_token(&user, &secret)
            );
            let link = hosted_url(&req, &path);
            let body = format!(
                "You're receiving this email because you requested a password reset for your user account at {host}.\n\nPlease go to the following page and choose a new password:\n\n{link}\n\nYour username, in case you’ve forgotten: {}\n\nThanks for using our site!\n",
                user.username
            );
            let message =
                crate::mail::EmailMessage::new(format!("Password reset on {host}"), body, vec![user.email.clone()]);
            let settings = std::sync::Arc::clone(&settings);
            actix_web::rt::task::spawn_blocking(move || {
                crate::mail::send(&settings, message).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| crate::Error::other(format!("the mail could not be sent: {e}")))?
            .map_err(|e| crate::Error::other(format!("the mail could not be sent: {e}")))?;
        }
    }
    Ok(crate::http::redirect(&format!("{}password_reset/done/", settings_login_prefix(&req.settings()))))
}

/// Where the auth views are mounted: the login URL's folder (`/accounts/`).
fn settings_login_prefix(settings: &crate::conf::Settings) -> String {
    let login_url = settings.section::<AuthSettings>().map(|s| s.login_url).unwrap_or_default();
    login_url.strip_suffix("login/").map_or_else(|| "/accounts/".to_owned(), str::to_owned)
}

/// `/accounts/password_reset/done/`.
#[crate::view(GET, name = "password_reset_done")]
pub async fn password_reset_done(req: Request) -> crate::Result<HttpResponse> {
    render(&FormPage::message(&req, "Password reset sent", RESET_SENT))
}

/// Where a valid reset token waits, out of the URL (so no `Referer` leaks it).
const RESET_SESSION_TOKEN: &str = "_password_reset_token";
/// What the link's token is replaced with in the URL.
const RESET_URL_TOKEN: &str = "set-password";

/// The user of a reset link whose token is still good.
async fn reset_user(req: &Request, uid: &str, token: &str) -> crate::Result<Option<super::User>> {
    let Some(id) = super::tokens::decode_uid(uid) else { return Ok(None) };
    let user = req
        .db()
        .run(move |conn| {
            use crate::db::Model as _;
            use diesel::ExpressionMethods as _;
            super::User::objects().filter(super::User::id.eq(id)).first_sync(conn)
        })
        .await?;
    let timeout = req.settings().section::<AuthSettings>()?.password_reset_timeout;
    let secret = super::login::secret(req)?;
    Ok(user.filter(|u| super::tokens::check_token(u, token, &secret, timeout)))
}

/// `/accounts/reset/<uidb64>/<token>/`: a valid link's token moves into the session and the
/// browser to `.../set-password/`; there a new password (twice, validated) is set once.
#[crate::view(GET, POST, name = "password_reset_confirm")]
pub async fn password_reset_confirm(
    req: Request,
    #[params(uidb64, token)] link: actix_web::web::Path<(String, String)>,
    form: Option<Form<PasswordForm>>,
) -> crate::Result<HttpResponse> {
    let (uid, token) = link.into_inner();
    let session = req.session()?;
    if token != RESET_URL_TOKEN {
        if reset_user(&req, &uid, &token).await?.is_some() {
            session.insert(RESET_SESSION_TOKEN, &token)?;
            return Ok(crate::http::redirect(
                &req.path().replace(&format!("/{token}/"), &format!("/{RESET_URL_TOKEN}/")),
            ));
        }
    } else if let Some(stored) = session.get::<String>(RESET_SESSION_TOKEN)?
        && let Some(mut user) = reset_user(&req, &uid, &stored).await?
    {
        let settings: AuthSettings = req.settings().section()?;
        let help = settings.password_validators.iter().map(super::validation::PasswordValidator::help_text).collect();
        let mut errors = Vec::new();
        if let Some(form) = form.map(Form::into_inner).filter(|_| req.method() == actix_web::http::Method::POST) {
            errors = new_password_errors(&form, &user, &settings);
            if errors.is_empty() {
                save_password(&req, &mut user, &form.new_password1).await?;
                session.remove(RESET_SESSION_TOKEN);
                return Ok(crate::http::redirect(&format!("{}reset/done/", settings_login_prefix(&req.settings()))));
            }
        }
        let intro = "Please enter your new password twice so we can verify you typed it in correctly.";
        return render(&password_page(&req, "Enter new password", intro, false, errors, help));
    }
    let mut page = FormPage::message(
        &req,
        "Password reset unsuccessful",
        "The password reset link was invalid, possibly because it has already been used. Please request a new password reset.",
    );
    page.link = Some((format!("{}password_reset/", settings_login_prefix(&req.settings())), "Request a new link"));
    render(&page)
}

/// The form asking for a new password twice (and the old one for a change).
fn password_page<'a>(
    req: &Request,
    title: &'a str,
    intro: &'a str,
    with_old: bool,
    errors: Vec<String>,
    help: Vec<String>,
) -> FormPage<'a> {
    let mut page = FormPage::message(req, title, intro);
    if with_old {
        page.fields.push(("old_password", "Old password", "password"));
    }
    page.fields.push(("new_password1", "New password", "password"));
    page.fields.push(("new_password2", "New password confirmation", "password"));
    page.errors = errors;
    page.help = help;
    page.button = "Change my password";
    page
}

/// The problems with a new password, Django's messages.
fn new_password_errors(form: &PasswordForm, user: &super::User, settings: &AuthSettings) -> Vec<String> {
    if form.new_password1 != form.new_password2 {
        return vec!["The two password fields didn’t match.".into()];
    }
    super::validation::validate_password(
        &form.new_password1,
        &user.password_attributes(),
        &settings.password_validators,
    )
    .err()
    .unwrap_or_default()
}

/// Hashes (on the blocking pool) and stores a new password.
async fn save_password(req: &Request, user: &mut super::User, password: &str) -> crate::Result<()> {
    let hasher = super::hasher(&req.settings())?;
    let (id, password) = (user.id, password.to_owned());
    let encoded = req
        .db()
        .run(move |conn| {
            use crate::db::Model as _;
            use diesel::ExpressionMethods as _;
            let encoded = hasher.encode(&password).map_err(|e| crate::db::Error::Connection(e.to_string()))?;
            super::User::objects()
                .filter(super::User::id.eq(id))
                .update_sync(conn, super::User::password.eq(encoded.clone()))?;
            Ok(encoded)
        })
        .await?;
    user.password = encoded;
    Ok(())
}

/// `/accounts/reset/done/`.
#[crate::view(GET, name = "password_reset_complete")]
pub async fn password_reset_complete(req: Request) -> crate::Result<HttpResponse> {
    let mut page = FormPage::message(
        &req,
        "Password reset complete",
        "Your password has been set. You may go ahead and log in now.",
    );
    page.link = Some((req.settings().section::<AuthSettings>()?.login_url, "Log in"));
    render(&page)
}

/// `/accounts/password_change/`: the old password, then the new one twice; the session stays
/// logged in, the user's other sessions end.
#[crate::view(GET, POST, name = "password_change")]
#[login_required]
pub async fn password_change(req: Request, form: Option<Form<PasswordForm>>) -> crate::Result<HttpResponse> {
    let settings: AuthSettings = req.settings().section()?;
    let Some(mut user) = req.user()?.get().cloned() else { return super::redirect_to_login(&req) };
    let mut errors = Vec::new();
    if let Some(form) = form.map(Form::into_inner).filter(|_| req.method() == actix_web::http::Method::POST) {
        let stored = user.password.clone();
        let old = form.old_password.clone();
        let old_ok = actix_web::rt::task::spawn_blocking(move || super::hashers::verify(&old, &stored))
            .await
            .map_err(|e| crate::Error::other(e.to_string()))?;
        errors = if old_ok {
            new_password_errors(&form, &user, &settings)
        } else {
            vec!["Your old password was entered incorrectly. Please enter it again.".into()]
        };
        if errors.is_empty() {
            save_password(&req, &mut user, &form.new_password1).await?;
            super::update_session_auth_hash(&req, &user)?;
            return Ok(crate::http::redirect(&format!(
                "{}password_change/done/",
                settings_login_prefix(&req.settings())
            )));
        }
    }
    let intro = "Please enter your old password, for security’s sake, and then enter your new password twice so we can verify you typed it in correctly.";
    let help = settings.password_validators.iter().map(super::validation::PasswordValidator::help_text).collect();
    render(&password_page(&req, "Password change", intro, true, errors, help))
}

/// `/accounts/password_change/done/`.
#[crate::view(GET, name = "password_change_done")]
#[login_required]
pub async fn password_change_done(req: Request) -> crate::Result<HttpResponse> {
    render(&FormPage::message(&req, "Password change successful", "Your password was changed."))
}
