use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;

use regex::{Regex, RegexSet};

use super::pattern::{Compiled, PatternKind, Segment, Urls, compile_regex, compile_route};
use super::reverse::{NoReverseMatch, encode_arg};
use crate::views::BoxedView;

/// One flattened URL pattern: the full path, its qualified name and its view.
#[derive(Clone)]
pub struct Route {
    compiled: Compiled,
    regex: Regex,
    /// Shared with every [`ResolverMatch`] of the route: no copy per request.
    name: Option<std::sync::Arc<str>>,
    view: BoxedView,
}

impl Route {
    /// The one path (without its leading `/`) this route matches, when it has no parameter and
    /// its regex is exactly that text.
    fn literal_path(&self) -> Option<String> {
        let mut text = String::new();
        for segment in &self.compiled.segments {
            match segment {
                Segment::Literal(literal) => text.push_str(literal),
                Segment::Param { .. } => return None,
            }
        }
        (self.regex.as_str() == format!("^{}$", regex::escape(&text))).then_some(text)
    }

    /// The pattern as written, from the site root, e.g. `/products/{slug}/`.
    pub fn pattern(&self) -> String {
        self.compiled.display()
    }

    /// The qualified name, e.g. `shop:product_detail`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The name, shared (what a request's [`ResolverMatch`] holds).
    pub(crate) fn shared_name(&self) -> Option<std::sync::Arc<str>> {
        self.name.clone()
    }

    /// The HTTP methods the view accepts (empty: any).
    pub fn methods(&self) -> &'static [&'static str] {
        self.view.info().methods
    }

    /// The view's Rust path, e.g. `shop::views::product_detail`.
    pub fn view_path(&self) -> &'static str {
        self.view.info().path
    }

    /// The parameter names of the pattern, in order.
    pub fn params(&self) -> &[String] {
        &self.compiled.params
    }

    pub(crate) fn view(&self) -> &BoxedView {
        &self.view
    }

    pub(crate) fn allows(&self, method: &str) -> bool {
        let methods = self.methods();
        methods.is_empty() || methods.contains(&method) || (method == "HEAD" && methods.contains(&"GET"))
    }

    /// The `Allow` header value.
    pub fn allow_header(&self) -> String {
        let mut methods: Vec<&str> = self.methods().to_vec();
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            methods.push("HEAD");
        }
        methods.push("OPTIONS");
        methods.join(", ")
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route").field("pattern", &self.pattern()).field("name", &self.name).finish_non_exhaustive()
    }
}

/// A matched request: the route and its captured parameters (percent-decoded).
#[derive(Debug)]
pub struct Match<'r> {
    /// The route that matched.
    pub route: &'r Route,
    /// Its position in [`Resolver::routes`].
    pub index: usize,
    /// `(name, value)` for each parameter, in pattern order.
    pub params: Vec<(String, String)>,
}

/// What resolving a path and method gives.
#[derive(Debug)]
#[non_exhaustive]
pub enum Resolution<'r> {
    /// A route matched and accepts the method.
    Found(Match<'r>),
    /// The first matching route does not accept the method.
    MethodNotAllowed(&'r Route),
    /// Nothing matched.
    NotFound,
}

/// Every URL pattern of a project, flattened and compiled once at start-up.
pub struct Resolver {
    routes: Vec<Route>,
    set: RegexSet,
    /// Paths of routes without parameters (`about/`), each with the route that answers it, so
    /// the commonest lookups are one hash instead of the regex set.
    literal: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    by_view: HashMap<TypeId, usize>,
    duplicates: Vec<String>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").field("routes", &self.routes).finish_non_exhaustive()
    }
}

