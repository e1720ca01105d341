use manouche::prelude::*;

// Arguments travel as JSON: owned values only.
#[task]
fn greet(name: &str) {}

// A worker must know the types to decode the arguments.
#[task]
fn generic<T: serde::Serialize>(value: T) {}

// The context comes first.
#[task]
fn late_context(order_id: i64, ctx: TaskContext) {}

// Arguments are named.
#[task]
fn destructured((a, b): (i64, i64)) {}

fn main() {}
