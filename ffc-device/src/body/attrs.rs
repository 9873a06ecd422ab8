//! The attributes of one XML start tag, by name.
//!
//! A device writes plain attributes (`typeid="3" value="12"`): [`scan`] reads those in one
//! pass over the tag's bytes, borrowing every value. Anything else (a syntax error, a
//! repeated name, a value XML normalizes, a tag with many attributes) goes to quick-xml's
//! attribute reader in [`checked`], which gives the answer and the error. The two agree
//! wherever [`scan`] answers (a property test checks it), so the fast path changes the
//! speed, not what is accepted.

use std::borrow::Cow;

use quick_xml::events::BytesStart;

use super::xml::xml_err;
use super::{BodyError, Problem};

/// Attribute names [`scan`] remembers for the duplicate check; a tag with more goes to
/// [`checked`].
const SCAN_KEYS: usize = 8;

/// The attributes of `e` named in `names`, in that order; `at` is the tag's byte offset.
///
/// `names` are distinct and listed as a device writes them: a tag written exactly so is
/// read by [`exact`]; other plain tags by [`scan`]; the rest by quick-xml in [`checked`].
pub(super) fn attrs<'a, const N: usize>(
    e: &'a BytesStart<'_>,
    names: [&str; N],
    at: u64,
) -> Result<[Option<Cow<'a, str>>; N], BodyError> {
    let raw = e.attributes_raw();
    if let Some(found) = exact(raw, &names) {
        return Ok(found.map(|v| Some(Cow::Borrowed(v))));
    }
    match scan(raw, &names) {
        Some(found) => Ok(found.map(|v| v.map(Cow::Borrowed))),
        None => checked(e, names, at),
    }
}

/// Bytes that end a value for [`exact`]: its closing quote, or what XML would normalize
/// (a reference, a tab, a line break).
const VALUE_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'&' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// The offset of the first [`VALUE_STOP`] byte in `bytes`.
///
/// Eight bytes at a time: every stop byte is below `'` (0x27), and a word's bytes below it
/// are flagged at once (the first flag is exact, later ones are checked against the table:
/// a space is flagged too).
#[inline]
fn value_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let is_stop = |b: &u8| VALUE_STOP[usize::from(*b)];
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0usize;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let mut flags = word.wrapping_sub(ONES * 0x27) & !word & HIGH;
        while flags != 0 {
            let k = (flags.trailing_zeros() / 8) as usize;
            if chunk.get(k).is_some_and(is_stop) {
                return Some(at + k);
            }
            flags &= flags - 1;
        }
        at += 8;
    }
    chunks.remainder().iter().position(is_stop).map(|k| at + k)
}

/// Reads `raw` when it is exactly ` n1="v1" n2="v2" ..` for `names` (distinct) in that
/// order, as devices write their tags, with no value XML would normalize. `None` otherwise.
#[inline]
fn exact<'a, const N: usize>(raw: &'a str, names: &[&str; N]) -> Option<[&'a str; N]> {
    let bytes = raw.as_bytes();
    let mut out = [""; N];
    let mut i = 0usize;
    for (slot, name) in out.iter_mut().zip(names) {
        let key_end = i + 1 + name.len();
        // Byte by byte: names are a few bytes, shorter than a call to memcmp.
        let same_name = bytes
            .get(i + 1..key_end)?
            .iter()
            .zip(name.as_bytes())
            .all(|(a, b)| a == b);
        if !same_name
            || bytes.get(i) != Some(&b' ')
            || bytes.get(key_end) != Some(&b'=')
            || bytes.get(key_end + 1) != Some(&b'"')
        {
            return None;
        }
        let from = key_end + 2;
        let to = from + value_end(bytes.get(from..)?)?;
        if bytes.get(to) != Some(&b'"') {
            return None;
        }
        *slot = raw.get(from..to)?;
        i = to + 1;
    }
    (i == bytes.len()).then_some(out)
}

