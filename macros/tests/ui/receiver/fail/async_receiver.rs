use manouche::prelude::*;
use manouche::signals::Signal;

static SOLD: Signal<u32> = Signal::new("sold");

#[receiver(SOLD)]
async fn count(quantity: &u32) {
    let _ = quantity;
}

fn main() {}
