use manouche::prelude::*;

#[view(GET, POST, GET)]
async fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
