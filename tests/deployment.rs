//! The shop deployed as the production guide says: two instances on PostgreSQL, with sessions
//! and the cache in Redis, behind nginx (installed from the distribution's packages by
//! `.ci/run`). Pages, static files, login and checkout go through nginx; a rolling restart
//! (SIGTERM one instance, start it again, then the other) under a steady load fails no request
//! and loses or duplicates no order.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::checkout::{field, token_in};
use crate::common::{self, Browser, Page};

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"].into_iter().map(PathBuf::from).find(|p| p.exists())
}

fn wait_listening(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{what} did not come up on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One shop instance: `runserver` on its port with the deployment's environment.
struct Instance {
    child: Child,
    addr: SocketAddr,
}

struct Deployment {
    binary: PathBuf,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl Deployment {
    fn run(&self, args: &[&str]) {
        let out = Command::new(&self.binary)
            .args(args)
            .envs(self.env.iter().cloned())
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self, addr: SocketAddr, name: &str) -> Instance {
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("{name}.log"))).unwrap();
        let child = Command::new(&self.binary)
            .args(["runserver", &addr.to_string()])
            .envs(self.env.iter().cloned())
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_listening(addr, name);
        Instance { child, addr }
    }
}

impl Instance {
    /// SIGTERM, then waits for the exit: in-flight requests finish first.
    fn stop(mut self) -> i32 {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "instance on {} did not stop", self.addr);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_conf(dir: &Path, listen: SocketAddr, upstreams: &[SocketAddr]) -> String {
    let servers: String = upstreams.iter().map(|a| format!("        server {a} max_fails=0;\n")).collect();
    let d = dir.display();
    format!(
        "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n    include /etc/nginx/mime.types;\n    access_log {d}/nginx-access.log;\n\
             client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n    fastcgi_temp_path {d}/tmp/fastcgi;\n\
             uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n\
             upstream shop {{\n{servers}    }}\n\
             server {{\n        listen {listen};\n        client_max_body_size 3m;\n\
                 location /static/ {{ alias {d}/staticfiles/; expires 30d; }}\n\
                 location / {{\n            proxy_pass http://shop;\n            proxy_set_header Host $host;\n\
                     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n            proxy_set_header X-Forwarded-Proto $scheme;\n\
                     proxy_set_header X-Request-Id $request_id;\n            proxy_connect_timeout 2s;\n            proxy_read_timeout 60s;\n\
                     proxy_next_upstream error timeout non_idempotent;\n        }}\n    }}\n}}\n"
    )
}

#[test]
fn two_shops_behind_nginx_survive_a_rolling_restart() {
    let (Some(nginx), Ok(postgres), Ok(redis)) =
        (nginx_binary(), std::env::var("MANOUCHE_TEST_POSTGRES_URL"), std::env::var("MANOUCHE_TEST_REDIS_URL"))
    else {
        eprintln!(
            "notice: nginx, MANOUCHE_TEST_POSTGRES_URL or MANOUCHE_TEST_REDIS_URL is missing; the deployment test is skipped (.ci/run provides them)"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("manouche-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let db = manouche::test::TestDatabase::postgres(&postgres, "deploy").unwrap();
    let prefix = format!("deploy{}", std::process::id());
    std::fs::write(
        dir.join("production.toml"),
        format!(
            "debug = false\nallowed_hosts = [\"localhost\"]\nshutdown_timeout_seconds = 30\nworkers = 2\nlog_level = \"warn\"\n\
             middleware = [\"manouche.security\", \"manouche.sessions\", \"manouche.csrf\", \"manouche.auth\", \"manouche.logging\"]\n\
             static_url = \"/static/\"\nstatic_root = \"staticfiles\"\n\
             [proxy]\ntrusted_proxies = [\"127.0.0.1\"]\nsecure_proxy_ssl_header = [\"X-Forwarded-Proto\", \"https\"]\n\
             [sessions]\nengine = \"cache\"\n\
             [caches.default]\nbackend = \"redis\"\nlocation = \"{redis}\"\nkey_prefix = \"{prefix}\"\n\
             [tasks]\nbackend = \"redis\"\nlocation = \"{redis}\"\nprefix = \"{prefix}\"\nqueues = [\"default\", \"emails\"]\n\
             [auth]\nbackends = [\"manouche.auth.ModelBackend\", \"shop.EmailBackend\"]\n\
             [apps.shop]\nname = \"Manouche Tea & Co.\"\n"
        ),
    )
    .unwrap();
    let deployment = Deployment {
        binary: common::workspace_binary("example_shop", "example_shop"),
        env: vec![
            ("MANOUCHE_SETTINGS".into(), dir.join("production.toml").display().to_string()),
            ("DATABASE_URL".into(), db.url().to_string()),
            ("SECRET_KEY".into(), "deploy-test-secret-key-9f8e7d6c5b4a39281716f5e4d3c2b1a0".into()),
            ("MANOUCHE_AUTH_PBKDF2_ITERATIONS".into(), "1000".into()),
        ],
        dir: dir.clone(),
    };
    for step in [&["migrate"][..], &["seed"], &["collectstatic"]] {
        deployment.run(step);
    }
    let port = |_| -> SocketAddr { format!("127.0.0.1:{}", common::free_port()).parse().unwrap() };
    let (a_addr, b_addr, front) = (port(0), port(1), port(2));
    let a = deployment.start(a_addr, "a");
    let b = deployment.start(b_addr, "b");
    std::fs::write(dir.join("nginx.conf"), nginx_conf(&dir, front, &[a_addr, b_addr])).unwrap();
    let _nginx = Nginx(
        Command::new(&nginx)
            .args(["-p", &dir.display().to_string(), "-c", &dir.join("nginx.conf").display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts"),
    );
    wait_listening(front, "nginx");

    // Pages from the instances, static files from nginx itself.
    let mut visitor = Browser::new(front);
    let home = visitor.get("/");
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Welcome to Manouche Tea"), "{}", home.body);
    assert!(home.header("x-request-id").is_some_and(|id| id.len() == 32), "nginx's request id: {:?}", home.headers);
    let css = visitor.get("/static/shop/site.css");
    assert_eq!(css.status, 200);
    assert_eq!(
        css.body,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../example_shop/static/shop/site.css")).unwrap()
    );
    assert!(css.header("server").is_some_and(|s| s.starts_with("nginx")) && css.header("x-request-id").is_none());

    // Customers sign up (logged in) and check out through nginx, their sessions in Redis
    // whichever instance answers. (The shop allows 10 sign-ups an hour from one address and
    // 10 checkouts a minute per customer: four customers, nine checkouts each at most.)
    let mut customers: Vec<Browser> = (0..4)
        .map(|n| {
            let mut customer = Browser::new(front);
            let token = token_in(&customer.get("/accounts/signup/").body);
            let signed = customer.post_form(
                "/accounts/signup/",
                &[
                    ("csrfmiddlewaretoken", &token),
                    ("username", &format!("roller{n}")),
                    ("email", &format!("roller{n}@example.com")),
                    ("password1", "a velvet teapot sings"),
                    ("password2", "a velvet teapot sings"),
                ],
                &[],
            );
            assert_eq!(signed.status, 302, "{}", signed.body);
            customer
        })
        .collect();
    let mut customer = customers.remove(0);
    let checkout = |browser: &mut Browser| -> Page {
        let page = browser.get("/products/gunpowder/");
        let (token, id) = (token_in(&page.body), field(&page.body, "product"));
        let added = browser.post_form(
            "/cart/add/",
            &[("csrfmiddlewaretoken", &token), ("product", &id), ("quantity", "1")],
            &[],
        );
        if added.status != 303 {
            return added;
        }
        let token = token_in(&browser.get("/checkout/").body);
        browser.post_form(
            "/checkout/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("ship_to", "R. Oller"),
                ("address", "1 Quay"),
                ("postcode", "69001"),
                ("city", "Lyon"),
            ],
            &[],
        )
    };
    let first = checkout(&mut customer);
    assert_eq!(first.status, 302, "{}", first.body);
    assert!(first.header("location").is_some_and(|l| l.starts_with("/orders/")));
    assert_eq!(customer.get(first.header("location").unwrap()).status, 200);

    // A rolling restart under a steady load.
    let stop = Arc::new(AtomicBool::new(false));
    let (requests, failures, placed) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(1)));
    let failed_pages = Arc::new(std::sync::Mutex::new(Vec::new()));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, requests, failures, failed_pages) =
                (stop.clone(), requests.clone(), failures.clone(), failed_pages.clone());
            std::thread::spawn(move || {
                let mut browser = Browser::new(front);
                while !stop.load(Ordering::Relaxed) {
                    let page = browser.get("/products/");
                    requests.fetch_add(1, Ordering::Relaxed);
                    if page.status != 200 {
                        failures.fetch_add(1, Ordering::Relaxed);
                        failed_pages.lock().unwrap().push(format!("GET /products/: {}", page.status));
                    }
                }
            })
        })
        .collect();
    let buyer = {
        let (stop, requests, failures, placed, failed_pages) =
            (stop.clone(), requests.clone(), failures.clone(), placed.clone(), failed_pages.clone());
        customers.insert(0, customer);
        std::thread::spawn(move || {
            for (n, mut customer) in customers.into_iter().enumerate() {
                // The first customer checked out once already.
                for _ in 0..(if n == 0 { 8 } else { 9 }) {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let page = checkout(&mut customer);
                    requests.fetch_add(4, Ordering::Relaxed);
                    if page.status == 302 && page.header("location").is_some_and(|l| l.starts_with("/orders/")) {
                        placed.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                        failed_pages.lock().unwrap().push(format!(
                            "checkout: {} {:?}",
                            page.status,
                            page.header("location")
                        ));
                    }
                }
            }
        })
    };
    // Each step waits for more load, checkouts included while there are some left.
    let wait_requests = |n: usize| {
        let target = requests.load(Ordering::Relaxed) + n;
        let orders = (placed.load(Ordering::Relaxed) + 2).min(33);
        let deadline = Instant::now() + Duration::from_secs(120);
        while requests.load(Ordering::Relaxed) < target
            || (placed.load(Ordering::Relaxed) < orders && !buyer.is_finished())
        {
            assert!(Instant::now() < deadline, "the load stalled");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_requests(50);
    assert_eq!(a.stop(), 0, "instance A leaves cleanly on SIGTERM");
    wait_requests(50);
    let a = deployment.start(a_addr, "a");
    wait_requests(50);
    assert_eq!(b.stop(), 0, "instance B leaves cleanly on SIGTERM");
    wait_requests(50);
    let b = deployment.start(b_addr, "b");
    wait_requests(50);
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    buyer.join().unwrap();
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed requests: {:?}", failed_pages.lock().unwrap());
    assert!(requests.load(Ordering::Relaxed) >= 250);

    // Every order the customer was told about is there, once.
    use diesel::ExpressionMethods as _;
    use example_shop::shop::models::{Customer, Order};
    use manouche::db::Model as _;
    let orders = db
        .connect()
        .run_sync(|conn| {
            let mut orders = 0;
            for n in 0..4 {
                let email = format!("roller{n}@example.com");
                let customer = Customer::objects().filter(Customer::email.eq(email)).get_sync(conn)?;
                orders += Order::objects().filter(Order::customer.eq(customer.id)).count_sync(conn)?;
            }
            Ok(orders)
        })
        .unwrap();
    assert_eq!(orders, placed.load(Ordering::Relaxed) as i64, "orders placed = orders confirmed");
    eprintln!(
        "rolling restart behind nginx: {} requests, {} orders, no failure",
        requests.load(Ordering::Relaxed),
        placed.load(Ordering::Relaxed)
    );
    drop((a, b));
    let _ = std::fs::remove_dir_all(&dir);
}
