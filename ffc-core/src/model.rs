//! The normalized model every source ends in: counters, events, records and occupancy.
//!
//! Field names on the wire (serde, feature `serde`) are FootfallCam's: `CameraSerial`,
//! `RoiId`, `MetricId`, `PeopleTypeId`, `PeopleId`, `EventStartTime`, `EventEndTime`,
//! `UUID`, `ValueIn`, `ValueOut`, `OutsideTraffic`, `ObjectCount`, `Timestamp`.

use core::fmt;
use core::str::FromStr;

use crate::error::{CodeError, ParseError};
use crate::time::{UnixSeconds, UtcOffset};

mod event;

/// A counter's serial (`CameraSerial`, `DeviceSerial`, `ChipSerial`): 16 hexadecimal digits.
///
/// Stored as the 64-bit number the digits spell, so it is `Copy`, 8 bytes, and compares
/// and hashes fast; it prints as 16 lowercase hex digits, as counters send it.
///
/// ```
/// use ffc_core::CameraSerial;
/// let s: CameraSerial = "000000006AFCE315".parse()?;
/// assert_eq!(s.to_string(), "000000006afce315");
/// # Ok::<(), ffc_core::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CameraSerial(u64);

impl CameraSerial {
    /// The serial whose 16 hex digits spell `value`.
    pub const fn from_u64(value: u64) -> Self {
        CameraSerial(value)
    }

    /// The number the 16 hex digits spell.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The 16 lowercase hex digits as ASCII bytes, as [`Display`](fmt::Display) writes them,
    /// without the formatting machinery: a sink writes one per event.
    ///
    /// ```
    /// use ffc_core::CameraSerial;
    /// let s = CameraSerial::from_u64(0x6AFC_E315);
    /// assert_eq!(&s.hex(), b"000000006afce315");
    /// ```
    pub const fn hex(self) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        let mut i = 0;
        while i < 16 {
            out[i] = DIGITS[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
            i += 1;
        }
        out
    }

    /// Parses exactly 16 hexadecimal digits (either case).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let bytes = text.as_bytes();
        if bytes.len() != 16 {
            return Err(ParseError::Length {
                expected: 16,
                found: bytes.len(),
            });
        }
        let mut value = 0u64;
        for (i, b) in bytes.iter().enumerate() {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(ParseError::Character { position: i as u8 }),
            };
            value = (value << 4) | u64::from(digit);
        }
        Ok(CameraSerial(value))
    }
}

impl FromStr for CameraSerial {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CameraSerial::parse(s)
    }
}

