use manouche::prelude::*;
use manouche::signals::{REQUEST_FINISHED, RequestFinished, Signal};

pub static SOLD: Signal<u32> = Signal::new("sold");

#[receiver(SOLD)]
fn count(quantity: &u32) {
    let _ = quantity;
}

#[receiver(REQUEST_FINISHED)]
fn finished(event: &RequestFinished) {
    let _ = event.status;
}

fn main() {
    assert_eq!(SOLD.send(&3), 1);
}
