//! A model field: the checked `#[field(...)]` options (`FieldDef`), its `Kind`, and parsing one
//! field's attributes: options first, then the checks between them.

use proc_macro2::Span;
use quote::ToTokens as _;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, GenericArgument, Ident, PathArguments, Token, Type};

use super::parse::human;
use crate::diagnostics::Errors;

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
    /// `related_name = "+"`: no reverse accessor.
    pub(crate) no_reverse: bool,
    /// `cascade`, `protect`, `restrict`, `set_null`, `set_default` or `do_nothing`, for a foreign key.
    pub(crate) on_delete: Option<Ident>,
    /// The target's primary key type, for a foreign key (`key_type = i32`; default `i64`).
    pub(crate) key_type: Option<(Type, Kind)>,
    /// The target's Diesel table module, for a target in another crate
    /// (`target_table = manouche::auth::models::auth_user`): Rust's coherence rules cannot see
    /// another crate's table through `<T as Model>::Table`.
    pub(crate) target_table: Option<syn::Path>,
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
    /// The reverse accessor on the target of a foreign key: its `related_name`, or Django's
    /// `<model>_set`; none for `related_name = "+"` and for other fields.
    pub(crate) fn reverse_accessor(&self, model: &Ident) -> Option<Ident> {
        if self.target.is_none() || self.no_reverse {
            return None;
        }
        Some(self.related_name.clone().unwrap_or_else(|| {
            quote::format_ident!("{}_set", model.to_string().to_lowercase(), span = self.ident.span())
        }))
    }

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
    DateTimeTz,
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
        match segment.ident.to_string().as_str() {
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
            "DateTimeTz" if from(&[MANOUCHE, DB]) => Kind::DateTimeTz,
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
        }
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
            Kind::DateTimeTz => "DateTimeTz",
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
            Kind::DateTimeTz => quote!(::manouche::db::sql_types::TimestampTz),
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

/// Where options were written, for the checks made once all are read.
#[derive(Default)]
struct Spans {
    auto: Option<Span>,
    max_length: Option<Span>,
    digits: Option<Span>,
    auto_now: Option<Span>,
    /// Numbers out of range: reported, with the value kept so no "missing precision" follows.
    range_errors: Vec<syn::Error>,
}

/// `choices` (text) or `choices = integer`, read first: it decides the column type.
fn choices_kind(field: &syn::Field) -> Option<Kind> {
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
    choices
}

/// A field with no options yet.
fn plain(ident: Ident, inner: &Type, nullable: bool, kind: Kind) -> FieldDef {
    let is_fk = kind == Kind::ForeignKey;
    let target = match inner {
        Type::Path(path) if is_fk => path.path.segments.last().and_then(|s| generic_arg(&s.arguments)).cloned(),
        _ => None,
    };
    let column = if is_fk { quote::format_ident!("{}_id", ident, span = ident.span()) } else { ident.clone() };
    FieldDef {
        verbose_name: human(&ident.to_string()),
        column,
        db_column: None,
        sql_type: None,
        target,
        on_delete: None,
        related_name: None,
        no_reverse: false,
        key_type: None,
        target_table: None,
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
    }
}

const FIELD_OPTIONS: &str = "unknown `field` option; expected `primary_key`, `auto`, `unique`, `db_index`, \
    `max_length = N`, `max_digits = N`, `decimal_places = N`, `auto_now`, `auto_now_add`, `choices`, \
    `on_delete = ...`, `key_type = ...`, `default = ...`, `db_column = \"...\"`, `sql_type = ...`, \
    `related_name = \"...\"`, `target_table = ...`, `blank`, `editable = false`, `verbose_name = \"...\"` or `help_text = \"...\"`";

