//! What query sets do to many rows at once: `bulk_create` (multi-row inserts per chunk),
//! `bulk_update` (binding the listed columns), and deleting / updating the rows a query matches.

use proc_macro2::TokenStream;
use quote::quote;

use super::expand::Model;
use super::table::bare_sql;

/// `__insert_many_sync`: stamps, then one multi-row insert per chunk on the backend's own
/// connection (the two-backend enum has no batch insert), auto keys read back.
fn insert_many(cx: &Model<'_>) -> TokenStream {
    let (table, pk, pk_ty) = (&cx.table, cx.pk, &cx.pk_ty);
    let batch = |backend: TokenStream| {
        if cx.auto_pk {
            quote! {
                ::manouche::db::AnyConnection::#backend(conn) => diesel::insert_into(#table::table)
                    .values(&*chunk)
                    .returning(#table::#pk)
                    .get_results(conn)?,
            }
        } else {
            quote! {
                ::manouche::db::AnyConnection::#backend(conn) => {
                    diesel::insert_into(#table::table).values(&*chunk).execute(conn)?;
                    ::std::vec::Vec::new()
                }
            }
        }
    };
    let (batch_sqlite, batch_postgres) = (batch(quote!(Sqlite)), batch(quote!(Postgres)));
    let assign_keys = if cx.auto_pk {
        quote! {
            for (row, key) in chunk.iter_mut().zip(keys) {
                row.#pk = key;
            }
        }
    } else {
        quote! { let _: ::std::vec::Vec<#pk_ty> = keys; }
    };
    let stamps =
        cx.def.fields.iter().filter(|f| f.auto_now || f.auto_now_add).map(|f| super::save::stamp_into(&quote!(row), f));
    let column_count = cx.def.fields.len();
    quote! {
        fn __insert_many_sync(
            mut rows: ::std::vec::Vec<Self>,
            conn: &mut ::manouche::db::AnyConnection,
        ) -> ::core::result::Result<::std::vec::Vec<Self>, ::manouche::db::Error> {
            use diesel::RunQueryDsl as _;
            for row in rows.iter_mut() {
                #(#stamps)*
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
    }
}

/// `__bind_column`: `bulk_update` binds each listed column's value of each row.
fn bind_column(cx: &Model<'_>) -> TokenStream {
    let arms = cx.def.fields.iter().map(|f| {
        let (ident, name) = (&f.ident, f.sql_name());
        let sql = bare_sql(f);
        let sql = if f.nullable { quote!(diesel::sql_types::Nullable<#sql>) } else { sql };
        quote! {
            #name => ::core::option::Option::Some(query.bind::<#sql, _>(::core::clone::Clone::clone(&self.#ident))),
        }
    });
    quote! {
        fn __bind_column(
            &self,
            query: ::manouche::db::RawQuery<()>,
            column: &str,
        ) -> ::core::option::Option<::manouche::db::RawQuery<()>> {
            match column {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    }
}

/// Reading, deleting and updating the rows a query matches. A boxed query cannot be a subselect
/// of a statement the two-backend connection renders per engine: the keys are read, then used in
/// chunks, atomically.
fn matching(cx: &Model<'_>) -> TokenStream {
    let (table, pk, pk_ty) = (&cx.table, cx.pk, &cx.pk_ty);
    quote! {
        fn __filter_pks(query: Self::Query, pks: ::std::vec::Vec<#pk_ty>) -> Self::Query {
            use diesel::{ExpressionMethods as _, QueryDsl as _};
            query.filter(#table::#pk.eq_any(pks))
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
                // On PostgreSQL the rows are locked as they are selected, and the filter checked
                // again on their latest version: a conditional update (`stock >= n`) racing
                // another transaction never applies to a row that stopped matching, as
                // Django's single `UPDATE ... WHERE` guarantees.
                let select = query.select(#table::#pk);
                let keys: ::std::vec::Vec<#pk_ty> = if conn.backend() == ::manouche::db::Backend::Postgres {
                    ::manouche::__private::ForUpdate(select).load(conn)?
                } else {
                    select.load(conn)?
                };
                let mut updated = 0;
                for chunk in keys.chunks(::manouche::__private::BULK_CHUNK) {
                    updated += diesel::update(#table::table.filter(#table::#pk.eq_any(chunk)))
                        .set(::core::clone::Clone::clone(&changes))
                        .execute(conn)?;
                }
                ::core::result::Result::Ok(updated)
            })
        }
    }
}

/// The `Model` methods for many rows.
pub(super) fn bulk_methods(cx: &Model<'_>) -> TokenStream {
    let (insert_many, bind_column, matching) = (insert_many(cx), bind_column(cx), matching(cx));
    quote! {
        #insert_many
        #bind_column
        #matching
    }
}
