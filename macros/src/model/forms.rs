//! The text side of a model: each field read from and written to text, filters, search and
//! ordering by field name. The registry (`manouche::db::registry`), forms, the admin and
//! `dumpdata`/`loaddata` drive models through it without knowing their types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::parse::{FieldDef, Kind, ModelDef};

/// The field's full Rust type (`Option<T>` for a nullable one).
fn full_type(f: &FieldDef) -> TokenStream {
    let inner = &f.inner_ty;
    if f.nullable { quote!(::core::option::Option<#inner>) } else { quote!(#inner) }
}

/// The per-field lists the text methods repeat over.
struct Lists {
    names: Vec<String>,
    idents: Vec<syn::Ident>,
    types: Vec<TokenStream>,
}

/// `to_texts`, `from_texts` (every field's error, not the first) and `set_text`.
fn value_methods(lists: &Lists) -> TokenStream {
    let Lists { names, idents, types } = lists;
    // Locals are prefixed: a field may be called `errors` or `text`.
    quote! {
        fn to_texts(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
            ::std::vec![#((#names, ::manouche::db::FieldValue::to_text(&self.#idents)),)*]
        }

        fn from_texts(
            __text: &dyn ::core::ops::Fn(&str) -> ::std::string::String,
        ) -> ::core::result::Result<Self, ::std::vec::Vec<(&'static str, ::std::string::String)>> {
            let mut __errors = ::std::vec::Vec::new();
            #(
                let #idents: ::core::option::Option<#types> =
                    match <#types as ::manouche::db::FieldValue>::from_text(&__text(#names)) {
                        ::core::result::Result::Ok(value) => ::core::option::Option::Some(value),
                        ::core::result::Result::Err(message) => {
                            __errors.push((#names, message));
                            ::core::option::Option::None
                        }
                    };
            )*
            let (#(::core::option::Option::Some(#idents),)*) = (#(#idents,)*) else {
                return ::core::result::Result::Err(__errors);
            };
            ::core::result::Result::Ok(Self { #(#idents,)* })
        }

        fn set_text(
            &mut self,
            field: &str,
            text: &str,
        ) -> ::core::option::Option<::core::result::Result<(), ::std::string::String>> {
            match field {
                #(
                    #names => ::core::option::Option::Some(
                        <#types as ::manouche::db::FieldValue>::from_text(text).map(|value| self.#idents = value),
                    ),
                )*
                _ => ::core::option::Option::None,
            }
        }
    }
}

/// `filter_text`, `filter_in_text` and `order_text`: by field name, a wrong name an error.
fn query_methods(table: &syn::Ident, def: &ModelDef, model_name: &str) -> TokenStream {
    let filters = def.fields.iter().map(|f| filter_arm(table, f));
    let in_filters = def.fields.iter().map(|f| in_filter_arm(table, f));
    let ranges =
        def.fields.iter().filter(|f| matches!(f.kind, Kind::Date | Kind::DateTime | Kind::DateTimeTz)).map(|f| {
            let (field, column, inner) = (f.ident.to_string(), &f.column, &f.inner_ty);
            quote! {
                #field => {
                    let read = |text: &str| <#inner as ::manouche::db::FieldValue>::from_text(text)
                        .map_err(|message| ::std::format!("`{}`: {message}", #field));
                    let mut query = query;
                    if let ::core::option::Option::Some(lower) = lower {
                        query = diesel::QueryDsl::filter(query, #table::#column.ge(read(lower)?));
                    }
                    if let ::core::option::Option::Some(upper) = upper {
                        query = diesel::QueryDsl::filter(query, #table::#column.lt(read(upper)?));
                    }
                    ::core::result::Result::Ok(query)
                }
            }
        });
    let orders = def.fields.iter().map(|f| {
        let (field, column) = (f.ident.to_string(), &f.column);
        quote! {
            #field => ::core::result::Result::Ok(if descending {
                diesel::QueryDsl::then_order_by(query, #table::#column.desc())
            } else {
                diesel::QueryDsl::then_order_by(query, #table::#column.asc())
            }),
        }
    });
    quote! {
        fn filter_text(
            query: <Self as ::manouche::db::Model>::Query,
            field: &str,
            text: &str,
        ) -> ::core::result::Result<<Self as ::manouche::db::Model>::Query, ::std::string::String> {
            use diesel::ExpressionMethods as _;
            match field {
                #(#filters)*
                _ => ::core::result::Result::Err(::std::format!("{} has no field `{field}`", #model_name)),
            }
        }

        fn filter_in_text(
            query: <Self as ::manouche::db::Model>::Query,
            field: &str,
            texts: &[::std::string::String],
        ) -> ::core::result::Result<<Self as ::manouche::db::Model>::Query, ::std::string::String> {
            use diesel::ExpressionMethods as _;
            match field {
                #(#in_filters)*
                _ => ::core::result::Result::Err(::std::format!("{} has no field `{field}`", #model_name)),
            }
        }

        fn filter_range_text(
            query: <Self as ::manouche::db::Model>::Query,
            field: &str,
            lower: ::core::option::Option<&str>,
            upper: ::core::option::Option<&str>,
        ) -> ::core::result::Result<<Self as ::manouche::db::Model>::Query, ::std::string::String> {
            use diesel::ExpressionMethods as _;
            match field {
                #(#ranges)*
                _ => ::core::result::Result::Err(::std::format!("{} has no date field `{field}`", #model_name)),
            }
        }

        fn order_text(
            query: <Self as ::manouche::db::Model>::Query,
            field: &str,
            descending: bool,
        ) -> ::core::result::Result<<Self as ::manouche::db::Model>::Query, <Self as ::manouche::db::Model>::Query> {
            use diesel::ExpressionMethods as _;
            match field {
                #(#orders)*
                _ => ::core::result::Result::Err(query),
            }
        }
    }
}

/// `search_text`: the text fields, each `LIKE '%text%'`, or-ed.
fn search_method(table: &syn::Ident, def: &ModelDef) -> TokenStream {
    let searchable: Vec<_> =
        def.fields.iter().filter_map(|f| Some((f.ident.to_string(), search_term(table, f)?))).collect();
    let names = searchable.iter().map(|(name, _)| name.strip_prefix("r#").unwrap_or(name).to_owned());
    let searches = searchable.iter().map(|(_, term)| term);
    let key_term = def.fields.iter().find(|f| f.primary_key).map(|key| {
        let column = &key.column;
        quote! {
            if !keys.is_empty() {
                let keys: ::std::vec::Vec<<Self as ::manouche::db::Model>::PrimaryKey> = keys
                    .iter()
                    .filter_map(|k| <<Self as ::manouche::db::Model>::PrimaryKey as ::manouche::db::FieldValue>::from_text(k).ok())
                    .collect();
                let term = ::std::boxed::Box::new(#table::#column.eq_any(keys));
                condition = ::core::option::Option::Some(match condition {
                    ::core::option::Option::Some(before) => ::std::boxed::Box::new(before.or(term)),
                    ::core::option::Option::None => term,
                });
            }
        }
    });
    quote! {
        fn search_text(
            query: <Self as ::manouche::db::Model>::Query,
            text: &str,
            fields: ::core::option::Option<&[&str]>,
            keys: &[::std::string::String],
        ) -> <Self as ::manouche::db::Model>::Query {
            use diesel::{
                BoolExpressionMethods as _, EscapeExpressionMethods as _, ExpressionMethods as _,
                NullableExpressionMethods as _, TextExpressionMethods as _,
            };
            let pattern = ::manouche::__private::like_pattern(text);
            let mut condition: ::core::option::Option<
                ::std::boxed::Box<
                    dyn diesel::BoxableExpression<
                            #table::table,
                            ::manouche::db::MultiBackend,
                            SqlType = diesel::sql_types::Bool,
                        >,
                >,
            > = ::core::option::Option::None;
            #(
                if fields.is_none_or(|fields| fields.contains(&#names)) {
                    let term = ::std::boxed::Box::new(#searches);
                    condition = ::core::option::Option::Some(match condition {
                        ::core::option::Option::Some(before) => ::std::boxed::Box::new(before.or(term)),
                        ::core::option::Option::None => term,
                    });
                }
            )*
            #key_term
            match condition {
                ::core::option::Option::Some(condition) => diesel::QueryDsl::filter(query, condition),
                ::core::option::Option::None => query,
            }
        }
    }
}

/// `impl manouche::db::ModelText for Model`.
pub(crate) fn text_impl(name: &syn::Ident, def: &ModelDef) -> TokenStream {
    let table = format_ident!("{}", def.table);
    let lists = Lists {
        names: def.fields.iter().map(|f| f.ident.to_string()).collect(),
        idents: def.fields.iter().map(|f| f.ident.clone()).collect(),
        types: def.fields.iter().map(full_type).collect(),
    };
    let values = value_methods(&lists);
    let queries = query_methods(&table, def, &name.to_string());
    let search = search_method(&table, def);
    let display = match &def.display {
        // The format string names fields: each is a local here, so `{nmae}` fails on the string.
        Some(format) => {
            let idents = &lists.idents;
            quote! {
                #[allow(unused_variables)]
                let Self { #(#idents,)* } = self;
                ::std::format!(#format)
            }
        }
        None => quote! {
            use ::manouche::__private::{ViaDisplay as _, ViaPk as _};
            (&::manouche::__private::Shown(self)).__shown()
        },
    };
    quote! {
        impl ::manouche::db::ModelText for #name {
            #values
            #queries
            #search

            fn display(&self) -> ::std::string::String {
                #display
            }
        }
    }
}

/// `"name" => query.filter(column.eq(value))`, NULL-aware for nullable fields; JSON columns have
/// no equality on PostgreSQL, so they are refused.
fn filter_arm(table: &syn::Ident, f: &FieldDef) -> TokenStream {
    let (field, column) = (f.ident.to_string(), &f.column);
    let ty = full_type(f);
    if f.kind == Kind::Json {
        return quote! {
            #field => ::core::result::Result::Err(::std::format!("`{}` is JSON, which cannot be filtered on", #field)),
        };
    }
    let apply = if f.nullable {
        quote! {
            match value {
                ::core::option::Option::Some(value) => diesel::QueryDsl::filter(query, #table::#column.eq(value)),
                ::core::option::Option::None => diesel::QueryDsl::filter(query, #table::#column.is_null()),
            }
        }
    } else {
        quote!(diesel::QueryDsl::filter(query, #table::#column.eq(value)))
    };
    quote! {
        #field => {
            let value = <#ty as ::manouche::db::FieldValue>::from_text(text)
                .map_err(|message| ::std::format!("`{}`: {message}", #field))?;
            ::core::result::Result::Ok(#apply)
        }
    }
}

/// `"name" => query.filter(column.eq_any(values))`; JSON refused as in [`filter_arm`].
fn in_filter_arm(table: &syn::Ident, f: &FieldDef) -> TokenStream {
    let (field, column) = (f.ident.to_string(), &f.column);
    let ty = full_type(f);
    if f.kind == Kind::Json {
        return quote! {
            #field => ::core::result::Result::Err(::std::format!("`{}` is JSON, which cannot be filtered on", #field)),
        };
    }
    quote! {
        #field => {
            let values = texts
                .iter()
                .map(|text| <#ty as ::manouche::db::FieldValue>::from_text(text))
                .collect::<::core::result::Result<::std::vec::Vec<#ty>, _>>()
                .map_err(|message| ::std::format!("`{}`: {message}", #field))?;
            ::core::result::Result::Ok(diesel::QueryDsl::filter(query, #table::#column.eq_any(values)))
        }
    }
}

/// `lower(column) LIKE '%text%'` for a text field (Django's `icontains`), `None` for others.
fn search_term(table: &syn::Ident, f: &FieldDef) -> Option<TokenStream> {
    if !matches!(f.kind, Kind::Text | Kind::Choices) {
        return None;
    }
    let column = &f.column;
    Some(if f.nullable {
        quote!(::manouche::__private::lower(#table::#column.assume_not_null()).like(pattern.clone()).escape('\\'))
    } else {
        quote!(::manouche::__private::lower(#table::#column).like(pattern.clone()).escape('\\'))
    })
}
