//! CSRF protection through the test client, mirroring Django's `csrf_tests`: masked tokens that
//! differ per response and unmask to the secret, Django's rejection reasons, Origin and
//! (on HTTPS) Referer checks, trusted origins with wildcards, header tokens, exempt views,
//! rotation, the secret in the session, and the template context that carries the token.

use manouche::http::Method;
use manouche::prelude::*;
use manouche::templates::ContextVars;
use manouche::test::{Client, Response};
use manouche::urls::path;

#[derive(Template)]
#[template(source = r#"<form method="post">{{ ctx.csrf_input() }}</form><p>{{ ctx.get("motto") }}</p>"#, ext = "html")]
struct FormPage {
    ctx: RequestContext,
}

/// A page with a form: hands out a masked token.
#[view(GET)]
async fn form(req: Request) -> manouche::Result<HttpResponse> {
    render(&FormPage { ctx: req.context() })
}

/// A page without a form: no token, so no cookie.
#[view(GET)]
async fn plain() -> &'static str {
    "no form"
}

#[view(GET, POST, PUT, DELETE)]
async fn submit(body: String) -> String {
    format!("accepted {}", body.len())
}

#[view(POST)]
async fn submit_form(form: manouche::forms::FormData) -> String {
    format!("accepted note={}", form.get("note").unwrap_or_default())
}

#[view(POST, csrf_exempt)]
async fn webhook() -> &'static str {
    "hook"
}

#[view(GET)]
async fn rotate(req: Request) -> manouche::Result<&'static str> {
    manouche::csrf::rotate_token(&req)?;
    Ok("rotated")
}

#[view(GET)]
async fn token(req: Request) -> manouche::Result<String> {
    manouche::csrf::get_token(&req)
}

fn settings(extra: &str, debug: bool) -> Settings {
    let text = format!(
        "debug = {debug}\nsecret_key = \"csrf-test-secret\"\nallowed_hosts = [\"testserver\", \".shop.example\"]\n\
         middleware = [\"manouche.sessions\", \"manouche.csrf\"]\n[sessions]\nengine = \"signed_cookies\"\n{extra}"
    );
    let mut settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).unwrap();
    settings.database_url = manouche::conf::DatabaseUrl::SqliteMemory;
    settings
}

fn project(extra: &str, debug: bool) -> Project {
    let app = App::new("forms")
        .urls(urlpatterns![
            path("form/", form),
            path("plain/", plain),
            path("submit/", submit),
            path("submit-form/", submit_form),
            path("hook/", webhook),
            path("rotate/", rotate),
            path("token/", token),
        ])
        .context_processor(|settings| {
            let motto = if settings.debug { "debugging" } else { "serving" };
            Ok(move |_: &Request, vars: &mut ContextVars| vars.insert("motto", motto))
        });
    Project::new(settings(extra, debug)).app(app)
}

fn client(extra: &str) -> Client {
    Client::new(project(extra, true)).unwrap().enforce_csrf_checks()
}

/// Django's `_unmask_cipher_token`, written out so the test does not trust the code it tests.
fn unmask(token: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let index = |c: u8| CHARS.iter().position(|x| *x == c).unwrap();
    let (mask, cipher) = token.as_bytes().split_at(32);
    cipher.iter().zip(mask).map(|(c, m)| char::from(CHARS[(index(*c) + 62 - index(*m)) % 62])).collect()
}

/// The token in a page's hidden input.
fn form_token(page: &Response) -> String {
    let text = page.text();
    let start = text.find(r#"name="csrfmiddlewaretoken" value=""#).expect("a CSRF input, unescaped") + 34;
    text[start..start + 64].to_owned()
}

fn reason_of(response: &Response) -> String {
    assert_eq!(response.status(), 403, "{}", response.text());
    let text = response.text();
    let start = text.find("<pre>").map(|i| i + 5).unwrap_or(0);
    let end = text.find("</pre>").unwrap_or(text.len());
    // The page escapes it as HTML.
    text[start..end].replace("&#39;", "'").replace("&quot;", "\"").replace("&#60;", "<").replace("&amp;", "&")
}

#[test]
fn tokens_are_masked_differently_per_response_and_unmask_to_the_secret() {
    let client = client("");
    let plain = client.get("/plain/").send();
    assert!(plain.header("set-cookie").is_none(), "a page without a form sets no CSRF cookie");

    let first = client.get("/form/").send();
    let secret = client.cookies()["csrftoken"].clone();
    assert_eq!(secret.len(), 32);
    assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()), "{secret}");
    let cookie = first.header("set-cookie").unwrap().to_owned();
    for flag in ["csrftoken=", "Path=/", "SameSite=Lax", "Max-Age=31449600"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("HttpOnly"), "scripts may read the token: {cookie}");
    assert!(first.header("vary").is_some_and(|v| v.contains("Cookie")));

    let second = client.get("/form/").send();
    let (a, b) = (form_token(&first), form_token(&second));
    assert_ne!(a, b, "a new mask in every response (BREACH)");
    assert_eq!(unmask(&a), secret);
    assert_eq!(unmask(&b), secret, "the secret is kept between requests");
    assert_eq!(client.cookies()["csrftoken"], secret);
    assert!(second.text().contains("<p>debugging</p>"), "a context processor's value: {}", second.text());
}

