use std::time::Duration;

use manouche::prelude::*;
use manouche::tasks::{TaskError, TaskOptions, TaskResult, TasksError};

/// A sync task with a result.
#[task(queue = "emails", priority = -10, max_retries = 3, retry_backoff = 2, retry_backoff_max = 60 * 10, retry_jitter = false, time_limit = 1.5)]
pub fn send_receipt(order_id: i64, to: String) -> Result<String, TaskError> {
    Ok(format!("{order_id} to {to}"))
}

/// An async task with the context.
#[task(name = "shop.refresh")]
async fn refresh(ctx: TaskContext, ids: Vec<i64>) -> manouche::Result<usize> {
    let _ = ctx.db();
    Ok(ids.len())
}

/// Periodic ones.
#[task(cron = "*/15 9-17 * jan-jun mon-fri")]
fn quarter_hourly() {}

#[task(every = 3600)]
async fn hourly(ctx: TaskContext) {
    let _ = ctx.attempt();
}

async fn view_code() -> Result<(), TasksError> {
    let result: TaskResult<String> = send_receipt.enqueue(7, "ada@example.com".into()).await?;
    let _: Option<String> = result.return_value();
    let later = send_receipt.using(TaskOptions::new().run_after(Duration::from_secs(60)));
    let _ = later.enqueue_sync(8, "grace@example.com".into())?;
    let _: String = refresh.enqueue_on_commit(vec![1, 2])?;
    let _: TaskResult<usize> = refresh.get_result("id")?;
    let _: TaskResult<()> = quarter_hourly.enqueue().await?;
    Ok(())
}

fn main() {
    let _ = view_code;
    assert_eq!(send_receipt.call(1, "x".into()).unwrap(), "1 to x");
    assert_eq!(send_receipt::SPEC.queue, "emails");
    assert_eq!(refresh::SPEC.name, "shop.refresh");
    assert!(quarter_hourly::SPEC.schedule.is_some());
}
