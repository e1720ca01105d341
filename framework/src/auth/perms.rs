//! The permission API of Django's `User` with the model backend: `has_perm`, `has_perms`,
//! `has_module_perms`, `get_user_permissions`, `get_group_permissions`, `get_all_permissions`.
//! Direct and group permissions combine; an active superuser has every permission; an inactive
//! or anonymous user has none. Permissions are named `app_label.codename` (`"shop.change_product"`)
//! or given typed (`Product::PERM_CHANGE`).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::HttpMessage as _;
use diesel::ExpressionMethods as _;

use super::models::{GroupPermissions, UserGroups, UserUserPermissions};
use super::{Permission, RequestUser, User};
use crate::db::{Model as _, SubqueryLookups as _};
use crate::http::Request;

/// Something naming a permission: `"shop.change_product"` or `Product::PERM_CHANGE`.
pub trait PermissionName {
    /// `app_label.codename`.
    fn permission_name(&self) -> Cow<'_, str>;
}

impl PermissionName for str {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for &str {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for String {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for crate::db::Permission {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PermissionName for &crate::db::Permission {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

/// A user's permissions as `app_label.codename`: those given directly and through groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Given to the user.
    pub user: BTreeSet<String>,
    /// Given to the user's groups.
    pub group: BTreeSet<String>,
    /// The user is an active superuser: every permission, named or not.
    pub superuser: bool,
}

impl Permissions {
    /// Both sets together (Django's `get_all_permissions`).
    pub fn all(&self) -> BTreeSet<String> {
        self.user.union(&self.group).cloned().collect()
    }

    /// Django's `has_perm`.
    pub fn has(&self, perm: &(impl PermissionName + ?Sized)) -> bool {
        let name = perm.permission_name();
        self.superuser || self.user.contains(name.as_ref()) || self.group.contains(name.as_ref())
    }

    /// Django's `has_module_perms`: any permission in the app.
    pub fn has_module(&self, app_label: &str) -> bool {
        let prefix = format!("{app_label}.");
        self.superuser || self.user.iter().chain(&self.group).any(|p| p.starts_with(&prefix))
    }

    /// Loads `user`'s permissions: two queries (one for a superuser, none for an inactive user).
    ///
    /// # Errors
    ///
    /// A database error.
    pub fn load_sync(conn: &mut crate::db::Connection, user: &User) -> Result<Permissions, crate::db::Error> {
        if !user.is_active {
            return Ok(Permissions::default());
        }
        let names = |rows: Vec<(String, String)>| rows.into_iter().map(|(app, code)| format!("{app}.{code}")).collect();
        if user.is_superuser {
            let every =
                Permission::objects().values_list((Permission::app_label, Permission::codename)).all_sync(conn)?;
            let every: BTreeSet<String> = names(every);
            return Ok(Permissions { user: every.clone(), group: every, superuser: true });
        }
        let direct = UserUserPermissions::objects()
            .filter(UserUserPermissions::user.eq(user.id))
            .values_list(UserUserPermissions::permission);
        let user_perms = Permission::objects()
            .filter(Permission::id.is_in(direct))
            .values_list((Permission::app_label, Permission::codename))
            .all_sync(conn)?;
        let groups = UserGroups::objects().filter(UserGroups::user.eq(user.id)).values_list(UserGroups::group);
        let through_groups = GroupPermissions::objects()
            .filter(GroupPermissions::group.is_in(groups))
            .values_list(GroupPermissions::permission);
        let group_perms = Permission::objects()
            .filter(Permission::id.is_in(through_groups))
            .values_list((Permission::app_label, Permission::codename))
            .all_sync(conn)?;
        Ok(Permissions { user: names(user_perms), group: names(group_perms), superuser: false })
    }
}

/// The request user's permissions, loaded on first use and kept for the rest of the request.
///
/// # Errors
///
/// Without the `manouche.auth` middleware; a database error.
pub async fn permissions(req: &Request) -> crate::Result<Arc<Permissions>> {
    if let Some(cached) = req.extensions().get::<Arc<Permissions>>() {
        return Ok(Arc::clone(cached));
    }
    let loaded = match req.user()? {
        RequestUser::Anonymous => Permissions::default(),
        RequestUser::User(user) => req.db().run(move |conn| Permissions::load_sync(conn, &user)).await?,
    };
    let loaded = Arc::new(loaded);
    req.extensions_mut().insert(Arc::clone(&loaded));
    Ok(loaded)
}

/// Whether the request's user has `perm` (Django's `user.has_perm`).
///
/// # Errors
///
/// As [`permissions`].
pub async fn has_perm(req: &Request, perm: impl PermissionName) -> crate::Result<bool> {
    Ok(permissions(req).await?.has(&perm))
}

/// Whether the request's user has every permission listed (Django's `has_perms`).
///
/// # Errors
///
/// As [`permissions`].
pub async fn has_perms<P: PermissionName>(req: &Request, perms: &[P]) -> crate::Result<bool> {
    let held = permissions(req).await?;
    Ok(perms.iter().all(|p| held.has(p)))
}

/// Whether the request's user has any permission in `app_label` (Django's `has_module_perms`).
///
/// # Errors
///
/// As [`permissions`].
pub async fn has_module_perms(req: &Request, app_label: &str) -> crate::Result<bool> {
    Ok(permissions(req).await?.has_module(app_label))
}

/// The permissions given to the request's user directly (Django's `get_user_permissions`);
/// every permission for an active superuser, none for an inactive or anonymous user.
///
/// # Errors
///
/// As [`permissions`].
pub async fn get_user_permissions(req: &Request) -> crate::Result<BTreeSet<String>> {
    Ok(permissions(req).await?.user.clone())
}

/// The permissions the request's user has through groups (Django's `get_group_permissions`).
///
/// # Errors
///
/// As [`permissions`].
pub async fn get_group_permissions(req: &Request) -> crate::Result<BTreeSet<String>> {
    Ok(permissions(req).await?.group.clone())
}

/// Every permission of the request's user, direct and through groups (Django's
/// `get_all_permissions`).
///
/// # Errors
///
/// As [`permissions`].
pub async fn get_all_permissions(req: &Request) -> crate::Result<BTreeSet<String>> {
    Ok(permissions(req).await?.all())
}
