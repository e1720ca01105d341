//! The admin's pages. Each builds its content as escaped HTML into one layout template.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::web::Path;
use diesel::ExpressionMethods as _;
use manouche_macros::Template;

use super::{LogEntry, ModelAdmin};
use crate::auth::{Permissions, User};
use crate::db::registry::{self, ListRequest, Registered, Row};
use crate::db::{Field, FieldType, ForeignKey, Model as _, ModelMeta, Widget};
use crate::forms::FormData;
use crate::forms::FormHtml;
use crate::forms::render::escape;
use crate::http::{Request, RequestContext};
use crate::templates::render;

#[derive(Template)]
#[template(path = "manouche/admin/page.html")]
struct Page {
    ctx: RequestContext,
    title: String,
    body_class: &'static str,
    index_url: String,
    username: String,
    crumbs: Vec<(String, String)>,
    content: FormHtml,
}

/// A path segment or query value, percent-encoded.
fn pct(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape(text, &mut out);
    out
}

pub(super) fn index_url() -> crate::Result<String> {
    Ok(crate::urls::reverse("admin:index", &[])?)
}

pub(super) fn page(
    req: &Request,
    title: &str,
    crumbs: Vec<(String, String)>,
    content: String,
) -> crate::Result<HttpResponse> {
    let username = req.user()?.username().to_owned();
    let page = Page {
        ctx: req.context(),
        title: title.to_owned(),
        body_class: "",
        index_url: index_url()?,
        username,
        crumbs,
        content: FormHtml::trusted(content),
    };
    let mut response = render(&page)?;
    // Django's `X-Frame-Options: DENY` for every admin page (clickjacking).
    response
        .headers_mut()
        .insert(actix_web::http::header::X_FRAME_OPTIONS, actix_web::http::header::HeaderValue::from_static("DENY"));
    Ok(response)
}

/// An active staff user, or the response that sends others to the admin's login page.
pub(super) async fn staff(req: &Request) -> crate::Result<Result<Arc<Permissions>, HttpResponse>> {
    let user = req.user()?;
    if !user.is_staff() {
        let next = pct(req.as_http().uri().path_and_query().map_or("/", |p| p.as_str()));
        return Ok(Err(crate::http::redirect(&format!("{}login/?next={next}", index_url()?))));
    }
    Ok(Ok(crate::auth::perms::permissions(req).await?))
}

/// What the user may do with a model (Django's `get_model_perms`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rights {
    pub(super) view: bool,
    pub(super) add: bool,
    pub(super) change: bool,
    pub(super) delete: bool,
}

impl Rights {
    pub(super) fn of(perms: &Permissions, meta: &ModelMeta) -> Self {
        let name = meta.name.to_lowercase();
        let has = |action: &str| perms.has(format!("{}.{action}_{name}", meta.app).as_str());
        Rights { view: has("view"), add: has("add"), change: has("change"), delete: has("delete") }
    }
    fn any(self) -> bool {
        self.view || self.add || self.change || self.delete
    }
    pub(super) fn see(self) -> bool {
        self.view || self.change
    }
}

pub(super) fn denied() -> crate::Error {
    crate::http::Error::permission_denied("the user may not do this in the admin").into()
}

/// The registration and registry entry of `app/model`, or 404.
fn model_of(app: &str, model: &str) -> crate::Result<(&'static ModelAdmin, &'static dyn Registered)> {
    let not_found = || crate::http::Error::not_found(format!("no model `{app}.{model}` in the admin"));
    let admin = super::get(app, model).ok_or_else(not_found)?;
    let registered = registry::model(&admin.meta().label()).ok_or_else(not_found)?;
    Ok((admin, registered))
}

pub(super) fn model_url(meta: &ModelMeta) -> crate::Result<String> {
    Ok(format!("{}{}/{}/", index_url()?, meta.app, meta.name.to_lowercase()))
}

