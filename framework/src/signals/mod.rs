//! Signals: typed, synchronous notifications, as Django's `django.dispatch`.
//!
//! A [`Signal<T>`] is a `static`; receivers are connected at run time with [`Signal::connect`] or
//! at compile time with `#[receiver(SIGNAL)]`, which needs no central list:
//!
//! ```
//! use manouche::prelude::*;
//! use manouche::signals::Signal;
//!
//! #[derive(Debug)]
//! pub struct OrderPlaced { pub number: u64 }
//! pub static ORDER_PLACED: Signal<OrderPlaced> = Signal::new("shop.order_placed");
//!
//! #[receiver(ORDER_PLACED)]
//! fn email_customer(order: &OrderPlaced) {
//!     println!("order {} placed", order.number);
//! }
//!
//! assert_eq!(ORDER_PLACED.send(&OrderPlaced { number: 7 }), 1);
//! ```
//!
//! Receivers run in the sender's thread, in order: compile-time receivers first (sorted by source
//! file and line), then run-time ones in the order they were connected.

mod builtin;
mod signal;

pub use self::builtin::{
    GOT_REQUEST_EXCEPTION, GotRequestException, REQUEST_FINISHED, REQUEST_STARTED, RequestFinished, RequestStarted,
};
#[doc(hidden)]
pub use self::signal::ReceiverEntry;
pub use self::signal::{ReceiverId, Signal};
