//! [`SimulatedDevice`]: a [`DeviceCore`] on a tokio UDP socket.

use super::{BacnetDeviceConfig, BacnetDeviceError, DeviceCore, DeviceStats, HourlyValues};
use ffc_core::UnixSeconds;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

/// Sends one datagram; a failure only loses it, as UDP may anyway: the requester retries.
async fn send(socket: &UdpSocket, datagram: &[u8], peer: SocketAddr) {
    if let Err(error) = socket.send_to(datagram, peer).await {
        tracing::debug!(%peer, %error, "BACnet device could not send");
    }
}

fn unix_now() -> UnixSeconds {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A simulated FFC device on a tokio UDP socket. Dropping it (or [`shutdown`](Self::shutdown))
/// stops it.
#[derive(Debug)]
pub struct SimulatedDevice {
    local_addr: SocketAddr,
    stats: Arc<Mutex<DeviceStats>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimulatedDevice {
    /// Binds `bind` (e.g. `127.0.0.1:47808`) and serves the device until dropped.
    /// `values` (usually an [`HourlyRing48`](ffc_core::HourlyRing48) the counting side records into) is advanced to
    /// the system clock and read on every request, so changes show at once.
    pub async fn spawn<V>(
        bind: SocketAddr,
        config: BacnetDeviceConfig,
        values: Arc<Mutex<V>>,
    ) -> Result<Self, BacnetDeviceError>
    where
        V: HourlyValues + Send + 'static,
    {
        let socket = UdpSocket::bind(bind).await?;
        let local_addr = socket.local_addr()?;
        tracing::info!(%local_addr, instance = config.instance, "simulated BACnet device serving");
        let (stop, mut stopped) = oneshot::channel();
        let stats = Arc::new(Mutex::new(DeviceStats::default()));
        let shared_stats = stats.clone();
        let task = tokio::spawn(async move {
            let mut core = DeviceCore::<SocketAddr>::new(config);
            let started = tokio::time::Instant::now();
            let mut buf = vec![0u8; 2048];
            loop {
                let now_ms = started.elapsed().as_millis() as u64;
                let wake = core
                    .next_deadline()
                    .map(|at| Duration::from_millis(at.saturating_sub(now_ms)))
                    .unwrap_or(Duration::from_secs(3600));
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(wake) => {
                        let now_ms = started.elapsed().as_millis() as u64;
                        let resends = core.on_timer(now_ms);
                        if let Ok(mut shared) = shared_stats.lock() {
                            *shared = core.stats();
                        }
                        for (peer, datagram) in resends {
                            send(&socket, &datagram, peer).await;
                        }
                    }
                    received = socket.recv_from(&mut buf) => {
                        let (len, peer) = match received {
                            Ok(received) => received,
                            Err(error) => {
                                // A datagram that could not be read (e.g. an ICMP port
                                // unreachable surfacing on this socket): skip it.
                                tracing::debug!(%error, "BACnet device could not receive");
                                continue;
                            }
                        };
                        let now_ms = started.elapsed().as_millis() as u64;
                        let replies = {
                            let Ok(mut values) = values.lock() else { return };
                            values.advance_to(unix_now());
                            core.handle(&*values, peer, buf.get(..len).unwrap_or(&[]), now_ms)
                        };
                        if let Ok(mut shared) = shared_stats.lock() {
                            *shared = core.stats();
                        }
                        for reply in replies {
                            send(&socket, &reply, peer).await;
                        }
                    }
                }
            }
        });
        Ok(SimulatedDevice {
            local_addr,
            stats,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// What the device has seen so far.
    pub fn stats(&self) -> DeviceStats {
        self.stats.lock().map(|stats| *stats).unwrap_or_default()
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the device and waits for its task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimulatedDevice {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