fn plural(meta: &ModelMeta) -> String {
    let name = meta.verbose_name;
    let plural = if name.ends_with('s') { format!("{name}es") } else { format!("{name}s") };
    capitalize(&plural)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

pub(super) fn crumbs(meta: Option<&ModelMeta>, last: Option<&str>) -> crate::Result<Vec<(String, String)>> {
    let mut crumbs = vec![(index_url()?, "Home".to_owned())];
    if let Some(meta) = meta {
        crumbs.push((String::new(), capitalize(meta.app)));
        crumbs.push((if last.is_some() { model_url(meta)? } else { String::new() }, plural(meta)));
    }
    if let Some(last) = last {
        crumbs.push((String::new(), last.to_owned()));
    }
    Ok(crumbs)
}

// ---------------------------------------------------------------- login, logout, index

/// Django's message for refused admin credentials.
pub const INVALID_STAFF_LOGIN: &str =
    "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.";

#[crate::view(GET, POST, name = "login")]
pub(super) async fn login(req: Request, data: FormData) -> crate::Result<HttpResponse> {
    let index = index_url()?;
    let next = data.get("next").map(str::to_owned).or_else(|| {
        crate::http::Query::<crate::auth::views::Next>::from_query(req.as_http().query_string()).ok().map(|q| q.0.next)
    });
    let next = next.unwrap_or_default();
    let mut error = "";
    let username = data.get("username").unwrap_or("").to_owned();
    if data.is_submitted() {
        let password = data.get("password").unwrap_or("");
        match crate::auth::authenticate(&req, &username, password).await? {
            Some(user) if user.is_active && user.is_staff => {
                crate::auth::login(&req, &user).await?;
                return Ok(crate::http::redirect(&crate::auth::views::safe_next(&req, &next, &index)));
            }
            _ => error = INVALID_STAFF_LOGIN,
        }
    } else if req.user()?.is_staff() {
        return Ok(crate::http::redirect(&crate::auth::views::safe_next(&req, &next, &index)));
    }
    let mut html = String::new();
    if !error.is_empty() {
        let _ = write!(html, "<p class=\"errornote\">{}</p>", esc(error));
    } else if req.user()?.is_authenticated() {
        let _ = write!(
            html,
            "<p class=\"errornote\">You are authenticated as {}, but are not authorized to access this page. Would you like to login to a different account?</p>",
            esc(req.user()?.username())
        );
    }
    let _ = write!(
        html,
        "<form method=\"post\" action=\"{index}login/\" id=\"login-form\">{}\
         <div class=\"field\"><label for=\"id_username\" class=\"required\">Username:</label><input type=\"text\" name=\"username\" value=\"{}\" id=\"id_username\" autofocus required maxlength=\"150\"></div>\
         <div class=\"field\"><label for=\"id_password\" class=\"required\">Password:</label><input type=\"password\" name=\"password\" id=\"id_password\" required></div>\
         <input type=\"hidden\" name=\"next\" value=\"{}\"><div class=\"submit-row\"><button type=\"submit\" class=\"default\">Log in</button></div></form>",
        req.context().csrf_input(),
        esc(&username),
        esc(&next)
    );
    let mut response = page(&req, "Log in", Vec::new(), html)?;
    *response.status_mut() = actix_web::http::StatusCode::OK;
    Ok(response)
}

#[crate::view(POST, name = "logout")]
pub(super) async fn logout(req: Request) -> crate::Result<HttpResponse> {
    crate::auth::logout(&req)?;
    let html = format!(
        "<p>Thanks for spending some quality time with the web site today.</p><p><a href=\"{}login/\">Log in again</a></p>",
        index_url()?
    );
    page(&req, "Logged out", Vec::new(), html)
}

#[crate::view(GET, name = "index")]
pub(super) async fn index(req: Request) -> crate::Result<HttpResponse> {
    let perms = match staff(&req).await? {
        Ok(perms) => perms,
        Err(redirect) => return Ok(redirect),
    };
    let mut html = String::new();
    let mut current_app = "";
    let mut shown = 0;
    for admin in super::registered() {
        let meta = admin.meta();
        let rights = Rights::of(&perms, meta);
        if !rights.any() {
            continue;
        }
        if meta.app != current_app {
            if !current_app.is_empty() {
                html.push_str("</table></div>");
            }
            current_app = meta.app;
            let _ = write!(
                html,
                "<div class=\"module app-{0}\"><table><caption><h2>{1}</h2></caption>",
                esc(meta.app),
                esc(&capitalize(meta.app))
            );
        }
        shown += 1;
        let url = model_url(meta)?;
        let name =
            if rights.see() { format!("<a href=\"{url}\">{}</a>", esc(&plural(meta))) } else { esc(&plural(meta)) };
        let add = if rights.add { format!("<a href=\"{url}add/\" class=\"addlink\">Add</a>") } else { String::new() };
        let change = match (rights.change, rights.view) {
            (true, _) => format!("<a href=\"{url}\" class=\"changelink\">Change</a>"),
            (false, true) => format!("<a href=\"{url}\" class=\"viewlink\">View</a>"),
            _ => String::new(),
        };
        let _ = write!(
            html,
            "<tr class=\"model-{}\"><th scope=\"row\">{name}</th><td>{add}</td><td>{change}</td></tr>",
            esc(&meta.name.to_lowercase())
        );
    }
    if shown == 0 {
        html.push_str("<p>You don’t have permission to view or edit anything.</p>");
    } else {
        html.push_str("</table></div>");
    }
    // Recent actions: the user's own last ten.
    let user_id = req.user()?.id().unwrap_or_default();
    let recent = req
        .db()
        .run(move |conn| LogEntry::objects().filter(LogEntry::user.eq(user_id)).limit(10).all_sync(conn))
        .await?;
    html.push_str("<div class=\"module\" id=\"recent-actions-module\"><h2>Recent actions</h2>");
    if recent.is_empty() {
        html.push_str("<p>None available</p>");
    } else {
        html.push_str("<ul class=\"actionlist\">");
        for entry in &recent {
            let _ = write!(
                html,
                "<li class=\"{}\">{} {} <span class=\"mini\">({}.{})</span></li>",
                entry.action().to_lowercase(),
                entry.action(),
                esc(&entry.object_repr),
                esc(&entry.app_label),
                esc(&entry.model)
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</div>");
    page(&req, "Site administration", Vec::new(), html)
}

// ---------------------------------------------------------------- the change list

/// `?q=`, `?o=`, `?p=` and the filters.
struct ListParams {
    query: FormData,
}

impl ListParams {
    fn get(&self, key: &str) -> Option<&str> {
        self.query.get(key).filter(|v| !v.is_empty())
    }

    /// The query string with `key` set to `value` (or removed), the page reset unless it is the key.
    fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .pairs()
            .filter(|(k, _)| *k != key && (key == "p" || *k != "p"))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if let Some(value) = value {
            pairs.push((key.to_owned(), value.to_owned()));
        }
        let query = crate::http::urlencode(pairs.iter().map(|(k, v)| (k, v)));
        if query.is_empty() { "?".to_owned() } else { format!("?{query}") }
    }
}

/// Target rows of every foreign key shown, one query a key column: `field → (pk → display)`.
fn related_displays(
    conn: &mut crate::db::AnyConnection,
    meta: &ModelMeta,
    fields: &[&str],
    rows: &[Row],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, crate::db::Error> {
    let mut found = BTreeMap::new();
    for name in fields {
        let Some(field) = meta.field(name) else { continue };
        let Some(target) = field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) else { continue };
        let mut keys: Vec<String> =
            rows.iter().filter_map(|r| r.value(name)).filter(|k| !k.is_empty()).map(str::to_owned).collect();
        keys.sort();
        keys.dedup();
        let displays = if keys.is_empty() { Vec::new() } else { target.rows_by_keys(conn, &keys)? };
        found.insert((*name).to_owned(), displays.into_iter().collect());
    }
    Ok(found)
}

/// A field's value as the change list shows it: a target's display, a choice's label, a tick.
fn cell(field: &Field, text: &str, related: Option<&BTreeMap<String, String>>) -> String {
    if field.ty == FieldType::Bool {
        let yes = text == "true";
        return format!(
            "<span class=\"{}\">{}</span>",
            if yes { "yes" } else { "no" },
            if yes { "✔ Yes" } else { "✘ No" }
        );
    }
    if text.is_empty() {
        return "-".to_owned();
    }
    if let Some(related) = related {
        return esc(related.get(text).map_or(text, String::as_str));
    }
    if let Some((_, label)) = field.choices.iter().find(|(value, _)| *value == text) {
        return esc(label);
    }
    esc(text)
}

fn field_label(meta: &ModelMeta, name: &str) -> String {
    meta.field(name).map_or_else(|| capitalize(&name.replace('_', " ")), |f| capitalize(&f.verbose_name))
}

#[crate::view(GET, POST, name = "changelist")]
pub(super) async fn changelist(
    req: Request,
    #[params(app_label, model_name)] names: Path<(String, String)>,
    data: FormData,
) -> crate::Result<HttpResponse> {
    let perms = match staff(&req).await? {
        Ok(perms) => perms,
        Err(redirect) => return Ok(redirect),
    };
    let (app, model) = names.into_inner();
    let (admin, registered) = model_of(&app, &model)?;
    let meta = admin.meta();
    let rights = Rights::of(&perms, meta);
    if !rights.see() {
        return Err(denied());
    }
    if data.is_submitted() {
        return bulk_action(&req, admin, registered, rights, &data).await;
    }
    let params = ListParams { query: FormData::from_query(req.as_http()) };
    let mut request = ListRequest { per_page: admin.list_per_page, ..ListRequest::default() };
    for name in admin.list_filter {
        if let Some(value) = params.query.get(name) {
            request.filters.push(((*name).to_owned(), value.to_owned()));
        }
    }
    if !admin.search_fields.is_empty() {
        request.search = params.get("q").map(str::to_owned);
        request.search_fields = admin.search_fields.iter().map(|f| (*f).to_owned()).collect();
    }
    let display: Vec<&str> = admin.list_display.to_vec();
    if let Some(order) = params.get("o") {
        for term in order.split('.') {
            let (name, descending) = term.strip_prefix('-').map_or((term, false), |n| (n, true));
            // Only shown columns sort (Django's `o` works on `list_display`).
            if display.contains(&name) {
                request.ordering.push((name.to_owned(), descending));
            }
        }
    }
    request.page = params.get("p").and_then(|p| p.parse().ok()).unwrap_or(1);
    let filter_fields: Vec<&'static str> = admin.list_filter.to_vec();
    let shown = display.clone();
    let shown_fields: Vec<&'static str> = admin.list_display.to_vec();
    let listed = req
        .db()
        .run(move |conn| {
            let page = match registered.list(conn, &request) {
                Err(crate::db::Error::InvalidPage { .. }) => {
                    registered.list(conn, &ListRequest { page: 1, ..request.clone() })?
                }
                other => other?,
            };
            let related = related_displays(conn, meta, &shown_fields, &page.rows)?;
            let total = registered.list(conn, &ListRequest { per_page: 1, ..ListRequest::default() })?.count;
            // The filters' choices: every target row of a foreign key filter.
            let mut filter_choices = BTreeMap::new();
            for name in &filter_fields {
                let Some(field) = meta.field(name) else { continue };
                if let Some(target) = field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) {
                    let rows: Vec<(String, String)> =
                        target.dump(conn)?.into_iter().map(|r| (r.pk, r.display)).collect();
                    filter_choices.insert((*name).to_owned(), rows);
                }
            }
            Ok::<_, crate::db::Error>((page, related, total, filter_choices))
        })
        .await;
    let (page_rows, related, total, filter_choices) = match listed {
        Err(crate::db::Error::InvalidInput { errors, .. }) => {
            let detail = errors.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            return Err(crate::http::Error::bad_request(detail).into());
        }
        other => other?,
    };
    let url = model_url(meta)?;
    let mut html = String::from("<div class=\"changelist\"><div class=\"results\">");
    if rights.add {
        let _ = write!(
            html,
            "<p class=\"toolbar\"><a href=\"{url}add/\" class=\"addlink\">Add {}</a></p>",
            esc(meta.verbose_name)
        );
    }
    if !admin.search_fields.is_empty() {
        let _ = write!(
            html,
            "<form id=\"changelist-search\" method=\"get\"><label for=\"searchbar\">Search:</label> <input type=\"text\" size=\"40\" name=\"q\" value=\"{}\" id=\"searchbar\"> <button type=\"submit\">Search</button>",
            esc(params.get("q").unwrap_or(""))
        );
        for (key, value) in params.query.pairs().filter(|(k, _)| *k != "q" && *k != "p") {
            let _ = write!(html, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(key), esc(value));
        }
        let _ = write!(
            html,
            " <span class=\"small quiet\">{} result{} (<a href=\"?\">{total} total</a>)</span></form>",
            page_rows.count,
            if page_rows.count == 1 { "" } else { "s" }
        );
    }
    let _ = write!(html, "<form id=\"changelist-form\" method=\"post\">{}", req.context().csrf_input());
    if rights.delete {
        html.push_str("<div class=\"actions\"><label>Action: <select name=\"action\" required><option value=\"\">---------</option><option value=\"delete_selected\">Delete selected ");
        html.push_str(&esc(&plural(meta).to_lowercase()));
        html.push_str(
            "</option></select></label> <button type=\"submit\" name=\"index\" value=\"0\">Go</button></div>",
        );
    }
    html.push_str("<table id=\"result_list\"><thead><tr>");
    if rights.delete {
        html.push_str("<th class=\"action-checkbox-column\"><input type=\"checkbox\" id=\"action-toggle\" aria-label=\"Select all objects on this page for an action\"></th>");
    }
    let current_order = params.get("o").unwrap_or("");
    if shown.is_empty() {
        let _ = write!(html, "<th scope=\"col\">{}</th>", esc(&capitalize(meta.verbose_name)));
    }
    for name in &shown {
        let (sorted_asc, sorted_desc) = (current_order == *name, current_order == format!("-{name}"));
        let next = if sorted_asc { format!("-{name}") } else { (*name).to_owned() };
        let class = if sorted_asc {
            " class=\"sorted ascending\""
        } else if sorted_desc {
            " class=\"sorted descending\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<th scope=\"col\"{class}><a href=\"{}\">{}</a></th>",
            esc(&params.with("o", Some(&next))),
            esc(&field_label(meta, name))
        );
    }
    html.push_str("</tr></thead><tbody>");
    let links: Vec<&str> = if admin.list_display_links.is_empty() {
        shown.first().copied().into_iter().collect()
    } else {
        admin.list_display_links.to_vec()
    };
    for row in &page_rows.rows {
        html.push_str("<tr>");
        if rights.delete {
            let _ = write!(
                html,
                "<td class=\"action-checkbox\"><input type=\"checkbox\" name=\"_selected_action\" value=\"{}\" class=\"action-select\" aria-label=\"Select this object for an action - {}\"></td>",
                esc(&row.pk),
                esc(&row.display)
            );
        }
        let change_url = format!("{url}{}/change/", pct(&row.pk));
        if shown.is_empty() {
            let _ = write!(html, "<th><a href=\"{change_url}\">{}</a></th>", esc(&row.display));
        }
        for name in &shown {
            let content = match meta.field(name) {
                Some(field) => cell(field, row.value(name).unwrap_or(""), related.get(*name)),
                None => String::new(),
            };
            if links.contains(name) {
                let _ = write!(html, "<th><a href=\"{change_url}\">{content}</a></th>");
            } else {
                let _ = write!(html, "<td>{content}</td>");
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></form>");
    // Pagination.
    if page_rows.num_pages > 1 {
        html.push_str("<p class=\"paginator\">");
        for number in 1..=page_rows.num_pages {
            let near = (number - page_rows.page).abs() <= 3 || number == 1 || number == page_rows.num_pages;
            if !near {
                if (number - page_rows.page).abs() == 4 {
                    html.push_str("… ");
                }
                continue;
            }
            if number == page_rows.page {
                let _ = write!(html, "<span class=\"this-page\">{number}</span> ");
            } else {
                let _ = write!(html, "<a href=\"{}\">{number}</a> ", esc(&params.with("p", Some(&number.to_string()))));
            }
        }
        html.push_str("</p>");
    }
    let _ = write!(
        html,
        "<p class=\"paginator\">{} {}</p></div>",
        page_rows.count,
        esc(&if page_rows.count == 1 { meta.verbose_name.to_owned() } else { plural(meta).to_lowercase() })
    );
    // Filters.
    if !admin.list_filter.is_empty() {
        html.push_str("<nav id=\"changelist-filter\"><h2>Filter</h2>");
        for name in admin.list_filter {
            let Some(field) = meta.field(name) else { continue };
            let chosen = params.query.get(name);
            let mut options: Vec<(Option<String>, String)> = vec![(None, "All".to_owned())];
            if field.ty == FieldType::Bool {
                options.push((Some("true".into()), "Yes".into()));
                options.push((Some("false".into()), "No".into()));
            } else if !field.choices.is_empty() {
                options.extend(field.choices.iter().map(|(v, l)| (Some((*v).to_owned()), (*l).to_owned())));
            } else if let Some(rows) = filter_choices.get(*name) {
                options.extend(rows.iter().map(|(pk, display)| (Some(pk.clone()), display.clone())));
            }
            let _ = write!(html, "<h3>By {}</h3><ul>", esc(&field.verbose_name));
            for (value, label) in options {
                let selected = value.as_deref() == chosen;
                let _ = write!(
                    html,
                    "<li{}><a href=\"{}\">{}</a></li>",
                    if selected { " class=\"selected\"" } else { "" },
                    esc(&params.with(name, value.as_deref())),
                    esc(&label)
                );
            }
            html.push_str("</ul>");
        }
        html.push_str("</nav>");
    }
    html.push_str("</div>");
    let title = format!("Select {} to {}", meta.verbose_name, if rights.change { "change" } else { "view" });
    page(&req, &title, crumbs(Some(meta), None)?, html)
}

/// The bulk delete action: the confirmation page, then the deletion (Django's `delete_selected`).
async fn bulk_action(
    req: &Request,
    admin: &'static ModelAdmin,
    registered: &'static dyn Registered,
    rights: Rights,
    data: &FormData,
) -> crate::Result<HttpResponse> {
    let meta = admin.meta();
    let url = model_url(meta)?;
    let keys: Vec<String> = data.get_all("_selected_action").into_iter().map(str::to_owned).collect();
    let messages = req.messages()?;
    if data.get("action") != Some("delete_selected") {
        messages.warning("No action selected.")?;
        return Ok(crate::http::redirect(&url));
    }
    if !rights.delete {
        return Err(denied());
    }
    if keys.is_empty() {
        messages.warning("Items must be selected in order to perform actions on them. No items have been changed.")?;
        return Ok(crate::http::redirect(&url));
    }
    let confirmed = data.get("post") == Some("yes");
    let user_id = req.user()?.id().unwrap_or_default();
    let keys_for_db = keys.clone();
    let outcome = req
        .db()
        .run(move |conn| {
            if !confirmed {
                return crate::db::collector::collect(conn, registered, &keys_for_db).map(|c| (c, false));
            }
            crate::db::atomic(conn, |conn| {
                let collected = crate::db::collector::delete(conn, registered, &keys_for_db)?;
                let deleted = collected
                    .deleted
                    .iter()
                    .find(|(label, _)| *label == meta.label())
                    .map(|(_, rows)| rows.clone())
                    .unwrap_or_default();
                for (pk, display) in deleted {
                    log(conn, user_id, meta, &pk, &display, super::DELETION, "")?;
                }
                Ok((collected, true))
            })
        })
        .await;
    match outcome {
        Ok((collected, true)) => {
            let count = collected.deleted.iter().find(|(label, _)| *label == meta.label()).map_or(0, |(_, r)| r.len());
            let noun = if count == 1 { meta.verbose_name.to_owned() } else { plural(meta).to_lowercase() };
            messages.success(format!("Successfully deleted {count} {noun}."))?;
            Ok(crate::http::redirect(&url))
        }
        Ok((collected, false)) => {
            let mut html = format!(
                "<p>Are you sure you want to delete the selected {}? All of the following objects and their related items will be deleted:</p>",
                esc(&plural(meta).to_lowercase())
            );
            html.push_str(&deleted_list(&collected));
            let _ = write!(html, "<form method=\"post\">{}", req.context().csrf_input());
            for key in &keys {
                let _ = write!(html, "<input type=\"hidden\" name=\"_selected_action\" value=\"{}\">", esc(key));
            }
            let _ = write!(
                html,
                "<input type=\"hidden\" name=\"action\" value=\"delete_selected\"><input type=\"hidden\" name=\"post\" value=\"yes\"><div class=\"submit-row\"><button type=\"submit\" class=\"default\">Yes, I’m sure</button> <a href=\"{url}\">No, take me back</a></div></form>"
            );
            page(req, "Are you sure?", crumbs(Some(meta), Some("Delete multiple objects"))?, html)
        }
        Err(crate::db::Error::Protected { rows, .. }) => {
            let html = protected_list(meta, &rows);
            page(req, "Cannot delete", crumbs(Some(meta), Some("Delete multiple objects"))?, html)
        }
        Err(other) => Err(other.into()),
    }
}

fn deleted_list(collected: &crate::db::Collected) -> String {
    let mut html = String::from("<ul class=\"deleted-objects\">");
    for (label, rows) in &collected.deleted {
        for (_, display) in rows {
            let _ = write!(html, "<li>{}: {}</li>", esc(label), esc(display));
        }
    }
    html.push_str("</ul>");
    let mut summary = String::from("<h2>Summary</h2><ul class=\"summary\">");
    for (label, count) in collected.counts() {
        let _ = write!(summary, "<li>{}: {count}</li>", esc(&label));
    }
    summary.push_str("</ul>");
    summary + &html
}

fn protected_list(meta: &ModelMeta, rows: &[(String, String)]) -> String {
    let mut html = format!(
        "<p class=\"errornote\">Deleting the selected {} would require deleting the following protected related objects:</p><ul class=\"protected\">",
        esc(meta.verbose_name)
    );
    for (label, display) in rows {
        let _ = write!(html, "<li>{}: {}</li>", esc(label), esc(display));
    }
    html.push_str("</ul>");
    html
}

pub(super) fn log(
    conn: &mut crate::db::AnyConnection,
    user_id: i64,
    meta: &ModelMeta,
    pk: &str,
    display: &str,
    action_flag: i16,
    change_message: &str,
) -> Result<(), crate::db::Error> {
    let entry = LogEntry {
        id: 0,
        action_time: crate::db::now(),
        user: ForeignKey::new(user_id),
        app_label: meta.app.to_owned(),
        model: meta.name.to_lowercase(),
        object_id: pk.to_owned(),
        object_repr: display.chars().take(200).collect(),
        action_flag,
        change_message: change_message.to_owned(),
    };
    entry.save_sync(conn).map(drop)
}

// ---------------------------------------------------------------- add, change, delete, history

/// The fields of the add and change pages.
fn form_fields(admin: &ModelAdmin) -> Vec<&'static Field> {
    let meta = admin.meta();
    if admin.fields.is_empty() {
        meta.fields
            .iter()
            .filter(|f| (f.editable || admin.readonly_fields.contains(&f.name.as_ref())) && f.widget != Widget::Hidden)
            .collect()
    } else {
        admin.fields.iter().filter_map(|name| meta.field(name)).collect()
    }
}

fn editable(admin: &ModelAdmin, field: &Field) -> bool {
    field.editable && !admin.readonly_fields.contains(&field.name.as_ref()) && field.widget != Widget::Hidden
}

/// The values a posted form gives the editable fields (an unticked box sends nothing: false).
fn posted_values(admin: &ModelAdmin, data: &FormData) -> BTreeMap<String, String> {
    form_fields(admin)
        .into_iter()
        .filter(|f| editable(admin, f))
        .map(|f| {
            let value = match (f.ty, data.get(&f.name)) {
                (FieldType::Bool, Some(v)) => (!v.is_empty() && v != "false").to_string(),
                (FieldType::Bool, None) => "false".to_owned(),
                (FieldType::DateTime | FieldType::DateTimeTz, Some(v)) => v.replacen('T', " ", 1),
                (_, v) => v.unwrap_or("").to_owned(),
            };
            (f.name.to_string(), value)
        })
        .collect()
}

/// Rows of each foreign key's target, for its select.
fn choices_of(
    conn: &mut crate::db::AnyConnection,
    fields: &[&'static Field],
) -> Result<BTreeMap<String, Vec<(String, String)>>, crate::db::Error> {
    let mut choices = BTreeMap::new();
    for field in fields {
        if let Some(target) = field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) {
            let rows = target.dump(conn)?.into_iter().map(|r| (r.pk, r.display)).collect();
            choices.insert(field.name.to_string(), rows);
        }
    }
    Ok(choices)
}

/// A many-to-many relation as the form shows it.
struct ManyState {
    name: String,
    label: String,
    choices: Vec<(String, String)>,
    selected: Vec<String>,
}

struct FormState<'a> {
    many: Vec<ManyState>,
    inlines: Vec<(super::inlines::Inline, super::inlines::InlineState)>,
    /// HTML shown instead of a read-only field's value (a user's password summary).
    html: BTreeMap<&'static str, String>,
    values: &'a BTreeMap<String, String>,
    errors: &'a [(String, String)],
    choices: &'a BTreeMap<String, Vec<(String, String)>>,
    read_only: bool,
}

fn field_html(admin: &ModelAdmin, field: &Field, state: &FormState<'_>, out: &mut String) {
    let name = field.name.as_ref();
    let value = state.values.get(name).map_or("", String::as_str);
    let errors: Vec<&str> = state.errors.iter().filter(|(f, _)| f == name).map(|(_, m)| m.as_str()).collect();
    let required = !(field.blank || field.nullable || field.ty == FieldType::Bool);
    let _ = write!(out, "<div class=\"field field-{}{}\">", esc(name), if errors.is_empty() { "" } else { " errors" });
    let _ = write!(
        out,
        "<label for=\"id_{}\"{}>{}:</label>",
        esc(name),
        if required && !state.read_only { " class=\"required\"" } else { "" },
        esc(&capitalize(&field.verbose_name))
    );
    if !errors.is_empty() {
        out.push_str("<ul class=\"errorlist\">");
        for message in &errors {
            let _ = write!(out, "<li>{}</li>", esc(message));
        }
        out.push_str("</ul>");
    }
    if let Some(html) = state.html.get(name) {
        let _ = write!(out, "<div class=\"readonly\">{html}</div>");
    } else if state.read_only || !editable(admin, field) {
        let related = state.choices.get(name).map(|rows| rows.iter().cloned().collect::<BTreeMap<_, _>>());
        let _ = write!(out, "<div class=\"readonly\">{}</div>", cell(field, value, related.as_ref()));
    } else {
        let id = format!("id_{}", esc(name));
        let req_attr = if required { " required" } else { "" };
        let max = field.max_length.map(|n| format!(" maxlength=\"{n}\"")).unwrap_or_default();
        let prepopulate = admin
            .prepopulated_fields
            .iter()
            .find(|(target, _)| *target == name)
            .map(|(_, sources)| {
                format!(
                    " data-prepopulate=\"{}\"",
                    sources.iter().map(|s| format!("id_{s}")).collect::<Vec<_>>().join(",")
                )
            })
            .unwrap_or_default();
        if let Some(rows) = state.choices.get(name) {
            let _ = write!(
                out,
                "<select name=\"{}\" id=\"{id}\"{req_attr}><option value=\"\">---------</option>",
                esc(name)
            );
            for (pk, display) in rows {
                let _ = write!(
                    out,
                    "<option value=\"{}\"{}>{}</option>",
                    esc(pk),
                    if pk == value { " selected" } else { "" },
                    esc(display)
                );
            }
            out.push_str("</select>");
        } else if !field.choices.is_empty() {
            let _ = write!(out, "<select name=\"{}\" id=\"{id}\"{req_attr}>", esc(name));
            if !required {
                out.push_str("<option value=\"\">---------</option>");
            }
            for (choice, label) in field.choices {
                let _ = write!(
                    out,
                    "<option value=\"{}\"{}>{}</option>",
                    esc(choice),
                    if *choice == value { " selected" } else { "" },
                    esc(label)
                );
            }
            out.push_str("</select>");
        } else {
            match field.widget {
                Widget::Checkbox => {
                    let _ = write!(
                        out,
                        "<input type=\"checkbox\" name=\"{}\" id=\"{id}\"{}>",
                        esc(name),
                        if value == "true" { " checked" } else { "" }
                    );
                }
                Widget::TextArea => {
                    let _ = write!(
                        out,
                        "<textarea name=\"{}\" id=\"{id}\" rows=\"6\"{req_attr}>{}</textarea>",
                        esc(name),
                        esc(value)
                    );
                }
                widget => {
                    let (kind, extra) = match widget {
                        Widget::Integer => ("number", String::new()),
                        Widget::Number => (
                            "number",
                            field.decimal_places.map_or_else(
                                || " step=\"any\"".to_owned(),
                                |p| {
                                    if p == 0 {
                                        " step=\"1\"".to_owned()
                                    } else {
                                        format!(" step=\"0.{}1\"", "0".repeat(p as usize - 1))
                                    }
                                },
                            ),
                        ),
                        Widget::Email => ("email", String::new()),
                        Widget::Date => ("date", String::new()),
                        Widget::DateTime => ("datetime-local", " step=\"1\"".to_owned()),
                        _ => ("text", String::new()),
                    };
                    let shown = if kind == "datetime-local" { value.replacen(' ', "T", 1) } else { value.to_owned() };
                    let shown =
                        if kind == "datetime-local" { shown.split('.').next().unwrap_or("").to_owned() } else { shown };
                    let _ = write!(
                        out,
                        "<input type=\"{kind}\" name=\"{}\" value=\"{}\" id=\"{id}\"{max}{extra}{req_attr}{prepopulate}>",
                        esc(name),
                        esc(&shown)
                    );
                }
            }
        }
    }
    if !field.help_text.is_empty() {
        let _ = write!(out, "<div class=\"helptext\">{}</div>", esc(&field.help_text));
    }
    out.push_str("</div>");
}

fn many_html(many: &ManyState, state: &FormState<'_>, out: &mut String) {
    let name = esc(&many.name);
    let errors: Vec<&str> = state.errors.iter().filter(|(f, _)| *f == many.name).map(|(_, m)| m.as_str()).collect();
    let _ = write!(
        out,
        "<div class=\"field field-{name}{}\"><label for=\"id_{name}\">{}:</label>",
        if errors.is_empty() { "" } else { " errors" },
        esc(&many.label)
    );
    if !errors.is_empty() {
        out.push_str("<ul class=\"errorlist\">");
        for message in errors {
            let _ = write!(out, "<li>{}</li>", esc(message));
        }
        out.push_str("</ul>");
    }
    if state.read_only {
        let chosen: Vec<String> =
            many.choices.iter().filter(|(k, _)| many.selected.contains(k)).map(|(_, d)| esc(d)).collect();
        let _ = write!(
            out,
            "<div class=\"readonly\">{}</div></div>",
            if chosen.is_empty() { "-".to_owned() } else { chosen.join(", ") }
        );
        return;
    }
    let _ = write!(
        out,
        "<input type=\"search\" class=\"filter-options\" data-for=\"id_{name}\" placeholder=\"Filter\" aria-label=\"Filter {}\"><select name=\"{name}\" id=\"id_{name}\" multiple>",
        esc(&many.label.to_lowercase())
    );
    for (key, display) in &many.choices {
        let selected = if many.selected.contains(key) { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", esc(key), esc(display));
    }
    out.push_str("</select><div class=\"helptext\">Hold down “Control”, or “Command” on a Mac, to select more than one.</div></div>");
}

/// The relations' states: choices, and what is chosen (`posted`, else `pk`'s links).
fn many_states(
    conn: &mut crate::db::AnyConnection,
    relations: &[super::related::ManyToMany],
    pk: Option<&str>,
    posted: Option<&FormData>,
) -> Result<Vec<ManyState>, crate::db::Error> {
    let mut states = Vec::new();
    for relation in relations {
        let choices = relation.choices(conn)?;
        let selected = match (posted, pk) {
            (Some(data), _) => data.get_all(&relation.name).into_iter().map(str::to_owned).collect(),
            (None, Some(pk)) => relation.chosen(conn, pk)?,
            (None, None) => Vec::new(),
        };
        states.push(ManyState { name: relation.name.clone(), label: relation.label.clone(), choices, selected });
    }
    Ok(states)
}

/// Django's message for chosen keys that are not among the choices.
fn many_errors(states: &[ManyState]) -> Vec<(String, String)> {
    states
        .iter()
        .filter_map(|state| {
            let bad = state.selected.iter().find(|key| !state.choices.iter().any(|(k, _)| k == *key))?;
            Some((state.name.clone(), format!("Select a valid choice. {bad} is not one of the available choices.")))
        })
        .collect()
}

/// Links the saved row to what each relation's state chose; the labels of those that changed.
fn save_many(
    conn: &mut crate::db::AnyConnection,
    relations: &[super::related::ManyToMany],
    states: &[ManyState],
    pk: &str,
) -> Result<Vec<String>, crate::db::Error> {
    let mut changed = Vec::new();
    for (relation, state) in relations.iter().zip(states) {
        if relation.set(conn, pk, &state.selected)? {
            changed.push(relation.label.clone());
        }
    }
    Ok(changed)
}

/// The inlines of `admin`'s page, editable where the user may change the child model.
fn inlines_for(admin: &'static ModelAdmin, perms: &crate::auth::Permissions) -> Vec<super::inlines::Inline> {
    let mut inlines = super::inlines::inlines(admin.meta(), admin.inlines);
    for inline in &mut inlines {
        let rights = Rights::of(perms, inline.meta);
        inline.editable = rights.add && rights.change && rights.delete;
    }
    inlines
}

type InlineStates = Vec<super::inlines::InlineState>;

/// Saves every editable inline under `pk`; the labels of those that changed, or the errors.
fn save_inlines(
    conn: &mut crate::db::AnyConnection,
    inlines: &[super::inlines::Inline],
    states: &mut InlineStates,
    pk: &str,
) -> Result<Result<Vec<String>, Vec<(String, String)>>, crate::db::Error> {
    let mut changed = Vec::new();
    let mut errors = Vec::new();
    for (inline, state) in inlines.iter().zip(states.iter_mut()) {
        if !inline.editable {
            continue;
        }
        if inline.save(conn, pk, state)? {
            changed.push(format!("{}s", inline.meta.verbose_name));
        }
        errors.extend(state.errors().iter().cloned());
    }
    Ok(if errors.is_empty() { Ok(changed) } else { Err(errors) })
}

#[allow(clippy::too_many_arguments)]
fn change_form(
    req: &Request,
    admin: &ModelAdmin,
    state: &FormState<'_>,
    title: &str,
    crumb: &str,
    delete_url: Option<String>,
    history_url: Option<String>,
) -> crate::Result<HttpResponse> {
    let meta = admin.meta();
    let mut html = String::new();
    if let Some(history) = &history_url {
        let _ = write!(html, "<p class=\"object-tools\"><a href=\"{history}\" class=\"historylink\">History</a></p>");
    }
    if !state.errors.is_empty() {
        let count = state.errors.len();
        let _ = write!(
            html,
            "<p class=\"errornote\">{}</p>",
            if count == 1 { "Please correct the error below." } else { "Please correct the errors below." }
        );
        let own = |f: &str| {
            meta.field(f).is_some()
                || state.many.iter().any(|m| m.name == f)
                || state.inlines.iter().any(|(i, _)| f.starts_with(&format!("{}-", i.prefix)))
        };
        for (_, message) in state.errors.iter().filter(|(f, _)| f.is_empty() || !own(f)) {
            let _ = write!(html, "<ul class=\"errorlist nonfield\"><li>{}</li></ul>", esc(message));
        }
    }
    let _ = write!(
        html,
        "<form method=\"post\" id=\"{}_form\" novalidate>{}",
        esc(&meta.name.to_lowercase()),
        req.context().csrf_input()
    );
    html.push_str("<fieldset class=\"module\">");
    for field in form_fields(admin) {
        field_html(admin, field, state, &mut html);
    }
    for many in &state.many {
        many_html(many, state, &mut html);
    }
    for (inline, inline_state) in &state.inlines {
        inline.html(inline_state, state.read_only || !inline.editable, &mut html);
    }
    html.push_str("</fieldset>");
    if !state.read_only {
        html.push_str("<div class=\"submit-row\"><button type=\"submit\" name=\"_save\" class=\"default\">Save</button><button type=\"submit\" name=\"_addanother\">Save and add another</button><button type=\"submit\" name=\"_continue\">Save and continue editing</button>");
        if let Some(delete) = delete_url {
            let _ = write!(html, "<a href=\"{delete}\" class=\"deletelink\">Delete</a>");
        }
        html.push_str("</div>");
    } else {
        let _ = write!(html, "<div class=\"submit-row\"><a href=\"{}\">Close</a></div>", model_url(meta)?);
    }
    html.push_str("</form>");
    page(req, title, crumbs(Some(meta), Some(crumb))?, html)
}

/// Where a saved form goes: Django's three buttons.
fn after_save(data: &FormData, meta: &ModelMeta, pk: &str) -> crate::Result<String> {
    let url = model_url(meta)?;
    Ok(if data.contains("_addanother") {
        format!("{url}add/")
    } else if data.contains("_continue") {
        format!("{url}{}/change/", pct(pk))
    } else {
        url
    })
}

#[crate::view(GET, POST, name = "add")]
pub(super) async fn add(
    req: Request,
    #[params(app_label, model_name)] names: Path<(String, String)>,
    data: FormData,
) -> crate::Result<HttpResponse> {
    let perms = match staff(&req).await? {
        Ok(perms) => perms,
        Err(redirect) => return Ok(redirect),
    };
    let (app, model) = names.into_inner();
    let (admin, registered) = model_of(&app, &model)?;
    let meta = admin.meta();
    if !Rights::of(&perms, meta).add {
        return Err(denied());
    }
    if meta.label() == "auth.User" {
        return super::users::add_user(&req, &data).await;
    }
    let fields = form_fields(admin);
    let values = if data.is_submitted() {
        posted_values(admin, &data)
    } else {
        fields
            .iter()
            .map(|f| {
                let initial = match &f.default {
                    Some(crate::db::Value::Bool(b)) => b.to_string(),
                    Some(crate::db::Value::Int(n)) => n.to_string(),
                    Some(crate::db::Value::Float(x)) => x.to_string(),
                    Some(crate::db::Value::Text(t)) => t.to_string(),
                    _ => String::new(),
                };
                (f.name.to_string(), initial)
            })
            .collect()
    };
    let user_id = req.user()?.id().unwrap_or_default();
    let submitted = data.is_submitted();
    let to_save = values.clone();
    let fields_for_db = fields.clone();
    let posted = submitted.then(|| data.clone());
    let inlines = inlines_for(admin, &perms);
    let (saved, choices, many, inlines, inline_states) = req
        .db()
        .run(move |conn| {
            let choices = choices_of(conn, &fields_for_db)?;
            let relations = super::related::many_to_many(meta);
            let many = many_states(conn, &relations, None, posted.as_ref())?;
            let mut inline_states: InlineStates =
                inlines.iter().map(|i| i.state(conn, None, posted.as_ref())).collect::<Result<_, _>>()?;
            if !submitted {
                return Ok((None, choices, many, inlines, inline_states));
            }
            let bad_choices = many_errors(&many);
            let outcome = crate::db::atomic(conn, |conn| {
                let row = match registered.create(conn, &to_save) {
                    Err(crate::db::Error::InvalidInput { model, mut errors }) => {
                        errors.extend(bad_choices.iter().cloned());
                        return Err(crate::db::Error::InvalidInput { model, errors });
                    }
                    other => other?,
                };
                if !bad_choices.is_empty() {
                    return Err(crate::db::Error::InvalidInput { model: meta.name, errors: bad_choices.clone() });
                }
                save_many(conn, &relations, &many, &row.pk)?;
                if let Err(errors) = save_inlines(conn, &inlines, &mut inline_states, &row.pk)? {
                    return Err(crate::db::Error::InvalidInput { model: meta.name, errors });
                }
                log(conn, user_id, meta, &row.pk, &row.display, super::ADDITION, "[{\"added\": {}}]")?;
                Ok(row)
            });
            match outcome {
                Ok(row) => Ok((Some(Ok(row)), choices, many, inlines, inline_states)),
                Err(crate::db::Error::InvalidInput { errors, .. }) => {
                    Ok((Some(Err(errors)), choices, many, inlines, inline_states))
                }
                Err(other) => Err(other),
            }
        })
        .await?;
    let errors = match saved {
        Some(Ok(row)) => {
            req.messages()?.success(format!("The {} “{}” was added successfully.", meta.verbose_name, row.display))?;
            return Ok(crate::http::redirect(&after_save(&data, meta, &row.pk)?));
        }
        Some(Err(errors)) => errors,
        None => Vec::new(),
    };
    let state = FormState {
        many,
        inlines: inlines.into_iter().zip(inline_states).collect(),
        html: BTreeMap::new(),
        values: &values,
        errors: &errors,
        choices: &choices,
        read_only: false,
    };
    change_form(
        &req,
        admin,
        &state,
        &format!("Add {}", meta.verbose_name),
        &format!("Add {}", meta.verbose_name),
        None,
        None,
    )
}

#[crate::view(GET, POST, name = "change")]
pub(super) async fn change(
    req: Request,
    #[params(app_label, model_name, object_id)] names: Path<(String, String, String)>,
    data: FormData,
) -> crate::Result<HttpResponse> {
    let perms = match staff(&req).await? {
        Ok(perms) => perms,
        Err(redirect) => return Ok(redirect),
    };
    let (app, model, pk) = names.into_inner();
    let (admin, registered) = model_of(&app, &model)?;
    let meta = admin.meta();
    let rights = Rights::of(&perms, meta);
    if !rights.see() || (data.is_submitted() && !rights.change) {
        return Err(denied());
    }
    let submitted = data.is_submitted();
    let posted = posted_values(admin, &data);
    let user_id = req.user()?.id().unwrap_or_default();
    let fields = form_fields(admin);
    let key = pk.clone();
    let fields_for_db = fields.clone();
    let posted_data = submitted.then(|| data.clone());
    let inlines = inlines_for(admin, &perms);
    let loaded = req
        .db()
        .run(move |conn| {
            let before = registered.get(conn, &key)?;
            let choices = choices_of(conn, &fields_for_db)?;
            let relations = super::related::many_to_many(meta);
            let many = many_states(conn, &relations, Some(&before.pk), posted_data.as_ref())?;
            let mut inline_states: InlineStates = inlines
                .iter()
                .map(|i| i.state(conn, Some(&before.pk), posted_data.as_ref()))
                .collect::<Result<_, _>>()?;
            if !submitted {
                return Ok((before, None, choices, many, inlines, inline_states));
            }
            let bad_choices = many_errors(&many);
            // In the form's order, as Django lists them.
            let changed: Vec<String> = meta
                .fields
                .iter()
                .filter(|f| {
                    posted.get(f.name.as_ref()).is_some_and(|new| before.value(&f.name).is_some_and(|old| old != new))
                })
                .map(|f| field_label(meta, &f.name))
                .collect();
            let outcome = crate::db::atomic(conn, |conn| {
                let row = match registered.update(conn, &key, &posted) {
                    Err(crate::db::Error::InvalidInput { model, mut errors }) => {
                        errors.extend(bad_choices.iter().cloned());
                        return Err(crate::db::Error::InvalidInput { model, errors });
                    }
                    other => other?,
                };
                if !bad_choices.is_empty() {
                    return Err(crate::db::Error::InvalidInput { model: meta.name, errors: bad_choices.clone() });
                }
                let mut changed = changed.clone();
                changed.extend(save_many(conn, &relations, &many, &row.pk)?);
                match save_inlines(conn, &inlines, &mut inline_states, &row.pk)? {
                    Ok(labels) => changed.extend(labels),
                    Err(errors) => return Err(crate::db::Error::InvalidInput { model: meta.name, errors }),
                }
                let message = if changed.is_empty() {
                    "No fields changed.".to_owned()
                } else {
                    format!("Changed {}.", join_and(&changed))
                };
                log(conn, user_id, meta, &row.pk, &row.display, super::CHANGE, &message)?;
                Ok(row)
            });
            match outcome {
                Ok(row) => Ok((row, Some(Ok(())), choices, many, inlines, inline_states)),
                Err(crate::db::Error::InvalidInput { errors, .. }) => {
                    Ok((before, Some(Err((errors, posted))), choices, many, inlines, inline_states))
                }
                Err(other) => Err(other),
            }
        })
        .await;
    let (row, saved, choices, many, inlines, inline_states) = match loaded {
        Err(crate::db::Error::DoesNotExist { .. }) => {
            req.messages()?.warning(format!(
                "{} with ID “{pk}” doesn’t exist. Perhaps it was deleted?",
                capitalize(meta.verbose_name)
            ))?;
            return Ok(crate::http::redirect(&index_url()?));
        }
        other => other?,
    };
    let (errors, values) = match saved {
        Some(Ok(())) => {
            req.messages()?
                .success(format!("The {} “{}” was changed successfully.", meta.verbose_name, row.display))?;
            return Ok(crate::http::redirect(&after_save(&data, meta, &row.pk)?));
        }
        Some(Err((errors, posted))) => {
            let mut values: BTreeMap<String, String> =
                row.values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
            values.extend(posted);
            (errors, values)
        }
        None => (Vec::new(), row.values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()),
    };
    let url = format!("{}{}/", model_url(meta)?, pct(&row.pk));
    let mut html = BTreeMap::new();
    if meta.label() == "auth.User" {
        html.insert(
            "password",
            super::users::password_summary(values.get("password").map_or("", String::as_str), &url),
        );
    }
    let state = FormState {
        many,
        inlines: inlines.into_iter().zip(inline_states).collect(),
        html,
        values: &values,
        errors: &errors,
        choices: &choices,
        read_only: !rights.change,
    };
    let verb = if rights.change { "Change" } else { "View" };
    change_form(
        &req,
        admin,
        &state,
        &format!("{verb} {}", meta.verbose_name),
        &row.display,
        rights.delete.then(|| format!("{url}delete/")),
        Some(format!("{url}history/")),
    )
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[crate::view(GET, POST, name = "delete")]
pub(super) async fn delete(
    req: Request,
    #[params(app_label, model_name, object_id)] names: Path<(String, String, String)>,
    data: FormData,
) -> crate::Result<HttpResponse> {
    let perms = match staff(&req).await? {
        Ok(perms) => perms,
        Err(redirect) => return Ok(redirect),
    };
    let (app, model, pk) = names.into_inner();
    let (admin, registered) = model_of(&app, &model)?;
    let meta = admin.meta();
    if !Rights::of(&perms, meta).delete {
        return Err(denied());
    }
    let confirmed = data.is_submitted();
    let user_id = req.user()?.id().unwrap_or_default();
    let key = pk.clone();
    let outcome = req
        .db()
        .run(move |conn| {
            let row = registered.get(conn, &key)?;
            let keys = [row.pk.clone()];
            if !confirmed {
                return crate::db::collector::collect(conn, registered, &keys).map(|c| (row, c, false));
            }
            crate::db::atomic(conn, |conn| {
                let collected = crate::db::collector::delete(conn, registered, &keys)?;
                log(conn, user_id, meta, &row.pk, &row.display, super::DELETION, "")?;
                Ok((row, collected, true))
            })
        })
        .await;
    let url = model_url(meta)?;
    match outcome {
        Ok((row, _, true)) => {
            req.messages()?
                .success(format!("The {} “{}” was deleted successfully.", meta.verbose_name, row.display))?;
            Ok(crate::http::redirect(&url))
        }
        Ok((row, collected, false)) => {
            let mut html = format!(
                "<p>Are you sure you want to delete the {} “{}”? All of the following related items will be deleted:</p>",
                esc(meta.verbose_name),
                esc(&row.display)
            );
            html.push_str(&deleted_list(&collected));
            let _ = write!(
                html,
                "<form method=\"post\">{}<input type=\"hidden\" name=\"post\" value=\"yes\"><div class=\"submit-row\"><button type=\"submit\" class=\"default\">Yes, I’m sure</button> <a href=\"{url}{}/change/\">No, take me back</a></div></form>",
                req.context().csrf_input(),
                pct(&row.pk)
            );
            page(&req, "Are you sure?", crumbs(Some(meta), Some("Delete"))?, html)
        }
        Err(crate::db::Error::Protected { rows, .. }) => {
            page(&req, "Cannot delete", crumbs(Some(meta), Some("Delete"))?, protected_list(meta, &rows))
        }
        Err(crate::db::Error::DoesNotExist { .. }) => {
            req.messages()?.warning(format!(
                "{} with ID “{pk}” doesn’t exist. Perhaps it was deleted?",
                capitalize(meta.verbose_name)
            ))?;
            Ok(crate::http::redirect(&index_url()?))
        }
        Err(other) => Err(other.into()),
    }
}

#[crate::view(GET, name = "history")]
pub(super) async fn history(
    req: Request,
    #[params(app_label, model_name, object_id)] names: Path<(String, String, String)>,
) -> crate::Result<HttpResponse> {
    let perms = match staff(&req).await? {
        Ok(perms) => perms,
        Err(redirect) => return Ok(redirect),
    };
    let (app, model, pk) = names.into_inner();
    let (admin, registered) = model_of(&app, &model)?;
    let meta = admin.meta();
    if !Rights::of(&perms, meta).see() {
        return Err(denied());
    }
    let (app_label, model_name, key) = (meta.app.to_owned(), meta.name.to_lowercase(), pk.clone());
    let found = req
        .db()
        .run(move |conn| {
            let row = registered.get(conn, &key)?;
            let entries = LogEntry::objects()
                .filter(LogEntry::app_label.eq(app_label))
                .filter(LogEntry::model.eq(model_name))
                .filter(LogEntry::object_id.eq(row.pk.clone()))
                .order_by(LogEntry::action_time.asc())
                .all_sync(conn)?;
            let users: Vec<i64> = entries.iter().map(|e| *e.user.id()).collect();
            let names: BTreeMap<i64, String> = User::objects()
                .filter(User::id.eq_any(users))
                .all_sync(conn)?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect();
            Ok::<_, crate::db::Error>((row, entries, names))
        })
        .await;
    let (row, entries, names) = match found {
        Err(crate::db::Error::DoesNotExist { .. }) => {
            return Err(crate::http::Error::not_found("no such object").into());
        }
        other => other?,
    };
    let mut html = String::from(
        "<table id=\"change-history\"><thead><tr><th scope=\"col\">Date/time</th><th scope=\"col\">User</th><th scope=\"col\">Action</th></tr></thead><tbody>",
    );
    for entry in &entries {
        let message = if entry.action_flag == super::ADDITION {
            "Added.".to_owned()
        } else if entry.change_message.is_empty() {
            format!("{}.", entry.action())
        } else {
            entry.change_message.clone()
        };
        let _ = write!(
            html,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
            entry.action_time.format("%Y-%m-%d %H:%M:%S"),
            esc(names.get(entry.user.id()).map_or("", String::as_str)),
            esc(&message)
        );
    }
    html.push_str("</tbody></table>");
    if entries.is_empty() {
        html.push_str(
            "<p>This object doesn’t have a change history. It probably wasn’t added via this admin site.</p>",
        );
    }
    page(&req, &format!("Change history: {}", row.display), crumbs(Some(meta), Some("History"))?, html)
}
