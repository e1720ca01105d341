//! `manouche startproject NAME` and `manouche startapp NAME`: scaffolding that builds and runs as
//! written.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  manouche startproject NAME [DIRECTORY] [--manouche-path PATH]
      Creates a project NAME (a Cargo package with a first app, `pages`) in DIRECTORY (default ./NAME).
  manouche startapp NAME [--project DIRECTORY]
      Creates the app NAME in the project in DIRECTORY (default: the current directory).
";

const RESERVED: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
    "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "std", "core",
    "alloc", "test", "manouche", "main",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(message) => {
            print!("{message}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Failed(String),
}

fn run(args: &[String]) -> Result<String, Failure> {
    let (command, rest) = args.split_first().ok_or_else(|| Failure::Usage("missing command".into()))?;
    let mut positionals = Vec::new();
    let mut options: Vec<(String, String)> = Vec::new();
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        if let Some(name) = arg.strip_prefix("--") {
            if name == "help" {
                return Ok(USAGE.to_owned());
            }
            let value = iter.next().ok_or_else(|| Failure::Usage(format!("`--{name}` needs a value")))?;
            options.push((name.to_owned(), value.clone()));
        } else {
            positionals.push(arg.clone());
        }
    }
    let option = |name: &str| options.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let allowed: &[&str] = match command.as_str() {
        "startproject" => &["manouche-path"],
        "startapp" => &["project"],
        "help" | "--help" | "-h" => return Ok(USAGE.to_owned()),
        other => return Err(Failure::Usage(format!("unknown command `{other}`"))),
    };
    if let Some((name, _)) = options.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        return Err(Failure::Usage(format!("unknown option `--{name}` for {command}")));
    }
    match command.as_str() {
        "startproject" => {
            let [name, rest @ ..] = positionals.as_slice() else {
                return Err(Failure::Usage("startproject needs a NAME".into()));
            };
            if rest.len() > 1 {
                return Err(Failure::Usage(format!("unexpected argument `{}`", rest[1])));
            }
            let dir = rest.first().map_or_else(|| PathBuf::from(name), PathBuf::from);
            start_project(name, &dir, option("manouche-path").map(PathBuf::from))
        }
        _ => {
            let [name] = positionals.as_slice() else {
                return Err(Failure::Usage("startapp needs exactly one NAME".into()));
            };
            let dir = option("project").map_or_else(|| PathBuf::from("."), PathBuf::from);
            start_app(name, &dir)
        }
    }
}

fn check_name(kind: &str, name: &str) -> Result<(), Failure> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(Failure::Usage(format!(
            "`{name}` is not a valid {kind} name; use lowercase letters, digits and `_`, starting with a letter"
        )));
    }
    if RESERVED.contains(&name) {
        return Err(Failure::Usage(format!("`{name}` is reserved by Rust or Manouche; choose another {kind} name")));
    }
    Ok(())
}

/// The `manouche` dependency line: this framework's source when it is on this machine.
fn dependency(explicit: Option<PathBuf>) -> Result<String, Failure> {
    let source = match explicit {
        Some(path) => {
            Some(std::path::absolute(&path).map_err(|e| Failure::Failed(format!("bad --manouche-path: {e}")))?)
        }
        None => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))).filter(|p| p.join("Cargo.toml").is_file()),
    };
    Ok(match source {
        Some(path) if path.join("Cargo.toml").is_file() => {
            format!("manouche = {{ path = {:?} }}", path.display().to_string())
        }
        Some(path) => return Err(Failure::Failed(format!("no Cargo.toml in --manouche-path {}", path.display()))),
        None => format!("manouche = \"{}\"", env!("CARGO_PKG_VERSION")),
    })
}

/// A development secret key from the OS-seeded hasher keys; production sets SECRET_KEY. The
/// prefix marks it as committed with the code: `check --deploy` refuses it, as Django refuses its
/// `django-insecure-` keys.
fn secret_key() -> String {
    let mut key = String::from("manouche-insecure-");
    for i in 0..4u64 {
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u64(i);
        hasher
            .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        key.push_str(&format!("{:016x}", hasher.finish()));
    }
    key
}

