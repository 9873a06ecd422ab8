//! The firmware's scenario on the host: prints the same line the firmware prints over
//! semihosting, so scripts/firmware.sh can compare the two.
use std::process::ExitCode;

use ffc_firmware_scenario::{run, EventOutbox};

fn main() -> ExitCode {
    let mut outbox = Box::new(EventOutbox::new());
    match run(&mut outbox) {
        Ok(summary) if summary.refused == 0 => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Ok(summary) => {
            eprintln!("{summary}: the outbox refused {} events", summary.refused);
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("scenario: {error}");
            ExitCode::FAILURE
        }
    }
}
