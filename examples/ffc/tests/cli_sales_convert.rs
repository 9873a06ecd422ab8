//! `ffc sales convert`: a sales CSV joined with footfall from the files the other commands
//! write (record CSV, record JSON lines, stored events), with completeness flags.
mod common;

use common::ffc;
use ffc_core::{
    CameraSerial, CountEvent, CountRecord, Metric, PeopleId, PeopleType, RoiId, SiteId, Source,
    Subject, UtcOffset, Zone,
};

const DAY: i64 = 1_718_582_400; // 2024-06-17 00:00 UTC
const A: CameraSerial = CameraSerial::from_u64(0x6afc_e315);
const B: CameraSerial = CameraSerial::from_u64(0x6afc_e316);
const C: CameraSerial = CameraSerial::from_u64(0x6afc_e317);

fn record(subject: Subject, hour: i64, count_in: u64) -> CountRecord {
    CountRecord {
        subject,
        start: DAY + hour * 3600,
        length: 3600,
        offset: UtcOffset::UTC,
        count_in,
        count_out: count_in,
        outside: None,
        source: Source::DevicePull,
    }
}

fn event(people: u64, minute: i64) -> CountEvent {
    CountEvent {
        serial: C,
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(people),
        start: DAY + 10 * 3600 + minute * 60,
        end: DAY + 10 * 3600 + minute * 60 + 1,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::WebSocket,
    }
}

