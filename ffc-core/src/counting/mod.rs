//! The counting algorithm firmware embeds: tracked people in, IN/OUT events out.
//!
//! - [`LineCounter`]: directed lines with a band (FootfallCam's start and end zones); one
//!   event per passage from one side's zone through the band to the other's; jitter,
//!   U-turns and tracks lost in the band never count.
//! - [`AreaCounter`]: polygons with a dwell; In after staying, Out on leaving, occupancy
//!   as the MQTT occupancy sample reports it.
//!
//! Both are sans-IO and allocation-free: capacities are const generics (`L` lines or `A`
//! areas, `T` tracks, `V` polygon vertices), time comes in as UTC unix seconds per frame,
//! and events go to a callback (push them into an [`Outbox`](crate::outbox::Outbox)).
//! Events carry [`Source::Counting`](crate::Source::Counting) and no UUID; their
//! [`EventKey`](crate::EventKey) is serial, roi, metric, people id, start and end.

mod area;
mod geometry;
mod line;
mod tracks;

pub use area::{AreaCounter, CountingArea, OccupancyUnit};
pub use geometry::{CountingLine, GeometryError, Place, Point, Polygon, Side};
pub use line::{LineCounter, LineTotals};
pub use tracks::{FrameReport, TrackedObject};

#[cfg(test)]
mod tests;
