use std::sync::Arc;

use crate::views::{BoxedView, View};

/// An app's URL patterns, in order.
#[derive(Debug, Clone, Default)]
pub struct Urls {
    pub(crate) patterns: Vec<Pattern>,
}

impl Urls {
    /// An empty list.
    pub fn new() -> Self {
        Urls::default()
    }

    /// Appends a pattern.
    #[must_use]
    pub fn push(mut self, pattern: Pattern) -> Self {
        self.patterns.push(pattern);
        self
    }

    /// The patterns, in order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }
}

impl From<Vec<Pattern>> for Urls {
    fn from(patterns: Vec<Pattern>) -> Self {
        Urls { patterns }
    }
}

impl FromIterator<Pattern> for Urls {
    fn from_iter<I: IntoIterator<Item = Pattern>>(iter: I) -> Self {
        Urls { patterns: iter.into_iter().collect() }
    }
}

/// Builds [`Urls`] from patterns, like Django's `urlpatterns = [...]`.
///
/// # Examples
///
/// ```
/// use manouche::prelude::*;
/// #[view(GET)]
/// async fn home() -> &'static str { "home" }
/// let urls = urlpatterns![manouche::urls::path("", home)];
/// assert_eq!(urls.patterns().len(), 1);
/// ```
#[macro_export]
macro_rules! urlpatterns {
    ($($pattern:expr),* $(,)?) => {
        $crate::urls::Urls::from(::std::vec![$($pattern),*])
    };
}

/// One entry of [`Urls`].
#[derive(Debug, Clone)]
pub struct Pattern {
    pub(crate) kind: PatternKind,
    pub(crate) name: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum PatternKind {
    Route { route: String, view: BoxedView },
    Regex { regex: String, view: BoxedView },
    Include { route: String, urls: Urls, namespace: Option<String> },
}

impl Pattern {
    /// Names the pattern for reversing, replacing the view's own name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Gives an `include` its own namespace (`"shop:api:detail"`).
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        if let PatternKind::Include { namespace: ns, .. } = &mut self.kind {
            *ns = Some(namespace.into());
        }
        self
    }
}

/// A route with typed converters, e.g. `"products/{slug:slug}/"`.
pub fn path(route: impl Into<String>, view: impl View) -> Pattern {
    Pattern { kind: PatternKind::Route { route: route.into(), view: Arc::new(view) }, name: None }
}

/// A regular expression with named groups, e.g. `r"^archive/(?P<year>[0-9]{4})/$"`.
///
/// The expression is matched against the path without its leading `/`; `^` and `$` are implied.
pub fn re_path(regex: impl Into<String>, view: impl View) -> Pattern {
    Pattern { kind: PatternKind::Regex { regex: regex.into(), view: Arc::new(view) }, name: None }
}

/// Mounts other patterns under a route prefix, e.g. `include("api/", api::urls())`.
pub fn include(prefix: impl Into<String>, urls: Urls) -> Pattern {
    Pattern { kind: PatternKind::Include { route: prefix.into(), urls, namespace: None }, name: None }
}

/// A route compiled to a regular expression and a template for reversing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    pub(crate) regex: String,
    pub(crate) params: Vec<String>,
    pub(crate) segments: Vec<Segment>,
    pub(crate) reversible: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Segment {
    Literal(String),
    Param { name: String, regex: String },
}

impl Compiled {
    pub(crate) fn concat(&self, other: &Compiled) -> Compiled {
        let mut segments = self.segments.clone();
        segments.extend(other.segments.iter().cloned());
        let mut params = self.params.clone();
        params.extend(other.params.iter().cloned());
        Compiled {
            regex: format!("{}{}", self.regex, other.regex),
            params,
            segments,
            reversible: self.reversible && other.reversible,
        }
    }

    /// The pattern as a person reads it, e.g. `/products/{id:int}/`.
    pub(crate) fn display(&self) -> String {
        if !self.reversible {
            return format!("/{}", self.regex);
        }
        let mut out = String::from("/");
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Param { name, .. } => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        out
    }
}

fn converter_regex(name: &str) -> Option<&'static str> {
    Some(match name {
        "str" => "[^/]+",
        "int" => "[0-9]+",
        "slug" => "[-a-zA-Z0-9_]+",
        "uuid" => "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "path" => ".+",
        _ => return None,
    })
}

