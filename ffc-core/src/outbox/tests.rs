use super::*;
use crate::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::vec::Vec;

#[test]
fn delivers_in_order_with_stop_and_wait() {
    let mut o: Outbox<u8, 4> = Outbox::with_resend_timeout(5);
    assert_eq!(o.next_to_send(0), None);
    for i in 0..3 {
        o.push(i).unwrap();
    }
    assert_eq!(o.next_to_send(0), Some(&0));
    o.mark_sent(0);
    assert_eq!(o.next_to_send(4), None, "answer still awaited");
    assert_eq!(o.in_flight_since(), Some(0));
    assert_eq!(
        o.next_to_send(5),
        Some(&0),
        "timed out: resend the same item"
    );
    o.mark_sent(5);
    assert_eq!(o.ack(), Some(0));
    assert_eq!(o.ack(), None, "a stray OK removes nothing");
    assert_eq!(o.len(), 2);
    assert_eq!(o.next_to_send(6), Some(&1));
    o.mark_sent(6);
    o.on_reconnect();
    assert_eq!(
        o.next_to_send(6),
        Some(&1),
        "reconnect makes it due at once"
    );
    assert_eq!(o.iter().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(o.iter().rev().copied().collect::<Vec<_>>(), [2, 1]);
    assert_eq!(o.iter().len(), 2);
}

#[test]
fn overflow_disables_keeps_everything_and_enable_resumes_in_order() {
    let mut o: Outbox<u32, 3> = Outbox::new();
    assert_eq!(o.capacity(), 3);
    for i in 0..3 {
        o.push(i).unwrap();
    }
    assert!(o.is_full());
    let r = o.push(3).unwrap_err();
    assert_eq!(
        r,
        Rejected {
            item: 3,
            reason: RejectReason::Overflow
        }
    );
    assert_eq!(o.state(), OutboxState::Disabled);
    assert_eq!(o.overflows(), 1);
    let r = o.push(4).unwrap_err();
    assert_eq!(r.reason, RejectReason::Disabled);
    assert_eq!(r.into_inner(), 4);
    assert_eq!(o.next_to_send(1_000), None, "turned off: nothing offered");
    assert_eq!(o.iter().copied().collect::<Vec<_>>(), [0, 1, 2]);
    o.enable();
    assert_eq!(o.state(), OutboxState::Enabled);
    let mut delivered = Vec::new();
    let mut now = 0;
    while let Some(&item) = o.next_to_send(now) {
        o.mark_sent(now);
        delivered.push(item);
        assert_eq!(o.ack(), Some(item));
        now += 1;
    }
    assert_eq!(delivered, [0, 1, 2]);
    assert!(o.is_empty());
    o.push(9).unwrap();
}

#[test]
fn ack_while_disabled_answers_the_send_made_before() {
    let mut o: Outbox<u8, 1> = Outbox::new();
    o.push(1).unwrap();
    assert_eq!(o.next_to_send(0), Some(&1));
    o.mark_sent(0);
    assert!(o.push(2).is_err());
    assert_eq!(o.ack(), Some(1));
    assert_eq!(
        o.state(),
        OutboxState::Disabled,
        "only enable() turns it back on"
    );
}

#[test]
fn rejected_displays_what_to_do() {
    let r = Rejected {
        item: (),
        reason: RejectReason::Overflow,
    };
    assert!(r.to_string().contains("enable"));
    let r = Rejected {
        item: (),
        reason: RejectReason::Disabled,
    };
    assert!(r.to_string().contains("enable"));
}

#[test]
fn default_capacity_holds_count_events_in_a_static() {
    static OUTBOX: Outbox<CountEvent, DEFAULT_CAPACITY> = Outbox::new();
    assert_eq!(OUTBOX.capacity(), DEFAULT_CAPACITY);
    // Documented size: 10,000 slots of one event each, plus a few words.
    let size = core::mem::size_of::<Outbox<CountEvent, DEFAULT_CAPACITY>>();
    let slot = core::mem::size_of::<Option<CountEvent>>();
    assert_eq!(
        slot,
        core::mem::size_of::<CountEvent>(),
        "the Option is free"
    );
    assert!(
        size >= 10_000 * slot && size <= 10_000 * slot + 64,
        "{size}"
    );
    let mut boxed: std::boxed::Box<Outbox<CountEvent, 16>> = std::boxed::Box::default();
    let e = CountEvent {
        serial: CameraSerial::from_u64(1),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(7),
        start: 10,
        end: 11,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::Counting,
    };
    boxed.push(e).unwrap();
    assert_eq!(boxed.front(), Some(&e));
}

#[derive(Debug, Clone)]
enum Op {
    Push,
    Send,
    Ack,
    Reconnect,
    Enable,
    Wait(u8),
    Drain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Push),
        3 => Just(Op::Send),
        3 => Just(Op::Ack),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Enable),
        2 => (0u8..20).prop_map(Op::Wait),
        1 => Just(Op::Drain),
    ]
}

