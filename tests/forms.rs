//! Forms through their public interface, mirroring Django's `forms_tests`: each field kind's
//! validation and messages, clean hooks, bound and unbound forms, initial values, rendering
//! (labels, help text, errors, kept values, escaping) and a view that shows and checks a form
//! with its CSRF token through the test client.

use manouche::db::{Date, DateTime, Decimal};
use manouche::forms::{self, Errors, FormData};
use manouche::prelude::*;
use manouche::test::Client;
use manouche::urls::path;

use forms::Form as _;

#[derive(Choices, Debug, Clone, Copy, PartialEq)]
enum Size {
    Small,
    #[choice(label = "Large & loud")]
    Large,
}

#[derive(forms::Form, Debug)]
#[form(clean = Self::check)]
struct Everything {
    #[form(max_length = 10, min_length = 2, help_text = "Your <nick>name")]
    name: String,
    #[form(email)]
    email: String,
    #[form(url)]
    website: Option<String>,
    #[form(slug)]
    slug: Option<String>,
    #[form(min_value = 1, max_value = 99)]
    quantity: i32,
    #[form(max_digits = 5, decimal_places = 2, min_value = "0.01")]
    price: Option<Decimal>,
    born: Option<Date>,
    at: Option<DateTime>,
    size: Option<Size>,
    #[form(choices = [("red", "Red"), ("blue", "Blue")])]
    colours: Vec<String>,
    #[form(required, label = "I accept the terms")]
    terms: bool,
    newsletter: bool,
    #[form(password)]
    password: Option<String>,
    #[form(clean = shout)]
    motto: Option<String>,
}

fn shout(motto: Option<String>) -> Result<Option<String>, String> {
    match motto {
        Some(m) if m.contains("spam") => Err("No spam, please.".into()),
        other => Ok(other.map(|m| m.to_uppercase())),
    }
}

impl Everything {
    fn check(&mut self, errors: &mut Errors) {
        if self.newsletter && self.email.ends_with("@example.org") {
            errors.add_non_field("Example addresses get no newsletter.");
        }
    }
}

fn valid() -> Vec<(&'static str, &'static str)> {
    vec![("name", "Ada"), ("email", "ada@example.com"), ("quantity", "3"), ("terms", "on")]
}

fn bind(changes: &[(&'static str, &'static str)]) -> forms::BoundForm<Everything> {
    let mut pairs = valid();
    for (key, value) in changes {
        pairs.retain(|(k, _)| k != key);
        if !value.is_empty() || *key != "-" {
            pairs.push((key, value));
        }
    }
    Everything::bind(&FormData::from_pairs(pairs))
}

fn error(changes: &[(&'static str, &'static str)], field: &str) -> String {
    let form = bind(changes);
    assert!(!form.is_valid(), "{changes:?} should not be valid");
    form.errors().get(field).join(" | ")
}

#[test]
fn a_valid_form_gives_typed_cleaned_values() {
    let form = bind(&[
        ("name", "  Ada  "),
        ("price", "12.50"),
        ("born", "12/10/1815"),
        ("at", "2026-12-04T10:30"),
        ("size", "large"),
        ("colours", "red"),
        ("motto", "be bold"),
        ("website", "https://ada.example.com/notes?x=1"),
        ("slug", "ada-l_1"),
    ]);
    let mut pairs =
        FormData::from_pairs(valid()).pairs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect::<Vec<_>>();
    pairs.push(("colours".into(), "blue".into()));
    assert!(form.is_valid(), "{}", form.errors());
    let clean = form.into_cleaned().unwrap();
    assert_eq!(clean.name, "Ada", "text is stripped");
    assert_eq!(clean.price, Some("12.50".parse().unwrap()));
    assert_eq!(clean.born, Some(Date::from_ymd_opt(1815, 12, 10).unwrap()));
    assert_eq!(clean.at.map(|at| at.to_string()), Some("2026-12-04 10:30:00".to_owned()));
    assert_eq!(clean.size, Some(Size::Large));
    assert_eq!(clean.colours, ["red"]);
    assert_eq!(clean.motto.as_deref(), Some("BE BOLD"), "the field hook's value is kept");
    assert!(clean.terms && !clean.newsletter);
    assert_eq!(clean.website.as_deref(), Some("https://ada.example.com/notes?x=1"));

    pairs.push(("colours".into(), "red".into()));
    let multi = Everything::bind(&FormData::from_pairs(pairs)).into_cleaned().unwrap();
    assert_eq!(multi.colours, ["blue", "red"], "every value of a multiple field");
}

