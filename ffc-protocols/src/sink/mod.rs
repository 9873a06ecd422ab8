//! Where received events go: the [`EventSink`] trait and its sinks, and the
//! [`DeadLetterSink`] for messages that authenticated but did not decode.
//!
//! Protocol-neutral: the WebSocket receiver and the MQTT subscriber both write here.
//! Every sink is idempotent on [`EventKey`]: [`EventSink::accept`] answers
//! [`Accepted::Duplicate`] for a key it already holds and keeps nothing twice. A transport
//! acknowledges a message only after `accept` returned `Ok` (invariant 1 of DESIGN.md).
//!
//! | sink | keeps | durable when `accept` returns | dedupe window |
//! |---|---|---|---|
//! | [`MemorySink`] | a `Vec` | no | every key held |
//! | [`FileSink`] | JSON lines, append-only | yes (`fdatasync`, group commit) | every key in the file, reloaded on open |
//! | [`ChannelSink`] | a bounded tokio channel | when the receiver has it | the last [`ChannelSink::DEFAULT_WINDOW`] keys |
//! | `postgres::PgSink` (feature `postgres`) | PostgreSQL tables, with hourly totals | yes (after `COMMIT`, group commit) | every key in the table |
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use ffc_protocols::sink::{Accepted, EventSink, FileSink};
//! use ffc_protocols::ws::codec::{decode, Message};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("events.jsonl");
//! let pro2 = br#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;
//! let Message::Event(event) = decode(pro2)? else { unreachable!() };
//!
//! let sink = FileSink::open(&path)?;
//! assert_eq!(sink.accept(&event).await?, Accepted::Stored);
//! assert_eq!(sink.accept(&event).await?, Accepted::Duplicate);
//! drop(sink);
//!
//! // Reopened, it still knows the key: a resend after a restart is not stored twice.
//! let sink = FileSink::open(&path)?;
//! assert_eq!(sink.accept(&event).await?, Accepted::Duplicate);
//! assert_eq!(ffc_protocols::sink::read_events(&path)?, vec![event]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use ffc_core::{CountEvent, EventKey, UnixSeconds};
use tokio::sync::{mpsc, oneshot};

#[cfg(feature = "postgres")]
pub mod postgres;

/// What a sink did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Accepted {
    /// Kept (and, for a durable sink, on disk).
    Stored,
    /// A key the sink already holds: nothing was kept twice. Acknowledge it all the same.
    Duplicate,
}

/// Why a sink did not keep an event. Whatever the variant, the event is **not** kept: do
/// not acknowledge it, so the sender resends it later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Reading or writing the storage failed (disk full, permissions). Fix the storage;
    /// senders resend what was not acknowledged.
    #[error("event storage failed while {doing}: {source}")]
    Io {
        /// What the sink was doing.
        doing: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A stored line that is not what this sink writes. Move or repair the file; the sink
    /// will not append behind data it cannot read.
    #[error("{path}: line {line} is not a stored record ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why it did not parse.
        reason: String,
    },
    /// The sink holds its configured maximum; rotate or drain it.
    #[error("the sink holds its maximum of {limit} records")]
    Full {
        /// The limit.
        limit: usize,
    },
    /// The sink's writer or receiver is gone (shut down or crashed); make a new sink.
    #[error("the sink is closed")]
    Closed,
    /// The database did not confirm the write: it stayed unreachable for the sink's retry
    /// time, or refused the statement. The event is not acknowledged; senders resend it, and
    /// a resend of one that did get committed is answered [`Accepted::Duplicate`]. Check the
    /// database. The message never holds the password.
    #[error("the database did not store the event: {message}")]
    Database {
        /// The database's or driver's message.
        message: String,
    },
    /// This sink can never store this event (a value outside what its storage holds), so a
    /// resend will fail the same way: dead-letter it.
    #[error("the sink cannot store this event: {reason}")]
    Unstorable {
        /// Which value and why.
        reason: String,
    },
}

/// Keeps counting events, idempotently on [`CountEvent::key`].
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Keeps `event`. Returns once the event is kept as well as this sink keeps anything
    /// (for [`FileSink`], synced to disk), or was already held.
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError>;
}

#[async_trait]
impl<S: EventSink + ?Sized> EventSink for Arc<S> {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        (**self).accept(event).await
    }
}

/// A message that authenticated but could not be used, kept with its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    /// When it arrived (UTC unix seconds).
    pub received_at: UnixSeconds,
    /// Where it came from, e.g. `ws 127.0.0.1:50412 /ingest` or an MQTT topic. Never holds
    /// credentials.
    pub origin: String,
    /// Why it was not used (a decode error naming the field or byte offset, a binary frame).
    pub reason: String,
    /// The message exactly as received (base64 in the JSON-lines file).
    #[serde(with = "raw_base64")]
    pub raw: Vec<u8>,
}

