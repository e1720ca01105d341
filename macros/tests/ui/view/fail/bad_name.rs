use manouche::prelude::*;

#[view(GET, name = "")]
async fn index() -> &'static str {
    "index"
}

#[view(GET, name = 42)]
async fn other() -> &'static str {
    "other"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index), manouche::urls::path("o/", other)];
}
