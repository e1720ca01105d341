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

#[derive(Choices, Clone, Copy)]
#[choices(bogus)]
pub enum Level {
    Low,
    #[choice(value = "high")]
    High,
}

fn main() {}
