//! BACnet's tagged encoding (clause 20.2): tag headers, application-tagged primitive
//! values, context tags, object identifiers and the enumerations this crate uses.

use super::{Layer, Reader, Sink, WireError, WireErrorKind};
use alloc::string::String;
use alloc::vec::Vec;

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

fn tag_error(reader: &Reader<'_>, position: usize, kind: WireErrorKind) -> WireError {
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
fn unsigned_bytes(value: u64) -> ([u8; 8], usize) {
    let bytes = value.to_be_bytes();
    let len = (8 - (value.leading_zeros() as usize) / 8).max(1);
    (bytes, len)
}

/// Minimal two's complement bytes of a signed value (at least one byte).
fn signed_bytes(value: i64) -> ([u8; 8], usize) {
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

fn tail(bytes: &[u8; 8], len: usize) -> &[u8] {
    bytes.get(8usize.saturating_sub(len)..).unwrap_or(&[])
}

fn put_primitive(out: &mut impl Sink, number: u8, class: TagClass, content: &[u8]) {
    TagHeader {
        number,
        class,
        kind: TagKind::Length(content.len() as u32),
    }
    .write(out);
    out.put(content);
}

fn decode_unsigned(content: &[u8]) -> u64 {
    content
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte))
}

fn decode_signed(content: &[u8]) -> i64 {
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

/// Writes a context-tagged object identifier.
pub(crate) fn put_context_object_id(out: &mut impl Sink, number: u8, id: ObjectId) {
    put_primitive(out, number, TagClass::Context, &id.to_u32().to_be_bytes());
}

/// Writes a context opening tag.
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
fn read_context_content<'a>(reader: &mut Reader<'a>, number: u8) -> Result<&'a [u8], WireError> {
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

/// Reads a context-tagged object identifier.
pub(crate) fn read_context_object_id(
    reader: &mut Reader<'_>,
    number: u8,
) -> Result<ObjectId, WireError> {
    let start = reader.position();
    let content = read_context_content(reader, number)?;
    let mut raw = [0u8; 4];
    if content.len() != 4 {
        return Err(tag_error(
            reader,
            start,
            WireErrorKind::BadLength {
                tag: 12,
                length: content.len(),
            },
        ));
    }
    raw.copy_from_slice(content);
    Ok(ObjectId::from_u32(u32::from_be_bytes(raw)))
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

code_enum! {
    /// BACnet object types (10 bits).
    ObjectType: u16 {
        /// analog-input.
        AnalogInput = 0,
        /// analog-output.
        AnalogOutput = 1,
        /// analog-value: what the simulated FFC device serves.
        AnalogValue = 2,
        /// binary-input.
        BinaryInput = 3,
        /// device.
        Device = 8,
        /// integer-value.
        IntegerValue = 45,
        /// positive-integer-value.
        PositiveIntegerValue = 48,
    }
}

code_enum! {
    /// BACnet property identifiers (22 bits).
    PropertyId: u32 {
        /// all (ReadPropertyMultiple only).
        All = 8,
        /// apdu-timeout.
        ApduTimeout = 11,
        /// application-software-version.
        ApplicationSoftwareVersion = 12,
        /// description.
        Description = 28,
        /// device-address-binding.
        DeviceAddressBinding = 30,
        /// event-state.
        EventState = 36,
        /// firmware-revision.
        FirmwareRevision = 44,
        /// max-apdu-length-accepted.
        MaxApduLengthAccepted = 62,
        /// model-name.
        ModelName = 70,
        /// number-of-apdu-retries.
        NumberOfApduRetries = 73,
        /// object-identifier.
        ObjectIdentifier = 75,
        /// object-list.
        ObjectList = 76,
        /// object-name.
        ObjectName = 77,
        /// object-type.
        ObjectType = 79,
        /// optional (ReadPropertyMultiple only).
        Optional = 80,
        /// out-of-service.
        OutOfService = 81,
        /// present-value.
        PresentValue = 85,
        /// protocol-object-types-supported.
        ProtocolObjectTypesSupported = 96,
        /// protocol-services-supported.
        ProtocolServicesSupported = 97,
        /// protocol-version.
        ProtocolVersion = 98,
        /// required (ReadPropertyMultiple only).
        Required = 105,
        /// segmentation-supported.
        SegmentationSupported = 107,
        /// status-flags.
        StatusFlags = 111,
        /// system-status.
        SystemStatus = 112,
        /// units.
        Units = 117,
        /// vendor-identifier.
        VendorIdentifier = 120,
        /// vendor-name.
        VendorName = 121,
        /// protocol-revision.
        ProtocolRevision = 139,
        /// database-revision.
        DatabaseRevision = 155,
        /// max-segments-accepted.
        MaxSegmentsAccepted = 167,
    }
}

/// The largest object instance; 4194303 is the "any instance" wildcard.
pub const MAX_INSTANCE: u32 = 0x3f_ffff;

/// An object identifier: type and instance, packed into 32 bits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// The object type.
    pub object_type: ObjectType,
    /// The instance (22 bits).
    pub instance: u32,
}