#[test]
fn unsafe_methods_need_a_valid_token_with_djangos_reasons() {
    let client = client("");
    let no_cookie = client.post("/submit/").form(&[("csrfmiddlewaretoken", "x".repeat(64))]).send();
    assert_eq!(reason_of(&no_cookie), "CSRF cookie not set.");

    let page = client.get("/form/").send();
    let token = form_token(&page);
    assert_eq!(reason_of(&client.post("/submit/").form(&[("q", "1")]).send()), "CSRF token missing.");
    let short = client.post("/submit/").form(&[("csrfmiddlewaretoken", "abc")]).send();
    assert_eq!(reason_of(&short), "CSRF token from POST has incorrect length.");
    let bad_chars = client.post("/submit/").form(&[("csrfmiddlewaretoken", "!".repeat(64))]).send();
    assert_eq!(reason_of(&bad_chars), "CSRF token from POST has invalid characters.");
    let other = client.post("/submit/").form(&[("csrfmiddlewaretoken", "a".repeat(64))]).send();
    assert_eq!(reason_of(&other), "CSRF token from POST incorrect.");

    // The masked token of the form, or the bare secret (as Django accepts), passes; the view
    // still reads the whole body.
    let ok = client.post("/submit/").form(&[("csrfmiddlewaretoken", token.as_str()), ("q", "tea")]).send();
    assert_eq!(ok.text(), format!("accepted {}", "csrfmiddlewaretoken=".len() + 64 + "&q=tea".len()));
    let secret = client.cookies()["csrftoken"].clone();
    assert_eq!(client.post("/submit/").form(&[("csrfmiddlewaretoken", secret.as_str())]).send().status(), 200);

    // Safe methods pass without a token.
    assert_eq!(client.get("/submit/").send().status(), 200);
}

#[test]
fn scripts_send_the_token_in_a_header_for_any_unsafe_method() {
    let client = client("");
    let token = form_token(&client.get("/form/").send());
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let ok = client.request(method.clone(), "/submit/").header("X-CSRFToken", &token).json(&"x").send();
        assert_eq!(ok.status(), 200, "{method}");
        let missing = client.request(method.clone(), "/submit/").json(&"x").send();
        assert_eq!(reason_of(&missing), "CSRF token missing.", "{method}");
    }
    let wrong = client.put("/submit/").header("X-CSRFToken", &"b".repeat(32)).send();
    assert_eq!(reason_of(&wrong), "CSRF token from the 'X-CSRFToken' HTTP header incorrect.");
    // A JSON body has no form field: the header is read.
    let json = client.post("/submit/").header("X-CSRFToken", &token).json(&[1, 2]).send();
    assert_eq!(json.status(), 200);
    // The header is renamed by `csrf.header_name`.
    let renamed = Client::new(project("[csrf]\nheader_name = \"X-XSRF-TOKEN\"\n", true)).unwrap().enforce_csrf_checks();
    let token = form_token(&renamed.get("/form/").send());
    assert_eq!(renamed.post("/submit/").header("X-XSRF-TOKEN", &token).send().status(), 200);
    assert_eq!(renamed.post("/submit/").header("X-CSRFToken", &token).send().status(), 403);
}

#[test]
fn a_multipart_form_carries_its_token_too() {
    let client = client("");
    let token = form_token(&client.get("/form/").send());
    let body = format!(
        "--B0und\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--B0und\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{token}\r\n--B0und--\r\n"
    );
    let ok = client.post("/submit-form/").body(body.clone(), "multipart/form-data; boundary=B0und").send();
    assert_eq!(ok.text(), "accepted note=hi");
    // Read as a form for its token, the body cannot be read raw again (Django's
    // RawPostDataException): a clear error rather than an empty body.
    let raw = client.post("/submit/").body(body.clone(), "multipart/form-data; boundary=B0und").send();
    assert_eq!(raw.status(), 400);
    // A form too large to read for its token is a 413, not a CSRF failure.
    let huge = format!("note={}&csrfmiddlewaretoken={token}", "x".repeat(3 * 1024 * 1024));
    let too_large = client.post("/submit/").body(huge, "application/x-www-form-urlencoded").send();
    assert_eq!(too_large.status(), 413);
    assert!(too_large.text().contains("Payload Too Large"), "{}", too_large.text());
    let forged = body.replace(&token, &"c".repeat(64));
    let refused = client.post("/submit/").body(forged, "multipart/form-data; boundary=B0und").send();
    assert_eq!(reason_of(&refused), "CSRF token from POST incorrect.");
}

