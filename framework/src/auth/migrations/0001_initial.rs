//! Migration `0001_initial` of the `auth` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-04 17:17 UTC.
//!
//! - Create model Group
//! - Create model Permission
//! - Create model GroupPermissions
//! - Create model User
//! - Create model UserGroups
//! - Create model UserUserPermissions

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .operation(create_model(
            "Group",
            "auth_group",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("name", FieldType::Text).unique().max_length(150),
            ],
        ))
        .operation(
            create_model(
                "Permission",
                "auth_permission",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    field("name", FieldType::Text).max_length(255),
                    field("app_label", FieldType::Text).max_length(100),
                    field("model", FieldType::Text).max_length(100),
                    field("codename", FieldType::Text).max_length(100),
                ],
            )
            .unique_together(["app_label", "codename"]),
        )
        .operation(
            create_model(
                "GroupPermissions",
                "auth_group_permissions",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("group", "auth.Group", OnDelete::Cascade),
                    foreign_key("permission", "auth.Permission", OnDelete::Cascade),
                ],
            )
            .unique_together(["group", "permission"]),
        )
        .operation(create_model(
            "User",
            "auth_user",
            [
                field("id", FieldType::BigInt).primary_key().auto(),
                field("password", FieldType::Text).max_length(128),
                field("last_login", FieldType::DateTime).null(),
                field("is_superuser", FieldType::Bool).default("false"),
                field("username", FieldType::Text).unique().max_length(150),
                field("first_name", FieldType::Text).max_length(150),
                field("last_name", FieldType::Text).max_length(150),
                field("email", FieldType::Text).max_length(254),
                field("is_staff", FieldType::Bool).default("false"),
                field("is_active", FieldType::Bool).default("true"),
                field("date_joined", FieldType::DateTime).auto_now_add(),
            ],
        ))
        .operation(
            create_model(
                "UserGroups",
                "auth_user_groups",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("user", "auth.User", OnDelete::Cascade),
                    foreign_key("group", "auth.Group", OnDelete::Cascade),
                ],
            )
            .unique_together(["user", "group"]),
        )
        .operation(
            create_model(
                "UserUserPermissions",
                "auth_user_user_permissions",
                [
                    field("id", FieldType::BigInt).primary_key().auto(),
                    foreign_key("user", "auth.User", OnDelete::Cascade),
                    foreign_key("permission", "auth.Permission", OnDelete::Cascade),
                ],
            )
            .unique_together(["user", "permission"]),
        )
}