impl ObjectId {
    /// A new identifier; the instance is masked to 22 bits and the type to 10.
    pub const fn new(object_type: ObjectType, instance: u32) -> Self {
        let code = object_type.code() & 0x3ff;
        ObjectId {
            object_type: ObjectType::from_code(code),
            instance: instance & MAX_INSTANCE,
        }
    }

    /// From the packed 32-bit form.
    pub const fn from_u32(raw: u32) -> Self {
        ObjectId {
            object_type: ObjectType::from_code((raw >> 22) as u16),
            instance: raw & MAX_INSTANCE,
        }
    }

    /// The packed 32-bit form.
    pub const fn to_u32(self) -> u32 {
        ((self.object_type.code() as u32 & 0x3ff) << 22) | (self.instance & MAX_INSTANCE)
    }
}

/// An application-tagged primitive value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Tag 0.
    Null,
    /// Tag 1.
    Boolean(bool),
    /// Tag 2 (up to 64 bits).
    Unsigned(u64),
    /// Tag 3 (up to 64 bits).
    Signed(i64),
    /// Tag 4: IEEE-754 single.
    Real(f32),
    /// Tag 5: IEEE-754 double.
    Double(f64),
    /// Tag 6.
    OctetString(Vec<u8>),
    /// Tag 7, UTF-8 (character set 0).
    CharacterString(String),
    /// Tag 8: `bits[i]` is bit i, the first bit on the wire being the most significant
    /// bit of the first byte.
    BitString(Vec<bool>),
    /// Tag 9 (up to 32 bits).
    Enumerated(u32),
    /// Tag 10: year-1900, month, day, weekday (0xff: unspecified).
    Date([u8; 4]),
    /// Tag 11: hour, minute, second, hundredths (0xff: unspecified).
    Time([u8; 4]),
    /// Tag 12.
    ObjectId(ObjectId),
}

/// Longest bit string accepted (bits); no BACnet property this crate reads comes near.
const MAX_BITS: usize = 1024;

