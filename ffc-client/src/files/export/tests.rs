//! The fast row reading against the reading it replaced, kept here as the reference.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;

/// The row reading before names were shared and dates remembered (as it was, but for the
/// names' type).
fn reference_row<'a>(
    m: &Mapping,
    line: u64,
    field: impl Fn(usize) -> Option<&'a str>,
    opts: &ExportFileOptions,
) -> Result<FileRow, Reason> {
    let text = |c: Column| m.get(c).and_then(&field).map(trim);
    let date_text = text(Column::DateTime).or(text(Column::Date)).unwrap_or("");
    let time_text = text(Column::Time);
    let local = parse_local(date_text, time_text, &opts.date, &opts.time).ok_or_else(|| {
        Reason::BadDate {
            value: match time_text {
                Some(t) => format!("{date_text} {t}"),
                None => date_text.to_owned(),
            },
        }
    })?;
    let count = |c: Column| -> Result<Option<u64>, Reason> {
        match text(c) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<u64>().map(Some).map_err(|_| Reason::BadNumber {
                column: c.name(),
                value: v.to_owned(),
            }),
        }
    };
    let required = |c: Column| -> Result<u64, Reason> {
        count(c)?.ok_or(Reason::BadNumber {
            column: c.name(),
            value: String::new(),
        })
    };
    let serial = match text(Column::Serial) {
        None | Some("") => None,
        Some(s) => Some(CameraSerial::parse(s).map_err(|_| Reason::BadSerial {
            value: s.to_owned(),
        })?),
    };
    let site_id = match count(Column::SiteId)? {
        None => None,
        Some(v) => Some(u32::try_from(v).map_err(|_| Reason::BadNumber {
            column: Column::SiteId.name(),
            value: v.to_string(),
        })?),
    };
    let owned = |c: Column| text(c).filter(|s| !s.is_empty()).map(Arc::from);
    Ok(FileRow {
        line,
        local,
        count_in: required(Column::In)?,
        count_out: required(Column::Out)?,
        outside: count(Column::Outside)?,
        site: owned(Column::Site),
        site_id,
        counter: owned(Column::Counter),
        serial,
    })
}

/// `read_export` as it was, on [`reference_row`].
fn reference_read(bytes: &[u8], opts: &ExportFileOptions) -> Result<ExportFile, FileError> {
    let file = "ref.csv";
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let fail = |line: u64, byte: u64, reason: Reason| FileError {
        file: file.to_owned(),
        line,
        byte,
        reason,
    };
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(bytes));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let header_ok = reader
        .read_record(&mut record)
        .map_err(|e| fail(1, 0, Reason::Csv(e.to_string())))?;
    if !header_ok {
        return Err(fail(1, 0, Reason::Empty));
    }
    let mapping = Mapping::new(record.iter(), opts).map_err(|r| fail(1, 0, r))?;
    let mut out = ExportFile::default();
    loop {
        let pos = reader.position().clone();
        let (line, byte) = (pos.line(), pos.byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|f| trim(f).is_empty()) {
                    continue;
                }
                let line = record.position().map_or(line, csv::Position::line);
                match reference_row(&mapping, line, |i| record.get(i), opts) {
                    Ok(r) => out.rows.push(r),
                    Err(reason) => out.errors.push(fail(line, byte, reason)),
                }
            }
            Err(e) => {
                let at = e.position().cloned().unwrap_or(pos);
                out.errors
                    .push(fail(at.line(), at.byte(), Reason::Csv(e.to_string())));
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[test]
fn rows_share_one_copy_of_each_name() {
    let csv = b"Site,Counter,Date,Time,In,Out\nA,Door,01/02/2024,10:00:00,1,2\nB,Door,01/02/2024,10:00:00,3,4\nA,Gate,01/02/2024,11:00:00,5,6\n";
    let f = read_export("n.csv", csv, &ExportFileOptions::default()).unwrap();
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    let site = |i: usize| f.rows[i].site.clone().unwrap();
    let counter = |i: usize| f.rows[i].counter.clone().unwrap();
    assert!(Arc::ptr_eq(&site(0), &site(2)));
    assert!(Arc::ptr_eq(&counter(0), &counter(1)));
    assert_eq!((&*site(1), &*counter(2)), ("B", "Gate"));
    assert_eq!(f.rows[2].local.to_string(), "2024-02-01 11:00:00");
}

#[test]
fn remembered_dates_follow_their_texts() {
    // The same date with another time, a time column left empty, then a bad date after
    // good ones: each row read from its own texts.
    let csv = b"Date,Time,In,Out\n01/02/2024,10:00:00,1,1\n01/02/2024,11:00:00,1,1\n01/02/2024,,1,1\n01/02/2024,11:00:00,1,1\n30/02/2024,11:00:00,1,1\n";
    let f = read_export("d.csv", csv, &ExportFileOptions::default()).unwrap();
    let times: Vec<String> = f.rows.iter().map(|r| r.local.to_string()).collect();
    assert_eq!(
        times,
        [
            "2024-02-01 10:00:00",
            "2024-02-01 11:00:00",
            "2024-02-01 00:00:00",
            "2024-02-01 11:00:00"
        ]
    );
    assert_eq!(f.errors.len(), 1);
    assert_eq!(f.errors[0].line, 6);
}

#[test]
fn lines_counted_in_blocks_and_tail() {
    for n in [0usize, 1, 63, 64, 65, 200] {
        let text: Vec<u8> = (0..n)
            .map(|i| if i % 3 == 0 { b'\n' } else { b'x' })
            .collect();
        let want = text.iter().filter(|b| **b == b'\n').count();
        assert_eq!(count_lines(&text), want, "{n}");
    }
}

#[test]
fn counts_read_as_str_parse_reads_them() {
    for v in [
        "0",
        "42",
        "0042",
        "+5",
        "-1",
        "9999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "1.5",
        "1e3",
        "٣",
        "",
    ] {
        assert_eq!(parse_count(v), v.parse::<u64>().ok(), "{v:?}");
    }
}

fn header() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(
        prop::sample::select(vec![
            "Site",
            "Counter",
            "BranchId",
            "Date",
            "Time",
            "DateTime",
            "ValueIn",
            "ValueOut",
            "OutsideTraffic",
            "CameraSerial",
            "Other",
        ]),
        1..8,
    )
}