#[test]
fn conversion_per_hour_and_day_with_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    // Store S1 = counters A and B: A reports every hour (10 + h in), B every hour but
    // 14:00 (5 in). Written as `ffc device pull` prints records.
    let mut records = Vec::new();
    for h in 0..24 {
        records.push(record(Subject::Counter(A), h, 10 + h as u64));
        if h != 14 {
            records.push(record(Subject::Counter(B), h, 5));
        }
    }
    let csv = ffc_cli::args::records(&records, ffc_cli::args::RecordFormat::Csv, &Zone::UTC)
        .expect("records csv");
    std::fs::write(path("footfall.csv"), csv).expect("write");
    // Store S2 = site 9, as `ffc server export --format json` prints it: complete.
    let site: Vec<CountRecord> = (0..24)
        .map(|h| record(Subject::Site(SiteId(9)), h, 40))
        .collect();
    let json = ffc_cli::args::records(&site, ffc_cli::args::RecordFormat::Json, &Zone::UTC)
        .expect("records json");
    std::fs::write(path("site.jsonl"), json).expect("write");
    let mut sales = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
    for h in 8..20 {
        sales.push_str(&format!("S1,17-06-2024 {h:02}:10,2,20.00\n"));
        sales.push_str(&format!("S2,17-06-2024 {h:02}:20,4,10.50\n"));
    }
    sales.push_str("S3,17-06-2024 10:00,1,1\n");
    sales.push_str("S1,17-06-2024 11:00,x,1\n");
    std::fs::write(path("sales.csv"), &sales).expect("write");

    let store = format!("S1={A},{B}");
    let (ok, out, err) = ffc(&[
        "sales",
        "convert",
        &path("sales.csv"),
        "--footfall",
        &path("footfall.csv"),
        "--store",
        &store,
        "--open",
        "08:00",
        "--close",
        "20:00",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("no footfall for S2, S3"), "{err}");
    assert!(err.contains("1 with errors left out"), "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let s1: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[col("store")] == "S1").collect();
    assert_eq!(s1.len(), 24, "every hour of the sales day");
    for r in &s1 {
        let hour: i64 = r[col("local_hour")][11..13].parse().expect("hour");
        if !(8..20).contains(&hour) {
            assert_eq!(&r[col("transactions")], "0");
            continue;
        }
        if hour == 14 {
            assert_eq!(&r[col("completeness")], "partial");
            assert_eq!(&r[col("flag")], "partial_footfall");
            assert_eq!(&r[col("conversion")], "", "no rate from partial footfall");
        } else {
            assert_eq!(&r[col("completeness")], "complete");
            assert_eq!(&r[col("flag")], "");
            let footfall = 15 + hour as u64;
            assert_eq!(r[col("footfall_in")].parse::<u64>().expect("n"), footfall);
            assert_eq!(
                &r[col("conversion")],
                format!("{:.4}", 2.0 / footfall as f64)
            );
            assert_eq!(&r[col("atv")], "10.0000");
        }
    }
    assert!(rows.iter().all(|r| &r[col("store")] != "S3"));

    // Per day, JSON: S1's day rate is withheld (14:00 is partial); S2 (a site) is whole.
    let (ok, out, err) = ffc(&[
        "sales",
        "convert",
        &path("sales.csv"),
        "--footfall",
        &path("footfall.csv"),
        "--store",
        &store,
        "--per",
        "day",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let days: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["store"], "S1");
    assert_eq!(days[0]["incomplete_hours"], 1);
    assert!(days[0]["conversion_rate"].is_null());
    let (ok, out, err) = ffc(&[
        "sales",
        "convert",
        &path("sales.csv"),
        "--footfall",
        &path("site.jsonl"),
        "--store",
        "S2=site:9",
        "--per",
        "day",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let days: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["store"], "S2");
    assert_eq!(days[0]["transactions"], 48);
    assert_eq!(days[0]["footfall_in"], 12 * 40);
    assert_eq!(days[0]["conversion_rate"], 0.1);
}

#[test]
fn stored_events_are_footfall_and_bad_inputs_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    // What `ffc listen ws --events` stores: four visitors in at 10:xx.
    let lines: String = (0..4)
        .map(|n| serde_json::to_string(&event(n, n as i64 * 5)).expect("json") + "\n")
        .collect();
    std::fs::write(path("events.jsonl"), lines).expect("write");
    std::fs::write(
        path("sales.csv"),
        "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\nS4,17-06-2024 10:30,1,8\nS4,17-06-2024 11:30,1,8\n",
    )
    .expect("write");
    let store = format!("S4={C}");
    let (ok, out, err) = ffc(&[
        "sales",
        "convert",
        &path("sales.csv"),
        "--footfall",
        &path("events.jsonl"),
        "--store",
        &store,
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let hours: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let at = |h: i64| {
        hours
            .iter()
            .find(|v| v["start"] == DAY + h * 3600)
            .unwrap_or_else(|| panic!("hour {h} in {out}"))
    };
    assert_eq!(at(10)["footfall_in"], 4);
    assert_eq!(at(10)["conversion_rate"], 0.25);
    // No event at 11:00: the counter's silence is not a zero.
    assert_eq!(at(11)["flag"], "sales_without_footfall");
    assert!(at(11)["conversion_rate"].is_null());

    // A store mapped to a site and a counter at once; a bad serial; a footfall file of
    // something else; a bad record line.
    for (store, footfall, word) in [
        (format!("S4=site:1,{C}"), "events.jsonl", "not both"),
        ("S4=12xz".to_owned(), "events.jsonl", "not a counter serial"),
        (store.clone(), "sales.csv", "is not the record CSV"),
    ] {
        let (ok, _, err) = ffc(&[
            "sales",
            "convert",
            &path("sales.csv"),
            "--footfall",
            &path(footfall),
            "--store",
            &store,
        ]);
        assert!(!ok);
        assert!(err.contains(word), "{word}: {err}");
    }
    std::fs::write(
        path("bad.csv"),
        format!(
            "{}\n{C},{DAY},x,3600,1,1,DevicePull\n{C},{DAY},x,3600,-1,1,DevicePull\n",
            ffc_cli::args::RECORD_HEADER
        ),
    )
    .expect("write");
    let (ok, _, err) = ffc(&[
        "sales",
        "convert",
        &path("sales.csv"),
        "--footfall",
        &path("bad.csv"),
        "--store",
        &store,
    ]);
    assert!(!ok);
    assert!(err.contains("line 3: in is negative"), "{err}");
}
