//! `createsuperuser` and `changepassword`, as Django's.

use diesel::ExpressionMethods as _;

use super::validation::validate_password;
use super::{AuthSettings, User};
use crate::db::Model as _;
use crate::management::{Argument, Command, CommandContext, CommandError};

use super::{validate_email as check_email, validate_username as check_username};

fn auth_settings(ctx: &CommandContext<'_>) -> Result<AuthSettings, CommandError> {
    ctx.settings()?.section().map_err(|e: crate::conf::Error| CommandError::new(e.to_string()))
}

fn username_taken(ctx: &CommandContext<'_>, username: &str) -> Result<bool, CommandError> {
    let name = username.to_owned();
    ctx.db()?
        .run_sync(|conn| User::objects().filter(User::username.eq(name)).exists_sync(conn))
        .map_err(|e| CommandError::new(format!("cannot read the users (did you run `migrate`?): {e}")))
}

/// `createsuperuser`: a user with every permission who may use the admin.
#[derive(Debug)]
pub(crate) struct CreateSuperuser;

impl Command for CreateSuperuser {
    fn name(&self) -> &'static str {
        "createsuperuser"
    }
    fn help(&self) -> &'static str {
        "Creates a superuser: asks for the username, e-mail and password, or with --noinput reads \
         MANOUCHE_SUPERUSER_USERNAME, MANOUCHE_SUPERUSER_EMAIL and MANOUCHE_SUPERUSER_PASSWORD."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::option("username", "NAME", "the username (else asked, or MANOUCHE_SUPERUSER_USERNAME)"),
            Argument::option("email", "ADDRESS", "the e-mail address (else asked, or MANOUCHE_SUPERUSER_EMAIL)"),
            Argument::flag("noinput", "ask nothing: read the environment"),
        ]
    }

    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let settings = auth_settings(ctx)?;
        let hasher = settings.hasher().map_err(CommandError::new)?;
        let (username, email, password) = if ctx.flag("noinput") {
            noninteractive(ctx, &settings)?
        } else if ctx.interactive() {
            interactive(ctx, &settings)?
        } else {
            return ctx.write_line(
                "Superuser creation skipped: not running in a terminal. Run `createsuperuser` in one, or pass --noinput with MANOUCHE_SUPERUSER_* set.",
            );
        };
        let mut user = User::new(&username, &email, password.as_deref(), &hasher)?;
        user.is_staff = true;
        user.is_superuser = true;
        ctx.db()?
            .run_sync(|conn| user.save_sync(conn))
            .map_err(|e| CommandError::new(format!("cannot create the superuser: {e}")))?;
        ctx.write_line("Superuser created successfully.")
    }
}

/// `--noinput`: the options, else the environment; every value checked, the password too.
fn noninteractive(
    ctx: &mut CommandContext<'_>,
    settings: &AuthSettings,
) -> Result<(String, String, Option<String>), CommandError> {
    let env = |name: &str| std::env::var(format!("MANOUCHE_SUPERUSER_{name}")).ok();
    let username = ctx.arg("username").map(str::to_owned).or_else(|| env("USERNAME")).unwrap_or_default();
    if username.is_empty() {
        return Err(CommandError::new("You must use --username with --noinput (or set MANOUCHE_SUPERUSER_USERNAME)."));
    }
    check_username(&username).map_err(|e| CommandError::new(format!("username: {e}")))?;
    if username_taken(ctx, &username)? {
        return Err(CommandError::new(format!("username: That username is already taken: `{username}`.")));
    }
    let email = ctx.arg("email").map(str::to_owned).or_else(|| env("EMAIL")).unwrap_or_default();
    check_email(&email).map_err(|e| CommandError::new(format!("email: {e}")))?;
    // Without a password the account cannot log in until `changepassword` (Django's behaviour).
    let password = env("PASSWORD");
    if let Some(password) = &password {
        let attributes = [("username", username.as_str()), ("email", email.as_str())];
        validate_password(password, &attributes, &settings.password_validators)
            .map_err(|errors| CommandError::new(format!("password: {}", errors.join(" "))))?;
    }
    Ok((username, email, password))
}

