//! What the simulated device serves: the device object and the 96 value objects, their
//! properties, ReadProperty and ReadPropertyMultiple.

use super::core::{unicast, Reply};
use super::{object_name, DeviceCore, HourlyValues, HOURS};
use crate::bacnet::wire::{
    ApduRepr, ErrorClass, ErrorCode, ObjectId, ObjectType, PropertyId, PropertyResult,
    ReadAccessResult, ReadAccessSpec, ReadPropertyAck, ReadPropertyRequest, RejectReason, RpmAck,
    Segmentation, Service, ServiceError, Value, WireError, WireErrorKind,
};
use ffc_core::Metric;

impl<A: Copy + Eq> DeviceCore<A> {
    /// The body of the acknowledgement to a confirmed request, or the Error or Reject that
    /// answers it instead.
    pub(super) fn service_answer(
        &self,
        values: &impl HourlyValues,
        invoke_id: u8,
        service: u8,
        service_body: Result<Service, WireError>,
    ) -> Result<Vec<u8>, Reply> {
        let body = match service_body {
            Ok(Service::ReadProperty(request)) => self.read_property(values, &request),
            Ok(Service::ReadPropertyMultiple(request)) => {
                Ok(self.read_property_multiple(values, &request.specs).to_vec())
            }
            Ok(_) => Err(ApduRepr::Reject {
                invoke_id,
                reason: RejectReason::UnrecognizedService,
            }),
            Err(error) => Err(ApduRepr::Reject {
                invoke_id,
                reason: reject_reason(error.kind),
            }),
        };
        body.map_err(|apdu| match apdu {
            ApduRepr::Error { class, code, .. } => unicast(
                &ApduRepr::Error {
                    invoke_id,
                    service,
                    class,
                    code,
                },
                &[],
            ),
            other => unicast(&other, &[]),
        })
    }

    fn read_property(
        &self,
        values: &impl HourlyValues,
        request: &ReadPropertyRequest,
    ) -> Result<Vec<u8>, ApduRepr> {
        let object = self.resolve(request.object);
        match self.property(values, object, request.property, request.array_index) {
            Ok(values) => Ok(ReadPropertyAck {
                object,
                property: request.property,
                array_index: request.array_index,
                values,
            }
            .to_vec()),
            Err(error) => Err(ApduRepr::Error {
                invoke_id: 0,
                service: ReadPropertyRequest::SERVICE,
                class: error.class.code(),
                code: error.code.code(),
            }),
        }
    }

    /// Answers a ReadPropertyMultiple: unknown objects and properties become access
    /// errors inside the acknowledgement, as clause 15.7 asks.
    pub fn read_property_multiple(
        &self,
        values: &impl HourlyValues,
        specs: &[ReadAccessSpec],
    ) -> RpmAck {
        let results = specs
            .iter()
            .map(|spec| {
                let object = self.resolve(spec.object);
                let mut results = Vec::new();
                for reference in &spec.properties {
                    let expand = matches!(
                        reference.property,
                        PropertyId::All | PropertyId::Required | PropertyId::Optional
                    );
                    match (expand, self.properties_of(object)) {
                        (true, Some(list)) => {
                            for property in list {
                                results.push(PropertyResult {
                                    property: *property,
                                    array_index: None,
                                    result: self.property(values, object, *property, None),
                                });
                            }
                        }
                        _ => results.push(PropertyResult {
                            property: reference.property,
                            array_index: reference.array_index,
                            result: self.property(
                                values,
                                object,
                                reference.property,
                                reference.array_index,
                            ),
                        }),
                    }
                }
                ReadAccessResult { object, results }
            })
            .collect();
        RpmAck { results }
    }

    /// Device instance 4194303 means "this device".
    fn resolve(&self, object: ObjectId) -> ObjectId {
        if object.object_type == ObjectType::Device && object.instance == 0x3f_ffff {
            self.device_id()
        } else {
            object
        }
    }

    fn value_object(&self, object: ObjectId) -> Option<(Metric, u8)> {
        if object.object_type != ObjectType::AnalogValue {
            return None;
        }
        let hours = u32::from(HOURS);
        match object.instance {
            x if x < hours => Some((Metric::In, x as u8)),
            x if x < 2 * hours => Some((Metric::Out, (x - hours) as u8)),
            _ => None,
        }
    }

    fn object_list(&self) -> Vec<ObjectId> {
        let mut list = vec![self.device_id()];
        list.extend((0..2 * u32::from(HOURS)).map(|i| ObjectId::new(ObjectType::AnalogValue, i)));
        list
    }

