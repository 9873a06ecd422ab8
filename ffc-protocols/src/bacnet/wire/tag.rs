//! BACnet's tagged encoding (clause 20.2): tag headers, application-tagged primitive
//! values, context tags, object identifiers and the enumerations this crate uses.

use super::{Layer, Reader, Sink, WireError, WireErrorKind};

/// Application or context tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagClass {
    /// The tag number names the datatype (null, boolean, unsigned, ...).
    Application,
    /// The tag number names the field of the enclosing structure.
    Context,
}

/// What follows a tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagKind {
    /// A primitive of this many content bytes (for an application boolean: the value).
    Length(u32),
    /// Opening tag of a constructed context field.
    Opening,
    /// Closing tag of a constructed context field.
    Closing,
}

/// A decoded tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagHeader {
    /// Tag number (0..=254).
    pub number: u8,
    /// Application or context.
    pub class: TagClass,
    /// Length, opening or closing.
    pub kind: TagKind,
}

pub(super) fn tag_error(reader: &Reader<'_>, position: usize, kind: WireErrorKind) -> WireError {
    WireError {
        layer: Layer::Tag,
        ..reader.error_at(position, kind)
    }
}

impl TagHeader {
    /// Reads a tag header.
    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, WireError> {
        let start = reader.position();
        let first = reader.u8().map_err(|e| WireError {
            layer: Layer::Tag,
            ..e
        })?;
        let mut number = first >> 4;
        if number == 0x0f {
            number = reader.u8()?;
            if number == 0xff {
                return Err(tag_error(reader, start + 1, WireErrorKind::OutOfRange));
            }
        }
        let class = if first & 0x08 != 0 {
            TagClass::Context
        } else {
            TagClass::Application
        };
        let lvt = first & 0x07;
        let kind = match (class, lvt) {
            (TagClass::Context, 6) => TagKind::Opening,
            (TagClass::Context, 7) => TagKind::Closing,
            (TagClass::Application, 6 | 7) => {
                return Err(tag_error(reader, start, WireErrorKind::WrongTagClass))
            }
            (TagClass::Application, _) if number == 1 => TagKind::Length(u32::from(lvt)),
            (_, 5) => {
                let ext = reader.u8()?;
                let length = match ext {
                    254 => u32::from(reader.u16()?),
                    255 => reader.u32()?,
                    short => u32::from(short),
                };
                TagKind::Length(length)
            }
            (_, short) => TagKind::Length(u32::from(short)),
        };
        Ok(TagHeader {
            number,
            class,
            kind,
        })
    }

    /// Reads a header without consuming it; `None` at the end of the data.
    pub(crate) fn peek(reader: &Reader<'_>) -> Option<Result<Self, WireError>> {
        if reader.is_empty() {
            return None;
        }
        let mut copy = reader.clone();
        Some(TagHeader::read(&mut copy))
    }

    /// True when this is the context opening tag `number`.
    pub fn is_opening(&self, number: u8) -> bool {
        self.class == TagClass::Context && self.number == number && self.kind == TagKind::Opening
    }

    /// True when this is the context closing tag `number`.
    pub fn is_closing(&self, number: u8) -> bool {
        self.class == TagClass::Context && self.number == number && self.kind == TagKind::Closing
    }

    /// True when this is the primitive context tag `number`.
    pub fn is_context(&self, number: u8) -> bool {
        self.class == TagClass::Context
            && self.number == number
            && matches!(self.kind, TagKind::Length(_))
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        let class_bit = match self.class {
            TagClass::Application => 0x00,
            TagClass::Context => 0x08,
        };
        let (lvt, extended) = match self.kind {
            TagKind::Opening => (6u8, None),
            TagKind::Closing => (7u8, None),
            TagKind::Length(len) if len <= 4 => (len as u8, None),
            TagKind::Length(len) => (5u8, Some(len)),
        };
        if self.number >= 15 {
            out.put_u8(0xf0 | class_bit | lvt);
            out.put_u8(self.number);
        } else {
            out.put_u8((self.number << 4) | class_bit | lvt);
        }
        if let Some(len) = extended {
            if len <= 253 {
                out.put_u8(len as u8);
            } else if let Ok(short) = u16::try_from(len) {
                out.put_u8(254);
                out.put_u16(short);
            } else {
                out.put_u8(255);
                out.put(&len.to_be_bytes());
            }
        }
    }
}

/// Minimal big-endian bytes of an unsigned value (at least one byte).
pub(super) fn unsigned_bytes(value: u64) -> ([u8; 8], usize) {
    let bytes = value.to_be_bytes();
    let len = (8 - (value.leading_zeros() as usize) / 8).max(1);
    (bytes, len)
}

/// Minimal two's complement bytes of a signed value (at least one byte).
pub(super) fn signed_bytes(value: i64) -> ([u8; 8], usize) {
    let bytes = value.to_be_bytes();
    let mut len = 8;
    while len > 1 {
        let shifted = (value << (8 * (9 - len))) >> (8 * (9 - len));
        if shifted != value {
            break;
        }
        len -= 1;
    }
    (bytes, len)
}

pub(super) fn tail(bytes: &[u8; 8], len: usize) -> &[u8] {
    bytes.get(8usize.saturating_sub(len)..).unwrap_or(&[])
}

