//! The shop's background tasks: the order confirmation e-mail, sent once the checkout's
//! transaction commits, and the nightly clean-up of orders never paid.

use diesel::ExpressionMethods;
use manouche::db::{Decimal, Model as _};
use manouche::mail::EmailMessage;
use manouche::prelude::*;
use manouche::tasks::TaskError;

use super::models::{Order, OrderItem, OrderItemOrderReverse as _, OrderStatus, Product};

/// E-mails the customer the confirmation of order `order_id`. Retried with backoff when the
/// mail relay is down; an order that no longer exists fails at once. Idempotent enough: at
/// worst a customer receives the confirmation twice, never an order twice.
#[task(queue = "emails", max_retries = 5, retry_backoff = 10, retry_backoff_max = 600, time_limit = 60)]
pub fn send_order_confirmation(ctx: TaskContext, order_id: i64) -> Result<String, TaskError> {
    let found = ctx
        .db()
        .run_sync(|conn| {
            let Some(order) = Order::objects().filter(Order::id.eq(order_id)).first_sync(conn)? else {
                return Ok(None);
            };
            let customer = order.customer.fetch_sync(conn)?;
            let mut lines = Vec::new();
            for item in order.items().select_related(OrderItem::product).all_sync(conn)? {
                let product = item.product.fetch_sync(conn)?;
                lines.push((product.name.clone(), item.quantity, item.unit_price));
            }
            Ok(Some((order, customer.email.clone(), lines)))
        })
        .map_err(TaskError::new)?;
    let Some((order, email, lines)) = found else {
        return Err(TaskError::permanent(format!("order {order_id} no longer exists")));
    };
    let mut body = format!("Thank you for your order {}.\n\n", order.reference);
    let mut total = Decimal::from(0i64);
    for (name, quantity, price) in &lines {
        let line = *price * Decimal::from(i64::from(*quantity));
        total += line;
        body.push_str(&format!("{quantity} × {name}: {}\n", line.with_places(2)));
    }
    body.push_str(&format!(
        "\nTotal: {}\nIt goes to {}, {} {}.\n",
        total.with_places(2),
        order.ship_to,
        order.postcode,
        order.city
    ));
    let subject = format!("Your order {}", order.reference);
    manouche::mail::send(&ctx.settings(), EmailMessage::new(subject, body, vec![email.clone()]))
        .map_err(TaskError::new)?;
    Ok(email)
}

/// Every night at 03:00 UTC: orders still pending a day after they were placed are cancelled
/// and their tins go back on the shelf, all in one transaction (an order paid meanwhile is left
/// alone: the status is checked again as it changes). Returns how many were cancelled.
#[task(cron = "0 3 * * *")]
pub fn cancel_unpaid_orders(ctx: TaskContext) -> Result<usize, manouche::Error> {
    let cutoff = manouche::db::now() - manouche::chrono::Duration::days(1);
    Ok(ctx.db().atomic_sync(|conn| {
        let stale = Order::objects()
            .filter(Order::status.eq(OrderStatus::Pending))
            .filter(Order::placed_at.lt(cutoff))
            .all_sync(conn)?;
        let mut cancelled = 0;
        for order in stale {
            let changed = Order::objects()
                .filter(Order::id.eq(order.id))
                .filter(Order::status.eq(OrderStatus::Pending))
                .update_sync(conn, Order::status.eq(OrderStatus::Cancelled))?;
            if changed == 0 {
                continue;
            }
            for item in order.items().all_sync(conn)? {
                Product::objects()
                    .filter(Product::id.eq(*item.product.id()))
                    .update_sync(conn, Product::stock.eq(Product::stock + item.quantity))?;
            }
            cancelled += 1;
        }
        Ok(cancelled)
    })?)
}
