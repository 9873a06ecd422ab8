//! An embedded MQTT broker for the demo and the examples (rumqttd), so they run without an
//! installed broker. Loopback only, anonymous, MQTT 3.1.1 and 5 on one port each.
//!
//! rumqttd has no shutdown: the broker runs on its own threads until the process ends,
//! which suits a demo. Tests use Debian's mosquitto instead (scripts/services.d).
//!
//! ```no_run
//! let broker = ffc_cli::broker::start()?;
//! println!("MQTT 3.1.1 at {}, MQTT 5 at {}", broker.url(), broker.url_v5());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

/// A running embedded broker.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedBroker {
    /// The MQTT 3.1.1 port on 127.0.0.1.
    pub port: u16,
    /// The MQTT 5 port on 127.0.0.1.
    pub port_v5: u16,
}

impl EmbeddedBroker {
    /// `mqtt://127.0.0.1:{port}` (MQTT 3.1.1).
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
    /// `mqtt://127.0.0.1:{port_v5}` (MQTT 5).
    pub fn url_v5(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port_v5)
    }
}

/// A port the kernel just handed out on loopback. rumqttd binds by address, so the port is
/// released before it binds again; another process taking it in between makes `start`
/// fail with a timeout, and the caller may simply retry.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn server(name: &str, port: u16) -> ServerSettings {
    ServerSettings {
        name: name.to_owned(),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 256 * 1024,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    }
}

/// Starts the broker on free loopback ports and returns once both accept connections.
pub fn start() -> io::Result<EmbeddedBroker> {
    let port = free_port()?;
    let port_v5 = free_port()?;
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), server("v4-1", port))])),
        v5: Some(HashMap::from([("1".to_owned(), server("v5-1", port_v5))])),
        ..Config::default()
    };
    std::thread::Builder::new()
        .name("rumqttd".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                eprintln!("embedded MQTT broker stopped: {e}");
            }
        })?;
    let deadline = Instant::now() + Duration::from_secs(10);
    for p in [port, port_v5] {
        while TcpStream::connect((Ipv4Addr::LOCALHOST, p)).is_err() {
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("embedded MQTT broker did not listen on 127.0.0.1:{p}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(EmbeddedBroker { port, port_v5 })
}

#[cfg(test)]
mod tests {
    use ffc_core::{
        CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset,
    };
    use ffc_protocols::mqtt::codec::Message;
    use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
    use ffc_protocols::mqtt::subscriber::{Received, Subscriber, SubscriberConfig};
    use ffc_protocols::mqtt::{Protocol, Qos};
    use std::time::Duration;

    /// The demo path: a counter simulator publishes through the embedded broker to the
    /// subscriber, on both protocol versions.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counter_to_subscriber_through_the_embedded_broker() {
        let broker = super::start().unwrap();
        for (protocol, url) in [
            (Protocol::V311, broker.url()),
            (Protocol::V5, broker.url_v5()),
        ] {
            let mut sc = SubscriberConfig::new(&url, format!("demo-sub-{protocol:?}")).unwrap();
            sc.protocol = protocol;
            sc.qos = Qos::AtLeastOnce;
            let sub = Subscriber::new(sc).unwrap();
            let mut status = sub.status();
            let stopper = sub.stopper();
            let (mut rx, task) = sub.into_stream();
            tokio::time::timeout(Duration::from_secs(30), status.wait_for(|s| s.subacks >= 1))
                .await
                .unwrap()
                .unwrap();
            let serial = CameraSerial::from_u64(0x7b77_a260);
            let mut pc = PublisherConfig::new(&url, serial).unwrap();
            pc.protocol = protocol;
            pc.qos = Qos::AtLeastOnce;
            let publisher = Publisher::connect(pc).await.unwrap();
            let event = CountEvent {
                serial,
                roi: RoiId(1),
                metric: Metric::In,
                people_type: PeopleType::Staff,
                people_id: PeopleId(42),
                start: 1_669_351_669,
                end: 1_669_351_670,
                offset: UtcOffset::from_seconds(-5 * 3600).unwrap(),
                uuid: None,
                source: Source::Mqtt,
            };
            publisher.publish(&Message::Count(event)).await.unwrap();
            let got = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                got,
                Received::Count {
                    topic: "/status/000000007b77a260".into(),
                    event
                }
            );
            publisher.close().await;
            stopper.stop();
            task.await.unwrap().unwrap();
        }
    }
}
