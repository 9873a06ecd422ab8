//! `ffc listen ws` with counters pushing over real WebSocket (ffc-protocols' sender), and
//! `ffc sales validate` on valid and broken files.
mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ffc, runtime};
use ffc_device::sim::{DeviceSimConfig, Simulator};
use ffc_protocols::ws::sender::{Sender, SenderConfig};

#[test]
fn listen_ws_prints_every_event_a_counter_sends_once() {
    let rt = runtime();
    let sim = rt
        .block_on(Simulator::start(DeviceSimConfig::default()))
        .expect("simulator");
    let events: Vec<_> = sim
        .events(1_592_395_200, 1_592_398_800) // 2020-06-17 12:00-13:00 UTC
        .into_iter()
        .take(5)
        .collect();
    assert_eq!(events.len(), 5);

    let mut child = Command::new(env!("CARGO_BIN_EXE_ffc"))
        .args(["listen", "ws", "--bind", "127.0.0.1:0", "--max-events", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffc listen");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();

    rt.block_on(async {
        let mut config = SenderConfig::new(url);
        config.ack_timeout = Duration::from_secs(10);
        let mut sender: Sender = Sender::new(config);
        sender
            .check_connection()
            .await
            .expect("test message answered");
        // The first event twice (a resend the receiver must keep once), then the others.
        sender.push(events[0]).expect("push");
        for e in &events {
            sender.push(*e).expect("push");
        }
        let sent = sender
            .deliver_all(Duration::from_secs(20))
            .await
            .expect("deliver");
        assert_eq!(sent, 6);
    });
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest");
    let status = child.wait().expect("exit");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(status.success(), "{err}");
    let printed: Vec<ffc_core::CountEvent> = rest
        .lines()
        .map(|l| serde_json::from_str(l).expect("event line"))
        .collect();
    assert_eq!(printed.len(), 5);
    for (p, e) in printed.iter().zip(&events) {
        assert_eq!(p.key(), e.key());
    }
    assert!(
        err.contains("5 events kept, 1 duplicates, 1 test messages"),
        "{err}"
    );
}

#[test]
fn sales_validate_reports_and_rejects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
         S001,17-06-2020 11:05,3,45.50\n\
         S002,17-06-2020 12:00,1,9.99\n",
    )
    .expect("write");
    let batches = dir.path().join("batches.json");
    let (ok, out, err) = ffc(&[
        "sales",
        "validate",
        &good.display().to_string(),
        "--store",
        "S001",
        "--store",
        "S002",
        "--batches",
        &batches.display().to_string(),
    ]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("report");
    assert_eq!(report["outcome"], "imported");
    assert_eq!(report["imported_days"], 2);
    let batches: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&batches).expect("batches")).expect("json");
    assert_eq!(batches.as_array().expect("array").len(), 2);

    let (ok, out, err) = ffc(&[
        "sales",
        "validate",
        &good.display().to_string(),
        "--store",
        "S001",
    ]);
    assert!(!ok);
    let report: serde_json::Value = serde_json::from_str(&out).expect("report");
    assert_eq!(report["outcome"], "rejected");
    assert_eq!(report["errors"][0]["line"], 3);
    assert!(err.contains("rejected, 1 errors"), "{err}");

    let (ok, out, _) = ffc(&[
        "sales",
        "validate",
        &good.display().to_string(),
        "--store",
        "S001",
        "--valid-rows-only",
    ]);
    assert!(ok);
    let report: serde_json::Value = serde_json::from_str(&out).expect("report");
    assert_eq!(report["outcome"], "partially_imported");
}
