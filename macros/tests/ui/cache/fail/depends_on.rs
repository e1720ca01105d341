use manouche::prelude::*;

pub struct Banner {
    pub text: String,
}

// `depends_on` names models: a plain struct is refused at its name.
#[view(GET)]
#[cache_page(60 * 15, depends_on = [Banner])]
async fn home() -> &'static str {
    "home"
}

// The timeout is seconds as a number.
#[view(GET)]
#[cache_page("fifteen minutes")]
async fn about() -> &'static str {
    "about"
}

// A key function of the wrong signature.
fn by_agent(_: &str) -> String {
    String::new()
}

#[view(GET)]
#[ratelimit(key = by_agent, rate = "10/m")]
async fn search() -> &'static str {
    "search"
}

fn main() {
    let _ = urlpatterns![
        manouche::urls::path("", home),
        manouche::urls::path("about/", about),
        manouche::urls::path("search/", search)
    ];
}
