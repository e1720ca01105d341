use manouche::prelude::*;

#[view(GET)]
async fn product(id: Path<i64>) -> String {
    id.to_string()
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("p/{id:int}/", product)];
    let _ = product::url("teapot");
    let _ = product::url(1, 2);
}
