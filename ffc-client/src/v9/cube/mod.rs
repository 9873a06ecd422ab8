//! `POST /API/v1/load`: the cube query API (`Authorization: Bearer <AToken>`).
//!
//! [`CubeQuery`] builds the body with measures by code, dimensions, one time dimension,
//! filters and a limit; [`decode_load`] reads both response shapes (`{"data":[..]}` and,
//! for `"queryType":"multi"`, `{"results":[{"data":[..]},..]}`) into [`CubeRow`]s.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};

use super::{day_chunks, lenient, parse_json, server_message, DecodeError};

/// The two cubes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cube {
    /// `ffc_site_summary`: one row per site and bucket.
    SiteSummary,
    /// `ffc_area_summary`: one row per area and bucket.
    AreaSummary,
}

impl Cube {
    /// The cube's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Cube::SiteSummary => "ffc_site_summary",
            Cube::AreaSummary => "ffc_area_summary",
        }
    }

    /// From the name on the wire.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ffc_site_summary" => Some(Cube::SiteSummary),
            "ffc_area_summary" => Some(Cube::AreaSummary),
            _ => None,
        }
    }

    /// `cube.member`.
    pub fn member(self, name: &str) -> String {
        format!("{}.{name}", self.name())
    }
}

macro_rules! measures {
    ($($v:ident = $doc:literal),* $(,)?) => {
        /// A measure by its FootfallCam metric code (spec §2).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Measure {
            $(#[doc = $doc] $v,)*
        }
        impl Measure {
            /// Every known measure.
            pub const ALL: &'static [Measure] = &[$(Measure::$v),*];
            /// The code, e.g. `A01`.
            pub fn code(self) -> &'static str {
                match self { $(Measure::$v => stringify!($v),)* }
            }
            /// From the code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $(stringify!($v) => Some(Measure::$v),)* _ => None }
            }
        }
    };
}

measures! {
    A01 = "Footfall in.",
    A02 = "Footfall out.",
    A03 = "Occupancy.",
    A04 = "Average visit duration (seconds).",
    A05 = "Outside traffic.",
    A15 = "Transaction count.",
    A20 = "Engaged.",
    A21 = "Passers-by.",
    A61 = "Outside traffic (all hours).",
    B01 = "Turn-in rate.",
    B02 = "Returning rate.",
    B06 = "Sales conversion.",
    B13 = "Age band 1.",
    B14 = "Age band 2.",
    B15 = "Age band 3.",
    B16 = "Age band 4.",
    B17 = "Age band 5.",
    B21 = "Male.",
    B22 = "Female.",
}

/// Time-dimension granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// `hour`.
    Hour,
    /// `day`.
    Day,
    /// `week`.
    Week,
    /// `month`.
    Month,
}

impl Granularity {
    /// On the wire.
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "hour" => Granularity::Hour,
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            "month" => Granularity::Month,
            _ => return None,
        })
    }
}

/// The time dimension (`<cube>.Time`) with its granularity and inclusive date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeDimension {
    /// Bucket size.
    pub granularity: Granularity,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
}

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `equals`.
    Equals,
    /// `notEquals`.
    NotEquals,
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `contains`.
    Contains,
}

impl Operator {
    /// On the wire.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "notEquals",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Contains => "contains",
        }
    }
    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "equals" => Operator::Equals,
            "notEquals" => Operator::NotEquals,
            "gt" => Operator::Gt,
            "gte" => Operator::Gte,
            "lt" => Operator::Lt,
            "lte" => Operator::Lte,
            "contains" => Operator::Contains,
            _ => return None,
        })
    }
}

/// One filter on a member of the cube.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The member without the cube prefix, e.g. `SiteId`.
    pub member: String,
    /// The operator.
    pub operator: Operator,
    /// The values, as text.
    pub values: Vec<String>,
}

/// A typed cube query.
///
/// ```
/// use chrono::NaiveDate;
/// use ffc_client::v9::cube::{Cube, CubeQuery, Granularity, Measure, Operator};
/// let q = CubeQuery::new(Cube::SiteSummary)
///     .measures([Measure::A01, Measure::A02])
///     .dimension("SiteId")
///     .time(Granularity::Day, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
///           NaiveDate::from_ymd_opt(2024, 1, 31).unwrap())
///     .filter("SiteId", Operator::Equals, ["30273"])
///     .limit(1_000_000);
/// let body = q.to_body();
/// assert!(body["query"]["measures"][0] == "ffc_site_summary.A01");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubeQuery {
    /// The cube.
    pub cube: Cube,
    /// Measures.
    pub measures: Vec<Measure>,
    /// Dimensions (without the cube prefix).
    pub dimensions: Vec<String>,
    /// The time dimension.
    pub time: Option<TimeDimension>,
    /// Filters.
    pub filters: Vec<Filter>,
    /// Row limit.
    pub limit: Option<u64>,
}

