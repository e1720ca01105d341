use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Argument, Command, CommandContext, CommandError};
use crate::conf::Settings;

pub(crate) fn builtin_commands() -> Vec<Arc<dyn Command>> {
    vec![
        Arc::new(RunServer),
        Arc::new(Check),
        Arc::new(Routes),
        Arc::new(CollectStatic),
        Arc::new(super::migrate::MakeMigrations),
        Arc::new(super::migrate::Migrate),
        Arc::new(super::migrate::ShowMigrations),
        Arc::new(super::migrate::SqlMigrate),
        Arc::new(super::fixtures::DumpData),
        Arc::new(super::fixtures::LoadData),
        Arc::new(crate::cache::CreateCacheTable),
    ]
}

/// A problem `check` found.
#[derive(Debug)]
struct Issue {
    error: bool,
    message: String,
}

/// Django's system checks: settings, URL patterns and names, middleware, folders.
fn system_checks(ctx: &CommandContext<'_>, deploy: bool) -> Vec<Issue> {
    let mut issues = Vec::new();
    let error = |message: String| Issue { error: true, message };
    let warning = |message: String| Issue { error: false, message };
    let project = ctx.project();
    let settings = match project.settings() {
        Ok(s) => s,
        Err(e) => return vec![error(e.to_string())],
    };
    if let Err(e) = settings.validate_for_serving() {
        issues.push(error(e.to_string()));
    }
    // Every registered `[section]`, with its environment variables, must fit its struct.
    for section in crate::conf::registered_sections() {
        if let Err(e) = (section.check)(settings) {
            issues.push(error(e.to_string()));
        }
    }
    match project.build() {
        Ok(site) => {
            for name in site.resolver.duplicate_names() {
                issues.push(error(format!(
                    "the URL name `{name}` is used by more than one pattern; reversing it is ambiguous"
                )));
            }
            issues.extend(crate::cache::unreadable_tables(settings, &site.state.db).into_iter().map(warning));
        }
        Err(e) => issues.push(error(e.to_string())),
    }
    let mut template_dirs: Vec<&PathBuf> = project.apps().iter().flat_map(|a| a.template_dirs.iter()).collect();
    template_dirs.extend(settings.template_dirs.iter());
    for dir in template_dirs {
        if !dir.is_dir() {
            issues.push(error(format!("template folder {} does not exist", dir.display())));
        }
    }
    for dir in &project.static_search_path(settings) {
        if !dir.is_dir() {
            issues.push(warning(format!("static folder {} does not exist", dir.display())));
        }
    }
    if let Some(message) = super::migrate::unapplied_warning(project, settings) {
        issues.push(warning(message));
    }
    if deploy {
        issues.extend(deployment_checks(settings));
    }
    issues
}

/// The prefix of keys generated for development (`startproject`, the example shop): Django's
/// `django-insecure-`.
pub(crate) const INSECURE_KEY_PREFIX: &str = "manouche-insecure-";

/// Django's deployment checks (`check --deploy`) that apply to these settings: W018 debug, W009
/// the secret key's length, variety and development prefix, W020 empty `allowed_hosts`. Each is
/// an error here, so a deployment pipeline stops on it.
fn deployment_checks(settings: &Settings) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut error = |message: String| issues.push(Issue { error: true, message });
    if settings.debug {
        error("`debug` is true; never deploy a site with debug on (it shows code, settings and queries)".into());
    }
    if settings.allowed_hosts.is_empty() {
        error(
            "`allowed_hosts` is empty; with debug off every request is refused with 400: list your host names".into(),
        );
    }
    match &settings.secret_key {
        None => error("`secret_key` is not set; set SECRET_KEY in the environment".into()),
        Some(key) => {
            let key = key.expose();
            let distinct: std::collections::BTreeSet<char> = key.chars().collect();
            if key.starts_with(INSECURE_KEY_PREFIX) {
                error(format!(
                    "`secret_key` is a development key (it starts with `{INSECURE_KEY_PREFIX}` and is committed with the \
                     code); generate a long random key and set SECRET_KEY in the environment"
                ));
            } else if key.chars().count() < 50 || distinct.len() < 5 {
                error(
                    "`secret_key` has fewer than 50 characters or fewer than 5 distinct ones; generate a long random \
                     key"
                    .into(),
                );
            }
            if let crate::conf::Origin::File(path) = &settings.secret_key_origin {
                issues.push(Issue {
                    error: false,
                    message: format!(
                        "`secret_key` is read from {}; keep it out of files committed with the code (SECRET_KEY)",
                        path.display()
                    ),
                });
            }
        }
    }
    if settings.allowed_hosts.iter().any(|h| h == "*") {
        issues.push(Issue { error: false, message: "`allowed_hosts` contains `*`; list your host names".into() });
    }
    issues.extend(https_checks(settings));
    issues
}

