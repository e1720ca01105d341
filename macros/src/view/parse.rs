use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, GenericArgument, Ident, Lit, Meta, Pat, PathArguments, ReturnType, Token, Type};

use super::caching::{Caching, DECORATORS};
use crate::diagnostics::Errors;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A checked `#[view]`: everything the expansion needs, spans kept.
pub(crate) struct ViewDef {
    pub(crate) methods: Vec<String>,
    pub(crate) name: String,
    pub(crate) params: Vec<Param>,
    pub(crate) url_params: Vec<(Ident, Type)>,
    pub(crate) fallible: bool,
    /// `csrf_exempt`: unsafe methods need no CSRF token.
    pub(crate) csrf_exempt: bool,
    /// Access rules from `#[login_required]` and its kin below `#[view]`, in order.
    pub(crate) guards: Vec<Guard>,
    /// `#[cache_page]`, the header decorators and `#[ratelimit]`.
    pub(crate) caching: Caching,
}

/// The names of the guard attributes `#[view]` reads and removes.
pub(crate) const GUARDS: &[&str] =
    &["login_required", "staff_member_required", "permission_required", "user_passes_test"];

/// One access rule.
pub(crate) enum Guard {
    Login(Span),
    Staff(Span),
    /// The permission expressions, spans kept for type errors.
    Permissions(Vec<Expr>),
    Test(syn::Path),
}

/// Whether `attr` is one of [`GUARDS`] or the caching decorators (by its last path segment:
/// `manouche::login_required` too): an attribute `#[view]` reads and removes.
pub(crate) fn guard_name(attr: &syn::Attribute) -> Option<String> {
    let name = attr.path().segments.last()?.ident.to_string();
    (GUARDS.contains(&name.as_str()) || DECORATORS.contains(&name.as_str())).then_some(name)
}

/// One function parameter: the extractor type to run.
pub(crate) struct Param {
    pub(crate) ty: Type,
}

