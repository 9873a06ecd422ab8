//! Area counting: In after a dwell inside a polygon, Out on leaving; occupancy per area.

use crate::model::{
    CameraSerial, CountEvent, Metric, OccupancySample, PeopleId, PeopleType, RoiId, Source,
};
use crate::outbox::Blank;
use crate::time::{UnixSeconds, Zone};

use super::geometry::Polygon;
use super::tracks::{FrameReport, TrackTable, TrackedObject, Visit};

/// How an [`OccupancySample`] states occupancy (`ObjectCountUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OccupancyUnit {
    /// Unit 1, as in FootfallCam's published MQTT sample: `ObjectCount` 1 = occupied,
    /// 0 = none.
    #[default]
    Occupied,
    /// `ObjectCount` is the number of people. The vendor does not publish this unit's code;
    /// ffc sends 2 (DECISION).
    People,
}

impl OccupancyUnit {
    /// The `ObjectCountUnit` code.
    pub const fn code(self) -> u8 {
        match self {
            OccupancyUnit::Occupied => 1,
            OccupancyUnit::People => 2,
        }
    }
}

/// An area: a polygon, its ROI id, and how long a person must stay to count.
///
/// Built with [`CountingArea::new`] and the `with_*` setters (const, so firmware can keep
/// its areas in a `static`), like every configuration in ffc.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CountingArea<const V: usize> {
    /// The ROI id events and samples carry.
    pub roi: RoiId,
    /// The area.
    pub polygon: Polygon<V>,
    /// Seconds a person must have been inside (at least) before they count In.
    pub dwell: u32,
}

impl<const V: usize> CountingArea<V> {
    /// The area `polygon` with ROI id `roi`, counting on entry (no dwell).
    pub const fn new(roi: RoiId, polygon: Polygon<V>) -> Self {
        CountingArea {
            roi,
            polygon,
            dwell: 0,
        }
    }

    /// Sets the ROI id events and samples carry.
    pub const fn with_roi(mut self, roi: RoiId) -> Self {
        self.roi = roi;
        self
    }

    /// Sets the polygon.
    pub const fn with_polygon(mut self, polygon: Polygon<V>) -> Self {
        self.polygon = polygon;
        self
    }

    /// Sets the seconds a person must have been inside before they count In.
    pub const fn with_dwell(mut self, dwell: u32) -> Self {
        self.dwell = dwell;
        self
    }
}

#[derive(Debug, Clone, Copy)]
struct AreaState {
    inside: bool,
    counted: bool,
    since: UnixSeconds,
}

#[derive(Debug, Clone, Copy)]
struct Areas<const A: usize>([AreaState; A]);

impl AreaState {
    const BLANK: AreaState = AreaState {
        inside: false,
        counted: false,
        since: 0,
    };
}

impl<const A: usize> Blank for Areas<A> {
    const BLANK: Self = Areas([AreaState::BLANK; A]);
}

/// Counts people staying in up to `A` polygon areas (each with at most `V` vertices),
/// following at most `T` tracks at once (the same track table and bound as
/// [`LineCounter`](super::LineCounter)).
///
/// A person counts In once they have been inside an area for at least its dwell
/// (`start` = when they entered, `end` = when the dwell was reached), and Out when they
/// leave it after counting In (`start` = when they entered, `end` = the first frame seen
/// outside, so `end − start` is the visit). A track lost while counted inside emits its Out
/// at the last instant it was seen, so In − Out always equals the occupancy. Occupancy is
/// the number of people counted In and not yet Out: people inside for less than the dwell
/// do not occupy the area (passers-by do not light up a zone).
///
/// ```
/// use ffc_core::counting::{AreaCounter, CountingArea, OccupancyUnit, Point, Polygon, TrackedObject};
/// use ffc_core::{CameraSerial, Metric, RoiId, Zone};
///
/// let desk = Polygon::new(&[Point::new(0.0, 0.0), Point::new(10.0, 0.0), Point::new(10.0, 10.0), Point::new(0.0, 10.0)])?;
/// let area = CountingArea::new(RoiId(3), desk).with_dwell(5);
/// let mut counter: AreaCounter<1, 16, 4> = AreaCounter::new(CameraSerial::from_u64(7), Zone::UTC, [area]);
/// let mut events = Vec::new();
/// for t in 0..=6 {
///     counter.update(100 + t, &[TrackedObject::visitor(1, 5.0, 5.0)], |e| events.push(e));
/// }
/// assert_eq!(events.len(), 1);
/// assert_eq!((events[0].metric, events[0].start, events[0].end), (Metric::In, 100, 105));
/// assert_eq!(counter.occupancy(0), Some(1));
/// assert_eq!(counter.sample(0, 106, OccupancyUnit::Occupied).map(|s| s.object_count), Some(1));
/// counter.update(107, &[TrackedObject::visitor(1, 50.0, 5.0)], |e| events.push(e));
/// assert_eq!((events[1].metric, events[1].start, events[1].end), (Metric::Out, 100, 107));
/// assert_eq!(counter.occupancy(0), Some(0));
/// # Ok::<(), ffc_core::counting::GeometryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AreaCounter<const A: usize, const T: usize, const V: usize = 8> {
    serial: CameraSerial,
    zone: Zone,
    areas: [CountingArea<V>; A],
    occupancy: [u32; A],
    tracks: TrackTable<Areas<A>, T>,
}

