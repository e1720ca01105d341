//! `#[model]`: parse the struct into a `ModelDef`, then generate the Diesel table, derives,
//! column handles and the `Model` impl.

mod bulk;
mod expand;
mod fields;
mod forms;
mod metadata;
mod parse;
mod permissions;
mod relations;
mod save;
mod table;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error =
                syn::Error::new(error.span(), "`#[model]` goes on a struct with named fields").into_compile_error();
            return quote! { #item #error };
        }
    };
    match parse::ModelDef::parse(args, &mut item) {
        Ok(def) => expand::model_impl(&item, &def),
        // Keep the struct (without our field attributes) so code naming it still compiles.
        Err(error) => {
            let error = error.into_compile_error();
            quote! { #item #error }
        }
    }
}
