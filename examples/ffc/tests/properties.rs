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

/// A visitor's event at counter 000000006afce315, line 1, `t` seconds after 2020-09-13.
fn event(id: u64, out: bool, t: i64, source: ffc_core::Source) -> ffc_core::CountEvent {
    ffc_core::CountEvent {
        serial: ffc_core::CameraSerial::from_u64(0x6afc_e315),
        roi: ffc_core::RoiId(1),
        metric: if out {
            ffc_core::Metric::Out
        } else {
            ffc_core::Metric::In
        },
        people_type: ffc_core::PeopleType::Visitor,
        people_id: ffc_core::PeopleId(id),
        start: 1_600_000_000 + t,
        end: 1_600_000_001 + t,
        offset: ffc_core::UtcOffset::UTC,
        uuid: None,
        source,
    }
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
            .map(|&(id, out, t)| event(id, out, t, ffc_core::Source::Mqtt))
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

    /// WebSocket messages decode the same however they are laid out: compact or pretty
    /// (across lines), one per line or several on a line, blank or `#` comment lines between;
    /// a bad message among them gives one error line and costs no other message.
    #[test]
    fn ws_messages_decode_in_any_layout_and_a_bad_one_costs_nothing_else(
        people in proptest::collection::vec((0u64..1_000_000, any::<bool>(), 0i64..1_000_000, any::<bool>()), 1..6),
        sep in prop_oneof![Just("\n"), Just(" "), Just("\n\n"), Just("\n# between } {\n")],
        bad_at in 0usize..6,
    ) {
        use ffc_protocols::ws::codec::encode_classic;
        let mut texts = Vec::new();
        let mut want = Vec::new();
        for &(id, out, t, pretty) in &people {
            let event = event(id, out, t, ffc_core::Source::WebSocket);
            let mut text = String::new();
            encode_classic(&event, &mut text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if pretty {
                let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
                text = serde_json::to_string_pretty(&v).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            texts.push(text);
            want.push(event.end);
        }
        let bad = bad_at % (texts.len() + 1);
        texts.insert(bad, r#"{"Topic": "ffc-eventrawdata", "Data": "not an object"}"#.to_owned());
        let out = decode(Kind::Ws, texts.join(sep).as_bytes(), &Zone::UTC);
        prop_assert!(out.error.is_some());
        prop_assert!(out.more_errors.is_empty(), "{:?}", out.more_errors);
        let got: Vec<i64> = out.lines.iter().map(|l| l["EventEndTime"].as_i64().unwrap_or(-1)).collect();
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
