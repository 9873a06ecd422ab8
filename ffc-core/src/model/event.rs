//! [`CountEvent`]'s constructors and its equality by [`EventKey`](super::EventKey).

use super::{
    CameraSerial, CountEvent, EventKey, MessageId, Metric, PeopleId, PeopleType, RoiId, Source,
};
use crate::time::{UnixSeconds, UtcOffset};

impl PartialEq for CountEvent {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for CountEvent {}

impl core::hash::Hash for CountEvent {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl CountEvent {
    /// All zeros: serial 0, roi 0, In, visitor, people id 0, at 0, UTC, no UUID, source
    /// unknown. What an empty [`Outbox`](crate::Outbox) slot holds; every byte is zero, so a
    /// `static` outbox of events lands in `.bss`.
    pub const EMPTY: CountEvent = CountEvent {
        serial: CameraSerial::from_u64(0),
        roi: RoiId(0),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(0),
        start: 0,
        end: 0,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::Unknown,
    };

    /// A visitor's crossing of `roi` on `serial` at `at` (UTC unix seconds; start and end
    /// both `at`), with offset UTC, no UUID and source [`Source::Unknown`]; adjust with the
    /// `with_*` methods.
    pub const fn new(
        serial: CameraSerial,
        roi: RoiId,
        metric: Metric,
        people_id: PeopleId,
        at: UnixSeconds,
    ) -> Self {
        CountEvent {
            serial,
            roi,
            metric,
            people_type: PeopleType::Visitor,
            people_id,
            start: at,
            end: at,
            offset: UtcOffset::UTC,
            uuid: None,
            source: Source::Unknown,
        }
    }

    /// With this people type.
    pub const fn with_people_type(mut self, people_type: PeopleType) -> Self {
        self.people_type = people_type;
        self
    }

    /// With the instant the person entered the band (`end` stays).
    pub const fn with_start(mut self, start: UnixSeconds) -> Self {
        self.start = start;
        self
    }

    /// With the counter's UTC offset at the event.
    pub const fn with_offset(mut self, offset: UtcOffset) -> Self {
        self.offset = offset;
        self
    }

    /// With the message UUID (which then is the event's key).
    pub const fn with_uuid(mut self, uuid: MessageId) -> Self {
        self.uuid = Some(uuid);
        self
    }

    /// With the path that delivered it.
    pub const fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }
}

impl CountEvent {
    /// The key every sink deduplicates on.
    pub fn key(&self) -> EventKey {
        match self.uuid {
            Some(id) => EventKey::Uuid(id),
            None => EventKey::Fields {
                serial: self.serial,
                roi: self.roi,
                metric: self.metric,
                people_id: self.people_id,
                start: self.start,
                end: self.end,
            },
        }
    }
}
