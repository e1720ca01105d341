//! The admin's user pages: adding a user with a password form (hashed, checked by the
//! password validators) and changing a user's password, as Django's `UserAdmin` does.

use std::fmt::Write as _;

use actix_web::HttpResponse;
use actix_web::web::Path;
use diesel::ExpressionMethods as _;

use super::views::{crumbs, esc, log, model_url, open, page};
use crate::auth::{AuthSettings, User};
use crate::db::Model as _;
use crate::forms::{BoundForm, Errors, Form, FormData};
use crate::http::Request;

fn valid_username(username: String) -> Result<String, String> {
    crate::auth::validate_username(&username).map(|()| username)
}

fn passwords_match(data: &FormData, errors: &mut Errors) {
    if data.get("password1") != data.get("password2") {
        errors.add("password2", "The two password fields didn’t match.");
    }
}

/// Django's `UserCreationForm`.
#[derive(crate::forms::Form)]
#[form(clean_data = passwords_match)]
pub(super) struct AddUser {
    #[form(max_length = 150, clean = valid_username, help_text = "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.")]
    username: String,
    #[form(password, no_strip, label = "Password")]
    password1: String,
    #[form(
        password,
        no_strip,
        label = "Password confirmation",
        help_text = "Enter the same password as before, for verification."
    )]
    password2: String,
}

/// Django's `AdminPasswordChangeForm`.
#[derive(crate::forms::Form)]
#[form(clean_data = passwords_match)]
pub(super) struct SetPassword {
    #[form(password, no_strip, label = "Password")]
    password1: String,
    #[form(
        password,
        no_strip,
        label = "Password (again)",
        help_text = "Enter the same password as before, for verification."
    )]
    password2: String,
}

/// The password validators' complaints, on `password2`.
async fn validate<F: Form>(
    req: &Request,
    form: &mut BoundForm<F>,
    password: &str,
    username: &str,
    email: &str,
) -> crate::Result<()> {
    let settings: AuthSettings = req.settings().section()?;
    let attributes = [("username", username), ("email", email)];
    if let Err(problems) =
        crate::auth::validation::validate_password(password, &attributes, &settings.password_validators)
    {
        for problem in problems {
            form.add_error(Some("password2"), problem);
        }
    }
    Ok(())
}

fn form_page(req: &Request, title: &str, crumb: &str, fields: &str, button: &str) -> crate::Result<HttpResponse> {
    let meta = User::meta();
    let html = format!(
        "<form method=\"post\" novalidate>{}<fieldset class=\"module\">{fields}</fieldset><div class=\"submit-row\"><button type=\"submit\" name=\"_save\" class=\"default\">{}</button></div></form>",
        req.context().csrf_input(),
        esc(button)
    );
    page(req, title, crumbs(Some(meta), Some(crumb))?, html)
}

/// `/admin/auth/user/add/`: username and password; the details come next, on the change page.
pub(super) async fn add_user(req: &Request, data: &FormData) -> crate::Result<HttpResponse> {
    let mut form = AddUser::form(data);
    if let Some(clean) = form.cleaned() {
        let (username, password) = (clean.username.clone(), clean.password1.clone());
        let name = username.clone();
        let taken = req.db().run(move |conn| User::objects().filter(User::username.eq(name)).exists_sync(conn)).await?;
        if taken {
            form.add_error(Some("username"), "A user with that username already exists.");
        }
        validate(req, &mut form, &password, &username, "").await?;
    }
    let Some(clean) = form.cleaned() else {
        return form_page(req, "Add user", "Add user", form.as_div().as_str(), "Save");
    };
    let hasher = crate::auth::hasher(&req.settings())?;
    let (username, password) = (clean.username.clone(), clean.password1.clone());
    let admin_id = req.user()?.id().unwrap_or_default();
    let meta = User::meta();
    let user = req
        .db()
        .run(move |conn| {
            // Hashing runs here, on the blocking pool.
            let user = User::new(&username, "", Some(&password), &hasher)
                .map_err(|e| crate::db::Error::Connection(e.to_string()))?;
            crate::db::atomic(conn, |conn| {
                let user = user.save_sync(conn)?;
                log(conn, admin_id, meta, &user.id.to_string(), &user.username, super::ADDITION, "[{\"added\": {}}]")?;
                Ok(user)
            })
        })
        .await?;
    req.messages()?
        .success(format!("The user “{}” was added successfully. You may edit it again below.", user.username))?;
    Ok(crate::http::redirect(&format!("{}{}/change/", model_url(meta)?, user.id)))
}

