//! `makemigrations`, `migrate`, `showmigrations` and `sqlmigrate`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::time::Duration;

use super::args::Argument;
use super::command::{Command, CommandContext, CommandError};
use crate::App;
use crate::conf::{DatabaseUrl, Settings};
use crate::db::{Backend, Database, PoolOptions};
use crate::migrations::{self, Graph, Key, Migration, Operation, ProjectState, Questioner, Step, Target};

/// The graph of every app's migrations.
fn graph(ctx: &CommandContext<'_>) -> Result<Graph, CommandError> {
    let migrations: Vec<Migration> = ctx.project().apps().iter().flat_map(App::migration_list).collect();
    Graph::new(migrations).map_err(|e| CommandError::new(e.to_string()))
}

/// An error when an app has two latest migrations.
fn refuse_conflicts(graph: &Graph) -> Result<(), CommandError> {
    match graph.conflicts().into_iter().next() {
        Some((app, leaves)) => Err(CommandError::new(migrations::conflict(&app, &leaves).to_string())),
        None => Ok(()),
    }
}

/// The apps named on the command line (all apps with migrations when none is), each checked.
fn selected_apps<'a>(ctx: &'a CommandContext<'_>, names: &[String]) -> Result<Vec<&'a App>, CommandError> {
    let apps = ctx.project().apps();
    if names.is_empty() {
        return Ok(apps.iter().filter(|a| a.has_migrations()).collect());
    }
    names.iter().map(|name| app_with_migrations(ctx, name)).collect()
}

fn app_with_migrations<'a>(ctx: &'a CommandContext<'_>, name: &str) -> Result<&'a App, CommandError> {
    let apps = ctx.project().apps();
    let app = apps.iter().find(|a| a.name() == name).ok_or_else(|| {
        let known: Vec<&str> = apps.iter().map(App::name).collect();
        CommandError::usage(format!("no app `{name}` in the project; its apps are: {}", known.join(", ")))
    })?;
    if !app.has_migrations() {
        return Err(CommandError::new(format!(
            "the app `{name}` has no migrations folder; give it one with \
             `.migrations(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/{name}/migrations\"), migrations::all)`"
        )));
    }
    Ok(app)
}

/// The number of `app`'s next migration: one more than its highest (Diesel migrations, named by
/// date, do not count).
fn next_number(graph: &Graph, app: &str) -> u32 {
    let own = graph.app_nodes(app).into_iter().filter(|key| graph.get(key).is_some_and(|m| m.diesel().is_none()));
    own.filter_map(|(_, n)| migrations::number_of(n)).max().unwrap_or(0) + 1
}

/// A migration of `app` by name or by the start of its name (`0002`).
fn resolve(graph: &Graph, app: &str, wanted: &str) -> Result<Key, CommandError> {
    let nodes = graph.app_nodes(app);
    if let Some(exact) = nodes.iter().find(|(_, n)| n == wanted) {
        return Ok((*exact).clone());
    }
    let matching: Vec<&&Key> = nodes.iter().filter(|(_, n)| n.starts_with(wanted)).collect();
    match matching.as_slice() {
        [one] => Ok((**one).clone()),
        [] => {
            let names: Vec<&str> = nodes.iter().map(|(_, n)| n.as_str()).collect();
            Err(CommandError::new(format!(
                "no migration `{wanted}` in `{app}`; it has: {}",
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            )))
        }
        several => {
            let names: Vec<&str> = several.iter().map(|k| k.1.as_str()).collect();
            Err(CommandError::new(format!("`{wanted}` names several migrations of `{app}`: {}", names.join(", "))))
        }
    }
}

