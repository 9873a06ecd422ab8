//! WebSocket push (spec/interfaces.md §4): the counter is the client, the receiver answers
//! each message with `OK`.
//!
//! - [`codec`] (feature `alloc`): payloads to [`ffc_core::CountEvent`] and back.
//! - `server` (feature `ws`): the receiver ([`Receiver`], [`ReceiverConfig`]), which owns
//!   its run loop and drains on shutdown.
//! - `sender` (feature `ws`): the counter side, over ffc-core's outbox.

pub mod codec;
#[cfg(feature = "ws")]
pub mod sender;
#[cfg(feature = "ws")]
pub mod server;
#[cfg(feature = "ws")]
pub use server::{Receiver, ReceiverConfig, ReceiverHandle};
