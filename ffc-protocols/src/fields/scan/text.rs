//! The scanner's strings: a string's body (borrowed when it has no escape), its escapes
//! as serde_json reads them, and the eight-bytes-at-a-time search for a string's end.

use alloc::borrow::Cow;
use alloc::string::String;

use super::{Res, Scanner, SyntaxAt, SyntaxKind};

impl<'a> Scanner<'a> {
    /// A string's body after its opening quote. `strict` (a key or a field's value):
    /// `\u` surrogates must pair, and the text is kept; otherwise (a skipped value) only
    /// the escapes' form is checked, as serde_json skips strings.
    /// The body of a string after its opening quote when it has no escape (the string is
    /// then read); `None` leaves it for [`Scanner::string`].
    #[inline(always)]
    pub(super) fn plain_string(&mut self) -> Option<&'a str> {
        let start = self.at;
        let rest = self.bytes.get(start..)?;
        let n = special_byte(rest)?;
        if rest.get(n) != Some(&b'"') {
            return None;
        }
        let body = self.text.get(start..start + n)?;
        self.at = start + n + 1;
        Some(body)
    }

    pub(super) fn string(&mut self, strict: bool) -> Res<Cow<'a, str>> {
        let start = self.at;
        let rest = self.bytes.get(start..).unwrap_or(&[]);
        match special_byte(rest) {
            Some(n) if rest.get(n) == Some(&b'"') => {
                self.at = start + n + 1;
                let body = self.text.get(start..start + n).unwrap_or("");
                Ok(Cow::Borrowed(body))
            }
            Some(n) => {
                self.at = start + n;
                self.escaped_string(start, strict)
            }
            None => {
                self.at = self.bytes.len();
                Err(self.err(SyntaxKind::Truncated))
            }
        }
    }

    /// The rest of a string from its first escape or control byte at `self.at`.
    #[cold]
    fn escaped_string(&mut self, start: usize, strict: bool) -> Res<Cow<'a, str>> {
        let mut out = String::new();
        let mut run = start;
        loop {
            match self.peek() {
                None => return Err(self.err(SyntaxKind::Truncated)),
                Some(b'"') => {
                    out.push_str(self.text.get(run..self.at).unwrap_or(""));
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(self.text.get(run..self.at).unwrap_or(""));
                    self.at += 1;
                    self.escape(strict, &mut out)?;
                    run = self.at;
                }
                Some(0..=0x1f) => {
                    // serde_json places a kept string's control byte one further.
                    if strict {
                        self.at += 1;
                    }
                    return Err(self.err(SyntaxKind::Syntax));
                }
                Some(_) => self.at += 1,
            }
        }
    }

    /// One escape after its backslash, appended to `out`.
    fn escape(&mut self, strict: bool, out: &mut String) -> Res<()> {
        let c = self.peek().ok_or_else(|| self.err(SyntaxKind::Truncated))?;
        self.at += 1;
        out.push(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(strict, out),
            _ => return Err(self.err(SyntaxKind::Syntax)),
        });
        Ok(())
    }

    /// Four hex digits (a truncation when fewer than four bytes are left).
    fn hex4(&mut self) -> Res<u16> {
        let Some(four) = self.bytes.get(self.at..self.at + 4) else {
            self.at = self.bytes.len();
            return Err(self.err(SyntaxKind::Truncated));
        };
        self.at += 4;
        let mut v = 0u16;
        for b in four {
            let d = (*b as char).to_digit(16).ok_or(SyntaxAt {
                kind: SyntaxKind::Syntax,
                index: self.at,
            })?;
            v = (v << 4) | d as u16;
        }
        Ok(v)
    }

    /// A `\u` escape after its `u`; `strict` requires surrogates to pair.
    fn unicode_escape(&mut self, strict: bool, out: &mut String) -> Res<()> {
        let n = self.hex4()?;
        if !strict {
            return Ok(());
        }
        if (0xDC00..=0xDFFF).contains(&n) {
            return Err(self.err(SyntaxKind::Syntax));
        }
        if !(0xD800..=0xDBFF).contains(&n) {
            out.push(char::from_u32(u32::from(n)).unwrap_or(char::REPLACEMENT_CHARACTER));
            return Ok(());
        }
        for want in [b'\\', b'u'] {
            let b = self
                .peek_some()
                .map_err(|_| self.err(SyntaxKind::Truncated))?;
            self.at += 1;
            if b != want {
                return Err(self.err(SyntaxKind::Syntax));
            }
        }
        let low = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return Err(self.err(SyntaxKind::Syntax));
        }
        let c = 0x10000 + ((u32::from(n) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
        out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
        Ok(())
    }
}

/// Whether a string's scan stops at `b`: its end, an escape or a control byte.
#[inline]
fn is_special(b: &u8) -> bool {
    matches!(b, b'"' | b'\\' | 0..=0x1f)
}

/// The index in `rest` of the first `"`, `\` or control byte, eight bytes at a time (the
/// lowest flagged byte of a word is always a real one; higher flags may be borrows).
#[inline]
fn special_byte(rest: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    let mut chunks = rest.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let v = u64::from_le_bytes(chunk.try_into().unwrap_or([b'"'; 8]));
        let control = v.wrapping_sub(ONES * 0x20) & !v;
        let q = v ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let e = v ^ (ONES * u64::from(b'\\'));
        let escape = e.wrapping_sub(ONES) & !e;
        let flagged = (control | quote | escape) & (ONES << 7);
        if flagged != 0 {
            return Some(base + flagged.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(is_special)
        .map(|i| base + i)
}
