//! Credentials never appear in logs, `Debug` output or errors. Every log record of the
//! process (ffc's tracing events, and reqwest's and hyper's `log` records through the
//! tracing-log bridge) is captured at TRACE level while a client fetches, refreshes a
//! revoked token, retries faults and fails on a wrong password.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use ffc_core::backoff::RetryPolicy;
use ffc_core::{Resolution, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::{DataType, Query};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Fault, Simulator};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

const PASSWORD: &str = "pa55-w0rd-s3cret";

#[tokio::test]
async fn credentials_stay_out_of_logs_debug_and_errors() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .try_init()
        .expect("the only subscriber of this test binary");

    let sim = Simulator::start(DeviceSimConfig::default().with_password(Secret::new(PASSWORD)))
        .await
        .expect("simulator");
    let config = DeviceClientConfig::new(sim.base_url(), Zone::UTC).with_retry(
        RetryPolicy::default()
            .with_max_attempts(Some(3))
            .with_initial(Duration::from_millis(5))
            .with_cap(Duration::from_millis(5)),
    );
    let client =
        DeviceClient::new(config.clone(), Credentials::new("admin", PASSWORD)).expect("client");
    let query = Query::builder()
        .resolution(Resolution::Minutes(30))
        .data_type(DataType::Xml)
        .date_start(NaiveDate::from_ymd_opt(2024, 5, 1).expect("date"))
        .build(&Zone::UTC)
        .expect("query");

    let mut seen = Vec::new();
    let first_token = sim.current_token();
    client.counts(&query).await.expect("counts");
    sim.revoke_tokens();
    let second_token = sim.current_token();
    sim.inject([Fault::Status(503), Fault::Drop]);
    client
        .counts(&query)
        .await
        .expect("counts after refresh and retries");
    sim.inject([Fault::Status(500); 3]);
    let unavailable = client.counts(&query).await.expect_err("gives up");
    seen.push(format!("{unavailable} {unavailable:?}"));
    sim.inject([Fault::Status(404)]);
    let rejected = client.counts(&query).await.expect_err("4xx");
    seen.push(format!("{rejected} {rejected:?}"));
    let wrong =
        DeviceClient::new(config, Credentials::new("admin", "not-the-password")).expect("client");
    let refused = wrong.counts(&query).await.expect_err("wrong password");
    seen.push(format!("{refused} {refused:?} {wrong:?}"));
    seen.push(format!(
        "{client:?} {:?}",
        Credentials::new("admin", PASSWORD)
    ));
    let pull = client
        .pull(0, 1, Resolution::Day, DataType::Json, |_| {})
        .await
        .expect_err("day");
    seen.push(format!("{pull} {pull:?}"));

    let logs = String::from_utf8(capture.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .expect("utf-8");
    seen.push(logs.clone());
    let everything = seen.join("\n");
    for secret in [
        PASSWORD,
        first_token.expose(),
        second_token.expose(),
        "not-the-password",
    ] {
        assert!(
            !everything.contains(secret),
            "a secret leaked:\n{everything}"
        );
    }
    // The URLs were logged, with their secrets masked: the check above looked at them.
    assert!(logs.contains("access_token=***"), "{logs}");
    assert!(logs.contains("password=***"), "{logs}");
    assert!(logs.contains("attempt failed"), "{logs}");
    assert!(logs.contains("token refused; fetching a new one"), "{logs}");
}
