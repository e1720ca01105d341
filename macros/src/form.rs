//! `#[derive(Form)]`: a struct of cleaned values as a Django form.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::diagnostics::Errors;

pub(crate) fn expand(item: TokenStream) -> TokenStream {
    match expand_inner(item) {
        Ok(tokens) => tokens,
        Err(error) => error.into_compile_error(),
    }
}

/// `first_name` → `First name` (Django's `pretty_name`).
fn pretty(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// What one field's `#[form(...)]` says: assignments onto its `FormField`, and a hook.
#[derive(Default)]
struct FieldOptions {
    sets: Vec<TokenStream>,
    hook: Option<syn::Path>,
    label: Option<String>,
    input: Option<(&'static str, Span)>,
    choices: bool,
}

fn text_value(value: &syn::Expr) -> syn::Result<String> {
    match value {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Ok(s.value()),
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => Ok(n.base10_digits().to_owned()),
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(x), .. }) => Ok(x.base10_digits().to_owned()),
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => Ok(format!("-{}", text_value(expr)?)),
        other => Err(syn::Error::new(other.span(), "expected a number or a string literal")),
    }
}

fn parse_field(field: &syn::Field, errors: &mut Errors) -> FieldOptions {
    let mut options = FieldOptions::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("form")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            let span = meta.path.span();
            let mut flag_input = |name: &'static str, check: Option<TokenStream>| {
                if let Some((previous, _)) = options.input {
                    return Err(syn::Error::new(span, format!("`{name}` conflicts with `{previous}`")));
                }
                options.input = Some((name, span));
                let input = match name {
                    "email" => quote!(Email),
                    "url" => quote!(Url),
                    "password" => quote!(Password),
                    "textarea" => quote!(TextArea),
                    "hidden" => quote!(Hidden),
                    _ => quote!(Text),
                };
                options.sets.push(quote!(f.input = ::manouche::forms::Input::#input;));
                if let Some(check) = check {
                    options.sets.push(quote!(f.check = ::manouche::forms::Check::#check;));
                }
                Ok(())
            };
            match key.as_str() {
                "email" => flag_input("email", Some(quote!(Email))),
                "url" => flag_input("url", Some(quote!(Url))),
                "slug" => flag_input("slug", Some(quote!(Slug))),
                "password" | "textarea" | "hidden" => {
                    let name = match key.as_str() {
                        "password" => "password",
                        "textarea" => "textarea",
                        _ => "hidden",
                    };
                    flag_input(name, None)
                }
                "no_strip" => {
                    options.sets.push(quote!(f.strip = false;));
                    Ok(())
                }
                "required" => {
                    let value = if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::LitBool>()?.value
                    } else {
                        true
                    };
                    options.sets.push(quote!(f.required = #value;));
                    Ok(())
                }
                "label" | "help_text" | "initial" => {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    let ident = syn::Ident::new(&key, span);
                    match key.as_str() {
                        "label" => options.label = Some(value.value()),
                        "initial" => options.sets.push(quote!(f.initial = ::core::option::Option::Some(#value);)),
                        _ => options.sets.push(quote!(f.#ident = #value;)),
                    }
                    Ok(())
                }
                "max_length" | "min_length" | "max_digits" | "decimal_places" => {
                    let value: syn::LitInt = meta.value()?.parse()?;
                    let number: u32 = value.base10_parse()?;
                    let ident = syn::Ident::new(&key, span);
                    options.sets.push(quote!(f.#ident = ::core::option::Option::Some(#number);));
                    Ok(())
                }
                "min_value" | "max_value" => {
                    let value: syn::Expr = meta.value()?.parse()?;
                    let text = text_value(&value)?;
                    let ident = syn::Ident::new(&key, span);
                    options.sets.push(quote!(f.#ident = ::core::option::Option::Some(#text);));
                    Ok(())
                }
                "choices" => {
                    let value: syn::ExprArray = meta.value()?.parse()?;
                    let mut pairs = Vec::new();
                    for element in &value.elems {
                        let syn::Expr::Tuple(tuple) = element else {
                            return Err(syn::Error::new(element.span(), "expected `(\"value\", \"Label\")`"));
                        };
                        let [value, label] = [tuple.elems.first(), tuple.elems.get(1)];
                        match (value, label, tuple.elems.len()) {
                            (Some(value), Some(label), 2) => {
                                let (value, label) = (text_value(value)?, text_value(label)?);
                                pairs.push(quote!((#value, #label)));
                            }
                            _ => return Err(syn::Error::new(tuple.span(), "expected `(\"value\", \"Label\")`")),
                        }
                    }
                    options.choices = true;
                    options.sets.push(quote!(f.choices = &[#(#pairs),*];));
                    Ok(())
                }
                "clean" => {
                    options.hook = Some(meta.value()?.parse()?);
                    Ok(())
                }
                _ => Err(meta.error(
                    "unknown form option; expected one of `label`, `help_text`, `required`, `initial`, \
                     `max_length`, `min_length`, `min_value`, `max_value`, `max_digits`, `decimal_places`, \
                     `choices`, `email`, `url`, `slug`, `password`, `textarea`, `hidden`, `no_strip`, `clean`",
                )),
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    options
}

fn is_vec(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Vec"))
}

fn expand_inner(item: TokenStream) -> syn::Result<TokenStream> {
    let item: syn::DeriveInput = syn::parse2(item)?;
    let name = &item.ident;
    let syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Named(fields), .. }) = &item.data else {
        return Err(syn::Error::new(name.span(), "`Form` is derived on a struct with named fields"));
    };
    let mut errors = Errors::default();
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new(item.generics.span(), "a `Form` struct cannot be generic"));
    }
    let mut form_clean: Option<syn::Path> = None;
    let mut data_clean: Option<syn::Path> = None;
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("form")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("clean") {
                form_clean = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("clean_data") {
                data_clean = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown form option; on the struct, `clean = path` names the check of the cleaned form \
                     and `clean_data = path` the check of the submitted data",
                ))
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }

    let mut statics = Vec::new();
    let mut cleans = Vec::new();
    let mut idents = Vec::new();
    let mut locals = Vec::new();
    let mut values = Vec::new();
    for (index, field) in fields.named.iter().enumerate() {
        let Some(ident) = &field.ident else { continue };
        let ty = &field.ty;
        let options = parse_field(field, &mut errors);
        let field_name = ident.to_string();
        let field_name = field_name.strip_prefix("r#").unwrap_or(&field_name).to_owned();
        let label = options.label.clone().unwrap_or_else(|| pretty(&field_name));
        let sets = &options.sets;
        let value = quote_spanned! {ty.span()=> <#ty as ::manouche::forms::FormValue> };
        let choice_input = if options.choices {
            if is_vec(ty) {
                quote!(f.input = ::manouche::forms::Input::SelectMultiple;)
            } else {
                quote!(f.input = ::manouche::forms::Input::Select;)
            }
        } else {
            quote!()
        };
        if let (true, Some((input, span))) = (options.choices, options.input) {
            errors.push(syn::Error::new(span, format!("`{input}` conflicts with `choices`")));
        }
        statics.push(quote! {{
            let mut f = ::manouche::forms::FormField::__new(#field_name, #label, #value::INPUT, #value::REQUIRED);
            f.choices = #value::CHOICES;
            #choice_input
            #(#sets)*
            f
        }});
        // A hygienic local: a hook named like its field (`clean = postcode`) still names the function.
        let local = quote::format_ident!("value_{}", index, span = Span::mixed_site());
        let hook = options.hook.as_ref().map(|hook| {
            quote_spanned! {hook.span()=>
                let #local = ::manouche::forms::__field_hook::<#ty>(#local, #field_name, #hook, errors);
            }
        });
        cleans.push(quote! {
            let #local = ::manouche::forms::__clean_field::<#ty>(data, &fields[#index], errors);
            #hook
        });
        locals.push(local);
        values.push(quote!(::manouche::forms::FormValue::to_form(&self.#ident)));
        idents.push(ident.clone());
    }
    errors.finish()?;
    let count = statics.len();
    let clean = form_clean.map(|path| {
        quote_spanned! {path.span()=>
            fn __clean(&mut self, errors: &mut ::manouche::forms::Errors) {
                let check: fn(&mut Self, &mut ::manouche::forms::Errors) = #path;
                check(self, errors);
            }
        }
    });
    let clean_data = data_clean.map(|path| {
        quote_spanned! {path.span()=>
            fn __clean_data(data: &::manouche::forms::FormData, errors: &mut ::manouche::forms::Errors) {
                let check: fn(&::manouche::forms::FormData, &mut ::manouche::forms::Errors) = #path;
                check(data, errors);
            }
        }
    });
    Ok(quote! {
        impl ::manouche::forms::Form for #name {
            fn fields() -> &'static [::manouche::forms::FormField] {
                static FIELDS: [::manouche::forms::FormField; #count] = [#(#statics),*];
                &FIELDS
            }

            fn __clean_fields(
                data: &::manouche::forms::FormData,
                errors: &mut ::manouche::forms::Errors,
            ) -> ::core::option::Option<Self> {
                let fields = <Self as ::manouche::forms::Form>::fields();
                #(#cleans)*
                ::core::option::Option::Some(Self { #(#idents: #locals?),* })
            }

            fn __values(&self) -> ::std::vec::Vec<::std::vec::Vec<::std::string::String>> {
                ::std::vec![#(#values),*]
            }

            #clean
            #clean_data
        }
    })
}
