//! The read loop: csv-core over the input (or a plain line split in place), records fed to
//! the [`Validator`]; the entry points [`validate_reader`] and [`validate_bytes`].

use std::io::Read;

use csv_core::ReadRecordResult;

use super::ahead::Piece;
use super::record::RawRecord;
use super::{Validation, ValidationConfig, Validator};
use crate::error::{SalesFileError, MAX_FIELDS};

/// Bytes read from the input at a time.
const READ_CHUNK: usize = 64 * 1024;

/// What the plain-line fast path did.
enum Plain {
    /// Read one record (a row, or the header that resolved).
    Record,
    /// Reached the end of the piece: more input is needed.
    Exhausted,
    /// The header did not resolve: stop reading.
    Stop,
    /// The next line is not plain: csv-core reads it.
    CsvCore,
}

/// Drives `csv-core` over the input, piece by piece, and the validator over its records:
/// the one read loop behind [`validate_reader`] (pieces from a read buffer) and
/// [`validate_bytes`] (the whole slice as one piece, no copy).
struct CsvDriver {
    csv: csv_core::Reader,
    /// The unquoted fields of the record being parsed, end to end.
    out: Vec<u8>,
    out_len: usize,
    /// Where each of its fields ends in `out`.
    ends: Vec<usize>,
    ends_len: usize,
    /// Bytes consumed so far, and the 1-based line there (csv-core's count).
    offset: u64,
    line: u64,
    /// Where the record being parsed starts, once its first byte is seen.
    start: Option<(u64, u64)>,
    /// The record being parsed outgrew the limits; its output is being discarded.
    too_long: bool,
    header_done: bool,
    /// Whether csv-core stands between two records (after a record it returned), where a
    /// plain line may be split without it ([`split_plain_line`]).
    between_records: bool,
    /// Whether plain lines may be split without csv-core (always, except in the test
    /// that compares the two).
    plain_lines: bool,
    /// Line feeds consumed by the plain-line path, which csv-core's count does not see.
    plain_line_feeds: u64,
}

/// Splits the plain line at the start of `input` as csv-core would: fields between commas
/// up to a `\n` or `\r\n`. Returns the line without its terminator, the bytes consumed
/// with it, and the number of fields, whose ends (the comma after each, or the end of the
/// line) are written to `ends`. `None` — and csv-core takes the line — when the line has
/// a quote or a lone `\r` (csv-core's own rules apply there), does not end in `input`, or
/// would not fit csv-core's buffers, `out_room` bytes and `ends` (so their growth and the
/// row limits stay csv-core's).
///
/// Exact because csv-core, between records and with no quote in sight, copies every byte
/// but the delimiter into the field, ends a field at `,` and the record at `\r` or `\n`;
/// after `\r` it discards one `\n`, and that state behaves like the one between records.
#[inline]
pub(super) fn split_plain_line<'a>(
    input: &'a [u8],
    out_room: usize,
    ends: &mut [usize],
) -> Option<(&'a [u8], usize, usize)> {
    // One pass, eight bytes at a time: the first `\n`, `\r` or `"` ends the scan, and every
    // comma before it ends a field.
    let mut commas = 0usize;
    let mut base = 0usize;
    let end = loop {
        let (word, last) = match input.get(base..base + 8) {
            Some(chunk) => (u64::from_le_bytes(chunk.try_into().ok()?), false),
            // The tail, padded with zeros (which match nothing).
            None => {
                let mut padded = [0u8; 8];
                let rest = input.get(base..).unwrap_or_default();
                padded.get_mut(..rest.len())?.copy_from_slice(rest);
                (u64::from_le_bytes(padded), true)
            }
        };
        // `\n`, `\r` and `"` are the only bytes below 0x23 that end the scan: most words
        // have none of those low bytes and skip the three exact tests.
        let stop = if bytes_below(word, 0x23) == 0 {
            0
        } else {
            bytes_equal(word, b'\n') | bytes_equal(word, b'\r') | bytes_equal(word, b'"')
        };
        let mut comma = bytes_equal(word, b',');
        if stop != 0 {
            let at = (stop.trailing_zeros() / 8) as usize;
            comma &= (1u64 << (at * 8)) - 1;
            write_commas(comma, base, ends, &mut commas)?;
            break base + at;
        }
        if last {
            return None;
        }
        write_commas(comma, base, ends, &mut commas)?;
        base += 8;
    };
    let consumed = match input.get(end..)? {
        [b'\n', ..] => end + 1,
        [b'\r', b'\n', ..] => end + 2,
        _ => return None,
    };
    let line = input.get(..end)?;
    *ends.get_mut(commas)? = end;
    let fields = commas + 1;
    // Strictly inside both buffers: csv-core would not have asked for more room.
    if fields >= ends.len() || end - commas >= out_room {
        return None;
    }
    Some((line, consumed, fields))
}

