//! Authentication, mirroring Django's `auth_tests` for what is built: password hashes made by
//! Django verify here (and ours verify in Django's format).

use manouche::auth::hashers::{self, Algorithm, Hasher};

#[test]
fn every_hash_django_made_verifies_and_the_wrong_password_does_not() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/django-password-hashes.json")).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let valid = fixture["valid"].as_array().unwrap();
    assert!(valid.len() >= 6, "the fixture lists pbkdf2_sha256, pbkdf2_sha1 and argon2 hashes");
    for entry in valid {
        let (password, encoded) = (entry["password"].as_str().unwrap(), entry["encoded"].as_str().unwrap());
        assert!(hashers::verify(password, encoded), "{encoded} should verify");
        assert_eq!(hashers::identify(encoded).map(Algorithm::name), entry["algorithm"].as_str());
        assert!(!hashers::verify(&format!("{password}x"), encoded), "{encoded} with another password");
    }
    for entry in fixture["invalid"].as_array().unwrap() {
        assert!(!hashers::verify(entry["password"].as_str().unwrap(), entry["encoded"].as_str().unwrap()));
    }
}

#[test]
fn new_hashes_are_djangos_format_at_django_6s_count_and_old_ones_are_flagged_for_rehash() {
    let hasher = Hasher::default();
    assert_eq!(hasher.iterations, 1_200_000, "Django 6.0's default");
    // The same password and salt as a Django 5.2 vector, at its count: the same bytes.
    let django = "pbkdf2_sha256$600000$saltysaltsalt123$EhIbztM35uzUJB9SWiHDWKX0FqmpHZmBOEf3qSTHF70=";
    let ours = Hasher { iterations: 600_000, ..hasher }.encode_with_salt("pässwörd ✓", "saltysaltsalt123").unwrap();
    assert_eq!(ours, django);
    assert!(hasher.must_update(django), "600,000 iterations is outdated");
    let argon = Hasher { algorithm: Algorithm::Argon2, ..hasher };
    let encoded = argon.encode_with_salt("correct horse battery staple", "argon2saltvalue1").unwrap();
    assert_eq!(
        encoded,
        "argon2$argon2id$v=19$m=102400,t=2,p=8$YXJnb24yc2FsdHZhbHVlMQ$1d2v/F1vAKIgDNsy2EGtzNbe7ELUd0wWSaT0+lG8VAE",
        "Django's argon2 parameters and encoding"
    );
    assert!(!argon.must_update(&encoded) && argon.must_update(django));
}

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::ExpressionMethods as _;
use manouche::auth::{RequestUser, User};
use manouche::db::Model as _;
use manouche::http::{Form, HttpResponse};
use manouche::prelude::*;
use manouche::test::{Client, TestDatabase};
use manouche::urls::path;

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[view(POST)]
async fn log_in(req: Request, form: Form<Credentials>) -> manouche::Result<HttpResponse> {
    match manouche::auth::authenticate(&req, &form.username, &form.password).await? {
        Some(user) => {
            manouche::auth::login(&req, &user).await?;
            Ok(HttpResponse::Ok().body(format!("welcome {}", user.username)))
        }
        None => Ok(HttpResponse::Unauthorized().body("Please enter a correct username and password.")),
    }
}

#[view(POST)]
async fn log_out(req: Request) -> manouche::Result<&'static str> {
    manouche::auth::logout(&req)?;
    Ok("bye")
}

#[view(GET)]
async fn whoami(req: Request) -> manouche::Result<String> {
    let user = req.user()?;
    Ok(if user.is_authenticated() { user.username().to_owned() } else { "anonymous".into() })
}

#[derive(Template)]
#[template(
    source = "{% if ctx.user().is_authenticated() %}Hello {{ ctx.user().username() }}{% else %}Log in{% endif %}",
    ext = "html"
)]
struct Greeting {
    ctx: RequestContext,
}

#[view(GET)]
async fn greeting(req: Request) -> manouche::Result<HttpResponse> {
    render(&Greeting { ctx: req.context() })
}

#[derive(Template)]
#[template(source = "<p>{{ ctx.path }}</p>", ext = "html")]
struct Anyone {
    ctx: RequestContext,
}

