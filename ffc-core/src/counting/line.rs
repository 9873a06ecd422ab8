//! Line counting with a band: In/Out once per passage, U-turns and jitter excluded.

use crate::model::{CameraSerial, CountEvent, Metric, PeopleId, Source};
use crate::outbox::Blank;
use crate::time::{UnixSeconds, Zone};

use super::geometry::{CountingLine, Place, Point, Side};
use super::tracks::{FrameReport, TrackTable, TrackedObject, Visit};

/// What one track knows about one line.
#[derive(Debug, Clone, Copy)]
struct LineState {
    /// The zone the track was last in: -1 negative, +1 positive, 0 unknown (never seen in a
    /// zone, or went around the line's end since).
    side: i8,
    /// In the band since `entered`, having come from `side`.
    in_band: bool,
    entered: UnixSeconds,
}

/// Per-track state: one [`LineState`] per line.
#[derive(Debug, Clone, Copy)]
struct Lines<const L: usize>([LineState; L]);

impl<const L: usize> Blank for Lines<L> {
    const BLANK: Self = Lines([LineState::BLANK; L]);
}

impl LineState {
    const BLANK: LineState = LineState {
        side: 0,
        in_band: false,
        entered: 0,
    };

    /// The state of a track first seen at `place` at `now`.
    fn first_seen(place: Place, now: UnixSeconds) -> LineState {
        let mut state = LineState::BLANK;
        if let Place::Zone(side) = place {
            state.side = side_sign(side);
        }
        // First seen in the band: origin unknown, so `side` stays 0.
        state.in_band = place == Place::Band;
        state.entered = now;
        state
    }

    /// Moves the track to `place` (from `last`, seen at `last_time`, to `position` at `now`).
    /// Returns the side it reached (-1 or +1) and the instant its passage started when the
    /// move completes a crossing; counts a U-turn in `total`.
    fn advance(
        &mut self,
        line: &CountingLine,
        place: Place,
        (last, last_time): (Point, UnixSeconds),
        position: Point,
        now: UnixSeconds,
        total: &mut LineTotals,
    ) -> Option<(i8, UnixSeconds)> {
        match place {
            Place::Zone(side) => {
                let to = side_sign(side);
                let from = self.side;
                let start = if self.in_band {
                    if from != 0 && from == to {
                        total.u_turns += 1;
                    }
                    Some(self.entered)
                } else if line.move_crosses(last, position) {
                    Some(last_time)
                } else {
                    None
                };
                self.in_band = false;
                self.side = to;
                match start {
                    Some(start) if from != 0 && from != to => Some((to, start)),
                    _ => None,
                }
            }
            Place::Band => {
                if !self.in_band {
                    self.in_band = true;
                    self.entered = now;
                }
                None
            }
            Place::Beside => {
                self.in_band = false;
                self.side = 0;
                None
            }
        }
    }
}

const fn side_sign(side: Side) -> i8 {
    match side {
        Side::Negative => -1,
        Side::Positive => 1,
    }
}

/// In and Out totals of one line since the counter was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct LineTotals {
    /// Crossings from the negative to the positive side.
    pub count_in: u64,
    /// Crossings from the positive to the negative side.
    pub count_out: u64,
    /// Tracks that entered the band from a zone and went back to it.
    pub u_turns: u64,
}

impl LineTotals {
    /// All zero.
    pub const ZERO: LineTotals = LineTotals {
        count_in: 0,
        count_out: 0,
        u_turns: 0,
    };
}

