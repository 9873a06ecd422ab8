//! The fault soak (DESIGN.md "Scale", invariant 1): simulated counters push a known set
//! of events into several worker processes while the workers, the broker and PostgreSQL
//! are killed with SIGKILL and restarted at random, seeded points. At the end the store
//! holds exactly the sent set for WebSocket and for MQTT at QoS 1; for QoS 0 the test
//! reports what was lost and checks that nothing was doubled or invented.
//!
//! - WebSocket: `FFC_SOAK_WORKERS` `ws_to_postgres` processes (the reference integration) behind a small TCP load
//!   balancer (below): the counters know one address, the balancer hands each new
//!   connection to the next receiver that accepts it.
//! - MQTT: `mqtt_workers` processes (the reference integration, one worker each) on one shared subscription (`$share/soak/...`) of a
//!   private persistent mosquitto (`$FFC_MOSQUITTO_BIN`), counters publishing with the
//!   publisher simulator: at QoS 1 with persistent sessions (workers and database killed:
//!   exact), at QoS 1 with the broker killed too (reported: mosquitto restores no shared
//!   subscription after a restart and persists by snapshot), and at QoS 0 (reported).
//! - Store: one PostgreSQL (`PgSink`, a private cluster from
//!   `$FFC_PG_START`, killed too) when available, else every worker's own JSON-lines file.
//!
//! The short form runs in the test suite; `scripts/soak.sh SECONDS COUNTERS` runs the long
//! form. Settings (environment): `FFC_SOAK_SECONDS` (fault phase per path, default 8),
//! `FFC_SOAK_COUNTERS` (default 12), `FFC_SOAK_WORKERS` (default 3), `FFC_SOAK_RATE`
//! (events per counter per second, default 10), `FFC_SOAK_SEED` (printed on every run),
//! `FFC_SOAK_PATHS` (default `ws,q1,q1b,q0`).

mod soak_support;

use soak_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_soak() {
    let Some(peers) = Peers::from_env() else {
        return;
    };
    let settings = Settings::from_env();
    eprintln!(
        "soak: {settings:?} (repeat with FFC_SOAK_SEED={})",
        settings.seed
    );
    let mut rng = Rng::new(settings.seed);
    let mut reports = Vec::new();

    let mut store = Store::start(&peers).await;
    eprintln!("soak: store {}", store.describe());

    let paths = std::env::var("FFC_SOAK_PATHS").unwrap_or_else(|_| "ws,q1,q1b,q0".into());
    for path in paths.split(',') {
        reports.push(match path.trim() {
            "ws" => ws_run(&settings, &peers, &mut store, &mut rng).await,
            "q1" => mqtt_run(&settings, &peers, &mut store, &mut rng, Run::MqttQos1).await,
            "q1b" => {
                mqtt_run(
                    &settings,
                    &peers,
                    &mut store,
                    &mut rng,
                    Run::MqttQos1BrokerCrash,
                )
                .await
            }
            "q0" => mqtt_run(&settings, &peers, &mut store, &mut rng, Run::MqttQos0).await,
            other => panic!("FFC_SOAK_PATHS: {other}? (ws, q1, q1b, q0)"),
        });
    }

    for report in &reports {
        eprintln!("{report}");
    }
    for report in &reports {
        report.check();
    }
}
