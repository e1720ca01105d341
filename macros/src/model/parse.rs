use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Fields, Ident, Lit, Meta, Token, Type};

use crate::diagnostics::Errors;

use super::fields::parse_field;
pub(crate) use super::fields::{FieldDef, Kind};

/// A checked `#[model]`.
pub(crate) struct ModelDef {
    pub(crate) app: String,
    pub(crate) table: String,
    pub(crate) verbose_name: String,
    pub(crate) fields: Vec<FieldDef>,
    /// Custom permissions: `(action, description)`, from `#[permission(publish = "...")]`.
    pub(crate) permissions: Vec<(Ident, String)>,
    /// Default ordering: `(field, descending)`.
    pub(crate) ordering: Vec<(Ident, bool)>,
    /// Groups of fields unique together.
    pub(crate) unique_together: Vec<Vec<Ident>>,
    /// Groups of fields indexed together.
    pub(crate) indexes: Vec<Vec<Ident>>,
    /// Many-to-many relations, from `#[many_to_many(tags = Tag)]`.
    pub(crate) many_to_many: Vec<ManyToManyDef>,
    /// Django's `managed`: `false` for a table the project maps but does not create or alter.
    pub(crate) managed: bool,
    /// `display = "{name} ({sku})"`: how a row is shown (Django's `__str__`), fields by name.
    pub(crate) display: Option<syn::LitStr>,
    /// A through model `#[many_to_many]` generated (Django's `auto_created`): no permissions
    /// synced, no admin page.
    pub(crate) auto_created: bool,
}

/// `#[many_to_many(tags = Tag)]`, or `#[many_to_many(tags = Tag, through = ProductTag)]`.
pub(crate) struct ManyToManyDef {
    pub(crate) name: Ident,
    pub(crate) target: Type,
    /// A declared through model; `None`: generated.
    pub(crate) through: Option<Type>,
}

const MODEL_OPTIONS: &str = "unknown `model` option; expected `app = \"...\"`, `table = \"...\"`, \
                             `verbose_name = \"...\"`, `ordering = [\"-field\", ...]`, \
                             `unique_together = [[\"a\", \"b\"], ...]`, `indexes = [[\"a\", \"b\"], ...]`, \
                             `display = \"{field} ...\"` or `managed = false`";

/// `["a", "-b"]` as `(text, span)` pairs.
fn string_list(expr: &Expr, what: &str) -> syn::Result<Vec<(String, Span)>> {
    let Expr::Array(array) = expr else {
        return Err(syn::Error::new(expr.span(), format!("`{what}` takes a list of field names, e.g. `[\"name\"]`")));
    };
    array.elems.iter().map(|e| string_value(e, what).map(|s| (s, e.span()))).collect()
}

/// `[["a", "b"], ["c", "d"]]`.
fn string_groups(expr: &Expr, what: &str) -> syn::Result<Vec<Vec<(String, Span)>>> {
    let Expr::Array(array) = expr else {
        return Err(syn::Error::new(
            expr.span(),
            format!("`{what}` takes a list of field groups, e.g. `[[\"category\", \"slug\"]]`"),
        ));
    };
    array.elems.iter().map(|e| string_list(e, what)).collect()
}

fn string_value(expr: &Expr, what: &str) -> syn::Result<String> {
    match expr {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Ok(s.value()),
        other => Err(syn::Error::new(other.span(), format!("`{what}` takes a string, e.g. `{what} = \"...\"`"))),
    }
}

/// `OrderItem` → `orderitem`, Django's default model name in table names.
fn lower(name: &str) -> String {
    name.to_lowercase()
}