fn cell() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(vec![
        &b"01/02/2024"[..],
        b"1/2/2024",
        b"31/02/2024",
        b"01/02/2024 13:00:00",
        b"01/02/2024 13:00",
        b"13:00:00",
        b"7:05:00",
        b"24:00:00",
        b"",
        b" ",
        b"0",
        b"42",
        b" 7 ",
        b"+5",
        b"-1",
        b"4294967296",
        b"99999999999999999999",
        b"Branch 1",
        b"Branch 2",
        b"000000006afce315",
        b"xyz",
        b"\"a,b\"",
        b"\xff",
        b"\xc3\xa9",
    ])
}

/// A value that fits the column `header` names, picked by `pick`.
fn good(header: &str, pick: u8) -> &'static [u8] {
    let choices: &[&'static [u8]] = match header {
        "Site" | "Counter" => &[b"Branch 1", b"Branch 2", b"Door", b""],
        "Date" => &[b"01/02/2024", b"02/02/2024", b"1/2/2024"],
        "Time" => &[b"13:00:00", b"14:00:00", b""],
        "DateTime" => &[b"01/02/2024 13:00:00", b"01/02/2024", b"01/02/2024 13:00"],
        "CameraSerial" => &[b"000000006afce315", b""],
        _ => &[b"0", b"42", b"7", b" 7 ", b""],
    };
    choices
        .get(usize::from(pick) % choices.len())
        .copied()
        .unwrap_or(b"")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// On any file of plausible and broken cells, the reader gives the rows and errors
    /// the reference gives, in the same order. Most cells fit their column (so most rows
    /// are read); the rest are anything, and rows may be short or long.
    #[test]
    fn fast_reading_matches_the_reference(
        base in any::<bool>(),
        extra in header(),
        rows in prop::collection::vec(prop::collection::vec((0u8..10, cell()), 0..10), 0..25),
    ) {
        let mut head: Vec<&str> = if base {
            vec!["Site", "Date", "Time", "ValueIn", "ValueOut"]
        } else {
            Vec::new()
        };
        head.extend(extra);
        let mut bytes = head.join(",").into_bytes();
        for row in &rows {
            bytes.push(b'\n');
            let cells: Vec<&[u8]> = row
                .iter()
                .enumerate()
                .map(|(j, (pick, junk))| match head.get(j) {
                    Some(h) if *pick < 8 => good(h, *pick),
                    _ => *junk,
                })
                .collect();
            bytes.extend(cells.join(&b","[..]));
        }
        let opts = ExportFileOptions::default();
        let want = reference_read(&bytes, &opts);
        let got = read_export("ref.csv", &bytes, &opts);
        prop_assert_eq!(got, want);
    }
}

