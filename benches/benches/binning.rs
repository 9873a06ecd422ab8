//! Events binned per second into a one-minute series, against a bare loop that increments
//! pre-computed array indexes for the same events (the floor any binning can reach).
use criterion::{criterion_group, Criterion, Throughput};
use ffc_benches::{day_of_events, print_ratio};
use ffc_core::aggregate::Binner;
use ffc_core::{Resolution, Zone};
use std::hint::black_box;

const DAY: i64 = 1_700_006_400; // a UTC midnight
/// 10 000 events (640 KB) stay in cache, so the figure is the binning's own cost; 1 000 000
/// (64 MB) stream from memory, where reading the events costs more than binning them.
const SIZES: [usize; 2] = [10_000, 1_000_000];

fn binning(c: &mut Criterion) {
    for n in SIZES {
        binning_of(c, n);
    }
}

fn binning_of(c: &mut Criterion, n: usize) {
    let events = day_of_events(n, DAY);
    let resolution = Resolution::Minutes(1);
    // The baseline's indexes are computed before timing: it only increments.
    let indexes: Vec<u32> = events
        .iter()
        .map(|e| {
            (((e.end - DAY) / 60) as u32) * 4
                + (e.people_type.code() as u32 - 1) * 2
                + (e.metric.code() as u32 - 1)
        })
        .collect();
    let mut group = c.benchmark_group(format!("binning_{n}"));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("ffc_binner", |b| {
        let mut counts = vec![[0u64; 4]; 1440];
        b.iter(|| {
            let mut binner = Binner::new(resolution, Zone::UTC, DAY).expect("fixed resolution");
            for e in black_box(&events) {
                // The bench's events all fall in the day the slice covers.
                let _ = binner.bin_event(&mut counts, e);
            }
            black_box(&counts);
        })
    });
    group.bench_function("bare_loop", |b| {
        let mut counts = vec![0u64; 1440 * 4];
        b.iter(|| {
            for i in black_box(&indexes) {
                if let Some(c) = counts.get_mut(*i as usize) {
                    *c += 1;
                }
            }
            black_box(&counts);
        })
    });
    group.finish();
}

criterion_group!(benches, binning);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    for n in SIZES {
        print_ratio(&format!("binning_{n}"), "ffc_binner", "bare_loop");
    }
}
