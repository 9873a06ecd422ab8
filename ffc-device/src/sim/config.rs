//! [`DeviceSimConfig`]: how the simulated counter behaves.

use std::time::Duration;

use ffc_core::{CameraSerial, UnixSeconds, Zone};

use crate::query::DEFAULT_COUNT_PATH;
use crate::secret::Secret;

/// How the simulated counter behaves.
///
/// Built with `Default` and the `with_*` setters, like every configuration in ffc. The
/// default counter is serial `000000006afce315`, named `ACME - Door 1`, in UTC, and accepts
/// username `admin` with password `123456` (the counter's factory login);
/// [`Simulator::client`](super::Simulator::client) hands back a client already set up with
/// them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceSimConfig {
    /// The counter's serial.
    pub serial: CameraSerial,
    /// The `cntset` name, `{CompanyCode} - {CounterName}`.
    pub name: String,
    /// The username it accepts.
    pub username: String,
    /// The password it accepts.
    pub password: Secret,
    /// The counter's time zone.
    pub zone: Zone,
    /// Seed of the synthetic event stream.
    pub seed: u64,
    /// Visitors crossing per hour at the busiest hour of the day (mean).
    pub peak_per_hour: u32,
    /// The count CGI's path under `/cgi-bin/` (default `apiCount.cgi`).
    pub count_path: String,
    /// Time taken to answer every count request, as a slow embedded counter does
    /// (default none).
    pub latency: Duration,
    /// UTC spans `[from, to)` the counter was off (default none): no events, and no
    /// buckets starting in them, so a branch roll-up shows them as missing.
    pub offline: Vec<(UnixSeconds, UnixSeconds)>,
}

impl Default for DeviceSimConfig {
    fn default() -> Self {
        DeviceSimConfig {
            serial: CameraSerial::from_u64(0x6afc_e315),
            name: "ACME - Door 1".to_owned(),
            username: "admin".to_owned(),
            password: Secret::new("123456"),
            zone: Zone::UTC,
            seed: 1,
            peak_per_hour: 120,
            count_path: DEFAULT_COUNT_PATH.to_owned(),
            latency: Duration::ZERO,
            offline: Vec::new(),
        }
    }
}

impl DeviceSimConfig {
    /// Sets the counter's serial.
    pub fn with_serial(mut self, serial: CameraSerial) -> Self {
        self.serial = serial;
        self
    }

    /// Sets the `cntset` name, `{CompanyCode} - {CounterName}`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the username it accepts.
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// Sets the password it accepts.
    pub fn with_password(mut self, password: Secret) -> Self {
        self.password = password;
        self
    }

    /// Sets the counter's time zone.
    pub fn with_zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Sets the seed of the synthetic event stream.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the mean visitors per hour at the busiest hour.
    pub fn with_peak_per_hour(mut self, peak_per_hour: u32) -> Self {
        self.peak_per_hour = peak_per_hour;
        self
    }

    /// Sets the count CGI's path under `/cgi-bin/`.
    pub fn with_count_path(mut self, count_path: impl Into<String>) -> Self {
        self.count_path = count_path.into();
        self
    }

    /// Sets the time taken to answer every count request.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Adds a UTC span `[from, to)` the counter was off.
    pub fn with_offline(mut self, from: UnixSeconds, to: UnixSeconds) -> Self {
        self.offline.push((from, to));
        self
    }

    /// Whether the counter was off at `at`.
    pub fn is_offline(&self, at: UnixSeconds) -> bool {
        self.offline
            .iter()
            .any(|(from, to)| (*from..*to).contains(&at))
    }
}
