//! Points, counting lines with a band, and polygons, in the tracker's image coordinates.

use core::fmt;

use crate::model::RoiId;

/// A position in the tracker's coordinates (pixels or metres; only ratios matter).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Point {
    /// Horizontal coordinate.
    pub x: f32,
    /// Vertical coordinate.
    pub y: f32,
}

impl Point {
    /// The point (x, y).
    pub const fn new(x: f32, y: f32) -> Self {
        Point { x, y }
    }

    /// Whether both coordinates are finite (not NaN or infinite).
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

/// Why a line or polygon cannot be used for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GeometryError {
    /// A coordinate or the band is NaN or infinite; configure finite numbers.
    NotFinite,
    /// The line's start and end coincide, so it has no direction; give two distinct points.
    ZeroLengthLine,
    /// The band's half-width is negative; use 0 for no band, or a positive width.
    NegativeBand,
    /// A polygon needs at least three vertices.
    TooFewVertices {
        /// How many were given.
        found: usize,
    },
    /// More vertices than the polygon's capacity `V`; simplify it or raise `V`.
    TooManyVertices {
        /// How many were given.
        found: usize,
        /// The capacity.
        capacity: usize,
    },
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeometryError::NotFinite => f.write_str("coordinate or band is not a finite number"),
            GeometryError::ZeroLengthLine => f.write_str("counting line start and end coincide"),
            GeometryError::NegativeBand => f.write_str("counting band half-width is negative"),
            GeometryError::TooFewVertices { found } => {
                write!(f, "polygon has {found} vertices; at least 3 are needed")
            }
            GeometryError::TooManyVertices { found, capacity } => {
                write!(f, "polygon has {found} vertices; capacity is {capacity}")
            }
        }
    }
}

impl core::error::Error for GeometryError {}

/// Which side of a line a point is on, relative to its direction start → end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Negative cross product: the right-hand side when y points up (left-hand in image
    /// coordinates, where y points down). Crossing from here to [`Side::Positive`] is In.
    Negative,
    /// Positive cross product. Crossing from here to [`Side::Negative`] is Out.
    Positive,
}

/// Where a point lies relative to a [`CountingLine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// Farther from the line than the band: the start or end zone on one side.
    Zone(Side),
    /// Inside the band, alongside the segment.
    Band,
    /// Within band distance of the line's extension, beyond an end of the segment: going
    /// around the line rather than through it.
    Beside,
}

/// A directed counting line with a band around it (FootfallCam's start and end zones).
///
/// A person counts when they pass from the zone on one side, through the band, to the zone
/// on the other: from [`Side::Negative`] to [`Side::Positive`] is In, back is Out. With
/// y pointing up, In is crossing from right to left as seen walking from `start` to `end`;
/// for a line drawn along +x, In is towards larger y (in image coordinates, downwards).
/// Swap `start` and `end` to swap In and Out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountingLine {
    roi: RoiId,
    start: Point,
    end: Point,
    band: f32,
    /// Unit vector start → end.
    ux: f32,
    uy: f32,
    length: f32,
}

impl CountingLine {
    /// The segment `start` → `end` with a band `band` wide on each side (0: no band, the
    /// line itself is the band).
    pub fn new(roi: RoiId, start: Point, end: Point, band: f32) -> Result<Self, GeometryError> {
        if !start.is_finite() || !end.is_finite() || !band.is_finite() {
            return Err(GeometryError::NotFinite);
        }
        if band < 0.0 {
            return Err(GeometryError::NegativeBand);
        }
        let dx = end.x - start.x;
        let dy = end.y - start.y;
        let length = libm_hypot(dx, dy);
        if length <= 0.0 || !length.is_finite() {
            return Err(GeometryError::ZeroLengthLine);
        }
        Ok(CountingLine {
            roi,
            start,
            end,
            band,
            ux: dx / length,
            uy: dy / length,
            length,
        })
    }

    /// The ROI id events from this line carry.
    pub const fn roi(&self) -> RoiId {
        self.roi
    }