impl Value {
    /// The application tag number.
    pub const fn tag_number(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Boolean(_) => 1,
            Value::Unsigned(_) => 2,
            Value::Signed(_) => 3,
            Value::Real(_) => 4,
            Value::Double(_) => 5,
            Value::OctetString(_) => 6,
            Value::CharacterString(_) => 7,
            Value::BitString(_) => 8,
            Value::Enumerated(_) => 9,
            Value::Date(_) => 10,
            Value::Time(_) => 11,
            Value::ObjectId(_) => 12,
        }
    }

    /// Parses one application-tagged value from the front of `bytes`; returns it and the
    /// bytes used.
    pub fn parse(bytes: &[u8]) -> Result<(Self, usize), WireError> {
        let mut reader = Reader::new(bytes, 0, Layer::Tag);
        let value = Value::read(&mut reader)?;
        Ok((value, reader.position()))
    }

    /// Reads one application-tagged value.
    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, WireError> {
        let start = reader.position();
        let tag = TagHeader::read(reader)?;
        let length = match (tag.class, tag.kind) {
            (TagClass::Application, TagKind::Length(length)) => length as usize,
            _ => return Err(tag_error(reader, start, WireErrorKind::WrongTagClass)),
        };
        let bad_length = |reader: &Reader<'_>| {
            tag_error(
                reader,
                start,
                WireErrorKind::BadLength {
                    tag: tag.number,
                    length,
                },
            )
        };
        if tag.number == 1 {
            return match length {
                0 => Ok(Value::Boolean(false)),
                1 => Ok(Value::Boolean(true)),
                _ => Err(bad_length(reader)),
            };
        }
        let content = reader.take(length).map_err(|e| WireError {
            layer: Layer::Tag,
            ..e
        })?;
        let fixed4 = |reader: &Reader<'_>| -> Result<[u8; 4], WireError> {
            let mut out = [0u8; 4];
            if content.len() != 4 {
                return Err(bad_length(reader));
            }
            out.copy_from_slice(content);
            Ok(out)
        };
        Ok(match tag.number {
            0 if length == 0 => Value::Null,
            0 => return Err(bad_length(reader)),
            2 if (1..=8).contains(&length) => Value::Unsigned(decode_unsigned(content)),
            3 if (1..=8).contains(&length) => Value::Signed(decode_signed(content)),
            2 | 3 => return Err(bad_length(reader)),
            4 => Value::Real(f32::from_be_bytes(fixed4(reader)?)),
            5 => {
                let mut out = [0u8; 8];
                if content.len() != 8 {
                    return Err(bad_length(reader));
                }
                out.copy_from_slice(content);
                Value::Double(f64::from_be_bytes(out))
            }
            6 => Value::OctetString(content.to_vec()),
            7 => {
                let (charset, text) = match content.split_first() {
                    Some(split) => split,
                    None => return Err(bad_length(reader)),
                };
                if *charset != 0 {
                    return Err(tag_error(
                        reader,
                        reader.position().saturating_sub(length),
                        WireErrorKind::UnsupportedCharset(*charset),
                    ));
                }
                match core::str::from_utf8(text) {
                    Ok(text) => Value::CharacterString(String::from(text)),
                    Err(_) => return Err(tag_error(reader, start, WireErrorKind::InvalidUtf8)),
                }
            }
            8 => {
                let (unused, data) = match content.split_first() {
                    Some(split) => split,
                    None => return Err(bad_length(reader)),
                };
                if *unused > 7 || (data.is_empty() && *unused != 0) {
                    return Err(tag_error(reader, start, WireErrorKind::BadBitString));
                }
                let count = (data.len() * 8).saturating_sub(usize::from(*unused));
                if count > MAX_BITS {
                    return Err(tag_error(
                        reader,
                        start,
                        WireErrorKind::Oversized {
                            length: count,
                            limit: MAX_BITS,
                        },
                    ));
                }
                let bits = (0..count)
                    .map(|i| {
                        data.get(i / 8)
                            .is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
                    })
                    .collect();
                Value::BitString(bits)
            }
            9 if (1..=4).contains(&length) => Value::Enumerated(decode_unsigned(content) as u32),
            9 => return Err(bad_length(reader)),
            10 => Value::Date(fixed4(reader)?),
            11 => Value::Time(fixed4(reader)?),
            12 => Value::ObjectId(ObjectId::from_u32(u32::from_be_bytes(fixed4(reader)?))),
            _ => {
                return Err(tag_error(
                    reader,
                    start,
                    WireErrorKind::UnexpectedTag {
                        expected: 12,
                        found: tag.number,
                    },
                ))
            }
        })
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        let app = TagClass::Application;
        match self {
            Value::Null => put_primitive(out, 0, app, &[]),
            Value::Boolean(value) => TagHeader {
                number: 1,
                class: app,
                kind: TagKind::Length(u32::from(*value)),
            }
            .write(out),
            Value::Unsigned(value) => {
                let (bytes, len) = unsigned_bytes(*value);
                put_primitive(out, 2, app, tail(&bytes, len));
            }
            Value::Signed(value) => {
                let (bytes, len) = signed_bytes(*value);
                put_primitive(out, 3, app, tail(&bytes, len));
            }
            Value::Real(value) => put_primitive(out, 4, app, &value.to_be_bytes()),
            Value::Double(value) => put_primitive(out, 5, app, &value.to_be_bytes()),
            Value::OctetString(bytes) => put_primitive(out, 6, app, bytes),
            Value::CharacterString(text) => {
                TagHeader {
                    number: 7,
                    class: app,
                    kind: TagKind::Length(text.len() as u32 + 1),
                }
                .write(out);
                out.put_u8(0);
                out.put(text.as_bytes());
            }
            Value::BitString(bits) => {
                let bytes = bits.len().div_ceil(8);
                let unused = (bytes * 8 - bits.len()) as u8;
                let mut content = alloc::vec![0u8; bytes + 1];
                if let Some(first) = content.first_mut() {
                    *first = unused;
                }
                for (i, bit) in bits.iter().enumerate() {
                    if let (true, Some(byte)) = (*bit, content.get_mut(1 + i / 8)) {
                        *byte |= 0x80 >> (i % 8);
                    }
                }
                put_primitive(out, 8, app, &content);
            }
            Value::Enumerated(value) => {
                let (bytes, len) = unsigned_bytes(u64::from(*value));
                put_primitive(out, 9, app, tail(&bytes, len));
            }
            Value::Date(raw) => put_primitive(out, 10, app, raw),
            Value::Time(raw) => put_primitive(out, 11, app, raw),
            Value::ObjectId(id) => put_primitive(out, 12, app, &id.to_u32().to_be_bytes()),
        }
    }
}

super::emit_methods!(Value);

/// Reads application values until the context closing tag `number` (not consumed).
pub(crate) fn read_values_until_closing(
    reader: &mut Reader<'_>,
    number: u8,
) -> Result<Vec<Value>, WireError> {
    let mut values = Vec::new();
    loop {
        match TagHeader::peek(reader) {
            None => {
                return Err(tag_error(
                    reader,
                    reader.position(),
                    WireErrorKind::UnbalancedTag,
                ))
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(tag)) if tag.is_closing(number) => return Ok(values),
            Some(Ok(_)) => values.push(Value::read(reader)?),
        }
    }
}
