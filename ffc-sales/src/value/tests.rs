//! The value parsers against their rules, reasons and the general paths.

use super::*;

#[test]
fn amounts() {
    assert_eq!(parse_amount_cents(b"0"), Ok(0));
    assert_eq!(parse_amount_cents(b"12"), Ok(1200));
    assert_eq!(parse_amount_cents(b"12.3"), Ok(1230));
    assert_eq!(parse_amount_cents(b"12.34"), Ok(1234));
    assert_eq!(parse_amount_cents(b"0012.04"), Ok(1204));
    assert_eq!(
        parse_amount_cents(b"9999999999999.99"),
        Ok(999_999_999_999_999)
    );
    assert_eq!(parse_amount_cents(b"10000000000000"), Err(Reason::TooLarge));
}

proptest::proptest! {
    /// The common-shape fast path reads every amount as the general parser does.
    #[test]
    fn amount_fast_path_agrees(
        field in proptest::collection::vec(
            proptest::prop_oneof![
                6 => proptest::char::range('0', '9'),
                2 => proptest::strategy::Just('.'),
                1 => proptest::strategy::Just('/'),
                1 => proptest::strategy::Just(':'),
                1 => proptest::strategy::Just('-'),
            ],
            0..16,
        ),
    ) {
        let field: String = field.into_iter().collect();
        let b = field.as_bytes();
        if let Some(cents) = amount_common(b) {
            proptest::prop_assert_eq!(Ok(cents), parse_amount_any(b));
        }
        proptest::prop_assert_eq!(parse_amount_cents(b), parse_amount_any(b));
    }

    /// The same, for fields of nearly the common shape.
    #[test]
    fn amount_fast_path_agrees_near_its_shape(field in "[0-9/:]{0,10}[.,][0-9/:]{2}") {
        let b = field.as_bytes();
        proptest::prop_assert_eq!(parse_amount_cents(b), parse_amount_any(b));
    }
}

#[test]
fn each_amount_rule_has_its_reason() {
    use Reason::*;
    let cases: &[(&[u8], Reason)] = &[
        (b"", Empty),
        (b"1,234.50", ThousandsSeparator),
        (b"$12", CurrencySymbol),
        ("12\u{20ac}".as_bytes(), CurrencySymbol),
        ("\u{a3}5.00".as_bytes(), CurrencySymbol),
        (b"12.345", TooManyDecimals),
        (b"-", NoDigits),
        (b"N/A", NoDigits),
        (b".", NoDigits),
        (b"-5.00", Negative),
        (b"12.", MalformedNumber),
        (b".5", MalformedNumber),
        (b"1.2.3", MalformedNumber),
        (b" 12", SurroundingWhitespace),
        (b"12 ", SurroundingWhitespace),
        (b"+12", SpecialCharacter { position: 0 }),
        (b"1e3", SpecialCharacter { position: 1 }),
        (b"12%", SpecialCharacter { position: 2 }),
        (&[b'1', 0xff], InvalidUtf8),
        (&[b'5', 0xa3], InvalidUtf8),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse_amount_cents(input),
            Err(*want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn each_quantity_rule_has_its_reason() {
    use Reason::*;
    assert_eq!(parse_quantity(b"0"), Ok(0));
    assert_eq!(parse_quantity(b"007"), Ok(7));
    assert_eq!(parse_quantity(b"999999999999"), Ok(999_999_999_999));
    let cases: &[(&[u8], Reason)] = &[
        (b"", Empty),
        (b"3.0", NotWholeNumber),
        (b"3.5", NotWholeNumber),
        (b"1,000", ThousandsSeparator),
        (b"$3", CurrencySymbol),
        (b"-3", Negative),
        (b"-", NoDigits),
        (b"+3", SpecialCharacter { position: 0 }),
        (b"3x", SpecialCharacter { position: 1 }),
        (b"3.", MalformedNumber),
        (b" 3", SurroundingWhitespace),
        (b"1000000000000", TooLarge),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse_quantity(input),
            Err(*want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn datetimes() {
    let dt = parse_datetime(b"29-02-2024 23:59").unwrap();
    assert_eq!(dt.to_string(), "2024-02-29 23:59:00");
    assert_eq!(
        parse_datetime(b"29-02-2023 10:00"),
        Err(Reason::DateTimeNotReal {
            part: ffc_core::Field::Day
        })
    );
    assert_eq!(
        parse_datetime(b"01-01-2024 24:00"),
        Err(Reason::DateTimeNotReal {
            part: ffc_core::Field::Hour
        })
    );
    assert_eq!(
        parse_datetime(b"2024-01-01 10:00"),
        Err(Reason::DateTimeLayout { position: Some(2) })
    );
    assert_eq!(
        parse_datetime(b"01-01-2024 10:00:00"),
        Err(Reason::DateTimeLayout { position: None })
    );
    assert_eq!(
        parse_datetime(b"01-01-2024 10:00 "),
        Err(Reason::SurroundingWhitespace)
    );
    assert_eq!(parse_datetime(&[0xff; 16]), Err(Reason::InvalidUtf8));
    assert_eq!(parse_datetime(b""), Err(Reason::Empty));
}

/// The fast path gives what chrono gives, at the edges of every rule.
#[test]
fn datetime_seconds_agree_with_chrono() {
    let slow = |b: &[u8]| parse_datetime(b).map(ffc_core::time::naive_to_seconds);
    for year in [
        0, 1, 2, 3, 4, 99, 100, 400, 1582, 1600, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999,
    ] {
        for month in 0..=13 {
            for day in [0, 1, 27, 28, 29, 30, 31, 32] {
                for (hour, minute) in [(0, 0), (23, 59), (24, 0), (12, 60)] {
                    let text = format!("{day:02}-{month:02}-{year:04} {hour:02}:{minute:02}");
                    let b = text.as_bytes();
                    assert_eq!(parse_datetime_seconds(b), slow(b), "{text}");
                    // The fast path itself, not only its fallback: it must answer every
                    // well-shaped field of a year >= 1 (year 0 it leaves to chrono).
                    if year >= 1 {
                        assert_eq!(well_formed_datetime_seconds(b), slow(b).ok(), "{text}");
                    }
                }
            }
        }
    }
    for text in [
        "1-06-2024 10:05",
        "01/06/2024 10:05",
        "01-06-2024 10:05 ",
        "0a-06-2024 10:05",
    ] {
        assert_eq!(
            parse_datetime_seconds(text.as_bytes()),
            slow(text.as_bytes()),
            "{text}"
        );
    }
}

#[test]
fn stores() {
    assert_eq!(parse_store(b"S-001"), Ok("S-001"));
    assert_eq!(parse_store(b""), Err(Reason::Empty));
    assert_eq!(parse_store(b" S1"), Err(Reason::SurroundingWhitespace));
    assert_eq!(parse_store(&[0xc3]), Err(Reason::InvalidUtf8));
    assert_eq!(parse_store(b"S1\x0b"), Err(Reason::SurroundingWhitespace));
    assert_eq!(
        parse_store("S1\u{a0}".as_bytes()),
        Err(Reason::SurroundingWhitespace)
    );
    assert_eq!(parse_store("S\u{a0}1".as_bytes()), Ok("S\u{a0}1"));
}
