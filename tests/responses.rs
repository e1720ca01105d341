//! Response kinds: templates (escaping, inheritance), JSON, redirects, files, error pages.

use manouche::http::{FileResponse, StatusCode, redirect};
use manouche::prelude::*;
use manouche::test::Client;
use manouche::urls::path;

#[derive(Template)]
#[template(source = "{% block body %}<p>{{ text }}</p>{% endblock %}", ext = "html")]
struct Escaped {
    text: String,
}

#[view(GET)]
async fn escaped() -> manouche::Result<HttpResponse> {
    render(&Escaped { text: "<script>alert('x')</script> & co".into() })
}

#[view(GET)]
async fn go_home() -> HttpResponse {
    redirect("/escaped/")
}

#[view(GET)]
async fn data() -> manouche::Result<HttpResponse> {
    manouche::http::json(&serde_json::json!({ "teas": ["assam", "sencha"] }))
}

#[view(GET)]
async fn download() -> manouche::Result<FileResponse> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/data/catalogue.csv");
    Ok(FileResponse::open(path).await?.attachment("teas.csv"))
}

#[view(GET)]
async fn missing_file() -> manouche::Result<FileResponse> {
    FileResponse::open("/definitely/not/here.bin").await
}

fn client() -> Client {
    let app = App::new("r").urls(urlpatterns![
        path("escaped/", escaped),
        path("go/", go_home),
        path("data/", data),
        path("download/", download),
        path("missing/", missing_file),
    ]);
    Client::new(Project::new(Settings::for_tests()).app(app)).unwrap()
}

#[test]
fn templates_escape_html_and_report_their_name() {
    let response = client().get("/escaped/").send();
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(response.text(), "<p>&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; co</p>");
    assert_eq!(response.template(), Some("Escaped"));
}

#[test]
fn redirects_and_following() {
    let client = client();
    let response = client.get("/go/").send();
    assert_eq!(response.status(), 302);
    assert_eq!(response.header("location"), Some("/escaped/"));
    let followed = client.get("/go/").follow().send();
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.redirect_chain, vec![("/escaped/".to_owned(), 302)]);
}

#[test]
fn json_responses() {
    let response = client().get("/data/").send();
    assert_eq!(response.header("content-type"), Some("application/json"));
    let value: serde_json::Value = response.json().unwrap();
    assert_eq!(value["teas"][1], "sencha");
}

#[test]
fn files_stream_with_type_name_and_ranges() {
    let client = client();
    let whole = client.get("/download/").send();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(whole.header("content-disposition"), Some("attachment; filename=\"teas.csv\""));
    let expected = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/data/catalogue.csv")).unwrap();
    assert_eq!(whole.bytes(), expected.as_slice());

    let part = client.get("/download/").header("range", "bytes=4-7").send();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes(), &expected[4..8]);
    assert_eq!(part.header("content-range"), Some(format!("bytes 4-7/{}", expected.len()).as_str()));

    let beyond = client.get("/download/").header("range", "bytes=100000-").send();
    assert_eq!(beyond.status(), 416);
}

