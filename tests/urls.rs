//! Routing, converters, includes, reversing (typed and by name), 404 and 405.

use manouche::prelude::*;
use manouche::urls::{NoReverseMatch, path, reverse};

use crate::common::{self, archive, product_detail};

#[test]
fn converters_match_their_values_only() {
    let client = common::client(false);
    assert_eq!(client.get("/products/42/").send().text(), "product 42");
    assert_eq!(client.get("/products/abc/").send().status(), 404, "int refuses letters");
    assert_eq!(client.get("/by-slug/earl-grey_2/").send().text(), "slug earl-grey_2");
    assert_eq!(client.get("/by-slug/earl%20grey/").send().status(), 404, "slug refuses spaces");
    let uuid = "123e4567-e89b-12d3-a456-426614174000";
    assert_eq!(client.get(&format!("/by-uuid/{uuid}/")).send().text(), format!("uuid {uuid}"));
    assert_eq!(client.get("/by-uuid/123/").send().status(), 404);
    assert_eq!(client.get("/files/a/b/c.txt").send().text(), "file a/b/c.txt", "path takes slashes");
}

#[test]
fn regex_routes_capture_named_groups() {
    let client = common::client(false);
    assert_eq!(client.get("/archive/2026/03/").send().text(), "archive 2026-03");
    assert_eq!(client.get("/archive/26/03/").send().status(), 404);
}

#[test]
fn path_parameters_are_percent_decoded() {
    let client = common::client(false);
    assert_eq!(client.get("/files/caf%C3%A9.txt").send().text(), "file café.txt");
}

#[test]
fn includes_nest_prefixes_and_namespaces() {
    let client = common::client(false);
    let response = client.get("/api/v1/items/7/").send();
    assert_eq!(response.json::<serde_json::Value>().unwrap(), serde_json::json!({ "id": 7 }));
    assert_eq!(reverse("catalog:api:item", &[("id", &7)]).unwrap(), "/api/v1/items/7/");
}

#[test]
fn typed_reverse_builds_checked_urls() {
    let _client = common::client(false);
    assert_eq!(product_detail::url(42).unwrap(), "/products/42/");
    assert_eq!(archive::url(2026, 12).unwrap(), "/archive/2026/12/");
    // The pattern still checks values the type allows: `3` does not match `[0-9]{2}`.
    assert!(matches!(archive::url(2026, 3), Err(NoReverseMatch::InvalidArgument { .. })));
}

#[test]
fn reverse_by_name_checks_arguments() {
    let _client = common::client(false);
    assert_eq!(reverse("catalog:product_detail", &[("id", &5)]).unwrap(), "/products/5/");
    assert_eq!(reverse("catalog:nope", &[]).unwrap_err(), NoReverseMatch::UnknownName { name: "catalog:nope".into() });
    assert!(matches!(reverse("catalog:product_detail", &[]), Err(NoReverseMatch::MissingArgument { .. })));
    assert!(matches!(
        reverse("catalog:product_detail", &[("id", &"abc")]),
        Err(NoReverseMatch::InvalidArgument { .. })
    ));
    assert!(matches!(
        reverse("catalog:product_detail", &[("id", &1), ("extra", &2)]),
        Err(NoReverseMatch::UnexpectedArgument { .. })
    ));
    let error = reverse("catalog:nope", &[]).unwrap_err().to_string();
    assert_eq!(error, "no URL pattern is named `catalog:nope`");
}

#[test]
fn reverse_encodes_arguments() {
    let _client = common::client(false);
    assert_eq!(reverse("catalog:files", &[("rest", &"a b/ü.txt")]).unwrap(), "/files/a%20b/%C3%BC.txt");
}

#[test]
fn unknown_paths_get_a_plain_404_without_debug() {
    let client = common::client(false);
    let response = client.get("/nowhere/").send();
    assert_eq!(response.status(), 404);
    let body = response.text();
    assert!(body.contains("Not Found"), "{body}");
    assert!(!body.contains("products/"), "no URL patterns leak outside debug: {body}");
}

#[test]
fn debug_404_lists_the_patterns_tried() {
    let client = common::client(true);
    let body = client.get("/nowhere/").send().text();
    assert!(body.contains("/products/{id}/"), "{body}");
    assert!(body.contains("catalog:product_detail"), "{body}");
    assert!(body.contains("no URL pattern matches `/nowhere/`"), "{body}");
}

