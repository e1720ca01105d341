//! `#[task(...)]`: a background task. The function stays (renamed, hidden); a struct and a
//! static of the function's name take its place, with `enqueue(args)` and friends; a registry
//! entry lets a worker find and run it by name.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::diagnostics::Errors;

#[derive(Default)]
struct Options {
    name: Option<String>,
    queue: Option<String>,
    priority: Option<i64>,
    max_retries: Option<u64>,
    retry_backoff_ms: Option<u64>,
    retry_backoff_max_ms: Option<u64>,
    retry_jitter: Option<bool>,
    time_limit_ms: Option<u64>,
    cron: Option<(Cron, String, Span)>,
    every: Option<(u64, Span)>,
}

/// A number of the options: an integer or float literal, or a product of them (`60 * 15`).
fn number(expr: &syn::Expr) -> syn::Result<f64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => Ok(i.base10_parse::<u64>()? as f64),
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. }) => f.base10_parse::<f64>(),
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => Ok(-number(expr)?),
        syn::Expr::Binary(syn::ExprBinary { left, op: syn::BinOp::Mul(_), right, .. }) => {
            Ok(number(left)? * number(right)?)
        }
        syn::Expr::Paren(p) => number(&p.expr),
        other => Err(syn::Error::new(other.span(), "expected a number (a literal, or a product like `60 * 15`)")),
    }
}

fn string(expr: &syn::Expr) -> syn::Result<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Ok(s.value()),
        other => Err(syn::Error::new(other.span(), "expected a string literal")),
    }
}

fn seconds_ms(expr: &syn::Expr, what: &str) -> syn::Result<u64> {
    let secs = number(expr)?;
    if !(secs.is_finite() && (0.0..1e12).contains(&secs)) {
        return Err(syn::Error::new(expr.span(), format!("`{what}` is a number of seconds, 0 or more")));
    }
    Ok((secs * 1000.0).round() as u64)
}

fn whole(expr: &syn::Expr, what: &str) -> syn::Result<u64> {
    let n = number(expr)?;
    if n < 0.0 || n.fract() != 0.0 || n > 1e15 {
        return Err(syn::Error::new(expr.span(), format!("`{what}` is a whole number, 0 or more")));
    }
    Ok(n as u64)
}

const KNOWN: &str =
    "name, queue, priority, max_retries, retry_backoff, retry_backoff_max, retry_jitter, time_limit, cron, every";

