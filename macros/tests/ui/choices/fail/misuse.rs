use manouche::prelude::*;

#[derive(Choices, Clone, Copy)]
pub struct NotAnEnum;

#[derive(Choices, Clone, Copy)]
pub enum Status {
    Draft,
    #[choice(value = "draft")]
    Old,
    Live(u8),
    #[choice(colour = "red")]
    Gone,
}

fn main() {}