#[test]
fn each_field_reports_django_s_messages() {
    assert_eq!(error(&[("name", "")], "name"), "This field is required.");
    assert_eq!(error(&[("name", "   ")], "name"), "This field is required.", "spaces only are empty");
    assert_eq!(error(&[("name", "Ada Lovelace!")], "name"), "Ensure this value has at most 10 characters (it has 13).");
    assert_eq!(error(&[("name", "A")], "name"), "Ensure this value has at least 2 characters (it has 1).");
    assert_eq!(error(&[("email", "ada@")], "email"), "Enter a valid email address.");
    assert_eq!(error(&[("website", "ada.example")], "website"), "Enter a valid URL.");
    assert_eq!(
        error(&[("slug", "not a slug")], "slug"),
        "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
    );
    assert_eq!(error(&[("quantity", "three")], "quantity"), "Enter a whole number.");
    assert_eq!(error(&[("quantity", "100")], "quantity"), "Ensure this value is less than or equal to 99.");
    assert_eq!(error(&[("quantity", "0")], "quantity"), "Ensure this value is greater than or equal to 1.");
    assert_eq!(error(&[("price", "abc")], "price"), "Enter a number.");
    assert_eq!(error(&[("price", "1.234")], "price"), "Ensure that there are no more than 2 decimal places.");
    assert_eq!(error(&[("price", "123456")], "price"), "Ensure that there are no more than 5 digits in total.");
    assert_eq!(
        error(&[("price", "1234.5")], "price"),
        "Ensure that there are no more than 3 digits before the decimal point."
    );
    assert_eq!(error(&[("price", "0.00")], "price"), "Ensure this value is greater than or equal to 0.01.");
    assert_eq!(error(&[("born", "1815-13-10")], "born"), "Enter a valid date.");
    assert_eq!(error(&[("at", "yesterday")], "at"), "Enter a valid date/time.");
    assert_eq!(error(&[("size", "huge")], "size"), "Select a valid choice. huge is not one of the available choices.");
    assert_eq!(
        error(&[("colours", "green")], "colours"),
        "Select a valid choice. green is not one of the available choices."
    );
    assert_eq!(error(&[("terms", "")], "terms"), "This field is required.", "a required box must be ticked");
    assert_eq!(error(&[("motto", "buy spam")], "motto"), "No spam, please.");
}

#[test]
fn the_whole_form_check_runs_once_every_field_is_valid() {
    let form = bind(&[("email", "ada@example.org"), ("newsletter", "on")]);
    assert_eq!(form.errors().non_field(), ["Example addresses get no newsletter."]);
    assert!(form.cleaned().is_none());
    // A field error stops it: there is no value to check.
    let form = bind(&[("email", "ada@example.org"), ("newsletter", "on"), ("quantity", "")]);
    assert!(form.errors().non_field().is_empty());
    assert_eq!(form.errors().get("quantity"), ["This field is required."]);
}

#[test]
fn errors_added_after_validation_make_the_form_invalid() {
    let mut form = bind(&[]);
    assert!(form.is_valid());
    form.add_error(Some("name"), "That name is taken.");
    assert!(!form.is_valid() && form.cleaned().is_none());
    assert!(form.as_div().as_str().contains("That name is taken."));
}