/// `/admin/auth/user/<id>/password/`: sets a user's password (needs `auth.change_user`).
#[crate::view(GET, POST, name = "user_password")]
pub(super) async fn user_password(
    req: Request,
    #[params(app_label, model_name, object_id)] names: Path<(String, String, String)>,
    data: FormData,
) -> crate::Result<HttpResponse> {
    let (app, model, id) = names.into_inner();
    let meta = User::meta();
    if !(app == meta.app && model == meta.name.to_lowercase()) {
        return Err(crate::http::Error::not_found("only users have passwords").into());
    }
    if let Err(login) = open(&req, &app, &model, |rights| rights.change).await? {
        return Ok(login);
    }
    let Ok(id) = id.parse::<i64>() else { return Err(crate::http::Error::not_found("no such user").into()) };
    let found = req.db().run(move |conn| User::objects().filter(User::id.eq(id)).first_sync(conn)).await?;
    let Some(mut user) = found else { return Err(crate::http::Error::not_found("no such user").into()) };
    let mut form = SetPassword::form(&data);
    if let Some(clean) = form.cleaned() {
        let password = clean.password1.clone();
        let (username, email) = (user.username.clone(), user.email.clone());
        validate(&req, &mut form, &password, &username, &email).await?;
    }
    let Some(clean) = form.cleaned() else {
        let mut fields = String::new();
        let _ = write!(fields, "<p>Enter a new password for the user <strong>{}</strong>.</p>", esc(&user.username));
        fields.push_str(form.as_div().as_str());
        return form_page(
            &req,
            &format!("Change password: {}", user.username),
            "Change password",
            &fields,
            "Change password",
        );
    };
    let hasher = crate::auth::hasher(&req.settings())?;
    let password = clean.password1.clone();
    let admin_id = req.user()?.id().unwrap_or_default();
    let changed_own = admin_id == user.id;
    let user = req
        .db()
        .run(move |conn| {
            user.set_password(&password, &hasher).map_err(|e| crate::db::Error::Connection(e.to_string()))?;
            crate::db::atomic(conn, |conn| {
                let user = user.save_sync(conn)?;
                log(conn, admin_id, meta, &user.id.to_string(), &user.username, super::CHANGE, "Changed password.")?;
                Ok(user)
            })
        })
        .await?;
    if changed_own {
        // Keep the admin logged in after changing their own password (Django's
        // `update_session_auth_hash`).
        crate::auth::update_session_auth_hash(&req, &user)?;
    }
    req.messages()?.success("Password changed successfully.")?;
    Ok(crate::http::redirect(&format!("{}{}/change/", model_url(meta)?, user.id)))
}

/// The password line of the user change page: the algorithm, never the hash, and the link.
pub(super) fn password_summary(encoded: &str, user_url: &str) -> String {
    let summary = if encoded.is_empty() || encoded.starts_with(crate::auth::hashers::UNUSABLE_PREFIX) {
        "No password set.".to_owned()
    } else {
        let algorithm = encoded.split('$').next().unwrap_or("");
        format!("algorithm: {}", esc(algorithm))
    };
    format!(
        "{summary} Raw passwords are not stored, so there is no way to see the user’s password, but you can change it using <a href=\"{user_url}password/\">this form</a>."
    )
}