/// The rest of Django's deployment checklist (W001–W016): HTTPS, HSTS, secure cookies, and the
/// middleware that provide them. Warnings, as in Django: a site may have reasons.
fn https_checks(settings: &Settings) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut warn = |message: String| issues.push(Issue { error: false, message });
    let has = |name: &str| settings.middleware.iter().any(|m| m == name);
    if !has("manouche.security") {
        warn(
            "`manouche.security` is not in `middleware`: no security headers, HSTS or HTTPS redirect (Django's W001)"
                .into(),
        );
    }
    if !has("manouche.csrf") {
        warn("`manouche.csrf` is not in `middleware`: forms are not protected against CSRF (W003)".into());
    }
    match settings.section::<crate::middleware::SecuritySettings>() {
        Ok(security) => {
            if security.hsts_seconds == 0 {
                warn(
                    "`security.hsts_seconds` is 0: browsers may still reach the site over HTTP; set it (start small,                      then a year) once the site works over HTTPS (W004)"
                        .into(),
                );
            } else if !security.hsts_include_subdomains {
                warn(
                    "`security.hsts_include_subdomains` is false: subdomains can still be reached over HTTP (W005)"
                        .into(),
                );
            }
            if !security.ssl_redirect {
                warn(
                    "`security.ssl_redirect` is false: plain HTTP is served; set it unless the proxy redirects (W008)"
                        .into(),
                );
            }
        }
        Err(error) => issues.push(Issue { error: true, message: error.to_string() }),
    }
    let mut warn = |message: String| issues.push(Issue { error: false, message });
    if has("manouche.sessions")
        && let Ok(sessions) = settings.section::<crate::sessions::SessionSettings>()
        && !sessions.cookie_secure
    {
        warn("`sessions.cookie_secure` is false: the session cookie can leak over HTTP (W012)".into());
    }
    if has("manouche.csrf")
        && let Ok(csrf) = settings.section::<crate::csrf::CsrfSettings>()
        && !csrf.cookie_secure
    {
        warn("`csrf.cookie_secure` is false: the CSRF cookie can leak over HTTP (W016)".into());
    }
    if let Ok(proxy) = settings.section::<crate::http::ProxySettings>()
        && proxy.trusted_proxies.is_empty()
        && (proxy.secure_proxy_ssl_header.is_some() || proxy.use_x_forwarded_host)
    {
        warn(
            "`proxy.secure_proxy_ssl_header` or `use_x_forwarded_host` is set but `proxy.trusted_proxies` is empty:              forwarded headers are believed from trusted proxies only, so they are ignored"
                .into(),
        );
    }
    issues
}

fn report(ctx: &mut CommandContext<'_>, issues: &[Issue]) -> Result<bool, CommandError> {
    for issue in issues {
        let line = format!("{}: {}", if issue.error { "ERROR" } else { "WARNING" }, issue.message);
        if issue.error {
            writeln!(ctx.stderr, "{line}")?;
        } else {
            writeln!(ctx.stdout, "{line}")?;
        }
    }
    let errors = issues.iter().filter(|i| i.error).count();
    match issues.len() {
        0 => ctx.write_line("System check identified no issues.")?,
        n => ctx.write_line(&format!(
            "System check identified {n} issue{} ({errors} error{}).",
            plural(n),
            plural(errors)
        ))?,
    }
    Ok(errors == 0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[derive(Debug)]
struct Check;

impl Command for Check {
    fn name(&self) -> &'static str {
        "check"
    }
    fn help(&self) -> &'static str {
        "Checks the project for problems: settings, URL patterns, middleware, folders."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::flag("deploy", "also check settings that matter in production")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let issues = system_checks(ctx, ctx.flag("deploy"));
        if report(ctx, &issues)? { Ok(()) } else { Err(CommandError::new("system check found errors")) }
    }
}

#[derive(Debug)]
struct RunServer;

