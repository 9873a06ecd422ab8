//! How an FFC device names its values, shared by the client (which reads them) and the
//! simulated device (which serves them): `In-C-X` and `Out-C-X`, X = 0..47 hours back.

use ffc_core::Metric;

/// Hours of history served (`In-C-0` .. `In-C-47`).
pub const HOURS: u8 = 48;

/// The name of the value object for (metric, hours back): `In-C-X` or `Out-C-X`.
pub fn object_name(metric: Metric, hours_back: u8) -> String {
    match metric {
        Metric::In => format!("In-C-{hours_back}"),
        Metric::Out => format!("Out-C-{hours_back}"),
    }
}

/// Parses `In-C-X` / `Out-C-X` (X = 0..47).
pub fn parse_object_name(name: &str) -> Option<(Metric, u8)> {
    let (metric, rest) = if let Some(rest) = name.strip_prefix("In-C-") {
        (Metric::In, rest)
    } else {
        (Metric::Out, name.strip_prefix("Out-C-")?)
    };
    if rest.is_empty() || rest.len() > 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: u8 = rest.parse().ok()?;
    (hours < HOURS && (rest.len() == 1 || !rest.starts_with('0'))).then_some((metric, hours))
}
