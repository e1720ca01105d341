use manouche::prelude::*;

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

fn api_key(req: &manouche::http::HttpRequest) -> Option<String> {
    req.headers().get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[view(GET)]
#[cache_page(60 * 15, cache = "default", key_prefix = "catalogue", depends_on = [Product])]
#[vary_on_headers("Accept-Language", "User-Agent")]
#[cache_control(max_age = 300, public, stale_while_revalidate = 30)]
async fn catalogue() -> &'static str {
    "catalogue"
}

#[view(GET, POST)]
#[never_cache]
#[vary_on_cookie]
#[ratelimit(key = "ip", rate = "5/m", method = "POST")]
#[ratelimit(key = "post:username", rate = "5/10m", method = ["POST", "PUT"], group = "login")]
#[ratelimit(key = api_key, rate = "100/h")]
#[ratelimit(key = "header:X-Forwarded-User", rate = "1000/d", cache = "default")]
#[ratelimit(key = "user", rate = "10/s")]
async fn login() -> &'static str {
    "in"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", catalogue), manouche::urls::path("login/", login)];
}
