use manouche::prelude::*;

#[model(app = "shop")]
pub struct Product {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

// A misspelled permission constant: the compiler names it.
#[view(POST)]
#[permission_required(Product::PERM_PUBLSH)]
async fn publish() -> &'static str {
    "published"
}

// A permission by its text cannot be checked: refused.
#[view(POST)]
#[permission_required("shop.publish_product")]
async fn publish_by_name() -> &'static str {
    "published"
}

// Above `#[view]`, the guard would run before the view exists.
#[login_required]
#[view(GET)]
async fn account() -> &'static str {
    "account"
}

fn not_a_test(_: &str) -> bool {
    true
}

// A test of the wrong signature.
#[view(GET)]
#[user_passes_test(not_a_test)]
async fn tested() -> &'static str {
    "tested"
}

fn main() {
    let _ = urlpatterns![
        manouche::urls::path("publish/", publish),
        manouche::urls::path("by-name/", publish_by_name),
        manouche::urls::path("account/", account),
        manouche::urls::path("tested/", tested)
    ];
}