impl CubeQuery {
    /// An empty query of `cube`.
    pub fn new(cube: Cube) -> Self {
        CubeQuery {
            cube,
            measures: Vec::new(),
            dimensions: Vec::new(),
            time: None,
            filters: Vec::new(),
            limit: None,
        }
    }

    /// Adds measures.
    #[must_use]
    pub fn measures(mut self, m: impl IntoIterator<Item = Measure>) -> Self {
        self.measures.extend(m);
        self
    }

    /// Adds a dimension (member name without the cube prefix).
    #[must_use]
    pub fn dimension(mut self, name: impl Into<String>) -> Self {
        self.dimensions.push(name.into());
        self
    }

    /// Sets the time dimension.
    #[must_use]
    pub fn time(mut self, granularity: Granularity, from: NaiveDate, to: NaiveDate) -> Self {
        self.time = Some(TimeDimension {
            granularity,
            from,
            to,
        });
        self
    }

    /// Adds a filter.
    #[must_use]
    pub fn filter(
        mut self,
        member: impl Into<String>,
        operator: Operator,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.filters.push(Filter {
            member: member.into(),
            operator,
            values: values.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Sets the row limit.
    #[must_use]
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// The same query split into time ranges of at most `days` days (one query when there
    /// is no time dimension).
    pub fn chunks(&self, days: u32) -> Vec<CubeQuery> {
        match self.time {
            None => vec![self.clone()],
            Some(t) => day_chunks(t.from, t.to, days)
                .into_iter()
                .map(|(from, to)| CubeQuery {
                    time: Some(TimeDimension { from, to, ..t }),
                    ..self.clone()
                })
                .collect(),
        }
    }

    /// The request body `{"query": {..}}`.
    pub fn to_body(&self) -> Value {
        let c = self.cube;
        let mut q = Map::new();
        q.insert(
            "measures".into(),
            self.measures.iter().map(|m| c.member(m.code())).collect(),
        );
        q.insert(
            "dimensions".into(),
            self.dimensions.iter().map(|d| c.member(d)).collect(),
        );
        if let Some(t) = self.time {
            q.insert(
                "timeDimensions".into(),
                json!([{
                    "dimension": c.member("Time"),
                    "granularity": t.granularity.name(),
                    "dateRange": [t.from.format("%Y-%m-%d").to_string(), t.to.format("%Y-%m-%d").to_string()],
                }]),
            );
        }
        q.insert(
            "filters".into(),
            self.filters
                .iter()
                .map(|f| json!({"member": c.member(&f.member), "operator": f.operator.name(), "values": f.values}))
                .collect(),
        );
        if let Some(l) = self.limit {
            q.insert("limit".into(), l.into());
        }
        json!({ "query": Value::Object(q) })
    }

    /// Reads a request body (the simulator's side, and the published sample).
    pub fn from_body(body: &[u8]) -> Result<Self, DecodeError> {
        let v = parse_json(body)?;
        let q = v.get("query").ok_or(DecodeError::Missing("query"))?;
        let mut members = Members::default();
        let strings = |key: &'static str| -> Vec<&str> {
            q.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let mut measures = Vec::new();
        for m in strings("measures") {
            let code = members.split(m)?;
            measures.push(
                Measure::from_code(&code)
                    .ok_or_else(|| invalid(format!("unknown measure {m:?}")))?,
            );
        }
        let mut dimensions = Vec::new();
        for d in strings("dimensions") {
            dimensions.push(members.split(d)?);
        }
        let time = match q
            .get("timeDimensions")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            Some(t) => Some(members.time(t)?),
            None => None,
        };
        let mut filters = Vec::new();
        for f in q
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            filters.push(members.filter(f)?);
        }
        let limit = q.get("limit").and_then(Value::as_u64);
        Ok(CubeQuery {
            cube: members.cube.unwrap_or(Cube::SiteSummary),
            measures,
            dimensions,
            time,
            filters,
            limit,
        })
    }
}

fn invalid(what: String) -> DecodeError {
    DecodeError::Invalid(what)
}

/// The cube a query's members name, learnt from the first and checked on every other.
#[derive(Default)]
struct Members {
    cube: Option<Cube>,
}

impl Members {
    /// `cube.member` → `member`; an error for an unknown cube or a second cube.
    fn split(&mut self, member: &str) -> Result<String, DecodeError> {
        let (c, rest) = member
            .split_once('.')
            .ok_or_else(|| invalid(format!("member {member:?} has no cube prefix")))?;
        let c = Cube::from_name(c).ok_or_else(|| invalid(format!("unknown cube {c:?}")))?;
        if *self.cube.get_or_insert(c) != c {
            return Err(invalid("members of two cubes in one query".into()));
        }
        Ok(rest.to_owned())
    }

