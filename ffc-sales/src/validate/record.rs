//! One CSV record as the validator reads it, from csv-core's output or a plain line in
//! place.

/// One CSV record as parsed: the unquoted bytes of all fields end to end, and where each
/// field ends.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    data: &'a [u8],
    ends: &'a [usize],
    /// Whether one delimiter byte separates the fields in `data` (a plain line as it is in
    /// the file, see [`split_plain_line`]) rather than none (csv-core's output).
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
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? + usize::from(self.delimited),
            None => 0,
        };
        self.data.get(start..end)
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

    /// Writes the start of the fields joined with commas into `out`, as much as fits, and
    /// returns how many bytes that is.
    pub(super) fn join_prefix(&self, out: &mut [u8]) -> usize {
        if self.delimited {
            return copy_prefix(self.data, out);
        }
        let mut at = 0;
        for (i, f) in self.iter().enumerate() {
            if i > 0 {
                at += copy_prefix(b",", out.get_mut(at..).unwrap_or_default());
            }
            at += copy_prefix(f, out.get_mut(at..).unwrap_or_default());
            if at == out.len() {
                break;
            }
        }
        at
    }
}

/// Copies as much of `from` as fits into `to`; how much that was.
pub(super) fn copy_prefix(from: &[u8], to: &mut [u8]) -> usize {
    let n = from.len().min(to.len());
    if let (Some(dest), Some(src)) = (to.get_mut(..n), from.get(..n)) {
        dest.copy_from_slice(src);
    }
    n
}