mod raw_base64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(raw: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(raw))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Keeps dead letters.
#[async_trait]
pub trait DeadLetterSink: Send + Sync {
    /// Keeps `letter`; returns once it is kept as well as this sink keeps anything.
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError>;
}

#[async_trait]
impl<S: DeadLetterSink + ?Sized> DeadLetterSink for Arc<S> {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        (**self).dead_letter(letter).await
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the Vec/HashSet half-updated in a way
    // that matters here, so a poisoned lock is used as is.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// Memory.

/// Events in memory, for tests, demos and short-lived tools.
#[derive(Debug)]
pub struct MemorySink {
    limit: usize,
    inner: Mutex<(HashSet<EventKey>, Vec<CountEvent>)>,
}

impl MemorySink {
    /// The default maximum number of events held: 1,000,000.
    pub const DEFAULT_LIMIT: usize = 1_000_000;

    /// An empty sink holding at most [`MemorySink::DEFAULT_LIMIT`] events.
    pub fn new() -> Self {
        Self::with_limit(Self::DEFAULT_LIMIT)
    }

    /// An empty sink holding at most `limit` events; past it `accept` fails with
    /// [`SinkError::Full`].
    pub fn with_limit(limit: usize) -> Self {
        MemorySink {
            limit,
            inner: Mutex::new((HashSet::new(), Vec::new())),
        }
    }

    /// The events kept, in arrival order.
    pub fn events(&self) -> Vec<CountEvent> {
        lock(&self.inner).1.clone()
    }

    /// How many events are kept.
    pub fn len(&self) -> usize {
        lock(&self.inner).1.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        let mut guard = lock(&self.inner);
        let (keys, events) = &mut *guard;
        if keys.contains(&event.key()) {
            return Ok(Accepted::Duplicate);
        }
        if events.len() >= self.limit {
            return Err(SinkError::Full { limit: self.limit });
        }
        keys.insert(event.key());
        events.push(*event);
        Ok(Accepted::Stored)
    }
}

/// Dead letters in memory.
#[derive(Debug)]
pub struct MemoryDeadLetters {
    limit: usize,
    letters: Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetters {
    /// The default maximum number of letters held: 10,000.
    pub const DEFAULT_LIMIT: usize = 10_000;

    /// An empty store holding at most [`MemoryDeadLetters::DEFAULT_LIMIT`] letters.
    pub fn new() -> Self {
        MemoryDeadLetters {
            limit: Self::DEFAULT_LIMIT,
            letters: Mutex::new(Vec::new()),
        }
    }

    /// The letters kept, in arrival order.
    pub fn letters(&self) -> Vec<DeadLetter> {
        lock(&self.letters).clone()
    }
}

impl Default for MemoryDeadLetters {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DeadLetterSink for MemoryDeadLetters {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        let mut letters = lock(&self.letters);
        if letters.len() >= self.limit {
            return Err(SinkError::Full { limit: self.limit });
        }
        letters.push(letter);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Channel.

/// Hands events to a bounded tokio channel; `accept` waits while the channel is full, so a
/// slow consumer slows the acknowledgements instead of growing a queue.
#[derive(Debug)]
pub struct ChannelSink {
    tx: mpsc::Sender<CountEvent>,
    window: usize,
    recent: Mutex<(HashSet<EventKey>, VecDeque<EventKey>)>,
}

impl ChannelSink {
    /// Keys remembered for deduplication by default: 100,000.
    pub const DEFAULT_WINDOW: usize = 100_000;

    /// A sink sending into `tx`, deduplicating over the last [`Self::DEFAULT_WINDOW`] keys.
    /// The consumer must itself be idempotent on [`EventKey`] for resends older than that.
    pub fn new(tx: mpsc::Sender<CountEvent>) -> Self {
        Self::with_window(tx, Self::DEFAULT_WINDOW)
    }

