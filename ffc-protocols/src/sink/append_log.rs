//! The append-only JSON-lines log under [`super::FileSink`] and [`super::FileDeadLetters`]:
//! one writer thread appends the lines of every waiting caller, syncs once (group commit)
//! and then answers them all.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;

use ffc_core::EventKey;
use tokio::sync::{mpsc, oneshot};

use super::{Accepted, SinkError};

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
pub(super) struct AppendLog {
    tx: mpsc::Sender<Append>,
}

impl AppendLog {
    /// Starts the writer thread on `file`, whose first `len` bytes are complete lines holding
    /// `keys`; it keeps at most `limit` keys.
    pub(super) fn start(
        file: File,
        len: u64,
        keys: HashSet<EventKey>,
        limit: usize,
    ) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let log = Log {
            file,
            len,
            keys,
            limit,
        };
        std::thread::Builder::new()
            .name("ffc-append-log".into())
            .spawn(move || log.run(rx))?;
        Ok(AppendLog { tx })
    }

    /// Appends `line` (deduplicated on `key` when there is one) and waits until it is synced.
    pub(super) async fn append(
        &self,
        key: Option<EventKey>,
        line: Vec<u8>,
    ) -> Result<Accepted, SinkError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Append { key, line, reply })
            .await
            .map_err(|_| SinkError::Closed)?;
        answer.await.map_err(|_| SinkError::Closed)?
    }
}

/// What the writer thread owns: the file, how much of it is good, and the keys in it.
struct Log {
    file: File,
    len: u64,
    keys: HashSet<EventKey>,
    limit: usize,
}

impl Log {
    /// Writes batches until every [`AppendLog`] handle is gone.
    fn run(mut self, mut rx: mpsc::Receiver<Append>) {
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
            let (mut outcomes, new_keys) = self.stage(&batch, &mut buf);
            if let Err(e) = self.write(&buf) {
                tracing::error!(error = %e, requests = batch.len(), "appending to the sink file failed; not acknowledged");
                self.undo(&new_keys);
                for (req, outcome) in batch.iter().zip(outcomes.iter_mut()) {
                    // A duplicate of a key this very batch added was not kept either: the
                    // line it matched is not on disk, so it must not be acknowledged.
                    let of_this_batch = matches!(outcome, Ok(Accepted::Duplicate))
                        && req.key.is_some_and(|k| new_keys.contains(&k));
                    if matches!(outcome, Ok(Accepted::Stored)) || of_this_batch {
                        *outcome = Err(SinkError::Io {
                            doing: "appending and syncing",
                            source: io::Error::new(e.kind(), e.to_string()),
                        });
                    }
                }
            } else {
                tracing::debug!(
                    requests = batch.len(),
                    bytes = buf.len(),
                    "sink file batch synced"
                );
            }
            for (req, outcome) in batch.drain(..).zip(outcomes) {
                // A caller that went away (connection closed) simply misses its answer.
                let _ = req.reply.send(outcome);
            }
        }
    }

    /// Puts the lines of `batch` that are new into `buf` and returns each request's outcome
    /// should the write succeed (`Ok(Stored)` means "in buf"), and the keys it added.
    fn stage(
        &mut self,
        batch: &[Append],
        buf: &mut Vec<u8>,
    ) -> (Vec<Result<Accepted, SinkError>>, Vec<EventKey>) {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut new_keys = Vec::new();
        for req in batch {
            if let Some(key) = req.key {
                if self.keys.contains(&key) {
                    outcomes.push(Ok(Accepted::Duplicate));
                    continue;
                }
                if self.keys.len() >= self.limit {
                    outcomes.push(Err(SinkError::Full { limit: self.limit }));
                    continue;
                }
                self.keys.insert(key);
                new_keys.push(key);
            }
            buf.extend_from_slice(&req.line);
            outcomes.push(Ok(Accepted::Stored));
        }
        (outcomes, new_keys)
    }

    /// Appends `buf` and syncs it (one `fdatasync` for the whole batch).
    fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(buf)
            .and_then(|()| self.file.sync_data())?;
        self.len += buf.len() as u64;
        Ok(())
    }

    /// After a failed write nothing of the batch counts as kept: forget its keys and cut the
    /// file back, so a later append does not land behind a torn line.
    fn undo(&mut self, new_keys: &[EventKey]) {
        for key in new_keys {
            self.keys.remove(key);
        }
        let len = self.len;
        let _ = self
            .file
            .set_len(len)
            .and_then(|()| self.file.seek(SeekFrom::End(0)));
    }
}

/// Opens `path` for appending, creating it (and syncing its directory) when missing, and
/// cuts a torn last line (a write the process died in, never acknowledged). Calls `line`
/// for every complete line with its 1-based number.
pub(super) fn open_log(
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
    // A device (/dev/full, /dev/zero) or a FIFO would be read for ever below.
    if !file
        .metadata()
        .map_err(io_err("opening the file"))?
        .is_file()
    {
        return Err(SinkError::Io {
            doing: "opening the file",
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (the sink reads it back, appends and syncs)",
            ),
        });
    }
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