fn parse_options(args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let parser = syn::punctuated::Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated;
    let metas = match syn::parse::Parser::parse2(parser, args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(syn::Error::new(error.span(), format!("expected `key = value` options: {KNOWN}")));
            return options;
        }
    };
    for meta in metas {
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            errors.push(syn::Error::new(meta.path.span(), format!("unknown `task` option; expected one of {KNOWN}")));
            continue;
        };
        let value = &meta.value;
        let result: syn::Result<()> = (|| {
            match key.as_str() {
                "name" => {
                    let name = string(value)?;
                    if name.is_empty() || name.chars().any(char::is_whitespace) {
                        return Err(syn::Error::new(value.span(), "a task name is not empty and has no spaces"));
                    }
                    options.name = Some(name);
                }
                "queue" => {
                    let queue = string(value)?;
                    if queue.is_empty()
                        || !queue.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        return Err(syn::Error::new(value.span(), "a queue name is letters, digits, `_`, `-` and `.`"));
                    }
                    options.queue = Some(queue);
                }
                "priority" => {
                    let n = number(value)?;
                    if !(-100.0..=100.0).contains(&n) || n.fract() != 0.0 {
                        return Err(syn::Error::new(
                            value.span(),
                            "`priority` is a whole number from -100 to 100 (Django's range; higher runs first)",
                        ));
                    }
                    options.priority = Some(n as i64);
                }
                "max_retries" => options.max_retries = Some(whole(value, "max_retries")?.min(u64::from(u32::MAX))),
                "retry_backoff" => options.retry_backoff_ms = Some(seconds_ms(value, "retry_backoff")?),
                "retry_backoff_max" => options.retry_backoff_max_ms = Some(seconds_ms(value, "retry_backoff_max")?),
                "retry_jitter" => match value {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => options.retry_jitter = Some(b.value),
                    other => return Err(syn::Error::new(other.span(), "`retry_jitter` is `true` or `false`")),
                },
                "time_limit" => {
                    let ms = seconds_ms(value, "time_limit")?;
                    if ms == 0 {
                        return Err(syn::Error::new(value.span(), "`time_limit` must be more than 0 seconds"));
                    }
                    options.time_limit_ms = Some(ms);
                }
                "cron" => {
                    let source = string(value)?;
                    let cron = parse_cron(&source).map_err(|why| {
                        syn::Error::new(value.span(), format!("invalid cron expression `{source}`: {why}"))
                    })?;
                    options.cron = Some((cron, source, value.span()));
                }
                "every" => {
                    let seconds = whole(value, "every")?;
                    if seconds == 0 {
                        return Err(syn::Error::new(value.span(), "`every` is a number of seconds, at least 1"));
                    }
                    options.every = Some((seconds, value.span()));
                }
                _ => {
                    return Err(syn::Error::new(
                        meta.path.span(),
                        format!("unknown `task` option `{key}`; expected one of {KNOWN}"),
                    ));
                }
            }
            Ok(())
        })();
        if let Err(error) = result {
            errors.push(error);
        }
    }
    if let (Some(_), Some((_, span))) = (&options.cron, &options.every) {
        errors.push(syn::Error::new(*span, "a task has one schedule: `cron` or `every`, not both"));
    }
    if let (Some(backoff), Some(max)) = (options.retry_backoff_ms, options.retry_backoff_max_ms)
        && max < backoff
    {
        errors.push(syn::Error::new(Span::call_site(), "`retry_backoff_max` is shorter than `retry_backoff`"));
    }
    options
}

/// A cron expression as bit sets (see `manouche::tasks::schedule::Cron`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cron {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    any_day: bool,
    any_weekday: bool,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_cron(source: &str) -> Result<Cron, String> {
    let expanded = match source.trim() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other if other.starts_with('@') => {
            return Err(format!("unknown shorthand `{other}`; known: @yearly, @monthly, @weekly, @daily, @hourly"));
        }
        other => other,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let [minute, hour, day, month, weekday] = fields.as_slice() else {
        return Err(format!(
            "it has {} field(s); cron has five: minute hour day-of-month month day-of-week",
            fields.len()
        ));
    };
    let mut weekdays = field(weekday, "day-of-week", 0, 7, &WEEKDAYS)?;
    if weekdays & (1 << 7) != 0 {
        weekdays = (weekdays & !(1 << 7)) | 1;
    }
    Ok(Cron {
        minutes: field(minute, "minute", 0, 59, &[])?,
        hours: field(hour, "hour", 0, 23, &[])?,
        days: field(day, "day-of-month", 1, 31, &[])?,
        months: field(month, "month", 1, 12, &MONTHS)?,
        weekdays,
        any_day: *day == "*",
        any_weekday: *weekday == "*",
    })
}

/// One field: `*`, `n`, `a-b`, each optionally `/step`, comma-separated; `names` are the values
/// from `min` on (months from 1, weekdays from 0).
fn field(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    let value = |item: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(item)) {
            return Ok(min + i as u32);
        }
        let n: u32 = item.parse().map_err(|_| format!("the {what} field's `{item}` is not a number"))?;
        if n < min || n > max {
            return Err(format!("the {what} field's {n} is outside {min}-{max}"));
        }
        Ok(n)
    };
    let mut set = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 =
                    step.parse().map_err(|_| format!("the {what} field's step `{step}` is not a number"))?;
                if step == 0 {
                    return Err(format!("the {what} field's step is 0"));
                }
                (range, step)
            }
            None => (part, 1),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("the {what} field's range {a}-{b} runs backwards"));
            }
            (a, b)
        } else {
            let a = value(range)?;
            (a, if part.contains('/') { max } else { a })
        };
        let mut n = low;
        while n <= high {
            set |= 1 << n;
            n += step;
        }
    }
    Ok(set)
}

