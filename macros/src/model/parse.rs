use proc_macro2::{Span, TokenStream};
use quote::ToTokens as _;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Fields, GenericArgument, Ident, Lit, Meta, PathArguments, Token, Type};

use crate::diagnostics::Errors;

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
                             `unique_together = [[\"a\", \"b\"], ...]`, `indexes = [[\"a\", \"b\"], ...]` \
                             or `managed = false`";

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

/// A checked field.
pub(crate) struct FieldDef {
    pub(crate) ident: Ident,
    /// The type without `Option`.
    pub(crate) inner_ty: Type,
    /// The Diesel column: the field's name, or `<name>_id` for a foreign key.
    pub(crate) column: Ident,
    /// The Diesel SQL type a type of the project's own is stored as (`#[field(sql_type = ...)]`).
    pub(crate) sql_type: Option<Type>,
    /// The SQL column when it differs from `column` (`#[field(db_column = "...")]`).
    pub(crate) db_column: Option<String>,
    /// `T` of a `ForeignKey<T>`.
    pub(crate) target: Option<Type>,
    /// The reverse accessor's name on the target (`#[field(related_name = "products")]`).
    pub(crate) related_name: Option<Ident>,
    /// `cascade`, `protect`, `restrict` or `set_null`, for a foreign key.
    pub(crate) on_delete: Option<Ident>,
    /// The target's primary key type, for a foreign key (`key_type = i32`; default `i64`).
    pub(crate) key_type: Option<(Type, Kind)>,
    pub(crate) kind: Kind,
    pub(crate) nullable: bool,
    pub(crate) primary_key: bool,
    pub(crate) auto: bool,
    pub(crate) unique: bool,
    pub(crate) db_index: bool,
    pub(crate) max_length: Option<u32>,
    /// The default as the `Value` the runtime stores (`::manouche::db::Value::Int(5)`).
    pub(crate) default: Option<proc_macro2::TokenStream>,
    /// Django's `blank`: a form may leave it empty (default: `Option` fields).
    pub(crate) blank: bool,
    /// Django's `editable`: forms show it (default: not for `auto` keys and `auto_now` fields).
    pub(crate) editable: Option<bool>,
    pub(crate) verbose_name: String,
    pub(crate) help_text: String,
    pub(crate) max_digits: Option<u32>,
    pub(crate) decimal_places: Option<u32>,
    pub(crate) auto_now: bool,
    pub(crate) auto_now_add: bool,
}

