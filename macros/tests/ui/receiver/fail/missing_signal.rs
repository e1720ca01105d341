use manouche::prelude::*;

#[receiver]
fn count(quantity: &u32) {
    let _ = quantity;
}

fn main() {
    count(&1);
}
