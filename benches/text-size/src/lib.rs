//! Exported entry points that pull ffc-core's allocator-free aggregation into the image.
#![no_std]
// `#[no_mangle]` counts as unsafe code; it is the only reason this crate allows it.

use ffc_core::aggregate::{Binner, CountCells};
use ffc_core::dedupe::DedupeWindow;
use ffc_core::{CountEvent, Resolution, UtcOffset, Zone};

/// Bins one event into an hourly day of cells, skipping duplicates.
#[no_mangle]
pub extern "C" fn ffc_bin_event(
    cells: &mut [CountCells; 48],
    seen: &mut DedupeWindow<64>,
    event: &CountEvent,
    day_start: i64,
    offset_seconds: i32,
) -> bool {
    let zone = Zone::Fixed(UtcOffset::from_seconds(offset_seconds).unwrap_or(UtcOffset::UTC));
    if !seen.insert(event.key()) {
        return false;
    }
    match Binner::new(Resolution::Hour, zone, day_start) {
        Ok(mut binner) => binner.bin_event(cells, event).is_ok(),
        Err(_) => false,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
