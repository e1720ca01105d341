//! Puts the generated pieces together: the table and struct (`table.rs`), the `Model` impl from
//! its parts (`save.rs`, `bulk.rs`, `metadata.rs`), relations (`relations.rs`), permissions
//! (`permissions.rs`), the text form (`forms.rs`) and the registry entry.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::parse::ModelDef;

/// What every generator reads: the model and the names derived from it once.
pub(super) struct Model<'a> {
    pub(super) item: &'a syn::ItemStruct,
    pub(super) def: &'a ModelDef,
    pub(super) name: &'a syn::Ident,
    pub(super) vis: &'a syn::Visibility,
    /// The Diesel table's name (its module).
    pub(super) table: syn::Ident,
    /// The primary key field (one, the parser checks).
    pub(super) pk: Option<&'a syn::Ident>,
    pub(super) pk_ty: syn::Type,
    /// The primary key is `auto`: the database picks it on insert.
    pub(super) auto_pk: bool,
    pub(super) model_name: String,
}

impl<'a> Model<'a> {
    fn new(item: &'a syn::ItemStruct, def: &'a ModelDef) -> Self {
        let key = def.fields.iter().find(|f| f.primary_key);
        Model {
            item,
            def,
            name: &item.ident,
            vis: &item.vis,
            table: format_ident!("{}", def.table),
            pk: key.map(|f| &f.ident),
            pk_ty: key.map_or_else(|| syn::parse_quote!(()), |f| f.inner_ty.clone()),
            auto_pk: key.is_some_and(|f| f.auto),
            model_name: item.ident.to_string(),
        }
    }
}

/// `__default_order` (the model's `ordering`, or none) and `__order_by_pk`.
fn ordering_methods(cx: &Model<'_>) -> TokenStream {
    let (def, table, pk) = (cx.def, &cx.table, cx.pk);
    let default_order = if def.ordering.is_empty() {
        quote! {
            let _ = reversed;
            query
        }
    } else {
        let column_of = |ident: &syn::Ident| {
            def.fields.iter().find(|f| f.ident == *ident).map_or_else(|| ident.clone(), |f| f.column.clone())
        };
        let terms = |flip: bool| -> Vec<TokenStream> {
            def.ordering
                .iter()
                .map(|(field, descending)| {
                    let column = column_of(field);
                    if *descending != flip { quote!(#table::#column.desc()) } else { quote!(#table::#column.asc()) }
                })
                .collect()
        };
        let (forward, backward) = (terms(false), terms(true));
        quote! {
            if reversed { query.order_by((#(#backward,)*)) } else { query.order_by((#(#forward,)*)) }
        }
    };
    quote! {
        fn __default_order(query: Self::Query, reversed: bool) -> Self::Query {
            use diesel::{ExpressionMethods as _, QueryDsl as _};
            #default_order
        }

        fn __order_by_pk(query: Self::Query, reversed: bool) -> Self::Query {
            use diesel::{ExpressionMethods as _, QueryDsl as _};
            if reversed { query.order_by(#table::#pk.desc()) } else { query.order_by(#table::#pk.asc()) }
        }
    }
}

/// The `Model` impl.
fn model_trait(cx: &Model<'_>, permissions: &[TokenStream]) -> TokenStream {
    let (name, table, pk, pk_ty) = (cx.name, &cx.table, cx.pk, &cx.pk_ty);
    let pk_sql = match cx.def.fields.iter().find(|f| f.primary_key) {
        Some(f) => f.kind.sql_type(&f.inner_ty),
        None => quote!(diesel::sql_types::BigInt),
    };
    let instance = super::save::instance_methods(cx);
    let bulk = super::bulk::bulk_methods(cx);
    let ordering = ordering_methods(cx);
    let meta = super::metadata::meta_method(cx, permissions);
    quote! {
        impl ::manouche::db::Model for #name {
            type Query = #table::BoxedQuery<'static, ::manouche::db::MultiBackend>;
            type Table = #table::table;
            type PrimaryKey = #pk_ty;
            type PrimaryKeySql = #pk_sql;

            fn pk(&self) -> #pk_ty {
                ::core::clone::Clone::clone(&self.#pk)
            }

            fn objects() -> ::manouche::db::QuerySet<Self> {
                use diesel::QueryDsl as _;
                ::manouche::db::QuerySet::__whole_table(#table::table.into_boxed())
            }

            fn signals() -> &'static ::manouche::db::ModelSignals<Self> {
                static SIGNALS: ::manouche::db::ModelSignals<#name> = ::manouche::db::ModelSignals::__new();
                &SIGNALS
            }

            #instance
            #bulk
            #ordering
            #meta
        }
    }
}

pub(crate) fn model_impl(item: &syn::ItemStruct, def: &ModelDef) -> TokenStream {
    let cx = Model::new(item, def);
    let (name, vis, table) = (cx.name, cx.vis, &cx.table);
    // Each field's type is checked first: its error is the one to read.
    let type_checks = super::table::type_checks(&cx);
    let table_items = super::table::table(&cx);
    let (handles, column_impls) = super::table::column_items(&cx);
    let (permission_consts, permission_values) = super::permissions::permissions(&cx);
    let fk_checks = super::relations::key_type_checks(def);
    let joins = super::relations::joins(def, name, table);
    let related_fields = super::relations::related_fields(def, name, table);
    let reverse_accessors = super::relations::reverse_accessors(def, name, vis);
    let many_to_many = def.many_to_many.iter().map(|m| super::relations::many_to_many(def, name, vis, &cx.pk_ty, m));
    let text = super::forms::text_impl(name, def);
    let model = model_trait(&cx, &permission_values);
    quote! {
        #type_checks
        #text
        #table_items
        #(#fk_checks)*
        #(#related_fields)*
        #(#reverse_accessors)*
        #column_impls
        #(#many_to_many)*
        #(#joins)*

        impl #name {
            #(#handles)*
            #(#permission_consts)*
        }

        #model

        const _: () = {
            ::manouche::__private::inventory::submit! {
                ::manouche::__private::ModelEntry {
                    meta: <#name as ::manouche::db::Model>::meta,
                    model: &::manouche::__private::RegistryEntry::<#name>::new(),
                }
            }
        };
    }
}