/// The last path segment's name of a type, if it is a plain path.
fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `(what the task returns in TaskResult, whether it is a Result)`.
fn return_type(output: &syn::ReturnType) -> (syn::Type, bool) {
    match output {
        syn::ReturnType::Default => (syn::parse_quote!(()), false),
        syn::ReturnType::Type(_, ty) => {
            if let syn::Type::Path(p) = &**ty
                && let Some(last) = p.path.segments.last()
                && last.ident == "Result"
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(ok)) = args.args.first()
            {
                return (ok.clone(), true);
            }
            ((**ty).clone(), false)
        }
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = syn::Error::new(error.span(), "`#[task]` goes on a `fn` or `async fn`").into_compile_error();
            return quote! { #item #error };
        }
    };
    let mut errors = Errors::default();
    let options = parse_options(args, &mut errors);
    let sig = &item.sig;
    if let Some(receiver) = sig.receiver() {
        errors.push(syn::Error::new(receiver.span(), "a task is a free function: it cannot take `self`"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "a task cannot be generic: a worker must know the argument types to decode them",
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(unsafety.span(), "a task cannot be `unsafe`"));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(constness.span(), "a task cannot be `const`"));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(variadic.span(), "a task cannot be variadic"));
    }
    let mut takes_context = false;
    let mut names = Vec::new();
    let mut types = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(pat_type) = input else { continue };
        let ty = &*pat_type.ty;
        if last_segment(ty).as_deref() == Some("TaskContext") {
            if index == 0 {
                takes_context = true;
            } else {
                errors.push(syn::Error::new(ty.span(), "the `TaskContext` parameter comes first"));
            }
            continue;
        }
        match ty {
            syn::Type::Reference(r) => errors.push(syn::Error::new(
                r.span(),
                "task arguments travel to a worker as JSON: take owned values (`String`, not `&str`)",
            )),
            syn::Type::ImplTrait(t) => errors.push(syn::Error::new(
                t.span(),
                "task arguments travel to a worker as JSON: take a concrete type, not `impl Trait`",
            )),
            _ => {}
        }
        match &*pat_type.pat {
            syn::Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                names.push(ident.ident.clone());
                types.push(ty.clone());
            }
            other => errors.push(syn::Error::new(other.span(), "name each task argument (`order_id: i64`)")),
        }
    }
    if (options.cron.is_some() || options.every.is_some()) && !names.is_empty() {
        let span = options.cron.as_ref().map(|c| c.2).or(options.every.map(|e| e.1)).unwrap_or_else(Span::call_site);
        errors.push(syn::Error::new(
            span,
            "a periodic task takes no arguments (besides `TaskContext`): the worker's clock enqueues it",
        ));
    }
    if let Err(error) = errors.finish() {
        let error = error.into_compile_error();
        return quote! { #item #error };
    }
    generate(&item, &options, takes_context, &names, &types)
}

