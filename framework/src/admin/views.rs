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
use crate::db::capitalize;
use crate::db::registry::{self, ListRequest, Registered, Row};
use crate::db::{Field, FieldType, ForeignKey, Model as _, ModelMeta, Widget};
use crate::forms::FormHtml;
use crate::forms::{FormData, ModelForm};
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

pub(super) use crate::forms::render::escaped as esc;

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

/// A model's admin page, opened: its registration, registry entry and the user's rights on it.
pub(super) struct ModelPage {
    admin: &'static ModelAdmin,
    registered: &'static dyn Registered,
    meta: &'static ModelMeta,
    rights: Rights,
    perms: Arc<Permissions>,
}

/// Opens `app/model`'s page for the request's user: `Err(response)` (the login page) for other
/// than active staff, 404 for a model not registered, 403 unless `allowed` accepts the rights.
pub(super) async fn open(
    req: &Request,
    app: &str,
    model: &str,
    allowed: fn(Rights) -> bool,
) -> crate::Result<Result<ModelPage, HttpResponse>> {
    let perms = match staff(req).await? {
        Ok(perms) => perms,
        Err(login) => return Ok(Err(login)),
    };
    let (admin, registered) = model_of(app, model)?;
    let meta = admin.meta();
    let rights = Rights::of(&perms, meta);
    if !allowed(rights) {
        return Err(denied());
    }
    Ok(Ok(ModelPage { admin, registered, meta, rights, perms }))
}

pub(super) fn model_url(meta: &ModelMeta) -> crate::Result<String> {
    Ok(format!("{}{}/{}/", index_url()?, meta.app, meta.name.to_lowercase()))
}

