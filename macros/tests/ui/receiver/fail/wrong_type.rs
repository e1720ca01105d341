use manouche::prelude::*;
use manouche::signals::Signal;

static SOLD: Signal<u32> = Signal::new("sold");

#[receiver(SOLD)]
fn count(name: &String) {
    let _ = name;
}

fn main() {}