/// `0x80` in each byte of `word` equal to `byte`, 0 elsewhere (exact: no carry crosses bytes).
#[inline]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (0x0101_0101_0101_0101 * u64::from(byte));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// `0x80` in each byte of `word` below `limit` (at most 0x80), 0 elsewhere (exact).
#[inline]
fn bytes_below(word: u64, limit: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let y = (word & LOW7) + 0x0101_0101_0101_0101 * u64::from(0x80 - limit.min(0x80));
    !(y | word) & !LOW7
}

/// Writes the position of each comma in `mask` (from [`bytes_equal`], for the word at
/// `base`) to the next free end; `None` when `ends` is full.
#[inline]
fn write_commas(mut mask: u64, base: usize, ends: &mut [usize], commas: &mut usize) -> Option<()> {
    while mask != 0 {
        *ends.get_mut(*commas)? = base + (mask.trailing_zeros() / 8) as usize;
        *commas += 1;
        mask &= mask - 1;
    }
    Some(())
}

impl CsvDriver {
    /// A driver at byte `offset` of the file (after a byte-order mark already skipped).
    fn new(offset: u64) -> Self {
        let csv = csv_core::Reader::new();
        let line = csv.line();
        CsvDriver {
            csv,
            out: vec![0u8; 1024],
            out_len: 0,
            ends: vec![0usize; 32],
            ends_len: 0,
            offset,
            line,
            start: None,
            too_long: false,
            header_done: false,
            between_records: false,
            plain_lines: true,
            plain_line_feeds: 0,
        }
    }

    /// Parses `piece` to its end and hands every complete record to the validator. An
    /// empty `piece` is the end of the input. `false` once reading should stop (the end
    /// was reached, or the header did not resolve). Rows still waiting to be summed copy
    /// the text they left in `piece` before it goes.
    fn feed(&mut self, piece: &[u8], validator: &mut Validator<'_>) -> bool {
        let whole = Piece {
            bytes: piece,
            start: self.offset,
        };
        let go_on = self.feed_piece(whole, validator);
        validator.keep_text(whole);
        go_on
    }

    /// The parsing of [`CsvDriver::feed`]: everything but having the waiting rows copy out
    /// the text they left in the piece, which `feed` does once this returns.
    fn feed_piece(&mut self, whole: Piece<'_>, validator: &mut Validator<'_>) -> bool {
        let mut piece = whole.bytes;
        let at_end = piece.is_empty();
        loop {
            if self.between_records && self.plain_lines && !at_end {
                match self.plain_line(&mut piece, validator, whole) {
                    Plain::Record => continue,
                    Plain::Exhausted => return true,
                    Plain::Stop => return false,
                    Plain::CsvCore => {}
                }
            }
            let (result, nin, nout, nends) = self.csv.read_record(
                piece,
                self.out.get_mut(self.out_len..).unwrap_or_default(),
                self.ends.get_mut(self.ends_len..).unwrap_or_default(),
            );
            let (consumed, rest) = piece.split_at(nin.min(piece.len()));
            piece = rest;
            if self.start.is_none() {
                // Blank lines before a record belong to no record.
                let blank = consumed
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                if blank < consumed.len() {
                    let skipped = consumed.get(..blank).unwrap_or_default();
                    self.start =
                        Some((self.line + count_lines(skipped), self.offset + blank as u64));
                }
            }
            // csv-core counts every line feed it consumes (quoted ones too), which is our
            // line count: no second pass over the bytes.
            self.line = self.csv.line() + self.plain_line_feeds;
            self.offset += nin as u64;
            self.between_records = result == ReadRecordResult::Record;
            self.out_len += nout;
            self.ends_len += nends;
            let max_row_bytes = validator.config.max_row_bytes;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !at_end {
                        return true;
                    }
                }
                ReadRecordResult::OutputFull => self.grow_out(max_row_bytes),
                ReadRecordResult::OutputEndsFull => self.grow_ends(),
                ReadRecordResult::Record => {
                    if !self.record(validator, whole) {
                        return false;
                    }
                }
                ReadRecordResult::End => return false,
            }
        }
    }

    /// The fast path between records: skips blank lines, then reads one plain line (no
    /// quote, no lone CR) in place, as csv-core would split it.
    fn plain_line(
        &mut self,
        piece: &mut &[u8],
        validator: &mut Validator<'_>,
        whole: Piece<'_>,
    ) -> Plain {
        let input: &[u8] = piece;
        // Blank lines between records: csv-core would skip them too.
        let blank = input
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let (skipped, input) = input.split_at(blank);
        let feeds = count_lines(skipped);
        self.plain_line_feeds += feeds;
        self.line += feeds;
        self.offset += blank as u64;
        *piece = input;
        if input.is_empty() {
            return Plain::Exhausted;
        }
        let Some((line, nin, nends)) = split_plain_line(input, self.out.len(), &mut self.ends)
        else {
            return Plain::CsvCore;
        };
        let record = RawRecord::plain(line, self.ends.get(..nends).unwrap_or_default());
        let (rec_line, rec_byte) = (self.line, self.offset);
        self.plain_line_feeds += 1;
        self.line += 1;
        self.offset += nin as u64;
        *piece = input.get(nin..).unwrap_or_default();
        if self.header_done {
            validator.row_in(&record, rec_line, rec_byte, Some(whole));
        } else if !record.all_empty() {
            self.header_done = true;
            if !validator.header(&record) {
                return Plain::Stop;
            }
        }
        Plain::Record
    }

    /// csv-core's field buffer is full: grow it, or past `max_row_bytes` drop the record
    /// being read as too long (it is refused, never buffered whole).
    fn grow_out(&mut self, max_row_bytes: usize) {
        if self.out.len() >= max_row_bytes {
            self.too_long = true;
            self.out_len = 0;
            self.ends_len = 0;
        } else {
            let grown = (self.out.len() * 2).min(max_row_bytes.max(1));
            self.out.resize(grown, 0);
        }
    }

    /// csv-core's field-end buffer is full: grow it, or past [`MAX_FIELDS`] drop the record
    /// being read as too long.
    fn grow_ends(&mut self) {
        if self.ends.len() >= MAX_FIELDS {
            self.too_long = true;
            self.out_len = 0;
            self.ends_len = 0;
        } else {
            let grown = (self.ends.len() * 2).min(MAX_FIELDS);
            self.ends.resize(grown, 0);
        }
    }

    /// One complete record: the header, a row, or one too long to keep. `false` when
    /// reading should stop.
    fn record(&mut self, validator: &mut Validator<'_>, whole: Piece<'_>) -> bool {
        let (rec_line, rec_byte) = self.start.take().unwrap_or((self.line, self.offset));
        let record = RawRecord::new(
            self.out.get(..self.out_len).unwrap_or_default(),
            self.ends.get(..self.ends_len).unwrap_or_default(),
        );
        let mut go_on = true;
        if self.too_long {
            self.too_long = false;
            if self.header_done {
                validator.too_long_in(rec_line, rec_byte, Some(whole));
            } else {
                validator.header_too_long();
                go_on = false;
            }
        } else if self.header_done {
            validator.row_in(&record, rec_line, rec_byte, Some(whole));
        } else if !record.all_empty() {
            self.header_done = true;
            go_on = validator.header(&record);
        }
        self.out_len = 0;
        self.ends_len = 0;
        go_on
    }
}

