//! The JSON-lines file sinks: [`FileSink`] for events, [`FileDeadLetters`] for dead letters,
//! and the readers of both files.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use ffc_core::{CountEvent, UnixSeconds};

use super::append_log::{open_log, AppendLog};
use super::session::{rfc3339, Clock, SessionRecord};
use super::{Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

/// Events appended to a JSON-lines file, one [`CountEvent`] per line (FootfallCam's field
/// names plus `UtcOffsetSeconds`, `UUID`, `Source`, and `received_utc`: when the receiver
/// kept it, RFC 3339 UTC). `accept` returns only after the line is synced to disk
/// (`fdatasync`); concurrent callers share one sync (group commit).
///
/// Connection sessions and heartbeats ([`EventSink::session`]) go to the sibling file
/// [`sessions_path`] (`FILE.sessions`), one [`SessionRecord`] per line.
///
/// On open the file is read and every key loaded, so deduplication holds across restarts
/// and crashes: a crash can leave the lines of a batch that was written but never
/// acknowledged, and the sender's resend of them is then a duplicate. A torn last line is
/// cut. Keys stay in memory (about 64 bytes each), at most [`FileSink::DEFAULT_LIMIT`]
/// unless set by [`FileSink::open_with_limit`]: rotate files to bound it.
pub struct FileSink {
    log: AppendLog,
    sessions: AppendLog,
    clock: Clock,
}

/// The sibling file a [`FileSink`] on `events` keeps its sessions in: `events` with
/// `.sessions` appended (`events.jsonl` → `events.jsonl.sessions`).
pub fn sessions_path(events: impl AsRef<Path>) -> PathBuf {
    let mut path = events.as_ref().as_os_str().to_owned();
    path.push(".sessions");
    PathBuf::from(path)
}

/// One events-file line: the event's JSON with `received_utc` added, and the newline.
pub(crate) fn event_line(event: &CountEvent, received_utc: UnixSeconds) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(event).map_err(io::Error::other)?;
    if line.pop() != Some(b'}') {
        return Err(io::Error::other("an event did not encode as a JSON object"));
    }
    line.extend_from_slice(b",\"received_utc\":\"");
    line.extend_from_slice(rfc3339::format(received_utc).as_bytes());
    line.extend_from_slice(b"\"}\n");
    Ok(line)
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
        let start = |file, len, keys| {
            AppendLog::start(file, len, keys, limit).map_err(|source| SinkError::Io {
                doing: "starting the writer thread",
                source,
            })
        };
        let log = start(file, len, keys)?;
        let (file, len) = open_log(&sessions_path(path), |_, text| {
            serde_json::from_str::<SessionRecord>(text)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })?;
        let sessions = start(file, len, HashSet::new())?;
        Ok(FileSink {
            log,
            sessions,
            clock: Clock::system(),
        })
    }

    /// Takes the receive time of [`EventSink::accept`] (without one) from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
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
        self.accept_received(event, self.clock.now()).await
    }

    async fn accept_received(
        &self,
        event: &CountEvent,
        received_utc: UnixSeconds,
    ) -> Result<Accepted, SinkError> {
        let line = event_line(event, received_utc).map_err(|source| SinkError::Io {
            doing: "encoding the event",
            source,
        })?;
        let kept = self.log.append(Some(event.key()), line).await;
        if let Err(e) = &kept {
            tracing::debug!(serial = %event.serial, error = %e, "file sink did not keep the event");
        }
        kept
    }

    async fn session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        let mut line = serde_json::to_vec(session).map_err(|e| SinkError::Io {
            doing: "encoding the session",
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        self.sessions.append(None, line).await.map(|_| ())
    }
}

/// Reads every event of a [`FileSink`] file (a torn last line is skipped).
pub fn read_events(path: impl AsRef<Path>) -> Result<Vec<CountEvent>, SinkError> {
    read_lines(path.as_ref(), |text| {
        serde_json::from_str(text).map_err(|e| e.to_string())
    })
}

/// Reads every event of a [`FileSink`] file with its `received_utc` (`None` on lines of
/// files written before the field existed).
pub fn read_received(
    path: impl AsRef<Path>,
) -> Result<Vec<(CountEvent, Option<UnixSeconds>)>, SinkError> {
    #[derive(serde::Deserialize)]
    struct Received<'a> {
        #[serde(borrow)]
        received_utc: Option<std::borrow::Cow<'a, str>>,
    }
    read_lines(path.as_ref(), |text| {
        let event: CountEvent = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let received: Received<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let at = received
            .received_utc
            .map(|t| rfc3339::parse(&t))
            .transpose()?;
        Ok((event, at))
    })
}

/// Reads every session of a [`FileSink`]'s sessions file (see [`sessions_path`]; a torn
/// last line is skipped).
pub fn read_sessions(path: impl AsRef<Path>) -> Result<Vec<SessionRecord>, SinkError> {
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