impl Command for RunServer {
    fn name(&self) -> &'static str {
        "runserver"
    }
    fn help(&self) -> &'static str {
        "Serves the project over HTTP (default address from the `bind` setting)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![
            Argument::positional("addrport", "HOST:PORT or PORT to listen on"),
            Argument::option("workers", "N", "worker threads (default: the `workers` setting)"),
        ]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let settings = ctx.settings()?.clone();
        let issues = system_checks(ctx, false);
        if issues.iter().any(|i| i.error) {
            report(ctx, &issues)?;
            return Err(CommandError::new("system check found errors; fix them before serving"));
        }
        for issue in issues.iter().filter(|i| !i.error) {
            ctx.write_line(&format!("WARNING: {}", issue.message))?;
        }
        let site = ctx.project().build()?;
        let addr = match ctx.arg("addrport") {
            Some(port) if port.parse::<u16>().is_ok() => format!("127.0.0.1:{port}"),
            Some(addr) => addr.to_owned(),
            None => settings.bind.clone(),
        };
        let workers = match ctx.arg("workers") {
            Some(n) => n.parse::<usize>().ok().filter(|n| (1..=1024).contains(n)).ok_or_else(|| {
                CommandError::usage(format!("`--workers` takes a number from 1 to 1024, found `{n}`"))
            })?,
            None => settings.workers,
        };
        crate::project::install_logger(settings.log_level);
        let system = actix_web::rt::System::new();
        let grace = settings.shutdown_timeout_seconds;
        system.block_on(async {
            let factory_site = Arc::clone(&site);
            let server_settings: crate::http::ServerSettings =
                settings.section().map_err(|e| CommandError::new(e.to_string()))?;
            let server = crate::http::apply_server_settings!(
                &server_settings,
                actix_web::HttpServer::new(move || factory_site.actix_app())
            )
            .workers(workers)
            .shutdown_timeout(grace)
            .disable_signals()
            .bind(addr.as_str())
            .map_err(|e| CommandError::new(format!("cannot listen on {addr}: {e}")))?;
            for bound in server.addrs() {
                ctx.write_line(&format!("Starting development server at http://{bound}/"))?;
            }
            ctx.write_line(&format!(
                "{workers} worker{}, debug {}. Quit the server with CONTROL-C \
                 (requests in flight get {grace} s to finish; press it twice to stop at once).",
                plural(workers),
                if settings.debug { "on" } else { "off" }
            ))?;
            ctx.stdout.flush()?;
            let server = server.run();
            actix_web::rt::spawn(super::shutdown::on_signals(server.handle(), grace));
            server.await.map_err(|e| CommandError::new(format!("server error: {e}")))
        })
    }
}

#[derive(Debug)]
struct Routes;

impl Command for Routes {
    fn name(&self) -> &'static str {
        "routes"
    }
    fn help(&self) -> &'static str {
        "Lists every URL pattern with its methods, name and view."
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let site = ctx.project().build()?;
        let rows: Vec<[String; 4]> = site
            .resolver
            .routes()
            .iter()
            .map(|r| {
                let methods = if r.methods().is_empty() { "ANY".to_owned() } else { r.methods().join(",") };
                [r.pattern(), methods, r.name().unwrap_or("-").to_owned(), r.view_path().to_owned()]
            })
            .collect();
        let header = ["PATTERN".to_owned(), "METHODS".to_owned(), "NAME".to_owned(), "VIEW".to_owned()];
        let widths: Vec<usize> =
            (0..4).map(|i| rows.iter().chain([&header]).map(|r| r[i].len()).max().unwrap_or(0)).collect();
        for row in std::iter::once(&header).chain(rows.iter()) {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
            ctx.write_line(line.trim_end())?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct CollectStatic;

impl Command for CollectStatic {
    fn name(&self) -> &'static str {
        "collectstatic"
    }
    fn help(&self) -> &'static str {
        "Copies `static_dirs` and every app's static files into `static_root` (the first file found wins)."
    }
    fn arguments(&self) -> Vec<Argument> {
        vec![Argument::flag("clear", "delete the existing files in `static_root` first")]
    }
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let settings = ctx.settings()?;
        let root = settings.static_root.clone();
        let sources = ctx.project().static_search_path(settings);
        for source in &sources {
            if root.starts_with(source) || source.starts_with(&root) {
                return Err(CommandError::new(format!(
                    "`static_root` {} overlaps the static folder {}; choose a separate folder",
                    root.display(),
                    source.display()
                )));
            }
        }
        if ctx.flag("clear") && root.exists() {
            std::fs::remove_dir_all(&root)
                .map_err(|e| CommandError::new(format!("cannot clear {}: {e}", root.display())))?;
        }
        let mut files: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
        for source in &sources {
            if source.is_dir() {
                walk(source, source, &mut files)
                    .map_err(|e| CommandError::new(format!("cannot read {}: {e}", source.display())))?;
            }
        }
        let mut copied = 0;
        for (rel, from) in &files {
            let to = root.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| CommandError::new(format!("cannot create {}: {e}", parent.display())))?;
            }
            std::fs::copy(from, &to)
                .map_err(|e| CommandError::new(format!("cannot copy {} to {}: {e}", from.display(), to.display())))?;
            copied += 1;
        }
        ctx.write_line(&format!("{copied} static file{} copied to {}.", plural(copied), root.display()))
    }
}

/// Adds every file below `dir` keyed by its path relative to `base`, keeping earlier entries.
fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(base, &path, files)?;
        } else if let Ok(rel) = path.strip_prefix(base) {
            files.entry(rel.to_path_buf()).or_insert(path);
        }
    }
    Ok(())
}