#[test]
fn the_origin_must_be_this_site_or_trusted() {
    let client = client("[csrf]\ntrusted_origins = [\"https://pay.example\", \"https://*.shop.example\"]\n");
    let token = form_token(&client.get("/form/").send());
    let post = |origin: &str| {
        client.post("/submit/").header("Origin", origin).form(&[("csrfmiddlewaretoken", token.as_str())]).send()
    };
    assert_eq!(post("http://testserver").status(), 200, "same origin");
    assert_eq!(
        reason_of(&post("http://evil.example")),
        "Origin checking failed - http://evil.example does not match any trusted origins."
    );
    assert_eq!(post("https://pay.example").status(), 200, "trusted exactly");
    assert_eq!(post("https://eu.shop.example").status(), 200, "trusted by wildcard");
    assert_eq!(post("https://a.b.shop.example").status(), 200, "any depth of subdomain");
    for refused in ["http://eu.shop.example", "https://evilshop.example", "https://pay.example.evil", "null"] {
        assert_eq!(post(refused).status(), 403, "{refused}");
    }
    assert_eq!(post("https://testserver").status(), 403, "another scheme is another origin");
}

#[test]
fn on_https_without_origin_the_referer_must_be_this_site_or_trusted() {
    let client = client("[csrf]\ntrusted_origins = [\"https://*.pay.example\"]\n");
    let token = form_token(&client.get("/form/").send());
    let post = |referer: Option<&str>| {
        let mut request = client.post("/submit/").secure().form(&[("csrfmiddlewaretoken", token.as_str())]);
        if let Some(referer) = referer {
            request = request.header("Referer", referer);
        }
        request.send()
    };
    assert_eq!(reason_of(&post(None)), "Referer checking failed - no Referer.");
    assert_eq!(reason_of(&post(Some("not a url"))), "Referer checking failed - Referer is malformed.");
    assert_eq!(
        reason_of(&post(Some("http://testserver/form/"))),
        "Referer checking failed - Referer is insecure while host is secure."
    );
    assert_eq!(
        reason_of(&post(Some("https://evil.example/form/"))),
        "Referer checking failed - https://evil.example/form/ does not match any trusted origins."
    );
    assert_eq!(post(Some("https://testserver/form/")).status(), 200);
    assert_eq!(post(Some("https://eu.pay.example/checkout")).status(), 200, "a trusted origin's host");
    // Plain HTTP does not look at the Referer (browsers often drop it).
    let plain = client.post("/submit/").form(&[("csrfmiddlewaretoken", token.as_str())]).send();
    assert_eq!(plain.status(), 200);
}

#[test]
fn a_cookie_domain_widens_the_accepted_referer() {
    let client = client("[csrf]\ncookie_domain = \".shop.example\"\n");
    let page = client.get("/form/").header("Host", "www.shop.example").send();
    assert!(page.header("set-cookie").unwrap().contains("Domain=.shop.example"), "{:?}", page.header("set-cookie"));
    let token = form_token(&page);
    let post = |referer: &str| {
        client
            .post("/submit/")
            .secure()
            .header("Host", "www.shop.example")
            .header("Referer", referer)
            .form(&[("csrfmiddlewaretoken", token.as_str())])
            .send()
    };
    assert_eq!(post("https://eu.shop.example/cart/").status(), 200);
    assert_eq!(post("https://shop.example.evil/").status(), 403);
}

#[test]
fn exempt_views_and_the_default_test_client_skip_the_checks() {
    let enforcing = client("");
    assert_eq!(enforcing.post("/hook/").send().text(), "hook", "#[view(POST, csrf_exempt)]");
    let relaxed = Client::new(project("", true)).unwrap();
    assert_eq!(relaxed.post("/submit/").send().status(), 200, "Django's test client does not enforce");
}

