//! A whole `cntset` element written exactly as devices write it, read in one pass over its
//! bytes instead of as quick-xml events.
//!
//! [`device_cntset`] answers only for bytes quick-xml would read as a `cntset` start tag,
//! `cnt` empty tags with whitespace between them, and the matching end tag, holding values
//! the decoder accepts; then its answer is the one the event path gives (a property test
//! checks it). Anything else, errors included, is left to the event path, so this changes
//! the speed, not what is accepted or the error given.

use ffc_core::time::parse_datetime_seconds;

use super::{RawSet, Tally};

/// Bytes that end the `name` value on this path: its closing quote, what XML would
/// normalize (a reference, a tab, a line break) and the bytes that delimit tags, so no
/// reader could end the tag inside the value.
const NAME_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// A position in the bytes being matched.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over `lit` when the bytes continue with it.
    #[inline(always)]
    fn literal<const N: usize>(&mut self, lit: &[u8; N]) -> Option<()> {
        let next: &[u8; N] = self.bytes.get(self.at..self.at + N)?.try_into().ok()?;
        (next == lit).then(|| self.at += N)
    }

    /// Steps over XML whitespace, as quick-xml does between tags when trimming text.
    #[inline(always)]
    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    /// One to `max` (at most 19) ASCII digits, as a number; their value can not overflow.
    #[inline(always)]
    fn digits(&mut self, max: usize) -> Option<u64> {
        let start = self.at;
        let mut v = 0u64;
        while let Some(d) = self.bytes.get(self.at).map(|b| b.wrapping_sub(b'0')) {
            if d >= 10 || self.at - start == max {
                break;
            }
            v = v * 10 + u64::from(d);
            self.at += 1;
        }
        (self.at > start).then_some(v)
    }

    /// The bytes up to the next [`NAME_STOP`] byte.
    #[inline(always)]
    fn name_value(&mut self) -> Option<()> {
        let len = self
            .bytes
            .get(self.at..)?
            .iter()
            .position(|b| NAME_STOP[usize::from(*b)])?;
        self.at += len;
        Some(())
    }

    /// The next `N` bytes.
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<&'a [u8]> {
        let taken = self.bytes.get(self.at..self.at + N)?;
        self.at += N;
        Some(taken)
    }
}

/// The set at the start of `rest` (after any whitespace) and how many bytes it takes, when
/// `rest` starts with exactly
///
/// ```text
/// <cntset name="N" starttime="YYYY-MM-DD HH:MM:SS" delta="D"> <cnt typeid="T" value="V"/>.. </cntset>
/// ```
///
/// where the spaces between tags are any XML whitespace, `N` holds no `&`, `<`, `>`, tab
/// or line break, `T` and `V` are 1 to 19 digits, `D` 1 to 9 digits, and the set is one
/// the decoder accepts. `None` otherwise.
pub(super) fn device_cntset(rest: &[u8]) -> Option<(RawSet, usize)> {
    let mut c = Cursor { bytes: rest, at: 0 };
    c.skip_space();
    c.literal(b"<cntset name=\"")?;
    c.name_value()?;
    c.literal(b"\" starttime=\"")?;
    let starttime = std::str::from_utf8(c.take::<19>()?).ok()?;
    c.literal(b"\" delta=\"")?;
    // Nine digits fit a u32.
    let delta = u32::try_from(c.digits(9)?).ok().filter(|d| *d != 0)?;
    c.literal(b"\">")?;
    let local = parse_datetime_seconds(starttime).ok()?;
    let mut tally = Tally::default();
    loop {
        c.skip_space();
        if c.literal(b"</cntset>").is_some() {
            break;
        }
        c.literal(b"<cnt typeid=\"")?;
        let typeid = c.digits(19)?;
        c.literal(b"\" value=\"")?;
        let value = c.digits(19)?;
        c.literal(b"\"/>")?;
        tally.add(typeid, value).ok()?;
    }
    let (count_in, count_out) = tally.finish().ok()?;
    let set = RawSet {
        local,
        delta,
        count_in,
        count_out,
    };
    Some((set, c.at))
}

#[cfg(test)]
mod tests;
