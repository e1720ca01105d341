//! Sign-up (a user account with its customer profile, logged in at once, the cart kept) and the
//! editors' publish switch, guarded by `Product::PERM_PUBLISH`.

use diesel::ExpressionMethods;
use manouche::auth::User;
use manouche::forms::{self, Form as _};
use manouche::http::Query;
use manouche::prelude::*;

use super::models::Product;

/// The sign-up form (Django's `UserCreationForm` plus the e-mail address and `next`).
#[derive(forms::Form, Debug)]
#[form(clean_data = Self::passwords_match)]
pub struct SignupForm {
    #[form(max_length = 150, clean = valid_username, help_text = "150 characters or fewer. Letters, digits and @/./+/-/_ only.")]
    username: String,
    #[form(email, label = "Email address")]
    email: String,
    #[form(password, label = "Password", no_strip)]
    password1: String,
    #[form(
        password,
        label = "Password confirmation",
        no_strip,
        help_text = "Enter the same password as before, for verification."
    )]
    password2: String,
    #[form(hidden)]
    next: Option<String>,
}

fn valid_username(username: String) -> Result<String, String> {
    manouche::auth::validate_username(&username).map(|()| username)
}

impl SignupForm {
    /// Django's `clean_password2`, shown beside the other fields' errors.
    fn passwords_match(data: &forms::FormData, errors: &mut forms::Errors) {
        if data.get("password1") != data.get("password2") {
            errors.add("password2", "The two password fields didn’t match.");
        }
    }
}

#[derive(Template)]
#[template(path = "shop/signup.html")]
struct SignupPage {
    ctx: RequestContext,
    form: forms::FormHtml,
    help: Vec<String>,
}

/// The checks that need the database or the settings, once the form itself is valid: the
/// username is free, the password passes the validators (Django's messages).
async fn check_account(req: &Request, form: &mut forms::BoundForm<SignupForm>) -> manouche::Result<()> {
    let Some(signup) = form.cleaned() else { return Ok(()) };
    let name = signup.username.clone();
    let taken = req.db().run(move |conn| User::objects().filter(User::username.eq(name)).exists_sync(conn)).await?;
    let settings: manouche::auth::AuthSettings = req.settings().section()?;
    let attributes = [("username", signup.username.as_str()), ("email", signup.email.as_str())];
    let refused =
        manouche::auth::validation::validate_password(&signup.password2, &attributes, &settings.password_validators)
            .err()
            .unwrap_or_default();
    if taken {
        form.add_error(Some("username"), "A user with that username already exists.");
    }
    for message in refused {
        form.add_error(Some("password2"), message);
    }
    Ok(())
}

/// `/accounts/signup/`: GET shows the form; POST creates the account and its customer profile,
/// logs in (the cart stays) and goes to a safe `next` or the front page.
#[view(GET, POST)]
#[never_cache]
#[ratelimit(key = "ip", rate = "10/h", method = "POST")]
pub async fn signup(
    req: Request,
    data: forms::FormData,
    next: Query<manouche::auth::views::Next>,
) -> manouche::Result<HttpResponse> {
    let settings: manouche::auth::AuthSettings = req.settings().section()?;
    let help =
        settings.password_validators.iter().map(manouche::auth::validation::PasswordValidator::help_text).collect();
    let mut form = SignupForm::form(&data).initial("next", next.into_inner().next);
    check_account(&req, &mut form).await?;
    let Some(signup) = form.cleaned() else {
        let action = signup::url()?;
        let form = form.render(&req.context(), &action, "Sign up");
        return render(&SignupPage { ctx: req.context(), form, help });
    };
    let hasher = manouche::auth::hasher(&req.settings())?;
    let (username, email, password) = (signup.username.clone(), signup.email.clone(), signup.password1.clone());
    let next = signup.next.clone().unwrap_or_default();
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
    Ok(manouche::http::redirect(&manouche::auth::views::safe_next(&req, &next, "/")))
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