/// A page the same for every visitor: its template does not show the user.
#[view(GET)]
async fn anyone(req: Request) -> manouche::Result<HttpResponse> {
    render(&Anyone { ctx: req.context() })
}

/// Asks the permission API several things in one request.
#[view(GET)]
async fn perms(req: Request) -> manouche::Result<String> {
    let change_user = manouche::auth::has_perm(&req, "auth.change_user").await?;
    let view_group = manouche::auth::has_perm(&req, User::PERM_VIEW).await?;
    let both = manouche::auth::has_perms(&req, &["auth.change_user", "auth.view_group"]).await?;
    let module = manouche::auth::has_module_perms(&req, "auth").await?;
    let sessions = manouche::auth::has_module_perms(&req, "sessions").await?;
    let all = manouche::auth::get_all_permissions(&req).await?.len();
    let direct = manouche::auth::get_user_permissions(&req).await?;
    let through_groups = manouche::auth::get_group_permissions(&req).await?;
    assert!(direct.iter().chain(&through_groups).all(|p| p.contains('.')), "app_label.codename");
    Ok(format!(
        "change_user={change_user} view_user={view_group} both={both} auth={module} sessions={sessions} all={all}"
    ))
}

#[view(GET)]
#[login_required]
async fn account(req: Request) -> manouche::Result<String> {
    Ok(format!("account of {}", req.user()?.username()))
}

#[view(GET)]
#[permission_required(User::PERM_CHANGE, User::PERM_VIEW)]
async fn edit_users() -> &'static str {
    "editing users"
}

#[view(GET)]
#[staff_member_required]
async fn staff_only() -> &'static str {
    "staff room"
}

fn is_ada(user: &RequestUser) -> bool {
    user.username() == "ada"
}

#[view(GET)]
#[user_passes_test(is_ada)]
async fn ada_only() -> &'static str {
    "hello ada"
}

static FAILED: AtomicUsize = AtomicUsize::new(0);

#[receiver(manouche::auth::USER_LOGIN_FAILED)]
fn count_failures(event: &manouche::auth::UserLoginFailed) {
    if event.username.starts_with("failing-") {
        FAILED.fetch_add(1, Ordering::SeqCst);
    }
}

const SETTINGS: &str = "debug = true\nsecret_key = \"auth-test-secret\"\nallowed_hosts = [\"testserver\"]\n\
    middleware = [\"manouche.sessions\", \"manouche.csrf\", \"manouche.auth\"]\n[auth]\npbkdf2_iterations = 1000\n";

fn project() -> Project {
    let settings = Settings::from_toml_str(SETTINGS, "/tmp".as_ref(), std::iter::empty()).unwrap();
    let app = App::new("accounts").urls(urlpatterns![
        path("login/", log_in),
        path("logout/", log_out),
        path("whoami/", whoami),
        path("greeting/", greeting),
        path("anyone/", anyone),
        path("perms/", perms),
        path("account/", account),
        path("users/edit/", edit_users),
        path("staff/", staff_only),
        path("ada/", ada_only),
    ]);
    Project::new(settings).app(manouche::sessions::app()).app(manouche::auth::app()).app(app)
}

fn hasher() -> manouche::auth::hashers::Hasher {
    manouche::auth::hashers::Hasher { iterations: 1000, ..Default::default() }
}

fn create_user(client: &Client, username: &str, password: &str) -> User {
    let user = User::new(username, &format!("{username}@example.com"), Some(password), &hasher()).unwrap();
    client.db().run_sync(|conn| user.save_sync(conn)).unwrap()
}

fn login(client: &Client, username: &str, password: &str) -> manouche::test::Response {
    client.post("/login/").form(&[("username", username), ("password", password)]).send()
}