/// Lines of a plain file: blank ones, ones of spaces or bare delimiters, and rows of
/// good and broken cells (a few with a quote or carriage return, read the csv way).
fn plain_line() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        Just(vec![]),
        Just(vec!["  "]),
        Just(vec!["", ""]),
        prop::collection::vec(
            prop::sample::select(vec![
                "Branch 1",
                "Café",
                "01/02/2024",
                "1/2/2024",
                "13:00:00",
                "",
                " ",
                "42",
                " 7 ",
                "x",
                "-1",
                "a\"b",
                "c\rd",
            ]),
            1..7,
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Plain files (no quotes, no carriage returns), read without the csv state machine,
    /// give the rows, lines and bytes the csv reading gives: blank lines, lines of spaces
    /// or bare delimiters, a last line with or without its line feed, any delimiter.
    #[test]
    fn plain_files_read_as_csv_reads_them(
        delimiter in prop::sample::select(vec![b',', b';', b'\t']),
        named in any::<bool>(),
        blank_after_header in any::<bool>(),
        lines in prop::collection::vec(plain_line(), 0..12),
        ends in prop::sample::select(vec!["", "\n", "\n\n"]),
    ) {
        let d = char::from(delimiter).to_string();
        let mut text = ["Site", "Date", "Time", "ValueIn", "ValueOut"].join(&d);
        if blank_after_header {
            text.push('\n');
        }
        for line in &lines {
            text.push('\n');
            text.push_str(&line.join(&d));
        }
        text.push_str(ends);
        let opts = ExportFileOptions::default().with_delimiter(named.then_some(delimiter));
        let want = reference_read(text.as_bytes(), &opts);
        let got = read_export("ref.csv", text.as_bytes(), &opts);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn plain_needs_no_quote_no_return_and_utf8() {
    assert!(plain_text(b"a,b\n1,2\n", b',').is_some());
    assert!(plain_text(b"a,b\n1,\"2\"\n", b',').is_none());
    assert!(plain_text(b"a,b\r\n1,2\r\n", b',').is_none());
    assert!(plain_text(b"a,b\n1,\xff\n", b',').is_none());
    assert!(plain_text(b"a\"b\n", b'\n').is_none());
    // A quote past the first 64 bytes is found too.
    let mut long = vec![b'x'; 130];
    long.push(b'"');
    assert!(plain_text(&long, b',').is_none());
    long.pop();
    assert!(plain_text(&long, b',').is_some());
}

#[test]
fn lines_split_as_str_split_splits() {
    for line in [
        "a,b",
        ",",
        "",
        "a",
        "é,,ü,",
        ",x",
        "Branch 7,30007,01/02/2024,13:00:00,42,39,389,0.11",
        "0123456,89abcdef,",
        ",,,,,,,,,,,,,,,,,",
    ] {
        for (text, from) in [(line.to_owned(), 0), (format!("x\n{line}\nz"), 2)] {
            let mut fields = Vec::new();
            let end = split_line(&text, from, b',', &mut fields);
            assert_eq!(end, from + line.len(), "{text:?}");
            assert_eq!(fields, line.split(',').collect::<Vec<_>>(), "{text:?}");
        }
    }
}

#[test]
fn trim_is_str_trim() {
    for s in [
        "",
        " ",
        "a",
        " a ",
        "\tb\n",
        "\u{b}c\u{b}",
        "\u{a0}d",
        "e\u{3000}",
        "~",
        "\u{7f}",
        "Branch 7",
        "é",
        " é ",
    ] {
        assert_eq!(trim(s), s.trim(), "{s:?}");
    }
}

#[test]
fn same_is_str_eq() {
    let texts = [
        "",
        "a",
        "13:00:00",
        "13:00:01",
        "31/01/2024",
        "31/01/2025",
        "01/01/2024 13:00:00",
        "01/01/2024 13:00:01",
        "0123456789abcdef",
        "0123456789abcdeg",
        "x123456789abcdef",
    ];
    for a in texts {
        for b in texts {
            assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
        }
    }
}