/// `OrderItem` → `order item`; `unit_price` → `unit price`.
pub(super) fn human(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c == '_' {
            out.push(' ');
        } else if c.is_uppercase() {
            if i > 0 {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `#[model(...)]` options as written, before field names are checked.
#[derive(Default)]
struct Options {
    app: Option<(String, Span)>,
    table: Option<(String, Span)>,
    verbose_name: Option<(String, Span)>,
    ordering: Vec<(String, Span)>,
    unique_together: Vec<Vec<(String, Span)>>,
    indexes: Vec<Vec<(String, Span)>>,
    managed: Option<bool>,
    display: Option<syn::LitStr>,
    auto_created: bool,
}

impl Options {
    fn parse(args: TokenStream, errors: &mut Errors) -> Options {
        let mut options = Options::default();
        let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
            Ok(metas) => metas,
            Err(error) => {
                errors.push(error);
                return options;
            }
        };
        for meta in metas {
            let Meta::NameValue(nv) = &meta else {
                errors.push(syn::Error::new(meta.span(), MODEL_OPTIONS));
                continue;
            };
            if let Err(error) = options.one(nv) {
                errors.push(error);
            }
        }
        options
    }

    /// One `key = value`.
    fn one(&mut self, nv: &syn::MetaNameValue) -> syn::Result<()> {
        let key = nv.path.get_ident().map(Ident::to_string).unwrap_or_default();
        let slot = match key.as_str() {
            // Written only by `#[many_to_many]`'s generated through model.
            "__auto_created" => {
                self.auto_created = true;
                return Ok(());
            }
            "managed" => {
                return match &nv.value {
                    Expr::Lit(syn::ExprLit { lit: Lit::Bool(value), .. }) => {
                        self.managed = Some(value.value);
                        Ok(())
                    }
                    other => Err(syn::Error::new(other.span(), "`managed` is `true` or `false`")),
                };
            }
            "display" => {
                return match &nv.value {
                    Expr::Lit(syn::ExprLit { lit: Lit::Str(format), .. }) if !format.value().is_empty() => {
                        self.display = Some(format.clone());
                        Ok(())
                    }
                    other => Err(syn::Error::new(
                        other.span(),
                        "`display` is a format string naming fields, e.g. `display = \"{name} ({sku})\"`",
                    )),
                };
            }
            "ordering" => return string_list(&nv.value, &key).map(|v| self.ordering = v),
            "unique_together" => return string_groups(&nv.value, &key).map(|v| self.unique_together = v),
            "indexes" => return string_groups(&nv.value, &key).map(|v| self.indexes = v),
            "app" => &mut self.app,
            "table" => &mut self.table,
            "verbose_name" => &mut self.verbose_name,
            _ => return Err(syn::Error::new(nv.path.span(), MODEL_OPTIONS)),
        };
        let value = string_value(&nv.value, &key)?;
        if value.is_empty() {
            return Err(syn::Error::new(nv.value.span(), format!("`{key}` cannot be empty")));
        }
        *slot = Some((value, nv.value.span()));
        Ok(())
    }
}

/// Each field parsed, and our `#[field]` attributes removed; `true` when one failed.
fn parse_fields(item: &mut syn::ItemStruct, errors: &mut Errors) -> (Vec<FieldDef>, bool) {
    let mut fields = Vec::new();
    let mut failed = false;
    match &mut item.fields {
        Fields::Named(named) => {
            for field in &mut named.named {
                match parse_field(field) {
                    Ok(def) => fields.push(def),
                    Err(error) => {
                        failed = true;
                        errors.push(error);
                    }
                }
                field.attrs.retain(|a| !a.path().is_ident("field"));
            }
        }
        other => errors.push(syn::Error::new(other.span(), "a model needs named fields")),
    }
    (fields, failed)
}

/// Two foreign keys to one target cannot give it the same reverse accessor (Django's
/// `fields.E304`).
fn check_reverse_clashes(model: &Ident, fields: &[FieldDef], errors: &mut Errors) {
    use quote::ToTokens as _;
    let mut seen: Vec<(String, Ident)> = Vec::new();
    for field in fields {
        let (Some(target), Some(accessor)) = (&field.target, field.reverse_accessor(model)) else { continue };
        let target = target.to_token_stream().to_string();
        if seen.iter().any(|(t, a)| *t == target && *a == accessor) {
            errors.push(syn::Error::new(
                field.ident.span(),
                format!(
                    "the reverse accessor `{accessor}` of this foreign key clashes with another key's to `{}`\n\
                     help: give one of them `related_name = \"...\"` (or `related_name = \"+\"` for none)",
                    target.replace(' ', "")
                ),
            ));
        }
        seen.push((target, accessor));
    }
}

/// One primary key, and a field besides it.
fn check_key(item: &syn::ItemStruct, fields: &[FieldDef], field_errors: bool, errors: &mut Errors) {
    let keys: Vec<&FieldDef> = fields.iter().filter(|f| f.primary_key).collect();
    match keys.as_slice() {
        // A field that failed to parse may be the key: say nothing more about it.
        [] if !field_errors && matches!(item.fields, Fields::Named(_)) => errors.push(syn::Error::new(
            item.ident.span(),
            "a model needs a primary key\nhelp: add `#[field(primary_key, auto)] pub id: i64`",
        )),
        [_, second, ..] => {
            errors.push(syn::Error::new(second.ident.span(), "a model has one primary key; this is the second"))
        }
        // Diesel can neither insert nor update a row of only a key.
        [_] if fields.len() == 1 && !field_errors => {
            errors.push(syn::Error::new(item.ident.span(), "a model needs at least one field besides its primary key"))
        }
        _ => {}
    }
}

/// Options naming fields must name this model's fields.
struct FieldNames<'a> {
    model: &'a Ident,
    fields: &'a [FieldDef],
    /// A field failed to parse: a missing name may be that field's, so it is not reported.
    quiet: bool,
}

impl FieldNames<'_> {
    fn find(&self, name: &str, span: Span, errors: &mut Errors) -> Option<Ident> {
        match self.fields.iter().find(|f| f.ident == name) {
            Some(f) => Some(f.ident.clone()),
            None => {
                if !self.quiet {
                    errors.push(syn::Error::new(span, format!("`{}` has no field `{name}`", self.model)));
                }
                None
            }
        }
    }

    /// `["-created", "name"]` as `(field, descending)`.
    fn ordering(&self, names: &[(String, Span)], errors: &mut Errors) -> Vec<(Ident, bool)> {
        let mut ordering = Vec::new();
        for (name, span) in names {
            let (bare, descending) = match name.strip_prefix('-') {
                Some(bare) => (bare, true),
                None => (name.as_str(), false),
            };
            if let Some(ident) = self.find(bare, *span, errors) {
                ordering.push((ident, descending));
            }
        }
        ordering
    }

    /// Groups of two fields or more (`unique_together`, `indexes`).
    fn groups(&self, names: &[Vec<(String, Span)>], what: &str, errors: &mut Errors) -> Vec<Vec<Ident>> {
        let mut out = Vec::new();
        for group in names {
            if group.len() < 2 {
                let span = group.first().map_or(Span::call_site(), |(_, s)| *s);
                errors.push(syn::Error::new(span, format!("a `{what}` group names two fields or more")));
                continue;
            }
            let idents: Vec<Ident> = group.iter().filter_map(|(n, s)| self.find(n, *s, errors)).collect();
            if idents.len() == group.len() {
                out.push(idents);
            }
        }
        out
    }
}