#[test]
fn migrate_creates_every_models_permissions_and_reports_stale_ones() {
    for test_db in TestDatabase::all("auth permissions are") {
        let project = test_db.project(project()).unwrap();
        let out = project.call_command(["migrate"]);
        assert!(out.success(), "{}", out.stderr);
        assert!(out.stdout.contains("Created "), "{}", out.stdout);
        let client = Client::new(test_db.project(self::project()).unwrap()).unwrap();
        let codenames: Vec<String> = client
            .db()
            .run_sync(|conn| {
                manouche::auth::Permission::objects()
                    .filter(manouche::auth::Permission::app_label.eq("auth"))
                    .values_list(manouche::auth::Permission::codename)
                    .all_sync::<String>(conn)
            })
            .unwrap();
        for expected in ["add_user", "change_user", "delete_user", "view_user", "add_group", "view_permission"] {
            assert!(codenames.contains(&expected.to_owned()), "{expected} in {codenames:?}");
        }
        // Through models `#[many_to_many]` generated have none, as Django's auto-created ones.
        for through in ["usergroups", "useruserpermissions", "grouppermissions"] {
            assert!(!codenames.contains(&format!("add_{through}")), "{through}: {codenames:?}");
        }
        assert_eq!(codenames.len(), 12, "four for each of User, Group, Permission: {codenames:?}");
        // A second migrate creates nothing; a permission no model declares is reported, kept.
        client
            .db()
            .run_sync(|conn| {
                manouche::auth::Permission {
                    id: 0,
                    name: "Can juggle users".into(),
                    app_label: "auth".into(),
                    model: "user".into(),
                    codename: "juggle_user".into(),
                }
                .save_sync(conn)
            })
            .unwrap();
        let again = project.call_command(["migrate"]);
        assert!(!again.stdout.contains("Created "), "{}", again.stdout);
        assert!(again.stdout.contains("auth.juggle_user"), "{}", again.stdout);
    }
}

#[test]
fn authenticate_accepts_the_right_password_of_an_active_user_only() {
    for test_db in TestDatabase::all("authentication is") {
        let client = Client::new(test_db.migrated(project()).unwrap()).unwrap();
        create_user(&client, "ada", "analytical engine");
        let mut inactive = User::new("grace", "g@example.com", Some("cobol"), &hasher()).unwrap();
        inactive.is_active = false;
        client.db().run_sync(|conn| inactive.save_sync(conn)).unwrap();
        let before = FAILED.load(Ordering::SeqCst);
        assert_eq!(login(&client, "failing-nobody", "x").status(), 401, "an unknown user");
        assert_eq!(login(&client, "ada", "Analytical engine").status(), 401, "a wrong password");
        assert_eq!(login(&client, "grace", "cobol").status(), 401, "an inactive user");
        assert!(FAILED.load(Ordering::SeqCst) > before, "user_login_failed was sent");
        assert_eq!(login(&client, "ada", "analytical engine").text(), "welcome ada");
        assert_eq!(client.get("/whoami/").send().text(), "ada");
        let greeting = client.get("/greeting/").send();
        assert_eq!(greeting.text(), "Hello ada", "templates see the user");
        assert_eq!(greeting.header("vary"), Some("Cookie"), "a page showing the user varies on the cookie");
        let anyone = client.get("/anyone/").send();
        assert_eq!(
            (anyone.text().as_str(), anyone.header("vary")),
            ("<p>/anyone/</p>", None),
            "one that does not, does not"
        );
        let ada = client.db().run_sync(|conn| User::objects().filter(User::username.eq("ada")).get_sync(conn)).unwrap();
        assert!(ada.last_login.is_some(), "last_login is recorded");
    }
}

#[test]
fn login_cycles_the_session_key_and_rotates_the_csrf_secret_and_logout_flushes() {
    let test_db = TestDatabase::sqlite("login").unwrap();
    let client = Client::new(test_db.migrated(project()).unwrap()).unwrap();
    create_user(&client, "ada", "analytical engine");
    // An anonymous session first (a form was shown: CSRF secret set; something stored).
    client.set_cookie("csrftoken", &"a".repeat(32));
    assert_eq!(client.get("/whoami/").send().text(), "anonymous");
    assert_eq!(login(&client, "failing-x", "y").status(), 401);
    let response = login(&client, "ada", "analytical engine");
    assert_eq!(response.status(), 200);
    let session = client.cookies()["sessionid"].clone();
    assert_ne!(client.cookies()["csrftoken"], "a".repeat(32), "login rotates the CSRF secret");
    // Fixation: a key set before login does not survive it.
    client.set_cookie("sessionid", &session);
    login(&client, "ada", "analytical engine");
    assert_ne!(client.cookies()["sessionid"], session, "a new session key at login");
    assert_eq!(client.get("/whoami/").send().text(), "ada");
    assert_eq!(client.post("/logout/").send().text(), "bye");
    assert!(!client.cookies().contains_key("sessionid"), "the session is gone");
    assert_eq!(client.get("/whoami/").send().text(), "anonymous");
}