fn backend_of(settings: &Settings) -> Backend {
    match settings.database_url {
        DatabaseUrl::Postgres(_) => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// The project's database, for schema changes: one connection, no statement timeout; the one
/// place a missing SQLite file is created.
fn database(settings: &Settings) -> Database {
    let options =
        PoolOptions::from_settings(settings).max_size(1).statement_timeout(Duration::ZERO).create_missing(true);
    Database::connect(&settings.database_url, options)
}

/// The applied migrations, read without creating anything: none when the SQLite file or the
/// tracking table is missing.
fn recorded(settings: &Settings) -> Result<BTreeSet<Key>, crate::db::Error> {
    if !settings_database_exists(settings) {
        return Ok(BTreeSet::new());
    }
    let db = Database::connect(&settings.database_url, PoolOptions::from_settings(settings).max_size(1));
    db.run_sync(migrations::applied_if_recorded)
}

/// The applied migrations and those Diesel's table says are (which `migrate` adopts), read
/// without creating anything.
fn recorded_or_adoptable(settings: &Settings, graph: &Graph) -> Result<BTreeSet<Key>, crate::db::Error> {
    let mut applied = recorded(settings)?;
    if graph.order().iter().any(|key| graph.get(key).is_some_and(|m| m.diesel().is_some()))
        && settings_database_exists(settings)
    {
        let db = Database::connect(&settings.database_url, PoolOptions::from_settings(settings).max_size(1));
        applied.extend(db.run_sync(|conn| migrations::applied_by_diesel(conn, graph))?);
    }
    Ok(applied)
}

/// False for a SQLite file that is not there yet (opening it would create it).
fn settings_database_exists(settings: &Settings) -> bool {
    !matches!(&settings.database_url, DatabaseUrl::Sqlite(path) if !path.exists())
}

/// How many migrations are not applied, for `check` and `runserver`: `None` when the project
/// has none or the database cannot be read.
pub(crate) fn unapplied_warning(project: &crate::Project, settings: &Settings) -> Option<String> {
    let migrations: Vec<Migration> = project.apps().iter().flat_map(App::migration_list).collect();
    if migrations.is_empty() {
        return None;
    }
    let applied = recorded(settings).ok()?;
    let pending: Vec<String> = migrations
        .iter()
        .filter(|m| !applied.contains(&(m.app.clone(), m.name.clone())))
        .map(Migration::label)
        .collect();
    if pending.is_empty() {
        return None;
    }
    let apps: BTreeSet<&str> = pending.iter().filter_map(|l| l.split('.').next()).collect();
    Some(format!(
        "{} unapplied migration{} ({}): the project may not work until you run `migrate`",
        pending.len(),
        if pending.len() == 1 { "" } else { "s" },
        apps.into_iter().collect::<Vec<_>>().join(", ")
    ))
}

/// Answers rename questions: always yes, always no, or by asking on the terminal.
enum Answers<'a> {
    Fixed(bool),
    Ask(&'a mut dyn Write),
}

impl Answers<'_> {
    fn ask(&mut self, question: &str) -> bool {
        match self {
            Answers::Fixed(answer) => *answer,
            Answers::Ask(out) => {
                let _ = write!(out, "{question} [y/N] ");
                let _ = out.flush();
                let mut line = String::new();
                match std::io::stdin().lock().read_line(&mut line) {
                    Ok(0) | Err(_) => false,
                    Ok(_) => matches!(line.trim(), "y" | "Y" | "yes" | "Yes"),
                }
            }
        }
    }
}

impl Questioner for Answers<'_> {
    fn rename_model(&mut self, app: &str, from: &str, to: &str) -> bool {
        self.ask(&format!("Was the model {app}.{from} renamed to {to}?"))
    }
    fn rename_field(&mut self, model: &str, from: &str, to: &str, kind: &str) -> bool {
        self.ask(&format!("Was {model}.{from} renamed to {model}.{to} (a {kind})?"))
    }
}

/// `makemigrations`: writes the next migration of each app whose models changed.
#[derive(Debug)]
pub(crate) struct MakeMigrations;

