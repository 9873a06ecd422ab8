//! The file readers' tests: header mapping, errors in place, FTP names, partial days.

use super::*;
use chrono::NaiveDate;
use ffc_core::aggregate::Series;
use ffc_core::rollup::{BranchSpec, Completeness};
use proptest::prelude::*;

#[test]
fn any_column_order_and_tabs() {
    let txt = b"ValueOut\tOutsideTraffic\tDateTime\tValueIn\tCameraSerial\n5\t\t2024-01-31 13:00\t7\t000000006afce315\n";
    let opts = ExportFileOptions::new(
        Pattern::new("yyyy-MM-dd").unwrap(),
        Pattern::new("HH:mm").unwrap(),
    );
    let f = read_export("a.txt", txt, &opts).unwrap();
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    let r = &f.rows[0];
    assert_eq!((r.count_in, r.count_out, r.outside), (7, 5, None));
    assert_eq!(r.local.to_string(), "2024-01-31 13:00:00");
    assert_eq!(r.serial, Some(CameraSerial::from_u64(0x6afc_e315)));
    assert_eq!(r.line, 2);
}

#[test]
fn custom_headers_and_errors_name_file_line_reason() {
    let csv = "\u{feff}Jour;Entrées;Sorties\n01/02/2024;3;4\n30/02/2024;1;1\n02/02/2024;-1;0\n";
    let opts = ExportFileOptions::default()
        .with_header(Column::Date, "Jour")
        .with_header(Column::In, "Entrées")
        .with_header(Column::Out, "Sorties");
    let f = read_export("fr.csv", csv.as_bytes(), &opts).unwrap();
    assert_eq!(f.rows.len(), 1);
    assert_eq!(f.errors.len(), 2);
    assert_eq!(f.errors[0].line, 3);
    assert_eq!(
        f.errors[0].reason,
        Reason::BadDate {
            value: "30/02/2024".into()
        }
    );
    assert_eq!(f.errors[1].line, 4);
    assert!(
        f.errors[1].to_string().starts_with("fr.csv:4 (byte"),
        "{}",
        f.errors[1]
    );
    let missing = read_export("x.csv", b"Date,In\n", &ExportFileOptions::default()).unwrap_err();
    assert_eq!(missing.reason, Reason::MissingColumn("ValueOut"));
    assert_eq!(
        read_export("e.csv", b"", &ExportFileOptions::default())
            .unwrap_err()
            .reason,
        Reason::Empty
    );
}

#[test]
fn invalid_utf8_is_a_row_error() {
    let mut bytes = b"Date,In,Out\n01/02/2024,1,2\n".to_vec();
    bytes.extend_from_slice(b"01/02/2024,\xff,2\n02/02/2024,5,6\n");
    let f = read_export("bin.csv", &bytes, &ExportFileOptions::default()).unwrap();
    assert_eq!(f.rows.len(), 2);
    assert_eq!(f.errors.len(), 1);
    assert_eq!(f.errors[0].line, 3);
}

#[test]
fn ftp_names() {
    assert_eq!(
        parse_ftp_name("in/000000006afce315_20240501.csv"),
        Some((
            CameraSerial::from_u64(0x6afc_e315),
            NaiveDate::from_ymd_opt(2024, 5, 1).unwrap()
        ))
    );
    assert_eq!(parse_ftp_name("zz_20240501.csv"), None);
    assert_eq!(parse_ftp_name("000000006afce315_20240231.csv"), None);
}

const DAY1: &[u8] =
    b"DateTime,ValueIn,ValueOut\n01/05/2024 10:01:00,3,1\n01/05/2024 10:02:00,2,2\n";
const DAY1B: &[u8] = b"DateTime,ValueIn,ValueOut\n01/05/2024 18:00:00,10,9\n";
const DAY2: &[u8] = b"DateTime,ValueIn,ValueOut\n02/05/2024 11:00:00,4,4\n";

/// Counters a and b of branch 7, the 1st and 2nd of May 2024 at UTC+8.
struct Branch {
    a: CameraSerial,
    b: CameraSerial,
    spec: BranchSpec,
    d1: NaiveDate,
    d2: NaiveDate,
    zone: Zone,
}

fn branch() -> Branch {
    let (a, b) = (CameraSerial::from_u64(0xa), CameraSerial::from_u64(0xb));
    Branch {
        a,
        b,
        spec: BranchSpec {
            site: SiteId(7),
            counters: vec![a, b],
        },
        d1: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
        d2: NaiveDate::from_ymd_opt(2024, 5, 2).unwrap(),
        zone: Zone::Fixed(ffc_core::UtcOffset::from_seconds(8 * 3600).unwrap()),
    }
}

