//! One counter's connection: the upgrade (with authentication), then receive → decode →
//! keep → acknowledge for each message, until it closes, idles out or the receiver drains.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument as _;

use super::{bump, Shared, ACK};
use crate::sink::{
    Accepted, DeadLetter, SessionKind, SessionRecord, SessionSource, SessionThrottle,
};
use crate::ws::codec::{self, Message};
use ffc_core::CameraSerial;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What to do after a message.
enum Next {
    Continue,
    Close(CloseCode, &'static str),
    Stop,
}

pub(super) async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some((mut ws, path)) = upgrade(stream, shared).await else {
        return;
    };
    let origin = format!("ws {peer} {path}");
    let mut seen = Seen::new(shared.clock.now());
    serve(&mut ws, &origin, shared, &mut shutdown, &mut seen).await;
    seen.close(shared).await;
}

/// Receives on an upgraded connection until it ends.
async fn serve<S>(
    ws: &mut WebSocketStream<S>,
    origin: &str,
    shared: &Shared,
    shutdown: &mut watch::Receiver<bool>,
    seen: &mut Seen,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.changed() => {
                close(ws, CloseCode::Away, "server shutting down").await;
                return;
            }
            next = tokio::time::timeout(shared.limits.idle_timeout, ws.next()) => next,
        };
        let step = match next {
            Err(_) => Next::Close(CloseCode::Normal, "idle timeout"),
            Ok(None) => Next::Stop,
            Ok(Some(Ok(message))) => {
                // receive → decode → keep → acknowledge, under one span per message;
                // `serial` is filled in once the payload decoded.
                let span = tracing::debug_span!(
                    "receive",
                    transport = "ws",
                    %origin,
                    serial = tracing::field::Empty,
                );
                handle(ws, message, origin, shared, seen)
                    .instrument(span)
                    .await
            }
            Ok(Some(Err(e))) => match e {
                WsError::Capacity(_) => Next::Close(CloseCode::Size, "message too big"),
                WsError::Utf8(_) => Next::Close(CloseCode::Invalid, "text message is not UTF-8"),
                WsError::Protocol(_) => Next::Close(CloseCode::Protocol, "protocol violation"),
                _ => Next::Stop,
            },
        };
        match step {
            Next::Continue => {}
            Next::Stop => return,
            Next::Close(code, reason) => {
                bump(&shared.counters.closed_with_reason);
                tracing::debug!(%origin, reason, "closing connection");
                close(ws, code, reason).await;
                return;
            }
        }
    }
}

/// The WebSocket upgrade, with authentication, within the handshake timeout; `None` when
/// it failed or was refused (counted). Returns the stream and the request's path.
async fn upgrade<S>(stream: S, shared: &Shared) -> Option<(WebSocketStream<S>, String)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut path = String::new();
    let mut refused = false;
    // The error type is tungstenite's `Callback` contract.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        // The path only: the query may hold a token.
        path = request.uri().path().to_owned();
        if shared.auth.admits(request) {
            Ok(response)
        } else {
            // Counted before the 401 goes out, so a client that saw it sees the count.
            bump(&shared.counters.unauthorized);
            refused = true;
            Err(shared.auth.challenge())
        }
    };
    let handshake = tokio::time::timeout(
        shared.limits.handshake_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(
            stream,
            callback,
            Some(shared.limits.websocket()),
        ),
    )
    .await;
    match handshake {
        Ok(Ok(ws)) => Some((ws, path)),
        Ok(Err(_)) if refused => None,
        _ => {
            bump(&shared.counters.handshake_failures);
            None
        }
    }
}

async fn close<S>(ws: &mut WebSocketStream<S>, code: CloseCode, reason: &'static str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    // Bounded: a peer that does not read must not hold the task.
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
}

