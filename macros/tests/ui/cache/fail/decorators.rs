use manouche::prelude::*;

// A rate in an unknown unit: refused where it is written.
#[view(POST)]
#[ratelimit(key = "ip", rate = "5/x")]
async fn login() -> &'static str {
    "in"
}

// Not a rate at all, and a key that is not one of the known kinds.
#[view(POST)]
#[ratelimit(key = "cookie", rate = "five")]
async fn signup() -> &'static str {
    "up"
}

// The timeout comes first; options are named.
#[view(GET)]
#[cache_page(depends_on = [Product])]
async fn catalogue() -> &'static str {
    "catalogue"
}

// A directive Cache-Control does not have, and seconds where none are taken.
#[view(GET)]
#[cache_control(max_age = 60, publik, private = 3)]
async fn page() -> &'static str {
    "page"
}

// Above `#[view]`, the decorator would run before the view exists.
#[cache_page(60)]
#[view(GET)]
async fn misplaced() -> &'static str {
    "misplaced"
}

fn main() {}
