//! Workloads shared by ffc's benchmarks, and the one measuring and printing helper every
//! benchmark uses ([`ratio`]): the measured code and its baseline timed in interleaved
//! pairs, printed as
//! `ratio <group>: <measured>/<baseline> = X (min A, median B, max C over N runs)`
//! (throughput of measured ÷ throughput of baseline, so above 1 is faster than the
//! baseline; X is the median of the per-pair ratios).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use ffc_core::{
    CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UnixSeconds, UtcOffset,
};

pub mod ratio;
pub use ratio::{compare, compare_timed, measure, quick, selected, Pairs, Ratio};

/// A deterministic day of events: `n` crossings spread over 24 hours from `day_start`,
/// in time order, over four counters, 80 % visitors, In and Out alternating.
pub fn day_of_events(n: usize, day_start: UnixSeconds) -> Vec<CountEvent> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let end = day_start + (i as i64 * 86_400) / n as i64;
        out.push(CountEvent {
            serial: CameraSerial::from_u64(0x6afc_e315 + (state % 4)),
            roi: RoiId(1),
            metric: if i % 2 == 0 { Metric::In } else { Metric::Out },
            people_type: if state.is_multiple_of(5) {
                PeopleType::Staff
            } else {
                PeopleType::Visitor
            },
            people_id: PeopleId(i as u64),
            start: end - 2,
            end,
            offset: UtcOffset::UTC,
            uuid: None,
            source: Source::Unknown,
        });
    }
    out
}