pub(crate) fn compile_route(route: &str) -> Result<Compiled, String> {
    if route.starts_with('/') {
        return Err(format!("route `{route}` must not start with `/`"));
    }
    let mut compiled = Compiled { reversible: true, ..Compiled::default() };
    let mut rest = route;
    while let Some(open) = rest.find('{') {
        let literal = &rest[..open];
        if literal.contains('}') {
            return Err(format!("route `{route}` has an unmatched `}}`"));
        }
        push_literal(&mut compiled, literal);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("route `{route}` has an unclosed `{{`"))?;
        let inner = &after[..close];
        let (name, converter) = inner.split_once(':').unwrap_or((inner, "str"));
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(format!("route `{route}` has an invalid parameter name `{name}`"));
        }
        if compiled.params.iter().any(|p| p == name) {
            return Err(format!("route `{route}` uses parameter `{name}` twice"));
        }
        let regex = converter_regex(converter).ok_or_else(|| {
            format!(
                "route `{route}` uses unknown converter `{converter}`; expected `str`, `int`, `slug`, `uuid` or `path`"
            )
        })?;
        compiled.regex.push_str(&format!("(?P<{name}>{regex})"));
        compiled.params.push(name.to_owned());
        compiled.segments.push(Segment::Param { name: name.to_owned(), regex: regex.to_owned() });
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("route `{route}` has an unmatched `}}`"));
    }
    push_literal(&mut compiled, rest);
    Ok(compiled)
}

fn push_literal(compiled: &mut Compiled, literal: &str) {
    if literal.is_empty() {
        return;
    }
    compiled.regex.push_str(&regex::escape(literal));
    compiled.segments.push(Segment::Literal(literal.to_owned()));
}

/// Compiles a `re_path` expression; it is reversible when everything outside its named groups is
/// literal text, as in Django.
pub(crate) fn compile_regex(source: &str) -> Result<Compiled, String> {
    let body = source.strip_prefix('^').unwrap_or(source);
    let body = body.strip_suffix('$').filter(|b| !b.ends_with('\\')).unwrap_or(body);
    if body.starts_with('/') {
        return Err(format!("regex `{source}` must not start with `/`"));
    }
    let parsed = regex::Regex::new(&format!("^(?:{body})$")).map_err(|e| format!("invalid regex `{source}`: {e}"))?;
    let params: Vec<String> = parsed.capture_names().flatten().map(str::to_owned).collect();
    let mut compiled = Compiled { regex: format!("(?:{body})"), params, segments: Vec::new(), reversible: true };
    // Reversing: walk the source, turning named groups into parameters and unescaping literals.
    let mut literal = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) if !escaped.is_ascii_alphanumeric() => literal.push(escaped),
                _ => compiled.reversible = false,
            },
            '(' if body[i..].starts_with("(?P<") => {
                let Some(end) = matching_paren(&body[i..]) else {
                    compiled.reversible = false;
                    break;
                };
                let group = &body[i + 4..i + end];
                let Some((name, regex)) = group.split_once('>') else {
                    compiled.reversible = false;
                    break;
                };
                if !literal.is_empty() {
                    compiled.segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                compiled.segments.push(Segment::Param { name: name.to_owned(), regex: regex.to_owned() });
                while chars.peek().is_some_and(|(j, _)| *j <= i + end) {
                    chars.next();
                }
            }
            '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' => compiled.reversible = false,
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        compiled.segments.push(Segment::Literal(literal));
    }
    Ok(compiled)
}

/// The index of the `)` closing the group opened at index 0.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_compile_to_anchored_groups() {
        let c = compile_route("products/{id:int}/").unwrap();
        assert_eq!(c.regex, "products/(?P<id>[0-9]+)/");
        assert_eq!(c.params, ["id"]);
        assert_eq!(c.display(), "/products/{id}/");
    }

    #[test]
    fn bad_routes_are_explained() {
        assert!(compile_route("/x/").unwrap_err().contains("must not start with `/`"));
        assert!(compile_route("{id:integer}/").unwrap_err().contains("unknown converter `integer`"));
        assert!(compile_route("{id/").unwrap_err().contains("unclosed"));
        assert!(compile_route("{a}/{a}/").unwrap_err().contains("twice"));
    }

    #[test]
    fn simple_regexes_are_reversible() {
        let c = compile_regex(r"^archive/(?P<year>[0-9]{4})/(?P<slug>[a-z\-]+)\.html$").unwrap();
        assert!(c.reversible);
        assert_eq!(c.params, ["year", "slug"]);
        assert_eq!(c.display(), "/archive/{year}/{slug}.html");
        assert!(!compile_regex(r"^(a|b)/$").unwrap().reversible);
        assert!(compile_regex(r"^(?P<x>[0-9]+/$").is_err());
    }
}