impl Command for MakeMigrations {
    fn name(&self) -> &'static str {
        "makemigrations"
    }
    fn help(&self) -> &'static str {
        "Writes new migrations for the changes to the apps' models (all apps with migrations, or those named)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::many("app", "apps to make migrations for"),
            Argument::option("name", "NAME", "the new migration's name, after its number"),
            Argument::flag("empty", "write an empty migration (for RunSql or a Rust data migration)"),
            Argument::flag("dry-run", "show what would be written, write nothing"),
            Argument::flag("check", "exit with status 1 if the models have changes without a migration"),
            Argument::flag("merge", "join the latest migrations of apps that have several"),
            Argument::flag("no-input", "ask nothing: changes that could be renames are removals and additions"),
            Argument::flag("yes", "ask nothing: every change that could be a rename is one"),
        ]
    }

    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let names = ctx.many().to_vec();
        let selected: Vec<App> = selected_apps(ctx, &names)?.into_iter().cloned().collect();
        let graph = graph(ctx)?;
        // What is on disk must be what was compiled: else the replayed history is stale.
        for app in ctx.project().apps() {
            let Some(folder) = &app.migrations else { continue };
            let on_disk = migrations::on_disk(&folder.dir)
                .map_err(|e| CommandError::new(format!("cannot read {}: {e}", folder.dir.display())))?;
            let mut compiled: Vec<String> = app.own_migrations().into_iter().map(|m| m.name).collect();
            compiled.sort();
            if folder.dir.is_dir() && on_disk != compiled {
                return Err(CommandError::new(format!(
                    "the migrations of `{}` in {} ({}) are not the ones compiled into this program ({}): \
                     rebuild it (`cargo run -- makemigrations` does) and try again",
                    app.name(),
                    folder.dir.display(),
                    list_or_none(&on_disk),
                    list_or_none(&compiled)
                )));
            }
        }
        if ctx.flag("merge") {
            return merge(ctx, &graph, &selected);
        }
        refuse_conflicts(&graph)?;
        if ctx.flag("empty") {
            if names.is_empty() {
                return Err(CommandError::usage("`--empty` needs the apps to write an empty migration for"));
            }
            let planned: BTreeMap<String, Vec<Operation>> =
                selected.iter().map(|a| (a.name().to_owned(), Vec::new())).collect();
            return write(ctx, &graph, &selected, planned);
        }
        let from = graph.final_state().map_err(|e| CommandError::new(e.to_string()))?;
        let apps: Vec<&str> = ctx.project().apps().iter().map(App::name).collect();
        // Unmanaged models (`managed = false`) map tables the project does not create or alter.
        let models: Vec<_> =
            crate::db::registered_models().into_iter().filter(|m| m.managed && apps.contains(&m.app)).collect();
        let to = ProjectState::from_models(&models);
        let app_names: Vec<String> = selected.iter().map(|a| a.name().to_owned()).collect();
        let changes = {
            let mut answers = if ctx.flag("yes") {
                Answers::Fixed(true)
            } else if ctx.flag("no-input") || ctx.flag("check") {
                Answers::Fixed(false)
            } else {
                Answers::Ask(&mut *ctx.stdout)
            };
            migrations::changes(&from, &to, &app_names, &mut answers).map_err(|e| CommandError::new(e.to_string()))?
        };
        if changes.is_empty() {
            return ctx.write_line(&match names.as_slice() {
                [] => "No changes detected".to_owned(),
                [one] => format!("No changes detected in app `{one}`"),
                many => format!("No changes detected in apps {}", many.join(", ")),
            });
        }
        if ctx.flag("check") {
            for (app, operations) in &changes {
                ctx.write_line(&format!("Changes in `{app}` without a migration:"))?;
                for operation in operations {
                    ctx.write_line(&format!("  + {}", operation.describe()))?;
                }
            }
            return Err(CommandError::new("the models have changes that are not in a migration; run `makemigrations`"));
        }
        write(ctx, &graph, &selected, changes)
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// Writes one migration per app of `planned` (unless `--dry-run`), with its dependencies.
fn write(
    ctx: &mut CommandContext<'_>,
    graph: &Graph,
    apps: &[App],
    planned: BTreeMap<String, Vec<Operation>>,
) -> Result<(), CommandError> {
    if let Some(name) = ctx.arg("name")
        && !migrations::valid_name(name)
    {
        return Err(CommandError::usage(format!(
            "`--name {name}` is not a valid migration name; use lowercase letters, digits and `_`"
        )));
    }
    // First every new name, so a migration can depend on another app's new one.
    let mut new_names: BTreeMap<String, String> = BTreeMap::new();
    for (app, operations) in &planned {
        let existing = graph.app_nodes(app);
        let number = next_number(graph, app);
        let name = match ctx.arg("name") {
            Some(name) => format!("{number:04}_{name}"),
            None => migrations::auto_name(number, operations, existing.is_empty()),
        };
        new_names.insert(app.clone(), name);
    }
    let newest = |app: &str| -> Option<String> {
        new_names.get(app).cloned().or_else(|| graph.leaves(app).first().map(|(_, n)| n.clone()))
    };
    let dry_run = ctx.flag("dry-run");
    for (app_name, operations) in &planned {
        let Some(app) = apps.iter().find(|a| a.name() == app_name) else { continue };
        let (Some(folder), Some(name)) = (&app.migrations, new_names.get(app_name)) else { continue };
        let mut dependencies: Vec<(String, String)> = Vec::new();
        if let Some((_, leaf)) = graph.leaves(app_name).first() {
            dependencies.push((app_name.clone(), leaf.clone()));
        }
        for target in operations.iter().flat_map(foreign_apps) {
            if target != *app_name
                && let Some(leaf) = newest(&target)
                && !dependencies.contains(&(target.clone(), leaf.clone()))
            {
                dependencies.push((target, leaf));
            }
        }
        let path = folder.dir.join(format!("{name}.rs"));
        ctx.write_line(&format!("Migrations for `{app_name}`:"))?;
        ctx.write_line(&format!("  {}", path.display()))?;
        for operation in operations {
            ctx.write_line(&format!("    + {}", operation.describe()))?;
        }
        if dry_run {
            continue;
        }
        std::fs::create_dir_all(&folder.dir)
            .map_err(|e| CommandError::new(format!("cannot create {}: {e}", folder.dir.display())))?;
        let source = migrations::render(app_name, name, &dependencies, operations);
        std::fs::write(&path, source)
            .map_err(|e| CommandError::new(format!("cannot write {}: {e}", path.display())))?;
        let mut names = migrations::on_disk(&folder.dir)
            .map_err(|e| CommandError::new(format!("cannot read {}: {e}", folder.dir.display())))?;
        if !names.contains(name) {
            names.push(name.clone());
        }
        let listing = folder.dir.join("mod.rs");
        std::fs::write(&listing, migrations::render_listing(app_name, &names))
            .map_err(|e| CommandError::new(format!("cannot write {}: {e}", listing.display())))?;
        format_files(&[&path, &listing]);
    }
    Ok(())
}