#[test]
fn a_malformed_cookie_is_replaced_and_refused() {
    let client = client("");
    client.set_cookie("csrftoken", "short");
    let refused = client.post("/submit/").form(&[("csrfmiddlewaretoken", "x".repeat(64))]).send();
    assert_eq!(reason_of(&refused), "CSRF cookie has incorrect length.");
    client.set_cookie("csrftoken", &"-".repeat(32));
    let page = client.get("/form/").send();
    let secret = client.cookies()["csrftoken"].clone();
    assert_ne!(secret, "-".repeat(32), "a new secret replaces the bad one");
    assert_eq!(unmask(&form_token(&page)), secret);
    // An old-style masked cookie (64 characters) is read as the secret it masks.
    let masked = form_token(&page);
    client.set_cookie("csrftoken", &masked);
    let ok = client.post("/submit/").form(&[("csrfmiddlewaretoken", secret.as_str())]).send();
    assert_eq!(ok.status(), 200);
}

#[test]
fn rotation_invalidates_earlier_tokens() {
    let client = client("");
    let before = form_token(&client.get("/form/").send());
    let old_secret = client.cookies()["csrftoken"].clone();
    let rotated = client.get("/rotate/").send();
    assert!(rotated.header("set-cookie").is_some_and(|c| c.starts_with("csrftoken=")));
    assert_ne!(client.cookies()["csrftoken"], old_secret);
    let stale = client.post("/submit/").form(&[("csrfmiddlewaretoken", before.as_str())]).send();
    assert_eq!(reason_of(&stale), "CSRF token from POST incorrect.");
    let fresh = client.get("/token/").send().text();
    assert_eq!(unmask(&fresh), client.cookies()["csrftoken"], "get_token masks the new secret");
    assert_eq!(client.post("/submit/").form(&[("csrfmiddlewaretoken", fresh.as_str())]).send().status(), 200);
}

#[test]
fn with_use_sessions_the_secret_lives_in_the_session() {
    let client = client("[csrf]\nuse_sessions = true\n");
    let page = client.get("/form/").send();
    let cookies = client.cookies();
    assert!(!cookies.contains_key("csrftoken"), "no CSRF cookie: {cookies:?}");
    assert!(cookies.contains_key("sessionid"), "the secret is saved with the session");
    let token = form_token(&page);
    assert_eq!(client.post("/submit/").form(&[("csrfmiddlewaretoken", token.as_str())]).send().status(), 200);
    assert_eq!(
        reason_of(&client.post("/submit/").form(&[("csrfmiddlewaretoken", "d".repeat(64))]).send()),
        "CSRF token from POST incorrect."
    );
    client.set_cookie("sessionid", "gone");
    let lost = client.post("/submit/").form(&[("csrfmiddlewaretoken", token.as_str())]).send();
    assert_eq!(reason_of(&lost), "CSRF cookie not set.", "Django's reason, even when the session holds it");
}

#[test]
fn the_reason_is_shown_only_in_debug_mode() {
    let client = Client::new(project("", false)).unwrap().enforce_csrf_checks();
    let refused = client.post("/submit/").send();
    assert_eq!(refused.status(), 403);
    let text = refused.text();
    assert!(text.contains("CSRF verification failed"), "{text}");
    assert!(!text.contains("CSRF cookie not set."), "no reason without debug: {text}");
    let page = client.get("/form/").send();
    assert!(page.text().contains("<p>serving</p>"), "context processors see the settings");
}

#[test]
fn bad_csrf_settings_name_the_key() {
    for (extra, needle) in [
        ("[csrf]\ntrusted_origins = [\"shop.example\"]\n", "csrf.trusted_origins"),
        ("[csrf]\ncookie_samesite = \"Sometimes\"\n", "csrf.cookie_samesite"),
        ("[csrf]\nheader_name = \"X CSRF\"\n", "csrf.header_name"),
        ("[csrf]\ncookie_age = \"long\"\n", "cookie_age"),
    ] {
        let error = Client::new(project(extra, true)).unwrap_err().to_string();
        assert!(error.contains(needle), "{needle} in {error}");
    }
    let mut settings = settings("[csrf]\nuse_sessions = true\n", true);
    settings.middleware = vec!["manouche.csrf".into(), "manouche.sessions".into()];
    let error = Client::new(Project::new(settings)).unwrap_err().to_string();
    assert!(error.contains("list `manouche.sessions` before `manouche.csrf`"), "{error}");
}

#[test]
fn a_request_outside_a_project_has_no_database() {
    let req = Request::new(actix_web::test::TestRequest::default().to_http_request());
    let error = req.db().run_sync(|_| Ok(())).unwrap_err();
    assert!(error.to_string().contains("not served by a Manouche project"), "{error}");
}
