//! Finding the payloads in a capture: each top-level JSON object, by brace depth outside
//! strings and `#` comments, so one payload per line, several on one line, and the
//! published multi-line samples with comments all split the same way. `ffc decode mqtt`
//! reads its input through this; the cargo-fuzz target `mqtt_split` checks its invariants.

use alloc::vec::Vec;

/// Splits MQTT input into payloads: each top-level JSON object, found by brace depth
/// outside strings and `#` comments; text outside an object up to the end of its line is a
/// payload of its own (so garbage gets its decode error). Returns (byte offset, 1-based
/// line, bytes).
pub fn split_payloads(bytes: &[u8]) -> Vec<(usize, usize, &[u8])> {
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut comment) = (0usize, false, false, false);
    let mut start: Option<(usize, usize)> = None;
    let mut line = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if comment {
            if b == b'\n' {
                comment = false;
            } else {
                continue;
            }
        }
        if in_string {
            // Counted before the escape check: a newline stays a line break even after
            // a backslash (JSON would refuse it, but the error must name the right line).
            if b == b'\n' {
                line += 1;
            }
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'\n' => {
                // A line of text that never opened an object ends its payload here.
                if let (Some((s, l)), 0) = (start, depth) {
                    out.push((s, l, bytes.get(s..i).unwrap_or_default()));
                    start = None;
                }
                line += 1;
            }
            b'#' => comment = true,
            _ if b.is_ascii_whitespace() => {}
            _ => {
                if start.is_none() {
                    start = Some((i, line));
                }
                match b {
                    b'"' => in_string = true,
                    b'{' => depth += 1,
                    b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            if let Some((s, l)) = start.take() {
                                out.push((s, l, bytes.get(s..=i).unwrap_or_default()));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some((s, l)) = start {
        out.push((s, l, bytes.get(s..).unwrap_or_default()));
    }
    out
}