impl Resolver {
    /// Compiles `(namespace, prefix, urls)` mounts in order.
    ///
    /// # Errors
    ///
    /// Every invalid route or regex, one message each.
    pub fn new<'a>(
        mounts: impl IntoIterator<Item = (Option<&'a str>, &'a str, &'a Urls)>,
    ) -> Result<Self, Vec<String>> {
        let mut routes = Vec::new();
        let mut errors = Vec::new();
        for (namespace, prefix, urls) in mounts {
            match compile_route(prefix) {
                Ok(prefix) => {
                    let namespaces: Vec<String> = namespace.map(str::to_owned).into_iter().collect();
                    flatten(&prefix, &namespaces, urls, &mut routes, &mut errors);
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let set = RegexSet::new(routes.iter().map(|r: &Route| r.regex.as_str())).map_err(|e| vec![e.to_string()])?;
        let mut by_name = HashMap::new();
        let mut by_view = HashMap::new();
        let mut duplicates = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            if let Some(name) = &route.name {
                if by_name.contains_key(&**name) {
                    duplicates.push(name.to_string());
                } else {
                    by_name.insert(name.to_string(), i);
                }
            }
            by_view.entry(route.view.id()).or_insert(i);
        }
        // The answer for a literal path is the first route matching it, which may be an earlier
        // route with parameters: worked out here once, as the regex set would each time.
        let mut literal = HashMap::new();
        for route in &routes {
            if let Some(text) = route.literal_path()
                && let Some(first) = set.matches(&text).iter().next()
            {
                literal.entry(text).or_insert(first);
            }
        }
        Ok(Resolver { routes, set, literal, by_name, by_view, duplicates })
    }

    /// Every route, in matching order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Names given to more than one route.
    pub fn duplicate_names(&self) -> &[String] {
        &self.duplicates
    }

    /// Resolves a percent-decoded path (with its leading `/`) for a method.
    pub fn resolve(&self, path: &str, method: &str) -> Resolution<'_> {
        let path = path.strip_prefix('/').unwrap_or(path);
        let index = match self.literal.get(path) {
            Some(&index) => index,
            None => match self.set.matches(path).iter().next() {
                Some(index) => index,
                None => return Resolution::NotFound,
            },
        };
        let route = &self.routes[index];
        if !route.allows(method) {
            return Resolution::MethodNotAllowed(route);
        }
        if route.compiled.params.is_empty() {
            return Resolution::Found(Match { route, index, params: Vec::new() });
        }
        let params = match route.regex.captures(path) {
            Some(captures) => route
                .compiled
                .params
                .iter()
                .filter_map(|name| captures.name(name).map(|m| (name.clone(), m.as_str().to_owned())))
                .collect(),
            None => Vec::new(),
        };
        Resolution::Found(Match { route, index, params })
    }

    /// Whether any route matches the path, whatever the method.
    pub fn matches(&self, path: &str) -> bool {
        self.set.is_match(path.strip_prefix('/').unwrap_or(path))
    }

    /// Builds the path of the route named `name` (e.g. `"shop:product_detail"`).
    ///
    /// # Errors
    ///
    /// [`NoReverseMatch`] for an unknown name, a missing or extra argument, or an argument the
    /// pattern's converter rejects.
    pub fn reverse(&self, name: &str, args: &[(&str, String)]) -> Result<String, NoReverseMatch> {
        let index = *self.by_name.get(name).ok_or_else(|| NoReverseMatch::UnknownName { name: name.to_owned() })?;
        fill(&self.routes[index], name, args)
    }

    pub(crate) fn reverse_view(
        &self,
        view: TypeId,
        view_name: &str,
        args: &[(&str, String)],
    ) -> Result<String, NoReverseMatch> {
        let index =
            *self.by_view.get(&view).ok_or_else(|| NoReverseMatch::ViewNotMounted { view: view_name.to_owned() })?;
        fill(&self.routes[index], view_name, args)
    }
}

fn flatten(prefix: &Compiled, namespaces: &[String], urls: &Urls, routes: &mut Vec<Route>, errors: &mut Vec<String>) {
    for pattern in &urls.patterns {
        let compiled = match &pattern.kind {
            PatternKind::Route { route, .. } | PatternKind::Include { route, .. } => compile_route(route),
            PatternKind::Regex { regex, .. } => compile_regex(regex),
        };
        let compiled = match compiled {
            Ok(c) => prefix.concat(&c),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match &pattern.kind {
            PatternKind::Include { urls, namespace, .. } => {
                let mut inner = namespaces.to_vec();
                inner.extend(namespace.iter().cloned());
                flatten(&compiled, &inner, urls, routes, errors);
            }
            PatternKind::Route { view, .. } | PatternKind::Regex { view, .. } => {
                let info = view.info();
                let mut declared: Vec<&str> = info.params.to_vec();
                let mut found: Vec<&str> = compiled.params.iter().map(String::as_str).collect();
                declared.sort_unstable();
                found.sort_unstable();
                if info.checks_params && declared != found {
                    errors.push(format!(
                        "pattern `{}` has parameters {:?} but view `{}` takes {:?}",
                        compiled.display(),
                        found,
                        info.path,
                        declared
                    ));
                    continue;
                }
                let name = pattern.name.clone().or_else(|| (!info.name.is_empty()).then(|| info.name.to_owned()));
                let name =
                    name.map(|n| if namespaces.is_empty() { n } else { format!("{}:{n}", namespaces.join(":")) });
                let regex = match Regex::new(&format!("^{}$", compiled.regex)) {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(format!("pattern `{}`: {e}", compiled.display()));
                        continue;
                    }
                };
                routes.push(Route { compiled, regex, name: name.map(Into::into), view: view.clone() });
            }
        }
    }
}

fn fill(route: &Route, name: &str, args: &[(&str, String)]) -> Result<String, NoReverseMatch> {
    if !route.compiled.reversible {
        return Err(NoReverseMatch::NotReversible { name: name.to_owned(), pattern: route.pattern() });
    }
    for (arg, _) in args {
        if !route.compiled.params.iter().any(|p| p == arg) {
            return Err(NoReverseMatch::UnexpectedArgument { name: name.to_owned(), argument: (*arg).to_owned() });
        }
    }
    let mut out = String::from("/");
    for segment in &route.compiled.segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Param { name: param, regex } => {
                let value = args.iter().find(|(arg, _)| arg == param).map(|(_, v)| v).ok_or_else(|| {
                    NoReverseMatch::MissingArgument { name: name.to_owned(), argument: param.clone() }
                })?;
                let accepts = Regex::new(&format!("^(?:{regex})$")).is_ok_and(|r| r.is_match(value));
                if !accepts {
                    return Err(NoReverseMatch::InvalidArgument {
                        name: name.to_owned(),
                        argument: param.clone(),
                        value: value.clone(),
                        expected: regex.clone(),
                    });
                }
                out.push_str(&encode_arg(value));
            }
        }
    }
    Ok(out)
}

/// The route a request resolved to: Django's `request.resolver_match`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResolverMatch {
    /// The route's qualified name, e.g. `shop:product_detail` (shared with the route, so a
    /// request costs no copy of it).
    pub name: Option<std::sync::Arc<str>>,
    /// The view's Rust path.
    pub view: &'static str,
    /// The view is exempt from CSRF checks ([`crate::views::ViewInfo::csrf_exempt`]).
    pub csrf_exempt: bool,
}