impl ViewDef {
    pub(crate) fn parse(args: TokenStream, item: &syn::ItemFn) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut def = ViewDef {
            methods: Vec::new(),
            name: item.sig.ident.to_string(),
            params: Vec::new(),
            url_params: Vec::new(),
            fallible: false,
            csrf_exempt: false,
            guards: Vec::new(),
            caching: Caching::default(),
        };
        def.parse_guards(item, &mut errors);
        def.parse_args(args, &mut errors);
        def.check_signature(item, &mut errors);
        errors.finish()?;
        Ok(def)
    }

    fn parse_args(&mut self, args: TokenStream, errors: &mut Errors) {
        let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
            Ok(metas) => metas,
            Err(error) => {
                errors.push(error);
                return;
            }
        };
        let mut named = false;
        for meta in metas {
            match &meta {
                Meta::Path(path) if path.is_ident("csrf_exempt") => {
                    if self.csrf_exempt {
                        errors.push(syn::Error::new(path.span(), "`csrf_exempt` is given twice"));
                    }
                    self.csrf_exempt = true;
                }
                Meta::Path(path) => {
                    let Some(ident) = path.get_ident() else {
                        errors.push(syn::Error::new(path.span(), "expected an HTTP method such as `GET`"));
                        continue;
                    };
                    let method = ident.to_string();
                    if !METHODS.contains(&method.as_str()) {
                        let hint = METHODS.iter().find(|m| m.eq_ignore_ascii_case(&method));
                        let message = match hint {
                            Some(upper) => format!("HTTP methods are upper case: write `{upper}`"),
                            None => format!("unknown HTTP method `{method}`; expected one of {}", METHODS.join(", ")),
                        };
                        errors.push(syn::Error::new(ident.span(), message));
                    } else if self.methods.contains(&method) {
                        errors.push(syn::Error::new(ident.span(), format!("method `{method}` is listed twice")));
                    } else {
                        self.methods.push(method);
                    }
                }
                Meta::NameValue(nv) if nv.path.is_ident("name") => {
                    if named {
                        errors.push(syn::Error::new(nv.path.span(), "`name` is given twice"));
                    }
                    named = true;
                    match &nv.value {
                        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) if !s.value().trim().is_empty() => {
                            self.name = s.value();
                        }
                        other => errors.push(syn::Error::new(
                            other.span(),
                            "`name` takes a non-empty string, e.g. `name = \"product_detail\"`",
                        )),
                    }
                }
                other => errors.push(syn::Error::new(
                    other.path().span(),
                    "unknown `view` option; expected HTTP methods (`GET`, `POST`, ...), `name = \"...\"` and `csrf_exempt`",
                )),
            }
        }
    }

    fn parse_guards(&mut self, item: &syn::ItemFn, errors: &mut Errors) {
        for attr in &item.attrs {
            let Some(name) = guard_name(attr) else { continue };
            let span = attr.path().span();
            if DECORATORS.contains(&name.as_str()) {
                self.caching.parse(&name, attr, errors);
                continue;
            }
            match name.as_str() {
                "login_required" | "staff_member_required" => {
                    if let Err(error) = attr.meta.require_path_only() {
                        errors.push(syn::Error::new(error.span(), format!("`#[{name}]` takes no arguments")));
                    } else if name == "login_required" {
                        self.guards.push(Guard::Login(span));
                    } else {
                        self.guards.push(Guard::Staff(span));
                    }
                }
                "permission_required" => match attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
                    Ok(perms) if perms.is_empty() => errors.push(syn::Error::new(
                        span,
                        "name at least one permission: `#[permission_required(Product::PERM_CHANGE)]`",
                    )),
                    Ok(perms) => {
                        let mut exprs = Vec::new();
                        for perm in perms {
                            if let Expr::Lit(syn::ExprLit { lit: Lit::Str(text), .. }) = &perm {
                                errors.push(syn::Error::new(
                                    text.span(),
                                    format!(
                                        "name the permission by its constant so it is checked, e.g. `Product::PERM_CHANGE` for `{}`",
                                        text.value()
                                    ),
                                ));
                            } else {
                                exprs.push(perm);
                            }
                        }
                        self.guards.push(Guard::Permissions(exprs));
                    }
                    Err(_) => errors.push(syn::Error::new(
                        span,
                        "`#[permission_required(...)]` lists permission constants: `#[permission_required(Product::PERM_PUBLISH)]`",
                    )),
                },
                _ => match attr.parse_args::<syn::Path>() {
                    Ok(test) => self.guards.push(Guard::Test(test)),
                    Err(_) => errors.push(syn::Error::new(
                        span,
                        "`#[user_passes_test(...)]` names a function `fn(&manouche::auth::RequestUser) -> bool`",
                    )),
                },
            }
        }
    }

    fn check_signature(&mut self, item: &syn::ItemFn, errors: &mut Errors) {
        let sig = &item.sig;
        if sig.asyncness.is_none() {
            errors.push(syn::Error::new(sig.fn_token.span(), "a view must be an `async fn`"));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            errors.push(syn::Error::new(sig.generics.span(), "a view cannot be generic"));
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.push(syn::Error::new(unsafety.span(), "a view cannot be `unsafe`"));
        }
        if let Some(variadic) = &sig.variadic {
            errors.push(syn::Error::new(variadic.span(), "a view cannot be variadic"));
        }
        if let ReturnType::Type(_, ty) = &sig.output {
            self.fallible = last_segment(ty).is_some_and(|(ident, _)| ident == "Result");
        }
        let mut path_param: Option<Span> = None;
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    errors.push(syn::Error::new(receiver.span(), "a view is a free function; it cannot take `self`"));
                }
                FnArg::Typed(typed) => {
                    let ty = (*typed.ty).clone();
                    if let Some(attr) = typed.attrs.iter().find(|a| a.path().is_ident("params"))
                        && path_inner(&ty).is_none()
                    {
                        errors.push(syn::Error::new(attr.span(), "`#[params]` goes on the view's `Path` parameter"));
                    }
                    if let Some(inner) = path_inner(&ty) {
                        if let Some(first) = path_param {
                            let mut error = syn::Error::new(typed.span(), "a view takes at most one `Path` parameter");
                            error.combine(syn::Error::new(first, "the first `Path` parameter is here"));
                            errors.push(error);
                        }
                        path_param = Some(typed.span());
                        match url_params(typed, inner) {
                            Ok(params) => self.url_params = params,
                            Err(error) => errors.push(error),
                        }
                    }
                    self.params.push(Param { ty });
                }
            }
        }
    }
}

fn last_segment(ty: &Type) -> Option<(&Ident, &PathArguments)> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| (&s.ident, &s.arguments)),
        _ => None,
    }
}

/// `Path<T>` → `T`.
fn path_inner(ty: &Type) -> Option<&Type> {
    let (ident, args) = last_segment(ty)?;
    if ident != "Path" {
        return None;
    }
    match args {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
            Some(GenericArgument::Type(inner)) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// The URL parameters a `Path` argument names: `slug: Path<String>` gives `slug: String`;
/// `#[params(year, month)] date: Path<(u16, u8)>` gives `year: u16, month: u8`.
fn url_params(typed: &syn::PatType, inner: &Type) -> syn::Result<Vec<(Ident, Type)>> {
    let listed = typed.attrs.iter().find(|a| a.path().is_ident("params"));
    match listed {
        Some(attr) => {
            let names = attr.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated)?;
            let Type::Tuple(types) = inner else {
                return Err(syn::Error::new(
                    inner.span(),
                    "`#[params(...)]` names the elements of a tuple: write `Path<(T1, T2)>`",
                ));
            };
            if names.len() != types.elems.len() {
                return Err(syn::Error::new(
                    attr.span(),
                    format!("`#[params]` lists {} names for a tuple of {} elements", names.len(), types.elems.len()),
                ));
            }
            Ok(names.into_iter().zip(types.elems.iter().cloned()).collect())
        }
        None => match &*typed.pat {
            Pat::Ident(p) => Ok(vec![(p.ident.clone(), inner.clone())]),
            other => Err(syn::Error::new(
                other.span(),
                "name the `Path` parameter (`slug: Path<String>`); for several, list them: `#[params(year, month)] date: Path<(u16, u8)>`",
            )),
        },
    }
}
