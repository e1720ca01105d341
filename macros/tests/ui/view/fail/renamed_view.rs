use manouche::prelude::*;

#[view(GET)]
async fn product_detail(id: Path<i64>) -> String {
    id.to_string()
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("p/{id:int}/", product_detail)];
    // The view was renamed from `product`: every stale reverse is a compile error.
    let _ = product::url(1);
}