/// Asks until each answer is valid, as Django does; a refused password may be kept after a
/// confirmation.
fn interactive(
    ctx: &mut CommandContext<'_>,
    settings: &AuthSettings,
) -> Result<(String, String, Option<String>), CommandError> {
    let username = loop {
        let answer = match ctx.arg("username") {
            Some(given) => given.to_owned(),
            None => ctx.prompt("Username: ")?.trim().to_owned(),
        };
        let problem = match check_username(&answer) {
            Err(problem) => Some(problem),
            Ok(()) if username_taken(ctx, &answer)? => Some("That username is already taken.".to_owned()),
            Ok(()) => None,
        };
        match problem {
            None => break answer,
            Some(problem) if ctx.arg("username").is_some() => {
                return Err(CommandError::new(format!("username: {problem}")));
            }
            Some(problem) => ctx.write_error(&format!("Error: {problem}"))?,
        }
    };
    let email = loop {
        let answer = match ctx.arg("email") {
            Some(given) => given.to_owned(),
            None => ctx.prompt("Email address: ")?.trim().to_owned(),
        };
        match check_email(&answer) {
            Ok(()) => break answer,
            Err(problem) if ctx.arg("email").is_some() => return Err(CommandError::new(format!("email: {problem}"))),
            Err(problem) => ctx.write_error(&format!("Error: {problem}"))?,
        }
    };
    let password = loop {
        let first = ctx.prompt_password("Password: ")?;
        let second = ctx.prompt_password("Password (again): ")?;
        if first != second {
            ctx.write_error("Error: Your passwords didn't match.")?;
            continue;
        }
        if first.trim().is_empty() {
            ctx.write_error("Error: Blank passwords aren't allowed.")?;
            continue;
        }
        let attributes = [("username", username.as_str()), ("email", email.as_str())];
        if let Err(errors) = validate_password(&first, &attributes, &settings.password_validators) {
            ctx.write_error(&errors.join("\n"))?;
            let bypass = ctx.prompt("Bypass password validation and create user anyway? [y/N]: ")?;
            if !bypass.trim().eq_ignore_ascii_case("y") {
                continue;
            }
        }
        break first;
    };
    Ok((username, email, Some(password)))
}

/// `changepassword USER`: sets a user's password, asked twice.
#[derive(Debug)]
pub(crate) struct ChangePassword;

impl Command for ChangePassword {
    fn name(&self) -> &'static str {
        "changepassword"
    }
    fn help(&self) -> &'static str {
        "Changes a user's password (asked twice, checked by the password validators, three tries)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::required("username", "whose password")]
    }

    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let settings = auth_settings(ctx)?;
        let hasher = settings.hasher().map_err(CommandError::new)?;
        let username = ctx.arg("username").unwrap_or_default().to_owned();
        let name = username.clone();
        let user = ctx
            .db()?
            .run_sync(|conn| User::objects().filter(User::username.eq(name)).first_sync(conn))
            .map_err(|e| CommandError::new(format!("cannot read the users (did you run `migrate`?): {e}")))?
            .ok_or_else(|| CommandError::new(format!("user '{username}' does not exist")))?;
        if !ctx.interactive() {
            return Err(CommandError::new("changepassword asks for the password: run it in a terminal"));
        }
        ctx.write_line(&format!("Changing password for user '{username}'"))?;
        const MAX_TRIES: usize = 3;
        let mut password = None;
        for _ in 0..MAX_TRIES {
            let first = ctx.prompt_password("Password: ")?;
            let second = ctx.prompt_password("Password (again): ")?;
            if first != second {
                ctx.write_line("Passwords do not match. Please try again.")?;
                continue;
            }
            match validate_password(&first, &user.password_attributes(), &settings.password_validators) {
                Ok(()) => {
                    password = Some(first);
                    break;
                }
                Err(errors) => ctx.write_error(&errors.join("\n"))?,
            }
        }
        let Some(password) = password else {
            return Err(CommandError::new(format!(
                "Aborting password change for user '{username}' after {MAX_TRIES} attempts"
            )));
        };
        let mut user = user;
        user.set_password(&password, &hasher)?;
        let (id, encoded) = (user.id, user.password.clone());
        ctx.db()?
            .run_sync(|conn| User::objects().filter(User::id.eq(id)).update_sync(conn, User::password.eq(encoded)))
            .map_err(|e| CommandError::new(format!("cannot save the password: {e}")))?;
        ctx.write_line(&format!("Password changed successfully for user '{username}'"))
    }
}
