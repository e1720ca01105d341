use manouche::prelude::*;

struct Page;

#[view(GET)]
async fn index() -> Page {
    Page
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
