use manouche::prelude::*;

#[view(GET)]
fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
