//! The JSON-lines file sinks: [`FileSink`] for events, [`FileDeadLetters`] for dead letters,
//! and the readers of both files.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use async_trait::async_trait;
use ffc_core::CountEvent;

use super::append_log::{open_log, AppendLog};
use super::{Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

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
        let kept = self.log.append(Some(event.key()), line).await;
        if let Err(e) = &kept {
            tracing::debug!(serial = %event.serial, error = %e, "file sink did not keep the event");
        }
        kept
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
