//! A bare-metal firmware on ffc-core: runs the counting algorithm on the fixed scenario of
//! `ffc-firmware-scenario`, keeps the events in a `static` outbox of the counters' capacity
//! (10,000 events, in `.bss`: a new outbox is all zero bytes), and prints
//! `in=<n> out=<n> uturns=<n> checksum=<hex>` over semihosting before exiting QEMU.
//!
//! Built and run by `scripts/firmware.sh` on QEMU's `mps2-an386` (Cortex-M4F).
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use critical_section::Mutex;
use ffc_firmware_scenario::{run, EventOutbox};
use panic_semihosting as _;

/// The push queue: 10,000 events waiting for the server, zero-initialised (`.bss`).
static OUTBOX: Mutex<RefCell<EventOutbox>> = Mutex::new(RefCell::new(EventOutbox::new()));

#[entry]
fn main() -> ! {
    let result = critical_section::with(|cs| run(&mut OUTBOX.borrow_ref_mut(cs)));
    match result {
        Ok(summary) if summary.refused == 0 => {
            hprintln!("{}", summary);
            debug::exit(debug::EXIT_SUCCESS);
        }
        Ok(summary) => {
            hprintln!(
                "{} (the outbox refused {} events)",
                summary,
                summary.refused
            );
            debug::exit(debug::EXIT_FAILURE);
        }
        Err(error) => {
            hprintln!("scenario: {}", error);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}