pub(super) fn put_primitive(out: &mut impl Sink, number: u8, class: TagClass, content: &[u8]) {
    TagHeader {
        number,
        class,
        kind: TagKind::Length(content.len() as u32),
    }
    .write(out);
    out.put(content);
}

pub(super) fn decode_unsigned(content: &[u8]) -> u64 {
    content
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte))
}

pub(super) fn decode_signed(content: &[u8]) -> i64 {
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let start: i64 = if negative { -1 } else { 0 };
    content
        .iter()
        .fold(start, |acc, byte| (acc << 8) | i64::from(*byte))
}

/// Writes a context-tagged unsigned integer.
pub(crate) fn put_context_unsigned(out: &mut impl Sink, number: u8, value: u64) {
    let (bytes, len) = unsigned_bytes(value);
    put_primitive(out, number, TagClass::Context, tail(&bytes, len));
}

pub(crate) fn put_opening(out: &mut impl Sink, number: u8) {
    TagHeader {
        number,
        class: TagClass::Context,
        kind: TagKind::Opening,
    }
    .write(out);
}

/// Writes a context closing tag.
pub(crate) fn put_closing(out: &mut impl Sink, number: u8) {
    TagHeader {
        number,
        class: TagClass::Context,
        kind: TagKind::Closing,
    }
    .write(out);
}

fn found_number(reader: &Reader<'_>) -> u8 {
    match TagHeader::peek(reader) {
        Some(Ok(tag)) => tag.number,
        _ => 0xff,
    }
}

/// Reads the content of the primitive context tag `number`; errors when the next tag is
/// another one.
pub(super) fn read_context_content<'a>(
    reader: &mut Reader<'a>,
    number: u8,
) -> Result<&'a [u8], WireError> {
    let start = reader.position();
    let found = found_number(reader);
    let tag = TagHeader::read(reader).map_err(|e| match e.kind {
        WireErrorKind::Truncated { available: 0, .. } => tag_error(
            reader,
            start,
            WireErrorKind::UnexpectedTag {
                expected: number,
                found: 0xff,
            },
        ),
        _ => e,
    })?;
    match tag.kind {
        TagKind::Length(len) if tag.is_context(number) => {
            reader.take(len as usize).map_err(|e| WireError {
                layer: Layer::Tag,
                ..e
            })
        }
        _ => Err(tag_error(
            reader,
            start,
            WireErrorKind::UnexpectedTag {
                expected: number,
                found,
            },
        )),
    }
}

/// Reads a context-tagged unsigned integer (1 to 8 bytes).
pub(crate) fn read_context_unsigned(reader: &mut Reader<'_>, number: u8) -> Result<u64, WireError> {
    let start = reader.position();
    let content = read_context_content(reader, number)?;
    if content.is_empty() || content.len() > 8 {
        return Err(tag_error(
            reader,
            start,
            WireErrorKind::BadLength {
                tag: 2,
                length: content.len(),
            },
        ));
    }
    Ok(decode_unsigned(content))
}

/// Reads a context-tagged unsigned integer that must fit in `u32`.
pub(crate) fn read_context_u32(reader: &mut Reader<'_>, number: u8) -> Result<u32, WireError> {
    let start = reader.position();
    let value = read_context_unsigned(reader, number)?;
    u32::try_from(value).map_err(|_| tag_error(reader, start, WireErrorKind::OutOfRange))
}

/// Consumes the context opening tag `number`.
pub(crate) fn read_opening(reader: &mut Reader<'_>, number: u8) -> Result<(), WireError> {
    read_marker(reader, number, TagKind::Opening)
}

/// Consumes the context closing tag `number`.
pub(crate) fn read_closing(reader: &mut Reader<'_>, number: u8) -> Result<(), WireError> {
    read_marker(reader, number, TagKind::Closing)
}

fn read_marker(reader: &mut Reader<'_>, number: u8, kind: TagKind) -> Result<(), WireError> {
    let start = reader.position();
    let found = found_number(reader);
    match TagHeader::peek(reader) {
        Some(Ok(tag))
            if tag.class == TagClass::Context && tag.number == number && tag.kind == kind =>
        {
            TagHeader::read(reader)?;
            Ok(())
        }
        Some(Err(e)) => Err(e),
        _ => Err(tag_error(
            reader,
            start,
            WireErrorKind::UnexpectedTag {
                expected: number,
                found,
            },
        )),
    }
}

/// True when the next tag is the context tag `number` (any kind).
pub(crate) fn next_is(reader: &Reader<'_>, number: u8, kind: Option<TagKind>) -> bool {
    match TagHeader::peek(reader) {
        Some(Ok(tag)) => {
            tag.class == TagClass::Context
                && tag.number == number
                && match kind {
                    Some(TagKind::Length(_)) => matches!(tag.kind, TagKind::Length(_)),
                    Some(other) => tag.kind == other,
                    None => true,
                }
        }
        _ => false,
    }
}

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident : $repr:ty { $( $(#[$vmeta:meta])* $variant:ident = $code:expr ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this crate has no name for.
            Other($repr),
        }

        impl $name {
            /// The numeric code.
            pub const fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(code) => code,
                }
            }

            /// From the numeric code.
            pub const fn from_code(code: $repr) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other),
                }
            }
        }
    };
}
pub(crate) use code_enum;
