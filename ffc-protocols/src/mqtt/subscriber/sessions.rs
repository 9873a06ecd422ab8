//! The session records of the MQTT path (see [`crate::sink::session`]): `connect` on a
//! counter's first message on a subscriber connection, `occupancy` for its occupancy
//! messages (at most one a minute), `disconnect` for every counter heard when the
//! subscriber's broker connection ends.

use std::collections::HashSet;

use ffc_core::CameraSerial;

use crate::sink::{Clock, EventSink, SessionKind, SessionRecord, SessionSource, SessionThrottle};

/// The counters heard on the current broker connection.
#[derive(Debug, Default)]
pub(super) struct Heard {
    counters: HashSet<CameraSerial>,
    throttle: SessionThrottle,
    clock: Clock,
}

impl Heard {
    /// Counters remembered per connection at most.
    const MAX: usize = 100_000;

    pub(super) fn new(clock: Clock) -> Self {
        Heard {
            clock,
            ..Heard::default()
        }
    }

    /// The time now, by the configured clock.
    pub(super) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A message of `serial` arrived (an occupancy message when `occupancy`).
    pub(super) async fn message(
        &mut self,
        sink: &dyn EventSink,
        serial: CameraSerial,
        occupancy: bool,
    ) {
        let at = self.clock.now();
        if self.counters.len() < Self::MAX && self.counters.insert(serial) {
            record(sink, serial, SessionKind::Connect, at).await;
        }
        if occupancy {
            let session = session(serial, SessionKind::Occupancy, at);
            if self.throttle.admit(&session) {
                record(sink, serial, SessionKind::Occupancy, at).await;
            }
        }
    }

    /// The broker connection ended: a `disconnect` for every counter heard on it.
    pub(super) async fn ended(&mut self, sink: Option<&dyn EventSink>) {
        let at = self.clock.now();
        for serial in std::mem::take(&mut self.counters) {
            if let Some(sink) = sink {
                record(sink, serial, SessionKind::Disconnect, at).await;
            }
        }
    }
}

fn session(counter: CameraSerial, kind: SessionKind, at_utc: i64) -> SessionRecord {
    SessionRecord {
        counter,
        source: SessionSource::Mqtt,
        kind,
        at: at_utc,
    }
}

/// Keeps one record; a failure is logged, never fatal.
async fn record(sink: &dyn EventSink, counter: CameraSerial, kind: SessionKind, at: i64) {
    let session = session(counter, kind, at);
    if let Err(e) = sink.session(&session).await {
        tracing::warn!(error = %e, ?session, "session record not kept");
    }
}
