//! One CSV record as the validator reads it, from csv-core's output or a plain line in
//! place.

/// One CSV record as parsed: the unquoted bytes of all fields end to end, and where each
/// field ends.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    data: &'a [u8],
    ends: &'a [usize],
    /// Whether one delimiter byte separates the fields in `data` (a plain line as it is in
    /// the file, see [`super::driver::split_plain_line`]) rather than none (csv-core's output).
    delimited: bool,
}

impl<'a> RawRecord<'a> {
    /// A record from `csv-core`'s output: `data` holds the fields end to end, `ends[i]` is
    /// the end of field `i` in `data`.
    pub fn new(data: &'a [u8], ends: &'a [usize]) -> Self {
        RawRecord {
            data,
            ends,
            delimited: false,
        }
    }

    /// A plain line as it is in the file: `ends[i]` is where field `i` ends (the comma
    /// after it, or the end of `line`).
    pub(super) fn plain(line: &'a [u8], ends: &'a [usize]) -> Self {
        RawRecord {
            data: line,
            ends,
            delimited: true,
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let (start, end) = self.span(i)?;
        self.data.get(start..end)
    }

    /// Where field `i` starts and ends in the record's bytes.
    fn span(&self, i: usize) -> Option<(usize, usize)> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? + usize::from(self.delimited),
            None => 0,
        };
        Some((start, end))
    }

    /// A plain line's length, and where field `i` starts and ends in it; `None` for
    /// csv-core's output, whose bytes are not the file's.
    pub(super) fn plain_place(&self, i: usize) -> Option<(usize, (usize, usize))> {
        self.delimited
            .then(|| self.span(i))
            .flatten()
            .map(|span| (self.data.len(), span))
    }

    /// Every field in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Whether every field is empty (a blank row such as `,,,`): the fields are stored end
    /// to end, so that is when there are no bytes at all (or only the delimiters).
    pub fn all_empty(&self) -> bool {
        if self.delimited {
            self.data.len() + 1 == self.ends.len()
        } else {
            self.data.is_empty()
        }
    }

    /// The fields joined with commas (for error excerpts).
    pub(super) fn joined(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, f) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(f);
            if out.len() > crate::error::VALUE_EXCERPT_BYTES * 4 {
                break;
            }
        }
        out
    }

    /// Keeps the start of the record for an error excerpt: copies as much of its bytes as
    /// fits into `bytes`, and into `commas` where a comma goes between them when they are
    /// joined ([`joined_kept`]): none for a plain line, which has its commas. Returns how
    /// many of each. One copy, however many fields: rows wait with this (see `ahead`).
    pub(super) fn keep_prefix(&self, bytes: &mut [u8], commas: &mut [u8]) -> (usize, usize) {
        let kept = copy_prefix(self.data, bytes);
        if self.delimited {
            return (kept, 0);
        }
        let mut n = 0;
        // Every field's end but the last's is a comma in the joined text.
        for &end in self.ends.iter().take(self.ends.len().saturating_sub(1)) {
            let (Some(slot), Ok(at)) = (commas.get_mut(n), u8::try_from(end)) else {
                break;
            };
            if end > kept {
                break;
            }
            *slot = at;
            n += 1;
        }
        (kept, n)
    }
}

/// The start of a record's fields joined with commas, from what
/// [`RawRecord::keep_prefix`] kept: `bytes`, and `commas` (where a comma goes, in order).
pub(super) fn joined_kept(bytes: &[u8], commas: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + commas.len());
    let mut from = 0;
    for &at in commas {
        let at = usize::from(at);
        out.extend_from_slice(bytes.get(from..at).unwrap_or_default());
        out.push(b',');
        from = at;
    }
    out.extend_from_slice(bytes.get(from..).unwrap_or_default());
    out
}

/// Copies as much of `from` as fits into `to`; how much that was.
pub(super) fn copy_prefix(from: &[u8], to: &mut [u8]) -> usize {
    let n = from.len().min(to.len());
    if let (Some(dest), Some(src)) = (to.get_mut(..n), from.get(..n)) {
        dest.copy_from_slice(src);
    }
    n
}
