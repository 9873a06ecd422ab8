//! Service bodies (clauses 15.5, 15.7, 16.9, 16.10): Who-Is, I-Am, ReadProperty and
//! ReadPropertyMultiple requests and acknowledgements.

use super::tag::{
    code_enum, next_is, put_closing, put_context_unsigned, put_opening, read_closing,
    read_context_u32, read_opening, TagHeader, TagKind,
};
use super::value::{
    put_context_object_id, read_context_object_id, read_enumerated, read_values_until_closing,
    MAX_INSTANCE,
};
use super::{Layer, ObjectId, PropertyId, Reader, Sink, Value, WireError, WireErrorKind};
use alloc::vec::Vec;

/// Unconfirmed service choice of I-Am.
pub const UNCONFIRMED_I_AM: u8 = 0;
/// Unconfirmed service choice of Who-Is.
pub const UNCONFIRMED_WHO_IS: u8 = 8;
/// Confirmed service choice of ReadProperty.
pub const CONFIRMED_READ_PROPERTY: u8 = 12;
/// Confirmed service choice of ReadPropertyMultiple.
pub const CONFIRMED_READ_PROPERTY_MULTIPLE: u8 = 14;

code_enum! {
    /// What segmentation a device supports (the I-Am's and device object's enumeration).
    Segmentation: u32 {
        /// Sends and receives segmented messages.
        Both = 0,
        /// Sends segmented messages only.
        Transmit = 1,
        /// Receives segmented messages only.
        Receive = 2,
        /// No segmentation.
        NoSegmentation = 3,
    }
}

impl Segmentation {
    /// True when the device sends segmented answers.
    pub const fn transmits(self) -> bool {
        matches!(self, Segmentation::Both | Segmentation::Transmit)
    }
}

code_enum! {
    /// Error classes (clause 18).
    ErrorClass: u32 {
        /// device.
        Device = 0,
        /// object.
        Object = 1,
        /// property.
        Property = 2,
        /// resources.
        Resources = 3,
        /// security.
        Security = 4,
        /// services.
        Services = 5,
        /// vt.
        Vt = 6,
        /// communication.
        Communication = 7,
    }
}

code_enum! {
    /// The error codes this crate sends or names (clause 18).
    ErrorCode: u32 {
        /// other.
        Unspecified = 0,
        /// read-access-denied.
        ReadAccessDenied = 27,
        /// service-request-denied.
        ServiceRequestDenied = 29,
        /// unknown-object.
        UnknownObject = 31,
        /// unknown-property.
        UnknownProperty = 32,
        /// value-out-of-range.
        ValueOutOfRange = 37,
        /// invalid-array-index.
        InvalidArrayIndex = 42,
        /// property-is-not-an-array.
        PropertyIsNotAnArray = 50,
    }
}

/// An error class and code, as in an Error PDU or a ReadPropertyMultiple access error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceError {
    /// The class.
    pub class: ErrorClass,
    /// The code.
    pub code: ErrorCode,
}

fn service_reader(payload: &[u8], base: usize) -> Reader<'_> {
    Reader::new(payload, base, Layer::Service)
}

fn read_property_id(reader: &mut Reader<'_>, number: u8) -> Result<PropertyId, WireError> {
    let start = reader.position();
    let raw = read_context_u32(reader, number)?;
    if raw > MAX_INSTANCE {
        return Err(reader.error_at(start, WireErrorKind::OutOfRange));
    }
    Ok(PropertyId::from_code(raw))
}

fn read_optional_index(reader: &mut Reader<'_>, number: u8) -> Result<Option<u32>, WireError> {
    if next_is(reader, number, Some(TagKind::Length(0))) {
        Ok(Some(read_context_u32(reader, number)?))
    } else {
        Ok(None)
    }
}

/// Who-Is (unconfirmed service 8): asks the devices in an instance range to announce
/// themselves; no range asks every device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WhoIs {
    /// Low and high instance limits, inclusive.
    pub range: Option<(u32, u32)>,
}

impl WhoIs {
    /// The unconfirmed service choice.
    pub const SERVICE: u8 = UNCONFIRMED_WHO_IS;

