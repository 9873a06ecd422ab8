//! SQL Server functions of Analytic Manager (feature `mssql`, tiberius over rustls).
//!
//! **No SQL Server can run on the machines this SDK is built and tested on.** These
//! wrappers compile in CI (`cargo clippy --all-features`), and their integration test runs
//! only when `FFC_MSSQL_URL` (an ADO.NET connection string) is set, with `FFC_MSSQL_USER`
//! and `FFC_MSSQL_PASSWORD` for the functions' own user/password parameters. Column types
//! of the functions' results are not published, so each typed field is read leniently
//! (any integer, decimal, float or text that holds the value) and every column is also
//! kept by name in `extra`.
//!
//! Every value is a bound parameter (`@P1`..): no SQL is built from strings.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use tiberius::{Client, ColumnData, Config, FromSql, Row};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::secret::Secret;

/// What went wrong with SQL Server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MssqlError {
    /// The server or driver refused; the message is the server's.
    #[error("sql server: {0}")]
    Tiberius(#[from] tiberius::error::Error),
    /// The TCP connection failed: check host and port.
    #[error("connect: {0}")]
    Io(#[from] std::io::Error),
}

/// A cell value, read without knowing the column's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// Any integer type.
    Int(i64),
    /// Float, real, decimal or numeric.
    Float(f64),
    /// Text.
    Text(String),
    /// A date-time.
    DateTime(NaiveDateTime),
    /// Bit.
    Bool(bool),
    /// A type the SDK does not read.
    Other,
}

impl SqlValue {
    fn of(data: &ColumnData<'static>) -> SqlValue {
        match data {
            ColumnData::U8(Some(v)) => SqlValue::Int(i64::from(*v)),
            ColumnData::I16(Some(v)) => SqlValue::Int(i64::from(*v)),
            ColumnData::I32(Some(v)) => SqlValue::Int(i64::from(*v)),
            ColumnData::I64(Some(v)) => SqlValue::Int(*v),
            ColumnData::F32(Some(v)) => SqlValue::Float(f64::from(*v)),
            ColumnData::F64(Some(v)) => SqlValue::Float(*v),
            ColumnData::Bit(Some(v)) => SqlValue::Bool(*v),
            ColumnData::String(Some(s)) => SqlValue::Text(s.to_string()),
            ColumnData::Numeric(Some(n)) => SqlValue::Float(f64::from(*n)),
            ColumnData::DateTime(Some(_))
            | ColumnData::SmallDateTime(Some(_))
            | ColumnData::DateTime2(Some(_))
            | ColumnData::Date(Some(_)) => NaiveDateTime::from_sql(data)
                .ok()
                .flatten()
                .map_or(SqlValue::Other, SqlValue::DateTime),
            ColumnData::U8(None)
            | ColumnData::I16(None)
            | ColumnData::I32(None)
            | ColumnData::I64(None)
            | ColumnData::F32(None)
            | ColumnData::F64(None)
            | ColumnData::Bit(None)
            | ColumnData::String(None)
            | ColumnData::Numeric(None) => SqlValue::Null,
            _ => SqlValue::Other,
        }
    }