impl fmt::Display for CameraSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex();
        // ASCII by construction; the error arm is never taken.
        f.write_str(core::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for CameraSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CameraSerial({:016x})", self.0)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CameraSerial {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CameraSerial {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = CameraSerial;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("16 hexadecimal digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CameraSerial, E> {
                CameraSerial::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A counting line or region on a counter (`RoiId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct RoiId(pub u32);

/// A tracked person's id on one counter (`PeopleId`); reused over time by the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct PeopleId(pub u64);

/// A branch (site) id: FootfallCam's `BranchId` / `SiteId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct SiteId(pub u32);

/// Direction of a crossing (`MetricId`): In = 1, Out = 2.
///
/// The wire code is [`code`](Self::code), not the discriminant: the discriminants start at
/// 0 so that an all-zero [`CountEvent`] exists ([`CountEvent::EMPTY`]), which lets a
/// `static` [`Outbox`](crate::Outbox) of events land in `.bss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
#[repr(u8)]
pub enum Metric {
    /// Coming in (`MetricId` 1).
    In = 0,
    /// Going out (`MetricId` 2).
    Out = 1,
}

impl Metric {
    /// The wire code: 1 for In, 2 for Out.
    pub const fn code(self) -> u8 {
        match self {
            Metric::In => 1,
            Metric::Out => 2,
        }
    }
    /// From the wire code.
    pub const fn from_code(code: u64) -> Result<Self, CodeError> {
        match code {
            1 => Ok(Metric::In),
            2 => Ok(Metric::Out),
            other => Err(CodeError::Metric(other)),
        }
    }
}

impl TryFrom<u8> for Metric {
    type Error = CodeError;
    fn try_from(code: u8) -> Result<Self, CodeError> {
        Metric::from_code(u64::from(code))
    }
}

impl From<Metric> for u8 {
    fn from(m: Metric) -> u8 {
        m.code()
    }
}

/// Who was counted (`PeopleTypeId`): visitor = 1, staff = 2.
///
/// As for [`Metric`], the wire code is [`code`](Self::code) and the discriminants start at
/// 0 (an all-zero [`CountEvent`] exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
#[repr(u8)]
pub enum PeopleType {
    /// A visitor (`PeopleTypeId` 1); the one A01/A02 count.
    #[default]
    Visitor = 0,
    /// Staff (`PeopleTypeId` 2), counted apart and excluded from footfall.
    Staff = 1,
}

impl PeopleType {
    /// The wire code: 1 for a visitor, 2 for staff.
    pub const fn code(self) -> u8 {
        match self {
            PeopleType::Visitor => 1,
            PeopleType::Staff => 2,
        }
    }
    /// From the wire code.
    pub const fn from_code(code: u64) -> Result<Self, CodeError> {
        match code {
            1 => Ok(PeopleType::Visitor),
            2 => Ok(PeopleType::Staff),
            other => Err(CodeError::PeopleType(other)),
        }
    }
    /// The combined object type of the 3D Pro2 and MQTT payloads.
    pub const fn object_type(self) -> ObjectType {
        match self {
            PeopleType::Visitor => ObjectType::Visitor,
            PeopleType::Staff => ObjectType::Staff,
        }
    }
}

impl TryFrom<u8> for PeopleType {
    type Error = CodeError;
    fn try_from(code: u8) -> Result<Self, CodeError> {
        PeopleType::from_code(u64::from(code))
    }
}

impl From<PeopleType> for u8 {
    fn from(p: PeopleType) -> u8 {
        p.code()
    }
}

/// The combined object type of counting events (`CombineObjectTypeId`): 11 visitor, 21 staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
#[repr(u8)]
pub enum ObjectType {
    /// Visitor (11).
    Visitor = 11,
    /// Staff (21).
    Staff = 21,
}

impl ObjectType {
    /// The wire code.
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// From the wire code.
    pub const fn from_code(code: u64) -> Result<Self, CodeError> {
        match code {
            11 => Ok(ObjectType::Visitor),
            21 => Ok(ObjectType::Staff),
            other => Err(CodeError::ObjectType(other)),
        }
    }
    /// The people type this object type stands for.
    pub const fn people_type(self) -> PeopleType {
        match self {
            ObjectType::Visitor => PeopleType::Visitor,
            ObjectType::Staff => PeopleType::Staff,
        }
    }
}

impl TryFrom<u8> for ObjectType {
    type Error = CodeError;
    fn try_from(code: u8) -> Result<Self, CodeError> {
        ObjectType::from_code(u64::from(code))
    }
}

impl From<ObjectType> for u8 {
    fn from(o: ObjectType) -> u8 {
        o.code()
    }
}

/// Where a value came from. Kept beside the value so a report can say which path fed it;
/// never part of the [`EventKey`], so one event seen on two paths is still one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Source {
    /// Not recorded.
    #[default]
    Unknown,
    /// Pulled from the counter's CGI API.
    DevicePull,
    /// Pushed over WebSocket (classic `ffc-eventrawdata` envelope).
    WebSocket,
    /// Pushed over WebSocket in the 3D Pro2 flat form.
    WebSocketPro2,
    /// Pushed over MQTT.
    Mqtt,
    /// Polled over BACnet/IP.
    Bacnet,
    /// The server's export or cube API.
    ServerApi,
    /// An export or FTP file.
    File,
    /// A SQL view or function.
    Sql,
    /// Made by ffc's own counting algorithm or a simulator.
    Counting,
}

/// A message id (`UUID` of the 3D Pro2 payloads).
pub type MessageId = uuid::Uuid;

/// One person crossing one line: the unit every push source delivers.
///
/// Two events are equal when they have the same [`EventKey`]: the same crossing, whichever
/// source delivered it (a WebSocket push and a device pull of one crossing compare equal,
/// and hash alike). Compare fields one by one to tell deliveries apart.
///
/// ```
/// use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, RoiId, Source, UtcOffset};
///
/// let pushed = CountEvent::new(CameraSerial::from_u64(7), RoiId(1), Metric::In, PeopleId(4), 1_700_000_000)
///     .with_source(Source::WebSocket);
/// let pulled = pushed.with_source(Source::DevicePull).with_offset(UtcOffset::from_seconds(3_600)?);
/// assert_eq!(pushed, pulled); // one crossing, two paths
/// # Ok::<(), ffc_core::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CountEvent {
    /// The counter.
    #[cfg_attr(feature = "serde", serde(rename = "CameraSerial"))]
    pub serial: CameraSerial,
    /// The counting line or region.
    #[cfg_attr(feature = "serde", serde(rename = "RoiId"))]
    pub roi: RoiId,
    /// In or Out.
    #[cfg_attr(feature = "serde", serde(rename = "MetricId"))]
    pub metric: Metric,
    /// Visitor or staff.
    #[cfg_attr(feature = "serde", serde(rename = "PeopleTypeId"))]
    pub people_type: PeopleType,
    /// The tracker's id of the person.
    #[cfg_attr(feature = "serde", serde(rename = "PeopleId"))]
    pub people_id: PeopleId,
    /// When the person entered the counting band (UTC unix seconds).
    #[cfg_attr(feature = "serde", serde(rename = "EventStartTime"))]
    pub start: UnixSeconds,
    /// When the person left the counting band (UTC unix seconds); the instant that bins.
    #[cfg_attr(feature = "serde", serde(rename = "EventEndTime"))]
    pub end: UnixSeconds,
    /// The counter's UTC offset at the event, as its local-time fields show.
    #[cfg_attr(feature = "serde", serde(rename = "UtcOffsetSeconds", default))]
    pub offset: UtcOffset,
    /// The message id, when the source sends one (3D Pro2).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "UUID", default, skip_serializing_if = "Option::is_none")
    )]
    pub uuid: Option<MessageId>,
    /// Which path delivered it.
    #[cfg_attr(feature = "serde", serde(rename = "Source", default))]
    pub source: Source,
}