fn event(
    serial: CameraSerial,
    zone: &Zone,
    roi: RoiId,
    metric: Metric,
    people: (PeopleId, PeopleType),
    start: UnixSeconds,
    end: UnixSeconds,
) -> CountEvent {
    CountEvent {
        serial,
        roi,
        metric,
        people_type: people.1,
        people_id: people.0,
        // A clock that stepped back must not give start > end.
        start: start.min(end),
        end,
        offset: zone.offset_at(end),
        uuid: None,
        source: Source::Counting,
    }
}

impl<const A: usize, const T: usize, const V: usize> AreaCounter<A, T, V> {
    /// A counter for `areas` on the counter `serial`, whose events carry the UTC offset of
    /// `zone` at their end.
    pub const fn new(serial: CameraSerial, zone: Zone, areas: [CountingArea<V>; A]) -> Self {
        AreaCounter {
            serial,
            zone,
            areas,
            occupancy: [0; A],
            tracks: TrackTable::new(),
        }
    }

    /// The areas.
    pub fn areas(&self) -> &[CountingArea<V>; A] {
        &self.areas
    }

    /// Tracks followed now.
    pub fn tracks(&self) -> usize {
        self.tracks.len()
    }

    /// People counted In and not yet Out in area number `index` (order of
    /// [`areas`](Self::areas)).
    pub fn occupancy(&self, index: usize) -> Option<u32> {
        self.occupancy.get(index).copied()
    }

    /// Occupancy of the area with ROI id `roi` (the first, if several share it).
    pub fn occupancy_of(&self, roi: RoiId) -> Option<u32> {
        let index = self.areas.iter().position(|a| a.roi == roi)?;
        self.occupancy(index)
    }

    /// The MQTT occupancy sample of area number `index` at `now`: `CombineObjectTypeId` 1
    /// and `OccupancyTypeId` 1 as in the published sample, `ObjectCount` per `unit`.
    pub fn sample(
        &self,
        index: usize,
        now: UnixSeconds,
        unit: OccupancyUnit,
    ) -> Option<OccupancySample> {
        let area = self.areas.get(index)?;
        let people = self.occupancy(index)?;
        Some(OccupancySample {
            serial: self.serial,
            roi: area.roi,
            object_type: 1,
            object_count: match unit {
                OccupancyUnit::Occupied => u32::from(people > 0),
                OccupancyUnit::People => people,
            },
            timestamp: now,
            offset: self.zone.offset_at(now),
            occupancy_type: 1,
            unit: unit.code(),
        })
    }

    /// One sample per area, in order.
    pub fn samples(
        &self,
        now: UnixSeconds,
        unit: OccupancyUnit,
    ) -> impl Iterator<Item = OccupancySample> + '_ {
        (0..A).filter_map(move |i| self.sample(i, now, unit))
    }

    /// Processes one frame at `now`, calling `emit` for every In and Out it completes.
    pub fn update(
        &mut self,
        now: UnixSeconds,
        objects: &[TrackedObject],
        mut emit: impl FnMut(CountEvent),
    ) -> FrameReport {
        let areas = &self.areas;
        let occupancy = &mut self.occupancy;
        let serial = self.serial;
        let zone = &self.zone;
        let mut events = 0u32;
        let mut report = self.tracks.frame(now, objects, |slot, visit| {
            let (inside_at, end, people) = match visit {
                Visit::Seen(obj, _) => (Some(obj.position), now, (obj.id, obj.people_type)),
                // Lost: every counted area gets its Out at the last instant seen.
                Visit::Lost => (None, slot.last_time, (slot.id, slot.people_type)),
            };
            for ((area, state), occupied) in areas
                .iter()
                .zip(slot.state.0.iter_mut())
                .zip(occupancy.iter_mut())
            {
                if inside_at.is_some_and(|p| area.polygon.contains(p)) {
                    if !state.inside {
                        state.inside = true;
                        state.since = now;
                    }
                    if !state.counted && now.saturating_sub(state.since) >= i64::from(area.dwell) {
                        state.counted = true;
                        *occupied += 1;
                        events += 1;
                        emit(event(
                            serial,
                            zone,
                            area.roi,
                            Metric::In,
                            people,
                            state.since,
                            now,
                        ));
                    }
                } else {
                    if state.counted {
                        *occupied = occupied.saturating_sub(1);
                        events += 1;
                        emit(event(
                            serial,
                            zone,
                            area.roi,
                            Metric::Out,
                            people,
                            state.since,
                            end,
                        ));
                    }
                    *state = AreaState::BLANK;
                }
            }
        });
        report.events = events;
        report
    }
}
