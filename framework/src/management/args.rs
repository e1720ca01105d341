use std::collections::HashMap;

/// One argument a [`super::Command`] accepts.
#[derive(Debug, Clone)]
pub struct Argument {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Positional {
        required: bool,
    },
    /// Every remaining positional argument.
    Many,
    Flag,
    Option {
        value_name: &'static str,
    },
}

impl Argument {
    /// An optional positional argument.
    pub fn positional(name: &'static str, help: &'static str) -> Self {
        Argument { name, help, kind: Kind::Positional { required: false } }
    }

    /// A required positional argument.
    pub fn required(name: &'static str, help: &'static str) -> Self {
        Argument { name, help, kind: Kind::Positional { required: true } }
    }

    /// Any number of positional arguments (`[APP]...`), after the single ones.
    pub fn many(name: &'static str, help: &'static str) -> Self {
        Argument { name, help, kind: Kind::Many }
    }

    /// A `--name` switch.
    pub fn flag(name: &'static str, help: &'static str) -> Self {
        Argument { name, help, kind: Kind::Flag }
    }

    /// A `--name VALUE` (or `--name=VALUE`) option.
    pub fn option(name: &'static str, value_name: &'static str, help: &'static str) -> Self {
        Argument { name, help, kind: Kind::Option { value_name } }
    }

    pub(crate) fn usage(&self) -> String {
        match &self.kind {
            Kind::Positional { required: true } => self.name.to_uppercase(),
            Kind::Positional { required: false } => format!("[{}]", self.name.to_uppercase()),
            Kind::Many => format!("[{}]...", self.name.to_uppercase()),
            Kind::Flag => format!("[--{}]", self.name),
            Kind::Option { value_name } => format!("[--{} {value_name}]", self.name),
        }
    }
}

/// Arguments parsed against a command's [`Argument`]s.
#[derive(Debug, Default, Clone)]
pub struct ParsedArgs {
    values: HashMap<&'static str, String>,
    flags: Vec<&'static str>,
    many: Vec<String>,
}

impl ParsedArgs {
    /// A positional or option value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The values of a [`Argument::many`] argument, in order.
    pub fn many(&self) -> &[String] {
        &self.many
    }

    /// Whether a flag was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }
}

pub(crate) fn parse(spec: &[Argument], args: &[String]) -> Result<ParsedArgs, String> {
    let mut parsed = ParsedArgs::default();
    let mut positionals = spec.iter().filter(|a| matches!(a.kind, Kind::Positional { .. }));
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let Some(argument) =
                spec.iter().find(|a| a.name == name && !matches!(a.kind, Kind::Positional { .. } | Kind::Many))
            else {
                let options = spec.iter().filter(|a| !matches!(a.kind, Kind::Positional { .. } | Kind::Many));
                let suggestion = closest(name, options.map(|a| a.name))
                    .map(|close| format!(" (did you mean `--{close}`?)"))
                    .unwrap_or_default();
                return Err(format!("unknown option `--{name}`{suggestion}"));
            };
            match argument.kind {
                Kind::Flag if inline.is_some() => return Err(format!("`--{name}` takes no value")),
                Kind::Flag => parsed.flags.push(argument.name),
                Kind::Option { value_name } => {
                    let value = match inline {
                        Some(v) => v.to_owned(),
                        None => iter.next().cloned().ok_or_else(|| format!("`--{name}` needs a value {value_name}"))?,
                    };
                    parsed.values.insert(argument.name, value);
                }
                Kind::Positional { .. } | Kind::Many => {}
            }
        } else if arg.starts_with('-') && arg.len() > 1 {
            return Err(format!("unknown option `{arg}`"));
        } else {
            match positionals.next() {
                Some(argument) => {
                    parsed.values.insert(argument.name, arg.clone());
                }
                None if spec.iter().any(|a| a.kind == Kind::Many) => parsed.many.push(arg.clone()),
                None => return Err(format!("unexpected argument `{arg}`")),
            }
        }
    }
    for argument in positionals {
        if argument.kind == (Kind::Positional { required: true }) {
            return Err(format!("missing argument {}", argument.name.to_uppercase()));
        }
    }
    Ok(parsed)
}

/// The candidate closest to `typed` by edit distance, when close enough to be a typo: at most a
/// third of its length, as command-line tools suggest.
pub(crate) fn closest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (typed.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance over characters where swapping two neighbours counts once (`--claer`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: distance between the first i characters of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_positionals_flags_and_options() {
        let spec = [Argument::required("app", ""), Argument::flag("dry-run", ""), Argument::option("name", "NAME", "")];
        let parsed = parse(&spec, &strings(&["shop", "--dry-run", "--name=x"])).unwrap();
        assert_eq!(parsed.get("app"), Some("shop"));
        assert!(parsed.flag("dry-run"));
        assert_eq!(parsed.get("name"), Some("x"));
        assert_eq!(parse(&spec, &strings(&[])).unwrap_err(), "missing argument APP");
        assert_eq!(parse(&spec, &strings(&["a", "b"])).unwrap_err(), "unexpected argument `b`");
        assert_eq!(parse(&spec, &strings(&["a", "--name"])).unwrap_err(), "`--name` needs a value NAME");
    }
}