    /// Parses the body; `base` is its offset in the datagram.
    pub fn parse(payload: &[u8], base: usize) -> Result<Self, WireError> {
        let mut reader = service_reader(payload, base);
        if reader.is_empty() {
            return Ok(WhoIs { range: None });
        }
        let low = read_context_u32(&mut reader, 0)?;
        let start = reader.position();
        let high = read_context_u32(&mut reader, 1)?;
        if low > MAX_INSTANCE || high > MAX_INSTANCE {
            return Err(reader.error_at(start, WireErrorKind::OutOfRange));
        }
        reader.finish()?;
        Ok(WhoIs {
            range: Some((low, high)),
        })
    }

    /// True when a device with `instance` should answer.
    pub fn matches(&self, instance: u32) -> bool {
        match self.range {
            None => true,
            Some((low, high)) => (low..=high).contains(&instance),
        }
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        if let Some((low, high)) = self.range {
            put_context_unsigned(out, 0, u64::from(low));
            put_context_unsigned(out, 1, u64::from(high));
        }
    }
}

super::emit_methods!(WhoIs);

/// I-Am (unconfirmed service 0): a device's identity, max APDU, segmentation and vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IAm {
    /// The device object's identifier.
    pub device: ObjectId,
    /// The largest APDU the device accepts, in octets.
    pub max_apdu: u32,
    /// What segmentation it supports.
    pub segmentation: Segmentation,
    /// Its vendor identifier.
    pub vendor_id: u32,
}

impl IAm {
    /// The unconfirmed service choice.
    pub const SERVICE: u8 = UNCONFIRMED_I_AM;

    /// Parses the body; `base` is its offset in the datagram.
    pub fn parse(payload: &[u8], base: usize) -> Result<Self, WireError> {
        let mut reader = service_reader(payload, base);
        let next = |reader: &mut Reader<'_>, expected: u8| -> Result<Value, WireError> {
            let start = reader.position();
            let value = Value::read(reader).map_err(|e| match e.kind {
                WireErrorKind::Truncated { available: 0, .. } => reader.error_at(
                    start,
                    WireErrorKind::UnexpectedTag {
                        expected,
                        found: 0xff,
                    },
                ),
                _ => e,
            })?;
            if value.tag_number() != expected {
                return Err(reader.error_at(
                    start,
                    WireErrorKind::UnexpectedTag {
                        expected,
                        found: value.tag_number(),
                    },
                ));
            }
            Ok(value)
        };
        let device = match next(&mut reader, 12)? {
            Value::ObjectId(id) => id,
            _ => ObjectId::from_u32(0),
        };
        let start = reader.position();
        let max_apdu = match next(&mut reader, 2)? {
            Value::Unsigned(v) => {
                u32::try_from(v).map_err(|_| reader.error_at(start, WireErrorKind::OutOfRange))?
            }
            _ => 0,
        };
        let segmentation = match next(&mut reader, 9)? {
            Value::Enumerated(v) => Segmentation::from_code(v),
            _ => Segmentation::NoSegmentation,
        };
        let start = reader.position();
        let vendor_id = match next(&mut reader, 2)? {
            Value::Unsigned(v) => {
                u32::try_from(v).map_err(|_| reader.error_at(start, WireErrorKind::OutOfRange))?
            }
            _ => 0,
        };
        reader.finish()?;
        Ok(IAm {
            device,
            max_apdu,
            segmentation,
            vendor_id,
        })
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        Value::ObjectId(self.device).write(out);
        Value::Unsigned(u64::from(self.max_apdu)).write(out);
        Value::Enumerated(self.segmentation.code()).write(out);
        Value::Unsigned(u64::from(self.vendor_id)).write(out);
    }
}

super::emit_methods!(IAm);

/// ReadProperty-Request (confirmed service 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadPropertyRequest {
    /// The object.
    pub object: ObjectId,
    /// The property.
    pub property: PropertyId,
    /// For an array property: 0 reads the length, n the n-th element.
    pub array_index: Option<u32>,
}

