//! The fixed scenario of the ffc firmware example, in one `no_std` crate so the firmware
//! (on a Cortex-M4) and the host run exactly the same code.
//!
//! 24 people at a time walk across a shop door for 14,400 one-second frames (four hours):
//! each comes from the street or the shop side, some turn back in the counting band (a
//! U-turn), some are staff, and now and then the tracker misses someone for a frame (their
//! track ends and starts afresh). [`ffc_core::LineCounter`] counts them and every event goes
//! into an [`EventOutbox`] of the counters' capacity, 10,000 events, as a counter keeps them
//! while its server is away. [`Summary`] prints `in=<n> out=<n> uturns=<n> checksum=<hex>`,
//! the checksum being FNV-1a over every event held, oldest first.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt;

use ffc_core::{
    CameraSerial, CountEvent, CountingLine, GeometryError, LineCounter, Outbox, PeopleId,
    PeopleType, Point, RoiId, SplitMix64, TrackedObject, UtcOffset, Zone,
};

/// The counters' push queue capacity: 10,000 events.
pub const CAPACITY: usize = 10_000;

/// The outbox the scenario fills: 10,000 events, all zero bytes when new (a `static` one
/// lands in `.bss`).
pub type EventOutbox = Outbox<CountEvent, CAPACITY>;

/// Frames, one a second.
pub const FRAMES: i64 = 14_400;
/// People in view at once.
pub const WALKERS: usize = 24;
/// The first frame's instant (UTC unix seconds).
pub const START: i64 = 1_700_000_000;
const SEED: u64 = 0x00ff_c0de_2026;

/// The outcome of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Crossings into the shop.
    pub count_in: u64,
    /// Crossings out of the shop.
    pub count_out: u64,
    /// People who entered the band and went back.
    pub u_turns: u64,
    /// Events the outbox holds (all of them, unless it overflowed).
    pub held: usize,
    /// Pushes refused because the outbox was full or turned off.
    pub refused: u32,
    /// FNV-1a (64-bit) over the held events, oldest first.
    pub checksum: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in={} out={} uturns={} checksum={:016x}",
            self.count_in, self.count_out, self.u_turns, self.checksum
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Walker {
    id: u64,
    x: f32,
    y: f32,
    vy: f32,
    /// Turns back on reaching the band (once).
    turns: bool,
    staff: bool,
}

impl Walker {
    fn spawn(id: u64, rng: &mut SplitMix64) -> Walker {
        let from_street = rng.below(2) == 0;
        let speed = (2 + rng.below(7)) as f32;
        Walker {
            id,
            x: (20 + rng.below(360)) as f32,
            y: if from_street { 5.0 } else { 195.0 },
            vy: if from_street { speed } else { -speed },
            turns: rng.below(5) == 0,
            staff: rng.below(10) == 0,
        }
    }

    /// One frame of walking; `false` once out of view.
    fn step(&mut self) -> bool {
        self.y += self.vy;
        if self.turns && (self.y - 100.0).abs() < 4.0 {
            self.vy = -self.vy;
            self.turns = false;
        }
        (0.0..=200.0).contains(&self.y)
    }
}

/// Runs the scenario, pushing every event into `outbox` (which should start empty).
pub fn run(outbox: &mut EventOutbox) -> Result<Summary, GeometryError> {
    // The door: y = 100 from x = 0 to 400, a band 6 wide each side; street below, shop above.
    let door = CountingLine::new(
        RoiId(1),
        Point::new(0.0, 100.0),
        Point::new(400.0, 100.0),
        6.0,
    )?;
    let zone = Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap_or(UtcOffset::UTC));
    let mut counter: LineCounter<1, 32> =
        LineCounter::new(CameraSerial::from_u64(0x6afc_e315), zone, [door]);
    let mut rng = SplitMix64::new(SEED);
    let mut next_id = 1u64;
    let mut walkers = [Walker::spawn(0, &mut rng); WALKERS];
    for w in &mut walkers {
        *w = Walker::spawn(next_id, &mut rng);
        next_id += 1;
    }
    let mut refused = 0u32;
    let mut objects = [TrackedObject::visitor(0, 0.0, 0.0); WALKERS];
    for frame in 0..FRAMES {
        let mut n = 0;
        for w in &mut walkers {
            if !w.step() {
                *w = Walker::spawn(next_id, &mut rng);
                next_id += 1;
            }
            // Now and then the tracker misses someone for a frame.
            if rng.below(40) == 0 {
                continue;
            }
            if let Some(slot) = objects.get_mut(n) {
                *slot = TrackedObject {
                    id: PeopleId(w.id),
                    position: Point::new(w.x, w.y),
                    people_type: if w.staff {
                        PeopleType::Staff
                    } else {
                        PeopleType::Visitor
                    },
                };
                n += 1;
            }
        }
        let seen = objects.get(..n).unwrap_or(&[]);
        counter.update(START + frame, seen, |event| {
            if outbox.push(event).is_err() {
                refused += 1;
            }
        });
    }
    let totals = counter.totals()[0];
    Ok(Summary {
        count_in: totals.count_in,
        count_out: totals.count_out,
        u_turns: totals.u_turns,
        held: outbox.len(),
        refused,
        checksum: checksum(outbox),
    })
}

/// FNV-1a over every field of every event held, little-endian, oldest first.
pub fn checksum(outbox: &EventOutbox) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for e in outbox {
        eat(&e.serial.as_u64().to_le_bytes());
        eat(&e.roi.0.to_le_bytes());
        eat(&[e.metric.code(), e.people_type.code()]);
        eat(&e.people_id.0.to_le_bytes());
        eat(&e.start.to_le_bytes());
        eat(&e.end.to_le_bytes());
        eat(&e.offset.seconds().to_le_bytes());
    }
    hash
}
