//! The caching decorators `#[view]` reads: `#[cache_page]`, `#[never_cache]`,
//! `#[cache_control]`, `#[vary_on_cookie]`, `#[vary_on_headers]` and `#[ratelimit]`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Token};

use crate::diagnostics::Errors;

/// The attribute names of this file.
pub(crate) const DECORATORS: &[&str] =
    &["cache_page", "never_cache", "cache_control", "vary_on_cookie", "vary_on_headers", "ratelimit"];

/// `#[cache_page(timeout, cache = "...", key_prefix = "...", depends_on = [A, B])]`.
pub(crate) struct CachePageDef {
    timeout: Expr,
    cache: Option<String>,
    key_prefix: Option<String>,
    depends_on: Vec<syn::Path>,
}

/// A response header decorator, in the order written.
pub(crate) enum HeaderOpDef {
    NeverCache,
    CacheControl(Vec<(String, Option<Expr>)>),
    Vary(Vec<String>),
}

/// `#[ratelimit(key = ..., rate = "...", method = ..., group = "...", cache = "...")]`.
pub(crate) struct RateLimitDef {
    key: TokenStream,
    count: u64,
    period: u64,
    methods: Vec<String>,
    group: Option<String>,
    cache: Option<String>,
}

/// Everything the caching decorators of one view declare.
#[derive(Default)]
pub(crate) struct Caching {
    pub(crate) page: Option<CachePageDef>,
    pub(crate) headers: Vec<HeaderOpDef>,
    pub(crate) limits: Vec<RateLimitDef>,
}

/// The `Cache-Control` directives `#[cache_control]` takes: those with seconds, then flags.
const SECONDS: &[&str] = &["max_age", "s_maxage", "stale_while_revalidate", "stale_if_error"];
const FLAGS: &[&str] =
    &["public", "private", "no_cache", "no_store", "no_transform", "must_revalidate", "proxy_revalidate", "immutable"];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

fn string(expr: &Expr) -> Option<(String, Span)> {
    match expr {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some((s.value(), s.span())),
        _ => None,
    }
}

fn assign_name(expr: &Expr) -> Option<(String, &Expr, Span)> {
    let Expr::Assign(assign) = expr else { return None };
    let Expr::Path(path) = &*assign.left else { return None };
    let ident = path.path.get_ident()?;
    Some((ident.to_string(), &assign.right, ident.span()))
}

/// Parses django-ratelimit's rate notation (`5/m`, `100/h`, `5/10m`): `(count, seconds)`.
pub(crate) fn parse_rate(text: &str) -> Result<(u64, u64), String> {
    let Some((count, per)) = text.split_once('/') else {
        return Err(format!("`{text}` is not a rate: write requests/period, e.g. \"5/m\" or \"100/h\""));
    };
    let count: u64 = count.trim().parse().map_err(|_| format!("`{count}` is not a number of requests"))?;
    let per = per.trim();
    let at = per.find(|c: char| !c.is_ascii_digit()).unwrap_or(per.len());
    let (multiple, unit) = per.split_at(at);
    let multiple: u64 = if multiple.is_empty() { 1 } else { multiple.parse().map_err(|_| "bad period".to_owned())? };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        other => {
            return Err(format!(
                "unknown period `{other}` in `{text}`: use s, m, h or d (\"5/m\" is five a minute, \"5/10m\" five per ten minutes)"
            ));
        }
    };
    if multiple == 0 {
        return Err(format!("the period of `{text}` is zero"));
    }
    Ok((count, multiple * seconds))
}