impl ReadPropertyRequest {
    /// The confirmed service choice.
    pub const SERVICE: u8 = CONFIRMED_READ_PROPERTY;

    /// Parses the body; `base` is its offset in the datagram.
    pub fn parse(payload: &[u8], base: usize) -> Result<Self, WireError> {
        let mut reader = service_reader(payload, base);
        let object = read_context_object_id(&mut reader, 0)?;
        let property = read_property_id(&mut reader, 1)?;
        let array_index = read_optional_index(&mut reader, 2)?;
        reader.finish()?;
        Ok(ReadPropertyRequest {
            object,
            property,
            array_index,
        })
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        put_context_object_id(out, 0, self.object);
        put_context_unsigned(out, 1, u64::from(self.property.code()));
        if let Some(index) = self.array_index {
            put_context_unsigned(out, 2, u64::from(index));
        }
    }
}

super::emit_methods!(ReadPropertyRequest);

/// ReadProperty-ACK: the value(s) of one property.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPropertyAck {
    /// The object.
    pub object: ObjectId,
    /// The property.
    pub property: PropertyId,
    /// The array index asked for.
    pub array_index: Option<u32>,
    /// The value; an array or list property has several.
    pub values: Vec<Value>,
}

impl ReadPropertyAck {
    /// Parses the body; `base` is its offset in the datagram.
    pub fn parse(payload: &[u8], base: usize) -> Result<Self, WireError> {
        let mut reader = service_reader(payload, base);
        let object = read_context_object_id(&mut reader, 0)?;
        let property = read_property_id(&mut reader, 1)?;
        let array_index = read_optional_index(&mut reader, 2)?;
        read_opening(&mut reader, 3)?;
        let values = read_values_until_closing(&mut reader, 3)?;
        read_closing(&mut reader, 3)?;
        reader.finish()?;
        Ok(ReadPropertyAck {
            object,
            property,
            array_index,
            values,
        })
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        put_context_object_id(out, 0, self.object);
        put_context_unsigned(out, 1, u64::from(self.property.code()));
        if let Some(index) = self.array_index {
            put_context_unsigned(out, 2, u64::from(index));
        }
        put_opening(out, 3);
        for value in &self.values {
            value.write(out);
        }
        put_closing(out, 3);
    }
}

super::emit_methods!(ReadPropertyAck);

/// One property to read, with an optional array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PropertyReference {
    /// The property.
    pub property: PropertyId,
    /// The array index.
    pub array_index: Option<u32>,
}

impl PropertyReference {
    /// A whole property.
    pub const fn new(property: PropertyId) -> Self {
        PropertyReference {
            property,
            array_index: None,
        }
    }
}

/// The properties to read of one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadAccessSpec {
    /// The object.
    pub object: ObjectId,
    /// Its properties.
    pub properties: Vec<PropertyReference>,
}

impl ReadAccessSpec {
    pub(crate) fn write(&self, out: &mut impl Sink) {
        put_context_object_id(out, 0, self.object);
        put_opening(out, 1);
        for reference in &self.properties {
            put_context_unsigned(out, 0, u64::from(reference.property.code()));
            if let Some(index) = reference.array_index {
                put_context_unsigned(out, 1, u64::from(index));
            }
        }
        put_closing(out, 1);
    }
}

super::emit_methods!(ReadAccessSpec);

/// ReadPropertyMultiple-Request (confirmed service 14).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RpmRequest {
    /// The objects and their properties, in order.
    pub specs: Vec<ReadAccessSpec>,
}

impl RpmRequest {
    /// The confirmed service choice.
    pub const SERVICE: u8 = CONFIRMED_READ_PROPERTY_MULTIPLE;