    /// Start of the segment.
    pub const fn start(&self) -> Point {
        self.start
    }

    /// End of the segment.
    pub const fn end(&self) -> Point {
        self.end
    }

    /// Half-width of the band.
    pub const fn band(&self) -> f32 {
        self.band
    }

    /// `(along, across)`: the distance along the segment from `start`, and the signed
    /// distance from the line (positive on [`Side::Positive`]).
    #[inline]
    pub fn local(&self, p: Point) -> (f32, f32) {
        let rx = p.x - self.start.x;
        let ry = p.y - self.start.y;
        (rx * self.ux + ry * self.uy, self.ux * ry - self.uy * rx)
    }

    /// Where `p` lies. A point farther than the band is in a zone whatever its position
    /// along the line; one within band distance is in the band only alongside the segment.
    #[inline]
    pub fn place(&self, p: Point) -> Place {
        let (along, across) = self.local(p);
        if across > self.band {
            Place::Zone(Side::Positive)
        } else if across < -self.band {
            Place::Zone(Side::Negative)
        } else if (0.0..=self.length).contains(&along) {
            Place::Band
        } else {
            Place::Beside
        }
    }

    /// Whether the straight move `from` → `to` passes through the segment itself (not its
    /// extension): used when a track jumps over the whole band between two frames.
    pub fn move_crosses(&self, from: Point, to: Point) -> bool {
        let (t1, d1) = self.local(from);
        let (t2, d2) = self.local(to);
        if (d1 > 0.0) == (d2 > 0.0) || d1 == d2 {
            return false;
        }
        let at = t1 + (t2 - t1) * (d1 / (d1 - d2));
        (0.0..=self.length).contains(&at)
    }
}

/// sqrt(dx² + dy²) without std (no `f32::sqrt` in core on stable): Newton iterations from
/// a bit-level estimate are exact enough for a line's length, which only normalizes.
fn libm_hypot(dx: f32, dy: f32) -> f32 {
    let s = dx * dx + dy * dy;
    if s <= 0.0 || !s.is_finite() {
        return s;
    }
    let mut r = f32::from_bits((s.to_bits() >> 1) + 0x1fbd_1df5);
    for _ in 0..4 {
        r = 0.5 * (r + s / r);
    }
    r
}

/// A simple polygon with at most `V` vertices (an area for [`AreaCounter`](super::AreaCounter)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polygon<const V: usize> {
    vertices: [Point; V],
    len: usize,
    min: Point,
    max: Point,
}