fn plural(meta: &ModelMeta) -> String {
    capitalize(&meta.verbose_name_plural())
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
    page(&req, "Log in", Vec::new(), html)
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
        let index = index_url()?;
        for entry in &recent {
            // A link to the object, unless it was deleted (Django's recent actions).
            let object = if entry.action_flag == super::DELETION {
                esc(&entry.object_repr)
            } else {
                format!(
                    "<a href=\"{index}{}/{}/{}/change/\">{}</a>",
                    pct(&entry.app_label),
                    pct(&entry.model),
                    pct(&entry.object_id),
                    esc(&entry.object_repr)
                )
            };
            let _ = write!(
                html,
                "<li class=\"{}\">{} {object} <span class=\"mini\">({}.{})</span></li>",
                entry.action().to_lowercase(),
                entry.action(),
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
        self.with_all(&[(key, value)])
    }

    /// The query string with each key set (or removed), the page reset unless it is one of them.
    fn with_all(&self, changes: &[(&str, Option<&str>)]) -> String {
        let keeps_page = changes.iter().any(|(k, _)| *k == "p");
        let mut pairs: Vec<(String, String)> = self
            .query
            .pairs()
            .filter(|(k, _)| !changes.iter().any(|(key, _)| key == k) && (keeps_page || *k != "p"))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (key, value) in changes {
            if let Some(value) = value {
                pairs.push(((*key).to_owned(), (*value).to_owned()));
            }
        }
        let query = crate::http::urlencode(pairs.iter().map(|(k, v)| (k, v)));
        if query.is_empty() { "?".to_owned() } else { format!("?{query}") }
    }
}

fn is_date(field: &Field) -> bool {
    matches!(field.ty, FieldType::Date | FieldType::DateTime | FieldType::DateTimeTz)
}

/// Django's `DateFieldListFilter` choices: `(label, from, before)` as the field's text.
fn date_choices(field: &Field) -> Vec<(&'static str, Option<String>, Option<String>)> {
    use chrono::Datelike as _;
    let today = crate::db::today();
    let day = |date: crate::db::Date| match field.ty {
        FieldType::Date => date.format("%Y-%m-%d").to_string(),
        FieldType::DateTimeTz => date.format("%Y-%m-%dT00:00:00+00:00").to_string(),
        _ => date.format("%Y-%m-%d 00:00:00").to_string(),
    };
    let tomorrow = today.succ_opt().unwrap_or(today);
    let month = today.with_day(1).unwrap_or(today);
    let next_month = month.checked_add_months(chrono::Months::new(1)).unwrap_or(month);
    let year = today.with_ordinal(1).unwrap_or(today);
    let next_year = year.checked_add_months(chrono::Months::new(12)).unwrap_or(year);
    let week_ago = today.checked_sub_days(chrono::Days::new(7)).unwrap_or(today);
    vec![
        ("Any date", None, None),
        ("Today", Some(day(today)), Some(day(tomorrow))),
        ("Past 7 days", Some(day(week_ago)), Some(day(tomorrow))),
        ("This month", Some(day(month)), Some(day(next_month))),
        ("This year", Some(day(year)), Some(day(next_year))),
    ]
}

/// Target rows of every foreign key shown, one query a key column: `field → (pk → display)`.
fn related_displays(
    conn: &mut crate::db::AnyConnection,
    meta: &ModelMeta,
    fields: &[&str],
    rows: &[Row],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, crate::db::Error> {
    let mut found = BTreeMap::new();
    for column in fields {
        // `category` shows the target's display, `category.name` one of its fields.
        let (name, target_field) = column.split_once('.').map_or((*column, None), |(k, f)| (k, Some(f)));
        let Some(field) = meta.field(name) else { continue };
        let Some(target) = field.relation.as_ref().and_then(|r| registry::model(&r.to.label())) else { continue };
        let mut keys: Vec<String> =
            rows.iter().filter_map(|r| r.value(name)).filter(|k| !k.is_empty()).map(str::to_owned).collect();
        keys.sort();
        keys.dedup();
        let values: BTreeMap<String, String> = match (keys.is_empty(), target_field) {
            (true, _) => BTreeMap::new(),
            (false, None) => target.rows_by_keys(conn, &keys)?.into_iter().collect(),
            (false, Some(target_field)) => target
                .rows_with_keys(conn, &keys)?
                .into_iter()
                .map(|row| {
                    let value = row.value(target_field).unwrap_or("").to_owned();
                    (row.pk, value)
                })
                .collect(),
        };
        found.insert((*column).to_owned(), values);
    }
    Ok(found)
}

/// A field's value as the change list shows it.
fn cell(field: &Field, text: &str, related: Option<&BTreeMap<String, String>>) -> String {
    crate::forms::display_value(field, text, related.and_then(|r| r.get(text)).map(String::as_str))
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
    let (app, model) = names.into_inner();
    let ModelPage { admin, registered, meta, rights, .. } = match open(&req, &app, &model, Rights::see).await? {
        Ok(page) => page,
        Err(login) => return Ok(login),
    };
    if data.is_submitted() {
        return bulk_action(&req, admin, registered, rights, &data).await;
    }
    let params = ListParams { query: FormData::from_query(req.as_http()) };
    let mut request = ListRequest { per_page: admin.list_per_page, ..ListRequest::default() };
    for name in admin.list_filter {
        if meta.field(name).is_some_and(is_date) {
            let from = params.get(&format!("{name}__gte")).map(str::to_owned);
            let before = params.get(&format!("{name}__lt")).map(str::to_owned);
            if from.is_some() || before.is_some() {
                request.ranges.push(((*name).to_owned(), from, before));
            }
        } else if let Some(value) = params.query.get(name) {
            request.filters.push(((*name).to_owned(), value.to_owned()));
        }
    }
    if !admin.search_fields.is_empty() {
        request.search = params.get("q").map(str::to_owned);
        request.search_fields = admin.search_fields.iter().map(|f| (*f).to_owned()).collect();
    }
    let display: Vec<&'static str> = admin.list_display.iter().map(|c| c.name).collect();
    if let Some(order) = params.get("o") {
        for term in order.split('.') {
            let (name, descending) = term.strip_prefix('-').map_or((term, false), |n| (n, true));
            // Only shown columns sort (Django's `o` works on `list_display`).
            if display.contains(&name) && !name.contains('.') {
                request.ordering.push((name.to_owned(), descending));
            }
        }
    }
    if request.ordering.is_empty() {
        // The registration's `ordering`, else the model's own.
        request.ordering = admin.ordering.iter().map(|(name, descending)| ((*name).to_owned(), *descending)).collect();
    }
    request.page = params.get("p").and_then(|p| p.parse().ok()).unwrap_or(1);
    let filter_fields: Vec<&'static str> = admin.list_filter.to_vec();
    let shown = display.clone();
    let shown_fields = display.clone();
    let methods: Vec<&'static super::Column> = admin.list_display.iter().filter(|c| c.cells.is_some()).collect();
    let listed = req
        .db()
        .run(move |conn| {
            let page = match registered.list(conn, &request) {
                Err(crate::db::Error::InvalidPage { .. }) => {
                    registered.list(conn, &ListRequest { page: 1, ..request.clone() })?
                }
                other => other?,
            };
            let mut related = related_displays(conn, meta, &shown_fields, &page.rows)?;
            // Each method column: the page's rows loaded by key, one query a column.
            let keys: Vec<String> = page.rows.iter().map(|r| r.pk.clone()).collect();
            for column in &methods {
                if let Some(cells) = column.cells.filter(|_| !keys.is_empty()) {
                    related.insert(column.name.to_owned(), cells(conn, &keys)?.into_iter().collect());
                }
            }
            // The unfiltered total beside the search box: the page's own count when nothing filters.
            let narrowed = !request.filters.is_empty()
                || !request.ranges.is_empty()
                || request.search.as_deref().is_some_and(|q| !q.trim().is_empty());
            let total = if narrowed {
                registered.list(conn, &ListRequest { per_page: 1, ..ListRequest::default() })?.count
            } else {
                page.count
            };
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
    let selectable = rights.delete || (rights.change && !admin.actions.is_empty());
    if selectable {
        html.push_str("<div class=\"actions\"><label>Action: <select name=\"action\" required><option value=\"\">---------</option>");
        if rights.delete {
            let _ = write!(
                html,
                "<option value=\"delete_selected\">Delete selected {}</option>",
                esc(&plural(meta).to_lowercase())
            );
        }
        if rights.change {
            for action in admin.actions {
                let _ = write!(html, "<option value=\"{}\">{}</option>", esc(action.name), esc(action.description));
            }
        }
        html.push_str("</select></label> <button type=\"submit\" name=\"index\" value=\"0\">Go</button></div>");
    }
    html.push_str("<table id=\"result_list\"><thead><tr>");
    if selectable {
        html.push_str("<th class=\"action-checkbox-column\"><input type=\"checkbox\" id=\"action-toggle\" aria-label=\"Select all objects on this page for an action\"></th>");
    }
    let current_order = params.get("o").unwrap_or("");
    if shown.is_empty() {
        let _ = write!(html, "<th scope=\"col\">{}</th>", esc(&capitalize(meta.verbose_name)));
    }
    for name in &shown {
        if let Some(method) = name.strip_suffix("()") {
            // A method: computed in Rust, so not sortable by the database.
            let _ = write!(html, "<th scope=\"col\">{}</th>", esc(&capitalize(&method.replace('_', " "))));
            continue;
        }
        if let Some((key, target_field)) = name.split_once('.') {
            // A target's field: not sortable here (the list orders by this model's fields).
            let _ = write!(
                html,
                "<th scope=\"col\">{} {}</th>",
                esc(&field_label(meta, key)),
                esc(&target_field.replace('_', " "))
            );
            continue;
        }
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
        if selectable {
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
            let content = match (name.split_once('.'), meta.field(name)) {
                (Some((key, _)), _) => {
                    let value = row.value(key).and_then(|k| related.get(*name)?.get(k));
                    value.filter(|v| !v.is_empty()).map_or_else(|| "-".to_owned(), |v| esc(v))
                }
                (None, Some(field)) => cell(field, row.value(name).unwrap_or(""), related.get(*name)),
                // A method column: its text for this row's key.
                (None, None) => {
                    related.get(*name).and_then(|cells| cells.get(&row.pk)).map_or_else(String::new, |v| esc(v))
                }
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
            if is_date(field) {
                let (gte, lt) = (format!("{name}__gte"), format!("{name}__lt"));
                let current = (params.get(&gte), params.get(&lt));
                let _ = write!(html, "<h3>By {}</h3><ul>", esc(&field.verbose_name));
                for (label, from, before) in date_choices(field) {
                    let selected = (from.as_deref(), before.as_deref()) == current;
                    let href = params.with_all(&[(&gte, from.as_deref()), (&lt, before.as_deref())]);
                    let _ = write!(
                        html,
                        "<li{}><a href=\"{}\">{label}</a></li>",
                        if selected { " class=\"selected\"" } else { "" },
                        esc(&href)
                    );
                }
                html.push_str("</ul>");
                continue;
            }
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

/// The change list's actions: a custom one runs on the selected rows; the bulk delete shows the
/// confirmation page, then deletes (Django's `delete_selected`).
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
    let chosen = data.get("action").unwrap_or("");
    if let Some(action) = admin.actions.iter().find(|a| a.name == chosen) {
        if !rights.change {
            return Err(denied());
        }
        if keys.is_empty() {
            messages
                .warning("Items must be selected in order to perform actions on them. No items have been changed.")?;
            return Ok(crate::http::redirect(&url));
        }
        let run = action.run;
        let message = req.db().run(move |conn| crate::db::atomic(conn, |conn| run(conn, &keys))).await?;
        messages.success(message)?;
        return Ok(crate::http::redirect(&url));
    }
    if chosen != "delete_selected" {
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

/// The model form of `admin`'s add and change pages.
fn model_form(
    admin: &'static ModelAdmin,
    registered: &'static dyn Registered,
    read_only: bool,
) -> crate::Result<ModelForm> {
    let mut form = ModelForm::new(registered);
    if !admin.fieldsets.is_empty() {
        let names: Vec<&str> = admin.fieldsets.iter().flat_map(|(_, fields)| fields.iter().copied()).collect();
        form = form.fields(&names)?;
    } else if !admin.fields.is_empty() {
        form = form.fields(admin.fields)?;
    } else if !admin.readonly_fields.is_empty() {
        // Read-only fields are shown even when not editable (timestamps).
        let meta = admin.meta();
        let mut names: Vec<String> = meta
            .fields
            .iter()
            .filter(|f| (f.editable || admin.readonly_fields.contains(&f.name.as_ref())) && f.widget != Widget::Hidden)
            .map(|f| f.name.to_string())
            .collect();
        names.extend(form.relation_names().into_iter().map(str::to_owned));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        form = form.fields(&names)?;
    }
    Ok(form
        .read_only_fields(admin.readonly_fields)
        .raw_id_fields(admin.raw_id_fields)
        .read_only(read_only)
        .prepopulated(admin.prepopulated_fields))
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

/// The labels of what changed, or the errors (`(field, message)`).
type InlineOutcome = Result<Vec<String>, Vec<(String, String)>>;

/// Saves every editable inline under `pk`; the labels of those that changed, or the errors.
fn save_inlines(
    conn: &mut crate::db::AnyConnection,
    inlines: &[super::inlines::Inline],
    states: &mut InlineStates,
    pk: &str,
) -> Result<InlineOutcome, crate::db::Error> {
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

fn change_form(
    req: &Request,
    admin: &ModelAdmin,
    form: &ModelForm,
    inlines: &[(super::inlines::Inline, super::inlines::InlineState)],
    title: &str,
    crumb: &str,
    links: (Option<String>, Option<String>),
) -> crate::Result<HttpResponse> {
    let meta = form.meta();
    let (delete_url, history_url) = links;
    let mut html = String::new();
    if let Some(history) = &history_url {
        let _ = write!(html, "<p class=\"object-tools\"><a href=\"{history}\" class=\"historylink\">History</a></p>");
    }
    if !form.errors().is_empty() {
        let count = form.errors().len();
        let _ = write!(
            html,
            "<p class=\"errornote\">{}</p>",
            if count == 1 { "Please correct the error below." } else { "Please correct the errors below." }
        );
        html.push_str(form.non_field_errors().as_str());
    }
    let _ = write!(
        html,
        "<form method=\"post\" id=\"{}_form\" novalidate>{}",
        esc(&meta.name.to_lowercase()),
        req.context().csrf_input()
    );
    if admin.fieldsets.is_empty() {
        html.push_str("<fieldset class=\"module\">");
        html.push_str(form.as_div().as_str());
        html.push_str("</fieldset>");
    } else {
        for (title, fields) in admin.fieldsets {
            html.push_str("<fieldset class=\"module\">");
            if !title.is_empty() {
                let _ = write!(html, "<h2>{}</h2>", esc(title));
            }
            for name in *fields {
                html.push_str(form.field(name).as_str());
            }
            html.push_str("</fieldset>");
        }
    }
    let read_only = form.is_read_only();
    for (inline, state) in inlines {
        inline.html(state, read_only || !inline.editable, &mut html);
    }
    if read_only {
        let _ = write!(html, "<div class=\"submit-row\"><a href=\"{}\">Close</a></div>", model_url(meta)?);
    } else {
        html.push_str("<div class=\"submit-row\"><button type=\"submit\" name=\"_save\" class=\"default\">Save</button><button type=\"submit\" name=\"_addanother\">Save and add another</button><button type=\"submit\" name=\"_continue\">Save and continue editing</button>");
        if let Some(delete) = delete_url {
            let _ = write!(html, "<a href=\"{delete}\" class=\"deletelink\">Delete</a>");
        }
        html.push_str("</div>");
    }
    html.push_str("</form>");
    page(req, title, crumbs(Some(meta), Some(crumb))?, html)
}

/// The saved row of a page's transaction, or `None` with the input's errors put on the form.
fn settle(form: &mut ModelForm, outcome: Result<Row, crate::db::Error>) -> Result<Option<Row>, crate::db::Error> {
    match outcome {
        Ok(row) => Ok(Some(row)),
        Err(crate::db::Error::InvalidInput { errors, .. }) => {
            for (field, message) in errors {
                form.add_error(&field, message);
            }
            Ok(None)
        }
        Err(other) => Err(other),
    }
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
    let (app, model) = names.into_inner();
    let ModelPage { admin, registered, meta, perms, .. } = match open(&req, &app, &model, |r| r.add).await? {
        Ok(page) => page,
        Err(login) => return Ok(login),
    };
    if meta.label() == "auth.User" {
        return super::users::add_user(&req, &data).await;
    }
    let form = model_form(admin, registered, false)?;
    let user_id = req.user()?.id().unwrap_or_default();
    let posted = data.is_submitted().then(|| data.clone());
    let inlines = inlines_for(admin, &perms);
    let (form, saved, inlines) = req
        .db()
        .run(move |conn| {
            let mut form = form;
            form.load_sync(conn, None, posted.as_ref())?;
            let mut states: InlineStates =
                inlines.iter().map(|i| i.state(conn, None, posted.as_ref())).collect::<Result<_, _>>()?;
            if posted.is_none() {
                return Ok((form, None, inlines.into_iter().zip(states).collect::<Vec<_>>()));
            }
            let outcome = crate::db::atomic(conn, |conn| {
                let Some(row) = form.save_sync(conn)? else {
                    return Err(crate::db::Error::InvalidInput { model: meta.name, errors: Vec::new() });
                };
                if let Err(errors) = save_inlines(conn, &inlines, &mut states, &row.pk)? {
                    return Err(crate::db::Error::InvalidInput { model: meta.name, errors });
                }
                log(conn, user_id, meta, &row.pk, &row.display, super::ADDITION, "[{\"added\": {}}]")?;
                Ok(row)
            });
            let saved = settle(&mut form, outcome)?;
            Ok((form, saved, inlines.into_iter().zip(states).collect()))
        })
        .await?;
    if let Some(row) = saved {
        req.messages()?.success(format!("The {} “{}” was added successfully.", meta.verbose_name, row.display))?;
        return Ok(crate::http::redirect(&after_save(&data, meta, &row.pk)?));
    }
    let title = format!("Add {}", meta.verbose_name);
    change_form(&req, admin, &form, &inlines, &title, &title, (None, None))
}

#[crate::view(GET, POST, name = "change")]
pub(super) async fn change(
    req: Request,
    #[params(app_label, model_name, object_id)] names: Path<(String, String, String)>,
    data: FormData,
) -> crate::Result<HttpResponse> {
    let (app, model, pk) = names.into_inner();
    let ModelPage { admin, registered, meta, rights, perms } = match open(&req, &app, &model, Rights::see).await? {
        Ok(page) => page,
        Err(login) => return Ok(login),
    };
    if data.is_submitted() && !rights.change {
        return Err(denied());
    }
    let mut form = model_form(admin, registered, !rights.change)?;
    let url = format!("{}{}/", model_url(meta)?, pct(&pk));
    if meta.label() == "auth.User" {
        // The summary replaces the hash: the link leads to the password form.
        form = form.field_html("password", String::new());
    }
    let user_id = req.user()?.id().unwrap_or_default();
    let posted = data.is_submitted().then(|| data.clone());
    let inlines = inlines_for(admin, &perms);
    let key = pk.clone();
    let loaded = req
        .db()
        .run(move |conn| {
            let mut form = form;
            form.load_sync(conn, Some(&key), posted.as_ref())?;
            let key = form.pk().unwrap_or(&key).to_owned();
            let mut states: InlineStates =
                inlines.iter().map(|i| i.state(conn, Some(&key), posted.as_ref())).collect::<Result<_, _>>()?;
            let display = form.instance().map(|row| row.display.clone()).unwrap_or_default();
            if posted.is_none() {
                return Ok((form, None, display, inlines.into_iter().zip(states).collect::<Vec<_>>()));
            }
            let outcome = crate::db::atomic(conn, |conn| {
                let Some(row) = form.save_sync(conn)? else {
                    return Err(crate::db::Error::InvalidInput { model: meta.name, errors: Vec::new() });
                };
                let mut changed = form.changed().to_vec();
                match save_inlines(conn, &inlines, &mut states, &row.pk)? {
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
            let saved = settle(&mut form, outcome)?;
            Ok((form, saved, display, inlines.into_iter().zip(states).collect()))
        })
        .await;
    let (form, saved, display, inlines) = match loaded {
        Err(crate::db::Error::DoesNotExist { .. }) => {
            req.messages()?.warning(format!(
                "{} with ID “{pk}” doesn’t exist. Perhaps it was deleted?",
                capitalize(meta.verbose_name)
            ))?;
            return Ok(crate::http::redirect(&index_url()?));
        }
        other => other?,
    };
    if let Some(row) = saved {
        req.messages()?.success(format!("The {} “{}” was changed successfully.", meta.verbose_name, row.display))?;
        return Ok(crate::http::redirect(&after_save(&data, meta, &row.pk)?));
    }
    let form = if meta.label() == "auth.User" {
        let summary = super::users::password_summary(form.value("password").unwrap_or(""), &url);
        form.field_html("password", summary)
    } else {
        form
    };
    let verb = if rights.change { "Change" } else { "View" };
    change_form(
        &req,
        admin,
        &form,
        &inlines,
        &format!("{verb} {}", meta.verbose_name),
        &display,
        (rights.delete.then(|| format!("{url}delete/")), Some(format!("{url}history/"))),
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
    let (app, model, pk) = names.into_inner();
    let ModelPage { registered, meta, .. } = match open(&req, &app, &model, |r| r.delete).await? {
        Ok(page) => page,
        Err(login) => return Ok(login),
    };
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
    let (app, model, pk) = names.into_inner();
    let ModelPage { registered, meta, .. } = match open(&req, &app, &model, Rights::see).await? {
        Ok(page) => page,
        Err(login) => return Ok(login),
    };
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