/// Lays the written files out as the project's own code is, when `rustfmt` is installed (it comes
/// with the toolchain); without it they stay as written, which compiles just the same.
fn format_files(paths: &[&std::path::Path]) {
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(paths)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// The apps an operation's foreign keys point into.
fn foreign_apps(operation: &Operation) -> Vec<String> {
    let fields: Vec<&migrations::Field> = match operation {
        Operation::CreateModel { fields, .. } => fields.iter().collect(),
        Operation::AddField { field, .. } | Operation::AlterField { field, .. } => vec![field],
        _ => Vec::new(),
    };
    fields
        .into_iter()
        .filter_map(|f| f.relation.as_ref().and_then(|r| r.to.label().split_once('.').map(|(app, _)| app.to_owned())))
        .collect()
}

/// `--merge`: a migration depending on every latest migration of an app that has several.
fn merge(ctx: &mut CommandContext<'_>, graph: &Graph, apps: &[App]) -> Result<(), CommandError> {
    let conflicts: Vec<(String, Vec<String>)> =
        graph.conflicts().into_iter().filter(|(app, _)| apps.iter().any(|a| a.name() == app)).collect();
    if conflicts.is_empty() {
        return ctx.write_line("No conflicts to merge");
    }
    for (app_name, leaves) in conflicts {
        let Some(folder) = apps.iter().find(|a| a.name() == app_name).and_then(|a| a.migrations.as_ref()) else {
            continue;
        };
        let number = next_number(graph, &app_name);
        let tail: Vec<String> = leaves.iter().map(|l| l.chars().take_while(char::is_ascii_digit).collect()).collect();
        let name = format!("{number:04}_merge_{}", tail.join("_"));
        let dependencies: Vec<(String, String)> = leaves.iter().map(|l| (app_name.clone(), l.clone())).collect();
        let path = folder.dir.join(format!("{name}.rs"));
        ctx.write_line(&format!("Merging `{app_name}`: {}\n  {}", leaves.join(", "), path.display()))?;
        if ctx.flag("dry-run") {
            continue;
        }
        std::fs::write(&path, migrations::render(&app_name, &name, &dependencies, &[]))
            .map_err(|e| CommandError::new(format!("cannot write {}: {e}", path.display())))?;
        let names = migrations::on_disk(&folder.dir)
            .map_err(|e| CommandError::new(format!("cannot read {}: {e}", folder.dir.display())))?;
        let listing = folder.dir.join("mod.rs");
        std::fs::write(&listing, migrations::render_listing(&app_name, &names))
            .map_err(|e| CommandError::new(format!("cannot write {}: {e}", listing.display())))?;
        format_files(&[&path, &listing]);
    }
    Ok(())
}

/// `migrate [APP] [TARGET]`: applies (or unapplies back to TARGET) migrations.
#[derive(Debug)]
pub(crate) struct Migrate;

impl Command for Migrate {
    fn name(&self) -> &'static str {
        "migrate"
    }
    fn help(&self) -> &'static str {
        "Applies migrations; `migrate APP TARGET` unapplies APP's later ones back to TARGET (`zero`: all)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::positional("app", "only this app (and what it depends on)"),
            Argument::positional("target", "the migration to stop at (`0002` or its full name), or `zero`"),
            Argument::flag("plan", "show what would run, run nothing"),
            Argument::flag("fake", "record the migrations as applied (or unapplied) without running them"),
        ]
    }

    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let graph = graph(ctx)?;
        refuse_conflicts(&graph)?;
        let target = match (ctx.arg("app"), ctx.arg("target")) {
            (None, _) => Target::All,
            (Some(app), None) => Target::App(app_with_migrations(ctx, app)?.name().to_owned()),
            (Some(app), Some("zero")) => Target::Zero(app_with_migrations(ctx, app)?.name().to_owned()),
            (Some(app), Some(name)) => {
                let app = app_with_migrations(ctx, app)?.name().to_owned();
                Target::Migration(resolve(&graph, &app, name)?)
            }
        };
        let settings = ctx.settings()?.clone();
        let db = database(&settings);
        let (show_plan, fake) = (ctx.flag("plan"), ctx.flag("fake"));
        let outcome = db.run_sync(|conn| {
            let mut applied = migrations::applied(conn)?;
            if show_plan {
                applied.extend(migrations::applied_by_diesel(conn, &graph)?);
            } else {
                let adopted = migrations::adopt_diesel(conn, &graph, &applied)?;
                if let Err(error) = adopted_report(ctx, &adopted) {
                    return Ok(Err(error));
                }
                applied.extend(adopted);
            }
            let result = migrate(ctx, conn, &graph, &applied, &target, show_plan, fake);
            if result.is_err() || show_plan {
                return Ok(result);
            }
            Ok(post_migrate(ctx, conn))
        });
        match outcome {
            Ok(result) => result,
            Err(error) => Err(CommandError::new(format!("cannot migrate {}: {error}", settings.database_url))),
        }
    }
}

