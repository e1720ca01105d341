//! `#[view]`: parse the attribute and function into a `ViewDef`, then expand it.

mod caching;
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
        // Keep the view's name as a `View`, so patterns naming it add no second error.
        Err(error) => {
            let error = error.into_compile_error();
            let vis = &item.vis;
            let name = &item.sig.ident;
            let fn_name = name.to_string();
            quote! {
                #[allow(non_camel_case_types)]
                #[derive(Debug, Clone, Copy)]
                #vis struct #name;
                impl ::manouche::__private::View for #name {
                    fn info(&self) -> &::manouche::__private::ViewInfo {
                        static INFO: ::manouche::__private::ViewInfo =
                            ::manouche::__private::ViewInfo::__new(#fn_name, &[], &[], #fn_name);
                        &INFO
                    }
                    fn call(
                        &self,
                        _: ::manouche::__private::ActixRequest,
                        _: ::manouche::__private::ActixPayload,
                    ) -> ::manouche::__private::LocalBoxFuture<
                        ::core::result::Result<::manouche::__private::ActixResponse, ::manouche::Error>,
                    > {
                        ::std::boxed::Box::pin(::core::future::ready(::core::result::Result::Err(
                            ::manouche::Error::ImproperlyConfigured(::std::string::String::from(#fn_name)),
                        )))
                    }
                }
                #error
            }
        }
    }
}
