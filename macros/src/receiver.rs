//! `#[receiver(SIGNAL)]`: connect a function to a signal through a link-time registry.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::diagnostics::Errors;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = syn::Error::new(error.span(), "`#[receiver]` goes on a `fn`").into_compile_error();
            return quote! { #item #error };
        }
    };
    match parse(args, &item) {
        Ok((signal, sender, arg_span)) => {
            let name = &item.sig.ident;
            let signal = match sender {
                Some(sender) => quote! { #signal::<#sender>() },
                None => quote! { &#signal },
            };
            let connect = quote_spanned! {arg_span=>
                ::manouche::__private::connect_receiver(#signal, #name);
            };
            quote! {
                #item
                const _: () = {
                    fn __manouche_connect() { #connect }
                    ::manouche::__private::inventory::submit! {
                        ::manouche::__private::ReceiverEntry {
                            connect: __manouche_connect,
                            file: ::core::file!(),
                            line: ::core::line!(),
                        }
                    }
                };
            }
        }
        Err(error) => {
            let error = error.into_compile_error();
            quote! { #item #error }
        }
    }
}

/// `SIGNAL` or `model_signal, sender = Model`.
struct Args {
    signal: syn::Path,
    sender: Option<syn::Type>,
}

impl syn::parse::Parse for Args {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let signal: syn::Path = input.parse()?;
        let mut sender = None;
        if input.parse::<Option<syn::Token![,]>>()?.is_some() && !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            if key != "sender" {
                return Err(syn::Error::new(key.span(), "unknown `receiver` option; expected `sender = Model`"));
            }
            input.parse::<syn::Token![=]>()?;
            sender = Some(input.parse()?);
            input.parse::<Option<syn::Token![,]>>()?;
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens; expected `SIGNAL` or `post_save, sender = Model`"));
        }
        Ok(Args { signal, sender })
    }
}

type Parsed = (syn::Path, Option<syn::Type>, proc_macro2::Span);

fn parse(args: TokenStream, item: &syn::ItemFn) -> syn::Result<Parsed> {
    let mut errors = Errors::default();
    let parsed = if args.is_empty() {
        errors.push(syn::Error::new(
            item.sig.ident.span(),
            "`#[receiver]` needs the signal it listens to\nhelp: write `#[receiver(REQUEST_STARTED)]` or the path of your own `Signal` static",
        ));
        None
    } else {
        match syn::parse2::<Args>(args) {
            Ok(args) => Some(args),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    };
    let sig = &item.sig;
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new(
            asyncness.span(),
            "receivers run synchronously while the signal is sent; remove `async`",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(sig.generics.span(), "a receiver cannot be generic"));
    }
    let mut arg_span = sig.ident.span();
    match sig.inputs.len() {
        1 => match sig.inputs.first() {
            Some(syn::FnArg::Typed(typed)) => {
                if !matches!(&*typed.ty, syn::Type::Reference(r) if r.mutability.is_none()) {
                    errors.push(syn::Error::new(
                        typed.ty.span(),
                        "a receiver takes the signal's value by shared reference: `&T`",
                    ));
                }
                arg_span = typed.ty.span();
            }
            Some(syn::FnArg::Receiver(r)) => {
                errors.push(syn::Error::new(r.span(), "a receiver is a free function; it cannot take `self`"))
            }
            None => {}
        },
        n => errors.push(syn::Error::new(
            if n == 0 { sig.paren_token.span.join() } else { sig.inputs.span() },
            format!("a receiver takes exactly one argument, the signal's `&T`; found {n}"),
        )),
    }
    errors.finish()?;
    let Args { signal, sender } = parsed.unwrap_or_else(|| Args { signal: syn::parse_quote!(_), sender: None });
    Ok((signal, sender, arg_span))
}
