//! Unit tests of the memory, channel and file sinks.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Arc;

use tokio::sync::mpsc;

use ffc_core::{CameraSerial, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};

use super::*;

fn event(n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0xabc),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start: 1_700_000_000,
        end: 1_700_000_001,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::WebSocket,
    }
}

#[tokio::test]
async fn memory_sink_dedupes_and_is_bounded() {
    let sink = MemorySink::with_limit(2);
    assert_eq!(sink.accept(&event(1)).await.unwrap(), Accepted::Stored);
    assert_eq!(sink.accept(&event(1)).await.unwrap(), Accepted::Duplicate);
    assert_eq!(sink.accept(&event(2)).await.unwrap(), Accepted::Stored);
    assert!(matches!(
        sink.accept(&event(3)).await,
        Err(SinkError::Full { limit: 2 })
    ));
    assert_eq!(sink.events(), vec![event(1), event(2)]);
}

#[tokio::test]
async fn channel_sink_forwards_once() {
    let (tx, mut rx) = mpsc::channel(4);
    let sink = ChannelSink::with_window(tx, 1);
    assert_eq!(sink.accept(&event(1)).await.unwrap(), Accepted::Stored);
    assert_eq!(sink.accept(&event(1)).await.unwrap(), Accepted::Duplicate);
    assert_eq!(sink.accept(&event(2)).await.unwrap(), Accepted::Stored);
    // The window holds one key: event 1 has left it.
    assert_eq!(sink.accept(&event(1)).await.unwrap(), Accepted::Stored);
    assert_eq!(rx.recv().await, Some(event(1)));
    assert_eq!(rx.recv().await, Some(event(2)));
    assert_eq!(rx.recv().await, Some(event(1)));
    drop(rx);
    assert!(matches!(
        sink.accept(&event(9)).await,
        Err(SinkError::Closed)
    ));
}

#[tokio::test]
async fn file_sink_survives_reopen_torn_lines_and_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.jsonl");
    let sink = Arc::new(FileSink::open(&path).unwrap());
    let mut tasks = Vec::new();
    for n in 0..200u64 {
        let sink = sink.clone();
        // Every event twice, concurrently: each stored once.
        tasks.push(tokio::spawn(
            async move { sink.accept(&event(n % 100)).await },
        ));
    }
    let mut stored = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() == Accepted::Stored {
            stored += 1;
        }
    }
    assert_eq!(stored, 100);
    drop(sink);
    // A torn last line, as a crash mid-write leaves it.
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"CameraSerial\":\"00000").unwrap();
    drop(f);
    let sink = FileSink::open(&path).unwrap();
    assert_eq!(sink.accept(&event(5)).await.unwrap(), Accepted::Duplicate);
    assert_eq!(sink.accept(&event(100)).await.unwrap(), Accepted::Stored);
    drop(sink);
    let mut all = read_events(&path).unwrap();
    assert_eq!(all.len(), 101);
    all.sort_by_key(|e| e.people_id);
    assert_eq!(all, (0..=100).map(event).collect::<Vec<_>>());
}

#[tokio::test]
async fn file_sink_refuses_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.jsonl");
    std::fs::write(&path, "{\"not\":\"an event\"}\n").unwrap();
    match FileSink::open(&path) {
        Err(SinkError::Corrupt { line: 1, .. }) => {}
        other => panic!("expected Corrupt at line 1, got {other:?}"),
    }
}

#[tokio::test]
async fn dead_letters_keep_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead.jsonl");
    let sink = FileDeadLetters::open(&path).unwrap();
    let letter = DeadLetter {
        received_at: 1,
        origin: "ws 127.0.0.1:1 /".into(),
        reason: "binary frame".into(),
        raw: vec![0, 159, 146, 150, b'\n'],
    };
    sink.dead_letter(letter.clone()).await.unwrap();
    sink.dead_letter(letter.clone()).await.unwrap();
    drop(sink);
    assert_eq!(
        read_dead_letters(&path).unwrap(),
        vec![letter.clone(), letter]
    );
}