/// Reads `raw` (a start tag's bytes after its name) when every attribute is
/// `name="value"` or `name='value'`, the parts separated by spaces only (as devices write
/// them), no two names alike, and no reference anywhere. `None` otherwise.
///
/// The key is read as quick-xml reads it: from the first non-space byte to the next `=` or
/// space.
fn scan<'a, const N: usize>(raw: &'a str, names: &[&str; N]) -> Option<[Option<&'a str>; N]> {
    let bytes = raw.as_bytes();
    // Tabs and line breaks are spaces between attributes but are normalized inside values;
    // a reference is expanded. Both are quick-xml's to read. One branch-free pass over the
    // tag is cheaper than a check per byte below.
    let unusual = bytes.iter().fold(false, |acc, b| {
        acc | matches!(b, b'&' | b'\t' | b'\n' | b'\r')
    });
    if unusual {
        return None;
    }
    // The offset of the first byte at or after `from` that is not a space.
    let skip_spaces = |from: usize| -> Option<usize> {
        Some(from + bytes.get(from..)?.iter().position(|b| *b != b' ')?)
    };
    let mut found = Found::new();
    let mut i = 0usize;
    loop {
        let Some(key_start) = skip_spaces(i) else {
            return Some(found.values);
        };
        let key_bytes = bytes.get(key_start..)?;
        if key_bytes.first() == Some(&b'=') {
            // A key starting with `=` is not plain.
            return None;
        }
        let key_end = key_start + key_bytes.iter().position(|b| *b == b'=' || *b == b' ')?;
        let eq = skip_spaces(key_end)?;
        if bytes.get(eq) != Some(&b'=') {
            return None;
        }
        let open = skip_spaces(eq + 1)?;
        let quote = *bytes.get(open)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = open + 1;
        let value_end = value_start + bytes.get(value_start..)?.iter().position(|b| *b == quote)?;
        found.add(
            raw.get(key_start..key_end)?,
            raw.get(value_start..value_end)?,
            names,
        )?;
        i = value_end + 1;
    }
}

/// The values [`scan`] found, and the keys it saw for the duplicate check.
struct Found<'a, const N: usize> {
    values: [Option<&'a str>; N],
    keys: [&'a str; SCAN_KEYS],
    count: usize,
}

impl<'a, const N: usize> Found<'a, N> {
    fn new() -> Self {
        Found {
            values: [None; N],
            keys: [""; SCAN_KEYS],
            count: 0,
        }
    }

    /// Keeps `value` if `key` is one of `names`; `None` for a repeated key, or more keys
    /// than the check holds.
    fn add(&mut self, key: &'a str, value: &'a str, names: &[&str; N]) -> Option<()> {
        if self.keys.get(..self.count)?.contains(&key) {
            return None;
        }
        *self.keys.get_mut(self.count)? = key;
        self.count += 1;
        if let Some(k) = names.iter().position(|name| *name == key) {
            *self.values.get_mut(k)? = Some(value);
        }
        Some(())
    }
}

/// quick-xml's attribute reader with the duplicate check, each value normalized: the
/// reading of any tag, and the error of a bad one.
fn checked<'a, const N: usize>(
    e: &'a BytesStart<'_>,
    names: [&str; N],
    at: u64,
) -> Result<[Option<Cow<'a, str>>; N], BodyError> {
    let mut out: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    // Duplicate attributes are ill-formed XML: checked here over the keys seen, which
    // needs no allocation per element (quick-xml's own check keeps a Vec).
    let mut seen: Vec<&str> = Vec::new();
    let mut seen_inline: [&str; 8] = [""; 8];
    for (n, a) in e.attributes().with_checks(false).enumerate() {
        let a = a.map_err(|e| xml_err(at, Problem::Syntax(e.to_string())))?;
        let key: &str = a.key.into_inner();
        let repeated = match seen_inline.get(..n) {
            Some(earlier) => earlier.contains(&key),
            None => seen_inline.contains(&key) || seen.contains(&key),
        };
        if repeated {
            return Err(xml_err(
                at,
                Problem::Syntax(format!("attribute {key} given twice")),
            ));
        }
        match seen_inline.get_mut(n) {
            Some(slot) => *slot = key,
            None => seen.push(key),
        }
        if let Some(i) = names.iter().position(|name| *name == key) {
            let value = attribute_value(&a).map_err(|e| xml_err(at, Problem::Syntax(e)))?;
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(value);
            }
        }
    }
    Ok(out)
}

/// An attribute's value as XML normalizes it; a value with no reference and no tab or
/// line break is its own normal form and is borrowed as it is.
fn attribute_value<'a>(
    a: &quick_xml::events::attributes::Attribute<'a>,
) -> Result<Cow<'a, str>, String> {
    if let Cow::Borrowed(raw) = &a.value {
        if !raw
            .bytes()
            .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
        {
            return Ok(Cow::Borrowed(raw));
        }
    }
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