/// Runs the apps' post-migrate hooks and prints what they report.
fn post_migrate(ctx: &mut CommandContext<'_>, conn: &mut crate::db::Connection) -> Result<(), CommandError> {
    let apps: Vec<String> = ctx.project().apps().iter().map(|a| a.name().to_owned()).collect();
    let hooks: Vec<(String, crate::migrations::PostMigrateHook)> = ctx
        .project()
        .apps()
        .iter()
        .flat_map(|app| app.post_migrate.iter().map(|hook| (app.name().to_owned(), std::sync::Arc::clone(hook))))
        .collect();
    for (app, hook) in hooks {
        let mut event = crate::migrations::PostMigrate::new(conn, &apps);
        let outcome = hook(&mut event);
        for line in std::mem::take(&mut event.report) {
            ctx.write_line(&line)?;
        }
        outcome.map_err(|e| CommandError::new(format!("after migrating, the `{app}` app failed: {e}")))?;
    }
    Ok(())
}

/// Names the Diesel migrations `migrate` adopted from Diesel's table.
fn adopted_report(ctx: &mut CommandContext<'_>, adopted: &[Key]) -> Result<(), CommandError> {
    if adopted.is_empty() {
        return Ok(());
    }
    ctx.write_line(&format!("Adopting what Diesel applied ({}):", migrations::DIESEL_TABLE))?;
    for (app, name) in adopted {
        ctx.write_line(&format!("  Adopted {app}.{name} (not run again)"))?;
    }
    Ok(())
}

