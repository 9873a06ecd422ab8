//! [`Client`]: a [`ClientCore`] on a tokio UDP socket. It sends what the core returns,
//! feeds it what arrives and wakes it at its deadlines; every BACnet decision is the
//! core's.

use super::counts::{count_batches, CountsSeen};
use super::{
    BacnetClientConfig, BacnetClientError, ClientCore, ClientEvent, ClientStats, DeviceInfo,
    HourlySeries, Transmit,
};
use crate::bacnet::wire::{
    ObjectId, ObjectType, PropertyId, PropertyReference, ReadAccessResult, ReadAccessSpec,
    ReadPropertyAck, ReadPropertyRequest, RpmAck, RpmRequest, Value,
};
use ffc_core::UnixSeconds;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use tokio::time::{timeout_at, Instant};

/// A BACnet/IP client.
#[derive(Debug)]
pub struct Client {
    socket: UdpSocket,
    core: ClientCore,
    /// The core's time zero: `now_ms` is the time since.
    started: Instant,
    buf: Vec<u8>,
}

impl Client {
    /// Binds a client.
    pub async fn bind(config: BacnetClientConfig) -> Result<Self, BacnetClientError> {
        let socket = UdpSocket::bind(config.bind).await?;
        socket.set_broadcast(true)?;
        Ok(Client {
            socket,
            core: ClientCore::new(config),
            started: Instant::now(),
            buf: vec![0u8; 2048],
        })
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<SocketAddr, BacnetClientError> {
        Ok(self.socket.local_addr()?)
    }

    /// What happened on the wire so far.
    pub fn stats(&self) -> ClientStats {
        self.core.stats()
    }

    /// Resets [`stats`](Self::stats).
    pub fn reset_stats(&mut self) {
        self.core.reset_stats();
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    async fn send(&self, transmit: Transmit) -> Result<(), BacnetClientError> {
        self.socket.send_to(&transmit.datagram, transmit.to).await?;
        Ok(())
    }

    /// Sends Who-Is (for instances in `range`, inclusive) to `target` and collects the
    /// I-Am answers that arrive within `wait`. `target` is a device's address or a
    /// broadcast address (255.255.255.255 or an address ending in .255, sent as
    /// Original-Broadcast-NPDU; anything else goes as Original-Unicast-NPDU).
    pub async fn who_is(
        &mut self,
        target: SocketAddr,
        range: Option<(u32, u32)>,
        wait: Duration,
    ) -> Result<Vec<DeviceInfo>, BacnetClientError> {
        let who_is = self.core.who_is(target, range);
        let found = self.collect_i_ams(who_is, wait).await;
        self.core.end_discovery();
        found
    }

    async fn collect_i_ams(
        &mut self,
        who_is: Transmit,
        wait: Duration,
    ) -> Result<Vec<DeviceInfo>, BacnetClientError> {
        self.send(who_is).await?;
        let deadline = Instant::now() + wait;
        let mut found: Vec<DeviceInfo> = Vec::new();
        while let Ok(received) = timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await {
            let (len, from) = received?;
            let now_ms = self.now_ms();
            let datagram = self.buf.get(..len).unwrap_or(&[]);
            for event in self.core.handle(from, datagram, now_ms) {
                match event {
                    ClientEvent::Found(info) if !found.contains(&info) => {
                        tracing::debug!(instance = info.instance, address = %info.address, "BACnet device found");
                        found.push(info)
                    }
                    ClientEvent::Send(transmit) => self.send(transmit).await?,
                    _ => {}
                }
            }
        }
        Ok(found)
    }

    /// Who-Is to the broadcast address 255.255.255.255 on the configured port.
    pub async fn who_is_broadcast(
        &mut self,
        range: Option<(u32, u32)>,
        wait: Duration,
    ) -> Result<Vec<DeviceInfo>, BacnetClientError> {
        let target = SocketAddr::from(([255, 255, 255, 255], self.core.config().port));
        self.who_is(target, range, wait).await
    }

    /// Reads one property.
    pub async fn read_property(
        &mut self,
        device: &DeviceInfo,
        object: ObjectId,
        property: PropertyId,
        array_index: Option<u32>,
    ) -> Result<Vec<Value>, BacnetClientError> {
        let request = ReadPropertyRequest {
            object,
            property,
            array_index,
        };
        let body = self
            .confirmed(device, ReadPropertyRequest::SERVICE, &request.to_vec())
            .await?;
        let ack = ReadPropertyAck::parse(&body, 0)?;
        if ack.object != object || ack.property != property {
            return Err(BacnetClientError::Unexpected(
                "ReadProperty-ACK for another property",
            ));
        }
        Ok(ack.values)
    }

    /// Reads several properties of several objects in one ReadPropertyMultiple.
    pub async fn read_property_multiple(
        &mut self,
        device: &DeviceInfo,
        specs: Vec<ReadAccessSpec>,
    ) -> Result<Vec<ReadAccessResult>, BacnetClientError> {
        let body = self
            .confirmed(device, RpmRequest::SERVICE, &RpmRequest { specs }.to_vec())
            .await?;
        Ok(RpmAck::parse(&body, 0)?.results)
    }

    /// Reads the device's object-list: whole, or element by element when the device
    /// cannot send it in one answer.
    pub async fn read_object_list(
        &mut self,
        device: &DeviceInfo,
    ) -> Result<Vec<ObjectId>, BacnetClientError> {
        let device_id = ObjectId::new(ObjectType::Device, device.instance);
        let whole = self
            .read_property(device, device_id, PropertyId::ObjectList, None)
            .await;
        let values = match whole {
            Ok(values) => values,
            Err(BacnetClientError::Aborted(_) | BacnetClientError::Rejected(_)) => {
                self.read_object_list_by_index(device, device_id).await?
            }
            Err(other) => return Err(other),
        };
        values
            .into_iter()
            .map(|value| match value {
                Value::ObjectId(id) => Ok(id),
                _ => Err(BacnetClientError::Unexpected(
                    "object-list holds a non-identifier",
                )),
            })
            .collect()
    }

    async fn read_object_list_by_index(
        &mut self,
        device: &DeviceInfo,
        device_id: ObjectId,
    ) -> Result<Vec<Value>, BacnetClientError> {
        let count = match self
            .read_property(device, device_id, PropertyId::ObjectList, Some(0))
            .await?
            .first()
        {
            Some(Value::Unsigned(n)) => *n,
            _ => {
                return Err(BacnetClientError::Unexpected(
                    "object-list length is not unsigned",
                ))
            }
        };
        let mut values = Vec::new();
        // One index per request is 9 bytes of request and at most 16 of answer.
        let per_batch = (usize::try_from(device.max_apdu).unwrap_or(1476).min(1476) / 16).max(1);
        let indices: Vec<u32> = (1..=count.min(u64::from(u32::MAX)) as u32).collect();
        for batch in indices.chunks(per_batch) {
            let spec = ReadAccessSpec {
                object: device_id,
                properties: batch
                    .iter()
                    .map(|i| PropertyReference {
                        property: PropertyId::ObjectList,
                        array_index: Some(*i),
                    })
                    .collect(),
            };
            for result in self.read_property_multiple(device, vec![spec]).await? {
                for property in result.results {
                    let found = property.result.map_err(|e| BacnetClientError::Service {
                        class: e.class,
                        code: e.code,
                    })?;
                    values.extend(found);
                }
            }
        }
        Ok(values)
    }

    /// Reads the 96 `In-C-X`/`Out-C-X` values of an FFC device: object-list, then
    /// object-name and present-value of every object with ReadPropertyMultiple, batched to
    /// what the device accepts.
    pub async fn read_counts(
        &mut self,
        device: &DeviceInfo,
    ) -> Result<HourlySeries, BacnetClientError> {
        let objects: Vec<ObjectId> = self
            .read_object_list(device)
            .await?
            .into_iter()
            .filter(|id| id.object_type != ObjectType::Device)
            .collect();
        let mut seen = CountsSeen::default();
        for specs in count_batches(device, self.core.config(), &objects) {
            seen.add(self.read_property_multiple(device, specs).await?)?;
        }
        seen.finish(device.instance, current_hour())
    }

    /// Sends a confirmed request and returns the acknowledgement's service body
    /// (reassembled when segmented; empty for a SimpleACK).
    pub async fn confirmed(
        &mut self,
        device: &DeviceInfo,
        service: u8,
        body: &[u8],
    ) -> Result<Vec<u8>, BacnetClientError> {
        let now_ms = self.now_ms();
        let (invoke_id, request) = self.core.request(device, service, body, now_ms)?;
        let answer = self.run_until_answer(invoke_id, request).await;
        if answer.is_err() {
            // After a socket error the core still waits for this answer: stop it (a no-op
            // when the core itself ended the request).
            self.core.cancel(invoke_id);
        }
        answer
    }

    /// Sends `request`, then feeds the core datagrams and timer ticks until it answers
    /// `invoke_id`.
    async fn run_until_answer(
        &mut self,
        invoke_id: u8,
        request: Transmit,
    ) -> Result<Vec<u8>, BacnetClientError> {
        self.send(request).await?;
        loop {
            let wake = self
                .core
                .next_deadline()
                .map(|ms| self.started + Duration::from_millis(ms))
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let events = match timeout_at(wake, self.socket.recv_from(&mut self.buf)).await {
                Ok(received) => {
                    let (len, from) = received?;
                    let now_ms = self.now_ms();
                    let datagram = self.buf.get(..len).unwrap_or(&[]);
                    self.core.handle(from, datagram, now_ms)
                }
                Err(_elapsed) => {
                    let now_ms = self.now_ms();
                    self.core.on_timer(now_ms)
                }
            };
            for event in events {
                match event {
                    ClientEvent::Send(transmit) => self.send(transmit).await?,
                    ClientEvent::Answer {
                        invoke_id: id,
                        result,
                    } if id == invoke_id => return result,
                    _ => {}
                }
            }
        }
    }
}

fn current_hour() -> UnixSeconds {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now - now.rem_euclid(3600)
}