async fn handle<S>(
    ws: &mut WebSocketStream<S>,
    message: WsMessage,
    origin: &str,
    shared: &Shared,
    seen: &mut Seen,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let dead_letter = |raw: Vec<u8>, reason: String| DeadLetter {
        received_at: now(),
        origin: origin.to_owned(),
        reason,
        raw,
    };
    let letter = match message {
        WsMessage::Text(text) => {
            let decoded =
                tracing::debug_span!("decode").in_scope(|| codec::decode_str(text.as_str()));
            match decoded {
                Ok(Message::Event(event)) => {
                    tracing::Span::current()
                        .record("serial", tracing::field::display(event.serial));
                    seen.counter(event.serial, shared).await;
                    let keep = tracing::debug_span!("keep", serial = %event.serial);
                    if let Err(next) = keep_event(&event, shared).instrument(keep).await {
                        return next;
                    }
                    None
                }
                Ok(Message::Test) => {
                    bump(&shared.counters.tests);
                    seen.heartbeat(shared).await;
                    None
                }
                Ok(Message::UnknownTopic(topic)) => Some(dead_letter(
                    text.as_bytes().to_vec(),
                    format!("unknown topic {topic:?}"),
                )),
                Err(e) => Some(dead_letter(text.as_bytes().to_vec(), e.to_string())),
            }
        }
        WsMessage::Binary(raw) => Some(dead_letter(
            raw.to_vec(),
            "binary message: counters send text".to_owned(),
        )),
        // Pongs to pings are queued by tungstenite and go out with the next write or read.
        WsMessage::Ping(_) => {
            seen.heartbeat(shared).await;
            return Next::Continue;
        }
        WsMessage::Pong(_) | WsMessage::Frame(_) => return Next::Continue,
        // tungstenite answers the close; the stream then ends.
        WsMessage::Close(_) => return Next::Continue,
    };
    if let Some(letter) = letter {
        tracing::debug!(%origin, reason = %letter.reason, "dead letter");
        if let Err(e) = shared.dead.dead_letter(letter).await {
            bump(&shared.counters.sink_failures);
            tracing::error!(error = %e, %origin, "dead-letter sink failed; not acknowledged");
            return Next::Close(CloseCode::Error, "dead-letter storage failed; resend later");
        }
        bump(&shared.counters.dead_lettered);
    }
    let acknowledged = ws
        .send(WsMessage::text(ACK))
        .instrument(tracing::debug_span!("acknowledge"))
        .await;
    match acknowledged {
        Ok(()) => {
            shared.acknowledged();
            Next::Continue
        }
        Err(_) => Next::Stop,
    }
}

/// Keeps one event in the sink; `Err` says how to end the connection when it failed (the
/// event is then not acknowledged, so the counter resends it).
async fn keep_event(event: &ffc_core::CountEvent, shared: &Shared) -> Result<(), Next> {
    match shared.sink.accept_received(event, shared.clock.now()).await {
        Ok(Accepted::Stored) => bump(&shared.counters.accepted),
        Ok(Accepted::Duplicate) => bump(&shared.counters.duplicates),
        Err(e) => {
            bump(&shared.counters.sink_failures);
            tracing::error!(error = %e, "event sink failed; not acknowledged");
            return Err(Next::Close(
                CloseCode::Error,
                "event storage failed; resend later",
            ));
        }
    }
    Ok(())
}

/// The counters a connection carried, for its session records: `connect` (with the upgrade
/// time) once a message names a counter, `heartbeat` for pings and test messages (at most
/// one per counter per minute), `disconnect` when it ends.
struct Seen {
    opened: i64,
    counters: Vec<CameraSerial>,
    throttle: SessionThrottle,
}

impl Seen {
    /// Counters one connection is remembered to carry at most (a counter carries one).
    const MAX: usize = 16;

    fn new(opened: i64) -> Self {
        Seen {
            opened,
            counters: Vec::new(),
            throttle: SessionThrottle::default(),
        }
    }

    /// A message of `serial` arrived: the first one records the connect.
    async fn counter(&mut self, serial: CameraSerial, shared: &Shared) {
        if self.counters.contains(&serial) || self.counters.len() >= Self::MAX {
            return;
        }
        self.counters.push(serial);
        record(shared, serial, SessionKind::Connect, self.opened).await;
    }

    async fn heartbeat(&mut self, shared: &Shared) {
        let at = shared.clock.now();
        for &serial in &self.counters {
            let session = SessionRecord {
                counter: serial,
                source: SessionSource::Ws,
                kind: SessionKind::Heartbeat,
                at,
            };
            if self.throttle.admit(&session) {
                record(shared, serial, SessionKind::Heartbeat, at).await;
            }
        }
    }

    async fn close(self, shared: &Shared) {
        let at = shared.clock.now();
        for serial in self.counters {
            record(shared, serial, SessionKind::Disconnect, at).await;
        }
    }
}

/// Keeps one session record; a failure is logged, never fatal (events are what is
/// acknowledged).
async fn record(shared: &Shared, counter: CameraSerial, kind: SessionKind, at_utc: i64) {
    let session = SessionRecord {
        counter,
        source: SessionSource::Ws,
        kind,
        at: at_utc,
    };
    if let Err(e) = shared.sink.session(&session).await {
        tracing::warn!(error = %e, ?session, "session record not kept");
    }
}
