//! The PostgreSQL views against a real PostgreSQL on loopback (started by
//! scripts/services.d/40-postgres.sh, which exports FFC_PG_URL). The fixture creates the
//! two views over a table in a schema of its own, the way FootfallCam's sample SQL names
//! them (unquoted), fills it with bound parameters, and queries through the typed API.
#![cfg(feature = "postgres")]

use chrono::{NaiveDate, NaiveDateTime};
use ffc_client::pg::PgViews;
use ffc_core::{Resolution, SiteId, Subject, Zone};

fn pg_url() -> Option<String> {
    match std::env::var("FFC_PG_URL") {
        Ok(u) => Some(u),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("FFC_PG_URL is not set: scripts/services.d/40-postgres.sh must start PostgreSQL in CI")
        }
        Err(_) => {
            eprintln!(
                "skipping: FFC_PG_URL is not set (source scripts/services.sh to start PostgreSQL)"
            );
            None
        }
    }
}

const BRANCHES: [(&str, &str); 3] = [("G1", "North"), ("G1", "South"), ("G2", "East")];

fn at(d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2023, 9, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

/// Deterministic hourly footfall of branch `b` at (day, hour).
fn footfall(b: usize, d: u32, h: u32) -> (i64, i64) {
    let v = i64::from((d * 31 + h * 7) % 23) + 10 * b as i64;
    (v, v - 1)
}

#[tokio::test]
async fn views_are_queried_with_bound_parameters() {
    let Some(url) = pg_url() else { return };
    let views = PgViews::connect(&url).await.unwrap();
    let schema = format!("ffc_client_test_{}", std::process::id());
    let c = views.client();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema};
         CREATE TABLE fc_hour (Time timestamp NOT NULL, FC01_1_SUM bigint, FC02_1_SUM bigint,
                               SiteGroupName text, BranchName text, SiteGroupId text);
         CREATE VIEW sitegroup_footfallcounting_hour AS
             SELECT Time, FC01_1_SUM, FC02_1_SUM, SiteGroupName, BranchName, SiteGroupId FROM fc_hour;
         CREATE VIEW sitegroup_footfallcounting_day AS
             SELECT date_trunc('day', Time)::date AS Time, sum(FC01_1_SUM)::bigint AS FC01_1_SUM,
                    sum(FC02_1_SUM)::bigint AS FC02_1_SUM, SiteGroupName, BranchName, SiteGroupId
             FROM fc_hour GROUP BY 1, SiteGroupName, BranchName, SiteGroupId;"
    ))
    .await
    .unwrap();
    let insert = c
        .prepare("INSERT INTO fc_hour VALUES ($1, $2, $3, $4, $5, $6)")
        .await
        .unwrap();
    for (b, (group, branch)) in BRANCHES.iter().enumerate() {
        for d in 20..=27 {
            for h in 0..24 {
                let (i, o) = footfall(b, d, h);
                let group_name = format!("Group {group}");
                c.execute(&insert, &[&at(d, h), &i, &o, &group_name, branch, group])
                    .await
                    .unwrap();
            }
        }
    }

    // Sample 3 of the seed: site daily data by site group, 21st to 26th.
    let from = NaiveDate::from_ymd_opt(2023, 9, 21).unwrap();
    let to = NaiveDate::from_ymd_opt(2023, 9, 26).unwrap();
    let daily = views.daily("G1", from, to).await.unwrap();
    assert_eq!(daily.len(), 6 * 2, "six days of North and South");
    for r in &daily {
        let b = BRANCHES
            .iter()
            .position(|(_, n)| Some(*n) == r.branch_name.as_deref())
            .unwrap();
        let d = chrono::Datelike::day(&r.time);
        let want: i64 = (0..24).map(|h| footfall(b, d, h).0).sum();
        assert_eq!(r.footfall_in, want);
        assert_eq!(r.footfall_out, want - 24);
        assert_eq!(r.site_group_id, "G1");
        assert_eq!(r.site_group_name.as_deref(), Some("Group G1"));
    }
    assert_eq!(daily[0].time, at(21, 0));

    // Sample 4: site hourly data, '2023-09-21 00:00:00' to '2023-09-26 16:00:00' inclusive.
    let hourly = views.hourly("G1", at(21, 0), at(26, 16)).await.unwrap();
    assert_eq!(hourly.len(), (5 * 24 + 17) * 2);
    assert!(hourly.windows(2).all(|w| w[0].time <= w[1].time));
    let last = hourly.last().unwrap();
    assert_eq!(last.time, at(26, 16));
    let rec = hourly[0].to_record(SiteId(1), Resolution::Hour, Zone::UTC);
    assert_eq!(rec.subject, Subject::Site(SiteId(1)));
    assert_eq!(rec.length, 3600);
    assert_eq!(rec.start, at(21, 0).and_utc().timestamp());

    // The id is bound, never spliced: an injection attempt matches nothing and harms nothing.
    let evil = views.daily("G1' OR '1'='1", from, to).await.unwrap();
    assert!(evil.is_empty());
    let other = views.daily("G2", from, to).await.unwrap();
    assert_eq!(other.len(), 6);
    assert!(other
        .iter()
        .all(|r| r.branch_name.as_deref() == Some("East")));

    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
