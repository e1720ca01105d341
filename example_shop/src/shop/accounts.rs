//! Sign-up (a user account with its customer profile, logged in at once, the cart kept) and the
//! editors' publish switch, guarded by `Product::PERM_PUBLISH`.

use diesel::ExpressionMethods;
use manouche::auth::User;
use manouche::http::{Form, Query};
use manouche::prelude::*;

use super::models::Product;

/// The sign-up form's fields (Django's `UserCreationForm` plus e-mail and `next`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SignupForm {
    username: String,
    email: String,
    password1: String,
    password2: String,
    next: String,
}

#[derive(Template)]
#[template(path = "shop/signup.html")]
struct SignupPage<'a> {
    ctx: RequestContext,
    form: &'a SignupForm,
    errors: Vec<(&'static str, String)>,
    help: Vec<String>,
}

impl SignupPage<'_> {
    fn errors_of(&self, field: &str) -> Vec<&str> {
        self.errors.iter().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str()).collect()
    }
}

/// What is wrong with a sign-up, by field (Django's messages).
async fn problems(req: &Request, form: &SignupForm) -> manouche::Result<Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let username = form.username.trim();
    if let Err(problem) = manouche::auth::validate_username(username) {
        errors.push(("username", problem));
    } else {
        let name = username.to_owned();
        let taken = req.db().run(move |conn| User::objects().filter(User::username.eq(name)).exists_sync(conn)).await?;
        if taken {
            errors.push(("username", "A user with that username already exists.".to_owned()));
        }
    }
    if form.email.trim().is_empty() {
        errors.push(("email", "This field is required.".to_owned()));
    } else if let Err(problem) = manouche::auth::validate_email(form.email.trim()) {
        errors.push(("email", problem));
    }
    if form.password1 != form.password2 {
        errors.push(("password2", "The two password fields didn’t match.".to_owned()));
    } else {
        let settings: manouche::auth::AuthSettings = req.settings().section()?;
        let attributes = [("username", username), ("email", form.email.trim())];
        if let Err(refused) =
            manouche::auth::validation::validate_password(&form.password2, &attributes, &settings.password_validators)
        {
            errors.extend(refused.into_iter().map(|m| ("password2", m)));
        }
    }
    Ok(errors)
}

/// `/accounts/signup/`: GET shows the form; POST creates the account and its customer profile,
/// logs in (the cart stays) and goes to a safe `next` or the front page.
#[view(GET, POST)]
pub async fn signup(
    req: Request,
    form: Option<Form<SignupForm>>,
    next: Query<manouche::auth::views::Next>,
) -> manouche::Result<HttpResponse> {
    let settings: manouche::auth::AuthSettings = req.settings().section()?;
    let help =
        settings.password_validators.iter().map(manouche::auth::validation::PasswordValidator::help_text).collect();
    let posted = form.map(Form::into_inner).filter(|_| req.method() == manouche::http::Method::POST);
    let Some(form) = posted else {
        let form = SignupForm { next: next.into_inner().next, ..SignupForm::default() };
        return render(&SignupPage { ctx: req.context(), form: &form, errors: Vec::new(), help });
    };
    let errors = problems(&req, &form).await?;
    if !errors.is_empty() {
        return render(&SignupPage { ctx: req.context(), form: &form, errors, help });
    }
    let hasher = manouche::auth::hasher(&req.settings())?;
    let (username, email, password) =
        (form.username.trim().to_owned(), form.email.trim().to_owned(), form.password1.clone());
    let user = req
        .db()
        .run(move |conn| {
            let user = User::new(&username, &email, None, &hasher)
                .map_err(|e| manouche::db::Error::Connection(e.to_string()))?;
            // Hashing happens here, on the blocking pool, not on the worker.
            let mut user = user;
            user.set_password(&password, &hasher).map_err(|e| manouche::db::Error::Connection(e.to_string()))?;
            manouche::db::atomic(conn, |conn| {
                let user = user.save_sync(conn)?;
                super::checkout::customer_of(conn, &user)?;
                Ok(user)
            })
        })
        .await?;
    manouche::auth::login(&req, &user).await?;
    req.messages()?.success(format!("Welcome, {}! Your account is ready.", user.username))?;
    Ok(manouche::http::redirect(&manouche::auth::views::safe_next(&req, &form.next, "/")))
}

/// Logs customers in with their e-mail address as well as their username: a second
/// authentication backend (`"shop.EmailBackend"` in `auth.backends`). An address two accounts
/// share identifies nobody.
#[derive(Debug, Clone, Copy)]
pub struct EmailBackend;

impl manouche::auth::backends::AuthBackend for EmailBackend {
    fn authenticate(
        &self,
        conn: &mut manouche::db::Connection,
        credentials: &manouche::auth::backends::Credentials<'_>,
        hasher: &manouche::auth::hashers::Hasher,
    ) -> Result<Option<User>, manouche::db::Error> {
        use manouche::auth::backends::{burn_a_hash, check_user_password};
        let address = credentials.username.trim().to_lowercase();
        if !address.contains('@') {
            return Ok(None);
        }
        let mut users = User::objects().filter(manouche::db::lower(User::email).eq(address)).limit(2).all_sync(conn)?;
        if users.len() == 1 {
            check_user_password(conn, users.remove(0), credentials.password, hasher)
        } else {
            burn_a_hash(credentials.password, hasher);
            Ok(None)
        }
    }
}

/// `POST /products/<slug>/publish/`: puts a product on sale or withdraws it (editors only).
#[view(POST)]
#[permission_required(Product::PERM_PUBLISH)]
pub async fn publish(req: Request, slug: Path<String>) -> manouche::Result<HttpResponse> {
    let slug = slug.into_inner();
    let product = Product::objects().filter(Product::slug.eq(slug)).get(&req.db()).await?;
    let active = !product.active;
    let id = product.id;
    req.db()
        .run(move |conn| Product::objects().filter(Product::id.eq(id)).update_sync(conn, Product::active.eq(active)))
        .await?;
    let messages = req.messages()?;
    if active {
        messages.success(format!("{} is on sale.", product.name))?;
        Ok(manouche::http::redirect(&super::catalogue::product_detail::url(product.slug.as_str())?))
    } else {
        messages.success(format!("{} is withdrawn from the catalogue.", product.name))?;
        Ok(manouche::http::redirect(&super::catalogue::product_list::url()?))
    }
}
