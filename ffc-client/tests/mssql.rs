//! SQL Server functions. No SQL Server can run on the machines ffc is built and tested on,
//! so this test runs ONLY when FFC_MSSQL_URL is set (an ADO.NET connection string to a
//! server that has FootfallCam's functions), with FFC_MSSQL_USER and FFC_MSSQL_PASSWORD
//! for the functions' user/password parameters. Otherwise it prints why and returns, in CI
//! too: there is nothing here it could run against.
#![cfg(feature = "mssql")]

use chrono::NaiveDate;
use ffc_client::mssql::{MssqlClient, ALL};
use ffc_client::Secret;

#[tokio::test]
async fn functions_answer_typed_rows() {
    let (Ok(url), Ok(user), Ok(password)) = (
        std::env::var("FFC_MSSQL_URL"),
        std::env::var("FFC_MSSQL_USER"),
        std::env::var("FFC_MSSQL_PASSWORD"),
    ) else {
        eprintln!("skipping: FFC_MSSQL_URL/USER/PASSWORD not set; no SQL Server runs here");
        return;
    };
    let mut c = MssqlClient::connect(&url, &user, Secret::new(password))
        .await
        .unwrap();
    let branches = c.branches().await.unwrap();
    assert!(branches
        .iter()
        .all(|b| b.branch_id.is_some() || !b.extra.0.is_empty()));
    let start = NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let end = NaiveDate::from_ymd_opt(2024, 1, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let hourly = c.branch_hourly(ALL, start, end).await.unwrap();
    assert!(hourly
        .iter()
        .all(|r| r.time.is_none_or(|t| t >= start && t <= end)));
    c.branch_daily(ALL, start, end).await.unwrap();
    c.area_configuration("-1").await.unwrap();
    c.area_hourly("-1", start, end).await.unwrap();
    if let Some(id) = branches.iter().find_map(|b| b.branch_id) {
        c.counters_by_branch(id).await.unwrap();
    }
}
