//! `wss://` (feature `tls`): the receiver behind rustls, the sender trusting the receiver's
//! self-signed certificate, over loopback.
#![cfg(feature = "tls")]

use std::sync::Arc;
use std::time::Duration;

use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use ffc_protocols::ws::sender::{SendError, Sender, SenderConfig};
use ffc_protocols::ws::server::tokio_rustls::rustls::{self, pki_types};
use ffc_protocols::ws::server::tokio_rustls::{TlsAcceptor, TlsConnector};
use ffc_protocols::ws::server::{Receiver, ReceiverConfig};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[tokio::test]
async fn events_arrive_over_wss_and_plain_ws_is_refused() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = generated.cert.der().clone();
    let key = pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let sink = Arc::new(MemorySink::new());
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap())
        .with_tls(Some(TlsAcceptor::from(Arc::new(tls))));
    let handle = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new()))
        .await
        .unwrap()
        .spawn();
    let port = handle.local_addr().port();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut sender_config = SenderConfig::new(format!("wss://localhost:{port}/"));
    sender_config.tls = Some((
        TlsConnector::from(Arc::new(client)),
        pki_types::ServerName::try_from("localhost").unwrap(),
    ));
    let event = CountEvent {
        serial: CameraSerial::from_u64(0x77),
        roi: RoiId(2),
        metric: Metric::Out,
        people_type: PeopleType::Staff,
        people_id: PeopleId(9),
        start: 1_760_000_000,
        end: 1_760_000_003,
        offset: UtcOffset::from_seconds(-5 * 3600).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    };
    let mut sender: Sender<8> = Sender::new(sender_config);
    sender.check_connection().await.unwrap();
    sender.push(event).unwrap();
    assert_eq!(
        sender.deliver_all(Duration::from_secs(10)).await.unwrap(),
        1
    );
    assert_eq!(sink.events(), vec![event]);

    // Plain ws:// to the TLS port: the TLS handshake fails, nothing is stored.
    let mut plain_config = SenderConfig::new(format!("ws://127.0.0.1:{port}/"));
    plain_config.connect_timeout = Duration::from_secs(5);
    let mut plain: Sender<8> = Sender::new(plain_config);
    assert!(matches!(
        plain.check_connection().await,
        Err(SendError::Connect(_) | SendError::ConnectTimeout)
    ));
    // The server counts the failure as it drops the socket, which the client may see first:
    // wait for the count (bounded, so a missing count fails rather than hangs).
    for _ in 0..1000 {
        if handle.stats().handshake_failures == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(handle.stats().handshake_failures, 1);
    assert_eq!(sink.len(), 1);
}
