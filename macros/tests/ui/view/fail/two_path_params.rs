use manouche::prelude::*;

#[view(GET)]
async fn index(id: Path<i64>, slug: Path<String>) -> String {
    format!("{id} {slug}")
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("{id}/{slug}/", index)];
}
