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

/// The stock-import form: a CSV file of `slug,stock` lines.
#[derive(forms::Form, Debug)]
pub struct StockImportForm {
    #[form(
        max_length = 100,
        label = "Stock file",
        help_text = "A CSV file of slug,stock lines (a header line is allowed), at most 1 MB."
    )]
    file: forms::UploadedFile,
}

/// The largest stock file read.
const MAX_STOCK_FILE: u64 = 1024 * 1024;

/// Parses a stock file: `(line number, slug, stock)` of each line, or every problem found, each
/// naming its line.
fn parse_stock(text: &str) -> Result<Vec<(usize, String, i32)>, Vec<String>> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || (number == 1 && line.eq_ignore_ascii_case("slug,stock")) {
            continue;
        }
        let Some((slug, stock)) = line.split_once(',') else {
            problems.push(format!("Line {number}: expected slug,stock."));
            continue;
        };
        match stock.trim().parse::<i32>() {
            Ok(stock) if stock >= 0 => rows.push((number, slug.trim().to_owned(), stock)),
            _ => problems.push(format!("Line {number}: the stock must be a whole number, 0 or more.")),
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

#[derive(Template)]
#[template(path = "shop/stock_import.html")]
struct StockImportPage {
    ctx: RequestContext,
    form: forms::FormHtml,
}

/// `/products/import-stock/`: sets the stock of many products from an uploaded CSV file, all or
/// nothing (staff allowed to change products).
#[view(GET, POST)]
#[permission_required(Product::PERM_CHANGE)]
pub async fn import_stock(req: Request, data: forms::FormData) -> manouche::Result<HttpResponse> {
    let mut form = StockImportForm::form(&data);
    if let Some(import) = form.cleaned() {
        let file = import.file.clone();
        // Read and applied on the blocking pool: the upload may be on disk.
        let outcome = req
            .db()
            .run(move |conn| {
                if file.size() > MAX_STOCK_FILE {
                    return Ok(Err(vec!["The file is larger than 1 MB.".to_owned()]));
                }
                let Ok(bytes) = file.read() else {
                    return Ok(Err(vec!["The upload could not be read; please send it again.".to_owned()]));
                };
                let Ok(text) = String::from_utf8(bytes) else {
                    return Ok(Err(vec!["The file is not UTF-8 text.".to_owned()]));
                };
                let rows = match parse_stock(&text) {
                    Ok(rows) if rows.is_empty() => return Ok(Err(vec!["The file lists no product.".to_owned()])),
                    Ok(rows) => rows,
                    Err(problems) => return Ok(Err(problems)),
                };
                let slugs: Vec<String> = rows.iter().map(|(_, slug, _)| slug.clone()).collect();
                let mut products = Product::objects().filter(Product::slug.eq_any(slugs)).all_sync(conn)?;
                let mut problems = Vec::new();
                for (number, slug, stock) in &rows {
                    match products.iter_mut().find(|p| &p.slug == slug) {
                        Some(product) => product.stock = *stock,
                        None => problems.push(format!("Line {number}: no product {slug}.")),
                    }
                }
                if !problems.is_empty() {
                    return Ok(Err(problems));
                }
                Product::objects().bulk_update_sync(conn, &products, Product::stock).map(Ok)
            })
            .await?;
        match outcome {
            Ok(updated) => {
                req.messages()?.success(format!("Updated the stock of {updated} products."))?;
                return Ok(manouche::http::redirect(&super::catalogue::product_list::url()?));
            }
            Err(problems) => {
                for problem in problems {
                    form.add_error(Some("file"), problem);
                }
            }
        }
    }
    let form = form.render(&req.context(), &import_stock::url()?, "Import");
    render(&StockImportPage { ctx: req.context(), form })
}

#[cfg(test)]
mod tests {
    #[test]
    fn stock_files_are_read_line_by_line() {
        let rows = super::parse_stock("slug,stock\nsencha, 12\n\nhojicha,0\n").unwrap();
        assert_eq!(rows, [(2, "sencha".to_owned(), 12), (4, "hojicha".to_owned(), 0)]);
        let problems = super::parse_stock("sencha\nhojicha,-1\nmatcha,lots").unwrap_err();
        assert_eq!(
            problems,
            [
                "Line 1: expected slug,stock.",
                "Line 2: the stock must be a whole number, 0 or more.",
                "Line 3: the stock must be a whole number, 0 or more."
            ]
        );
    }
}