/// The identity of an event: the message UUID when present, else the fields that together
/// name one crossing. Every sink is idempotent on it, so a resent message or a second worker
/// never counts twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EventKey {
    /// The 3D Pro2 `UUID`.
    Uuid(MessageId),
    /// Serial, roi, metric, people id, start and end.
    Fields {
        /// Counter.
        serial: CameraSerial,
        /// Line or region.
        roi: RoiId,
        /// In or Out.
        metric: Metric,
        /// Track id.
        people_id: PeopleId,
        /// Start instant.
        start: UnixSeconds,
        /// End instant.
        end: UnixSeconds,
    },
}

/// Whom an already-aggregated record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Subject {
    /// One counter.
    Counter(CameraSerial),
    /// A branch (site).
    Site(SiteId),
}

/// A bucket of counts from a source that is already aggregated (device pull, BACnet,
/// exports, SQL views).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CountRecord {
    /// The counter or site.
    #[cfg_attr(feature = "serde", serde(rename = "Subject"))]
    pub subject: Subject,
    /// Bucket start (UTC unix seconds).
    #[cfg_attr(feature = "serde", serde(rename = "ValueDateTime"))]
    pub start: UnixSeconds,
    /// Bucket length in seconds (a DST day is 23 or 25 hours long).
    #[cfg_attr(feature = "serde", serde(rename = "LengthSeconds"))]
    pub length: u32,
    /// The site's UTC offset at the bucket start.
    #[cfg_attr(feature = "serde", serde(rename = "UtcOffsetSeconds", default))]
    pub offset: UtcOffset,
    /// Visitors in.
    #[cfg_attr(feature = "serde", serde(rename = "ValueIn"))]
    pub count_in: u64,
    /// Visitors out.
    #[cfg_attr(feature = "serde", serde(rename = "ValueOut"))]
    pub count_out: u64,
    /// People passing outside, where the source knows it.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "OutsideTraffic",
            default,
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub outside: Option<u64>,
    /// Which path delivered it.
    #[cfg_attr(feature = "serde", serde(rename = "Source", default))]
    pub source: Source,
}

/// One occupancy reading of an area (the MQTT occupancy payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OccupancySample {
    /// The counter.
    #[cfg_attr(feature = "serde", serde(rename = "CameraSerial"))]
    pub serial: CameraSerial,
    /// The area.
    #[cfg_attr(feature = "serde", serde(rename = "RoiId"))]
    pub roi: RoiId,
    /// `CombineObjectTypeId` as sent (the published sample uses 1).
    #[cfg_attr(feature = "serde", serde(rename = "CombineObjectTypeId"))]
    pub object_type: u8,
    /// People in the area (for `ObjectCountUnit` 1: 1 = occupied, 0 = none).
    #[cfg_attr(feature = "serde", serde(rename = "ObjectCount"))]
    pub object_count: u32,
    /// When it was read (UTC unix seconds).
    #[cfg_attr(feature = "serde", serde(rename = "Timestamp"))]
    pub timestamp: UnixSeconds,
    /// The counter's UTC offset then.
    #[cfg_attr(feature = "serde", serde(rename = "UtcOffsetSeconds", default))]
    pub offset: UtcOffset,
    /// `OccupancyTypeId` as sent.
    #[cfg_attr(feature = "serde", serde(rename = "OccupancyTypeId"))]
    pub occupancy_type: u8,
    /// `ObjectCountUnit` as sent.
    #[cfg_attr(feature = "serde", serde(rename = "ObjectCountUnit"))]
    pub unit: u8,
}

#[cfg(test)]
mod tests;