impl ModelDef {
    /// Checks the attribute and struct, and strips our `#[field]` attributes from `item`.
    pub(crate) fn parse(args: TokenStream, item: &mut syn::ItemStruct) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let options = Options::parse(args, &mut errors);
        if let Some((app, span)) = &options.app
            && !app.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            errors.push(syn::Error::new(
                *span,
                "an app label is lowercase letters, digits and `_`, e.g. `app = \"shop\"`",
            ));
        }
        if options.app.is_none() {
            errors.push(syn::Error::new(
                item.ident.span(),
                "`#[model]` needs the app the model belongs to\nhelp: write `#[model(app = \"shop\")]`",
            ));
        }
        if !item.generics.params.is_empty() {
            errors.push(syn::Error::new(item.generics.span(), "a model cannot be generic"));
        }
        let name = item.ident.to_string();
        let app = options.app.map(|(a, _)| a).unwrap_or_default();
        let table = options.table.map(|(t, _)| t).unwrap_or_else(|| format!("{app}_{}", lower(&name)));
        let verbose_name = options.verbose_name.map(|(v, _)| v).unwrap_or_else(|| human(&name));

        let permissions = parse_permissions(item, &mut errors);
        let many_to_many = parse_many_to_many(item, &mut errors);
        let (fields, field_errors) = parse_fields(item, &mut errors);
        check_key(item, &fields, field_errors, &mut errors);
        let names = FieldNames { model: &item.ident, fields: &fields, quiet: field_errors };
        let ordering = names.ordering(&options.ordering, &mut errors);
        let unique_together = names.groups(&options.unique_together, "unique_together", &mut errors);
        let indexes = names.groups(&options.indexes, "indexes", &mut errors);
        check_reverse_clashes(&item.ident, &fields, &mut errors);
        for ManyToManyDef { name, .. } in &many_to_many {
            if fields.iter().any(|f| f.ident == *name) {
                errors.push(syn::Error::new(name.span(), format!("`{name}` is a field already")));
            }
        }
        errors.finish()?;
        Ok(ModelDef {
            app,
            table,
            verbose_name,
            fields,
            permissions,
            ordering,
            unique_together,
            indexes,
            many_to_many,
            managed: options.managed.unwrap_or(true),
            display: options.display,
            auto_created: options.auto_created,
        })
    }
}