fn valid_header(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Caching {
    /// Reads one decorator attribute named `name`.
    pub(crate) fn parse(&mut self, name: &str, attr: &syn::Attribute, errors: &mut Errors) {
        let span = attr.path().span();
        match name {
            "never_cache" | "vary_on_cookie" => {
                if attr.meta.require_path_only().is_err() {
                    errors.push(syn::Error::new(attr.meta.span(), format!("`#[{name}]` takes no arguments")));
                } else if name == "never_cache" {
                    self.headers.push(HeaderOpDef::NeverCache);
                } else {
                    self.headers.push(HeaderOpDef::Vary(vec!["Cookie".into()]));
                }
            }
            "vary_on_headers" => {
                let Ok(list) = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
                    errors.push(syn::Error::new(
                        span,
                        "`#[vary_on_headers(\"Accept-Language\", ...)]` lists header names",
                    ));
                    return;
                };
                let mut names = Vec::new();
                for expr in &list {
                    match string(expr) {
                        Some((text, _)) if valid_header(&text) => names.push(text),
                        Some((text, span)) => {
                            errors.push(syn::Error::new(span, format!("`{text}` is not an HTTP header name")));
                        }
                        None => {
                            errors.push(syn::Error::new(expr.span(), "a header name is a string: \"Accept-Language\""))
                        }
                    }
                }
                if list.is_empty() {
                    errors.push(syn::Error::new(
                        span,
                        "name at least one header: `#[vary_on_headers(\"Accept-Language\")]`",
                    ));
                }
                self.headers.push(HeaderOpDef::Vary(names));
            }
            "cache_control" => self.parse_cache_control(attr, errors),
            "cache_page" => self.parse_cache_page(attr, errors),
            _ => self.parse_ratelimit(attr, errors),
        }
    }

    fn parse_cache_control(&mut self, attr: &syn::Attribute, errors: &mut Errors) {
        let span = attr.path().span();
        let Ok(list) = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            errors.push(syn::Error::new(span, "`#[cache_control(max_age = 3600, public)]` lists directives"));
            return;
        };
        let mut directives = Vec::new();
        for expr in &list {
            if let Some((name, value, name_span)) = assign_name(expr) {
                if SECONDS.contains(&name.as_str()) {
                    directives.push((name.replace('_', "-"), Some(value.clone())));
                } else {
                    errors.push(syn::Error::new(
                        name_span,
                        format!("`{name}` takes no value; directives with seconds are {}", SECONDS.join(", ")),
                    ));
                }
                continue;
            }
            match expr {
                Expr::Path(path) if path.path.get_ident().is_some_and(|i| FLAGS.contains(&i.to_string().as_str())) => {
                    let name = path.path.get_ident().map(ToString::to_string).unwrap_or_default();
                    directives.push((name.replace('_', "-"), None));
                }
                Expr::Path(path)
                    if path.path.get_ident().is_some_and(|i| SECONDS.contains(&i.to_string().as_str())) =>
                {
                    errors.push(syn::Error::new(expr.span(), "this directive takes seconds: `max_age = 3600`"));
                }
                _ => errors.push(syn::Error::new(
                    expr.span(),
                    format!(
                        "unknown `Cache-Control` directive; expected {} or {} = seconds",
                        FLAGS.join(", "),
                        SECONDS.join(", ")
                    ),
                )),
            }
        }
        if list.is_empty() {
            errors.push(syn::Error::new(span, "name at least one directive: `#[cache_control(max_age = 3600)]`"));
        }
        self.headers.push(HeaderOpDef::CacheControl(directives));
    }

    fn parse_cache_page(&mut self, attr: &syn::Attribute, errors: &mut Errors) {
        let span = attr.path().span();
        if self.page.is_some() {
            errors.push(syn::Error::new(span, "`#[cache_page]` is given twice"));
            return;
        }
        let Ok(list) = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            errors.push(syn::Error::new(span, "`#[cache_page(60 * 15)]` takes the timeout in seconds, then options"));
            return;
        };
        let mut items = list.into_iter();
        let timeout = match items.next() {
            Some(expr) if assign_name(&expr).is_none() => expr,
            _ => {
                errors.push(syn::Error::new(
                    span,
                    "`#[cache_page]` starts with the timeout in seconds: `#[cache_page(60 * 15)]`",
                ));
                return;
            }
        };
        let mut page = CachePageDef { timeout, cache: None, key_prefix: None, depends_on: Vec::new() };
        for expr in items {
            let Some((name, value, name_span)) = assign_name(&expr) else {
                errors.push(syn::Error::new(
                    expr.span(),
                    "expected `cache = \"...\"`, `key_prefix = \"...\"` or `depends_on = [Model, ...]`",
                ));
                continue;
            };
            match name.as_str() {
                "cache" | "key_prefix" => match string(value) {
                    Some((text, _)) if name == "cache" => page.cache = Some(text),
                    Some((text, _)) => page.key_prefix = Some(text),
                    None => errors.push(syn::Error::new(value.span(), format!("`{name}` takes a string"))),
                },
                "depends_on" => match value {
                    Expr::Array(array) => {
                        for element in &array.elems {
                            match element {
                                Expr::Path(path) => page.depends_on.push(path.path.clone()),
                                other => {
                                    errors.push(syn::Error::new(other.span(), "name a model: `depends_on = [Product]`"))
                                }
                            }
                        }
                    }
                    Expr::Path(path) => page.depends_on.push(path.path.clone()),
                    other => errors.push(syn::Error::new(
                        other.span(),
                        "`depends_on` lists models: `depends_on = [Product, Category]`",
                    )),
                },
                _ => errors.push(syn::Error::new(
                    name_span,
                    format!("unknown `cache_page` option `{name}`; expected `cache`, `key_prefix` or `depends_on`"),
                )),
            }
        }
        self.page = Some(page);
    }

    fn parse_ratelimit(&mut self, attr: &syn::Attribute, errors: &mut Errors) {
        let span = attr.path().span();
        let usage = "`#[ratelimit(key = \"ip\", rate = \"5/m\", method = \"POST\")]`";
        let Ok(list) = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            errors.push(syn::Error::new(span, format!("expected {usage}")));
            return;
        };
        let mut key = None;
        let mut rate = None;
        let mut rate_given = false;
        let mut limit = RateLimitDef {
            key: TokenStream::new(),
            count: 0,
            period: 1,
            methods: Vec::new(),
            group: None,
            cache: None,
        };
        for expr in &list {
            let Some((name, value, name_span)) = assign_name(expr) else {
                errors.push(syn::Error::new(expr.span(), format!("expected `name = value`, as in {usage}")));
                continue;
            };
            match name.as_str() {
                "key" => key = Some(rate_key(value, errors)),
                "rate" => match string(value).inspect(|_| rate_given = true) {
                    Some((text, span)) => match parse_rate(&text) {
                        Ok(parsed) => rate = Some(parsed),
                        Err(message) => errors.push(syn::Error::new(span, message)),
                    },
                    None => errors.push(syn::Error::new(value.span(), "`rate` is a string such as \"5/m\"")),
                },
                "method" => {
                    let exprs: Vec<&Expr> = match value {
                        Expr::Array(array) => array.elems.iter().collect(),
                        other => vec![other],
                    };
                    for expr in exprs {
                        match string(expr) {
                            Some((text, _)) if METHODS.contains(&text.as_str()) => limit.methods.push(text),
                            Some((text, span)) => errors.push(syn::Error::new(
                                span,
                                format!(
                                    "unknown HTTP method `{text}`; expected one of {} (upper case)",
                                    METHODS.join(", ")
                                ),
                            )),
                            None => errors.push(syn::Error::new(expr.span(), "a method is a string: \"POST\"")),
                        }
                    }
                }
                "group" | "cache" => match string(value) {
                    Some((text, _)) if name == "group" => limit.group = Some(text),
                    Some((text, _)) => limit.cache = Some(text),
                    None => errors.push(syn::Error::new(value.span(), format!("`{name}` takes a string"))),
                },
                _ => errors.push(syn::Error::new(
                    name_span,
                    format!("unknown `ratelimit` option `{name}`; expected key, rate, method, group or cache"),
                )),
            }
        }
        match (key, rate) {
            (Some(key), Some((count, period))) => {
                limit.key = key;
                limit.count = count;
                limit.period = period;
                self.limits.push(limit);
            }
            (None, _) => errors.push(syn::Error::new(span, format!("`key` is missing: {usage}"))),
            (_, None) if !rate_given => errors.push(syn::Error::new(span, format!("`rate` is missing: {usage}"))),
            _ => {}
        }
    }

    /// Whether any decorator changes the call.
    pub(crate) fn is_empty(&self) -> bool {
        self.page.is_none() && self.headers.is_empty() && self.limits.is_empty()
    }

    /// The rate-limit check, before the guards.
    pub(crate) fn limits_check(&self, view_path: &str) -> TokenStream {
        if self.limits.is_empty() {
            return TokenStream::new();
        }
        let limits = self.limits.iter().enumerate().map(|(i, limit)| {
            let key = &limit.key;
            let count = limit.count;
            let period = limit.period;
            let methods = &limit.methods;
            let group = limit.group.clone().unwrap_or_else(|| format!("{view_path}#{i}"));
            let cache = limit.cache.as_deref().unwrap_or("default");
            quote! {
                ::manouche::cache::RateLimit {
                    group: #group,
                    key: #key,
                    rate: ::manouche::cache::Rate::__new(#count, #period),
                    methods: &[#(#methods),*],
                    cache: #cache,
                }
            }
        });
        quote! {
            {
                static __LIMITS: &[::manouche::cache::RateLimit] = &[#(#limits),*];
                if let ::core::option::Option::Some(__response) =
                    ::manouche::cache::__ratelimit_check(&__req, &mut *__payload, __LIMITS).await?
                {
                    return ::core::result::Result::Ok(__response);
                }
            }
        }
    }

    /// What is done to the view's response (`__response` in scope).
    pub(crate) fn header_ops(&self) -> TokenStream {
        if self.headers.is_empty() {
            return TokenStream::new();
        }
        let ops = self.headers.iter().map(|op| match op {
            HeaderOpDef::NeverCache => quote! { ::manouche::cache::HeaderOp::NeverCache },
            HeaderOpDef::Vary(names) => quote! { ::manouche::cache::HeaderOp::Vary(&[#(#names),*]) },
            HeaderOpDef::CacheControl(list) => {
                let items = list.iter().map(|(name, value)| match value {
                    Some(seconds) => quote_spanned! {seconds.span()=>
                        ::manouche::cache::ControlDirective::Seconds(#name, { const __S: u64 = #seconds; __S })
                    },
                    None => quote! { ::manouche::cache::ControlDirective::Flag(#name) },
                });
                quote! { ::manouche::cache::HeaderOp::CacheControl(&[#(#items),*]) }
            }
        });
        quote! {
            {
                static __OPS: &[::manouche::cache::HeaderOp] = &[#(#ops),*];
                ::manouche::cache::__response_headers(&mut __response, __OPS);
            }
        }
    }

    /// The `CachePage` static, when `#[cache_page]` is given.
    pub(crate) fn page_static(&self) -> Option<TokenStream> {
        let page = self.page.as_ref()?;
        let timeout = &page.timeout;
        let cache = page.cache.as_deref().unwrap_or("default");
        let prefix = match &page.key_prefix {
            Some(prefix) => quote! { ::core::option::Option::Some(#prefix) },
            None => quote! { ::core::option::Option::None },
        };
        let depends = if page.depends_on.is_empty() {
            quote! { ::core::option::Option::None }
        } else {
            let models = page.depends_on.iter().map(|model| {
                quote_spanned! {model.span()=> ::manouche::cache::__depends_on::<#model>() }
            });
            quote! {{
                fn __depends() -> ::std::vec::Vec<&'static str> {
                    ::std::vec![#(#models),*]
                }
                ::core::option::Option::Some(__depends as fn() -> ::std::vec::Vec<&'static str>)
            }}
        };
        let timeout = quote_spanned! {timeout.span()=> { const __TIMEOUT: u64 = #timeout; __TIMEOUT } };
        Some(quote! {
            static __PAGE: ::manouche::cache::CachePage =
                ::manouche::cache::CachePage::__new(#timeout, #cache, #prefix, #depends);
        })
    }

    /// The registration of the page's dependencies, at module level, so building a project
    /// connects the models' signals.
    pub(crate) fn dependencies_entry(&self) -> Option<TokenStream> {
        let page = self.page.as_ref()?;
        if page.depends_on.is_empty() {
            return None;
        }
        let cache = page.cache.as_deref().unwrap_or("default");
        let models = page.depends_on.iter().map(|model| {
            quote_spanned! {model.span()=> ::manouche::cache::__depends_on::<#model>() }
        });
        Some(quote! {
            ::manouche::__private::inventory::submit! {
                ::manouche::cache::DependsOn {
                    cache: #cache,
                    tables: {
                        fn __depends() -> ::std::vec::Vec<&'static str> {
                            ::std::vec![#(#models),*]
                        }
                        __depends
                    },
                }
            }
        })
    }
}

fn rate_key(value: &Expr, errors: &mut Errors) -> TokenStream {
    match value {
        Expr::Path(path) => {
            let path = &path.path;
            quote_spanned! {path.span()=> ::manouche::cache::RateKey::Function(#path) }
        }
        other => match string(other) {
            Some((text, span)) => match text.split_once(':') {
                None if text == "ip" => quote! { ::manouche::cache::RateKey::Ip },
                None if text == "user" => quote! { ::manouche::cache::RateKey::User },
                Some(("header", name)) if valid_header(name) => quote! { ::manouche::cache::RateKey::Header(#name) },
                Some(("post", field)) if !field.is_empty() => quote! { ::manouche::cache::RateKey::Field(#field) },
                _ => {
                    errors.push(syn::Error::new(
                        span,
                        format!("unknown rate-limit key `{text}`; expected \"ip\", \"user\", \"header:<name>\", \"post:<field>\" or a function"),
                    ));
                    TokenStream::new()
                }
            },
            None => {
                errors.push(syn::Error::new(
                    other.span(),
                    "`key` is \"ip\", \"user\", \"header:<name>\", \"post:<field>\" or a function path",
                ));
                TokenStream::new()
            }
        },
    }
}