/// A `default = ...` literal as the runtime's `Value`; anything but a literal is refused: the
/// default is what the database stores in rows that exist when the field is added.
fn default_value(expr: &Expr) -> syn::Result<proc_macro2::TokenStream> {
    use quote::quote;
    let (negative, lit) = match expr {
        Expr::Lit(lit) => (false, &lit.lit),
        Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => match &**expr {
            Expr::Lit(lit) => (true, &lit.lit),
            other => return Err(not_a_literal(other)),
        },
        other => return Err(not_a_literal(other)),
    };
    Ok(match lit {
        syn::Lit::Bool(b) if !negative => {
            let b = b.value;
            quote!(::manouche::db::Value::Bool(#b))
        }
        syn::Lit::Int(n) => {
            let n: i64 = n.base10_parse()?;
            let n = if negative { -n } else { n };
            quote!(::manouche::db::Value::Int(#n))
        }
        syn::Lit::Float(x) => {
            let x: f64 = x.base10_parse()?;
            let x = if negative { -x } else { x };
            quote!(::manouche::db::Value::Float(#x))
        }
        syn::Lit::Str(s) if !negative => {
            let s = s.value();
            quote!(::manouche::db::Value::Text(::std::borrow::Cow::Borrowed(#s)))
        }
        _ => return Err(not_a_literal(expr)),
    })
}

fn not_a_literal(expr: &Expr) -> syn::Error {
    syn::Error::new(
        expr.span(),
        "`default` is the literal the database stores: `default = 0`, `default = true`, `default = \"draft\"` (a choice's stored value)",
    )
}

impl FieldDef {
    /// The column's name in SQL: `db_column`, or the Diesel column's name.
    pub(crate) fn sql_name(&self) -> String {
        self.db_column.clone().unwrap_or_else(|| self.column.to_string())
    }
}

/// The supported Rust types and their Diesel SQL types.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    SmallInt,
    Integer,
    BigInt,
    Float,
    Double,
    Bool,
    Text,
    Bytes,
    Decimal,
    Date,
    DateTime,
    Uuid,
    Json,
    /// A `#[derive(Choices)]` enum stored as text.
    Choices,
    /// A `#[derive(Choices)] #[choices(integer)]` enum stored as an integer.
    IntegerChoices,
    /// `ForeignKey<T>`: the target's primary key.
    ForeignKey,
    /// Any other type: its `FieldValue` impl describes it.
    Custom,
}

impl Kind {
    /// The built-in kind a field type names, read from its path: a bare name (`Decimal`,
    /// `ForeignKey<T>`) or a path through the crate that defines it (`manouche::db::Decimal`,
    /// `chrono::NaiveDate`, `serde_json::Value`). Any other type, a project's own `Decimal` under
    /// another path included, is [`Kind::Custom`]: described by its `FieldValue` impl.
    fn from_type(ty: &Type) -> Kind {
        let Type::Path(path) = ty else { return Kind::Custom };
        if path.qself.is_some() {
            return Kind::Custom;
        }
        let Some(segment) = path.path.segments.last() else { return Kind::Custom };
        let prefix: Vec<String> =
            path.path.segments.iter().rev().skip(1).map(|s| s.ident.to_string()).collect::<Vec<_>>();
        let prefix: Vec<&str> = prefix.iter().rev().map(String::as_str).collect();
        let from = |crates: &[&[&str]]| prefix.is_empty() || crates.contains(&prefix.as_slice());
        const MANOUCHE: &[&str] = &["manouche", "db"];
        const DB: &[&str] = &["db"];
        let kind = match segment.ident.to_string().as_str() {
            "i16" if prefix.is_empty() => Kind::SmallInt,
            "i32" if prefix.is_empty() => Kind::Integer,
            "i64" if prefix.is_empty() => Kind::BigInt,
            "f32" if prefix.is_empty() => Kind::Float,
            "f64" if prefix.is_empty() => Kind::Double,
            "bool" if prefix.is_empty() => Kind::Bool,
            "String" if from(&[&["std", "string"], &["alloc", "string"]]) => Kind::Text,
            "Decimal" if from(&[MANOUCHE, DB]) => Kind::Decimal,
            "Date" if from(&[MANOUCHE, DB]) => Kind::Date,
            "NaiveDate" if from(&[&["chrono"]]) => Kind::Date,
            "DateTime" if from(&[MANOUCHE, DB]) => Kind::DateTime,
            "NaiveDateTime" if from(&[&["chrono"]]) => Kind::DateTime,
            "Uuid" if from(&[MANOUCHE, DB]) => Kind::Uuid,
            "Json" if from(&[MANOUCHE, DB]) => Kind::Json,
            "Value" if prefix == ["serde_json"] => Kind::Json,
            "ForeignKey" | "OneToOne" if from(&[MANOUCHE, DB]) && generic_arg(&segment.arguments).is_some() => {
                Kind::ForeignKey
            }
            "Vec" if from(&[&["std", "vec"], &["alloc", "vec"]]) => match generic_arg(&segment.arguments) {
                Some(Type::Path(inner)) if inner.path.is_ident("u8") => Kind::Bytes,
                _ => Kind::Custom,
            },
            _ => Kind::Custom,
        };
        kind
    }

    pub(crate) fn is_integer(self) -> bool {
        matches!(self, Kind::SmallInt | Kind::Integer | Kind::BigInt)
    }

    pub(crate) fn variant(self) -> &'static str {
        match self {
            Kind::SmallInt => "SmallInt",
            Kind::Integer => "Integer",
            Kind::BigInt => "BigInt",
            Kind::Float => "Float",
            Kind::Double => "Double",
            Kind::Bool => "Bool",
            Kind::Text => "Text",
            Kind::Bytes => "Bytes",
            Kind::Decimal => "Decimal",
            Kind::Date => "Date",
            Kind::DateTime => "DateTime",
            Kind::Uuid => "Uuid",
            Kind::Json => "Json",
            Kind::Choices => "Text",
            Kind::IntegerChoices => "Integer",
            Kind::ForeignKey => "ForeignKey",
            // Read from the type's `FieldValue` impl instead.
            Kind::Custom => "Text",
        }
    }

    /// The Diesel SQL type of a column of this kind and Rust type `ty`: Diesel's own type for a
    /// built-in kind (its `table!` adds arithmetic and date operators by that name), the
    /// `FieldValue` impl's for any other.
    pub(crate) fn sql_type(self, ty: &Type) -> proc_macro2::TokenStream {
        use quote::quote;
        match self {
            Kind::Custom => quote!(<#ty as ::manouche::db::FieldValue>::SqlType),
            Kind::SmallInt => quote!(diesel::sql_types::SmallInt),
            Kind::Integer => quote!(diesel::sql_types::Integer),
            Kind::BigInt => quote!(diesel::sql_types::BigInt),
            Kind::Float => quote!(diesel::sql_types::Float),
            Kind::Double => quote!(diesel::sql_types::Double),
            Kind::Bool => quote!(diesel::sql_types::Bool),
            Kind::Text | Kind::Choices => quote!(diesel::sql_types::Text),
            Kind::IntegerChoices => quote!(diesel::sql_types::Integer),
            Kind::Bytes => quote!(diesel::sql_types::Binary),
            Kind::Decimal => quote!(::manouche::db::sql_types::Decimal),
            Kind::Date => quote!(diesel::sql_types::Date),
            Kind::DateTime => quote!(diesel::sql_types::Timestamp),
            Kind::Uuid => quote!(::manouche::db::sql_types::Uuid),
            Kind::Json => quote!(diesel::sql_types::Json),
            // Named through an alias beside the model; see `expand`.
            Kind::ForeignKey => quote!(diesel::sql_types::BigInt),
        }
    }
}

fn generic_arg(args: &PathArguments) -> Option<&Type> {
    match args {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
            Some(GenericArgument::Type(ty)) => Some(ty),
            _ => None,
        },
        _ => None,
    }
}

/// `Option<T>` → `Some(T)`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != "Option" {
        return None;
    }
    generic_arg(&segment.arguments)
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
fn human(name: &str) -> String {
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

impl ModelDef {
    /// Checks the attribute and struct, and strips our `#[field]` attributes from `item`.
    pub(crate) fn parse(args: TokenStream, item: &mut syn::ItemStruct) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut app = None;
        let mut table = None;
        let mut verbose_name = None;
        let mut ordering_names: Vec<(String, Span)> = Vec::new();
        let mut together_names: Vec<Vec<(String, Span)>> = Vec::new();
        let mut index_names: Vec<Vec<(String, Span)>> = Vec::new();
        let mut managed = true;
        match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
            Ok(metas) => {
                for meta in metas {
                    let Meta::NameValue(nv) = &meta else {
                        errors.push(syn::Error::new(meta.span(), MODEL_OPTIONS));
                        continue;
                    };
                    let key = nv.path.get_ident().map(Ident::to_string).unwrap_or_default();
                    if key == "managed" {
                        match &nv.value {
                            Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(value), .. }) => managed = value.value,
                            other => errors.push(syn::Error::new(other.span(), "`managed` is `true` or `false`")),
                        }
                        continue;
                    }
                    let collected = match key.as_str() {
                        "ordering" => string_list(&nv.value, &key).map(|v| ordering_names = v),
                        "unique_together" => string_groups(&nv.value, &key).map(|v| together_names = v),
                        "indexes" => string_groups(&nv.value, &key).map(|v| index_names = v),
                        _ => Ok(()),
                    };
                    if matches!(key.as_str(), "ordering" | "unique_together" | "indexes") {
                        if let Err(error) = collected {
                            errors.push(error);
                        }
                        continue;
                    }
                    let slot = match key.as_str() {
                        "app" => &mut app,
                        "table" => &mut table,
                        "verbose_name" => &mut verbose_name,
                        _ => {
                            errors.push(syn::Error::new(nv.path.span(), MODEL_OPTIONS));
                            continue;
                        }
                    };
                    match string_value(&nv.value, &key) {
                        Ok(value) if value.is_empty() => {
                            errors.push(syn::Error::new(nv.value.span(), format!("`{key}` cannot be empty")))
                        }
                        Ok(value) => *slot = Some((value, nv.value.span())),
                        Err(error) => errors.push(error),
                    }
                }
            }
            Err(error) => errors.push(error),
        }
        if let Some((app, span)) = &app
            && !app.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            errors.push(syn::Error::new(
                *span,
                "an app label is lowercase letters, digits and `_`, e.g. `app = \"shop\"`",
            ));
        }
        if app.is_none() {
            errors.push(syn::Error::new(
                item.ident.span(),
                "`#[model]` needs the app the model belongs to\nhelp: write `#[model(app = \"shop\")]`",
            ));
        }
        if !item.generics.params.is_empty() {
            errors.push(syn::Error::new(item.generics.span(), "a model cannot be generic"));
        }
        let name = item.ident.to_string();
        let app_name = app.as_ref().map(|(a, _)| a.clone()).unwrap_or_default();
        let table = table.map(|(t, _)| t).unwrap_or_else(|| format!("{app_name}_{}", lower(&name)));
        let verbose_name = verbose_name.map(|(v, _)| v).unwrap_or_else(|| human(&name));

        let permissions = parse_permissions(item, &mut errors);
        let many_to_many = parse_many_to_many(item, &mut errors);

        let mut fields = Vec::new();
        let mut field_errors = false;
        match &mut item.fields {
            Fields::Named(named) => {
                for field in &mut named.named {
                    match parse_field(field) {
                        Ok(def) => fields.push(def),
                        Err(error) => {
                            field_errors = true;
                            errors.push(error);
                        }
                    }
                    field.attrs.retain(|a| !a.path().is_ident("field"));
                }
            }
            other => errors.push(syn::Error::new(other.span(), "a model needs named fields")),
        }
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
            [_] if fields.len() == 1 && !field_errors => errors
                .push(syn::Error::new(item.ident.span(), "a model needs at least one field besides its primary key")),
            _ => {}
        }
        // Options naming fields must name this model's fields.
        let field_ident = |name: &str, span: Span, errors: &mut Errors| -> Option<Ident> {
            match fields.iter().find(|f| f.ident == name) {
                Some(f) => Some(f.ident.clone()),
                None => {
                    if !field_errors {
                        errors.push(syn::Error::new(span, format!("`{}` has no field `{name}`", item.ident)));
                    }
                    None
                }
            }
        };
        let mut ordering = Vec::new();
        for (name, span) in &ordering_names {
            let (bare, descending) = match name.strip_prefix('-') {
                Some(bare) => (bare, true),
                None => (name.as_str(), false),
            };
            if let Some(ident) = field_ident(bare, *span, &mut errors) {
                ordering.push((ident, descending));
            }
        }
        let groups = |names: &[Vec<(String, Span)>], what: &str, errors: &mut Errors| -> Vec<Vec<Ident>> {
            let mut out = Vec::new();
            for group in names {
                if group.len() < 2 {
                    let span = group.first().map_or(Span::call_site(), |(_, s)| *s);
                    errors.push(syn::Error::new(span, format!("a `{what}` group names two fields or more")));
                    continue;
                }
                let idents: Vec<Ident> = group.iter().filter_map(|(n, s)| field_ident(n, *s, errors)).collect();
                if idents.len() == group.len() {
                    out.push(idents);
                }
            }
            out
        };
        let unique_together = groups(&together_names, "unique_together", &mut errors);
        let indexes = groups(&index_names, "indexes", &mut errors);
        for ManyToManyDef { name, .. } in &many_to_many {
            if fields.iter().any(|f| f.ident == *name) {
                errors.push(syn::Error::new(name.span(), format!("`{name}` is a field already")));
            }
        }
        errors.finish()?;
        Ok(ModelDef {
            app: app_name,
            table,
            verbose_name,
            fields,
            permissions,
            ordering,
            unique_together,
            indexes,
            many_to_many,
            managed,
        })
    }
}

fn parse_field(field: &syn::Field) -> syn::Result<FieldDef> {
    let mut errors = Errors::default();
    let ident = field.ident.clone().ok_or_else(|| syn::Error::new(field.span(), "a model field needs a name"))?;
    let (inner, nullable) = match option_inner(&field.ty) {
        Some(inner) => (inner, true),
        None => (&field.ty, false),
    };
    // `choices` (text) or `choices = integer`, read first: it decides the column type.
    let mut choices: Option<Kind> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("field")) {
        let _ = attr.parse_nested_meta(|meta| {
            let is_choices = meta.path.is_ident("choices");
            // Skip values so the scan goes on past `key = value` options.
            if meta.input.peek(Token![=]) {
                let value: Expr = meta.value()?.parse()?;
                if is_choices {
                    let integer = matches!(&value, Expr::Path(p) if p.path.is_ident("integer"));
                    choices = Some(if integer { Kind::IntegerChoices } else { Kind::Choices });
                }
            } else if is_choices {
                choices = Some(Kind::Choices);
            }
            Ok(())
        });
    }
    let kind = choices.unwrap_or_else(|| Kind::from_type(inner));
    let is_fk = kind == Kind::ForeignKey;
    let target = if is_fk {
        match inner {
            Type::Path(path) => path.path.segments.last().and_then(|s| generic_arg(&s.arguments)).cloned(),
            _ => None,
        }
    } else {
        None
    };
    let column = if is_fk { quote::format_ident!("{}_id", ident, span = ident.span()) } else { ident.clone() };
    let mut def = FieldDef {
        verbose_name: human(&ident.to_string()),
        column,
        db_column: None,
        sql_type: None,
        target,
        on_delete: None,
        related_name: None,
        key_type: None,
        ident,
        inner_ty: inner.clone(),
        kind,
        nullable,
        primary_key: false,
        auto: false,
        unique: false,
        db_index: false,
        max_length: None,
        default: None,
        blank: nullable,
        editable: None,
        help_text: String::new(),
        max_digits: None,
        decimal_places: None,
        auto_now: false,
        auto_now_add: false,
    };
    let mut auto_span: Option<Span> = None;
    let mut max_length_span: Option<Span> = None;
    let mut digits_span: Option<Span> = None;
    let mut auto_now_span: Option<Span> = None;
    let mut range_errors: Vec<syn::Error> = Vec::new();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("field")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
            match key.as_str() {
                "primary_key" => def.primary_key = true,
                "auto" => {
                    def.auto = true;
                    auto_span = Some(meta.path.span());
                }
                "unique" => def.unique = true,
                "db_index" => def.db_index = true,
                "max_length" => {
                    let lit: syn::LitInt = meta.value()?.parse()?;
                    def.max_length = Some(lit.base10_parse::<u32>().map_err(|_| {
                        syn::Error::new(lit.span(), "`max_length` takes a positive whole number")
                    })?);
                    max_length_span = Some(lit.span());
                }
                "default" => {
                    let expr: Expr = meta.value()?.parse()?;
                    def.default = Some(default_value(&expr)?);
                }
                "max_digits" | "decimal_places" => {
                    let lit: syn::LitInt = meta.value()?.parse()?;
                    let n = lit.base10_parse::<u32>().map_err(|_| {
                        syn::Error::new(lit.span(), format!("`{key}` takes a whole number"))
                    })?;
                    // Out of range is reported, and the value kept so no "missing precision" follows.
                    if key == "max_digits" {
                        if !(1..=38).contains(&n) {
                            range_errors.push(syn::Error::new(lit.span(), "`max_digits` is between 1 and 38"));
                        }
                        def.max_digits = Some(n);
                    } else {
                        if n > 28 {
                            range_errors.push(syn::Error::new(lit.span(), "`decimal_places` is at most 28"));
                        }
                        def.decimal_places = Some(n);
                    }
                    digits_span = Some(meta.path.span());
                }
                "auto_now" | "auto_now_add" => {
                    if key == "auto_now" {
                        def.auto_now = true;
                    } else {
                        def.auto_now_add = true;
                    }
                    auto_now_span = Some(meta.path.span());
                }
                "choices" => {
                    if meta.input.peek(Token![=]) {
                        let value: Expr = meta.value()?.parse()?;
                        if !matches!(&value, Expr::Path(p) if p.path.is_ident("integer")) {
                            return Err(syn::Error::new(
                                value.span(),
                                "`choices` stores text; `choices = integer` stores numbers",
                            ));
                        }
                    }
                }
                "key_type" => {
                    let ty: Type = meta.value()?.parse()?;
                    match Kind::from_type(&ty) {
                        kind if kind.is_integer() || matches!(kind, Kind::Text | Kind::Uuid) => {
                            def.key_type = Some((ty, kind));
                        }
                        _ => {
                            return Err(syn::Error::new(
                                ty.span(),
                                "`key_type` is the target's primary key type: an integer, `String` or `Uuid`",
                            ));
                        }
                    }
                }
                "on_delete" => {
                    let action: Ident = meta.value()?.parse()?;
                    if !matches!(action.to_string().as_str(), "cascade" | "protect" | "restrict" | "set_null") {
                        return Err(syn::Error::new(
                            action.span(),
                            "`on_delete` is `cascade`, `protect`, `restrict` or `set_null`",
                        ));
                    }
                    def.on_delete = Some(action);
                }
                "verbose_name" => def.verbose_name = meta.value()?.parse::<syn::LitStr>()?.value(),
                "blank" => def.blank = true,
                "related_name" => {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    if lit.value() != "+" {
                        def.related_name = Some(lit.parse::<Ident>().map_err(|_| {
                            syn::Error::new(lit.span(), "`related_name` is a method name, e.g. `related_name = \"products\"`")
                        })?);
                    }
                }
                "sql_type" => def.sql_type = Some(meta.value()?.parse()?),
                "editable" => {
                    let value: syn::LitBool = meta.value()?.parse()?;
                    def.editable = Some(value.value);
                }
                "db_column" => {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    let name = lit.value();
                    if name.is_empty() || name.contains(['"', '\0']) {
                        return Err(syn::Error::new(lit.span(), "`db_column` is a column name, without quotes"));
                    }
                    def.db_column = Some(name);
                }
                "help_text" => def.help_text = meta.value()?.parse::<syn::LitStr>()?.value(),
                _ => {
                    return Err(meta.error(
                        "unknown `field` option; expected `primary_key`, `auto`, `unique`, `db_index`, `max_length = N`, `max_digits = N`, `decimal_places = N`, `auto_now`, `auto_now_add`, `choices`, `on_delete = ...`, `key_type = ...`, `default = ...`, `db_column = \"...\"`, `sql_type = ...`, `related_name = \"...\"`, `blank`, `editable = false`, `verbose_name = \"...\"` or `help_text = \"...\"`",
                    ));
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    if let Some(span) = auto_span {
        if !def.primary_key {
            errors.push(syn::Error::new(span, "`auto` is for the primary key: `#[field(primary_key, auto)]`"));
        } else if !def.kind.is_integer() || def.nullable {
            errors.push(syn::Error::new(field.ty.span(), "an `auto` primary key is an integer: `i32` or `i64`"));
        }
    }
    if def.kind == Kind::Custom && def.sql_type.is_none() {
        errors.push(syn::Error::new(
            inner.span(),
            format!(
                "`{}` is not a built-in field type (i16, i32, i64, f32, f64, bool, String, Vec<u8>, Decimal, Date, \
                 DateTime, Uuid, Json, ForeignKey<Model>, a `#[field(choices)]` enum, or an Option of one)\n\
                 help: for a type of your own, implement `manouche::db::FieldValue` (`manouche::newtype_field!` does \
                 it for a wrapper) and name its SQL type: `#[field(sql_type = diesel::sql_types::Text)]`",
                inner.to_token_stream().to_string().replace(' ', "")
            ),
        ));
    }
    if let Some(ty) = &def.sql_type
        && def.kind != Kind::Custom
    {
        errors.push(syn::Error::new(ty.span(), "`sql_type` is for field types of your own; this one is built in"));
    }
    if let Some(name) = &def.related_name
        && def.kind != Kind::ForeignKey
    {
        errors.push(syn::Error::new(name.span(), "`related_name` names the reverse of a foreign key"));
    }
    if def.primary_key && def.nullable {
        errors.push(syn::Error::new(field.ty.span(), "a primary key cannot be an `Option`"));
    }
    if let Some(span) = max_length_span
        && !matches!(def.kind, Kind::Text | Kind::Choices | Kind::Custom)
    {
        errors.push(syn::Error::new(span, "`max_length` applies to `String` and `choices` fields"));
    }
    for error in range_errors {
        errors.push(error);
    }
    if let Some(span) = digits_span
        && def.kind != Kind::Decimal
    {
        errors.push(syn::Error::new(span, "`max_digits` and `decimal_places` apply to `Decimal` fields"));
    }
    if def.kind == Kind::Decimal {
        match (def.max_digits, def.decimal_places) {
            (Some(digits), Some(places)) if places > digits => errors.push(syn::Error::new(
                field.ty.span(),
                format!("`decimal_places` ({places}) cannot exceed `max_digits` ({digits})"),
            )),
            (Some(_), Some(_)) => {}
            _ => errors.push(syn::Error::new(
                field.ty.span(),
                "a `Decimal` field needs its precision, as in Django\nhelp: write `#[field(max_digits = 10, decimal_places = 2)]`",
            )),
        }
    }
    if let Some(span) = auto_now_span
        && !matches!(def.kind, Kind::DateTime | Kind::Date)
    {
        errors.push(syn::Error::new(span, "`auto_now` and `auto_now_add` apply to `DateTime` and `Date` fields"));
    }
    if def.kind == Kind::ForeignKey {
        match &def.on_delete {
            None => errors.push(syn::Error::new(
                field.ty.span(),
                "a foreign key says what deleting its target does, as in Django\nhelp: add `#[field(on_delete = cascade)]` (or `protect`, `restrict`, `set_null`)",
            )),
            Some(action) if action == "set_null" && !def.nullable => errors.push(syn::Error::new(
                action.span(),
                "`on_delete = set_null` needs a nullable field: `Option<ForeignKey<...>>`",
            )),
            Some(_) => {}
        }
        // Django indexes foreign keys; a one-to-one key is unique.
        def.db_index = true;
        if matches!(inner, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "OneToOne")) {
            def.unique = true;
        }
        if def.key_type.is_none() {
            def.key_type = Some((syn::parse_quote!(i64), Kind::BigInt));
        }
    } else if let Some(action) = &def.on_delete {
        errors.push(syn::Error::new(action.span(), "`on_delete` applies to `ForeignKey` fields"));
    } else if let Some((ty, _)) = &def.key_type {
        errors.push(syn::Error::new(ty.span(), "`key_type` applies to `ForeignKey` fields"));
    }
    if def.primary_key && !(def.kind.is_integer() || matches!(def.kind, Kind::Text | Kind::Uuid)) {
        errors.push(syn::Error::new(field.ty.span(), "a primary key is an integer, a `String` or a `Uuid`"));
    }
    errors.finish()?;
    Ok(def)
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
