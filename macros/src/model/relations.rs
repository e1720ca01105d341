//! What `#[model]` generates for relations: joins to foreign keys' targets, the related-field
//! impls behind `select_related`/`prefetch_related`, key type checks, and many-to-many through
//! models and accessors.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned as _;

use super::parse::{ManyToManyDef, ModelDef};

/// `JoinTo` to each foreign key's target (one per target: Diesel allows one `JoinTo` a pair).
pub(crate) fn joins(def: &ModelDef, name: &syn::Ident, table: &syn::Ident) -> Vec<TokenStream> {
    // Joins to each foreign key's target (one per target: Diesel allows one `JoinTo` a pair).
    let mut joined: Vec<String> = Vec::new();
    def.fields
        .iter()
        .filter_map(|f| {
            let target = f.target.as_ref()?;
            let key = quote!(#target).to_string();
            if key == "Self" || *name == key || joined.contains(&key) {
                return None;
            }
            joined.push(key);
            let column = &f.column;
            // The target's table by its own path when given (another crate's model): a projection
            // in an impl header is not normalised across crates by coherence.
            let (target_table, same_table) = match &f.target_table {
                Some(path) => {
                    let check = quote::quote_spanned! {path.span()=>
                        const _: fn(<#target as ::manouche::db::Model>::Table) -> #path::table = |table| table;
                    };
                    (quote!(#path::table), check)
                }
                None => (quote!(<#target as ::manouche::db::Model>::Table), quote!()),
            };
            Some(quote! {
                #same_table
                impl diesel::JoinTo<#target_table> for #table::table {
                    type FromClause = #target_table;
                    type OnClause = diesel::dsl::Eq<
                        diesel::internal::table_macro::NullableExpression<#table::#column>,
                        diesel::internal::table_macro::NullableExpression<
                            <#target_table as diesel::Table>::PrimaryKey,
                        >,
                    >;
                    fn join_target(rhs: Self::FromClause) -> (Self::FromClause, Self::OnClause) {
                        use diesel::{ExpressionMethods as _, NullableExpressionMethods as _};
                        let key = diesel::Table::primary_key(&rhs);
                        (rhs, #table::#column.nullable().eq(key.nullable()))
                    }
                }
                impl diesel::query_source::TableNotEqual<#target_table> for #table::table {}
                impl diesel::query_source::TableNotEqual<#table::table> for #target_table {}
            })
        })
        .collect()
}

/// `RelatedField` for each foreign key column: how `select_related` and `prefetch_related`
/// name a relation.
pub(crate) fn related_fields(def: &ModelDef, name: &syn::Ident, table: &syn::Ident) -> Vec<TokenStream> {
    // Each foreign key column names its relation for `prefetch_related`.
    def
        .fields
        .iter()
        .filter_map(|f| {
            let target = f.target.as_ref()?;
            let (field, column) = (&f.ident, &f.column);
            let (key, set) = if f.nullable {
                (
                    quote!(instance.#field.as_ref().map(|fk| ::core::clone::Clone::clone(fk.id()))),
                    quote!(if let ::core::option::Option::Some(fk) = &mut instance.#field { fk.__set_loaded(target) }),
                )
            } else {
                (
                    quote!(::core::option::Option::Some(::core::clone::Clone::clone(instance.#field.id()))),
                    quote!(instance.#field.__set_loaded(target)),
                )
            };
            let self_target = {
                let key = quote!(#target).to_string();
                key == "Self" || *name == key
            };
            let select_related = if self_target {
                // A table joined to itself needs an alias: load the targets with one more query.
                quote! {
                    use diesel::RunQueryDsl as _;
                    let mut rows: ::std::vec::Vec<#name> = query.load(conn)?;
                    ::manouche::__private::attach_targets::<#table::#column>(&mut rows, conn)?;
                    ::core::result::Result::Ok(rows)
                }
            } else if f.nullable {
                quote! {
                    use diesel::{ExpressionMethods as _, JoinOnDsl as _, NullableExpressionMethods as _, QueryDsl as _, RunQueryDsl as _, SelectableHelper as _};
                    let target = <<#target as ::manouche::db::Model>::Table as ::core::default::Default>::default();
                    let key = diesel::Table::primary_key(&target);
                    let rows: ::std::vec::Vec<(#name, ::core::option::Option<#target>)> = query
                        .left_join(target.on(#table::#column.eq(key.nullable())))
                        .select((<#name>::as_select(), <::core::option::Option<#target>>::as_select()))
                        .load(conn)?;
                    ::core::result::Result::Ok(rows.into_iter().map(|(mut instance, target)| {
                        if let ::core::option::Option::Some(target) = target {
                            let target = ::std::sync::Arc::new(target);
                            #set;
                        }
                        instance
                    }).collect())
                }
            } else {
                quote! {
                    use diesel::{ExpressionMethods as _, JoinOnDsl as _, QueryDsl as _, RunQueryDsl as _, SelectableHelper as _};
                    let target = <<#target as ::manouche::db::Model>::Table as ::core::default::Default>::default();
                    let key = diesel::Table::primary_key(&target);
                    let rows: ::std::vec::Vec<(#name, #target)> = query
                        .inner_join(target.on(#table::#column.eq(key)))
                        .select((<#name>::as_select(), <#target>::as_select()))
                        .load(conn)?;
                    ::core::result::Result::Ok(rows.into_iter().map(|(mut instance, target)| {
                        let target = ::std::sync::Arc::new(target);
                        #set;
                        instance
                    }).collect())
                }
            };
            Some(quote! {
                impl ::manouche::db::RelatedField for #table::#column {
                    fn __select_related(
                        query: <#name as ::manouche::db::Model>::Query,
                        conn: &mut ::manouche::db::AnyConnection,
                    ) -> ::core::result::Result<::std::vec::Vec<#name>, ::manouche::db::Error> {
                        #select_related
                    }

                    type Model = #name;
                    type Target = #target;

                    fn key(instance: &#name) -> ::core::option::Option<<#target as ::manouche::db::Model>::PrimaryKey> {
                        #key
                    }

                    fn set_loaded(instance: &mut #name, target: ::std::sync::Arc<#target>) {
                        #set
                    }

                    fn filter_keys(
                        query: <#name as ::manouche::db::Model>::Query,
                        keys: ::std::vec::Vec<<#target as ::manouche::db::Model>::PrimaryKey>,
                    ) -> <#name as ::manouche::db::Model>::Query {
                        use diesel::{ExpressionMethods as _, QueryDsl as _};
                        query.filter(#table::#column.eq_any(keys))
                    }
                }
            })
        })
        .collect()
}

/// `target.<related_name>()` (Django's `<model>_set` when none is given) for each foreign key:
/// the rows pointing to a target, as a query set. A trait per key (`ProductCategoryReverse`),
/// implemented for the target, so the target may be a model of another crate (`auth.User`);
/// importing the model's module (`use shop::models::*`) brings it in.
pub(crate) fn reverse_accessors(def: &ModelDef, name: &syn::Ident, vis: &syn::Visibility) -> Vec<TokenStream> {
    def.fields
        .iter()
        .filter_map(|f| {
            let (target, accessor) = (f.target.as_ref()?, f.reverse_accessor(name)?);
            let field = &f.ident;
            let trait_name = format_ident!("{}{}Reverse", name, camel(&field.to_string()), span = field.span());
            let doc = format!("The {name} rows whose `{field}` is this one (Django's reverse accessor).");
            let trait_doc = format!("`{accessor}()` on the target of `{name}::{field}`: import it to call it.");
            Some(quote! {
                #[doc = #trait_doc]
                #vis trait #trait_name {
                    #[doc = #doc]
                    fn #accessor(&self) -> ::manouche::db::QuerySet<#name>;
                }
                impl #trait_name for #target {
                    fn #accessor(&self) -> ::manouche::db::QuerySet<#name> {
                        ::manouche::db::Model::related(self, #name::#field)
                    }
                }
            })
        })
        .collect()
}

/// A foreign key's column has the target's key type (`key_type`, checked against the target).
pub(crate) fn key_type_checks(def: &ModelDef) -> Vec<TokenStream> {
    // A foreign key's column has the target's key type (`key_type`, checked against the target).
    def.fields
        .iter()
        .filter_map(|f| {
            let target = f.target.as_ref()?;
            let (key_ty, _) = f.key_type.as_ref()?;
            let span = syn::spanned::Spanned::span(&f.inner_ty);
            Some(quote::quote_spanned! {span=>
                const _: () = {
                    #[allow(dead_code)]
                    fn the_target_key_type_is_key_type()
                    where
                        #target: ::manouche::db::Model<PrimaryKey = #key_ty>,
                    {
                    }
                };
            })
        })
        .collect()
}

/// `tags` → `Tags`.
fn camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

/// The through model of `#[many_to_many(relation = Target)]` (generated unless declared: a
/// model of its own, expanded by `#[model]` again), its `ManyToManyThrough` impl and the
/// `instance.relation()` accessor. The through model's keys are reached through its column
/// handles (`ProductTags::product`), so a declared model needs only its two foreign keys, named
/// after the two models (`product`, `tag`).
pub(crate) fn many_to_many(
    def: &ModelDef,
    name: &syn::Ident,
    vis: &syn::Visibility,
    pk_ty: &syn::Type,
    relation: &ManyToManyDef,
) -> TokenStream {
    let (relation_name, target) = (&relation.name, &relation.target);
    let from_name = name.to_string().to_lowercase();
    let to_name = match target {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string().to_lowercase()).unwrap_or_default(),
        _ => String::new(),
    };
    let (from_field, to_field) = if from_name == to_name {
        (format_ident!("from_{}", from_name), format_ident!("to_{}", to_name))
    } else {
        (format_ident!("{}", from_name), format_ident!("{}", to_name))
    };
    let generated = format_ident!("{}{}", name, camel(&relation_name.to_string()));
    let through: syn::Type = relation.through.clone().unwrap_or_else(|| syn::parse_quote!(#generated));
    let definition = if relation.through.is_some() {
        quote!()
    } else {
        generated_through(def, name, vis, pk_ty, relation, (&generated, &from_field, &to_field))
    };
    let link = if relation.through.is_some() {
        quote!(::core::option::Option::None)
    } else {
        quote! {
            ::core::option::Option::Some(#generated {
                id: 0,
                #from_field: ::manouche::db::ForeignKey::new(from),
                #to_field: ::manouche::db::ForeignKey::new(to),
            })
        }
    };
    let accessor_doc = format!("The `{relation_name}` of this row: add, remove, list.");
    quote! {
        #definition

        impl ::manouche::db::ManyToManyThrough for #through {
            type From = #name;
            type To = #target;

            #[allow(unused_variables)]
            fn link(from: #pk_ty, to: <#target as ::manouche::db::Model>::PrimaryKey) -> ::core::option::Option<Self> {
                #link
            }

            fn targets(from: #pk_ty) -> <#target as ::manouche::db::Model>::Query {
                use diesel::{ExpressionMethods as _, QueryDsl as _};
                let links = <<#through as ::manouche::db::Model>::Table as ::core::default::Default>::default();
                let linked = links.filter(#through::#from_field.eq(from)).select(#through::#to_field);
                let key = diesel::Table::primary_key(&<<#target as ::manouche::db::Model>::Table as ::core::default::Default>::default());
                <#target as ::manouche::db::Model>::objects().__into_unordered().filter(key.eq_any(linked))
            }

            fn links(
                from: #pk_ty,
                to: ::core::option::Option<<#target as ::manouche::db::Model>::PrimaryKey>,
            ) -> <Self as ::manouche::db::Model>::Query {
                use diesel::{ExpressionMethods as _, QueryDsl as _};
                let query = <Self as ::manouche::db::Model>::objects().__into_unordered().filter(#through::#from_field.eq(from));
                match to {
                    ::core::option::Option::Some(to) => query.filter(#through::#to_field.eq(to)),
                    ::core::option::Option::None => query,
                }
            }

            fn load_for(
                conn: &mut ::manouche::db::AnyConnection,
                from: ::std::vec::Vec<#pk_ty>,
            ) -> ::core::result::Result<::std::vec::Vec<(#pk_ty, #target)>, ::manouche::db::Error> {
                use diesel::{ExpressionMethods as _, QueryDsl as _, RunQueryDsl as _};
                let mut rows = ::std::vec::Vec::new();
                for chunk in from.chunks(::manouche::__private::BULK_CHUNK) {
                    let loaded: ::std::vec::Vec<(#pk_ty, #target)> =
                        <<#through as ::manouche::db::Model>::Table as ::core::default::Default>::default()
                            .inner_join(<<#target as ::manouche::db::Model>::Table as ::core::default::Default>::default())
                            .filter(#through::#from_field.eq_any(chunk))
                            .select((#through::#from_field, <#target as diesel::SelectableHelper<::manouche::db::MultiBackend>>::as_select()))
                            .load(conn)?;
                    rows.extend(loaded);
                }
                ::core::result::Result::Ok(rows)
            }
        }

        impl #name {
            #[doc = #accessor_doc]
            #vis fn #relation_name(&self) -> ::manouche::db::ManyRelated<#through> {
                ::manouche::db::ManyRelated::__new(::manouche::db::Model::pk(self))
            }
        }
    }
}

/// The through model `#[many_to_many]` generates when none is declared: a key, a foreign key to
/// each side, unique together.
fn generated_through(
    def: &ModelDef,
    name: &syn::Ident,
    vis: &syn::Visibility,
    pk_ty: &syn::Type,
    relation: &ManyToManyDef,
    (generated, from_field, to_field): (&syn::Ident, &syn::Ident, &syn::Ident),
) -> TokenStream {
    let (relation_name, target) = (&relation.name, &relation.target);
    let through_table_name = format!("{}_{}", def.table, relation_name);
    let app = &def.app;
    let (from_lit, to_lit) = (from_field.to_string(), to_field.to_string());
    let doc = format!(
        "The links of `{name}::{relation_name}` (table `{through_table_name}`), generated by `#[many_to_many]`."
    );
    quote! {
        #[::manouche::model(app = #app, table = #through_table_name, unique_together = [[#from_lit, #to_lit]], __auto_created = true)]
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #vis struct #generated {
            /// The key.
            #[field(primary_key, auto)]
            pub id: i64,
            /// The row holding the relation.
            #[field(on_delete = cascade, key_type = #pk_ty)]
            pub #from_field: ::manouche::db::ForeignKey<#name>,
            /// The related row.
            #[field(on_delete = cascade)]
            pub #to_field: ::manouche::db::ForeignKey<#target>,
        }
    }
}
