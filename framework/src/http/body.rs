//! Reading a request body into memory, bounded: one implementation for the form extractor, the
//! CSRF middleware and rate limits keyed by a form field.

use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use futures_core::Stream as _;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the bound: nothing more is read.
    TooLarge,
    /// The upload broke off.
    Broken(String),
}

/// The whole body of `payload`, refusing more than `max` bytes before holding them.
pub(crate) async fn read_bounded(mut payload: Payload, max: usize) -> Result<Bytes, BodyError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
        let chunk = chunk.map_err(|e| BodyError::Broken(e.to_string()))?;
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