#[test]
fn a_password_change_elsewhere_ends_the_session_and_outdated_hashes_are_upgraded() {
    let test_db = TestDatabase::sqlite("password change").unwrap();
    let client = Client::new(test_db.migrated(project()).unwrap()).unwrap();
    // Stored with fewer iterations than the settings ask: re-hashed at login.
    let old = manouche::auth::hashers::Hasher { iterations: 500, ..hasher() };
    let user = User::new("ada", "ada@example.com", Some("analytical engine"), &old).unwrap();
    let user = client.db().run_sync(|conn| user.save_sync(conn)).unwrap();
    assert!(user.password.starts_with("pbkdf2_sha256$500$"));
    login(&client, "ada", "analytical engine");
    let stored = client.db().run_sync(|conn| User::objects().filter(User::id.eq(user.id)).get_sync(conn)).unwrap();
    assert!(stored.password.starts_with("pbkdf2_sha256$1000$"), "upgraded: {}", stored.password);
    assert!(stored.check_password("analytical engine"));
    assert_eq!(client.get("/whoami/").send().text(), "ada");

    let mut changed = stored.clone();
    changed.set_password("difference engine", &hasher()).unwrap();
    client
        .db()
        .run_sync(|conn| {
            User::objects().filter(User::id.eq(user.id)).update_sync(conn, User::password.eq(changed.password))
        })
        .unwrap();
    assert_eq!(client.get("/whoami/").send().text(), "anonymous", "the old session no longer matches the password");
    assert!(!client.cookies().contains_key("sessionid"), "and it is flushed");
}

#[test]
fn users_have_djangos_password_helpers_and_the_middleware_must_follow_sessions() {
    let user = User::new("ada", "ada@example.com", None, &hasher()).unwrap();
    assert!(!user.has_usable_password() && !user.check_password(""));
    let anonymous = RequestUser::Anonymous;
    assert!(anonymous.is_anonymous() && anonymous.username().is_empty() && !anonymous.is_staff());
    let text = "debug = true\nsecret_key = \"s\"\nmiddleware = [\"manouche.auth\", \"manouche.sessions\"]\n";
    let settings = Settings::from_toml_str(text, "/tmp".as_ref(), std::iter::empty()).unwrap();
    let error = Client::new(Project::new(settings)).unwrap_err().to_string();
    assert!(error.contains("list `manouche.sessions` before `manouche.auth`"), "{error}");
    let settings = Settings::from_toml_str(
        "debug = true\n[auth]\npassword_hashers = [\"md5\"]\n",
        "/tmp".as_ref(),
        std::iter::empty(),
    )
    .unwrap();
    let error = manouche::auth::hasher(&settings).unwrap_err().to_string();
    assert!(error.contains("unknown `auth.password_hashers` entry `md5`"), "{error}");
    let settings = Settings::from_toml_str(
        "debug = true\nsecret_key = \"s\"\n[auth]\nbackends = [\"manouche.auth.ModelBackend\", \"ldap\"]\n",
        "/tmp".as_ref(),
        std::iter::empty(),
    )
    .unwrap();
    let error = Client::new(Project::new(settings)).unwrap_err().to_string();
    assert!(error.contains("unknown backend `ldap` in `auth.backends`; known: manouche.auth.ModelBackend"), "{error}");
}