#[test]
fn unbound_forms_show_initial_values_and_no_errors() {
    let form = Everything::unbound().initial("name", "Grace");
    assert!(!form.is_bound() && !form.is_valid() && form.errors().is_empty());
    let html = form.as_div().to_string();
    assert!(html.contains(r#"<input type="text" name="name" value="Grace" maxlength="10" minlength="2" required id="id_name" aria-describedby="id_name_helptext">"#), "{html}");
    assert!(!html.contains("errorlist"));
    assert!(!FormData::default().is_submitted());
    assert!(!Everything::form(&FormData::default()).is_bound());
}

#[test]
fn rendering_keeps_values_shows_errors_and_escapes_everything() {
    let form = bind(&[
        ("name", "<b>Ada</b>!!"),
        ("password", "secret"),
        ("size", "large"),
        ("colours", "blue"),
        ("newsletter", "on"),
    ]);
    let html = form.to_string();
    assert!(html.contains(r#"value="&lt;b&gt;Ada&lt;/b&gt;!!""#), "values are escaped: {html}");
    assert!(!html.contains("<b>Ada"), "{html}");
    assert!(html.contains(r#"<label for="id_name" class="required">Name:</label>"#), "{html}");
    assert!(html.contains(r#"<div class="helptext" id="id_name_helptext">Your &lt;nick&gt;name</div>"#), "{html}");
    assert!(html.contains(r#"<ul class="errorlist" id="id_name_error"><li>Ensure this value has at most 10 characters (it has 12).</li></ul>"#), "{html}");
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(
        html.contains(r#"<input type="password" name="password" id="id_password">"#),
        "a password is never sent back: {html}"
    );
    assert!(html.contains(r#"<option value="large" selected>Large &amp; loud</option>"#), "{html}");
    assert!(html.contains(r#"<select name="colours" id="id_colours" multiple>"#), "{html}");
    assert!(html.contains(r#"<option value="blue" selected>Blue</option>"#), "{html}");
    assert!(html.contains(r#"<input type="checkbox" name="newsletter" checked id="id_newsletter">"#), "{html}");
    assert!(html.contains(r#"<input type="number" name="price" min="0.01" step="0.01" id="id_price">"#), "{html}");
    assert!(html.contains(r#"<label for="id_terms" class="required">I accept the terms:</label>"#), "{html}");
}

// A view that shows the form on GET and checks it on POST, as a user writes one.

#[derive(forms::Form)]
struct Contact {
    #[form(max_length = 50)]
    subject: String,
    #[form(email)]
    sender: String,
}

#[derive(Template)]
#[template(source = "{{ form }}", ext = "html")]
struct ContactPage {
    form: forms::FormHtml,
}

#[view(GET, POST)]
async fn contact(req: Request, data: FormData) -> manouche::Result<HttpResponse> {
    let form = Contact::form(&data);
    if let Some(contact) = form.cleaned() {
        return Ok(HttpResponse::Ok().body(format!("thanks, {}: {}", contact.sender, contact.subject)));
    }
    render(&ContactPage { form: form.render(&req.context(), "/contact/", "Send <now>") })
}

fn project() -> Project {
    let text = "secret_key = \"forms-test\"\nallowed_hosts = [\"testserver\"]\nmiddleware = [\"manouche.sessions\", \"manouche.csrf\"]\n[sessions]\nengine = \"signed_cookies\"\n";
    let mut settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).unwrap();
    settings.database_url = manouche::conf::DatabaseUrl::SqliteMemory;
    Project::new(settings).app(App::new("site").urls(urlpatterns![path("contact/", contact)]))
}

#[test]
fn a_view_shows_checks_and_re_renders_a_form_with_its_csrf_token() {
    let client = Client::new(project()).unwrap().enforce_csrf_checks();
    let page = client.get("/contact/").send();
    assert_eq!(page.status(), 200);
    let html = page.text();
    assert!(html.starts_with(r#"<form method="post" action="/contact/" novalidate><input type="hidden" name="csrfmiddlewaretoken" value=""#), "{html}");
    assert!(html.ends_with("<button type=\"submit\">Send &lt;now&gt;</button></form>"), "{html}");
    assert!(!html.contains("errorlist"), "an unbound form shows no errors");
    let token =
        html.split("name=\"csrfmiddlewaretoken\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let refused = client.post("/contact/").form(&[("subject", "Hi"), ("sender", "a@b.co")]).send();
    assert_eq!(refused.status(), 403, "the form's view is protected by CSRF");

    let invalid = client
        .post("/contact/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("subject", "Hi \"there\""), ("sender", "not-an-address")])
        .send();
    assert_eq!(invalid.status(), 200, "an invalid form is shown again, not an error page: {}", invalid.text());
    let html = invalid.text();
    assert!(html.contains(r#"value="Hi &quot;there&quot;""#), "the value is kept: {html}");
    assert!(html.contains("<li>Enter a valid email address.</li>"), "{html}");

    let sent = client
        .post("/contact/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("subject", "Hi"), ("sender", "a@b.co")])
        .send();
    assert_eq!(sent.text(), "thanks, a@b.co: Hi");

    let json =
        client.post("/contact/").header("X-CSRFToken", &token).json(&serde_json::json!({"subject": "Hi"})).send();
    assert_eq!(json.status(), 200, "a body that is not a form is submitted data with no fields");
    assert!(json.text().contains("This field is required."));

    let huge = "x".repeat(forms::MAX_FORM_BODY + 10);
    let too_large = client
        .post("/contact/")
        .header("X-CSRFToken", &token)
        .body(format!("subject={huge}"), "application/x-www-form-urlencoded")
        .send();
    assert_eq!(too_large.status(), 413, "{}", too_large.text());
}

// Model forms, on the shop's products.

mod model_forms {
    use std::sync::Mutex;

    use example_shop::shop::models::{Category, Product};
    use manouche::db::{Model as _, SaveEvent};
    use manouche::forms::{FormData, ModelForm};
    use manouche::prelude::ExpressionMethods as _;

    static SAVED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn data(pairs: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn a_model_form_validates_checks_uniqueness_and_saves_through_the_model() {
        let receiver = manouche::db::post_save::<Product>().connect(|event: &SaveEvent<Product>| {
            SAVED.lock().unwrap().push(event.instance.slug.clone());
        });
        let client = crate::shop::seeded_client();
        let unknown = ModelForm::of::<Product>().fields(&["name", "colour"]).unwrap_err().to_string();
        assert!(unknown.contains("Product has no field `colour`."), "{unknown}");

        let fields = ["name", "slug", "category", "description", "price", "stock", "tags"];
        let result = client.db().run_sync(move |conn| {
            let green = Category::objects().filter(Category::slug.eq("green")).get_sync(conn)?.id.to_string();
            let form = || ModelForm::of::<Product>().fields(&fields);

            // Unbound: the category is a select of the categories, the tags a multi-select.
            let mut empty = form()?;
            empty.load_sync(conn, None, None)?;
            let html = empty.as_div().to_string();
            assert!(
                html.contains(
                    r#"<select name="category" id="id_category" required><option value="">---------</option>"#
                ),
                "{html}"
            );
            assert!(html.contains(r#"<select name="tags" id="id_tags" multiple>"#), "{html}");
            assert!(!html.contains("name=\"active\""), "only the chosen fields");

            // Errors: a taken slug (unique, checked against the database), a bad price, an unknown tag.
            let mut bad = form()?;
            let posted = data(&[
                ("name", "Matcha"),
                ("slug", "gunpowder"),
                ("category", &green),
                ("description", "Whisked."),
                ("price", "1.234"),
                ("stock", "3"),
                ("tags", "424242"),
            ]);
            bad.load_sync(conn, None, Some(&posted))?;
            assert!(bad.save_sync(conn)?.is_none());
            let errors = bad.errors().to_vec();
            assert!(
                errors.contains(&("price".into(), "Ensure that there are no more than 2 decimal places.".into())),
                "{errors:?}"
            );
            assert!(
                errors.contains(&(
                    "tags".into(),
                    "Select a valid choice. 424242 is not one of the available choices.".into()
                )),
                "{errors:?}"
            );
            assert!(bad.as_div().to_string().contains(r#"value="Matcha""#), "values kept");
            let taken = errors.iter().any(|(f, m)| f == "slug" && m == "Product with this Slug already exists.");

            // Saved: through `save()`, so `post_save` runs; the tags linked.
            let organic = manouche::db::model("shop.Tag")
                .unwrap()
                .dump(conn)?
                .into_iter()
                .find(|r| r.display == "organic")
                .unwrap()
                .pk;
            let mut good = form()?;
            let posted = data(&[
                ("name", "Matcha"),
                ("slug", "matcha"),
                ("category", &green),
                ("description", "Whisked."),
                ("price", "14.00"),
                ("stock", "3"),
                ("tags", &organic),
            ]);
            good.load_sync(conn, None, Some(&posted))?;
            let row = good.save_sync(conn)?.expect("valid");
            let matcha = Product::objects().filter(Product::slug.eq("matcha")).get_sync(conn)?;
            assert_eq!(row.pk, matcha.id.to_string());
            assert_eq!(matcha.tags().all_sync(conn)?.len(), 1);

            // Changing: only what changed is reported; the row keeps its key.
            let mut edit = form()?;
            let posted = data(&[
                ("name", "Matcha"),
                ("slug", "matcha"),
                ("category", &green),
                ("description", "Whisked."),
                ("price", "15.00"),
                ("stock", "3"),
            ]);
            edit.load_sync(conn, Some(&row.pk), Some(&posted))?;
            edit.save_sync(conn)?.expect("valid");
            assert_eq!(edit.changed(), ["Price", "Tags"]);
            Ok::<_, manouche::db::Error>(taken)
        });
        manouche::db::post_save::<Product>().disconnect(receiver);
        assert!(result.unwrap(), "the taken slug is reported");
        assert!(
            SAVED.lock().unwrap().iter().filter(|s| *s == "matcha").count() >= 2,
            "post_save ran for the add and the change"
        );
    }
}