    /// As an integer, when it holds one.
    pub fn int(&self) -> Option<i64> {
        match self {
            SqlValue::Int(v) => Some(*v),
            SqlValue::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            SqlValue::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// As a float.
    pub fn float(&self) -> Option<f64> {
        match self {
            SqlValue::Int(v) => Some(*v as f64),
            SqlValue::Float(f) => Some(*f),
            SqlValue::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// As text.
    pub fn text(&self) -> Option<String> {
        match self {
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Int(v) => Some(v.to_string()),
            SqlValue::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }

    /// As a date-time.
    pub fn datetime(&self) -> Option<NaiveDateTime> {
        match self {
            SqlValue::DateTime(d) => Some(*d),
            SqlValue::Text(s) => {
                NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()
            }
            _ => None,
        }
    }
}

/// Every column of a row by name (case-insensitive lookups through [`Cells::get`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cells(pub BTreeMap<String, SqlValue>);

impl Cells {
    fn of(row: Row) -> Cells {
        let names: Vec<String> = row.columns().iter().map(|c| c.name().to_owned()).collect();
        Cells(
            names
                .into_iter()
                .zip(row)
                .map(|(n, d)| (n, SqlValue::of(&d)))
                .collect(),
        )
    }

    /// The value of the first of `names` present (case-insensitive).
    pub fn get(&self, names: &[&str]) -> Option<&SqlValue> {
        names.iter().find_map(|n| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v)
        })
    }
    fn int(&self, names: &[&str]) -> Option<i64> {
        self.get(names).and_then(SqlValue::int)
    }
    fn float(&self, names: &[&str]) -> Option<f64> {
        self.get(names).and_then(SqlValue::float)
    }
    fn text(&self, names: &[&str]) -> Option<String> {
        self.get(names).and_then(SqlValue::text)
    }
    fn datetime(&self, names: &[&str]) -> Option<NaiveDateTime> {
        self.get(names).and_then(SqlValue::datetime)
    }
}

/// A row of `GetCounterByBranch`.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchCounter {
    /// `ID`.
    pub id: Option<i64>,
    /// `CameraName`.
    pub camera_name: Option<String>,
    /// `IP`.
    pub ip: Option<String>,
    /// `Port`.
    pub port: Option<i64>,
    /// `Serial`.
    pub serial: Option<String>,
    /// Every column.
    pub extra: Cells,
}

/// A row of `GetBranchList`.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// `BranchId`.
    pub branch_id: Option<i64>,
    /// `BranchCode`.
    pub branch_code: Option<String>,
    /// `BranchName`.
    pub branch_name: Option<String>,
    /// `Region`.
    pub region: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `Country`.
    pub country: Option<String>,
    /// `StoreType`.
    pub store_type: Option<String>,
    /// `Latitude`.
    pub latitude: Option<f64>,
    /// `Longitude`.
    pub longitude: Option<f64>,
    /// `Floorsize`.
    pub floor_size: Option<f64>,
    /// Every column.
    pub extra: Cells,
}

/// A row of `GetBranchHourly` / `GetBranchDailySummary`.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchCount {
    /// `Branchid`.
    pub branch_id: Option<i64>,
    /// `ValueDateTime` (or `DateTime` / `Date`).
    pub time: Option<NaiveDateTime>,
    /// `ValueIn`.
    pub value_in: Option<i64>,
    /// `ValueOut`.
    pub value_out: Option<i64>,
    /// `OutsideTraffic`.
    pub outside_traffic: Option<i64>,
    /// `TurnInRate`.
    pub turn_in_rate: Option<f64>,
    /// Every column.
    pub extra: Cells,
}

/// A row of `GetAreaConfiguration` (read from the server, not a setting of ffc's: no
/// setters; `Default` is the row with every column absent).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AreaConfig {
    /// `BranchId`.
    pub branch_id: Option<i64>,
    /// `BranchName`.
    pub branch_name: Option<String>,
    /// `AreaId`.
    pub area_id: Option<i64>,
    /// `AreaName`.
    pub area_name: Option<String>,
    /// `CameraId`.
    pub camera_id: Option<i64>,
    /// `CounterName`.
    pub counter_name: Option<String>,
    /// `CompanySerial`.
    pub company_serial: Option<String>,
    /// `CounterChipsetCode`.
    pub counter_chipset_code: Option<String>,
    /// `LineName`.
    pub line_name: Option<String>,
    /// `Direction`.
    pub direction: Option<String>,
    /// Every column.
    pub extra: Cells,
}

/// A row of `GetAreaHourly`.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaCount {
    /// `AreaId`.
    pub area_id: Option<i64>,
    /// `AreaName`.
    pub area_name: Option<String>,
    /// `ValueDateTime`.
    pub time: Option<NaiveDateTime>,
    /// `ValueIn`.
    pub value_in: Option<i64>,
    /// `ValueOut`.
    pub value_out: Option<i64>,
    /// Every column.
    pub extra: Cells,
}

/// "All sites" / "all areas" in the functions' id parameters.
pub const ALL: i64 = -1;

/// A connection plus the Analytic Manager user and SQL password the functions take.
pub struct MssqlClient {
    client: Client<Compat<TcpStream>>,
    user: String,
    password: Secret,
}