/// Reads one `#[field(...)]` option into `def`.
fn option(def: &mut FieldDef, meta: &ParseNestedMeta<'_>, spans: &mut Spans) -> syn::Result<()> {
    let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
    match key.as_str() {
        "primary_key" => def.primary_key = true,
        "auto" => {
            def.auto = true;
            spans.auto = Some(meta.path.span());
        }
        "unique" => def.unique = true,
        "db_index" => def.db_index = true,
        "max_length" | "max_digits" | "decimal_places" => number_option(def, &key, meta, spans)?,
        "default" => {
            let expr: Expr = meta.value()?.parse()?;
            def.default = Some(default_value(&expr)?);
        }
        "auto_now" | "auto_now_add" => {
            if key == "auto_now" {
                def.auto_now = true;
            } else {
                def.auto_now_add = true;
            }
            spans.auto_now = Some(meta.path.span());
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
        "key_type" | "on_delete" | "related_name" | "target_table" => relation_option(def, &key, meta)?,
        "verbose_name" => def.verbose_name = meta.value()?.parse::<syn::LitStr>()?.value(),
        "blank" => def.blank = true,
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
        _ => return Err(meta.error(FIELD_OPTIONS)),
    }
    Ok(())
}

/// `max_length`, `max_digits` and `decimal_places`.
fn number_option(def: &mut FieldDef, key: &str, meta: &ParseNestedMeta<'_>, spans: &mut Spans) -> syn::Result<()> {
    let lit: syn::LitInt = meta.value()?.parse()?;
    if key == "max_length" {
        def.max_length = Some(
            lit.base10_parse::<u32>()
                .map_err(|_| syn::Error::new(lit.span(), "`max_length` takes a positive whole number"))?,
        );
        spans.max_length = Some(lit.span());
        return Ok(());
    }
    let n =
        lit.base10_parse::<u32>().map_err(|_| syn::Error::new(lit.span(), format!("`{key}` takes a whole number")))?;
    if key == "max_digits" {
        if !(1..=38).contains(&n) {
            spans.range_errors.push(syn::Error::new(lit.span(), "`max_digits` is between 1 and 38"));
        }
        def.max_digits = Some(n);
    } else {
        if n > 28 {
            spans.range_errors.push(syn::Error::new(lit.span(), "`decimal_places` is at most 28"));
        }
        def.decimal_places = Some(n);
    }
    spans.digits = Some(meta.path.span());
    Ok(())
}

/// `key_type`, `on_delete` and `related_name`.
fn relation_option(def: &mut FieldDef, key: &str, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    match key {
        "target_table" => {
            if def.target.is_none() {
                return Err(syn::Error::new(
                    meta.path.span(),
                    "`target_table` names a foreign key's target table, for a target in another crate",
                ));
            }
            def.target_table = Some(meta.value()?.parse()?);
        }
        "key_type" => {
            let ty: Type = meta.value()?.parse()?;
            match Kind::from_type(&ty) {
                kind if kind.is_integer() || matches!(kind, Kind::Text | Kind::Uuid) => def.key_type = Some((ty, kind)),
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
            let known = ["cascade", "protect", "restrict", "set_null", "set_default", "do_nothing"];
            if !known.contains(&action.to_string().as_str()) {
                return Err(syn::Error::new(
                    action.span(),
                    "`on_delete` is `cascade`, `protect`, `restrict`, `set_null`, `set_default` or `do_nothing`",
                ));
            }
            def.on_delete = Some(action);
        }
        _ => {
            let lit: syn::LitStr = meta.value()?.parse()?;
            if lit.value() == "+" {
                def.no_reverse = true;
            } else {
                def.related_name = Some(lit.parse::<Ident>().map_err(|_| {
                    syn::Error::new(lit.span(), "`related_name` is a method name, e.g. `related_name = \"products\"`")
                })?);
            }
        }
    }
    Ok(())
}

/// The checks between a field's type and its options (all but the relation's).
fn check_options(def: &FieldDef, field: &syn::Field, spans: Spans, errors: &mut Errors) {
    let inner = &def.inner_ty;
    if let Some(span) = spans.auto {
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
                 DateTime, DateTimeTz, Uuid, Json, ForeignKey<Model>, a `#[field(choices)]` enum, or an Option of one)\n\
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
    if let Some(span) = spans.max_length
        && !matches!(def.kind, Kind::Text | Kind::Choices | Kind::Custom)
    {
        errors.push(syn::Error::new(span, "`max_length` applies to `String` and `choices` fields"));
    }
    for error in spans.range_errors {
        errors.push(error);
    }
    if let Some(span) = spans.digits
        && def.kind != Kind::Decimal
    {
        errors.push(syn::Error::new(span, "`max_digits` and `decimal_places` apply to `Decimal` fields"));
    }
    check_decimal(def, field, errors);
    if let Some(span) = spans.auto_now
        && !matches!(def.kind, Kind::DateTime | Kind::DateTimeTz | Kind::Date)
    {
        errors.push(syn::Error::new(
            span,
            "`auto_now` and `auto_now_add` apply to `DateTime`, `DateTimeTz` and `Date` fields",
        ));
    }
}

/// A decimal's precision, as Django requires it.
fn check_decimal(def: &FieldDef, field: &syn::Field, errors: &mut Errors) {
    if def.kind != Kind::Decimal {
        return;
    }
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

/// A foreign key's `on_delete` (required) and the index, uniqueness and key type it implies;
/// relation options on other fields are errors.
fn check_relation(def: &mut FieldDef, field: &syn::Field, errors: &mut Errors) {
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
            Some(action) if action == "set_default" && def.default.is_none() => errors.push(syn::Error::new(
                action.span(),
                "`on_delete = set_default` needs the key to set: add `default = ...` (the default target's key)",
            )),
            Some(_) => {}
        }
        // Django indexes foreign keys; a one-to-one key is unique.
        def.db_index = true;
        if matches!(&def.inner_ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "OneToOne")) {
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
}

/// One field, checked.
pub(super) fn parse_field(field: &syn::Field) -> syn::Result<FieldDef> {
    let mut errors = Errors::default();
    let ident = field.ident.clone().ok_or_else(|| syn::Error::new(field.span(), "a model field needs a name"))?;
    let (inner, nullable) = match option_inner(&field.ty) {
        Some(inner) => (inner, true),
        None => (&field.ty, false),
    };
    let kind = choices_kind(field).unwrap_or_else(|| Kind::from_type(inner));
    let mut def = plain(ident, inner, nullable, kind);
    let mut spans = Spans::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("field")) {
        if let Err(error) = attr.parse_nested_meta(|meta| option(&mut def, &meta, &mut spans)) {
            errors.push(error);
        }
    }
    check_options(&def, field, spans, &mut errors);
    check_relation(&mut def, field, &mut errors);
    if def.primary_key && !(def.kind.is_integer() || matches!(def.kind, Kind::Text | Kind::Uuid)) {
        errors.push(syn::Error::new(field.ty.span(), "a primary key is an integer, a `String` or a `Uuid`"));
    }
    errors.finish()?;
    Ok(def)
}