/// `#[permission(publish = "Can publish products", ...)]` attributes, removed from the struct.
fn parse_permissions(item: &mut syn::ItemStruct, errors: &mut Errors) -> Vec<(Ident, String)> {
    let mut permissions: Vec<(Ident, String)> = Vec::new();
    let usage =
        "expected `#[permission(action = \"Description\")]`, e.g. `#[permission(publish = \"Can publish products\")]`";
    for pairs in name_value_attributes(item, "permission", usage, errors) {
        for pair in pairs {
            let Some(action) = pair.path.get_ident().cloned() else {
                errors.push(syn::Error::new(pair.path.span(), "a permission's action is one word, e.g. `publish`"));
                continue;
            };
            let name = action.to_string();
            if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                errors.push(syn::Error::new(action.span(), "a permission's action is lowercase, e.g. `publish`"));
                continue;
            }
            if matches!(name.as_str(), "view" | "add" | "change" | "delete") {
                errors.push(syn::Error::new(
                    action.span(),
                    format!("every model has the `{name}` permission already; name a custom action"),
                ));
                continue;
            }
            if permissions.iter().any(|(a, _)| *a == action) {
                errors.push(syn::Error::new(action.span(), format!("the `{name}` permission is declared twice")));
                continue;
            }
            match string_value(&pair.value, &name) {
                Ok(description) if !description.is_empty() => permissions.push((action, description)),
                Ok(_) => errors.push(syn::Error::new(pair.value.span(), "a permission needs a description")),
                Err(error) => errors.push(error),
            }
        }
    }
    permissions
}

/// The `name = value` lists of every `#[attribute(...)]` called `name`, which are removed from
/// the struct; one list per attribute, a malformed one reported with `usage`.
fn name_value_attributes(
    item: &mut syn::ItemStruct,
    name: &str,
    usage: &str,
    errors: &mut Errors,
) -> Vec<Punctuated<syn::MetaNameValue, Token![,]>> {
    let mut lists = Vec::new();
    for attr in item.attrs.iter().filter(|a| a.path().is_ident(name)) {
        match attr.parse_args_with(Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated) {
            Ok(pairs) => lists.push(pairs),
            Err(error) => errors.push(syn::Error::new(error.span(), usage)),
        }
    }
    item.attrs.retain(|a| !a.path().is_ident(name));
    lists
}

/// `#[many_to_many(tags = Tag, ...)]` attributes, removed from the struct; `through = Model`
/// after a relation names its declared through model.
fn parse_many_to_many(item: &mut syn::ItemStruct, errors: &mut Errors) -> Vec<ManyToManyDef> {
    let mut relations: Vec<ManyToManyDef> = Vec::new();
    let usage = "expected `#[many_to_many(name = Model)]`, e.g. `#[many_to_many(tags = Tag)]`";
    for pairs in name_value_attributes(item, "many_to_many", usage, errors) {
        let first_of_attribute = relations.len();
        for pair in pairs {
            let Some(name) = pair.path.get_ident().cloned() else {
                errors.push(syn::Error::new(pair.path.span(), "a relation's name is one word, e.g. `tags`"));
                continue;
            };
            let model = match &pair.value {
                Expr::Path(path) => Type::Path(syn::TypePath { qself: None, path: path.path.clone() }),
                other => {
                    errors.push(syn::Error::new(other.span(), "name a model, e.g. `tags = Tag`"));
                    continue;
                }
            };
            if name == "through" {
                let in_this_attribute = relations.len() > first_of_attribute;
                match relations.last_mut() {
                    Some(last) if in_this_attribute && last.through.is_none() => {
                        last.through = Some(model);
                    }
                    _ => errors.push(syn::Error::new(
                        name.span(),
                        "`through` follows the relation it serves: `#[many_to_many(tags = Tag, through = ProductTag)]`",
                    )),
                }
                continue;
            }
            if !name.to_string().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                errors.push(syn::Error::new(name.span(), "a relation's name is lowercase, e.g. `tags`"));
                continue;
            }
            if relations.iter().any(|r| r.name == name) {
                errors.push(syn::Error::new(name.span(), format!("the relation `{name}` is declared twice")));
                continue;
            }
            relations.push(ManyToManyDef { name, target: model, through: None });
        }
    }
    relations
}
