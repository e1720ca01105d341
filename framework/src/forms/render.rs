//! Forms as HTML: Django's `as_div`, with labels, help text, errors and kept values, escaped.

use std::fmt::{self, Write};

use super::{BoundForm, Form, FormField, Input};
use crate::http::RequestContext;

/// HTML a form rendered: shown as is by templates (`{{ form_html }}` is not escaped again),
/// every value in it having been escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormHtml(String);

impl FormHtml {
    /// HTML built by the framework, every value in it escaped.
    pub(crate) fn trusted(html: String) -> Self {
        FormHtml(html)
    }

    /// The HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FormHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for FormHtml {}

/// Escapes text for HTML content and quoted attribute values.
pub(crate) fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
}

/// `text` escaped for HTML.
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape(text, &mut out);
    out
}

fn error_list(messages: &[String], id: Option<&str>, out: &mut String) {
    if messages.is_empty() {
        return;
    }
    out.push_str("<ul class=\"errorlist\"");
    if let Some(id) = id {
        let _ = write!(out, " id=\"{id}\"");
    }
    out.push('>');
    for message in messages {
        let _ = write!(out, "<li>{}</li>", escaped(message));
    }
    out.push_str("</ul>");
}

impl<F: Form> BoundForm<F> {
    /// Every field in a `<div>`: label, help text, errors, then the input with its value
    /// (Django's `as_div`), the errors of the form as a whole first.
    pub fn as_div(&self) -> FormHtml {
        let mut out = String::new();
        error_list(self.errors.non_field(), None, &mut out);
        for field in F::fields() {
            self.field_div(field, &mut out);
        }
        FormHtml(out)
    }

    /// A whole `<form method="post">`: the CSRF token of `ctx`, the fields and a submit button
    /// (`enctype="multipart/form-data"` when a field is a file).
    pub fn render(&self, ctx: &RequestContext, action: &str, button: &str) -> FormHtml {
        let mut out = String::new();
        let enctype = if self.is_multipart() { " enctype=\"multipart/form-data\"" } else { "" };
        let _ = write!(
            out,
            "<form method=\"post\" action=\"{}\"{enctype} novalidate>{}",
            escaped(action),
            ctx.csrf_input()
        );
        out.push_str(self.as_div().as_str());
        let _ = write!(out, "<button type=\"submit\">{}</button></form>", escaped(button));
        FormHtml(out)
    }

    /// The `<div>` of one field, by name (for templates laying fields out themselves).
    pub fn field(&self, name: &str) -> FormHtml {
        let mut out = String::new();
        if let Some(field) = F::fields().iter().find(|f| f.name == name) {
            self.field_div(field, &mut out);
        }
        FormHtml(out)
    }

    fn field_div(&self, field: &FormField, out: &mut String) {
        let errors = self.errors.get(field.name);
        let id = format!("id_{}", field.name);
        if field.input == Input::Hidden {
            error_list(errors, None, out);
            self.input(field, &id, "", out);
            return;
        }
        let _ = write!(out, "<div class=\"field{}\">", if errors.is_empty() { "" } else { " error" });
        let _ = write!(
            out,
            "<label for=\"{id}\"{}>{}:</label>",
            if field.required { " class=\"required\"" } else { "" },
            escaped(field.label)
        );
        let mut described = String::new();
        if !field.help_text.is_empty() {
            let _ = write!(out, "<div class=\"helptext\" id=\"{id}_helptext\">{}</div>", escaped(field.help_text));
            described = format!("{id}_helptext");
        }
        if !errors.is_empty() {
            error_list(errors, Some(&format!("{id}_error")), out);
            described = if described.is_empty() { format!("{id}_error") } else { format!("{id}_error {described}") };
        }
        let mut attributes = String::new();
        if !described.is_empty() {
            let _ = write!(attributes, " aria-describedby=\"{described}\"");
        }
        if !errors.is_empty() {
            attributes.push_str(" aria-invalid=\"true\"");
        }
        self.input(field, &id, &attributes, out);
        out.push_str("</div>");
    }

    fn input(&self, field: &FormField, id: &str, attributes: &str, out: &mut String) {
        let values = self.value(field);
        let value = values.last().map_or("", String::as_str);
        let name = field.name;
        let required = if field.required { " required" } else { "" };
        let mut limits = String::new();
        if let Some(max) = field.max_length {
            let _ = write!(limits, " maxlength=\"{max}\"");
        }
        if let Some(min) = field.min_length {
            let _ = write!(limits, " minlength=\"{min}\"");
        }
        if field.input == Input::Number {
            if let Some(max) = field.max_value {
                let _ = write!(limits, " max=\"{}\"", escaped(max));
            }
            if let Some(min) = field.min_value {
                let _ = write!(limits, " min=\"{}\"", escaped(min));
            }
            // Django's `DecimalField` step: one unit of the last decimal place.
            if let Some(places) = field.decimal_places {
                let step = if places == 0 { "1".to_owned() } else { format!("0.{}1", "0".repeat(places as usize - 1)) };
                let _ = write!(limits, " step=\"{step}\"");
            }
        }
        match field.input {
            Input::TextArea => {
                let _ = write!(
                    out,
                    "<textarea name=\"{name}\" cols=\"40\" rows=\"10\"{limits}{required} id=\"{id}\"{attributes}>\n{}</textarea>",
                    escaped(value)
                );
            }
            Input::Select | Input::SelectMultiple => {
                let multiple = if field.input == Input::SelectMultiple { " multiple" } else { "" };
                let _ = write!(out, "<select name=\"{name}\"{required} id=\"{id}\"{attributes}{multiple}>");
                if field.input == Input::Select {
                    let _ = write!(
                        out,
                        "<option value=\"\"{}>---------</option>",
                        if value.is_empty() { " selected" } else { "" }
                    );
                }
                for (choice, label) in field.choices {
                    let selected = if values.iter().any(|v| v == choice) { " selected" } else { "" };
                    let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", escaped(choice), escaped(label));
                }
                out.push_str("</select>");
            }
            Input::File => {
                // A file is never sent back: the browser cannot be told to pick one.
                let _ = write!(out, "<input type=\"file\" name=\"{name}\"{required} id=\"{id}\"{attributes}>");
            }
            Input::Checkbox => {
                let checked = !value.is_empty() && !value.eq_ignore_ascii_case("false");
                let _ = write!(
                    out,
                    "<input type=\"checkbox\" name=\"{name}\"{}{required} id=\"{id}\"{attributes}>",
                    if checked { " checked" } else { "" }
                );
            }
            _ => {
                let kind = match field.input {
                    Input::Email => "email",
                    Input::Url => "url",
                    Input::Password => "password",
                    Input::Number => "number",
                    Input::Date => "date",
                    Input::DateTime => "datetime-local",
                    Input::Time => "time",
                    Input::Hidden => "hidden",
                    _ => "text",
                };
                // A password is never sent back to the browser (Django's `render_value=False`).
                let shown = if field.input == Input::Password { "" } else { value };
                let value_attribute =
                    if shown.is_empty() { String::new() } else { format!(" value=\"{}\"", escaped(shown)) };
                let _ = write!(
                    out,
                    "<input type=\"{kind}\" name=\"{name}\"{value_attribute}{limits}{required} id=\"{id}\"{attributes}>"
                );
            }
        }
    }
}

impl<F: Form> fmt::Display for BoundForm<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_div().as_str())
    }
}

impl<F: Form> askama::filters::HtmlSafe for BoundForm<F> {}