fn migrate(
    ctx: &mut CommandContext<'_>,
    conn: &mut crate::db::Connection,
    graph: &Graph,
    applied: &BTreeSet<Key>,
    target: &Target,
    show_plan: bool,
    fake: bool,
) -> Result<(), CommandError> {
    let plan = migrations::plan(graph, applied, target).map_err(|e| CommandError::new(e.to_string()))?;
    if show_plan {
        if plan.is_empty() {
            return ctx.write_line("No planned migration operations.");
        }
        ctx.write_line("Planned operations:")?;
        for (key, backwards) in &plan {
            let Some(migration) = graph.get(key) else { continue };
            ctx.write_line(&format!("{}{}", if *backwards { "Undo " } else { "" }, migration.label()))?;
            for operation in &migration.operations {
                ctx.write_line(&format!("    {}", operation.describe()))?;
            }
        }
        return Ok(());
    }
    if plan.is_empty() {
        return ctx.write_line("No migrations to apply.");
    }
    ctx.write_line("Running migrations:")?;
    for (key, backwards) in &plan {
        write!(ctx.stdout, "  {} {}.{}...", if *backwards { "Unapplying" } else { "Applying" }, key.0, key.1)?;
        ctx.stdout.flush()?;
        match migrations::run(conn, graph, key, *backwards, fake) {
            Ok(()) => ctx.write_line(if fake { " FAKED" } else { " OK" })?,
            Err(error) => {
                ctx.write_line(" FAILED")?;
                return Err(CommandError::new(error.to_string()));
            }
        }
    }
    Ok(())
}

/// `showmigrations [APP]...`: each app's migrations, `[X]` applied, `[ ]` not.
#[derive(Debug)]
pub(crate) struct ShowMigrations;

impl Command for ShowMigrations {
    fn name(&self) -> &'static str {
        "showmigrations"
    }
    fn help(&self) -> &'static str {
        "Lists each app's migrations: [X] applied, [ ] not yet."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::many("app", "only these apps")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let names = ctx.many().to_vec();
        let apps: Vec<String> = selected_apps(ctx, &names)?.iter().map(|a| a.name().to_owned()).collect();
        let graph = graph(ctx)?;
        let settings = ctx.settings()?.clone();
        let applied = recorded_or_adoptable(&settings, &graph).map_err(|e| {
            CommandError::new(format!("cannot read the migrations applied to {}: {e}", settings.database_url))
        })?;
        for app in &apps {
            ctx.write_line(app)?;
            let nodes = graph.app_nodes(app);
            if nodes.is_empty() {
                ctx.write_line(" (no migrations)")?;
            }
            for key in nodes {
                ctx.write_line(&format!(" [{}] {}", if applied.contains(key) { "X" } else { " " }, key.1))?;
            }
        }
        Ok(())
    }
}

/// `sqlmigrate APP NAME [--backwards]`: the SQL a migration runs on the configured database.
#[derive(Debug)]
pub(crate) struct SqlMigrate;

impl Command for SqlMigrate {
    fn name(&self) -> &'static str {
        "sqlmigrate"
    }
    fn help(&self) -> &'static str {
        "Prints the SQL a migration runs on the configured database (`--backwards`: to unapply it)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::required("app", "the app"),
            Argument::required("name", "the migration (`0002` or its full name)"),
            Argument::flag("backwards", "the SQL that unapplies it"),
        ]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let graph = graph(ctx)?;
        let app = app_with_migrations(ctx, ctx.arg("app").unwrap_or_default())?.name().to_owned();
        let key = resolve(&graph, &app, ctx.arg("name").unwrap_or_default())?;
        let backend = backend_of(ctx.settings()?);
        let steps = migrations::steps(&graph, &key, ctx.flag("backwards"), backend)
            .map_err(|e| CommandError::new(e.to_string()))?;
        let operations = graph.get(&key).map(|m| m.operations.clone()).unwrap_or_default();
        if backend == Backend::Sqlite {
            ctx.write_line("PRAGMA foreign_keys = OFF;")?;
        }
        ctx.write_line("BEGIN;")?;
        for (index, steps) in steps {
            if let Some(operation) = operations.get(index - 1) {
                ctx.write_line(&format!("--\n-- {}\n--", operation.describe()))?;
            }
            for step in steps {
                match step {
                    Step::Sql(sql) => ctx.write_line(&format!("{sql};"))?,
                    Step::Rust(_) => ctx.write_line("-- (a Rust data migration step: not SQL)")?,
                    Step::Diesel(diesel, backwards) => ctx.write_line(&format!(
                        "-- (the {} of the Diesel migration {})",
                        if backwards { "down.sql" } else { "up.sql" },
                        diesel.name()
                    ))?,
                }
            }
        }
        ctx.write_line("COMMIT;")?;
        if backend == Backend::Sqlite {
            ctx.write_line("PRAGMA foreign_keys = ON;")?;
        }
        Ok(())
    }
}
