use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::parse::{Guard, ViewDef, guard_name};

pub(crate) fn view_impl(item: &syn::ItemFn, def: &ViewDef) -> TokenStream {
    let vis = &item.vis;
    let name = &item.sig.ident;
    let fn_name = name.to_string();
    let route_name = &def.name;
    let methods = &def.methods;
    let docs: Vec<&syn::Attribute> = item.attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    let other_attrs: Vec<&syn::Attribute> =
        item.attrs.iter().filter(|a| !a.path().is_ident("doc") && guard_name(a).is_none()).collect();
    let guards = def.guards.iter().map(|guard| {
        let rule = match guard {
            Guard::Login(span) => quote_spanned! {*span=> ::manouche::__private::Guard::Login },
            Guard::Staff(span) => quote_spanned! {*span=> ::manouche::__private::Guard::Staff },
            Guard::Permissions(perms) => quote! {
                ::manouche::__private::Guard::Permissions({
                    const __PERMISSIONS: &[::manouche::db::Permission] = &[#(#perms),*];
                    __PERMISSIONS
                })
            },
            Guard::Test(test) => {
                quote_spanned! {test.span()=> ::manouche::__private::Guard::Test(#test) }
            }
        };
        quote! {
            if let ::core::option::Option::Some(__response) = ::manouche::__private::guard(&__req, #rule).await? {
                return ::core::result::Result::Ok(__response);
            }
        }
    });

    let mut inner = item.clone();
    inner.sig.ident = format_ident!("__manouche_view");
    inner.vis = syn::Visibility::Inherited;
    inner.attrs = other_attrs.into_iter().cloned().collect();
    for input in &mut inner.sig.inputs {
        if let syn::FnArg::Typed(typed) = input {
            typed.attrs.retain(|a| !a.path().is_ident("params"));
        }
    }

    let arg_names: Vec<syn::Ident> = (0..def.params.len()).map(|i| format_ident!("__arg{i}")).collect();
    let extractions = def.params.iter().zip(&arg_names).map(|(param, arg)| {
        let ty = &param.ty;
        quote_spanned! {ty.span()=>
            let #arg = ::manouche::__private::extract::<#ty>(&__req, &mut *__payload).await?;
        }
    });
    let respond = if def.fallible {
        quote! { ::manouche::__private::respond_result(__output, &__req) }
    } else {
        let span = match &item.sig.output {
            syn::ReturnType::Type(_, ty) => ty.span(),
            syn::ReturnType::Default => item.sig.ident.span(),
        };
        quote_spanned! {span=> ::manouche::__private::respond(__output, &__req) }
    };

    let view_path = fn_name.clone();
    let body = if def.caching.is_empty() {
        quote! {
            ::std::boxed::Box::pin(async move {
                let __payload = &mut __payload;
                #(#guards)*
                #(#extractions)*
                let __output = __manouche_view(#(#arg_names),*).await;
                #respond
            })
        }
    } else {
        let limits = def.caching.limits_check(&view_path);
        let header_ops = def.caching.header_ops();
        let run = match def.caching.page_static() {
            Some(page) => quote! {
                #page
                ::manouche::cache::__apply_view_cache(&__req, &__PAGE, __compute).await
            },
            None => quote! { __compute().await },
        };
        // The view runs in a closure so `#[cache_page]` calls it only on a miss; it borrows the
        // request and the payload.
        quote! {
            ::std::boxed::Box::pin(async move {
                let __payload = &mut __payload;
                #limits
                #(#guards)*
                let __compute = {
                    let __req = &__req;
                    move || async move {
                        #(#extractions)*
                        let __output = __manouche_view(#(#arg_names),*).await;
                        let mut __response = #respond?;
                        #header_ops
                        ::core::result::Result::<_, ::manouche::Error>::Ok(__response)
                    }
                };
                #run
            })
        }
    };

    let dependencies = def.caching.dependencies_entry();
    let exempt = def.csrf_exempt.then(|| quote! { .__csrf_exempt() });
    let url_idents: Vec<&syn::Ident> = def.url_params.iter().map(|(ident, _)| ident).collect();
    let url_names: Vec<String> = url_idents.iter().map(|i| i.to_string()).collect();
    let url_types: Vec<&syn::Type> = def.url_params.iter().map(|(_, ty)| ty).collect();
    let url_doc = format!("The URL of this view, reversed from the project's URL patterns (`{route_name}`).");

    // The view is a struct in the type namespace (for `name::url(...)` and its `View` impl) and
    // a function of the same name in the value namespace (what `path(..., name)` receives). A
    // function, unlike a unit struct, can be shadowed by a local variable of the same name.
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy)]
        #vis struct #name {
            #[allow(dead_code)]
            __private: (),
        }

        #(#docs)*
        #[allow(dead_code)]
        #vis fn #name(_: ::manouche::__private::ViewToken) -> #name {
            #name { __private: () }
        }

        impl #name {
            #[doc = #url_doc]
            ///
            /// # Errors
            ///
            /// `NoReverseMatch` when the view is not mounted or an argument does not fit its pattern.
            #[allow(dead_code)]
            #vis fn url(#(#url_idents: impl ::manouche::__private::UrlArg<#url_types>),*)
                -> ::core::result::Result<::std::string::String, ::manouche::urls::NoReverseMatch>
            {
                ::manouche::__private::reverse_view::<Self>(
                    #route_name,
                    &[#((#url_names, ::manouche::__private::UrlArg::<#url_types>::to_url_arg(&#url_idents))),*],
                )
            }
        }

        #dependencies

        impl ::manouche::__private::DeclaredView for #name {
            fn declared_info() -> &'static ::manouche::__private::ViewInfo {
                static INFO: ::manouche::__private::ViewInfo = ::manouche::__private::ViewInfo::__new(
                    #route_name,
                    &[#(#methods),*],
                    &[#(#url_names),*],
                    ::core::concat!(::core::module_path!(), "::", #fn_name),
                )#exempt;
                &INFO
            }
        }

        impl ::manouche::__private::View for #name {
            fn info(&self) -> &::manouche::__private::ViewInfo {
                <Self as ::manouche::__private::DeclaredView>::declared_info()
            }

            fn call(
                &self,
                __req: ::manouche::__private::ActixRequest,
                mut __payload: ::manouche::__private::ActixPayload,
            ) -> ::manouche::__private::LocalBoxFuture<
                ::core::result::Result<::manouche::__private::ActixResponse, ::manouche::Error>,
            > {
                #inner
                #body
            }
        }
    }
}
