//! The validator on crafted files: positions, limits, streaming in small reads, IO failure.

use std::io::{self, Read};

use ffc_core::Zone;
use ffc_sales::{
    validate_bytes, validate_reader, HeaderProblem, ImportMode, Outcome, Reason, SalesFileError,
    ValidationConfig,
};

const HEADER: &str = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue";

/// Hands out at most `step` bytes per read, so records and the BOM straddle reads.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = tail;
        Ok(n)
    }
}

/// Fails after `ok` bytes.
struct Failing {
    ok: usize,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("disk went away"));
        }
        let n = self.ok.min(buf.len()).min(40);
        let row = format!("{HEADER}\n").repeat(2);
        buf[..n].copy_from_slice(&row.as_bytes()[..n]);
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn lines_and_bytes_point_at_the_row_through_crlf_blank_lines_and_quoted_newlines() {
    let file = format!(
        "\u{feff}{HEADER}\r\n\r\nS1,01-06-2024 09:00,1,x\r\n\"S1\",\"01-06-2024\r\n09:00\",1,1\r\n\n\nS1,01-06-2024 09:00,1,$1\r\n"
    );
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let places: Vec<(u64, Reason)> = v.errors.iter().map(|e| (e.line, e.reason)).collect();
    assert_eq!(
        places,
        vec![
            (3, Reason::NoDigits),
            (4, Reason::DateTimeLayout { position: None }),
            (8, Reason::CurrencySymbol),
        ]
    );
    for (e, starts) in v
        .errors
        .iter()
        .zip(["S1,01", "\"S1\"", "S1,01-06-2024 09:00,1,$1"])
    {
        let at = &file.as_bytes()[usize::try_from(e.byte).unwrap()..];
        assert!(at.starts_with(starts.as_bytes()), "byte {} of {e}", e.byte);
    }
}

#[test]
fn tiny_reads_give_the_same_result_as_one_buffer() {
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/mixed.csv"
    ))
    .unwrap();
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(&file);
    let config = ValidationConfig::default().with_known_stores(["S001", "S002", "S003"]);
    for input in [&file, &with_bom] {
        let whole = validate_bytes(input, &config);
        for step in [1, 2, 3, 7, 64] {
            let trickled = validate_reader(Trickle { data: input, step }, &config).unwrap();
            assert_eq!(trickled.errors, whole.errors, "step {step}");
            assert_eq!(trickled.counts, whole.counts, "step {step}");
            assert_eq!(
                trickled.import("f", ImportMode::ValidRowsOnly),
                whole.import("f", ImportMode::ValidRowsOnly)
            );
        }
    }
}

/// Rows out of (store, hour) order wait a few rows before they are summed, a plain line
/// with its text left in the piece of input being read: when a read ends while such rows
/// wait, they copy their text out first, so repeats among them are named with the same
/// excerpts whatever the reads, long rows with multi-byte characters and quoted ones too.
#[test]
fn rows_waiting_when_a_read_ends_keep_their_text() {
    let mut file = format!("{HEADER}\n");
    let mut rows = Vec::new();
    for i in 0..240u32 {
        let store = if i % 5 == 0 {
            "Ståre-ü".repeat(9)
        } else {
            format!("S{}", i % 7)
        };
        let line = format!(
            "{store},{:02}-06-2024 {:02}:{:02},1,{}.25",
            1 + i % 28,
            i % 24,
            i % 60,
            i
        );
        rows.push(if i % 4 == 0 {
            line.replace(&store, &format!("\"{store}\""))
        } else {
            line
        });
    }
    // Out of order from the start, and every third row repeated soon after.
    for (i, row) in rows.iter().enumerate() {
        file.push_str(row);
        file.push('\n');
        if i % 3 == 0 {
            let earlier = &rows[i.saturating_sub(4)];
            file.push_str(earlier);
            file.push('\n');
        }
    }
    let whole = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    assert!(whole.counts.duplicates > 60, "{:?}", whole.counts);
    // Each repeat is named with its own row: the whole row, or its start and `…` (an
    // excerpt is at most 64 bytes, cut at a character boundary).
    let lines: Vec<&str> = file.lines().collect();
    for e in &whole.errors {
        assert!(matches!(e.reason, Reason::DuplicateRow { .. }), "{e:?}");
        let row = lines[(e.line - 1) as usize].replace('"', "");
        match e.value.strip_suffix('…') {
            Some(start) => assert!(start.len() > 60 && row.starts_with(start), "{e:?}"),
            None => assert_eq!(e.value, row),
        }
    }
    for step in [1, 7, 50, 97, 256, 4096] {
        let reader = Trickle {
            data: file.as_bytes(),
            step,
        };
        let read = validate_reader(reader, &ValidationConfig::default()).unwrap();
        assert_eq!(read.errors, whole.errors, "step {step}");
        assert_eq!(read.counts, whole.counts, "step {step}");
    }
}

#[test]
fn errors_are_all_counted_but_kept_up_to_the_limit() {
    let mut file = format!("{HEADER}\n");
    for i in 0..10 {
        file.push_str(&format!("S1,01-06-2024 09:{i:02},1,1.234\n"));
    }
    let v = validate_bytes(
        file.as_bytes(),
        &ValidationConfig::default().with_max_errors(3),
    );
    assert_eq!(v.error_count, 10);
    assert_eq!(v.errors.len(), 3);
    assert_eq!(v.errors[2].line, 4);
    let report = v.import("f.csv", ImportMode::Atomic).report;
    assert!(report.errors_truncated);
    assert_eq!(report.counts.invalid, 10);
}