impl Branch {
    /// Both counters' files for the 1st; counter b's file for the 2nd never arrived.
    fn files(&self) -> [CounterDayFile<'static>; 3] {
        let file = |name, serial, day, bytes| CounterDayFile {
            name,
            serial,
            day,
            bytes,
        };
        [
            file("a1.csv", self.a, self.d1, DAY1),
            file("b1.csv", self.b, self.d1, DAY1B),
            file("a2.csv", self.a, self.d2, DAY2),
        ]
    }

    fn combine(&self, files: &[CounterDayFile<'_>], resolution: Resolution) -> BranchFromFiles {
        let opts = ExportFileOptions::default();
        combine_branch(
            &self.spec, files, self.d1, self.d2, resolution, self.zone, &opts,
        )
        .unwrap()
    }
}

#[test]
fn missing_counter_file_makes_the_day_partial_naming_it() {
    let br = branch();
    let out = br.combine(&br.files(), Resolution::Day);
    assert!(out.errors.is_empty());
    let days = &out.series.buckets;
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].completeness, Completeness::Complete);
    assert_eq!(days[0].counts.visitors_in, 15);
    assert_eq!(
        days[1].completeness,
        Completeness::Partial {
            missing: vec![br.b]
        }
    );
    assert_eq!(days[1].counts.visitors_in, 4);
}

#[test]
fn missing_counter_file_makes_every_hour_of_the_day_partial() {
    // Hourly: every hour of the 2nd is partial naming b, the 1st is complete.
    let br = branch();
    let hourly = br.combine(&br.files(), Resolution::Hour);
    assert_eq!(hourly.series.buckets.len(), 48);
    assert!(hourly.series.buckets[..24]
        .iter()
        .all(|x| x.completeness == Completeness::Complete));
    assert!(hourly.series.buckets[24..].iter().all(|x| x.completeness
        == Completeness::Partial {
            missing: vec![br.b]
        }));
}

#[test]
fn a_row_outside_the_files_day_is_reported_not_counted() {
    let br = branch();
    let stray = [CounterDayFile {
        name: "a1.csv",
        serial: br.a,
        day: br.d2,
        bytes: DAY1,
    }];
    let out = br.combine(&stray, Resolution::Day);
    assert_eq!(out.errors.len(), 2);
    assert!(matches!(out.errors[0].reason, Reason::OutsideDay { .. }));
}

proptest! {
    #[test]
    /// The fuzz target's entry points (fuzz/fuzz_targets/file_reader.rs), on stable.
    fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let opts = ExportFileOptions::default();
        if let Ok(f) = read_export("fuzz.csv", &bytes, &opts) {
            prop_assert!(f.errors.iter().all(|e| e.line >= 1));
        }
        let mut series = Series::new(Resolution::Hour, Zone::UTC);
        let mut errors = Vec::new();
        let file = CounterDayFile {
            name: "f.csv",
            serial: CameraSerial::from_u64(1),
            day: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
            bytes: &bytes,
        };
        let _ = read_counter_day(&file, &opts, &mut series, &mut errors);
    }

    #[test]
    /// Text shaped like an export, with arbitrary cells, never panics.
    fn shaped_files_never_panic(cells in proptest::collection::vec("[0-9a-z/:,;\\t \"-]{0,12}", 0..40)) {
        let mut text = String::from("DateTime,ValueIn,ValueOut,CameraSerial\n");
        for chunk in cells.chunks(4) {
            text += &chunk.join(",");
            text.push('\n');
        }
        let _ = read_export("shaped.csv", text.as_bytes(), &ExportFileOptions::default());
    }

    /// Rows written in any column order read back to the same values.
    #[test]
    fn written_rows_read_back(rows in proptest::collection::vec((0u32..3650, 0u32..24, 0u64..100_000, 0u64..100_000), 1..40), swap in any::<bool>()) {
        let epoch = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
        let mut text = if swap { String::from("ValueOut,Time,Date,ValueIn\n") } else { String::from("Date,Time,ValueIn,ValueOut\n") };
        let mut want = Vec::new();
        for (d, h, i, o) in &rows {
            let day = epoch + chrono::Duration::days(i64::from(*d));
            let local = day.and_hms_opt(*h, 0, 0).unwrap();
            let ds = day.format("%d/%m/%Y").to_string();
            let ts = format!("{h:02}:00:00");
            if swap { text += &format!("{o},{ts},{ds},{i}\n"); } else { text += &format!("{ds},{ts},{i},{o}\n"); }
            want.push((local, *i, *o));
        }
        let f = read_export("p.csv", text.as_bytes(), &ExportFileOptions::default()).unwrap();
        prop_assert!(f.errors.is_empty());
        let got: Vec<_> = f.rows.iter().map(|r| (r.local, r.count_in, r.count_out)).collect();
        prop_assert_eq!(got, want);
    }
}