    /// As [`ChannelSink::new`], remembering the last `window` keys.
    pub fn with_window(tx: mpsc::Sender<CountEvent>, window: usize) -> Self {
        ChannelSink {
            tx,
            window,
            recent: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }
}

#[async_trait]
impl EventSink for ChannelSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        let key = event.key();
        if lock(&self.recent).0.contains(&key) {
            return Ok(Accepted::Duplicate);
        }
        self.tx.send(*event).await.map_err(|_| SinkError::Closed)?;
        let mut guard = lock(&self.recent);
        let (set, order) = &mut *guard;
        if set.insert(key) {
            order.push_back(key);
            while order.len() > self.window {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
        Ok(Accepted::Stored)
    }
}

// ---------------------------------------------------------------------------------------
// Files: an append-only JSON-lines log with group commit.

struct Append {
    key: Option<EventKey>,
    line: Vec<u8>,
    reply: oneshot::Sender<Result<Accepted, SinkError>>,
}

/// Requests queued for the writer thread at most; further callers wait (backpressure).
const QUEUE: usize = 4096;
/// Requests written by one `write` + `fdatasync` at most.
const BATCH: usize = 1024;

/// The writer thread's handle: appends lines, syncs once per batch (group commit), then
/// answers every caller of the batch.
struct AppendLog {
    tx: mpsc::Sender<Append>,
}

impl AppendLog {
    fn start(file: File, len: u64, keys: HashSet<EventKey>, limit: usize) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("ffc-append-log".into())
            .spawn(move || writer(file, len, keys, limit, rx))?;
        Ok(AppendLog { tx })
    }

    async fn append(&self, key: Option<EventKey>, line: Vec<u8>) -> Result<Accepted, SinkError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Append { key, line, reply })
            .await
            .map_err(|_| SinkError::Closed)?;
        answer.await.map_err(|_| SinkError::Closed)?
    }
}

fn writer(
    mut file: File,
    mut len: u64,
    mut keys: HashSet<EventKey>,
    limit: usize,
    mut rx: mpsc::Receiver<Append>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut buf = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        buf.clear();
        // Outcome per request before the write: Ok(Stored) means "in buf".
        let mut outcomes: Vec<Result<Accepted, SinkError>> = Vec::with_capacity(batch.len());
        let mut new_keys = Vec::new();
        for req in &batch {
            if let Some(key) = req.key {
                if keys.contains(&key) {
                    outcomes.push(Ok(Accepted::Duplicate));
                    continue;
                }
                if keys.len() >= limit {
                    outcomes.push(Err(SinkError::Full { limit }));
                    continue;
                }
                keys.insert(key);
                new_keys.push(key);
            }
            buf.extend_from_slice(&req.line);
            outcomes.push(Ok(Accepted::Stored));
        }
        let written = if buf.is_empty() {
            Ok(())
        } else {
            file.write_all(&buf).and_then(|()| file.sync_data())
        };
        match written {
            Ok(()) => len += buf.len() as u64,
            Err(e) => {
                // Nothing of this batch counts as kept: forget its keys and cut the file
                // back, so a later append does not land behind a torn line.
                for key in &new_keys {
                    keys.remove(key);
                }
                let _ = file.set_len(len).and_then(|()| file.seek(SeekFrom::End(0)));
                for outcome in &mut outcomes {
                    if matches!(outcome, Ok(Accepted::Stored)) {
                        *outcome = Err(SinkError::Io {
                            doing: "appending and syncing",
                            source: io::Error::new(e.kind(), e.to_string()),
                        });
                    }
                }
            }
        }
        for (req, outcome) in batch.drain(..).zip(outcomes) {
            // A caller that went away (connection closed) simply misses its answer.
            let _ = req.reply.send(outcome);
        }
    }
}

/// Opens `path` for appending, creating it (and syncing its directory) when missing, and
/// cuts a torn last line (a write the process died in, never acknowledged). Calls `line`
/// for every complete line with its 1-based number.
fn open_log(
    path: &Path,
    mut line: impl FnMut(usize, &str) -> Result<(), String>,
) -> Result<(File, u64), SinkError> {
    let io_err = |doing| move |source| SinkError::Io { doing, source };
    let existed = path.exists();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_err("opening the file"))?;
    if !existed {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io_err("syncing the directory"))?;
        }
    }
    let mut good: u64 = 0;
    {
        let mut reader = BufReader::new(&mut file);
        let mut text = String::new();
        let mut number = 0usize;
        loop {
            text.clear();
            let n = reader
                .read_line(&mut text)
                .map_err(io_err("reading the file"))?;
            if n == 0 {
                break;
            }
            number += 1;
            let Some(body) = text.strip_suffix('\n') else {
                break; // a torn last line: cut below
            };
            line(number, body).map_err(|reason| SinkError::Corrupt {
                path: path.to_path_buf(),
                line: number,
                reason,
            })?;
            good += n as u64;
        }
    }
    let end = file.seek(SeekFrom::End(0)).map_err(io_err("seeking"))?;
    if end != good {
        file.set_len(good).map_err(io_err("cutting a torn line"))?;
        file.sync_data().map_err(io_err("syncing"))?;
    }
    file.seek(SeekFrom::Start(good))
        .map_err(io_err("seeking"))?;
    Ok((file, good))
}

