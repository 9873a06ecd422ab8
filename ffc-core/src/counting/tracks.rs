//! The bounded table of tracks both counters keep, and what one frame did to it.

use crate::model::{PeopleId, PeopleType};
use crate::outbox::Blank;
use crate::time::UnixSeconds;

use super::geometry::Point;

/// One tracked person in one frame: the tracker's id, where they are, and who they are.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrackedObject {
    /// The tracker's id; the same person keeps it from frame to frame.
    pub id: PeopleId,
    /// Where the person is (the point that counts, such as the head or the feet).
    pub position: Point,
    /// Visitor or staff, as the tracker classifies them now.
    pub people_type: PeopleType,
}

impl TrackedObject {
    /// A visitor at `(x, y)`.
    pub const fn visitor(id: u64, x: f32, y: f32) -> Self {
        TrackedObject {
            id: PeopleId(id),
            position: Point::new(x, y),
            people_type: PeopleType::Visitor,
        }
    }
}

/// What one frame did to the track table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameReport {
    /// Events emitted.
    pub events: u32,
    /// Tracks now held.
    pub tracks: u32,
    /// Tracks that started this frame.
    pub tracks_started: u32,
    /// Tracks ended because their id was absent from this frame (or came with a non-finite
    /// position); their unfinished crossings never count. Not events: nothing counted is
    /// ever dropped.
    pub tracks_ended: u32,
    /// Objects not followed because the table was full of tracks present this frame; they
    /// are retried every frame and start fresh once there is room.
    pub untracked: u32,
    /// Objects ignored for a non-finite position (their track, if any, counts as absent).
    pub invalid: u32,
    /// Objects ignored because their id already appeared earlier in the same frame.
    pub duplicates: u32,
}

/// What the table tells its owner about a slot during a frame.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Visit<'a> {
    /// The slot's track is in the frame as this object; `true` when it starts now.
    Seen(&'a TrackedObject, bool),
    /// The slot's track is absent from the frame and is being dropped.
    Lost,
}

/// A slot of the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot<S> {
    pub(crate) active: bool,
    pub(crate) id: PeopleId,
    pub(crate) people_type: PeopleType,
    pub(crate) seen: u32,
    /// Position and time at the previous frame the track was seen (before this frame's
    /// visit updates them).
    pub(crate) last: Point,
    pub(crate) last_time: UnixSeconds,
    /// Started in the third pass of the current frame (after the sweep).
    late: bool,
    pub(crate) state: S,
}

/// Fixed-capacity track table. A frame is matched in up to three passes so that the
/// common case (the same ids as last frame, in about the same order) costs one short scan
/// per object: (1) update known tracks and start new ones in free slots; (2) drop tracks
/// absent from the frame; (3) only if (1) found the table full, start the remaining new
/// ones in the slots (2) freed.
#[derive(Debug, Clone)]
pub(crate) struct TrackTable<S, const T: usize> {
    slots: [Slot<S>; T],
    active: usize,
    frame: u32,
    cursor: usize,
    /// `follow[s]`: the slot of the object that came right after slot `s`'s object in the
    /// previous frame. Trackers list objects in a stable order, and the slot order drifts
    /// from it as tracks come and go, so this guess finds most tracks in one comparison.
    follow: [usize; T],
}

