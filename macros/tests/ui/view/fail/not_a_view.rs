use manouche::prelude::*;

async fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", "index")];
    let _ = urlpatterns![manouche::urls::path("", index)];
}
