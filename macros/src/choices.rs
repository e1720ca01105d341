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
    let name = &item.ident;
    let mut variants = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.push(syn::Error::new(variant.fields.span(), "a choice is a unit variant, without fields"));
            continue;
        }
        let mut value = snake(&variant.ident.to_string());
        let mut text = label(&variant.ident.to_string());
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("choice")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("value") {
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
        ::manouche::__choices_impls!(#name);
    })
}
