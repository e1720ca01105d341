use manouche::prelude::*;

#[view(GET, path = "products/")]
async fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
