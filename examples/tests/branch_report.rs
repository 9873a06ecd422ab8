//! Runs the main-job example on its shipped sample and checks what it reports.
use std::process::Command;

#[test]
fn sample_report_flags_the_offline_counter_and_drops_the_resend() {
    let out = Command::new(env!("CARGO_BIN_EXE_branch_report"))
        .output()
        .expect("run branch_report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("394 events counted, 1 resent duplicates dropped"),
        "{text}"
    );
    let partial: Vec<&str> = text.lines().filter(|l| l.contains("partial:")).collect();
    assert_eq!(partial.len(), 1, "{text}");
    assert!(partial[0].contains("2020-06-17 14:00"), "{text}");
    assert!(partial[0].contains("missing 000000006afce316"), "{text}");
    assert!(
        text.contains("A01 footfall in: 118 — NOT complete: 1 open hour(s)"),
        "{text}"
    );
    // The branch whose only counter never went offline is complete all day.
    let pavilion = text.split("Pavilion").nth(1).expect("second branch");
    assert!(pavilion.contains("— complete"), "{text}");
}

#[test]
fn a_malformed_event_line_is_reported_with_its_line_number() {
    let dir = std::env::temp_dir().join(format!("ffc-branch-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"CameraSerial\":\"000000006afce315\",\"RoiId\":1,\"MetricId\":9,\"PeopleTypeId\":1,\"PeopleId\":1,\"EventStartTime\":1,\"EventEndTime\":1}\n",
    )
    .expect("write");
    let branches = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample-branches.json");
    let out = Command::new(env!("CARGO_BIN_EXE_branch_report"))
        .arg(&events)
        .arg(branches)
        .output()
        .expect("run branch_report");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("events.jsonl:1:") && err.contains("MetricId 9"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