/// Counts people crossing up to `L` lines, following at most `T` tracks at once.
///
/// Feed it every frame: the instant and *every* object the tracker still holds (coasting
/// ones included). A track whose id is missing from a frame is dropped at once, and
/// whatever it had not finished never counts; a reappearing id starts afresh.
///
/// Per line, a track counts once per passage: from the zone on one side, through the band
/// (any number of frames, any movement inside it), to the zone on the other side. The
/// event's `start` is the instant it entered the band and `end` the instant it reached the
/// other zone. Not counted:
/// - movement inside the band, however large (jitter on the line);
/// - a U-turn: entering the band and returning to the zone it came from;
/// - a track lost while in the band, or first seen in it (its origin is unknown);
/// - going around an end of the segment (through [`Place::Beside`]).
///
/// A track that jumps over the whole band between two frames counts when the straight move
/// passes through the segment; its `start` is the previous frame's instant.
///
/// **At the bound:** tracks already followed are never evicted. A new id that finds all
/// `T` slots taken by tracks present in the same frame is not followed
/// ([`FrameReport::untracked`]); it is retried every frame and starts fresh once a slot is
/// free, so it only counts if it then makes a whole passage.
///
/// ```
/// use ffc_core::counting::{CountingLine, LineCounter, Point, TrackedObject};
/// use ffc_core::{CameraSerial, Metric, RoiId, Zone};
///
/// let door = CountingLine::new(RoiId(1), Point::new(0.0, 100.0), Point::new(200.0, 100.0), 10.0)?;
/// let mut counter: LineCounter<1, 64> = LineCounter::new(CameraSerial::from_u64(7), Zone::UTC, [door]);
/// let mut events = Vec::new();
/// for (t, y) in [(0, 80.0), (1, 95.0), (2, 105.0), (3, 98.0), (4, 108.0), (5, 120.0)] {
///     counter.update(1_700_000_000 + t, &[TrackedObject::visitor(1, 50.0, y)], |e| events.push(e));
/// }
/// assert_eq!(events.len(), 1); // one In, despite crossing y = 100 three times
/// assert_eq!(events[0].metric, Metric::In);
/// assert_eq!((events[0].start, events[0].end), (1_700_000_001, 1_700_000_005));
/// # Ok::<(), ffc_core::counting::GeometryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LineCounter<const L: usize, const T: usize> {
    serial: CameraSerial,
    zone: Zone,
    lines: [CountingLine; L],
    totals: [LineTotals; L],
    tracks: TrackTable<Lines<L>, T>,
}

impl<const L: usize, const T: usize> LineCounter<L, T> {
    /// A counter for `lines` on the counter `serial`, whose events carry the UTC offset of
    /// `zone` at their end.
    pub const fn new(serial: CameraSerial, zone: Zone, lines: [CountingLine; L]) -> Self {
        LineCounter {
            serial,
            zone,
            lines,
            totals: [LineTotals::ZERO; L],
            tracks: TrackTable::new(),
        }
    }

    /// The lines.
    pub fn lines(&self) -> &[CountingLine; L] {
        &self.lines
    }

    /// Totals per line, in the order of [`lines`](Self::lines).
    pub fn totals(&self) -> &[LineTotals; L] {
        &self.totals
    }

    /// Tracks followed now.
    pub fn tracks(&self) -> usize {
        self.tracks.len()
    }

    /// The ids followed now.
    pub fn track_ids(&self) -> impl Iterator<Item = PeopleId> + '_ {
        self.tracks.slots().map(|s| s.id)
    }

    /// Forgets every track (say, after the camera moved); nothing unfinished counts.
    pub fn reset_tracks(&mut self) {
        self.tracks.clear();
    }

    /// Processes one frame at `now`, calling `emit` for every crossing completed in it (in
    /// the order of `objects`, and of the lines for one object).
    pub fn update(
        &mut self,
        now: UnixSeconds,
        objects: &[TrackedObject],
        mut emit: impl FnMut(CountEvent),
    ) -> FrameReport {
        let lines = &self.lines;
        let totals = &mut self.totals;
        let serial = self.serial;
        let zone = &self.zone;
        let mut events = 0u32;
        let mut report = self.tracks.frame(now, objects, |slot, visit| {
            let Visit::Seen(obj, is_new) = visit else {
                return;
            };
            for ((line, state), total) in lines
                .iter()
                .zip(slot.state.0.iter_mut())
                .zip(totals.iter_mut())
            {
                let place = line.place(obj.position);
                if is_new {
                    *state = LineState::first_seen(place, now);
                    continue;
                }
                let from = (slot.last, slot.last_time);
                let crossed = state.advance(line, place, from, obj.position, now, total);
                if let Some((to, start)) = crossed {
                    let metric = if to > 0 { Metric::In } else { Metric::Out };
                    match metric {
                        Metric::In => total.count_in += 1,
                        Metric::Out => total.count_out += 1,
                    }
                    events += 1;
                    emit(CountEvent {
                        serial,
                        roi: line.roi(),
                        metric,
                        people_type: obj.people_type,
                        people_id: obj.id,
                        // A clock that stepped back must not give start > end.
                        start: start.min(now),
                        end: now,
                        offset: zone.offset_at(now),
                        uuid: None,
                        source: Source::Counting,
                    });
                }
            }
        });
        report.events = events;
        report
    }
}
