use manouche::prelude::*;

#[view(GETT, get, name = "x")]
async fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
