//! Messages that authenticated but did not decode: the [`DeadLetter`] record and the
//! [`DeadLetterSink`] trait every dead-letter store implements.

use std::sync::Arc;

use async_trait::async_trait;
use ffc_core::UnixSeconds;

use super::SinkError;

/// A message that authenticated but could not be used, kept with its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    /// When it arrived (UTC unix seconds).
    pub received_at: UnixSeconds,
    /// Where it came from, e.g. `ws 127.0.0.1:50412 /ingest` or an MQTT topic. Never holds
    /// credentials.
    pub origin: String,
    /// Why it was not used (a decode error naming the field or byte offset, a binary frame).
    pub reason: String,
    /// The message exactly as received (base64 in the JSON-lines file).
    #[serde(with = "raw_base64")]
    pub raw: Vec<u8>,
}

mod raw_base64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(raw: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(raw))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Keeps dead letters.
#[async_trait]
pub trait DeadLetterSink: Send + Sync {
    /// Keeps `letter`; returns once it is kept as well as this sink keeps anything.
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError>;
}

#[async_trait]
impl<S: DeadLetterSink + ?Sized> DeadLetterSink for Arc<S> {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        (**self).dead_letter(letter).await
    }
}
