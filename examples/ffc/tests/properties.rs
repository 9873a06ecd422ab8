//! Properties of the CLI's own parsing: `ffc decode`'s entry point never panics and always
//! answers lines or one error for any bytes of any kind; hex datagrams written in any
//! spacing decode like the bytes; the argument parsers never panic and accept what they print.
use ffc_cli::args;
use ffc_cli::decode::{decode, Kind};
use ffc_core::Zone;
use proptest::prelude::*;

fn kinds() -> &'static [Kind] {
    use clap::ValueEnum as _;
    Kind::value_variants()
}

proptest! {
    #[test]
    fn decode_never_panics_and_reports_errors_as_one_json_object(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        kind in 0usize..64,
    ) {
        let kind = kinds()[kind % kinds().len()];
        let out = decode(kind, &bytes, &Zone::UTC);
        if let Some(error) = &out.error {
            prop_assert_eq!(&error["kind"], kind.name());
            prop_assert!(error["error"].is_string());
        }
        for line in &out.lines {
            prop_assert_eq!(&line["kind"], kind.name());
        }
    }

    /// MQTT input splits into its payloads however they are laid out: one per line, on
    /// one line, with blank lines or `#` comment lines between.
    #[test]
    fn mqtt_payloads_split_in_any_layout(
        people in proptest::collection::vec((0u64..1_000_000, any::<bool>(), 0i64..1_000_000), 1..8),
        sep in prop_oneof![Just("\n"), Just(" "), Just("\n\n"), Just("\n# between } {\n"), Just("")],
    ) {
        use ffc_protocols::mqtt::codec::{encode, Message};
        let events: Vec<ffc_core::CountEvent> = people
            .iter()
            .map(|&(id, out, t)| ffc_core::CountEvent {
                serial: ffc_core::CameraSerial::from_u64(0x6afc_e315),
                roi: ffc_core::RoiId(1),
                metric: if out { ffc_core::Metric::Out } else { ffc_core::Metric::In },
                people_type: ffc_core::PeopleType::Visitor,
                people_id: ffc_core::PeopleId(id),
                start: 1_600_000_000 + t,
                end: 1_600_000_001 + t,
                offset: ffc_core::UtcOffset::UTC,
                uuid: None,
                source: ffc_core::Source::Mqtt,
            })
            .collect();
        let texts: Vec<String> = events
            .iter()
            .map(|e| {
                let mut t = String::new();
                encode(&Message::Count(*e), &mut t).map(|_| t)
            })
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let out = decode(Kind::Mqtt, texts.join(sep).as_bytes(), &Zone::UTC);
        prop_assert!(out.error.is_none(), "{:?}", out.error);
        let got: Vec<i64> = out.lines.iter().map(|l| l["EventEndTime"].as_i64().unwrap_or(-1)).collect();
        let want: Vec<i64> = events.iter().map(|e| e.end).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn hex_spacing_does_not_change_a_datagram(
        datagram in proptest::collection::vec(any::<u8>(), 1..64),
        sep in prop_oneof![Just(""), Just(" "), Just(":"), Just("  ")],
    ) {
        let plain: String = datagram.iter().map(|b| format!("{b:02x}")).collect();
        let spaced: Vec<String> = datagram.iter().map(|b| format!("{b:02X}")).collect();
        let a = decode(Kind::Bacnet, plain.as_bytes(), &Zone::UTC);
        let b = decode(Kind::Bacnet, spaced.join(sep).as_bytes(), &Zone::UTC);
        // The same datagram: the same decoded line, or an error at the same layer and byte.
        prop_assert_eq!(&a.lines, &b.lines);
        prop_assert_eq!(
            a.error.as_ref().map(|e| (e["error"].clone(), e["byte_offset"].clone())),
            b.error.as_ref().map(|e| (e["error"].clone(), e["byte_offset"].clone()))
        );
    }

    #[test]
    fn argument_parsers_never_panic(text in ".{0,24}") {
        let _ = args::parse_zone(&text);
        let _ = args::parse_resolution(&text);
        let _ = args::parse_local(&text);
        let _ = args::parse_time(&text);
    }

    #[test]
    fn offsets_and_resolutions_parse_what_they_mean(
        minutes in -14i32 * 60..=14 * 60,
        step in prop_oneof![Just(1u8), Just(5), Just(10), Just(15), Just(30), Just(60)],
    ) {
        let sign = if minutes < 0 { '-' } else { '+' };
        let text = format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60);
        let zone = args::parse_zone(&text).expect("offset");
        prop_assert_eq!(zone.offset_at(0).seconds(), minutes * 60);
        prop_assert_eq!(
            args::parse_resolution(&format!("{step}m")).expect("minutes"),
            ffc_core::Resolution::Minutes(step)
        );
        prop_assert_eq!(
            args::parse_resolution(&format!("{step}s")).expect("seconds"),
            ffc_core::Resolution::Seconds(step)
        );
    }
}