fn generate(
    item: &syn::ItemFn,
    options: &Options,
    takes_context: bool,
    names: &[syn::Ident],
    types: &[syn::Type],
) -> TokenStream {
    let sig = &item.sig;
    let name = &sig.ident;
    let vis = &item.vis;
    let docs: Vec<&syn::Attribute> = item.attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    let other_attrs: Vec<&syn::Attribute> = item.attrs.iter().filter(|a| !a.path().is_ident("doc")).collect();
    let body = &item.block;
    let inner = format_ident!("__manouche_task_{}", name);
    let is_async = sig.asyncness.is_some();
    let asyncness = &sig.asyncness;
    let inputs = &sig.inputs;
    let output = &sig.output;
    let (ret, is_result) = return_type(output);

    let task_name = match &options.name {
        Some(n) => quote!(#n),
        None => {
            let n = name.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #n))
        }
    };
    let mut settings = Vec::new();
    if let Some(queue) = &options.queue {
        settings.push(quote!(spec.queue = #queue;));
    }
    if let Some(priority) = options.priority {
        let priority = priority as i32;
        settings.push(quote!(spec.priority = #priority;));
    }
    if let Some(n) = options.max_retries {
        let n = n as u32;
        settings.push(quote!(spec.max_retries = #n;));
    }
    if let Some(ms) = options.retry_backoff_ms {
        settings.push(quote!(spec.retry_backoff = ::core::time::Duration::from_millis(#ms);));
    }
    if let Some(ms) = options.retry_backoff_max_ms {
        settings.push(quote!(spec.retry_backoff_max = ::core::time::Duration::from_millis(#ms);));
    }
    if let Some(jitter) = options.retry_jitter {
        settings.push(quote!(spec.retry_jitter = #jitter;));
    }
    if let Some(ms) = options.time_limit_ms {
        settings
            .push(quote!(spec.time_limit = ::core::option::Option::Some(::core::time::Duration::from_millis(#ms));));
    }
    if let Some((cron, source, _)) = &options.cron {
        let Cron { minutes, hours, days, months, weekdays, any_day, any_weekday } = *cron;
        let (hours, days, months, weekdays) = (hours as u32, days as u32, months as u16, weekdays as u8);
        settings.push(quote! {
            spec.schedule = ::core::option::Option::Some(::manouche::tasks::Schedule::Cron(
                ::manouche::tasks::schedule::Cron {
                    source: #source, minutes: #minutes, hours: #hours, days: #days, months: #months,
                    weekdays: #weekdays, any_day: #any_day, any_weekday: #any_weekday,
                },
            ));
        });
    }
    if let Some((seconds, _)) = options.every {
        settings
            .push(quote!(spec.schedule = ::core::option::Option::Some(::manouche::tasks::Schedule::Every(#seconds));));
    }

    let checks = types.iter().map(|ty| {
        quote_spanned! {ty.span()=> const _: () = ::manouche::__private::tasks::assert_value::<#ty>(); }
    });
    let ret_span = match output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => name.span(),
    };
    let ret_check = quote_spanned! {ret_span=> const _: () = ::manouche::__private::tasks::assert_value::<#ret>(); };

    let params: Vec<TokenStream> = names.iter().zip(types).map(|(n, t)| quote!(#n: #t)).collect();
    let arguments = if names.is_empty() { quote!(&::std::vec::Vec::<()>::new()) } else { quote!(&(#(&#names,)*)) };
    let decode = if names.is_empty() {
        quote! { let _ = __args; }
    } else {
        quote! {
            let (#(#names,)*): (#(#types,)*) =
                ::manouche::__private::tasks::decode(<#name>::SPEC.name, __args)?;
        }
    };
    let ctx_arg = if takes_context { quote!(__ctx,) } else { quote!() };
    let ctx_unused = if takes_context { quote!() } else { quote!(let _ = __ctx;) };
    let convert = if is_result {
        quote!(::manouche::__private::tasks::from_result)
    } else {
        quote!(::manouche::__private::tasks::from_value)
    };
    let runner = if is_async {
        quote! {
            fn __run(__ctx: ::manouche::tasks::TaskContext, __args: ::manouche::__private::tasks::Json)
                -> ::manouche::tasks::TaskFuture
            {
                ::std::boxed::Box::pin(async move {
                    #ctx_unused
                    #decode
                    #convert(#inner(#ctx_arg #(#names),*).await)
                })
            }
            ::manouche::tasks::Runner::Async(__run)
        }
    } else {
        quote! {
            fn __run(__ctx: ::manouche::tasks::TaskContext, __args: ::manouche::__private::tasks::Json)
                -> ::core::result::Result<::manouche::__private::tasks::Json, ::manouche::tasks::TaskError>
            {
                #ctx_unused
                #decode
                #convert(#inner(#ctx_arg #(#names),*))
            }
            ::manouche::tasks::Runner::Sync(__run)
        }
    };
    let call_await = if is_async { quote!(.await) } else { quote!() };
    let call_ctx = if takes_context { quote!(ctx: ::manouche::tasks::TaskContext,) } else { quote!() };
    let call_ctx_arg = if takes_context { quote!(ctx,) } else { quote!() };
    let call_doc = format!("Runs `{name}` here and now, without a backend (Django's `task.call()`).");

    quote! {
        #(#other_attrs)*
        #[doc(hidden)]
        #[allow(non_snake_case, clippy::unused_async)]
        #asyncness fn #inner(#inputs) #output #body

        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone)]
        #vis struct #name {
            __options: ::manouche::tasks::TaskOptions,
        }

        #(#docs)*
        #[allow(non_upper_case_globals)]
        #vis static #name: #name = #name { __options: ::manouche::tasks::TaskOptions::DEFAULT };

        #[allow(dead_code)]
        impl #name {
            /// The task's declared options.
            pub const SPEC: ::manouche::tasks::TaskSpec = {
                #[allow(unused_mut)]
                let mut spec = ::manouche::tasks::TaskSpec::new(#task_name);
                #(#settings)*
                spec
            };

            /// The task with some options changed for one enqueue (Django's `task.using()`).
            #[must_use]
            pub fn using(&self, options: ::manouche::tasks::TaskOptions) -> Self {
                Self { __options: self.__options.merge(options) }
            }

            /// Enqueues the task on the project's backend; the immediate backend runs it first.
            pub async fn enqueue(&self, #(#params),*)
                -> ::core::result::Result<::manouche::tasks::TaskResult<#ret>, ::manouche::tasks::TasksError>
            {
                ::manouche::__private::tasks::enqueue::<#ret, _>(&Self::SPEC, &self.__options, #arguments).await
            }

            /// [`Self::enqueue`] on the current thread (a command, a receiver, another task).
            pub fn enqueue_sync(&self, #(#params),*)
                -> ::core::result::Result<::manouche::tasks::TaskResult<#ret>, ::manouche::tasks::TasksError>
            {
                ::manouche::__private::tasks::enqueue_sync::<#ret, _>(&Self::SPEC, &self.__options, #arguments)
            }

            /// Enqueues the task once the current `atomic` block commits (at once outside one);
            /// nothing is enqueued if it rolls back. Returns the id its result will have.
            pub fn enqueue_on_commit(&self, #(#params),*)
                -> ::core::result::Result<::std::string::String, ::manouche::tasks::TasksError>
            {
                ::manouche::__private::tasks::enqueue_on_commit(&Self::SPEC, &self.__options, #arguments)
            }

            /// The result of this task with id `id`.
            pub fn get_result(&self, id: &str)
                -> ::core::result::Result<::manouche::tasks::TaskResult<#ret>, ::manouche::tasks::TasksError>
            {
                ::manouche::__private::tasks::get_result::<#ret>(id)
            }

            #[doc = #call_doc]
            pub #asyncness fn call(&self, #call_ctx #(#params),*) #output {
                #inner(#call_ctx_arg #(#names),*) #call_await
            }
        }

        #(#checks)*
        #ret_check

        const _: () = {
            const RUNNER: ::manouche::tasks::Runner = { #runner };
            ::manouche::__private::inventory::submit! {
                ::manouche::tasks::TaskDef {
                    spec: <#name>::SPEC,
                    runner: RUNNER,
                    file: ::core::file!(),
                    line: ::core::line!(),
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_fields_become_bit_sets() {
        let nightly = parse_cron("30 3 * * *").unwrap();
        assert_eq!((nightly.minutes, nightly.hours), (1 << 30, 1 << 3));
        assert!(nightly.any_day && nightly.any_weekday);
        let every_15 = parse_cron("*/15 9-17 * jan-mar mon-fri").unwrap();
        assert_eq!(every_15.minutes, (1 << 0) | (1 << 15) | (1 << 30) | (1 << 45));
        assert_eq!(every_15.months, 0b1110);
        assert_eq!(every_15.weekdays, 0b0111110);
        assert_eq!(parse_cron("0 0 * * 7").unwrap().weekdays, 1);
        assert_eq!(parse_cron("@hourly").unwrap().minutes, 1);
        assert!(parse_cron("60 * * * *").unwrap_err().contains("outside 0-59"));
        assert!(parse_cron("* * *").unwrap_err().contains("five"));
        assert!(parse_cron("*/0 * * * *").unwrap_err().contains("step is 0"));
        assert!(parse_cron("5-1 * * * *").unwrap_err().contains("backwards"));
    }
}
