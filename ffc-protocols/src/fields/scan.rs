//! The one JSON reader of the payload codecs: a scanner over the payload's bytes that fills
//! [`Payload`] in place, with no intermediate value tree, no `Box` and no per-field visitor
//! calls (issue 20: the decoder must keep up with serde_json deriving the bare fields).
//!
//! It accepts and refuses what serde_json refused when it read [`Fields`] (the codecs'
//! reader before issue 20), so a payload decodes the same: the same JSON grammar (strict
//! strings with paired surrogates for the fields read, serde_json's laxer skipping of the
//! values of unknown fields), `null` as absent, a repeated field of [`Fields`] as a
//! [`SyntaxKind::Structure`] error, serde_json's nesting limit of 128, and a number out of
//! the `f64` range as a syntax error. Errors carry serde_json's error category and the byte
//! index its position was taken at (the tests compare both with serde_json's).

use alloc::vec::Vec;

use alloc::borrow::Cow;

use super::error::SyntaxKind;
use super::payload::{DataKind, Fields, Payload, Scalar};

/// serde_json's nesting limit: the container at this depth (the payload's object is 1) is
/// refused.
const MAX_LEVEL: u32 = 128;

/// A syntax error: how the JSON broke, and the byte index serde_json takes its line and
/// column from (see [`SyntaxAt::line_column`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxAt {
    pub(crate) kind: SyntaxKind,
    pub(crate) index: usize,
}

impl SyntaxAt {
    /// The 1-based line and serde_json's column (bytes since the line's start) of `index`.
    pub(crate) fn line_column(self, text: &str) -> (usize, usize) {
        let before = text.as_bytes().get(..self.index).unwrap_or(text.as_bytes());
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let line = 1 + before[..line_start].iter().filter(|b| **b == b'\n').count();
        (line, self.index.min(text.len()) - line_start)
    }
}

type Res<T> = Result<T, SyntaxAt>;

mod text;

/// Which member a key names: a field of [`Fields`] (its bit in the object's seen mask),
/// the envelope's `Data`, or one this codec skips.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Field(u8),
    Data,
    Unknown,
}

/// `Data`'s bit in the seen mask (after the 21 fields of [`Fields::slot`]).
const DATA_BIT: u32 = 1 << 21;

/// Reads `text` (which starts with `{` after white space) into `payload` (fresh, from
/// `Payload::default`: filled in place, as moving it costs more than reading it).
pub(crate) fn parse_payload<'a>(text: &'a str, payload: &mut Payload<'a>) -> Res<()> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    s.ws();
    if s.peek() != Some(b'{') {
        return Err(s.peek_err(SyntaxKind::Syntax));
    }
    let Payload {
        top,
        data,
        data_kind,
    } = payload;
    s.object(Some(top), Some((data, data_kind)), 1)?;
    s.ws();
    if s.at < s.bytes.len() {
        return Err(s.peek_err(SyntaxKind::Syntax));
    }
    Ok(())
}

