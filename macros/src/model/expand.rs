use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::parse::{FieldDef, Kind, ModelDef};

/// `instance.field = now` for an `auto_now`/`auto_now_add` field of `instance`.
fn stamp_into(instance: &TokenStream, def: &FieldDef) -> TokenStream {
    let field = &def.ident;
    let now = match def.kind {
        Kind::Date => quote!(::manouche::db::today()),
        _ => quote!(::manouche::db::now()),
    };
    if def.nullable {
        quote! { #instance.#field = ::core::option::Option::Some(#now); }
    } else {
        quote! { #instance.#field = #now; }
    }
}

/// A stamp of the instance being saved.
fn stamp(def: &FieldDef) -> TokenStream {
    stamp_into(&quote!(event.instance), def)
}

pub(crate) fn model_impl(item: &syn::ItemStruct, def: &ModelDef) -> TokenStream {
    let name = &item.ident;
    let vis = &item.vis;
    let table = format_ident!("{}", def.table);
    let table_mod = format_ident!("__manouche_table_{}", def.table);
    let pk = def.fields.iter().find(|f| f.primary_key).map(|f| &f.ident);
    let pk_ty = match def.fields.iter().find(|f| f.primary_key) {
        Some(f) => f.inner_ty.clone(),
        None => syn::parse_quote!(()),
    };
    // `bulk_create`: one multi-row insert per chunk, on the backend's own connection (the
    // two-backend enum has no batch insert).
    let batch = |backend: TokenStream| match def.fields.iter().find(|f| f.primary_key) {
        Some(key) if key.auto => quote! {
            ::manouche::db::AnyConnection::#backend(conn) => diesel::insert_into(#table::table)
                .values(&*chunk)
                .returning(#table::#pk)
                .get_results(conn)?,
        },
        _ => quote! {
            ::manouche::db::AnyConnection::#backend(conn) => {
                diesel::insert_into(#table::table).values(&*chunk).execute(conn)?;
                ::std::vec::Vec::new()
            }
        },
    };
    let (batch_sqlite, batch_postgres) = (batch(quote!(Sqlite)), batch(quote!(Postgres)));
    let assign_keys = match def.fields.iter().find(|f| f.primary_key) {
        Some(key) if key.auto => quote! {
            for (row, key) in chunk.iter_mut().zip(keys) {
                row.#pk = key;
            }
        },
        _ => quote! { let _: ::std::vec::Vec<#pk_ty> = keys; },
    };
    let bulk_stamps: Vec<TokenStream> =
        def.fields.iter().filter(|f| f.auto_now || f.auto_now_add).map(|f| stamp_into(&quote!(row), f)).collect();
    let column_count = def.fields.len();
    // `loaddata` inserts rows with the keys a fixture gives, auto keys included.
    let insert_keyed = match def.fields.iter().find(|f| f.primary_key) {
        Some(key) if key.auto => quote! {
            diesel::insert_into(#table::table)
                .values((diesel::ExpressionMethods::eq(#table::#pk, ::core::clone::Clone::clone(&self.#pk)), &self))
                .execute(conn)?;
        },
        _ => quote! {
            diesel::insert_into(#table::table).values(&self).execute(conn)?;
        },
    };
    let insert = match def.fields.iter().find(|f| f.primary_key) {
        Some(key) if key.auto => quote! {
            instance.#pk = diesel::insert_into(#table::table).values(&instance).returning(#table::#pk).get_result(conn)?;
        },
        _ => quote! {
            diesel::insert_into(#table::table).values(&instance).execute(conn)?;
        },
    };

    // The struct, with Diesel's derives; an auto primary key is left to the database on insert.
    let mut strukt = item.clone();
    if let syn::Fields::Named(named) = &mut strukt.fields {
        for (field, def) in named.named.iter_mut().zip(&def.fields) {
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

    let fk_checks = super::relations::key_type_checks(def);
    let bare_sql = |f: &FieldDef| match f.kind {
        Kind::ForeignKey => f.key_type.as_ref().map_or(quote!(diesel::sql_types::BigInt), |(ty, k)| k.sql_type(ty)),
        // A type of the project's own: the SQL type `#[field(sql_type = ...)]` names.
        Kind::Custom => f.sql_type.as_ref().map_or_else(|| f.kind.sql_type(&f.inner_ty), |ty| quote!(#ty)),
        _ => f.kind.sql_type(&f.inner_ty),
    };
    // Each field's type must be a `FieldValue` with the SQL type its column is declared with:
    // the error lands on the field's type.
    let type_checks = def.fields.iter().filter(|f| f.kind != Kind::ForeignKey).map(|f| {
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
    let columns = def.fields.iter().map(|f| {
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
    let handles = def.fields.iter().map(|f| {
        let (field, column) = (&f.ident, &f.column);
        let doc = format!("The `{column}` column, for filters and ordering: `{name}::{field}.eq(...)`.");
        quote! {
            #[doc = #doc]
            #[allow(non_upper_case_globals)]
            #vis const #field: #table::#column = #table::#column;
        }
    });
    let metas = super::metadata::field_literals(def);
    let joins = super::relations::joins(def, name, &table);
    let related_fields = super::relations::related_fields(def, name, &table);
    let reverse_accessors = super::relations::reverse_accessors(def, name, vis);
    let column_of = |ident: &syn::Ident| {
        def.fields.iter().find(|f| f.ident == *ident).map_or_else(|| ident.clone(), |f| f.column.clone())
    };
    let sql_name_of = |ident: &syn::Ident| {
        def.fields.iter().find(|f| f.ident == *ident).map_or_else(|| ident.to_string(), FieldDef::sql_name)
    };
    let default_order = if def.ordering.is_empty() {
        quote! {
            let _ = reversed;
            query
        }
    } else {
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
    // `bulk_update` binds each listed column's value of each row.
    let bind_columns = def.fields.iter().map(|f| {
        let (ident, name) = (&f.ident, f.sql_name());
        let sql = bare_sql(f);
        let sql = if f.nullable { quote!(diesel::sql_types::Nullable<#sql>) } else { sql };
        quote! {
            #name => ::core::option::Option::Some(query.bind::<#sql, _>(::core::clone::Clone::clone(&self.#ident))),
        }
    });
    let field_lists = def.fields.iter().map(|f| {
        let column = &f.column;
        quote! {
            impl ::manouche::db::Columns<#table::table> for #table::#column {
                fn __names(names: &mut ::std::vec::Vec<&'static str>) {
                    names.push(<#table::#column as diesel::Column>::NAME);
                }
            }
        }
    });
    // A bare column orders ascending in `order_by`.
    let column_terms = def.fields.iter().map(|f| {
        let column = &f.column;
        quote! {
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
    let ordering_meta = def.ordering.iter().map(|(field, descending)| {
        let column = sql_name_of(field);
        quote!((#column, #descending))
    });
    let group_meta = |groups: &[Vec<syn::Ident>]| -> Vec<TokenStream> {
        groups
            .iter()
            .map(|group| {
                let columns = group.iter().map(|f| sql_name_of(f));
                quote!(&[#(#columns),*])
            })
            .collect()
    };
    let (together_meta, index_meta) = (group_meta(&def.unique_together), group_meta(&def.indexes));
    let managed = def.managed;
    // A field type of the project's own is named from the model's module: the table's module
    // (two levels down) sees that module's items.

    let many_to_many: Vec<TokenStream> = def
        .many_to_many
        .iter()
        .map(|relation| super::relations::many_to_many(def, name, vis, &pk_ty, relation))
        .collect();
    let pk_sql = match def.fields.iter().find(|f| f.primary_key) {
        Some(f) => f.kind.sql_type(&f.inner_ty),
        None => quote!(diesel::sql_types::BigInt),
    };
    let on_every_save: Vec<TokenStream> = def.fields.iter().filter(|f| f.auto_now).map(stamp).collect();
    let on_create: Vec<TokenStream> = def.fields.iter().filter(|f| f.auto_now_add).map(stamp).collect();
    let model_name_lit = name.to_string();
    let (stamps, save) = match def.fields.iter().find(|f| f.primary_key) {
        Some(key) if key.auto => (
            quote! {
                #(#on_every_save)*
                if event.instance.#pk == 0 {
                    #(#on_create)*
                }
            },
            quote! {
                if event.instance.#pk == 0 {
                    event.instance.#pk = diesel::insert_into(#table::table)
                        .values(&event.instance)
                        .returning(#table::#pk)
                        .get_result(conn)?;
                    event.created = true;
                } else if diesel::update(&event.instance).set(&event.instance).execute(conn)? == 0 {
                    return ::core::result::Result::Err(::manouche::db::Error::DoesNotExist { model: #model_name_lit });
                }
            },
        ),
        _ => (
            quote! { #(#on_every_save)* },
            quote! {
                if diesel::update(&event.instance).set(&event.instance).execute(conn)? == 0 {
                    #(#on_create)*
                    diesel::insert_into(#table::table).values(&event.instance).execute(conn)?;
                    event.created = true;
                }
            },
        ),
    };
    let (app, table_name, model_name, verbose_name) = (&def.app, &def.table, name.to_string(), &def.verbose_name);
    let lower = model_name.to_lowercase();
    let mut permissions: Vec<(syn::Ident, String, String)> = ["view", "add", "change", "delete"]
        .iter()
        .map(|action| {
            (
                format_ident!("PERM_{}", action.to_uppercase()),
                format!("{action}_{lower}"),
                format!("Can {action} {verbose_name}"),
            )
        })
        .collect();
    for (action, description) in &def.permissions {
        let constant = format_ident!("PERM_{}", action.to_string().to_uppercase(), span = action.span());
        permissions.push((constant, format!("{action}_{lower}"), description.clone()));
    }
    let permission_values: Vec<TokenStream> = permissions
        .iter()
        .map(|(_, codename, description)| quote!(::manouche::db::Permission::__new(#app, #codename, #description)))
        .collect();
    let permission_consts = permissions.iter().zip(&permission_values).map(|((constant, codename, _), value)| {
        let doc = format!("The `{app}.{codename}` permission.");
        quote! { #[doc = #doc] #vis const #constant: ::manouche::db::Permission = #value; }
    });
    let table_doc = format!("The Diesel table of [`{name}`]: plain Diesel queries work on it.");

    let text = super::forms::text_impl(name, def);
    quote! {
        #(#type_checks)*
        #text

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
        #(#fk_checks)*
        #(#related_fields)*
        #(#reverse_accessors)*
        #(#column_terms)*
        #(#field_lists)*
        #(#many_to_many)*
        #(#joins)*

        impl #name {
            #(#handles)*
            #(#permission_consts)*
        }

        impl ::manouche::db::Model for #name {
            type Query = #table::BoxedQuery<'static, ::manouche::db::MultiBackend>;
            type Table = #table::table;
            type PrimaryKey = #pk_ty;
            type PrimaryKeySql = #pk_sql;

            fn pk(&self) -> #pk_ty {
                ::core::clone::Clone::clone(&self.#pk)
            }

            fn __bind_column(
                &self,
                query: ::manouche::db::RawQuery<()>,
                column: &str,
            ) -> ::core::option::Option<::manouche::db::RawQuery<()>> {
                match column {
                    #(#bind_columns)*
                    _ => ::core::option::Option::None,
                }
            }

            fn refresh_from_db_sync(
                &mut self,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<(), ::manouche::db::Error> {
                use diesel::{QueryDsl as _, RunQueryDsl as _, SelectableHelper as _, OptionalExtension as _};
                match #table::table.find(self.pk()).select(Self::as_select()).first(conn).optional()? {
                    ::core::option::Option::Some(fresh) => {
                        *self = fresh;
                        ::core::result::Result::Ok(())
                    }
                    ::core::option::Option::None => {
                        ::core::result::Result::Err(::manouche::db::Error::DoesNotExist { model: #model_name_lit })
                    }
                }
            }

            fn __insert_sync(
                mut self,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<Self, ::manouche::db::Error> {
                use diesel::RunQueryDsl as _;
                let mut instance = self;
                #insert
                ::core::result::Result::Ok(instance)
            }

            fn __insert_many_sync(
                mut rows: ::std::vec::Vec<Self>,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<::std::vec::Vec<Self>, ::manouche::db::Error> {
                use diesel::RunQueryDsl as _;
                for row in rows.iter_mut() {
                    #(#bulk_stamps)*
                }
                for chunk in rows.chunks_mut(::manouche::__private::bulk_rows(#column_count)) {
                    let keys: ::std::vec::Vec<#pk_ty> = match conn {
                        #batch_sqlite
                        #batch_postgres
                    };
                    #assign_keys
                }
                ::core::result::Result::Ok(rows)
            }

            fn __filter_pks(query: Self::Query, pks: ::std::vec::Vec<#pk_ty>) -> Self::Query {
                use diesel::{ExpressionMethods as _, QueryDsl as _};
                query.filter(#table::#pk.eq_any(pks))
            }

            fn __insert_keyed(
                self,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<Self, ::manouche::db::Error> {
                use diesel::RunQueryDsl as _;
                #insert_keyed
                ::core::result::Result::Ok(self)
            }

            fn __matching_keys(
                query: Self::Query,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<::std::vec::Vec<#pk_ty>, ::manouche::db::Error> {
                use diesel::{QueryDsl as _, RunQueryDsl as _};
                ::core::result::Result::Ok(query.select(#table::#pk).load(conn)?)
            }

            fn __delete_matching(
                query: Self::Query,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<usize, ::manouche::db::Error> {
                use diesel::{ExpressionMethods as _, QueryDsl as _, RunQueryDsl as _};
                // A boxed query cannot be a subselect of a statement the two-backend connection
                // renders per engine: read the keys, then delete them in chunks, atomically.
                ::manouche::db::atomic(conn, |conn| {
                    let keys: ::std::vec::Vec<#pk_ty> = query.select(#table::#pk).load(conn)?;
                    let mut deleted = 0;
                    for chunk in keys.chunks(::manouche::__private::BULK_CHUNK) {
                        deleted += diesel::delete(#table::table.filter(#table::#pk.eq_any(chunk))).execute(conn)?;
                    }
                    ::core::result::Result::Ok(deleted)
                })
            }

            fn __update_matching<V>(
                query: Self::Query,
                changes: V,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<usize, ::manouche::db::Error>
            where
                V: diesel::AsChangeset<Target = #table::table> + ::core::clone::Clone,
                V::Changeset: diesel::query_builder::QueryFragment<::manouche::db::MultiBackend>,
            {
                use diesel::{ExpressionMethods as _, QueryDsl as _, RunQueryDsl as _};
                ::manouche::db::atomic(conn, |conn| {
                    let keys: ::std::vec::Vec<#pk_ty> = query.select(#table::#pk).load(conn)?;
                    let mut updated = 0;
                    for chunk in keys.chunks(::manouche::__private::BULK_CHUNK) {
                        updated += diesel::update(#table::table.filter(#table::#pk.eq_any(chunk)))
                            .set(::core::clone::Clone::clone(&changes))
                            .execute(conn)?;
                    }
                    ::core::result::Result::Ok(updated)
                })
            }

            fn objects() -> ::manouche::db::QuerySet<Self> {
                use diesel::QueryDsl as _;
                ::manouche::db::QuerySet::__new(#table::table.into_boxed())
            }

            fn __default_order(query: Self::Query, reversed: bool) -> Self::Query {
                use diesel::{ExpressionMethods as _, QueryDsl as _};
                #default_order
            }

            fn __order_by_pk(query: Self::Query, reversed: bool) -> Self::Query {
                use diesel::{ExpressionMethods as _, QueryDsl as _};
                if reversed { query.order_by(#table::#pk.desc()) } else { query.order_by(#table::#pk.asc()) }
            }

            fn signals() -> &'static ::manouche::db::ModelSignals<Self> {
                static SIGNALS: ::manouche::db::ModelSignals<#name> = ::manouche::db::ModelSignals::__new();
                &SIGNALS
            }

            fn save_sync(
                self,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<Self, ::manouche::db::Error> {
                use diesel::RunQueryDsl as _;
                let mut event = ::manouche::db::SaveEvent::__new(self, false);
                #stamps
                ::manouche::db::pre_save::<Self>().send(&event);
                #save
                ::manouche::db::post_save::<Self>().send(&event);
                ::core::result::Result::Ok(event.instance)
            }

            fn delete_sync(
                self,
                conn: &mut ::manouche::db::AnyConnection,
            ) -> ::core::result::Result<Self, ::manouche::db::Error> {
                use diesel::RunQueryDsl as _;
                ::manouche::db::atomic(conn, move |conn| {
                    // What refers to this row goes first, with its own signals (Django's collector).
                    let key = ::manouche::db::FieldValue::to_text(&::manouche::db::Model::pk(&self));
                    ::manouche::__private::delete_related(conn, <Self as ::manouche::db::Model>::meta(), key)?;
                    let event = ::manouche::db::DeleteEvent::__new(self);
                    ::manouche::db::pre_delete::<Self>().send(&event);
                    if diesel::delete(&event.instance).execute(conn)? == 0 {
                        return ::core::result::Result::Err(::manouche::db::Error::DoesNotExist { model: #model_name_lit });
                    }
                    ::manouche::db::post_delete::<Self>().send(&event);
                    ::core::result::Result::Ok(event.instance)
                })
            }

            fn meta() -> &'static ::manouche::db::ModelMeta {
                static FIELDS: &[::manouche::db::Field] = &[#(#metas),*];
                static PERMISSIONS: &[::manouche::db::Permission] = &[#(#permission_values),*];
                static META: ::manouche::db::ModelMeta = ::manouche::db::ModelMeta::__new(
                    #app, #model_name, #table_name, #verbose_name, FIELDS, PERMISSIONS,
                    &[#(#ordering_meta),*], &[#(#together_meta),*], &[#(#index_meta),*], #managed,
                );
                &META
            }
        }

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
