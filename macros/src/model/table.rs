//! The struct with Diesel's derives, its `table!`, the column handles and the per-column trait
//! impls (order terms, column lists), and the check that each field's type is a field type.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::expand::Model;
use super::parse::{FieldDef, Kind};

/// The SQL type of a field's column, without `Nullable`.
pub(super) fn bare_sql(f: &FieldDef) -> TokenStream {
    match f.kind {
        Kind::ForeignKey => f.key_type.as_ref().map_or(quote!(diesel::sql_types::BigInt), |(ty, k)| k.sql_type(ty)),
        // A type of the project's own: the SQL type `#[field(sql_type = ...)]` names.
        Kind::Custom => f.sql_type.as_ref().map_or_else(|| f.kind.sql_type(&f.inner_ty), |ty| quote!(#ty)),
        _ => f.kind.sql_type(&f.inner_ty),
    }
}

/// The user's struct with Diesel's derives and attributes: an auto primary key is left to the
/// database on insert, a renamed column is mapped, a decimal is read back at its scale.
fn derived_struct(cx: &Model<'_>) -> TokenStream {
    let (table, pk) = (&cx.table, cx.pk);
    let mut strukt = cx.item.clone();
    if let syn::Fields::Named(named) = &mut strukt.fields {
        for (field, def) in named.named.iter_mut().zip(&cx.def.fields) {
            if def.auto {
                field.attrs.push(syn::parse_quote!(#[diesel(skip_insertion)]));
            }
            if def.column != def.ident {
                let column = &def.column;
                field.attrs.push(syn::parse_quote!(#[diesel(column_name = #column)]));
            }
            // SQLite keeps a decimal's value, not its written scale: read it back at the field's.
            if def.kind == Kind::Decimal {
                let places = def.decimal_places.unwrap_or(0);
                let carrier = if def.nullable {
                    quote!(::manouche::__private::ScaledOption<#places>)
                } else {
                    quote!(::manouche::__private::Scaled<#places>)
                };
                field.attrs.push(syn::parse_quote!(#[diesel(deserialize_as = #carrier)]));
            }
        }
    }
    quote! {
        #[derive(
            diesel::Queryable,
            diesel::QueryableByName,
            diesel::Selectable,
            diesel::Insertable,
            diesel::AsChangeset,
            diesel::Identifiable,
        )]
        #[diesel(table_name = #table, primary_key(#pk), treat_none_as_null = true, treat_none_as_default_value = false)]
        #strukt
    }
}

/// Each field's type must be a `FieldValue` with the SQL type its column is declared with: the
/// error lands on the field's type.
pub(super) fn type_checks(cx: &Model<'_>) -> TokenStream {
    let checks = cx.def.fields.iter().filter(|f| f.kind != Kind::ForeignKey).map(|f| {
        let inner = &f.inner_ty;
        let sql = bare_sql(f);
        let bound = quote_spanned!(inner.span()=> ::manouche::db::FieldValue<SqlType = #sql>);
        quote_spanned! {inner.span()=>
            const _: () = {
                #[allow(dead_code)]
                fn __field_type() where #inner: #bound {}
            };
        }
    });
    quote!(#(#checks)*)
}

/// The `table!` in a module of its own, re-exported under the table's name.
fn table_module(cx: &Model<'_>) -> TokenStream {
    let (name, vis, table, pk) = (cx.name, cx.vis, &cx.table, cx.pk);
    let table_mod = quote::format_ident!("__manouche_table_{}", cx.def.table);
    let columns = cx.def.fields.iter().map(|f| {
        let column = &f.column;
        let sql = bare_sql(f);
        let doc = format!("The `{}` column.", f.sql_name());
        let sql_name = f.db_column.as_ref().map(|name| quote!(#[sql_name = #name]));
        if f.nullable {
            quote! { #[doc = #doc] #sql_name #column -> diesel::sql_types::Nullable<#sql>, }
        } else {
            quote! { #[doc = #doc] #sql_name #column -> #sql, }
        }
    });
    let table_doc = format!("The Diesel table of [`{name}`]: plain Diesel queries work on it.");
    quote! {
        // Diesel's column structs carry no docs of their own: keep the `missing_docs` lint of the
        // user's crate about the user's items.
        #[allow(missing_docs)]
        #[doc(hidden)]
        mod #table_mod {
            diesel::table! {
                use diesel::sql_types::*;
                #[doc = #table_doc]
                #table (#pk) {
                    #(#columns)*
                }
            }
        }
        #[doc = #table_doc]
        #vis use #table_mod::#table;
    }
}

/// Per column: the handle on the model (`Product::price`), and the impls that let a bare column
/// order ascending and be listed in `bulk_update`.
pub(super) fn column_items(cx: &Model<'_>) -> (Vec<TokenStream>, TokenStream) {
    let (vis, table, name) = (cx.vis, &cx.table, cx.name);
    let handles = cx
        .def
        .fields
        .iter()
        .map(|f| {
            let (field, column) = (&f.ident, &f.column);
            let doc = format!("The `{column}` column, for filters and ordering: `{name}::{field}.eq(...)`.");
            quote! {
                #[doc = #doc]
                #[allow(non_upper_case_globals)]
                #vis const #field: #table::#column = #table::#column;
            }
        })
        .collect();
    let impls = cx.def.fields.iter().map(|f| {
        let column = &f.column;
        quote! {
            impl ::manouche::db::Columns<#table::table> for #table::#column {
                fn __names(names: &mut ::std::vec::Vec<&'static str>) {
                    names.push(<#table::#column as diesel::Column>::NAME);
                }
            }
            impl<Q> ::manouche::db::OrderTerm<Q> for #table::#column
            where
                Q: diesel::query_dsl::methods::ThenOrderDsl<diesel::helper_types::Asc<#table::#column>, Output = Q>
                    + diesel::query_dsl::methods::ThenOrderDsl<diesel::helper_types::Desc<#table::#column>, Output = Q>,
            {
                fn __then_order(self, query: Q, reversed: bool) -> Q {
                    ::manouche::__private::column_term(self, query, reversed)
                }
            }
        }
    });
    (handles, quote!(#(#impls)*))
}

/// The derived struct and its table.
pub(super) fn table(cx: &Model<'_>) -> TokenStream {
    let (strukt, module) = (derived_struct(cx), table_module(cx));
    quote! {
        #strukt
        #module
    }
}
