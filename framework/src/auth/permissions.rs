//! Permission rows kept in step with the models (Django's `create_permissions`, run on
//! `post_migrate`).

use std::collections::HashSet;

use diesel::ExpressionMethods as _;

use super::Permission;
use crate::db::Model as _;
use crate::migrations::PostMigrate;

/// Creates the permissions every model of the project's apps declares (the four defaults and
/// `#[permission(...)]` ones) and renames changed ones; reports rows no model declares any more,
/// without deleting them (groups and users may hold them).
pub(crate) fn sync(event: &mut PostMigrate<'_>) -> Result<(), crate::db::Error> {
    if !crate::migrations::table_exists(event.conn, Permission::meta().table)? {
        return Ok(());
    }
    let installed: HashSet<&str> = event.apps.iter().map(String::as_str).collect();
    let declared: Vec<(&'static str, String, &'static str, &'static str)> = crate::db::models()
        .into_iter()
        .map(|model| model.meta())
        .filter(|meta| installed.contains(meta.app) && !meta.auto_created)
        .flat_map(|meta| {
            let model = meta.name.to_lowercase();
            meta.permissions.iter().map(move |p| (p.app, model.clone(), p.codename, p.name))
        })
        .collect();
    let existing = Permission::objects().all_sync(event.conn)?;
    let mut created = 0;
    for (app, model, codename, name) in &declared {
        match existing.iter().find(|p| p.app_label == *app && p.codename == *codename) {
            None => {
                let row = Permission {
                    id: 0,
                    name: (*name).to_owned(),
                    app_label: (*app).to_owned(),
                    model: model.clone(),
                    codename: (*codename).to_owned(),
                };
                row.save_sync(event.conn)?;
                created += 1;
            }
            Some(row) if row.name != *name || row.model != *model => {
                Permission::objects()
                    .filter(Permission::id.eq(row.id))
                    .update_sync(event.conn, (Permission::name.eq(*name), Permission::model.eq(model.clone())))?;
            }
            Some(_) => {}
        }
    }
    if created > 0 {
        event.report(format!("Created {created} permission{}.", if created == 1 { "" } else { "s" }));
    }
    let stale: Vec<String> = existing
        .iter()
        .filter(|p| installed.contains(p.app_label.as_str()))
        .filter(|p| !declared.iter().any(|(app, _, codename, _)| p.app_label == *app && p.codename == *codename))
        .map(|p| format!("{}.{}", p.app_label, p.codename))
        .collect();
    if !stale.is_empty() {
        event.report(format!(
            "Permissions no model declares any more (kept, as groups and users may hold them; delete them once unused): {}",
            stale.join(", ")
        ));
    }
    Ok(())
}