fn write_files(root: &Path, files: &[(String, String)]) -> Result<(), Failure> {
    for (rel, contents) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::Failed(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(template.to_owned(), |text, (key, value)| text.replace(&format!("{{{{{key}}}}}"), value))
}

fn start_project(name: &str, dir: &Path, manouche_path: Option<PathBuf>) -> Result<String, Failure> {
    check_name("project", name)?;
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Failure::Failed(format!("{} already exists and is not empty", dir.display())));
    }
    let dependency = dependency(manouche_path)?;
    let key = secret_key();
    let vars = [
        ("project", name),
        ("app", "pages"),
        ("manouche_dependency", dependency.as_str()),
        ("secret_key", key.as_str()),
    ];
    let mut files = vec![
        ("Cargo.toml".to_owned(), fill(include_str!("../../scaffold/project/Cargo.toml.tmpl"), &vars)),
        ("manouche.toml".to_owned(), fill(include_str!("../../scaffold/project/manouche.toml.tmpl"), &vars)),
        (".gitignore".to_owned(), fill(include_str!("../../scaffold/project/gitignore.tmpl"), &vars)),
        ("src/main.rs".to_owned(), fill(include_str!("../../scaffold/project/main.rs.tmpl"), &vars)),
        ("templates/base.html".to_owned(), fill(include_str!("../../scaffold/project/base.html.tmpl"), &vars)),
    ];
    files.extend(app_files("pages", name));
    write_files(dir, &files)?;
    Ok(format!(
        "Created project `{name}` in {}.\nNext:\n  cd {}\n  cargo run            # serves http://127.0.0.1:8000/\n  cargo run -- help    # the management commands\n",
        dir.display(),
        dir.display()
    ))
}

fn app_files(app: &str, project: &str) -> Vec<(String, String)> {
    let vars = [("project", project), ("app", app)];
    vec![
        (format!("src/{app}/mod.rs"), fill(include_str!("../../scaffold/app/mod.rs.tmpl"), &vars)),
        (format!("src/{app}/views.rs"), fill(include_str!("../../scaffold/app/views.rs.tmpl"), &vars)),
        (format!("src/{app}/models.rs"), fill(include_str!("../../scaffold/app/models.rs.tmpl"), &vars)),
        (format!("src/{app}/migrations/mod.rs"), fill(include_str!("../../scaffold/app/migrations.rs.tmpl"), &vars)),
        (format!("src/{app}/urls.rs"), fill(include_str!("../../scaffold/app/urls.rs.tmpl"), &vars)),
        (format!("templates/{app}/index.html"), fill(include_str!("../../scaffold/app/index.html.tmpl"), &vars)),
        (format!("static/{app}/{app}.css"), fill(include_str!("../../scaffold/app/app.css.tmpl"), &vars)),
    ]
}

fn start_app(name: &str, project_dir: &Path) -> Result<String, Failure> {
    check_name("app", name)?;
    let manifest = project_dir.join("Cargo.toml");
    let manifest_text = std::fs::read_to_string(&manifest).map_err(|_| {
        Failure::Failed(format!(
            "{} has no Cargo.toml; run startapp inside a project or pass --project DIRECTORY",
            project_dir.display()
        ))
    })?;
    let project = manifest_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("name = \"").and_then(|r| r.strip_suffix('"')))
        .unwrap_or("project")
        .to_owned();
    if project_dir.join("src").join(name).exists() || project_dir.join("src").join(format!("{name}.rs")).exists() {
        return Err(Failure::Failed(format!("the module `{name}` already exists in {}/src", project_dir.display())));
    }
    write_files(project_dir, &app_files(name, &project))?;
    Ok(format!(
        "Created app `{name}` in {}/src/{name}.\nNext, in src/main.rs:\n  add `mod {name};`\n  add `.app({name}::app())` to the project\n",
        project_dir.display()
    ))
}
