use manouche::prelude::*;

#[view(GET)]
struct Index;

fn main() {}
