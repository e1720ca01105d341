//! `#[view]`: parse the attribute and function into a `ViewDef`, then expand it.

mod expand;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = syn::Error::new(error.span(), "`#[view]` goes on an `async fn`").into_compile_error();
            return quote! { #item #error };
        }
    };
    match parse::ViewDef::parse(args, &item) {
        Ok(def) => expand::view_impl(&item, &def),
        // Keep a unit struct of the view's name so patterns naming it don't add errors.
        Err(error) => {
            let error = error.into_compile_error();
            let vis = &item.vis;
            let name = &item.sig.ident;
            quote! {
                #[allow(non_camel_case_types)]
                #[derive(Debug, Clone, Copy)]
                #vis struct #name;
                #error
            }
        }
    }
}
