//! Django's four default permissions per model (view, add, change, delete) and the model's own
//! `#[permission(...)]` ones: a constant each, and the list the metadata carries.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::expand::Model;

/// `(constants on the model, values for the metadata)`.
pub(super) fn permissions(cx: &Model<'_>) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let (def, vis) = (cx.def, cx.vis);
    let (app, verbose_name) = (&def.app, &def.verbose_name);
    let lower = cx.model_name.to_lowercase();
    let mut permissions: Vec<(syn::Ident, String, String)> = ["view", "add", "change", "delete"]
        .iter()
        .map(|action| {
            (
                format_ident!("PERM_{}", action.to_uppercase()),
                format!("{action}_{lower}"),
                format!("Can {action} {verbose_name}"),
            )
        })
        .collect();
    for (action, description) in &def.permissions {
        let constant = format_ident!("PERM_{}", action.to_string().to_uppercase(), span = action.span());
        permissions.push((constant, format!("{action}_{lower}"), description.clone()));
    }
    let values: Vec<TokenStream> = permissions
        .iter()
        .map(|(_, codename, description)| quote!(::manouche::db::Permission::__new(#app, #codename, #description)))
        .collect();
    let constants = permissions
        .iter()
        .zip(&values)
        .map(|((constant, codename, _), value)| {
            let doc = format!("The `{app}.{codename}` permission.");
            quote! { #[doc = #doc] #vis const #constant: ::manouche::db::Permission = #value; }
        })
        .collect();
    (constants, values)
}
