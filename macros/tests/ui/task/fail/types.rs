use manouche::prelude::*;

struct Teapot;

// A value that does not serialise cannot be a task's argument, nor its result.
#[task]
fn brew(pot: Teapot) {}

#[task]
fn make() -> Teapot {
    Teapot
}

fn main() {
    // The arguments are typed: `enqueue` takes what the function takes.
    let _ = add.enqueue_sync("two", 2);
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}
