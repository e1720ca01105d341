use manouche::prelude::*;

#[view(GET)]
async fn index<T>() -> &'static str {
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