/// Where an object's `Data` goes: its fields, and what it was.
type DataOut<'s, 'a> = (&'s mut Fields<'a>, &'s mut DataKind);

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// An error at the byte just peeked (serde_json's `peek_error`).
    fn peek_err(&self, kind: SyntaxKind) -> SyntaxAt {
        let index = (self.at + 1).min(self.bytes.len());
        SyntaxAt { kind, index }
    }

    /// An error at the current index (serde_json's `error`, after consuming a byte).
    fn err(&self, kind: SyntaxKind) -> SyntaxAt {
        SyntaxAt {
            kind,
            index: self.at.min(self.bytes.len()),
        }
    }

    /// The peeked byte, or a truncation error.
    fn peek_some(&self) -> Res<u8> {
        self.peek()
            .ok_or_else(|| self.peek_err(SyntaxKind::Truncated))
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Consumes `want` after white space, or fails (truncated at the end).
    fn expect(&mut self, want: u8) -> Res<()> {
        self.ws();
        if self.peek_some()? != want {
            return Err(self.peek_err(SyntaxKind::Syntax));
        }
        self.at += 1;
        Ok(())
    }

    /// Refuses a container opened at `level` (serde_json's recursion limit).
    fn check_level(&self, level: u32) -> Res<()> {
        if level >= MAX_LEVEL {
            return Err(self.peek_err(SyntaxKind::Syntax));
        }
        Ok(())
    }

    /// One object of fields at `self.at` (`{`), as serde's derived `Fields` read it: into
    /// `out` and `data` when given, else only checked (a `Data` nested in `Data`).
    fn object(
        &mut self,
        mut out: Option<&mut Fields<'a>>,
        mut data: Option<DataOut<'_, 'a>>,
        level: u32,
    ) -> Res<()> {
        // A checked-only object reads each value here and drops it.
        let mut scratch = None;
        self.check_level(level)?;
        self.at += 1;
        let mut seen = 0u32;
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            if self.peek_some()? != b'"' {
                return Err(self.peek_err(SyntaxKind::Syntax));
            }
            self.at += 1;
            // Returned in registers: a key read through `string` stalls on its `Cow`.
            let key = match self.plain_string() {
                Some(key) => key_of(key.as_bytes()),
                None => key_of(self.string(true)?.as_bytes()),
            };
            let bit = match key {
                Key::Field(i) => 1u32 << i,
                Key::Data => DATA_BIT,
                Key::Unknown => 0,
            };
            if seen & bit != 0 {
                return Err(self.repeated());
            }
            seen |= bit;
            self.expect(b':')?;
            match key {
                Key::Field(i) => {
                    // Written in place: returning the value costs a store-forwarding stall.
                    let slot = match out.as_deref_mut() {
                        Some(out) => out.slot(i),
                        None => &mut scratch,
                    };
                    self.scalar(level, slot)?;
                }
                Key::Data => {
                    let data = data.as_mut().map(|(f, k)| (&mut **f, &mut **k));
                    self.data(data, level)?;
                }
                Key::Unknown => self.skip_value()?,
            }
            if !self.next_member(b'}')? {
                return Ok(());
            }
        }
    }

    /// A repeated field, placed where serde_json placed it: its map access still reads the
    /// white space after the key and a `}` there before the error takes its position.
    #[cold]
    fn repeated(&mut self) -> SyntaxAt {
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
        }
        self.err(SyntaxKind::Structure)
    }

    /// After a member: `,` and the next key's quote (true), or the closing `close` (false).
    fn next_member(&mut self, close: u8) -> Res<bool> {
        self.ws();
        match self.peek_some()? {
            b',' => self.at += 1,
            b if b == close => {
                self.at += 1;
                return Ok(false);
            }
            _ => return Err(self.peek_err(SyntaxKind::Syntax)),
        }
        self.ws();
        match self.peek_some()? {
            b if b == close => Err(self.peek_err(SyntaxKind::Syntax)),
            _ => Ok(true),
        }
    }

    /// A field's value as a [`Scalar`] into `slot`; `None` for `null`.
    fn scalar(&mut self, level: u32, slot: &mut Option<Scalar<'a>>) -> Res<()> {
        self.ws();
        *slot = Some(match self.peek_some()? {
            b'n' => {
                self.ident(b"null")?;
                *slot = None;
                return Ok(());
            }
            b't' => {
                self.ident(b"true")?;
                Scalar::Bool
            }
            b'f' => {
                self.ident(b"false")?;
                Scalar::Bool
            }
            b'"' => {
                self.at += 1;
                match self.plain_string() {
                    Some(body) => Scalar::Str(Cow::Borrowed(body)),
                    None => Scalar::Str(self.string(true)?),
                }
            }
            b'-' | b'0'..=b'9' => self.number()?,
            b'[' | b'{' => {
                self.check_level(level + 1)?;
                self.compound()?;
                Scalar::Compound
            }
            _ => return Err(self.peek_err(SyntaxKind::Syntax)),
        });
        Ok(())
    }

    /// The envelope's `Data`: an object of fields (into `out` when given), or any other
    /// value ([`DataKind::Other`]); `null` leaves it absent.
    fn data(&mut self, out: Option<DataOut<'_, 'a>>, level: u32) -> Res<()> {
        self.ws();
        let kind = match self.peek_some()? {
            b'{' => {
                let (fields, kind) = match out {
                    Some((f, k)) => (Some(f), Some(k)),
                    None => (None, None),
                };
                self.object(fields, None, level + 1)?;
                if let Some(kind) = kind {
                    *kind = DataKind::Object;
                }
                return Ok(());
            }
            b'[' => {
                self.check_level(level + 1)?;
                self.compound()?;
                DataKind::Other
            }
            _ => {
                let mut value = None;
                self.scalar(level, &mut value)?;
                match value {
                    Some(_) => DataKind::Other,
                    None => DataKind::Absent,
                }
            }
        };
        if let Some((_, slot)) = out {
            *slot = kind;
        }
        Ok(())
    }

    /// `null`, `true` or `false` at `self.at`.
    fn ident(&mut self, word: &[u8]) -> Res<()> {
        for want in word {
            match self.peek() {
                None => return Err(self.err(SyntaxKind::Truncated)),
                Some(b) => {
                    self.at += 1;
                    if b != *want {
                        return Err(self.err(SyntaxKind::Syntax));
                    }
                }
            }
        }
        Ok(())
    }

    /// A number read as a field's value: whole numbers that fit stay exact, anything else
    /// is a float (a float out of the `f64` range is an error, as in serde_json).
    fn number(&mut self) -> Res<Scalar<'a>> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let first = self.peek().ok_or_else(|| self.err(SyntaxKind::Truncated))?;
        self.at += 1;
        let mut value = match first {
            b'0' => {
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.peek_err(SyntaxKind::Syntax));
                }
                Some(0u64)
            }
            b'1'..=b'9' => Some(u64::from(first - b'0')),
            _ => return Err(self.err(SyntaxKind::Syntax)),
        };
        while let Some(d @ b'0'..=b'9') = self.peek() {
            self.at += 1;
            value = value
                .and_then(|v| v.checked_mul(10))
                .and_then(|v| v.checked_add(u64::from(d - b'0')));
        }
        let mut float = value.is_none();
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits(true)?;
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let mantissa = self.bytes.get(start..self.at).unwrap_or(&[]);
            let nonzero = mantissa.iter().any(|b| matches!(b, b'1'..=b'9'));
            if let (Some(index), true) = (self.exponent(true)?, nonzero) {
                return Err(SyntaxAt {
                    kind: SyntaxKind::Syntax,
                    index,
                });
            }
            float = true;
        }
        if float {
            let literal = self.text.get(start..self.at).unwrap_or("");
            return match literal.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Scalar::Float),
                _ => Err(self.err(SyntaxKind::Syntax)),
            };
        }
        Ok(match (negative, value) {
            (false, Some(v)) => Scalar::Unsigned(v),
            // serde_json reads -0 and anything below i64::MIN as a float.
            (true, Some(v)) if (1..=1u64 << 63).contains(&v) => Scalar::Negative,
            _ => Scalar::Float,
        })
    }

    /// The fraction's digits after `.`: at least one (`strict`: a truncation at the end).
    fn digits(&mut self, strict: bool) -> Res<()> {
        let from = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        if self.at == from {
            let kind = match self.peek() {
                None if strict => SyntaxKind::Truncated,
                _ => SyntaxKind::Syntax,
            };
            return Err(self.peek_err(kind));
        }
        Ok(())
    }

    /// An exponent at `self.at` (`e`): a sign, then at least one digit. Returns where its
    /// digits first exceed `i32` when they do and the sign is `+` (serde_json refuses a
    /// non-zero number there, before reading the rest).
    fn exponent(&mut self, strict: bool) -> Res<Option<usize>> {
        self.at += 1;
        let negative = self.peek() == Some(b'-');
        if let Some(b'+' | b'-') = self.peek() {
            self.at += 1;
        }
        let mut exp = match self.peek() {
            Some(d @ b'0'..=b'9') => {
                self.at += 1;
                i64::from(d - b'0')
            }
            None if strict => return Err(self.err(SyntaxKind::Truncated)),
            None => return Err(self.err(SyntaxKind::Syntax)),
            Some(_) => {
                self.at += 1;
                return Err(self.err(SyntaxKind::Syntax));
            }
        };
        let mut overflow = None;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            self.at += 1;
            exp = (exp * 10 + i64::from(d - b'0')).min(i64::from(u32::MAX));
            if exp > i64::from(i32::MAX) && overflow.is_none() && !negative {
                overflow = Some(self.at);
            }
        }
        Ok(overflow)
    }

    /// A compound value read as a [`Scalar::Compound`] or [`DataKind::Other`]: the container at
    /// `self.at`; its first-level keys are strict strings, everything inside is skipped.
    fn compound(&mut self) -> Res<()> {
        let close = if self.peek() == Some(b'[') {
            b']'
        } else {
            b'}'
        };
        self.at += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            if close == b'}' {
                if self.peek_some()? != b'"' {
                    return Err(self.peek_err(SyntaxKind::Syntax));
                }
                self.at += 1;
                self.string(true)?;
                self.expect(b':')?;
            }
            self.skip_value()?;
            if !self.next_member(close)? {
                return Ok(());
            }
        }
    }

    /// Skips one value as serde_json's `IgnoredAny` does: any depth, strings checked for
    /// their escapes' form only, numbers for their form only.
    fn skip_value(&mut self) -> Res<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            self.ws();
            match self.peek_some()? {
                b'n' => self.ident(b"null")?,
                b't' => self.ident(b"true")?,
                b'f' => self.ident(b"false")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                b'"' => {
                    self.at += 1;
                    self.string(false)?;
                }
                b @ (b'[' | b'{') => {
                    self.at += 1;
                    self.ws();
                    let close = if b == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                    } else {
                        open.push(close);
                        self.skip_key(close)?;
                        continue;
                    }
                }
                _ => return Err(self.peek_err(SyntaxKind::Syntax)),
            }
            // After a value: close what ends here, until a `,` or the outer end.
            loop {
                let Some(&close) = open.last() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_key(close)?;
                        break;
                    }
                    Some(b) if b == close => {
                        self.at += 1;
                        open.pop();
                    }
                    Some(_) => return Err(self.peek_err(SyntaxKind::Syntax)),
                    None => return Err(self.peek_err(SyntaxKind::Truncated)),
                }
            }
        }
    }

    /// Inside a skipped object (`close` is `}`): a key and its colon.
    fn skip_key(&mut self, close: u8) -> Res<()> {
        if close != b'}' {
            return Ok(());
        }
        self.ws();
        if self.peek_some()? != b'"' {
            return Err(self.peek_err(SyntaxKind::Syntax));
        }
        self.at += 1;
        self.string(false)?;
        self.expect(b':')
    }

    /// A skipped number: its form only (serde_json's `ignore_integer`).
    fn skip_number(&mut self) -> Res<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.peek_err(SyntaxKind::Syntax));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.at += 1;
                }
            }
            Some(_) => {
                self.at += 1;
                return Err(self.err(SyntaxKind::Syntax));
            }
            None => return Err(self.err(SyntaxKind::Syntax)),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits(false)?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.exponent(false)?;
        }
        Ok(())
    }
}

/// The member a key names.
#[inline]
fn key_of(key: &[u8]) -> Key {
    match key {
        b"Data" => Key::Data,
        _ => match Fields::index_of(key) {
            Some(i) => Key::Field(i),
            None => Key::Unknown,
        },
    }
}
