use manouche::prelude::*;

#[view(GET, path = "products/")]
async fn index() -> &'static str {
    "index"
}

#[view(POST, csrf_exempt, csrf_exempt)]
async fn hook() -> &'static str {
    "hook"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index), manouche::urls::path("hook/", hook)];
}