impl<S: Copy + Blank, const T: usize> TrackTable<S, T> {
    /// All zero bytes (with a zeroed `S`), so a counter in a `static` can land in `.bss`.
    pub(crate) const fn new() -> Self {
        TrackTable {
            slots: [Slot {
                active: false,
                id: PeopleId(0),
                people_type: PeopleType::Visitor,
                seen: 0,
                last: Point::new(0.0, 0.0),
                last_time: 0,
                late: false,
                state: S::BLANK,
            }; T],
            active: 0,
            frame: 0,
            cursor: 0,
            follow: [0; T],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.active
    }

    pub(crate) fn slots(&self) -> impl Iterator<Item = &Slot<S>> {
        self.slots.iter().filter(|s| s.active)
    }

    pub(crate) fn clear(&mut self) {
        for s in &mut self.slots {
            s.active = false;
        }
        self.active = 0;
    }

    /// The slot following `id`, trying `hint` first, then scanning from the last match.
    fn find(&mut self, id: PeopleId, hint: Option<usize>) -> Option<usize> {
        if let Some(h) = hint {
            if self.slots.get(h).is_some_and(|s| s.active && s.id == id) {
                return Some(h);
            }
        }
        for k in 0..T {
            let i = (self.cursor + k) % T;
            if let Some(s) = self.slots.get(i) {
                if s.active && s.id == id {
                    self.cursor = (i + 1) % T;
                    return Some(i);
                }
            }
        }
        None
    }

    fn start(
        &mut self,
        obj: &TrackedObject,
        now: UnixSeconds,
        late: bool,
        visit: &mut impl FnMut(&mut Slot<S>, Visit<'_>),
    ) -> Option<usize> {
        if self.active >= T {
            return None;
        }
        let (index, slot) = self.slots.iter_mut().enumerate().find(|(_, s)| !s.active)?;
        *slot = Slot {
            active: true,
            id: obj.id,
            people_type: obj.people_type,
            seen: self.frame,
            last: obj.position,
            last_time: now,
            late,
            state: S::BLANK,
        };
        visit(slot, Visit::Seen(obj, true));
        self.active += 1;
        Some(index)
    }

    /// Runs one frame: `visit(slot, Visit::Seen(object, is_new))` for each tracked object
    /// (before the slot's `last`/`last_time` move to this frame), `visit(slot, Visit::Lost)`
    /// for each track absent.
    pub(crate) fn frame(
        &mut self,
        now: UnixSeconds,
        objects: &[TrackedObject],
        mut visit: impl FnMut(&mut Slot<S>, Visit<'_>),
    ) -> FrameReport {
        self.frame = self.frame.wrapping_add(1);
        let mut report = FrameReport::default();
        let waiting = self.match_known(now, objects, &mut visit, &mut report);
        self.sweep(&mut visit, &mut report);
        if waiting > 0 {
            self.start_waiting(now, objects, &mut visit, &mut report);
        }
        report.tracks = self.active as u32;
        report
    }

    /// Pass 1: updates known tracks and starts new ones in free slots. Returns how many new
    /// ones found the table full.
    fn match_known(
        &mut self,
        now: UnixSeconds,
        objects: &[TrackedObject],
        visit: &mut impl FnMut(&mut Slot<S>, Visit<'_>),
        report: &mut FrameReport,
    ) -> u32 {
        let frame = self.frame;
        let mut waiting = 0u32;
        let mut previous: Option<usize> = None;
        for obj in objects {
            if !obj.position.is_finite() {
                report.invalid += 1;
                continue;
            }
            let hint = previous.and_then(|p| self.follow.get(p).copied());
            let found = self.find(obj.id, hint);
            if let (Some(p), Some(i)) = (previous, found) {
                if let Some(f) = self.follow.get_mut(p) {
                    *f = i;
                }
            }
            if found.is_some() {
                previous = found;
            }
            match found {
                Some(i) => {
                    if let Some(slot) = self.slots.get_mut(i) {
                        if slot.seen == frame {
                            report.duplicates += 1;
                            continue;
                        }
                        slot.seen = frame;
                        slot.late = false;
                        visit(slot, Visit::Seen(obj, false));
                        slot.last = obj.position;
                        slot.last_time = now;
                        slot.people_type = obj.people_type;
                    }
                }
                None => match self.start(obj, now, false, visit) {
                    Some(i) => {
                        if let Some(f) = previous.and_then(|p| self.follow.get_mut(p)) {
                            *f = i;
                        }
                        previous = Some(i);
                        report.tracks_started += 1;
                    }
                    None => waiting += 1,
                },
            }
        }
        waiting
    }

    /// Pass 2: drops the tracks absent from the frame.
    fn sweep(&mut self, visit: &mut impl FnMut(&mut Slot<S>, Visit<'_>), report: &mut FrameReport) {
        let frame = self.frame;
        for slot in &mut self.slots {
            if slot.active && slot.seen != frame {
                visit(slot, Visit::Lost);
                slot.active = false;
                self.active -= 1;
                report.tracks_ended += 1;
            }
        }
    }

    /// Pass 3 (only when pass 1 found the table full): starts the remaining new objects in
    /// the slots the sweep freed.
    fn start_waiting(
        &mut self,
        now: UnixSeconds,
        objects: &[TrackedObject],
        visit: &mut impl FnMut(&mut Slot<S>, Visit<'_>),
        report: &mut FrameReport,
    ) {
        for (i, obj) in objects.iter().enumerate() {
            if !obj.position.is_finite() {
                continue;
            }
            let earlier = |objects: &[TrackedObject]| {
                objects
                    .get(..i)
                    .unwrap_or(&[])
                    .iter()
                    .any(|o| o.id == obj.id && o.position.is_finite())
            };
            match self.find(obj.id, None) {
                // Handled in the first pass, duplicates included.
                Some(k) if self.slots.get(k).is_some_and(|s| !s.late) => {}
                Some(_) => {
                    if earlier(objects) {
                        report.duplicates += 1;
                    }
                }
                None => {
                    if earlier(objects) {
                        report.duplicates += 1;
                    } else if self.start(obj, now, true, visit).is_some() {
                        report.tracks_started += 1;
                    } else {
                        report.untracked += 1;
                    }
                }
            }
        }
    }
}
