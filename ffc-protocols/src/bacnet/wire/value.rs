//! Application values (clause 20.2): object types, property identifiers, object
//! identifiers and the application-tagged primitive values, read and written.

use super::tag::{
    code_enum, decode_signed, decode_unsigned, put_primitive, read_context_content, signed_bytes,
    tag_error, tail, unsigned_bytes, TagClass, TagHeader, TagKind,
};
use super::{Layer, Reader, Sink, WireError, WireErrorKind};
use alloc::string::String;
use alloc::vec::Vec;

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
            5 => match <[u8; 8]>::try_from(content) {
                Ok(raw) => Value::Double(f64::from_be_bytes(raw)),
                Err(_) => return Err(bad_length(reader)),
            },
            6 => Value::OctetString(content.to_vec()),
            7 => read_character_string(reader, start, content)?,
            8 => read_bit_string(reader, start, content)?,
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

/// The content of a character string (tag 7): a character set byte (only 0, UTF-8, is
/// read), then the text. `start` is the tag's position, for errors.
fn read_character_string(
    reader: &Reader<'_>,
    start: usize,
    content: &[u8],
) -> Result<Value, WireError> {
    let bad_length = WireErrorKind::BadLength {
        tag: 7,
        length: content.len(),
    };
    let Some((charset, text)) = content.split_first() else {
        return Err(tag_error(reader, start, bad_length));
    };
    if *charset != 0 {
        return Err(tag_error(
            reader,
            reader.position().saturating_sub(content.len()),
            WireErrorKind::UnsupportedCharset(*charset),
        ));
    }
    match core::str::from_utf8(text) {
        Ok(text) => Ok(Value::CharacterString(String::from(text))),
        Err(_) => Err(tag_error(reader, start, WireErrorKind::InvalidUtf8)),
    }
}

/// The content of a bit string (tag 8): the count of unused bits in the last byte, then
/// the bits, most significant first.
fn read_bit_string(reader: &Reader<'_>, start: usize, content: &[u8]) -> Result<Value, WireError> {
    let Some((unused, data)) = content.split_first() else {
        let bad_length = WireErrorKind::BadLength { tag: 8, length: 0 };
        return Err(tag_error(reader, start, bad_length));
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
    Ok(Value::BitString(bits))
}

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

/// Writes a context-tagged object identifier.
pub(crate) fn put_context_object_id(out: &mut impl Sink, number: u8, id: ObjectId) {
    put_primitive(out, number, TagClass::Context, &id.to_u32().to_be_bytes());
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

/// An application-tagged enumerated value (e.g. the class and code of an Error).
pub(super) fn read_enumerated(reader: &mut Reader<'_>) -> Result<u32, WireError> {
    let start = reader.position();
    match Value::read(reader)? {
        Value::Enumerated(value) => Ok(value),
        other => Err(reader.error_at(
            start,
            WireErrorKind::UnexpectedTag {
                expected: 9,
                found: other.tag_number(),
            },
        )),
    }
}
