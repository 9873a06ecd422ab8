//! The MQTT codec's payload splitter (`ffc decode mqtt` reads captures through it): the
//! layouts it meets, and under proptest the invariants the cargo-fuzz target `mqtt_split`
//! checks.

use ffc_protocols::mqtt::codec::split_payloads;
use proptest::prelude::*;

fn texts(input: &str) -> Vec<(usize, usize, &str)> {
    split_payloads(input.as_bytes())
        .into_iter()
        .map(|(offset, line, bytes)| (offset, line, std::str::from_utf8(bytes).unwrap()))
        .collect()
}

#[test]
fn one_per_line_several_on_a_line_and_multi_line_with_comments() {
    let input = "{\"a\":1}\n{\"b\":2} {\"c\":3}\n{\n  \"d\": 4, # a comment with a } brace\n  \"e\": \"}\"\n}\n";
    assert_eq!(
        texts(input),
        vec![
            (0, 1, "{\"a\":1}"),
            (8, 2, "{\"b\":2}"),
            (16, 2, "{\"c\":3}"),
            (
                24,
                3,
                "{\n  \"d\": 4, # a comment with a } brace\n  \"e\": \"}\"\n}"
            ),
        ]
    );
}

#[test]
fn text_outside_an_object_is_a_payload_to_its_line_end() {
    assert_eq!(
        texts("garbage here\n{\"a\":1}\n"),
        vec![(0, 1, "garbage here"), (13, 2, "{\"a\":1}")]
    );
    // An object left open runs to the end of the input.
    assert_eq!(texts("  {\"a\": "), vec![(2, 1, "{\"a\": ")]);
    assert!(texts(" \n # only a comment\n").is_empty());
}

proptest! {
    /// The splitter's invariants (also the cargo-fuzz target `mqtt_split`): payloads
    /// in order, not overlapping, the input's own bytes, line numbers counting newlines.
    #[test]
    fn mqtt_splitter_gives_the_inputs_own_bytes_in_order(
        bytes in proptest::collection::vec(
            prop_oneof![Just(b'{'), Just(b'}'), Just(b'"'), Just(b'\\'), Just(b'#'), Just(b'\n'), Just(b' '), any::<u8>()],
            0..256,
        ),
    ) {
        let mut end = 0;
        for (offset, line, payload) in split_payloads(&bytes) {
            prop_assert!(offset >= end);
            prop_assert!(only_blanks_and_comments(bytes.get(end..offset).unwrap_or_default()));
            prop_assert!(!payload.is_empty());
            prop_assert_eq!(bytes.get(offset..offset + payload.len()), Some(payload));
            let newlines = bytes.get(..offset).unwrap_or_default().iter().filter(|b| **b == b'\n').count();
            prop_assert_eq!(line, newlines + 1);
            end = offset + payload.len();
        }
        // Nothing is dropped: what no payload took is blank or a `#` comment.
        prop_assert!(only_blanks_and_comments(bytes.get(end..).unwrap_or_default()));
    }
}

/// True when `gap` holds only white space and `#` comments (each to the end of its line).
fn only_blanks_and_comments(gap: &[u8]) -> bool {
    let mut in_comment = false;
    gap.iter().all(|&b| {
        if in_comment {
            in_comment = b != b'\n';
            true
        } else if b == b'#' {
            in_comment = true;
            true
        } else {
            b.is_ascii_whitespace()
        }
    })
}