#[test]
fn files_carry_validators_and_answer_conditional_requests() {
    let client = client();
    let whole = client.get("/download/").send();
    let etag = whole.header("etag").expect("an ETag").to_owned();
    let modified = whole.header("last-modified").expect("a Last-Modified date").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong tag: {etag}");

    let not_modified = client.get("/download/").header("if-none-match", &etag).send();
    assert_eq!(not_modified.status(), 304);
    assert!(not_modified.bytes().is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let weak = client.get("/download/").header("if-none-match", &format!("\"other\", W/{etag}")).send();
    assert_eq!(weak.status(), 304, "If-None-Match compares weakly");
    assert_eq!(client.get("/download/").header("if-none-match", "\"other\"").send().status(), 200);
    assert_eq!(client.get("/download/").header("if-modified-since", &modified).send().status(), 304);
    let long_ago = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(client.get("/download/").header("if-modified-since", long_ago).send().status(), 200);
    // If-None-Match wins over If-Modified-Since.
    let both =
        client.get("/download/").header("if-none-match", "\"other\"").header("if-modified-since", &modified).send();
    assert_eq!(both.status(), 200);

    assert_eq!(client.get("/download/").header("if-match", "\"other\"").send().status(), 412);
    assert_eq!(client.get("/download/").header("if-match", &etag).send().status(), 200);
    assert_eq!(client.get("/download/").header("if-unmodified-since", long_ago).send().status(), 412);

    let range =
        |if_range: &str| client.get("/download/").header("range", "bytes=0-3").header("if-range", if_range).send();
    assert_eq!(range(&etag).status(), 206, "the tag still matches");
    assert_eq!(range(&modified).status(), 206, "the date is the modification time");
    let stale = range(long_ago);
    assert_eq!(stale.status(), 200, "a stale If-Range date gets the whole file");
    assert_eq!(stale.bytes().len(), whole.bytes().len());
    assert_eq!(range("\"stale-tag\"").status(), 200);
    assert_eq!(range(&format!("W/{etag}")).status(), 200, "If-Range compares strongly");
}

#[test]
fn missing_files_are_404() {
    assert_eq!(client().get("/missing/").send().status(), 404);
}

#[test]
fn a_nul_byte_in_a_static_path_is_a_404() {
    let client = Client::new(example_shop::configure(Project::new(Settings::for_tests()))).unwrap();
    assert_eq!(client.get("/static/shop/site.css").send().status(), 200);
    for path in ["/static/shop/site.css%00", "/static/shop/%00site.css", "/static/%00"] {
        let response = client.get(path).send();
        assert_eq!(response.status(), 404, "{path}: {}", response.text());
    }
}

#[test]
fn error_statuses_render_error_pages() {
    let client = crate::common::client(false);
    let forbidden = client.get("/forbidden/").send();
    assert_eq!(forbidden.status(), 403);
    assert!(!forbidden.text().contains("staff only"), "details stay hidden without debug");
    let failed = client.get("/fails/").send();
    assert_eq!(failed.status(), 500);
    assert!(!failed.text().contains("database on fire"));

    let debug = crate::common::client(true);
    assert!(debug.get("/fails/").send().text().contains("database on fire"));
    assert!(debug.get("/forbidden/").send().text().contains("staff only"));
}

#[test]
fn projects_override_error_pages() {
    let project = crate::common::project(false).error_page(StatusCode::NOT_FOUND, |ctx| {
        Ok(HttpResponse::Ok().body(format!("custom 404 for {}", ctx.request.path())))
    });
    let client = Client::new(project).unwrap();
    let response = client.get("/nowhere/").send();
    assert_eq!(response.status(), 404, "the status stays 404 whatever the handler returns");
    assert_eq!(response.text(), "custom 404 for /nowhere/");
}

#[test]
fn bad_extractor_input_is_a_client_error() {
    #[derive(serde::Deserialize)]
    struct Order {
        quantity: u32,
    }
    #[view(POST)]
    async fn order(body: Json<Order>) -> String {
        body.quantity.to_string()
    }
    let app = App::new("o").urls(urlpatterns![path("order/", order)]);
    let client = Client::new(Project::new(Settings::for_tests()).app(app)).unwrap();
    assert_eq!(client.post("/order/").json(&serde_json::json!({ "quantity": 3 })).send().text(), "3");
    let bad = client.post("/order/").json(&serde_json::json!({ "quantity": "many" })).send();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().contains("expected u32"), "debug shows why: {}", bad.text());
}

#[test]
fn the_client_keeps_cookies_between_requests() {
    use manouche::http::cookie::Cookie;

    #[view(POST)]
    async fn choose(form: Form<std::collections::HashMap<String, String>>) -> HttpResponse {
        let chosen = form.get("flavour").cloned().unwrap_or_default();
        HttpResponse::SeeOther()
            .cookie(Cookie::new("flavour", chosen))
            .insert_header(("location", "/flavour/"))
            .finish()
    }
    #[view(GET)]
    async fn flavour(req: HttpRequest) -> String {
        req.cookie("flavour").map(|c| c.value().to_owned()).unwrap_or_else(|| "none".into())
    }
    #[view(POST)]
    async fn forget() -> HttpResponse {
        let mut gone = Cookie::new("flavour", "");
        gone.make_removal();
        HttpResponse::Ok().cookie(gone).finish()
    }
    let app =
        App::new("c").urls(urlpatterns![path("choose/", choose), path("flavour/", flavour), path("forget/", forget)]);
    let client = Client::new(Project::new(Settings::for_tests()).app(app)).unwrap();
    assert_eq!(client.get("/flavour/").send().text(), "none");
    let chosen = client.post("/choose/").form(&[("flavour", "earl grey")]).follow().send();
    assert_eq!(chosen.text(), "earl grey", "303 turns the POST into a GET carrying the new cookie");
    assert_eq!(client.cookies().get("flavour").map(String::as_str), Some("earl grey"));
    client.post("/forget/").send();
    assert_eq!(client.get("/flavour/").send().text(), "none", "a removal cookie empties the jar");
}
