//! What `#[model]` writes into the model's metadata: one `manouche::db::Field` literal a field.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::parse::{Kind, ModelDef};

/// A `::manouche::db::Field { ... }` literal for each field, in declaration order: the static
/// schema migrations read and the presentation forms and the admin read.
pub(crate) fn field_literals(def: &ModelDef) -> Vec<TokenStream> {
    def.fields
        .iter()
        .map(|f| {
            let field = f.ident.to_string();
            let column_name = f.sql_name();
            let inner = &f.inner_ty;
            let ty = match f.kind {
                Kind::Custom => quote!(<#inner as ::manouche::db::FieldValue>::TYPE),
                kind => {
                    let variant = format_ident!("{}", kind.variant());
                    quote!(::manouche::db::FieldType::#variant)
                }
            };
            let relation = match (&f.target, &f.on_delete) {
                (Some(target), Some(action)) => {
                    let action = format_ident!(
                        "{}",
                        match action.to_string().as_str() {
                            "cascade" => "Cascade",
                            "protect" => "Protect",
                            "restrict" => "Restrict",
                            "set_default" => "SetDefault",
                            "do_nothing" => "DoNothing",
                            _ => "SetNull",
                        }
                    );
                    quote!(::core::option::Option::Some(::manouche::db::Relation {
                        to: ::manouche::db::RelationTarget::Model(<#target as ::manouche::db::Model>::meta),
                        on_delete: ::manouche::db::OnDelete::#action,
                    }))
                }
                _ => quote!(::core::option::Option::None),
            };
            let (nullable, primary_key, auto, unique, db_index) =
                (f.nullable, f.primary_key, f.auto, f.unique, f.db_index);
            let (auto_now, auto_now_add) = (f.auto_now, f.auto_now_add);
            let option = |value: Option<u32>| match value {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            let (max_length, max_digits, decimal_places) =
                (option(f.max_length), option(f.max_digits), option(f.decimal_places));
            let default = match &f.default {
                Some(value) => quote!(::core::option::Option::Some(#value)),
                None => quote!(::core::option::Option::None),
            };
            let blank = f.blank;
            let editable = f.editable.unwrap_or(!(f.auto || f.auto_now || f.auto_now_add));
            let choices = if matches!(f.kind, Kind::Choices | Kind::IntegerChoices) {
                quote!(<#inner as ::manouche::db::Choices>::CHOICES)
            } else {
                quote!(&[])
            };
            let (verbose, help) = (&f.verbose_name, &f.help_text);
            quote! {
                ::manouche::db::Field {
                    name: ::std::borrow::Cow::Borrowed(#field),
                    column: ::std::borrow::Cow::Borrowed(#column_name),
                    ty: #ty,
                    nullable: #nullable,
                    primary_key: #primary_key,
                    auto: #auto,
                    unique: #unique,
                    db_index: #db_index,
                    max_length: #max_length,
                    max_digits: #max_digits,
                    decimal_places: #decimal_places,
                    default: #default,
                    auto_now: #auto_now,
                    auto_now_add: #auto_now_add,
                    relation: #relation,
                    verbose_name: ::std::borrow::Cow::Borrowed(#verbose),
                    help_text: ::std::borrow::Cow::Borrowed(#help),
                    blank: #blank,
                    editable: #editable,
                    choices: #choices,
                    widget: <#inner as ::manouche::db::FieldValue>::WIDGET,
                }
            }
        })
        .collect()
}

/// `Model::meta()`: the fields, permissions, default ordering, unique groups and indexes as one
/// static `ModelMeta`.
pub(super) fn meta_method(cx: &super::expand::Model<'_>, permissions: &[TokenStream]) -> TokenStream {
    let def = cx.def;
    let sql_name_of = |ident: &syn::Ident| {
        def.fields
            .iter()
            .find(|f| f.ident == *ident)
            .map_or_else(|| ident.to_string(), super::parse::FieldDef::sql_name)
    };
    let metas = field_literals(def);
    let ordering = def.ordering.iter().map(|(field, descending)| {
        let column = sql_name_of(field);
        quote!((#column, #descending))
    });
    let groups = |groups: &[Vec<syn::Ident>]| -> Vec<TokenStream> {
        groups
            .iter()
            .map(|group| {
                let columns = group.iter().map(&sql_name_of);
                quote!(&[#(#columns),*])
            })
            .collect()
    };
    let (together, indexes) = (groups(&def.unique_together), groups(&def.indexes));
    let (app, model_name, table_name, verbose_name, managed) =
        (&def.app, &cx.model_name, &def.table, &def.verbose_name, def.managed);
    let auto_created = def.auto_created.then(|| quote!(.__auto_created()));
    quote! {
        fn meta() -> &'static ::manouche::db::ModelMeta {
            static FIELDS: &[::manouche::db::Field] = &[#(#metas),*];
            static PERMISSIONS: &[::manouche::db::Permission] = &[#(#permissions),*];
            static META: ::manouche::db::ModelMeta = ::manouche::db::ModelMeta::__new(
                #app, #model_name, #table_name, #verbose_name, FIELDS, PERMISSIONS,
                &[#(#ordering),*], &[#(#together),*], &[#(#indexes),*], #managed,
            )#auto_created;
            &META
        }
    }
}
