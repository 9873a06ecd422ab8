//! Frames per second of `ffc_core::counting::LineCounter` for 64 simultaneous tracks and
//! 2 lines, against a minimal naive crossing check measured in the same run (the sign
//! of the cross product changing between frames, no band, a `HashMap` of previous signs).
//!
//! `cargo bench -p ffc-benches --bench counting` prints the ratio line
//! (`counting_64_tracks_2_lines`).
//!
//! With `FFC_COUNTING_EXPORT=<file.json>` it instead writes the same tracks (a clean and a
//! jittered scenario), the lines, and ffc's and the naive check's counts and rates as JSON
//! for `benches/supervision_compare.sh`, and exits.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ffc_benches::compare;
use ffc_core::counting::{CountingLine, LineCounter, Point, TrackedObject};
use ffc_core::{CameraSerial, RoiId, Zone};

const TRACKS: usize = 64;
const STEADY_FRAMES: usize = 3_000;
const FPS: usize = 10;
const SIZE: f32 = 1_000.0;
const BAND: f32 = 20.0;
const LINE_Y: [f32; 2] = [300.0, 700.0];

/// A small deterministic generator (xorshift64*), so every run sees the same tracks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
}

fn lines() -> [CountingLine; 2] {
    let line = |roi, y| {
        CountingLine::new(RoiId(roi), Point::new(0.0, y), Point::new(SIZE, y), BAND)
            .expect("valid line")
    };
    [line(1, LINE_Y[0]), line(2, LINE_Y[1])]
}

#[derive(Clone, Copy)]
enum Walker {
    /// Walks straight across the frame at `vy` pixels per frame.
    Crossing { vy: f32 },
    /// Walks to a line, stands on it for `frames`, then turns back (a U-turn).
    Loitering { line: f32, vy: f32, frames: u32 },
}

struct Person {
    id: u64,
    x: f32,
    y: f32,
    walker: Walker,
}

fn near_a_band(y: f32) -> bool {
    LINE_Y.iter().any(|l| (y - l).abs() <= BAND + 25.0)
}

/// One scenario: frames of (id, x, y), 64 people at once for `STEADY_FRAMES`, then no one
/// new until everyone has walked off, so no one is left half-way through a band.
/// `jitter`: every position gets uniform noise of ±15 px (inside the ±20 px band), and one
/// person in eight loiters on a line and turns back.
fn scenario(jitter: bool, seed: u64) -> Vec<Vec<TrackedObject>> {
    let mut rng = Rng(seed);
    let mut next_id = 1u64;
    let mut spawn = |rng: &mut Rng, initial: bool| {
        let id = next_id;
        next_id += 1;
        let down = rng.next().is_multiple_of(2);
        let speed = rng.range(4.0, 14.0);
        let vy = if down { speed } else { -speed };
        let y = if initial {
            loop {
                let y = rng.range(10.0, SIZE - 10.0);
                if !near_a_band(y) {
                    break y;
                }
            }
        } else if down {
            -10.0
        } else {
            SIZE + 10.0
        };
        let walker = if jitter && rng.next().is_multiple_of(8) {
            // Walks towards the line ahead of it, if any.
            let ahead = LINE_Y
                .iter()
                .copied()
                .find(|l| if down { *l > y } else { *l < y });
            match ahead {
                Some(line) => Walker::Loitering {
                    line,
                    vy,
                    frames: (rng.next() % 60) as u32 + 20,
                },
                None => Walker::Crossing { vy },
            }
        } else {
            Walker::Crossing { vy }
        };
        Person {
            id,
            x: rng.range(100.0, SIZE - 100.0),
            y,
            walker,
        }
    };
    let mut people: Vec<Person> = (0..TRACKS).map(|_| spawn(&mut rng, true)).collect();
    let mut frames = Vec::new();
    let mut frame = 0;
    while !people.is_empty() {
        let objects = people
            .iter()
            .map(|p| {
                let (dx, dy) = if jitter {
                    (rng.range(-15.0, 15.0), rng.range(-15.0, 15.0))
                } else {
                    (0.0, 0.0)
                };
                TrackedObject::visitor(p.id, p.x + dx, p.y + dy)
            })
            .collect();
        frames.push(objects);
        frame += 1;
        let mut left = 0;
        for p in &mut people {
            match &mut p.walker {
                Walker::Crossing { vy } => p.y += *vy,
                Walker::Loitering { line, vy, frames } => {
                    let reached = if *vy > 0.0 {
                        p.y >= *line
                    } else {
                        p.y <= *line
                    };
                    if !reached {
                        p.y = if *vy > 0.0 {
                            (p.y + *vy).min(*line)
                        } else {
                            (p.y + *vy).max(*line)
                        };
                    } else if *frames > 0 {
                        *frames -= 1;
                    } else {
                        // Turn back the way they came, and keep going until off screen.
                        p.walker = Walker::Crossing { vy: -*vy };
                    }
                }
            }
            if !(-20.0..=SIZE + 20.0).contains(&p.y) {
                left += 1;
            }
        }
        people.retain(|p| (-20.0..=SIZE + 20.0).contains(&p.y));
        if frame < STEADY_FRAMES {
            for _ in 0..left {
                people.push(spawn(&mut rng, false));
            }
        }
    }
    frames
}

