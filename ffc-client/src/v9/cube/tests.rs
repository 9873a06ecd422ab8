//! The cube codec's tests: the published query and both response shapes.

use super::*;

/// spec §2, the published request body.
const SAMPLE_QUERY: &str = r#"{"query":{"measures":["ffc_site_summary.A01"],"dimensions":[],"timeDimensions":[{"dimension":"ffc_site_summary.Time","granularity":"day","dateRange":["2024-01-01","2024-01-31"]}],"filters":[{"member":"ffc_site_summary.SiteId","operator":"equals","values":["30273"]}],"limit":1000000}}"#;

#[test]
fn published_query_decodes_and_re_encodes_equal() {
    let q = CubeQuery::from_body(SAMPLE_QUERY.as_bytes()).unwrap();
    assert_eq!(q.cube, Cube::SiteSummary);
    assert_eq!(q.measures, [Measure::A01]);
    assert_eq!(q.time.unwrap().granularity, Granularity::Day);
    assert_eq!(q.filters[0].member, "SiteId");
    assert_eq!(q.filters[0].values, ["30273"]);
    assert_eq!(q.limit, Some(1_000_000));
    let orig: Value = serde_json::from_str(SAMPLE_QUERY).unwrap();
    assert_eq!(q.to_body(), orig);
    assert_eq!(q.chunks(30).len(), 2);
    assert!(CubeQuery::from_body(br#"{"query":{"measures":["ffc_site_summary.Z99"]}}"#).is_err());
    assert!(CubeQuery::from_body(
        br#"{"query":{"measures":["ffc_site_summary.A01","ffc_area_summary.A02"]}}"#
    )
    .is_err());
}

#[test]
fn both_published_response_shapes_decode() {
    let single = br#"{"data":[{"ffc_site_summary.A01": "120", "ffc_site_summary.Time.day": "2024-01-01T00:00:00.000", "ffc_site_summary.SiteId": "30273"}]}"#;
    let multi = br#"{"queryType":"multi","results":[{"data":[{"ffc_site_summary.A01": 120, "ffc_site_summary.Time.day": "2024-01-01T00:00:00.000", "ffc_site_summary.SiteId": "30273"}]}]}"#;
    let a = decode_load(Cube::SiteSummary, single).unwrap();
    let b = decode_load(Cube::SiteSummary, multi).unwrap();
    assert_eq!(a, b);
    assert_eq!(a[0].get(Measure::A01), Some(120.0));
    assert_eq!(a[0].time.unwrap().to_string(), "2024-01-01 00:00:00");
    assert_eq!(a[0].members.get("SiteId"), Some(&Value::from("30273")));
    assert_eq!(
        decode_load(Cube::SiteSummary, br#"{"error":"Continue wait"}"#),
        Err(DecodeError::Server("Continue wait".into()))
    );
    assert!(matches!(
        decode_load(
            Cube::SiteSummary,
            br#"{"data":[{"ffc_site_summary.A01":"x"}]}"#
        ),
        Err(DecodeError::Row { row: 0, .. })
    ));
    let nulls = decode_load(
        Cube::SiteSummary,
        br#"{"data":[{"ffc_site_summary.A02":null}]}"#,
    )
    .unwrap();
    assert_eq!(nulls[0].get(Measure::A02), None);
}

#[test]
fn every_measure_code_round_trips() {
    for m in Measure::ALL {
        assert_eq!(Measure::from_code(m.code()), Some(*m));
    }
    assert_eq!(Measure::ALL.len(), 19);
}
