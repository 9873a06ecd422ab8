//! A day of events binned into a one-minute series.
//!
//! `binning_<n>`: the form ffc holds large event sets in ([`EventColumns`]: the end instant
//! and one packed cell byte, 9 bytes an event) binned by `Binner::bin_columns`, against a
//! bare loop that increments pre-computed 4-byte array indexes for the same events (the
//! floor any binning can reach). Groups `binning_10000` (in cache) and `binning_1000000`
//! (9 MB of columns against 4 MB of indexes, from memory).
//!
//! `binning_<n>_events`: the struct path, `Binner::bin_event` over the 64-byte
//! [`CountEvent`]s, against the plain loop that reads the same events and increments
//! `counts[minute * 4 + cell]` (no checks beyond the slice's), which does the binner's work
//! and nothing else.
use ffc_benches::{compare, day_of_events};
use ffc_core::aggregate::{Binner, CountCells, EventColumns};
use ffc_core::{CountEvent, Resolution, Zone};
use std::hint::black_box;

const DAY: i64 = 1_700_006_400; // a UTC midnight
/// 10 000 events (90 KB of columns, 640 KB of structs) stay in cache, so the figure is the
/// binning's own cost; 1 000 000 (9 MB of columns, 64 MB of structs) stream from memory.
const SIZES: [usize; 2] = [10_000, 1_000_000];

/// The measured side of `binning_<n>`: a day's event columns binned per minute.
fn run_columns(columns: &EventColumns, counts: &mut [CountCells]) {
    let mut binner = Binner::new(Resolution::Minutes(1), Zone::UTC, DAY).expect("fixed resolution");
    // The bench's events all fall in the day the slice covers: none is refused.
    binner.bin_columns(counts, black_box(columns), |_, _| {});
    black_box(counts);
}

/// The measured side of `binning_<n>_events`: a day's events binned per minute.
fn run_binner(events: &[CountEvent], counts: &mut [CountCells]) {
    let mut binner = Binner::new(Resolution::Minutes(1), Zone::UTC, DAY).expect("fixed resolution");
    for e in black_box(events) {
        // The bench's events all fall in the day the slice covers.
        let _ = binner.bin_event(counts, e);
    }
    black_box(counts);
}

fn binning_of(n: usize) {
    let events = day_of_events(n, DAY);
    // Both sides' inputs are built before timing: the columns as a reader fills them, the
    // baseline's indexes so that it only increments.
    let columns = EventColumns::from_events(&events);
    let indexes: Vec<u32> = events
        .iter()
        .map(|e| {
            (((e.end - DAY) / 60) as u32) * 4
                + (e.people_type.code() as u32 - 1) * 2
                + (e.metric.code() as u32 - 1)
        })
        .collect();
    let mut ffc_counts = vec![[0u64; 4]; 1440];
    let mut bare_counts = vec![0u64; 1440 * 4];
    compare(
        &format!("binning_{n}"),
        "ffc_binner",
        || run_columns(&columns, &mut ffc_counts),
        "bare_loop",
        || {
            for i in black_box(&indexes) {
                if let Some(c) = bare_counts.get_mut(*i as usize) {
                    *c += 1;
                }
            }
            black_box(&bare_counts);
        },
    );
    let mut plain_counts = vec![0u64; 1440 * 4];
    let mut ffc_counts = vec![[0u64; 4]; 1440];
    compare(
        &format!("binning_{n}_events"),
        "ffc_binner",
        || run_binner(&events, &mut ffc_counts),
        "plain_event_loop",
        || {
            for e in black_box(&events) {
                let i = ((e.end - DAY) / 60) as usize * 4
                    + (e.people_type as usize - 1) * 2
                    + (e.metric as usize - 1);
                if let Some(c) = plain_counts.get_mut(i) {
                    *c += 1;
                }
            }
            black_box(&plain_counts);
        },
    );
}

fn main() {
    for n in SIZES {
        binning_of(n);
    }
}