impl std::fmt::Debug for MssqlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MssqlClient")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl MssqlClient {
    /// Connects with an ADO.NET connection string (TLS through rustls).
    pub async fn connect(ado: &str, user: &str, password: Secret) -> Result<Self, MssqlError> {
        let config = Config::from_ado_string(ado)?;
        let tcp = TcpStream::connect(config.get_addr()).await?;
        tcp.set_nodelay(true)?;
        let client = Client::connect(config, tcp.compat_write()).await?;
        Ok(MssqlClient {
            client,
            user: user.to_owned(),
            password,
        })
    }

    async fn rows(
        &mut self,
        sql: &str,
        extra: &[&dyn tiberius::ToSql],
    ) -> Result<Vec<Cells>, MssqlError> {
        let (user, password) = (self.user.clone(), self.password.expose().to_owned());
        let mut params: Vec<&dyn tiberius::ToSql> = vec![&user, &password];
        params.extend_from_slice(extra);
        let rows = self
            .client
            .query(sql, &params)
            .await?
            .into_first_result()
            .await?;
        Ok(rows.into_iter().map(Cells::of).collect())
    }

    /// `GetCounterByBranch(user, password, BranchId)`.
    pub async fn counters_by_branch(
        &mut self,
        branch_id: i64,
    ) -> Result<Vec<BranchCounter>, MssqlError> {
        let rows = self
            .rows(
                "SELECT * FROM GetCounterByBranch(@P1, @P2, @P3)",
                &[&branch_id],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|c| BranchCounter {
                id: c.int(&["ID", "CameraId"]),
                camera_name: c.text(&["CameraName"]),
                ip: c.text(&["IP"]),
                port: c.int(&["Port"]),
                serial: c.text(&["Serial"]),
                extra: c,
            })
            .collect())
    }

    /// `GetBranchList(user, password)`.
    pub async fn branches(&mut self) -> Result<Vec<Branch>, MssqlError> {
        let rows = self
            .rows("SELECT * FROM GetBranchList(@P1, @P2)", &[])
            .await?;
        Ok(rows
            .into_iter()
            .map(|c| Branch {
                branch_id: c.int(&["BranchId", "Branchid", "ID"]),
                branch_code: c.text(&["BranchCode"]),
                branch_name: c.text(&["BranchName"]),
                region: c.text(&["Region"]),
                city: c.text(&["City"]),
                country: c.text(&["Country"]),
                store_type: c.text(&["StoreType"]),
                latitude: c.float(&["Latitude"]),
                longitude: c.float(&["Longitude"]),
                floor_size: c.float(&["Floorsize", "FloorSize"]),
                extra: c,
            })
            .collect())
    }

    async fn branch_counts(
        &mut self,
        function: &str,
        branch: i64,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Vec<BranchCount>, MssqlError> {
        // `function` is one of two constants below, never caller text.
        let sql = format!("SELECT * FROM {function}(@P1, @P2, @P3, @P4, @P5)");
        let rows = self.rows(&sql, &[&branch, &start, &end]).await?;
        Ok(rows
            .into_iter()
            .map(|c| BranchCount {
                branch_id: c.int(&["Branchid", "BranchId"]),
                time: c.datetime(&["ValueDateTime", "DateTime", "Date", "Day"]),
                value_in: c.int(&["ValueIn"]),
                value_out: c.int(&["ValueOut"]),
                outside_traffic: c.int(&["OutsideTraffic"]),
                turn_in_rate: c.float(&["TurnInRate"]),
                extra: c,
            })
            .collect())
    }

    /// `GetBranchHourly(user, password, BranchCode, StartDate, EndDate)`; [`ALL`] for every site.
    pub async fn branch_hourly(
        &mut self,
        branch: i64,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Vec<BranchCount>, MssqlError> {
        self.branch_counts("GetBranchHourly", branch, start, end)
            .await
    }

    /// `GetBranchDailySummary(user, password, BranchCode, StartDate, EndDate)`.
    pub async fn branch_daily(
        &mut self,
        branch: i64,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Vec<BranchCount>, MssqlError> {
        self.branch_counts("GetBranchDailySummary", branch, start, end)
            .await
    }

    /// `GetAreaConfiguration(user, password, BranchID)`; `"-1"` for every site.
    pub async fn area_configuration(
        &mut self,
        branch: &str,
    ) -> Result<Vec<AreaConfig>, MssqlError> {
        let rows = self
            .rows(
                "SELECT * FROM GetAreaConfiguration(@P1, @P2, @P3)",
                &[&branch],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|c| AreaConfig {
                branch_id: c.int(&["BranchId"]),
                branch_name: c.text(&["BranchName"]),
                area_id: c.int(&["AreaId"]),
                area_name: c.text(&["AreaName"]),
                camera_id: c.int(&["CameraId"]),
                counter_name: c.text(&["CounterName"]),
                company_serial: c.text(&["CompanySerial"]),
                counter_chipset_code: c.text(&["CounterChipsetCode"]),
                line_name: c.text(&["LineName"]),
                direction: c.text(&["Direction"]),
                extra: c,
            })
            .collect())
    }

    /// `GetAreaHourly(user, password, AreaID, StartDate, EndDate)`; `"-1"` for every area.
    pub async fn area_hourly(
        &mut self,
        area: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Vec<AreaCount>, MssqlError> {
        let rows = self
            .rows(
                "SELECT * FROM GetAreaHourly(@P1, @P2, @P3, @P4, @P5)",
                &[&area, &start, &end],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|c| AreaCount {
                area_id: c.int(&["AreaId"]),
                area_name: c.text(&["AreaName"]),
                time: c.datetime(&["ValueDateTime"]),
                value_in: c.int(&["ValueIn"]),
                value_out: c.int(&["ValueOut"]),
                extra: c,
            })
            .collect())
    }
}
