//! Events binned per second into a one-minute series, against a bare loop that increments
//! pre-computed array indexes for the same events (the floor any binning can reach).
//! Groups `binning_10000` (events in cache) and `binning_1000000` (64 MB, from memory).
//! The bare loop reads 4-byte indexes where the binner reads 64-byte events, so at 1,000,000
//! events that ratio is mostly memory bandwidth; `binning_<n>_events` adds the plain loop
//! that reads the same events and increments `counts[minute * 4 + cell]` (no checks beyond
//! the slice's), which does the binner's work and nothing else.
use ffc_benches::{compare, day_of_events};
use ffc_core::aggregate::{Binner, CountCells};
use ffc_core::{CountEvent, Resolution, Zone};
use std::hint::black_box;

const DAY: i64 = 1_700_006_400; // a UTC midnight
/// 10 000 events (640 KB) stay in cache, so the figure is the binning's own cost; 1 000 000
/// (64 MB) stream from memory.
const SIZES: [usize; 2] = [10_000, 1_000_000];

/// The measured side: a day's events binned per minute.
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
    // The baseline's indexes are computed before timing: it only increments.
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
        || run_binner(&events, &mut ffc_counts),
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
