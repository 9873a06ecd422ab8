//! Properties of the CLI's own parsing: `ffc decode`'s entry point never panics and always
//! answers lines or one error for any bytes of any kind; hex datagrams written in any
//! spacing decode like the bytes; the argument parsers never panic and accept what they print.
use ffc_core::Zone;
use ffc_examples::args;
use ffc_examples::decode::{decode, Kind};
use proptest::prelude::*;

const KINDS: [Kind; 6] = [
    Kind::ExportCsv,
    Kind::DeviceJson,
    Kind::DeviceXml,
    Kind::Bacnet,
    Kind::Ws,
    Kind::SalesCsv,
];

proptest! {
    #[test]
    fn decode_never_panics_and_reports_errors_as_one_json_object(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        kind in 0usize..6,
    ) {
        let kind = KINDS[kind];
        let out = decode(kind, &bytes, &Zone::UTC);
        if let Some(error) = &out.error {
            prop_assert_eq!(&error["kind"], kind.name());
            prop_assert!(error["error"].is_string());
        }
        for line in &out.lines {
            prop_assert_eq!(&line["kind"], kind.name());
        }
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