#[test]
fn permissions_combine_user_and_group_grants_once_per_request() {
    use manouche::auth::{Group, Permission};
    for test_db in TestDatabase::all("permissions are") {
        let client = Client::new(test_db.migrated(project()).unwrap()).unwrap();
        let ada = create_user(&client, "ada", "analytical engine");
        client
            .db()
            .run_sync(|conn| {
                let perm = |conn: &mut manouche::db::Connection, code: &str| {
                    Permission::objects()
                        .filter(Permission::app_label.eq("auth"))
                        .filter(Permission::codename.eq(code.to_owned()))
                        .get_sync(conn)
                };
                let (change_user, view_user) = (perm(conn, "change_user")?, perm(conn, "view_user")?);
                let editors = Group { id: 0, name: "Editors".into() }.save_sync(conn)?;
                editors.permissions().add_sync(conn, &change_user)?;
                ada.groups().add_sync(conn, &editors)?;
                ada.user_permissions().add_sync(conn, &view_user)?;
                Ok(())
            })
            .unwrap();
        assert_eq!(
            client.get("/perms/").send().text(),
            "change_user=false view_user=false both=false auth=false sessions=false all=0",
            "anonymous"
        );
        login(&client, "ada", "analytical engine");
        // Session, user, then the permissions once (two queries) for six questions.
        let page = manouche::test::assert_num_queries(client.db(), 4, || client.get("/perms/").send());
        assert_eq!(page.text(), "change_user=true view_user=true both=false auth=true sessions=false all=2");

        let set = |column: &str, value: bool| {
            let column = column.to_owned();
            client
                .db()
                .run_sync(move |conn| {
                    let q = User::objects().filter(User::id.eq(ada.id));
                    if column == "is_superuser" {
                        q.update_sync(conn, User::is_superuser.eq(value))
                    } else {
                        q.update_sync(conn, User::is_active.eq(value))
                    }
                })
                .unwrap();
        };
        set("is_superuser", true);
        let every = client.get("/perms/").send().text();
        assert!(every.starts_with("change_user=true view_user=true both=true auth=true sessions=true"), "{every}");
        set("is_active", false);
        assert_eq!(client.get("/whoami/").send().text(), "anonymous", "an inactive user is logged out");
    }
}

#[test]
fn guarded_views_redirect_anonymous_visitors_and_refuse_users_without_permissions() {
    let test_db = TestDatabase::sqlite("guards").unwrap();
    let client = Client::new(test_db.migrated(project()).unwrap()).unwrap();
    let anonymous = client.get("/account/?tab=orders&x=1").send();
    assert_eq!(anonymous.status(), 302);
    assert_eq!(anonymous.header("location"), Some("/accounts/login/?next=/account/%3Ftab%3Dorders%26x%3D1"));
    for path in ["/users/edit/", "/staff/", "/ada/"] {
        let response = client.get(path).send();
        assert_eq!(response.status(), 302, "{path}: anonymous visitors go to the login page");
        assert_eq!(response.header("location"), Some(format!("/accounts/login/?next={path}").as_str()));
    }
    let grace = create_user(&client, "grace", "cobol compiler");
    login(&client, "grace", "cobol compiler");
    assert_eq!(client.get("/account/").send().text(), "account of grace");
    let refused = client.get("/users/edit/").send();
    assert_eq!(refused.status(), 403, "logged in without the permissions");
    assert!(refused.text().contains("auth.change_user, auth.view_user"), "debug names them: {}", refused.text());
    assert_eq!(client.get("/staff/").send().status(), 302, "not staff");
    assert_eq!(client.get("/ada/").send().status(), 302, "the test refuses grace");
    client
        .db()
        .run_sync(|conn| {
            use manouche::auth::Permission;
            for code in ["change_user", "view_user"] {
                let perm = Permission::objects().filter(Permission::codename.eq(code)).get_sync(conn)?;
                grace.user_permissions().add_sync(conn, &perm)?;
            }
            User::objects().filter(User::id.eq(grace.id)).update_sync(conn, User::is_staff.eq(true))
        })
        .unwrap();
    assert_eq!(client.get("/users/edit/").send().text(), "editing users");
    assert_eq!(client.get("/staff/").send().text(), "staff room");
    create_user(&client, "ada", "analytical engine");
    login(&client, "ada", "analytical engine");
    assert_eq!(client.get("/ada/").send().text(), "hello ada");
}

