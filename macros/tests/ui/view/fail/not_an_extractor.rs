use manouche::prelude::*;

struct Basket;

#[view(GET)]
async fn index(basket: Basket) -> &'static str {
    let _ = basket;
    "index"
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("", index)];
}
