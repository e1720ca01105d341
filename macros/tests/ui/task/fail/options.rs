use manouche::prelude::*;

// Cron expressions are checked where they are written.
#[task(cron = "0 25 * * *")]
fn at_an_hour_that_does_not_exist() {}

#[task(cron = "every night")]
fn in_words() {}

// Django's priority range.
#[task(priority = 500)]
fn urgent() {}

// Misspelt options are named.
#[task(max_retry = 3, queue = "e mails")]
fn send(order_id: i64) {}

// A periodic task has no arguments to be given, and one schedule.
#[task(every = 3600)]
fn hourly(shop_id: i64) {}

#[task(every = 60, cron = "@hourly")]
fn twice_scheduled() {}

fn main() {}
