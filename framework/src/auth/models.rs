//! The `auth` app's models, Django's `auth_user`, `auth_group` and `auth_permission` (with the
//! same table names and the same many-to-many tables), so a Django database's users read here.

use super::hashers::Hasher;
use crate::db::DateTime;

/// A permission on a model: Django's `Permission`, keyed by app label and code name (`shop` +
/// `publish_product` is `shop.publish_product`). Rows are synced from every model's metadata
/// after `migrate`.
#[crate::model(app = "auth", ordering = ["app_label", "model", "codename"], unique_together = [["app_label", "codename"]], display = "{app_label} | {model} | {name}")]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Permission {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// What it allows, e.g. `Can publish products`.
    #[field(max_length = 255)]
    pub name: String,
    /// The model's app, e.g. `shop`.
    #[field(max_length = 100)]
    pub app_label: String,
    /// The model's name in lower case, e.g. `product`.
    #[field(max_length = 100)]
    pub model: String,
    /// The code name, e.g. `publish_product`.
    #[field(max_length = 100)]
    pub codename: String,
}

/// A named set of permissions users belong to: Django's `Group` ("Editors").
#[crate::model(app = "auth", ordering = ["name"], display = "{name}")]
#[many_to_many(permissions = Permission)]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// Its unique name.
    #[field(max_length = 150, unique)]
    pub name: String,
}

/// A user account: Django's `User`, field for field. The password is a hash
/// ([`super::hashers`]); extra data about a user goes in a model of the project's own with a
/// `OneToOne<User>`.
#[crate::model(app = "auth", ordering = ["username"], display = "{username}")]
#[many_to_many(groups = Group)]
#[many_to_many(user_permissions = Permission)]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// The key.
    #[field(primary_key, auto)]
    pub id: i64,
    /// The password's hash (`pbkdf2_sha256$...`), or `!...` when unusable.
    #[field(max_length = 128)]
    #[serde(skip)]
    pub password: String,
    /// The last successful login.
    pub last_login: Option<DateTime>,
    /// Has every permission without being given any.
    #[field(default = false)]
    pub is_superuser: bool,
    /// The login name: unique, 150 characters of letters, digits and `@.+-_`.
    #[field(max_length = 150, unique)]
    pub username: String,
    /// Given name.
    #[field(max_length = 150, blank)]
    pub first_name: String,
    /// Family name.
    #[field(max_length = 150, blank)]
    pub last_name: String,
    /// E-mail address.
    #[field(max_length = 254, blank, verbose_name = "email address")]
    pub email: String,
    /// May log into the admin site.
    #[field(default = false)]
    pub is_staff: bool,
    /// Can log in; unselect this instead of deleting accounts.
    #[field(default = true)]
    pub is_active: bool,
    /// When the account was created.
    #[field(auto_now_add)]
    pub date_joined: DateTime,
}

impl User {
    /// `first_name last_name`, trimmed (Django's `get_full_name`).
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_owned()
    }

    /// The attributes the similarity validator compares a password with.
    pub fn password_attributes(&self) -> [(&'static str, &str); 4] {
        [
            ("username", self.username.as_str()),
            ("first_name", self.first_name.as_str()),
            ("last_name", self.last_name.as_str()),
            ("email", self.email.as_str()),
        ]
    }

    /// A new active user, not saved (Django's `User(username=..., email=...)` then
    /// `set_password`): `password` hashed with `hasher`, or unusable when `None`.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness for the salt.
    pub fn new(username: &str, email: &str, password: Option<&str>, hasher: &Hasher) -> crate::Result<User> {
        let mut user = User {
            id: 0,
            password: String::new(),
            last_login: None,
            is_superuser: false,
            username: username.to_owned(),
            first_name: String::new(),
            last_name: String::new(),
            email: email.to_owned(),
            is_staff: false,
            is_active: true,
            date_joined: crate::db::now(),
        };
        match password {
            Some(password) => user.set_password(password, hasher)?,
            None => user.set_unusable_password()?,
        }
        Ok(user)
    }

    /// Hashes and sets a new password (not saved): Django's `set_password`.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness for the salt.
    pub fn set_password(&mut self, password: &str, hasher: &Hasher) -> crate::Result<()> {
        self.password = hasher.encode(password)?;
        Ok(())
    }

    /// Whether `password` is this user's (Django's `check_password`), in constant time.
    pub fn check_password(&self, password: &str) -> bool {
        super::hashers::verify(password, &self.password)
    }

    /// Makes the password match nothing (Django's `set_unusable_password`), e.g. for accounts
    /// that log in through another system.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness.
    pub fn set_unusable_password(&mut self) -> crate::Result<()> {
        self.password = super::hashers::unusable_password()?;
        Ok(())
    }

    /// Whether any password can match (Django's `has_usable_password`).
    pub fn has_usable_password(&self) -> bool {
        super::hashers::is_usable(&self.password)
    }
}
