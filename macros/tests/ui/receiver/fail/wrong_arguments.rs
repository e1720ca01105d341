use manouche::prelude::*;
use manouche::signals::Signal;

static SOLD: Signal<u32> = Signal::new("sold");

#[receiver(SOLD)]
fn two(quantity: &u32, price: &u32) {
    let _ = (quantity, price);
}

#[receiver(SOLD)]
fn by_value(quantity: u32) {
    let _ = quantity;
}

fn main() {}
