//! The FFC part of the client, free of IO: which ReadPropertyMultiple batches read the 96
//! `In-C-X`/`Out-C-X` values, and how their answers become an [`HourlySeries`].

use super::{BacnetClientConfig, BacnetClientError, DeviceInfo};
use crate::bacnet::naming::{object_name, parse_object_name, HOURS};
use crate::bacnet::wire::{
    MaxApdu, ObjectId, PropertyId, PropertyReference, ReadAccessResult, ReadAccessSpec, Value,
};
use ffc_core::{CameraSerial, CountRecord, Metric, Source, Subject, UnixSeconds, UtcOffset};

/// The 48-hour hourly series read from an FFC device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlySeries {
    /// The device instance.
    pub device_instance: u32,
    /// Start of the hour in which it was read (UTC unix seconds): `In-C-0` is this hour.
    pub hour_read: UnixSeconds,
    /// In counts: `inbound[x]` is `In-C-x`, the hour x hours before `hour_read`'s.
    pub inbound: [u64; HOURS as usize],
    /// Out counts, likewise.
    pub outbound: [u64; HOURS as usize],
}

impl HourlySeries {
    /// The series as hourly [`CountRecord`]s of `serial`, oldest first.
    pub fn to_records(&self, serial: CameraSerial) -> Vec<CountRecord> {
        (0..usize::from(HOURS))
            .rev()
            .map(|x| CountRecord {
                subject: Subject::Counter(serial),
                start: self.hour_read - 3600 * x as i64,
                length: 3600,
                offset: UtcOffset::UTC,
                count_in: self.inbound.get(x).copied().unwrap_or(0),
                count_out: self.outbound.get(x).copied().unwrap_or(0),
                outside: None,
                source: Source::Bacnet,
            })
            .collect()
    }
}

/// Bytes of a ReadPropertyMultiple answer per object for object-name and present-value,
/// assumed when batching for a device that does not segment: object id (5), list
/// brackets (2), two property ids and brackets (6), a 32-character name (35), a double (10).
const ANSWER_BYTES_PER_OBJECT: usize = 58;

/// The ReadPropertyMultiple requests (object-name and present-value of each object) that
/// read `objects` from `device`, each within what the device accepts and, when either side
/// does not segment, each answer within one APDU.
pub(super) fn count_batches(
    device: &DeviceInfo,
    config: &BacnetClientConfig,
    objects: &[ObjectId],
) -> Vec<Vec<ReadAccessSpec>> {
    let max_apdu = usize::try_from(device.max_apdu)
        .unwrap_or(1476)
        .min(usize::from(MaxApdu::Up1476.octets()));
    // A request carries 4 header bytes and 11 per object (id, brackets, two property ids).
    let mut per_request = (max_apdu.saturating_sub(4) / 11).max(1);
    if !device.segmentation.transmits() || !config.segmented_response_accepted {
        let answer_limit = max_apdu.min(usize::from(config.max_apdu.octets()));
        per_request =
            per_request.min((answer_limit.saturating_sub(3) / ANSWER_BYTES_PER_OBJECT).max(1));
    }
    objects
        .chunks(per_request)
        .map(|batch| {
            batch
                .iter()
                .map(|object| ReadAccessSpec {
                    object: *object,
                    properties: vec![
                        PropertyReference::new(PropertyId::ObjectName),
                        PropertyReference::new(PropertyId::PresentValue),
                    ],
                })
                .collect()
        })
        .collect()
}

/// The counts gathered so far from the answers to [`count_batches`].
#[derive(Debug, Clone)]
pub(super) struct CountsSeen {
    inbound: [Option<u64>; HOURS as usize],
    outbound: [Option<u64>; HOURS as usize],
}

impl Default for CountsSeen {
    fn default() -> Self {
        CountsSeen {
            inbound: [None; HOURS as usize],
            outbound: [None; HOURS as usize],
        }
    }
}

impl CountsSeen {
    /// Takes the values of one answer; objects that are not `In-C-X`/`Out-C-X` are skipped.
    pub(super) fn add(&mut self, results: Vec<ReadAccessResult>) -> Result<(), BacnetClientError> {
        for result in results {
            let mut name = None;
            let mut value = None;
            for property in result.results {
                match (property.property, property.result.as_deref()) {
                    (PropertyId::ObjectName, Ok([Value::CharacterString(text)])) => {
                        name = Some(text.clone())
                    }
                    (PropertyId::PresentValue, Ok([found])) => value = Some(found.clone()),
                    _ => {}
                }
            }
            let (Some(name), Some(value)) = (name, value) else {
                continue;
            };
            let Some((metric, x)) = parse_object_name(&name) else {
                continue;
            };
            let count = to_count(&name, &value)?;
            let slot = match metric {
                Metric::In => self.inbound.get_mut(usize::from(x)),
                Metric::Out => self.outbound.get_mut(usize::from(x)),
            };
            if let Some(slot) = slot {
                *slot = Some(count);
            }
        }
        Ok(())
    }

    /// The series, once every one of the 96 values was seen.
    pub(super) fn finish(
        self,
        device_instance: u32,
        hour_read: UnixSeconds,
    ) -> Result<HourlySeries, BacnetClientError> {
        let fill = |series: [Option<u64>; HOURS as usize], metric| {
            let mut out = [0u64; HOURS as usize];
            for (x, (slot, value)) in out.iter_mut().zip(series).enumerate() {
                *slot = value.ok_or_else(|| BacnetClientError::MissingValue {
                    name: object_name(metric, x as u8),
                })?;
            }
            Ok::<_, BacnetClientError>(out)
        };
        Ok(HourlySeries {
            device_instance,
            hour_read,
            inbound: fill(self.inbound, Metric::In)?,
            outbound: fill(self.outbound, Metric::Out)?,
        })
    }
}

/// A present value as a count. Devices serve REAL (exact up to 2^24, far above any hourly
/// count), but a whole unsigned, signed or double is accepted too.
pub(super) fn to_count(name: &str, value: &Value) -> Result<u64, BacnetClientError> {
    let number = match *value {
        Value::Unsigned(n) => return Ok(n),
        Value::Signed(n) if n >= 0 => return Ok(n as u64),
        Value::Signed(n) => n as f64,
        Value::Real(x) => f64::from(x),
        Value::Double(x) => x,
        _ => f64::NAN,
    };
    if number.is_finite() && number >= 0.0 && number.fract() == 0.0 && number < 2f64.powi(53) {
        Ok(number as u64)
    } else {
        Err(BacnetClientError::NotACount {
            name: name.to_owned(),
            value: number,
        })
    }
}