/// Events appended to a JSON-lines file, one [`CountEvent`] per line (FootfallCam's field
/// names plus `UtcOffsetSeconds`, `UUID`, `Source`). `accept` returns only after the line is
/// synced to disk (`fdatasync`); concurrent callers share one sync (group commit).
///
/// On open the file is read and every key loaded, so deduplication holds across restarts
/// and crashes: a crash can leave the lines of a batch that was written but never
/// acknowledged, and the sender's resend of them is then a duplicate. A torn last line is
/// cut. Keys stay in memory (about 64 bytes each), at most [`FileSink::DEFAULT_LIMIT`]
/// unless set by [`FileSink::open_with_limit`]: rotate files to bound it.
pub struct FileSink {
    log: AppendLog,
}

impl FileSink {
    /// The default maximum number of events in one file: 10,000,000.
    pub const DEFAULT_LIMIT: usize = 10_000_000;

    /// Opens (or creates) `path`. Fails with [`SinkError::Corrupt`] on a complete line that
    /// is not an event.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        Self::open_with_limit(path, Self::DEFAULT_LIMIT)
    }

    /// As [`FileSink::open`], holding at most `limit` events.
    pub fn open_with_limit(path: impl AsRef<Path>, limit: usize) -> Result<Self, SinkError> {
        let mut keys = HashSet::new();
        let (file, len) = open_log(path.as_ref(), |_, text| {
            let event: CountEvent = serde_json::from_str(text).map_err(|e| e.to_string())?;
            keys.insert(event.key());
            Ok(())
        })?;
        let log = AppendLog::start(file, len, keys, limit).map_err(|source| SinkError::Io {
            doing: "starting the writer thread",
            source,
        })?;
        Ok(FileSink { log })
    }
}

impl core::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileSink").finish_non_exhaustive()
    }
}

#[async_trait]
impl EventSink for FileSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        let mut line = serde_json::to_vec(event).map_err(|e| SinkError::Io {
            doing: "encoding the event",
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        self.log.append(Some(event.key()), line).await
    }
}

/// Reads every event of a [`FileSink`] file (a torn last line is skipped).
pub fn read_events(path: impl AsRef<Path>) -> Result<Vec<CountEvent>, SinkError> {
    read_lines(path.as_ref(), |text| {
        serde_json::from_str(text).map_err(|e| e.to_string())
    })
}

/// Reads every letter of a [`FileDeadLetters`] file (a torn last line is skipped).
pub fn read_dead_letters(path: impl AsRef<Path>) -> Result<Vec<DeadLetter>, SinkError> {
    read_lines(path.as_ref(), |text| {
        serde_json::from_str(text).map_err(|e| e.to_string())
    })
}

fn read_lines<T>(
    path: &Path,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, SinkError> {
    let file = File::open(path).map_err(|source| SinkError::Io {
        doing: "opening the file",
        source,
    })?;
    let mut out = Vec::new();
    let mut reader = BufReader::new(file);
    let mut text = String::new();
    let mut number = 0;
    loop {
        text.clear();
        reader
            .read_line(&mut text)
            .map_err(|source| SinkError::Io {
                doing: "reading the file",
                source,
            })?;
        number += 1;
        let Some(body) = text.strip_suffix('\n') else {
            break; // end of file, or a torn last line
        };
        out.push(parse(body).map_err(|reason| SinkError::Corrupt {
            path: path.to_path_buf(),
            line: number,
            reason,
        })?);
    }
    Ok(out)
}

/// Dead letters appended to a JSON-lines file (`received_at`, `origin`, `reason`, `raw` in
/// base64), each synced to disk before `dead_letter` returns.
pub struct FileDeadLetters {
    log: AppendLog,
}

impl FileDeadLetters {
    /// Opens (or creates) `path`; a torn last line is cut.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        let (file, len) = open_log(path.as_ref(), |_, _| Ok(()))?;
        let log = AppendLog::start(file, len, HashSet::new(), usize::MAX).map_err(|source| {
            SinkError::Io {
                doing: "starting the writer thread",
                source,
            }
        })?;
        Ok(FileDeadLetters { log })
    }
}

impl core::fmt::Debug for FileDeadLetters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileDeadLetters").finish_non_exhaustive()
    }
}

#[async_trait]
impl DeadLetterSink for FileDeadLetters {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        let mut line = serde_json::to_vec(&letter).map_err(|e| SinkError::Io {
            doing: "encoding the letter",
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        self.log.append(None, line).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffc_core::{CameraSerial, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};

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
}