    /// Parses the body; `base` is its offset in the datagram.
    pub fn parse(payload: &[u8], base: usize) -> Result<Self, WireError> {
        let mut reader = service_reader(payload, base);
        let mut specs = Vec::new();
        loop {
            let object = read_context_object_id(&mut reader, 0)?;
            read_opening(&mut reader, 1)?;
            let mut properties = Vec::new();
            loop {
                if matches!(TagHeader::peek(&reader), Some(Ok(tag)) if tag.is_closing(1)) {
                    break;
                }
                let property = read_property_id(&mut reader, 0)?;
                let array_index = read_optional_index(&mut reader, 1)?;
                properties.push(PropertyReference {
                    property,
                    array_index,
                });
            }
            if properties.is_empty() {
                return Err(reader.error(WireErrorKind::UnexpectedTag {
                    expected: 0,
                    found: 1,
                }));
            }
            read_closing(&mut reader, 1)?;
            specs.push(ReadAccessSpec { object, properties });
            if reader.is_empty() {
                return Ok(RpmRequest { specs });
            }
        }
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        for spec in &self.specs {
            spec.write(out);
        }
    }
}

super::emit_methods!(RpmRequest);

/// One property's value or access error in a ReadPropertyMultiple-ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyResult {
    /// The property.
    pub property: PropertyId,
    /// The array index.
    pub array_index: Option<u32>,
    /// The value(s), or why it could not be read.
    pub result: Result<Vec<Value>, ServiceError>,
}

impl PropertyResult {
    pub(crate) fn write(&self, out: &mut impl Sink) {
        put_context_unsigned(out, 2, u64::from(self.property.code()));
        if let Some(index) = self.array_index {
            put_context_unsigned(out, 3, u64::from(index));
        }
        match &self.result {
            Ok(values) => {
                put_opening(out, 4);
                for value in values {
                    value.write(out);
                }
                put_closing(out, 4);
            }
            Err(error) => {
                put_opening(out, 5);
                Value::Enumerated(error.class.code()).write(out);
                Value::Enumerated(error.code.code()).write(out);
                put_closing(out, 5);
            }
        }
    }
}

super::emit_methods!(PropertyResult);

/// The results for one object in a ReadPropertyMultiple-ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadAccessResult {
    /// The object.
    pub object: ObjectId,
    /// One result per property asked for (more for `all`, `required`, `optional`).
    pub results: Vec<PropertyResult>,
}

impl ReadAccessResult {
    pub(crate) fn write(&self, out: &mut impl Sink) {
        put_context_object_id(out, 0, self.object);
        put_opening(out, 1);
        for result in &self.results {
            result.write(out);
        }
        put_closing(out, 1);
    }
}

super::emit_methods!(ReadAccessResult);

/// ReadPropertyMultiple-ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct RpmAck {
    /// One entry per object, in the request's order.
    pub results: Vec<ReadAccessResult>,
}

impl RpmAck {
    /// Parses the body; `base` is its offset in the datagram.
    pub fn parse(payload: &[u8], base: usize) -> Result<Self, WireError> {
        let mut reader = service_reader(payload, base);
        let mut results = Vec::new();
        while !reader.is_empty() {
            let object = read_context_object_id(&mut reader, 0)?;
            read_opening(&mut reader, 1)?;
            let mut properties = Vec::new();
            loop {
                if matches!(TagHeader::peek(&reader), Some(Ok(tag)) if tag.is_closing(1)) {
                    break;
                }
                let property = read_property_id(&mut reader, 2)?;
                let array_index = read_optional_index(&mut reader, 3)?;
                let result = if next_is(&reader, 5, Some(TagKind::Opening)) {
                    read_opening(&mut reader, 5)?;
                    let class = ErrorClass::from_code(read_enumerated(&mut reader)?);
                    let code = ErrorCode::from_code(read_enumerated(&mut reader)?);
                    read_closing(&mut reader, 5)?;
                    Err(ServiceError { class, code })
                } else {
                    read_opening(&mut reader, 4)?;
                    let values = read_values_until_closing(&mut reader, 4)?;
                    read_closing(&mut reader, 4)?;
                    Ok(values)
                };
                properties.push(PropertyResult {
                    property,
                    array_index,
                    result,
                });
            }
            read_closing(&mut reader, 1)?;
            results.push(ReadAccessResult {
                object,
                results: properties,
            });
        }
        Ok(RpmAck { results })
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        for result in &self.results {
            result.write(out);
        }
    }
}

super::emit_methods!(RpmAck);
