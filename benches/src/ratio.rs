//! Paired, interleaved measurements and the one ratio line every benchmark prints.
//!
//! A shared, loaded machine slows whatever runs while another process is busy. Timing the
//! measured code and its baseline back to back, many times, with the order alternating
//! from pair to pair, lets that noise hit both sides of each pair alike; the printed ratio
//! is the median of the per-pair ratios, with their minimum and maximum:
//!
//! ```text
//! ratio <group>: <measured>/<baseline> = X (min A, median B, max C over N runs)
//! ```
//!
//! Environment: `FFC_BENCH_RUNS` (pairs, default 7, never below 5), `FFC_BENCH_RUN_MS`
//! (least time of one side of a pair, default 60). The first command-line argument that
//! does not start with `-` (as `cargo bench -- <filter>` passes it) keeps only the groups
//! whose name contains it.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How many pairs, and how long each side of a pair runs at least.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Pairs {
    /// Interleaved measurement pairs (at least 5).
    pub runs: usize,
    /// Least time one side of one pair runs; the helper repeats the work to reach it.
    pub min_run: Duration,
}

impl Default for Pairs {
    fn default() -> Self {
        Self {
            runs: 7,
            min_run: Duration::from_millis(60),
        }
    }
}

impl Pairs {
    /// The defaults, overridden by `FFC_BENCH_RUNS` and `FFC_BENCH_RUN_MS`.
    pub fn from_env() -> Self {
        let mut p = Self::default();
        if let Some(n) = env_u64("FFC_BENCH_RUNS") {
            p.runs = (n as usize).max(5);
        }
        if let Some(ms) = env_u64("FFC_BENCH_RUN_MS") {
            p.min_run = Duration::from_millis(ms);
        }
        p
    }

    /// Sets `runs` (at least 5).
    pub fn with_runs(mut self, runs: usize) -> Self {
        self.runs = runs.max(5);
        self
    }

    /// Sets `min_run`.
    pub fn with_min_run(mut self, min_run: Duration) -> Self {
        self.min_run = min_run;
        self
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// The outcome of one comparison.
#[derive(Clone, Debug)]
pub struct Ratio {
    /// Group name, stable from run to run (`sales_sorted`, `binning_1000000`, ...).
    pub group: String,
    /// Name of the measured side.
    pub measured: String,
    /// Name of the baseline side.
    pub baseline: String,
    /// One ratio per pair: baseline time ÷ measured time for the same work.
    pub ratios: Vec<f64>,
    /// Median time of one iteration of the measured side, in nanoseconds.
    pub measured_ns: f64,
    /// Median time of one iteration of the baseline, in nanoseconds.
    pub baseline_ns: f64,
}

impl Ratio {
    fn sorted(&self) -> Vec<f64> {
        let mut r = self.ratios.clone();
        r.sort_by(f64::total_cmp);
        r
    }

    /// The median per-pair ratio (the figure that is reported).
    pub fn median(&self) -> f64 {
        median(&self.sorted())
    }

    /// The smallest per-pair ratio.
    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    /// The largest per-pair ratio.
    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// The one line: `ratio <group>: <measured>/<baseline> = X (min A, median B, max C over N runs)`.
    pub fn line(&self) -> String {
        let m = self.median();
        format!(
            "ratio {}: {}/{} = {m:.2} (min {:.2}, median {m:.2}, max {:.2} over {} runs)",
            self.group,
            self.measured,
            self.baseline,
            self.min(),
            self.max(),
            self.ratios.len()
        )
    }
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Whether `group` passes the command-line filter (the first argument not starting with
/// `-`; none keeps everything).
pub fn selected(group: &str) -> bool {
    match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(filter) => group.contains(&filter),
        None => true,
    }
}

/// Times `f` run `iters` times; returns nanoseconds per iteration.
fn time_batch<R>(f: &mut impl FnMut() -> R, iters: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

/// How many iterations make one side of a pair last `min_run`, from one warm-up run.
fn calibrate(once_ns: f64, min_run: Duration) -> u64 {
    let once = once_ns.max(1.0);
    ((min_run.as_nanos() as f64 / once).ceil() as u64).clamp(1, 1 << 32)
}

/// Compares `measured` with `baseline` (closures doing the same work per call) in
/// interleaved pairs, prints the ratio line and returns it; `None` when the command-line
/// filter leaves the group out. Uses [`Pairs::from_env`].
pub fn compare<A, B>(
    group: &str,
    measured: &str,
    mut measured_fn: impl FnMut() -> A,
    baseline: &str,
    mut baseline_fn: impl FnMut() -> B,
) -> Option<Ratio> {
    compare_timed(
        group,
        measured,
        |iters| time_batch(&mut measured_fn, iters),
        baseline,
        |iters| time_batch(&mut baseline_fn, iters),
    )
}

/// As [`compare`], for work with per-iteration setup that must stay out of the timing:
/// each closure gets an iteration count, runs that many iterations and returns the
/// nanoseconds per iteration it measured itself.
pub fn compare_timed(
    group: &str,
    measured: &str,
    measured_fn: impl FnMut(u64) -> f64,
    baseline: &str,
    baseline_fn: impl FnMut(u64) -> f64,
) -> Option<Ratio> {
    if !selected(group) {
        return None;
    }
    let ratio = measure(
        &Pairs::from_env(),
        group,
        measured,
        measured_fn,
        baseline,
        baseline_fn,
    );
    println!("{}", ratio.line());
    Some(ratio)
}

/// The measurement itself, with explicit [`Pairs`]; prints nothing.
pub fn measure(
    pairs: &Pairs,
    group: &str,
    measured: &str,
    mut measured_fn: impl FnMut(u64) -> f64,
    baseline: &str,
    mut baseline_fn: impl FnMut(u64) -> f64,
) -> Ratio {
    // Warm-up (caches, allocator, lazy statics), then one calibration run each.
    measured_fn(1);
    baseline_fn(1);
    let m_iters = calibrate(measured_fn(1), pairs.min_run);
    let b_iters = calibrate(baseline_fn(1), pairs.min_run);
    let runs = pairs.runs.max(5);
    let (mut ratios, mut m_ns, mut b_ns) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        // Alternate which side goes first, so neither always follows the other.
        let (m, b) = if i % 2 == 0 {
            let m = measured_fn(m_iters);
            (m, baseline_fn(b_iters))
        } else {
            let b = baseline_fn(b_iters);
            (measured_fn(m_iters), b)
        };
        ratios.push(b / m);
        m_ns.push(m);
        b_ns.push(b);
    }
    m_ns.sort_by(f64::total_cmp);
    b_ns.sort_by(f64::total_cmp);
    Ratio {
        group: group.to_owned(),
        measured: measured.to_owned(),
        baseline: baseline.to_owned(),
        ratios,
        measured_ns: median(&m_ns),
        baseline_ns: median(&b_ns),
    }
}

/// Whether `FFC_BENCH_QUICK` is set: benches then run only their quick comparisons (the
/// ones `scripts/bench.sh` reports), skipping slow end-to-end ones.
pub fn quick() -> bool {
    std::env::var_os("FFC_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}