#[test]
fn the_login_view_redirects_only_to_a_safe_next_and_logout_takes_a_post() {
    let test_db = TestDatabase::sqlite("login views").unwrap();
    let client = Client::new(test_db.migrated(project()).unwrap()).unwrap().enforce_csrf_checks();
    create_user(&client, "ada", "analytical engine");
    // From a guarded page to the login form, `next` carried along.
    let page = client.get("/account/").follow().send();
    assert_eq!(page.redirect_chain, [("/accounts/login/?next=/account/".to_owned(), 302)]);
    let html = page.text();
    assert!(html.contains(r#"<input type="hidden" name="next" value="/account/">"#), "{html}");
    let token = html.split(r#"name="csrfmiddlewaretoken" value=""#).nth(1).unwrap()[..64].to_owned();
    let post = |password: &str, next: &str| {
        client
            .post("/accounts/login/")
            .form(&[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "ada"),
                ("password", password),
                ("next", next),
            ])
            .send()
    };
    let wrong = post("babbage", "/account/");
    assert_eq!(wrong.status(), 200);
    assert!(wrong.text().contains(manouche::auth::views::INVALID_LOGIN));
    assert!(wrong.text().contains(r#"value="ada""#), "the username is kept");
    let right = post("analytical engine", "/account/");
    assert_eq!((right.status(), right.header("location")), (302, Some("/account/")));
    assert_eq!(client.get("/account/").send().text(), "account of ada");
    // Each login rotates the CSRF secret: a fresh form's token each time.
    let fresh_token = || {
        client.get("/accounts/login/").send().text().split(r#"name="csrfmiddlewaretoken" value=""#).nth(1).unwrap()
            [..64]
            .to_owned()
    };
    for unsafe_next in ["//evil.example/", "https://evil.example/", "http:///evil.example", "/\\evil.example"] {
        let token = fresh_token();
        let response = client
            .post("/accounts/login/")
            .form(&[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "ada"),
                ("password", "analytical engine"),
                ("next", unsafe_next),
            ])
            .send();
        assert_eq!(response.header("location"), Some("/accounts/profile/"), "{unsafe_next} is ignored");
    }
    let token = fresh_token();
    assert_eq!(client.get("/accounts/logout/").send().status(), 405, "no logging out by a link");
    let out = client.post("/accounts/logout/").form(&[("csrfmiddlewaretoken", token.as_str())]).send();
    assert_eq!(out.status(), 200);
    assert!(out.text().contains("Logged out"));
    assert_eq!(client.get("/whoami/").send().text(), "anonymous");
}

#[test]
fn createsuperuser_asks_until_the_answers_are_valid() {
    let test_db = TestDatabase::sqlite("createsuperuser").unwrap();
    let project = test_db.migrated(project()).unwrap();
    let client = Client::new(test_db.project(self::project()).unwrap()).unwrap();
    create_user(&client, "taken", "whatever it is");
    let out = project.call_command_with_input(
        ["createsuperuser"],
        [
            "bad name!",        // invalid characters
            "taken",            // a duplicate
            "root",             // accepted
            "not-an-address",   // invalid
            "root@example.com", // accepted
            "first",
            "second", // no match
            "123",
            "123", // refused by the validators...
            "n",   // ...and not bypassed
            "correct horse battery",
            "correct horse battery",
        ],
    );
    assert!(out.success(), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.ends_with("Superuser created successfully.\n"), "{}", out.stdout);
    for expected in [
        "Error: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        "Error: That username is already taken.",
        "Error: Enter a valid email address.",
        "Error: Your passwords didn't match.",
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ] {
        assert!(out.stderr.contains(expected), "{expected} in {}", out.stderr);
    }
    let root = client.db().run_sync(|conn| User::objects().filter(User::username.eq("root")).get_sync(conn)).unwrap();
    assert!(root.is_superuser && root.is_staff && root.is_active && root.check_password("correct horse battery"));
    assert!(root.password.starts_with("pbkdf2_sha256$1000$"), "the settings' iterations");

    // Nobody at the terminal: nothing asked, nothing created.
    let skipped = project.call_command(["createsuperuser"]);
    assert!(skipped.success() && skipped.stdout.contains("skipped"), "{}", skipped.stdout);

    // changepassword: three tries, then it gives up; a good password is saved.
    let aborted = project.call_command_with_input(["changepassword", "root"], ["a", "b", "short", "short", "c", "d"]);
    assert!(!aborted.success());
    assert!(aborted.stderr.contains("Aborting password change for user 'root' after 3 attempts"), "{}", aborted.stderr);
    let changed =
        project.call_command_with_input(["changepassword", "root"], ["difference engine", "difference engine"]);
    assert!(changed.success(), "{}", changed.stderr);
    assert!(changed.stdout.contains("Password changed successfully for user 'root'"));
    let root = client.db().run_sync(|conn| User::objects().filter(User::username.eq("root")).get_sync(conn)).unwrap();
    assert!(root.check_password("difference engine"));
    let unknown = project.call_command_with_input(["changepassword", "nobody"], ["x"]);
    assert!(unknown.stderr.contains("user 'nobody' does not exist"), "{}", unknown.stderr);
}

#[test]
fn createsuperuser_noinput_reads_the_environment_and_names_what_is_wrong() {
    let binary = crate::common::workspace_binary("example_shop", "example_shop");
    let db = std::env::temp_dir().join(format!("manouche-superuser-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let url = format!("sqlite://{}", db.display());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(&binary);
        command.args(args).env("DATABASE_URL", &url).env("MANOUCHE_AUTH_PBKDF2_ITERATIONS", "1000");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    };
    assert!(run(&["migrate"], &[]).status.success());
    let weak = run(
        &["createsuperuser", "--noinput"],
        &[("MANOUCHE_SUPERUSER_USERNAME", "boss"), ("MANOUCHE_SUPERUSER_PASSWORD", "iloveyou")],
    );
    assert_eq!(weak.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("password: This password is too common."), "{stderr}");
    let made = run(
        &["createsuperuser", "--noinput", "--email", "boss@shop.example"],
        &[("MANOUCHE_SUPERUSER_USERNAME", "boss"), ("MANOUCHE_SUPERUSER_PASSWORD", "a velvet teapot sings")],
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(String::from_utf8_lossy(&made.stdout), "Superuser created successfully.\n");
    let again = run(&["createsuperuser", "--noinput", "--username", "boss"], &[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("That username is already taken: `boss`."));
    let nameless = run(&["createsuperuser", "--noinput"], &[]);
    assert!(String::from_utf8_lossy(&nameless.stderr).contains("You must use --username with --noinput"));
    let _ = std::fs::remove_file(&db);
}

fn mail_project() -> Project {
    let text = format!("{SETTINGS}[email]\nbackend = \"locmem\"\nfrom_email = \"shop@example.com\"\n");
    let settings = Settings::from_toml_str(&text, "/tmp".as_ref(), std::iter::empty()).unwrap();
    let app = App::new("accounts").urls(urlpatterns![path("whoami/", whoami)]);
    Project::new(settings).app(manouche::sessions::app()).app(manouche::auth::app()).app(app)
}

#[test]
fn a_password_reset_link_is_mailed_works_once_and_expires() {
    let test_db = TestDatabase::sqlite("password reset").unwrap();
    let client = Client::new(test_db.migrated(mail_project()).unwrap()).unwrap();
    let user = User::new("resetter", "Reset.Me@example.com", Some("old password here"), &hasher()).unwrap();
    let user = client.db().run_sync(|conn| user.save_sync(conn)).unwrap();
    let mailed =
        |to: &str| manouche::mail::outbox().into_iter().filter(|m| m.to == [to.to_owned()]).collect::<Vec<_>>();

    assert!(client.get("/accounts/password_reset/").send().text().contains(r#"name="email""#));
    for address in ["reset.me@EXAMPLE.com", "nobody@example.com"] {
        let sent = client.post("/accounts/password_reset/").form(&[("email", address)]).send();
        assert_eq!(sent.header("location"), Some("/accounts/password_reset/done/"), "the same answer for {address}");
    }
    assert!(mailed("nobody@example.com").is_empty());
    let messages = mailed("Reset.Me@example.com");
    assert_eq!(messages.len(), 1, "the address matched without regard to case");
    assert_eq!(messages[0].from_email, "shop@example.com");
    assert_eq!(messages[0].subject, "Password reset on testserver");
    let link =
        messages[0].body.lines().find(|l| l.starts_with("http://testserver/accounts/reset/")).unwrap().to_owned();
    let path = link.trim_start_matches("http://testserver").to_owned();
    assert!(messages[0].body.contains("Your username, in case you’ve forgotten: resetter"));

    // The token leaves the URL for the session, then the form sets the password.
    let moved = client.get(&path).send();
    let set_password = moved.header("location").unwrap().to_owned();
    assert!(
        set_password.ends_with("/set-password/") && !set_password.contains(&path[path.len() - 10..]),
        "{set_password}"
    );
    let mismatch = client
        .post(&set_password)
        .form(&[("new_password1", "a brand new secret"), ("new_password2", "another")])
        .send();
    assert!(mismatch.text().contains("The two password fields didn’t match."));
    let weak = client.post(&set_password).form(&[("new_password1", "resetter"), ("new_password2", "resetter")]).send();
    assert!(weak.text().contains("The password is too similar to the username."), "{}", weak.text());
    let done = client
        .post(&set_password)
        .form(&[("new_password1", "a brand new secret"), ("new_password2", "a brand new secret")])
        .send();
    assert_eq!(done.header("location"), Some("/accounts/reset/done/"));
    let login =
        client.post("/accounts/login/").form(&[("username", "resetter"), ("password", "a brand new secret")]).send();
    assert_eq!(login.status(), 302, "the new password logs in");

    // Used once: the password changed, so the link no longer works.
    let again = client.get(&path).follow().send().text();
    assert!(again.contains("Password reset unsuccessful"), "{again}");
    // And a link older than `password_reset_timeout` (three days) is refused.
    let stored = client.db().run_sync(|conn| User::objects().filter(User::id.eq(user.id)).get_sync(conn)).unwrap();
    let old = manouche::auth::tokens::make_token_at(
        &stored,
        manouche::db::now() - manouche::chrono::TimeDelta::days(4),
        "auth-test-secret",
    );
    let fresh = manouche::auth::tokens::make_token_at(
        &stored,
        manouche::db::now() - manouche::chrono::TimeDelta::days(2),
        "auth-test-secret",
    );
    assert!(!manouche::auth::tokens::check_token(&stored, &old, "auth-test-secret", 3 * 86_400));
    assert!(manouche::auth::tokens::check_token(&stored, &fresh, "auth-test-secret", 3 * 86_400));
    assert!(!manouche::auth::tokens::check_token(&stored, &fresh, "another-secret", 3 * 86_400));
}

#[test]
fn a_password_change_keeps_this_session_and_ends_the_others() {
    let test_db = TestDatabase::sqlite("password change view").unwrap();
    let project = test_db.migrated(mail_project()).unwrap();
    let client = Client::new(project).unwrap();
    let other = Client::new(test_db.project(mail_project()).unwrap()).unwrap();
    let user = User::new("changer", "changer@example.com", Some("the first secret"), &hasher()).unwrap();
    client.db().run_sync(|conn| user.save_sync(conn)).unwrap();
    for c in [&client, &other] {
        let response =
            c.post("/accounts/login/").form(&[("username", "changer"), ("password", "the first secret")]).send();
        assert_eq!(response.status(), 302);
    }
    let wrong = client
        .post("/accounts/password_change/")
        .form(&[
            ("old_password", "nope"),
            ("new_password1", "the second secret"),
            ("new_password2", "the second secret"),
        ])
        .send();
    assert!(wrong.text().contains("Your old password was entered incorrectly. Please enter it again."));
    let changed = client
        .post("/accounts/password_change/")
        .form(&[
            ("old_password", "the first secret"),
            ("new_password1", "the second secret"),
            ("new_password2", "the second secret"),
        ])
        .send();
    assert_eq!(changed.header("location"), Some("/accounts/password_change/done/"));
    assert_eq!(client.get("/whoami/").send().text(), "changer", "this session stays logged in");
    assert_eq!(other.get("/whoami/").send().text(), "anonymous", "the other session ends");
    assert!(client.get("/accounts/password_change/done/").send().text().contains("Your password was changed."));
}
