//! Workloads shared by ffc's benchmarks, and the ratio report every benchmark prints.
//!
//! Each benchmark runs the measured code and its baseline in the same criterion run, then
//! calls [`print_ratio`], which reads criterion's own estimates and prints
//! `ratio <group>: <measured>/<baseline> = X` (throughput of measured ÷ throughput of
//! baseline, so above 1 is faster than the baseline).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::PathBuf;

use ffc_core::{
    CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UnixSeconds, UtcOffset,
};

/// Where criterion writes its estimates: `$CARGO_TARGET_DIR/criterion`, or the `target`
/// directory three levels above the running bench executable.
pub fn criterion_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("CRITERION_HOME") {
        return Some(PathBuf::from(dir));
    }
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(dir).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Criterion's point estimate of the mean time per iteration, in nanoseconds.
pub fn mean_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("mean")?.get("point_estimate")?.as_f64()
}

/// Prints the throughput ratio of `measured` to `baseline` (same work per iteration), or
/// why it cannot.
pub fn print_ratio(group: &str, measured: &str, baseline: &str) {
    match (mean_ns(group, measured), mean_ns(group, baseline)) {
        (Some(m), Some(b)) if m > 0.0 => {
            println!("ratio {group}: {measured}/{baseline} = {:.3} (throughput; {measured} {m:.0} ns/iter, {baseline} {b:.0} ns/iter)", b / m)
        }
        _ => println!("ratio {group}: estimates not found (was the group filtered out?)"),
    }
}

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