/// The UTF-8 byte-order mark, skipped before the header.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Validates a sales file from any reader in one pass. Fails only if reading fails; every
/// problem with the content is in the returned [`Validation`].
pub fn validate_reader<R: Read>(
    mut reader: R,
    config: &ValidationConfig,
) -> Result<Validation, SalesFileError> {
    let mut validator = Validator::new(config);
    let mut input = vec![0u8; READ_CHUNK];
    let mut hi = 0usize;
    let mut eof = false;
    // Strip a UTF-8 byte-order mark here rather than in csv-core, which takes an input that
    // is nothing but the mark for the end of the file (a 3-byte first read).
    while hi < 3 && !eof {
        let n = read_some(
            &mut reader,
            input.get_mut(hi..).unwrap_or_default(),
            hi as u64,
        )?;
        hi += n;
        eof = n == 0;
    }
    let lo = if input.starts_with(BOM) { 3 } else { 0 };
    let mut driver = CsvDriver::new(lo as u64);
    let mut piece = input.get(lo..hi).unwrap_or_default();
    loop {
        // An empty piece tells csv-core the input has ended: only at the end of the file.
        if (!piece.is_empty() || eof) && !driver.feed(piece, &mut validator) {
            break;
        }
        if eof {
            break;
        }
        let n = read_some(&mut reader, &mut input, driver.offset)?;
        eof = n == 0;
        piece = input.get(..n).unwrap_or_default();
    }
    Ok(validator.finish())
}

/// One read, retried when interrupted.
fn read_some<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    offset: u64,
) -> Result<usize, SalesFileError> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(SalesFileError::Io {
                    byte: offset,
                    source,
                })
            }
        }
    }
}

/// Line feeds in `bytes` (lines are counted by LF; a CRLF file counts the same).
fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Validates a sales file held in memory (which cannot fail to read). The slice goes to
/// the CSV parser as it is, without the read buffer of [`validate_reader`]; the result is
/// the same.
pub fn validate_bytes(bytes: &[u8], config: &ValidationConfig) -> Validation {
    validate_slice(bytes, config, true)
}

/// [`validate_bytes`], with or without the plain-line path (the test compares the two).
pub(super) fn validate_slice(
    bytes: &[u8],
    config: &ValidationConfig,
    plain_lines: bool,
) -> Validation {
    let mut validator = Validator::new(config);
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut driver = CsvDriver::new((bytes.len() - body.len()) as u64);
    driver.plain_lines = plain_lines;
    if body.is_empty() || driver.feed(body, &mut validator) {
        driver.feed(&[], &mut validator);
    }
    validator.finish()
}
