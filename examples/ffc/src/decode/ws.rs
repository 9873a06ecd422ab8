//! `ffc decode ws`: a stream of WebSocket messages, each on one line or across several
//! (pretty JSON or Python-literal dicts as people paste them). Every message gives its
//! line: the event, or an error naming the line it is on; a bad message never stops the
//! messages after it.

use ffc_protocols::ws::codec::{self, Message};
use serde_json::{json, Value};

use super::{error_line, place, Decoded, Kind};

/// One message of the input: its byte offset, its 1-based first line, and its bytes.
pub type Piece<'a> = (usize, usize, &'a [u8]);

/// Splits `bytes` into messages. A message is an object (`{` … the `}` that closes it,
/// strings in `"` or `'` skipped), or any other text up to the end of its line. Between
/// messages, white space and `#` comment lines are skipped. A `{` in the first column of a
/// line while an object is still open starts the next message, so an object whose `}` is
/// missing fails alone; a string that runs to the end of its line ends there (JSON and
/// Python literals have no raw line breaks in strings), for the same reason.
pub fn split_messages(bytes: &[u8]) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut escaped, mut comment) = (0usize, None::<u8>, false, false);
    let mut start: Option<(usize, usize)> = None;
    let mut line = 1;
    for (i, &b) in bytes.iter().enumerate() {
        let first_column = i == 0 || bytes.get(i - 1) == Some(&b'\n');
        if b == b'\n' {
            if let (Some((s, l)), 0) = (start, depth) {
                out.push((s, l, bytes.get(s..i).unwrap_or_default()));
                start = None;
            }
            (quote, escaped, comment) = (None, false, false);
            line += 1;
            continue;
        }
        if comment {
            continue;
        }
        if let Some(q) = quote {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                _ if b == q => quote = None,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        match start {
            None if b == b'#' => {
                comment = true;
                continue;
            }
            Some((s, l)) if depth > 0 && first_column && b == b'{' => {
                // The open object never closed: it ends where the next one begins (its
                // trailing blank lines left out, so its error names its own last line).
                let piece = bytes.get(s..i).unwrap_or_default();
                let kept = piece.len()
                    - piece
                        .iter()
                        .rev()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                out.push((s, l, piece.get(..kept).unwrap_or(piece)));
                (start, depth) = (None, 0);
            }
            _ => {}
        }
        if start.is_none() {
            start = Some((i, line));
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
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
    if let Some((s, l)) = start {
        out.push((s, l, bytes.get(s..).unwrap_or_default()));
    }
    out
}

/// Decodes every message of `bytes`: the good ones in `lines`, each bad one's error line in
/// `error` (the first) and `more_errors` (the others). Every line names the input line its
/// message starts on.
pub fn decode_ws(bytes: &[u8]) -> Decoded {
    let kind = Kind::Ws;
    let (mut lines, mut errors) = (Vec::new(), Vec::new());
    for (offset, line, payload) in split_messages(bytes) {
        let mut v = match codec::decode(payload) {
            Ok(Message::Event(event)) => serde_json::to_value(event).unwrap_or(Value::Null),
            Ok(Message::Test) => json!({ "test": true }),
            Ok(Message::UnknownTopic(topic)) => json!({ "unknown_topic": topic }),
            Err(e) => {
                let (at_line, at_byte) = place(&e, offset, line, payload);
                errors.push(error_line(kind, e.to_string(), Some(at_line), at_byte));
                continue;
            }
        };
        v["kind"] = json!(kind.name());
        v["line"] = json!(line);
        lines.push(v);
    }
    let mut errors = errors.into_iter();
    Decoded {
        lines,
        error: errors.next(),
        more_errors: errors.collect(),
    }
}