#[test]
fn every_field_error_of_a_row_is_reported() {
    let file = format!("{HEADER}\n,2024-06-01 09:00,1.5,\"1,000\"\n");
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let reasons: Vec<Reason> = v.errors.iter().map(|e| e.reason).collect();
    assert_eq!(
        reasons,
        vec![
            Reason::Empty,
            Reason::DateTimeLayout { position: Some(2) },
            Reason::NotWholeNumber,
            Reason::ThousandsSeparator
        ]
    );
    assert_eq!(v.counts.invalid, 1);
}

#[test]
fn an_overlong_row_is_refused_without_buffering_and_reading_goes_on() {
    let long = "9".repeat(10_000);
    let file =
        format!("{HEADER}\nS1,01-06-2024 09:00,1,{long}\nS1,01-06-2024 10:00,1,x\nS1,01-06-2024 11:00,2,3\n");
    let config = ValidationConfig::default().with_max_row_bytes(256);
    let v = validate_bytes(file.as_bytes(), &config);
    let places: Vec<(u64, Reason)> = v.errors.iter().map(|e| (e.line, e.reason)).collect();
    assert_eq!(
        places,
        vec![
            (2, Reason::RowTooLong { limit: 256 }),
            (3, Reason::NoDigits)
        ]
    );
    assert_eq!(v.counts.valid, 1);
    let header_only = validate_bytes(format!("{long}\n").as_bytes(), &config);
    assert_eq!(
        header_only.header_problems,
        vec![HeaderProblem::HeaderTooLong]
    );
}

#[test]
fn a_read_error_stops_with_the_offset_reached() {
    let err = validate_reader(Failing { ok: 100 }, &ValidationConfig::default()).unwrap_err();
    let SalesFileError::Io { byte, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(byte, 100);
}

#[test]
fn duplicates_can_be_turned_off_and_any_store_is_accepted_without_a_list() {
    let file = format!("{HEADER}\nANY,01-06-2024 09:00,1,1\nANY,01-06-2024 09:00,1,1\n");
    let on = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    assert_eq!(on.counts.duplicates, 1);
    let off = validate_bytes(
        file.as_bytes(),
        &ValidationConfig::default().with_detect_duplicates(false),
    );
    assert!(off.is_valid());
    assert_eq!(off.sales.totals(), (2, 200));
}

#[test]
fn a_file_with_only_blank_rows_is_empty_not_rejected() {
    let file = format!("{HEADER}\r\n,,,\r\n\r\n");
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let import = v.import("f", ImportMode::Atomic);
    assert_eq!(import.report.outcome, Outcome::Empty);
    assert_eq!(import.report.counts.blank, 1);
}

#[test]
fn records_follow_each_stores_zone_and_dst() {
    // 27 October 2024, Europe/London falls back at 02:00 BST to 01:00 GMT.
    let file = format!(
        "{HEADER}\nLON,27-10-2024 00:30,1,1\nLON,27-10-2024 01:30,1,1\nLON,27-10-2024 02:30,1,1\nKUL,27-10-2024 01:30,1,1\n"
    );
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let london = Zone::iana("Europe/London").unwrap();
    let kl = Zone::iana("Asia/Kuala_Lumpur").unwrap();
    let records = v
        .sales
        .records(|store| if store == "LON" { london } else { kl });
    let starts: Vec<(&str, i64, i32)> = records
        .iter()
        .map(|r| (r.store.as_str(), r.start, r.offset.seconds()))
        .collect();
    assert_eq!(
        starts,
        vec![
            ("LON", 1_729_983_600, 3600), // 00:00 BST = 23:00 UTC the day before
            ("LON", 1_729_987_200, 3600), // 01:00 occurs twice; the earlier (BST) is taken
            ("LON", 1_729_994_400, 0),    // 02:00 GMT
            ("KUL", 1_729_962_000, 8 * 3600),
        ]
    );
}

#[test]
fn sorted_then_unsorted_rows_still_sum_per_hour() {
    // In key order first (no hashing), then back to an earlier hour and store.
    let file = format!(
        "{HEADER}\nS1,01-06-2024 10:00,1,1\nS1,01-06-2024 11:00,2,2\nS2,01-06-2024 09:00,4,4\nS1,01-06-2024 10:30,8,8\nS2,01-06-2024 09:59,16,16\nS1,01-06-2024 12:00,32,32\n"
    );
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let hours: Vec<(&str, String, u64, u64)> = v
        .sales
        .iter()
        .map(|h| {
            (
                h.store,
                h.hour.format("%H").to_string(),
                h.transactions,
                h.rows,
            )
        })
        .collect();
    assert_eq!(
        hours,
        vec![
            ("S1", "10".to_owned(), 9, 2),
            ("S1", "11".to_owned(), 2, 1),
            ("S1", "12".to_owned(), 32, 1),
            ("S2", "09".to_owned(), 20, 2),
        ]
    );
}
