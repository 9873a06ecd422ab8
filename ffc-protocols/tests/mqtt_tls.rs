//! `mqtts://` (feature `tls`): the subscriber and the publisher over TLS to a mosquitto
//! this test starts with a self-signed certificate (FFC_MOSQUITTO_BIN from
//! scripts/services.d/10-mosquitto.sh); a client that does not trust it is refused.
#![cfg(feature = "tls")]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::subscriber::{Received, Subscriber, SubscriberConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::ws::server::tokio_rustls::rustls;
use tokio::time::timeout;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn client_config(trusted: Option<&rcgen::Certificate>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(cert) = trusted {
        roots.add(cert.der().clone()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_flow_over_mqtts_and_an_untrusted_broker_is_refused() {
    let Ok(bin) = std::env::var("FFC_MOSQUITTO_BIN") else {
        if std::env::var_os("CI").is_some() {
            panic!("FFC_MOSQUITTO_BIN not set under CI");
        }
        eprintln!("skipped: FFC_MOSQUITTO_BIN not set (source scripts/services.sh)");
        return;
    };
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, generated.cert.pem()).unwrap();
    std::fs::write(&key_path, generated.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "user root\npersistence false\nlog_dest file {}\nlistener {port} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n",
            dir.path().join("log").display(),
            cert_path.display(),
            key_path.display()
        ),
    )
    .unwrap();
    let _broker = Killed(
        Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    timeout(Duration::from_secs(30), async {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("mosquitto listens");

    let url = format!("mqtts://localhost:{port}");
    let mut sc = SubscriberConfig::new(&url, "tls-sub").unwrap();
    sc.tls = Some(client_config(Some(&generated.cert)));
    sc.qos = Qos::AtLeastOnce;
    let sub = Subscriber::new(sc).unwrap();
    let mut status = sub.status();
    let stopper = sub.stopper();
    let (mut rx, task) = sub.into_stream();
    timeout(Duration::from_secs(30), status.wait_for(|s| s.subacks >= 1))
        .await
        .unwrap()
        .unwrap();

    let serial = CameraSerial::from_u64(0x7115);
    let mut pc = PublisherConfig::new(&url, serial).unwrap();
    pc.tls = Some(client_config(Some(&generated.cert)));
    pc.qos = Qos::AtLeastOnce;
    let publisher = Publisher::connect(pc).await.unwrap();
    let event = CountEvent {
        serial,
        roi: RoiId(3),
        metric: Metric::Out,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(5),
        start: 1_760_000_000,
        end: 1_760_000_002,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::Mqtt,
    };
    publisher.publish(&Message::Count(event)).await.unwrap();
    let got = timeout(Duration::from_secs(30), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Received::Count {
            topic: format!("/status/{serial}"),
            event
        }
    );
    publisher.close().await;
    stopper.stop();
    task.await.unwrap().unwrap();

    // A client without the broker's CA is refused with a clear TLS error, not retried.
    let mut pc = PublisherConfig::new(&url, CameraSerial::from_u64(0x7116)).unwrap();
    pc.tls = Some(client_config(None));
    let err = timeout(Duration::from_secs(30), Publisher::connect(pc))
        .await
        .unwrap()
        .err()
        .expect("refused");
    assert!(err.to_string().contains("TLS handshake failed"), "{err}");
    let mut sc = SubscriberConfig::new(&url, "tls-untrusted").unwrap();
    sc.tls = Some(client_config(None));
    let err = timeout(
        Duration::from_secs(30),
        Subscriber::new(sc).unwrap().run_into(
            &ffc_protocols::sink::MemorySink::new(),
            &ffc_protocols::sink::MemoryDeadLetters::new(),
            None,
        ),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(
            err,
            ffc_protocols::mqtt::subscriber::SubscribeError::Tls { .. }
        ),
        "{err:?}"
    );

    // mqtts:// without a TLS configuration is refused before any I/O.
    let sc = SubscriberConfig::new(&url, "tls-none").unwrap();
    assert!(Subscriber::new(sc).is_err());
}