    /// `timeDimensions[0]`.
    fn time(&mut self, t: &Value) -> Result<TimeDimension, DecodeError> {
        if let Some(d) = t.get("dimension").and_then(Value::as_str) {
            self.split(d)?;
        }
        let granularity = t
            .get("granularity")
            .and_then(Value::as_str)
            .and_then(Granularity::from_name)
            .ok_or_else(|| invalid("timeDimensions[0].granularity".into()))?;
        let range: Vec<&str> = t
            .get("dateRange")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let day = |s: Option<&&str>| {
            s.and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok())
                .ok_or_else(|| invalid("timeDimensions[0].dateRange".into()))
        };
        Ok(TimeDimension {
            granularity,
            from: day(range.first())?,
            to: day(range.get(1))?,
        })
    }

    /// One of `filters`.
    fn filter(&mut self, f: &Value) -> Result<Filter, DecodeError> {
        let member = f
            .get("member")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("filter without member".into()))?;
        let operator = f
            .get("operator")
            .and_then(Value::as_str)
            .and_then(Operator::from_name)
            .ok_or_else(|| invalid(format!("filter on {member:?}: unknown operator")))?;
        let values = f
            .get("values")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Filter {
            member: self.split(member)?,
            operator,
            values,
        })
    }
}

/// One row of a cube response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CubeRow {
    /// The time dimension's value (`<cube>.Time.<granularity>` or `<cube>.Time`).
    pub time: Option<NaiveDateTime>,
    /// Known measures with a value; `null` leaves a measure out.
    pub measures: BTreeMap<Measure, f64>,
    /// Every other member (dimensions, unknown measures), keyed without the cube prefix.
    pub members: BTreeMap<String, Value>,
}

impl CubeRow {
    /// A measure's value.
    pub fn get(&self, m: Measure) -> Option<f64> {
        self.measures.get(&m).copied()
    }
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
}

fn decode_rows(
    cube: Cube,
    rows: &[Value],
    offset: usize,
    out: &mut Vec<CubeRow>,
) -> Result<(), DecodeError> {
    let prefix = format!("{}.", cube.name());
    for (i, row) in rows.iter().enumerate() {
        let row_no = offset + i;
        let obj = row.as_object().ok_or(DecodeError::Row {
            row: row_no,
            reason: "not an object".into(),
        })?;
        let mut r = CubeRow::default();
        for (key, value) in obj {
            let name = key.strip_prefix(&prefix).unwrap_or(key);
            if name == "Time" || name.starts_with("Time.") {
                if value.is_null() {
                    continue;
                }
                let text = value.as_str().unwrap_or_default();
                r.time = Some(parse_time(text).ok_or_else(|| DecodeError::Row {
                    row: row_no,
                    reason: format!("{key} = {value}: not a date-time"),
                })?);
            } else if let Some(m) = Measure::from_code(name) {
                match lenient::value_f64(value) {
                    Ok(Some(x)) => {
                        r.measures.insert(m, x);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(DecodeError::Row {
                            row: row_no,
                            reason: format!("{key}: {e}"),
                        })
                    }
                }
            } else {
                r.members.insert(name.to_owned(), value.clone());
            }
        }
        out.push(r);
    }
    Ok(())
}

/// Decodes a `load` response of `cube` in either shape.
pub fn decode_load(cube: Cube, body: &[u8]) -> Result<Vec<CubeRow>, DecodeError> {
    let v = parse_json(body)?;
    let mut out = Vec::new();
    if let Some(Value::Array(rows)) = v.get("data") {
        decode_rows(cube, rows, 0, &mut out)?;
    } else if let Some(Value::Array(results)) = v.get("results") {
        for result in results {
            match result.get("data") {
                Some(Value::Array(rows)) => decode_rows(cube, rows, out.len(), &mut out)?,
                _ => return Err(DecodeError::Missing("results[].data")),
            }
        }
    } else {
        return Err(match server_message(body) {
            Some(m) => DecodeError::Server(m),
            None => DecodeError::Missing("data"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