fn timestamp(frame: usize) -> i64 {
    1_700_000_000 + (frame / FPS) as i64
}

/// ffc's counts per line: (in, out).
fn run_ffc(frames: &[Vec<TrackedObject>]) -> [(u64, u64); 2] {
    let mut counter: LineCounter<2, 128> =
        LineCounter::new(CameraSerial::from_u64(1), Zone::UTC, lines());
    let mut emitted = 0u64;
    for (i, objects) in frames.iter().enumerate() {
        counter.update(timestamp(i), objects, |e| {
            emitted += 1;
            black_box(e);
        });
    }
    black_box(emitted);
    let t = counter.totals();
    [
        (t[0].count_in, t[0].count_out),
        (t[1].count_in, t[1].count_out),
    ]
}

/// The naive baseline: a crossing whenever the sign of the cross product changes between
/// consecutive frames of a track (no band, no segment extent). Positive side = In, as ffc.
fn run_naive(frames: &[Vec<TrackedObject>]) -> [(u64, u64); 2] {
    let lines: [(Point, Point); 2] = [
        (Point::new(0.0, LINE_Y[0]), Point::new(SIZE, LINE_Y[0])),
        (Point::new(0.0, LINE_Y[1]), Point::new(SIZE, LINE_Y[1])),
    ];
    let mut previous: HashMap<u64, [bool; 2]> = HashMap::new();
    let mut counts = [(0u64, 0u64); 2];
    for objects in frames {
        for o in objects {
            let mut sides = [false; 2];
            for (side, (a, b)) in sides.iter_mut().zip(&lines) {
                let cross = (b.x - a.x) * (o.position.y - a.y) - (b.y - a.y) * (o.position.x - a.x);
                *side = cross > 0.0;
            }
            if let Some(before) = previous.insert(o.id.0, sides) {
                for ((now, was), count) in sides.iter().zip(before).zip(&mut counts) {
                    match (was, *now) {
                        (false, true) => count.0 += 1,
                        (true, false) => count.1 += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    counts
}

/// A counting run: frames in, (in, out) per line out.
type Run = fn(&[Vec<TrackedObject>]) -> [(u64, u64); 2];

fn frames_per_second(frames: &[Vec<TrackedObject>], f: Run) -> f64 {
    let mut runs = 0u32;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) || runs < 3 {
        black_box(f(black_box(frames)));
        runs += 1;
    }
    f64::from(runs) * frames.len() as f64 / started.elapsed().as_secs_f64()
}

fn counts_json(c: [(u64, u64); 2]) -> serde_json::Value {
    serde_json::json!({
        "1": {"in": c[0].0, "out": c[0].1},
        "2": {"in": c[1].0, "out": c[1].1},
    })
}

fn export(path: &str) {
    let mut scenarios = serde_json::Map::new();
    for (name, jitter) in [("clean", false), ("jitter", true)] {
        let frames = scenario(jitter, 0x5eed_0001);
        let max_tracks = frames.iter().map(Vec::len).max().unwrap_or(0);
        let json_frames: Vec<Vec<[f64; 3]>> = frames
            .iter()
            .map(|objects| {
                objects
                    .iter()
                    .map(|o| {
                        [
                            o.id.0 as f64,
                            f64::from(o.position.x),
                            f64::from(o.position.y),
                        ]
                    })
                    .collect()
            })
            .collect();
        let ffc_fps = frames_per_second(&frames, run_ffc);
        let naive_fps = frames_per_second(&frames, run_naive);
        eprintln!(
            "{name}: {} frames (up to {max_tracks} tracks): ffc {ffc_fps:.0} frames/s, naive {naive_fps:.0} frames/s",
            frames.len()
        );
        scenarios.insert(
            name.to_owned(),
            serde_json::json!({
                "frames": json_frames,
                "max_tracks": max_tracks,
                "ffc": counts_json(run_ffc(&frames)),
                "ffc_frames_per_second": ffc_fps,
                "naive": counts_json(run_naive(&frames)),
                "naive_frames_per_second": naive_fps,
            }),
        );
    }
    let doc = serde_json::json!({
        "in_direction": "In = towards larger y (ffc's Side::Negative -> Side::Positive for a line drawn along +x)",
        "lines": lines().iter().map(|l| serde_json::json!({
            "roi": l.roi().0,
            "start": [l.start().x, l.start().y],
            "end": [l.end().x, l.end().y],
            "band": l.band(),
        })).collect::<Vec<_>>(),
        "scenarios": scenarios,
    });
    let text = serde_json::to_string(&doc).expect("JSON of plain numbers");
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    eprintln!("wrote {path}");
}

fn bench() {
    let frames = scenario(false, 0x5eed_0001);
    let steady = &frames[..STEADY_FRAMES];
    assert!(
        steady.iter().all(|f| f.len() == TRACKS),
        "64 tracks in every steady frame"
    );
    compare(
        "counting_64_tracks_2_lines",
        "ffc_line_counter",
        || run_ffc(black_box(steady)),
        "naive_sign_change",
        || run_naive(black_box(steady)),
    );
}

fn main() {
    if let Ok(path) = std::env::var("FFC_COUNTING_EXPORT") {
        export(&path);
        return;
    }
    bench();
}