    fn properties_of(&self, object: ObjectId) -> Option<&'static [PropertyId]> {
        const DEVICE: &[PropertyId] = &[
            PropertyId::ObjectIdentifier,
            PropertyId::ObjectName,
            PropertyId::ObjectType,
            PropertyId::SystemStatus,
            PropertyId::VendorName,
            PropertyId::VendorIdentifier,
            PropertyId::ModelName,
            PropertyId::FirmwareRevision,
            PropertyId::ApplicationSoftwareVersion,
            PropertyId::ProtocolVersion,
            PropertyId::ProtocolRevision,
            PropertyId::ProtocolServicesSupported,
            PropertyId::ProtocolObjectTypesSupported,
            PropertyId::ObjectList,
            PropertyId::MaxApduLengthAccepted,
            PropertyId::SegmentationSupported,
            PropertyId::ApduTimeout,
            PropertyId::NumberOfApduRetries,
            PropertyId::DeviceAddressBinding,
            PropertyId::DatabaseRevision,
            PropertyId::Description,
        ];
        const VALUE: &[PropertyId] = &[
            PropertyId::ObjectIdentifier,
            PropertyId::ObjectName,
            PropertyId::ObjectType,
            PropertyId::PresentValue,
            PropertyId::Description,
            PropertyId::StatusFlags,
            PropertyId::EventState,
            PropertyId::OutOfService,
            PropertyId::Units,
        ];
        if object == self.device_id() {
            Some(DEVICE)
        } else if self.value_object(object).is_some() {
            Some(VALUE)
        } else {
            None
        }
    }

    /// One property's value(s), or the error a device answers.
    fn property(
        &self,
        values: &impl HourlyValues,
        object: ObjectId,
        property: PropertyId,
        index: Option<u32>,
    ) -> Result<Vec<Value>, ServiceError> {
        let error = |class, code| ServiceError { class, code };
        let known = self
            .properties_of(object)
            .ok_or(error(ErrorClass::Object, ErrorCode::UnknownObject))?;
        if !known.contains(&property) {
            return Err(error(ErrorClass::Property, ErrorCode::UnknownProperty));
        }
        if property == PropertyId::ObjectList {
            let list = self.object_list();
            return match index {
                None => Ok(list.into_iter().map(Value::ObjectId).collect()),
                Some(0) => Ok(vec![Value::Unsigned(list.len() as u64)]),
                Some(i) => list
                    .get(i as usize - 1)
                    .map(|id| vec![Value::ObjectId(*id)])
                    .ok_or(error(ErrorClass::Property, ErrorCode::InvalidArrayIndex)),
            };
        }
        if index.is_some() {
            return Err(error(ErrorClass::Property, ErrorCode::PropertyIsNotAnArray));
        }
        let value = match self.value_object(object) {
            _ if property == PropertyId::ObjectIdentifier => Some(Value::ObjectId(object)),
            _ if property == PropertyId::ObjectType => {
                Some(Value::Enumerated(u32::from(object.object_type.code())))
            }
            // The device-address-binding is an empty list: no bindings.
            None if property == PropertyId::DeviceAddressBinding => return Ok(Vec::new()),
            None => self.device_property(property),
            Some((metric, x)) => value_property(values, metric, x, property),
        };
        value
            .map(|value| vec![value])
            .ok_or(error(ErrorClass::Property, ErrorCode::UnknownProperty))
    }

    /// A property of the device object.
    fn device_property(&self, property: PropertyId) -> Option<Value> {
        let text = |s: &str| Value::CharacterString(s.to_owned());
        let value = match property {
            PropertyId::ObjectName => text("FFC"),
            PropertyId::SystemStatus => Value::Enumerated(0),
            PropertyId::VendorName => text("ffc"),
            PropertyId::VendorIdentifier => Value::Unsigned(u64::from(self.config.vendor_id)),
            PropertyId::ModelName => text("FFC simulated counter"),
            PropertyId::FirmwareRevision => text(env!("CARGO_PKG_VERSION")),
            PropertyId::ApplicationSoftwareVersion => text(env!("CARGO_PKG_VERSION")),
            PropertyId::ProtocolVersion => Value::Unsigned(1),
            PropertyId::ProtocolRevision => Value::Unsigned(14),
            PropertyId::ProtocolServicesSupported => {
                // who-Is 34, i-Am 26, readProperty 12, readPropertyMultiple 14.
                Value::BitString((0..41).map(|i| [12, 14, 26, 34].contains(&i)).collect())
            }
            PropertyId::ProtocolObjectTypesSupported => {
                Value::BitString((0..60).map(|i| i == 2 || i == 8).collect())
            }
            PropertyId::MaxApduLengthAccepted => {
                Value::Unsigned(u64::from(self.config.max_apdu.octets()))
            }
            PropertyId::SegmentationSupported => Value::Enumerated(Segmentation::Transmit.code()),
            PropertyId::ApduTimeout => Value::Unsigned(3000),
            PropertyId::NumberOfApduRetries => Value::Unsigned(3),
            PropertyId::DatabaseRevision => Value::Unsigned(1),
            PropertyId::Description => text("FootfallCam people counter (simulated)"),
            _ => return None,
        };
        Some(value)
    }
}

/// A property of the value object for (metric, hours back).
fn value_property(
    values: &impl HourlyValues,
    metric: Metric,
    x: u8,
    property: PropertyId,
) -> Option<Value> {
    let value = match property {
        PropertyId::ObjectName => Value::CharacterString(object_name(metric, x)),
        PropertyId::PresentValue => Value::Real(values.count(metric, x) as f32),
        PropertyId::Description => Value::CharacterString(format!(
            "{} count of the hour {x} hours before the current hour",
            match metric {
                Metric::In => "In",
                Metric::Out => "Out",
            }
        )),
        PropertyId::StatusFlags => Value::BitString(vec![false; 4]),
        PropertyId::EventState => Value::Enumerated(0),
        PropertyId::OutOfService => Value::Boolean(false),
        // no-units
        PropertyId::Units => Value::Enumerated(95),
        _ => return None,
    };
    Some(value)
}

/// The Reject reason for a request whose service body did not decode.
fn reject_reason(kind: WireErrorKind) -> RejectReason {
    match kind {
        WireErrorKind::Truncated { .. } => RejectReason::MissingRequiredParameter,
        WireErrorKind::TrailingBytes { .. } => RejectReason::TooManyArguments,
        WireErrorKind::OutOfRange => RejectReason::ParameterOutOfRange,
        WireErrorKind::BadLength { .. } | WireErrorKind::WrongTagClass => {
            RejectReason::InvalidParameterDataType
        }
        _ => RejectReason::InvalidTag,
    }
}