impl<const V: usize> Polygon<V> {
    /// The polygon through `vertices` in order (closed automatically).
    pub fn new(vertices: &[Point]) -> Result<Self, GeometryError> {
        if vertices.len() < 3 {
            return Err(GeometryError::TooFewVertices {
                found: vertices.len(),
            });
        }
        if vertices.len() > V {
            return Err(GeometryError::TooManyVertices {
                found: vertices.len(),
                capacity: V,
            });
        }
        if !vertices.iter().all(|p| p.is_finite()) {
            return Err(GeometryError::NotFinite);
        }
        let mut stored = [Point::default(); V];
        let mut min = Point::new(f32::INFINITY, f32::INFINITY);
        let mut max = Point::new(f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (slot, p) in stored.iter_mut().zip(vertices) {
            *slot = *p;
            min = Point::new(min.x.min(p.x), min.y.min(p.y));
            max = Point::new(max.x.max(p.x), max.y.max(p.y));
        }
        Ok(Polygon {
            vertices: stored,
            len: vertices.len(),
            min,
            max,
        })
    }

    /// The vertices in order.
    pub fn vertices(&self) -> &[Point] {
        self.vertices.get(..self.len).unwrap_or(&[])
    }

    /// Whether `p` is inside (even-odd rule). A point exactly on an edge may go either way.
    pub fn contains(&self, p: Point) -> bool {
        if !(p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y) {
            return false;
        }
        let vs = self.vertices();
        let mut inside = false;
        let mut prev = match vs.last() {
            Some(v) => *v,
            None => return false,
        };
        for &v in vs {
            if (v.y > p.y) != (prev.y > p.y) {
                let x = v.x + (p.y - v.y) * (prev.x - v.x) / (prev.y - v.y);
                if p.x < x {
                    inside = !inside;
                }
            }
            prev = v;
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypot_is_close_to_std() {
        for (dx, dy) in [
            (3.0f32, 4.0f32),
            (1e-3, 0.0),
            (1e6, 1e6),
            (0.1, 7.0),
            (640.0, 480.0),
        ] {
            let got = libm_hypot(dx, dy);
            let want = dx.hypot(dy);
            assert!(
                ((got - want) / want).abs() < 1e-6,
                "{dx},{dy}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn line_places_points() {
        let l =
            CountingLine::new(RoiId(1), Point::new(0.0, 0.0), Point::new(10.0, 0.0), 1.0).unwrap();
        assert_eq!(l.place(Point::new(5.0, 2.0)), Place::Zone(Side::Positive));
        assert_eq!(l.place(Point::new(5.0, -2.0)), Place::Zone(Side::Negative));
        assert_eq!(l.place(Point::new(5.0, 0.5)), Place::Band);
        assert_eq!(
            l.place(Point::new(5.0, -1.0)),
            Place::Band,
            "the band is closed"
        );
        assert_eq!(l.place(Point::new(11.0, 0.5)), Place::Beside);
        assert_eq!(l.place(Point::new(-30.0, 5.0)), Place::Zone(Side::Positive));
        assert!(l.move_crosses(Point::new(5.0, -3.0), Point::new(5.0, 3.0)));
        assert!(!l.move_crosses(Point::new(15.0, -3.0), Point::new(15.0, 3.0)));
        assert!(!l.move_crosses(Point::new(5.0, 3.0), Point::new(6.0, 3.0)));
    }

    #[test]
    fn bad_geometry_is_refused() {
        let p = Point::new(1.0, 1.0);
        assert_eq!(
            CountingLine::new(RoiId(1), p, p, 1.0),
            Err(GeometryError::ZeroLengthLine)
        );
        assert_eq!(
            CountingLine::new(RoiId(1), p, Point::new(f32::NAN, 0.0), 1.0),
            Err(GeometryError::NotFinite)
        );
        assert_eq!(
            CountingLine::new(RoiId(1), p, Point::new(2.0, 0.0), -1.0),
            Err(GeometryError::NegativeBand)
        );
        assert_eq!(
            Polygon::<4>::new(&[p, p]),
            Err(GeometryError::TooFewVertices { found: 2 })
        );
        assert_eq!(
            Polygon::<3>::new(&[p; 4]),
            Err(GeometryError::TooManyVertices {
                found: 4,
                capacity: 3
            })
        );
        assert!(GeometryError::TooManyVertices {
            found: 4,
            capacity: 3
        }
        .to_string()
        .contains("capacity is 3"));
    }

    #[test]
    fn polygon_contains() {
        let square = Polygon::<4>::new(&[
            Point::new(0.0, 0.0),
            Point::new(4.0, 0.0),
            Point::new(4.0, 4.0),
            Point::new(0.0, 4.0),
        ])
        .unwrap();
        assert!(square.contains(Point::new(2.0, 2.0)));
        assert!(!square.contains(Point::new(5.0, 2.0)));
        assert!(!square.contains(Point::new(f32::NAN, 2.0)));
        // A concave "L": the notch is outside.
        let l = Polygon::<8>::new(&[
            Point::new(0.0, 0.0),
            Point::new(4.0, 0.0),
            Point::new(4.0, 1.0),
            Point::new(1.0, 1.0),
            Point::new(1.0, 4.0),
            Point::new(0.0, 4.0),
        ])
        .unwrap();
        assert!(l.contains(Point::new(0.5, 3.0)));
        assert!(!l.contains(Point::new(3.0, 3.0)));
        assert_eq!(l.vertices().len(), 6);
    }
}
