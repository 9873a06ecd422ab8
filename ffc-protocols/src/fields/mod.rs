//! The JSON payload machinery the WebSocket and MQTT codecs share: both carry FootfallCam's
//! flat counting-event fields (`CameraSerial`, `MetricId`, `EventEndTime`…), so the fields,
//! their checks, the counting event built from them and the error type live here once; each
//! codec keeps only what its protocol adds (the WebSocket envelope and Python-literal form,
//! MQTT's comments and occupancy samples).
//!
//! A field is read as a [`Scalar`] whatever its JSON type, so a wrong type becomes a
//! [`FieldProblem`] naming the field instead of a serde message. The JSON is read by one
//! scanner (`scan`) straight into [`Fields`], with serde_json's grammar and error places.

mod error;
mod event;
mod payload;
mod scan;

#[cfg(all(test, feature = "std"))]
mod properties;
#[cfg(all(test, feature = "std"))]
pub(crate) mod reference;

pub use error::{EncodeError, FieldProblem, PayloadError, SyntaxKind};
pub(crate) use event::{
    count_event, counter_serial, pair_offset, wall_clocks, PairNames, ENVELOPE_NAMES, FLAT_NAMES,
};
pub(crate) use payload::{
    expect_object, instant, parse_fields, required, small, utf8, DataKind, Fields, Payload, Scalar,
};
