//! Saving and deleting one instance: `save_sync` (insert or update, `auto_now` stamps, save
//! signals), `delete_sync` (through the collector, delete signals), the plain inserts `create`
//! and `loaddata` use, and `refresh_from_db_sync`.

use proc_macro2::TokenStream;
use quote::quote;

use super::expand::Model;
use super::parse::{FieldDef, Kind};

/// `instance.field = now` for an `auto_now`/`auto_now_add` field of `instance`.
pub(super) fn stamp_into(instance: &TokenStream, def: &FieldDef) -> TokenStream {
    let field = &def.ident;
    let now = match def.kind {
        Kind::Date => quote!(::manouche::db::today()),
        Kind::DateTimeTz => quote!(::manouche::db::now_tz()),
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

/// The stamps before `pre_save`, and the insert-or-update: a zero auto key inserts; otherwise an
/// update that matches no row is an error (auto key) or becomes an insert (a key of the user's).
fn stamps_and_write(cx: &Model<'_>) -> (TokenStream, TokenStream) {
    let (table, pk, model_name) = (&cx.table, cx.pk, &cx.model_name);
    let on_every_save: Vec<TokenStream> = cx.def.fields.iter().filter(|f| f.auto_now).map(stamp).collect();
    let on_create: Vec<TokenStream> = cx.def.fields.iter().filter(|f| f.auto_now_add).map(stamp).collect();
    if cx.auto_pk {
        let stamps = quote! {
            #(#on_every_save)*
            if event.instance.#pk == 0 {
                #(#on_create)*
            }
        };
        let write = quote! {
            if event.instance.#pk == 0 {
                event.instance.#pk = diesel::insert_into(#table::table)
                    .values(&event.instance)
                    .returning(#table::#pk)
                    .get_result(conn)?;
                event.created = true;
            } else if diesel::update(&event.instance).set(&event.instance).execute(conn)? == 0 {
                return ::core::result::Result::Err(::manouche::db::Error::DoesNotExist { model: #model_name });
            }
        };
        (stamps, write)
    } else {
        let write = quote! {
            if diesel::update(&event.instance).set(&event.instance).execute(conn)? == 0 {
                #(#on_create)*
                diesel::insert_into(#table::table).values(&event.instance).execute(conn)?;
                event.created = true;
            }
        };
        (quote! { #(#on_every_save)* }, write)
    }
}

/// `save_sync` and `delete_sync`.
fn save_and_delete(cx: &Model<'_>) -> TokenStream {
    let model_name = &cx.model_name;
    let (stamps, write) = stamps_and_write(cx);
    quote! {
        fn save_sync(
            self,
            conn: &mut ::manouche::db::AnyConnection,
        ) -> ::core::result::Result<Self, ::manouche::db::Error> {
            use diesel::RunQueryDsl as _;
            let mut event = ::manouche::db::SaveEvent::__new(self, false);
            #stamps
            ::manouche::db::pre_save::<Self>().send(&event);
            #write
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
                    return ::core::result::Result::Err(::manouche::db::Error::DoesNotExist { model: #model_name });
                }
                ::manouche::db::post_delete::<Self>().send(&event);
                ::core::result::Result::Ok(event.instance)
            })
        }
    }
}

/// The plain inserts (no signals): `__insert_sync` lets the database pick an auto key,
/// `__insert_keyed` (`loaddata`) writes the key the fixture gives.
fn inserts(cx: &Model<'_>) -> TokenStream {
    let (table, pk) = (&cx.table, cx.pk);
    let (insert, insert_keyed) = if cx.auto_pk {
        (
            quote! {
                instance.#pk = diesel::insert_into(#table::table).values(&instance).returning(#table::#pk).get_result(conn)?;
            },
            quote! {
                diesel::insert_into(#table::table)
                    .values((diesel::ExpressionMethods::eq(#table::#pk, ::core::clone::Clone::clone(&self.#pk)), &self))
                    .execute(conn)?;
            },
        )
    } else {
        let plain = quote! { diesel::insert_into(#table::table).values(&instance).execute(conn)?; };
        (plain, quote! { diesel::insert_into(#table::table).values(&self).execute(conn)?; })
    };
    quote! {
        fn __insert_sync(
            mut self,
            conn: &mut ::manouche::db::AnyConnection,
        ) -> ::core::result::Result<Self, ::manouche::db::Error> {
            use diesel::RunQueryDsl as _;
            let mut instance = self;
            #insert
            ::core::result::Result::Ok(instance)
        }

        fn __insert_keyed(
            self,
            conn: &mut ::manouche::db::AnyConnection,
        ) -> ::core::result::Result<Self, ::manouche::db::Error> {
            use diesel::RunQueryDsl as _;
            #insert_keyed
            ::core::result::Result::Ok(self)
        }
    }
}

/// The instance methods of `Model` that write or re-read one row.
pub(super) fn instance_methods(cx: &Model<'_>) -> TokenStream {
    let (table, model_name) = (&cx.table, &cx.model_name);
    let (writes, inserts) = (save_and_delete(cx), inserts(cx));
    quote! {
        #writes
        #inserts

        fn __get_by_pk(
            pk: <Self as ::manouche::db::Model>::PrimaryKey,
            conn: &mut ::manouche::db::AnyConnection,
        ) -> ::core::result::Result<::core::option::Option<Self>, ::manouche::db::Error> {
            use diesel::{QueryDsl as _, RunQueryDsl as _, OptionalExtension as _};
            // On the backend's own connection: `MultiConnection` would build the SQL twice per
            // call, where the typed query's statement is found by its type alone.
            let found = match conn {
                ::manouche::db::AnyConnection::Postgres(pg) => #table::table
                    .find(pk)
                    .select(<Self as diesel::SelectableHelper<diesel::pg::Pg>>::as_select())
                    .first::<Self>(pg)
                    .optional()?,
                ::manouche::db::AnyConnection::Sqlite(sqlite) => #table::table
                    .find(pk)
                    .select(<Self as diesel::SelectableHelper<diesel::sqlite::Sqlite>>::as_select())
                    .first::<Self>(sqlite)
                    .optional()?,
            };
            ::core::result::Result::Ok(found)
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
                    ::core::result::Result::Err(::manouche::db::Error::DoesNotExist { model: #model_name })
                }
            }
        }
    }
}