/// The outbox beside a plain model of what it must hold, stepped through the same ops.
struct Checked<const N: usize> {
    o: Outbox<u32, N>,
    model: VecDeque<u32>,
    enabled: bool,
    in_flight: Option<i64>,
    next_id: u32,
    now: i64,
    acked: Vec<u32>,
    accepted: Vec<u32>,
}

impl<const N: usize> Checked<N> {
    fn new() -> Self {
        Checked {
            o: Outbox::with_resend_timeout(7),
            model: VecDeque::new(),
            enabled: true,
            in_flight: None,
            next_id: 0,
            now: 0,
            acked: Vec::new(),
            accepted: Vec::new(),
        }
    }

    fn push(&mut self) -> Result<(), TestCaseError> {
        let id = self.next_id;
        self.next_id += 1;
        match self.o.push(id) {
            Ok(()) => {
                prop_assert!(self.enabled && self.model.len() < N);
                self.model.push_back(id);
                self.accepted.push(id);
            }
            Err(r) => {
                prop_assert_eq!(r.item, id, "a refused push hands the item back");
                if self.enabled {
                    prop_assert_eq!(r.reason, RejectReason::Overflow);
                    prop_assert_eq!(self.model.len(), N, "holds exactly N before it disables");
                    self.enabled = false;
                } else {
                    prop_assert_eq!(r.reason, RejectReason::Disabled);
                }
            }
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), TestCaseError> {
        let now = self.now;
        let due =
            self.enabled && !self.model.is_empty() && self.in_flight.is_none_or(|t| now - t >= 7);
        let offered = self.o.next_to_send(now).copied();
        prop_assert_eq!(
            offered,
            if due {
                self.model.front().copied()
            } else {
                None
            }
        );
        if offered.is_some() {
            self.o.mark_sent(now);
            self.in_flight = Some(now);
        }
        Ok(())
    }

    fn ack(&mut self) -> Result<(), TestCaseError> {
        let got = self.o.ack();
        if self.in_flight.take().is_some() {
            let expect = self.model.pop_front();
            prop_assert_eq!(got, expect);
            self.acked.extend(got);
        } else {
            prop_assert_eq!(got, None);
        }
        Ok(())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Push => self.push()?,
            Op::Send => self.send()?,
            Op::Ack => self.ack()?,
            Op::Reconnect => {
                self.o.on_reconnect();
                self.in_flight = None;
            }
            Op::Enable => {
                self.o.enable();
                self.enabled = true;
                self.in_flight = None;
            }
            Op::Wait(s) => self.now += i64::from(*s),
            Op::Drain => {
                let got = self.o.pop_front();
                prop_assert_eq!(got, self.model.pop_front());
                self.acked.extend(got);
                self.in_flight = None;
            }
        }
        Ok(())
    }

    fn invariants(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.o.state() == OutboxState::Enabled, self.enabled);
        prop_assert_eq!(self.o.len(), self.model.len());
        prop_assert!(self.o.len() <= N);
        prop_assert!(
            self.o.iter().copied().eq(self.model.iter().copied()),
            "no loss, duplicate or reorder"
        );
        Ok(())
    }
}

fn check<const N: usize>(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut c = Checked::<N>::new();
    for op in ops {
        c.step(op)?;
        c.invariants()?;
    }
    // Everything accepted was either delivered (in order) or is still held (in order).
    let mut all = c.acked.clone();
    all.extend(c.o.iter().copied());
    prop_assert_eq!(all, c.accepted);
    Ok(())
}

proptest! {
    #[test]
    fn outbox_matches_a_fifo_model_n1(ops in proptest::collection::vec(op(), 0..60)) {
        check::<1>(&ops)?;
    }
    #[test]
    fn outbox_matches_a_fifo_model_n3(ops in proptest::collection::vec(op(), 0..200)) {
        check::<3>(&ops)?;
    }
    #[test]
    fn outbox_matches_a_fifo_model_n16(ops in proptest::collection::vec(op(), 0..400)) {
        check::<16>(&ops)?;
    }
}