#[test]
fn wrong_method_gets_405_with_allow() {
    let client = common::client(false);
    let response = client.post("/products/1/").send();
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(client.head("/products/1/").send().status(), 200, "GET implies HEAD");
    let options = client.request(manouche::http::Method::OPTIONS, "/products/1/").send();
    assert_eq!((options.status(), options.header("allow")), (200, Some("GET, HEAD, OPTIONS")));
    assert_eq!(client.post("/echo/").body("hi", "text/plain").send().text(), "POST hi");
}

#[test]
fn missing_trailing_slash_redirects() {
    let client = common::client(false);
    let response = client.get("/products/3?x=1").send();
    assert_eq!(response.status(), 301);
    assert_eq!(response.header("location"), Some("/products/3/?x=1"));
    let followed = client.get("/products/3").follow().send();
    assert_eq!(followed.text(), "product 3");
    assert_eq!(followed.redirect_chain, vec![("/products/3/".to_owned(), 301)]);
}

#[test]
fn bad_patterns_fail_the_build_with_every_problem() {
    #[view(GET)]
    async fn one(id: Path<i64>) -> String {
        id.to_string()
    }
    let app = App::new("broken").urls(urlpatterns![
        path("/lead/{id}/", one),
        path("x/{id:number}/", one),
        path("y/{other}/", one),
    ]);
    let error = manouche::test::Client::new(Project::new(Settings::for_tests()).app(app)).unwrap_err().to_string();
    assert!(error.contains("must not start with `/`"), "{error}");
    assert!(error.contains("unknown converter `number`"), "{error}");
    assert!(error.contains("has parameters [\"other\"] but view"), "{error}");
}

#[test]
fn function_views_wrap_plain_actix_handlers() {
    async fn ping(req: HttpRequest) -> String {
        format!("pong {}", req.match_info().get("n").unwrap_or("?"))
    }
    let app = App::new("plain").urls(urlpatterns![path("ping/{n:int}/", manouche::views::function(ping)).name("ping")]);
    let client = manouche::test::Client::new(Project::new(Settings::for_tests()).app(app)).unwrap();
    assert_eq!(client.get("/ping/4/").send().text(), "pong 4");
    assert_eq!(client.delete("/ping/4/").send().status(), 200, "function views accept any method");
    assert_eq!(reverse("plain:ping", &[("n", &9)]).unwrap(), "/ping/9/");
}

#[view(GET, name = "teapot")]
async fn teapot() -> &'static str {
    "short and stout"
}

#[test]
fn a_local_variable_may_take_a_views_name() {
    let app = App::new("kitchen").urls(urlpatterns![path("teapot/", teapot)]);
    let client = manouche::test::Client::new(Project::new(Settings::for_tests()).app(app)).unwrap();
    // The view's name in value position is a function, which a local variable may shadow.
    let teapot = client.get("/teapot/").send().text();
    assert_eq!(teapot, "short and stout");
    assert_eq!(self::teapot::url().unwrap(), "/teapot/", "typed reversing still reaches the view");
}

#[view(GET)]
async fn by_slug_first(slug: Path<String>) -> String {
    format!("slug {}", slug.into_inner())
}

#[view(GET)]
async fn literal_page() -> &'static str {
    "literal"
}

#[view(POST)]
async fn post_only() -> &'static str {
    "posted"
}

#[test]
fn the_first_matching_route_answers_literal_or_not() {
    // As Django: in order. A literal path after a pattern that matches it is never reached; one
    // before it wins; a literal path matched by an earlier regex keeps that regex's answer.
    let project = Project::new(Settings::for_tests()).app(App::new("order").urls(urlpatterns![
        path("new/", literal_page),
        path("{slug:slug}/", by_slug_first),
        path("shadowed/", literal_page),
        manouche::urls::re_path(r"^re/(?P<slug>[a-z]+)/$", by_slug_first),
        path("re/literal/", literal_page),
        path("only/post/", post_only),
        path("only/post/", literal_page),
    ]));
    let client = manouche::test::Client::new(project).unwrap();
    assert_eq!(client.get("/new/").send().text(), "literal");
    assert_eq!(client.get("/tea/").send().text(), "slug tea");
    assert_eq!(client.get("/shadowed/").send().text(), "slug shadowed");
    assert_eq!(client.get("/re/literal/").send().text(), "slug literal");
    assert_eq!(client.get("/re/Literal/").send().status(), 404);
    // The first route for a path decides, method included: 405, as before.
    assert_eq!(client.get("/only/post/").send().status(), 405);
    assert_eq!(client.post("/only/post/").send().text(), "posted");
    assert_eq!(client.get("/missing/page/").send().status(), 404);
}
