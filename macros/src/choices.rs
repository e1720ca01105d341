//! `#[derive(Choices)]`: a fieldless enum as a field's choices, stored as text.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::diagnostics::Errors;

/// `Published` → `published`; `OnHold` → `on_hold`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `OnHold` → `On hold`.
fn label(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn expand(item: TokenStream) -> TokenStream {
    match expand_inner(item) {
        Ok(tokens) => tokens,
        Err(error) => error.into_compile_error(),
    }
}

fn expand_inner(item: TokenStream) -> syn::Result<TokenStream> {
    let item: syn::DeriveInput = syn::parse2(item)?;
    let syn::Data::Enum(data) = &item.data else {
        return Err(syn::Error::new(item.ident.span(), "`Choices` is derived on an enum of unit variants"));
    };
    let mut errors = Errors::default();
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new(item.generics.span(), "a `Choices` enum cannot be generic"));
    }
    if data.variants.is_empty() {
        errors.push(syn::Error::new(item.ident.span(), "a `Choices` enum needs at least one variant"));
    }
    let mut integer = false;
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("choices")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("integer") {
                integer = true;
                Ok(())
            } else {
                Err(meta.error("unknown `choices` option; expected `integer`"))
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    let name = &item.ident;
    let mut variants = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.push(syn::Error::new(variant.fields.span(), "a choice is a unit variant, without fields"));
            continue;
        }
        // Integer choices: the explicit discriminant (`Paid = 2`), else the position.
        let position = variants.len();
        let mut value = if integer {
            match &variant.discriminant {
                Some((_, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }))) => {
                    n.base10_parse::<i32>().map(|n| n.to_string()).unwrap_or_else(|_| position.to_string())
                }
                _ => position.to_string(),
            }
        } else {
            snake(&variant.ident.to_string())
        };
        let mut text = label(&variant.ident.to_string());
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("choice")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("value") && integer {
                    value = meta.value()?.parse::<syn::LitInt>()?.base10_parse::<i32>()?.to_string();
                } else if meta.path.is_ident("value") {
                    value = meta.value()?.parse::<syn::LitStr>()?.value();
                    if value.is_empty() {
                        return Err(meta.error("a choice's value cannot be empty"));
                    }
                } else if meta.path.is_ident("label") {
                    text = meta.value()?.parse::<syn::LitStr>()?.value();
                } else {
                    return Err(meta.error("unknown `choice` option; expected `value = \"...\"` or `label = \"...\"`"));
                }
                Ok(())
            });
            if let Err(error) = result {
                errors.push(error);
            }
        }
        if seen.contains(&value) {
            errors.push(syn::Error::new(variant.ident.span(), format!("two choices store the value `{value}`")));
        }
        seen.push(value.clone());
        variants.push((&variant.ident, value, text));
    }
    errors.finish()?;
    let pairs = variants.iter().map(|(_, value, text)| quote!((#value, #text)));
    let to_value = variants.iter().map(|(ident, value, _)| quote!(#name::#ident => #value));
    let from_value =
        variants.iter().map(|(ident, value, _)| quote!(#value => ::core::option::Option::Some(#name::#ident)));
    let integer_impls = if integer {
        let numbers: Vec<i32> = variants.iter().map(|(_, value, _)| value.parse().unwrap_or_default()).collect();
        let to_number = variants.iter().zip(&numbers).map(|((ident, _, _), n)| quote!(#name::#ident => #n));
        let from_number = variants
            .iter()
            .zip(&numbers)
            .map(|((ident, _, _), n)| quote!(#n => ::core::option::Option::Some(#name::#ident)));
        quote! {
            impl ::manouche::db::IntegerChoices for #name {
                fn number(self) -> i32 {
                    match self { #(#to_number,)* }
                }

                fn from_number(number: i32) -> ::core::option::Option<Self> {
                    match number {
                        #(#from_number,)*
                        _ => ::core::option::Option::None,
                    }
                }
            }
            ::manouche::__choices_impls!(integer #name);
        }
    } else {
        quote!(::manouche::__choices_impls!(#name);)
    };
    Ok(quote! {
        impl ::manouche::db::Choices for #name {
            const CHOICES: &'static [(&'static str, &'static str)] = &[#(#pairs),*];

            fn value(self) -> &'static str {
                match self { #(#to_value,)* }
            }

            fn from_value(value: &str) -> ::core::option::Option<Self> {
                match value {
                    #(#from_value,)*
                    _ => ::core::option::Option::None,
                }
            }
        }
        #integer_impls
    })
}
