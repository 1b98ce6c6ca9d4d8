//! The TZif reader: real zone files, crafted files of every version,
//! round trips through the writer, and malformed input (which must give a
//! typed error, never a panic).

use ntpbox::tz::tzif::{self, LeapSecond, LocalTimeType, TzifData};
use ntpbox::tz::tzif_write::encode;
use ntpbox::tz::TzifError;
use proptest::prelude::*;

const ZONEINFO: &str = "/usr/share/zoneinfo";

fn ttype(utoff: i32, isdst: bool, abbr_index: u8) -> LocalTimeType {
    LocalTimeType {
        utoff,
        isdst,
        abbr_index,
        is_std: false,
        is_ut: false,
    }
}

/// A small zone: LMT, then CET/CEST switching twice.
fn sample(version: u8) -> TzifData {
    TzifData {
        version,
        transitions: vec![-1_830_383_032, 1_711_846_800, 1_729_990_800],
        transition_types: vec![1, 2, 1],
        types: vec![
            ttype(3208, false, 0),
            ttype(3600, false, 4),
            ttype(7200, true, 8),
        ],
        abbreviation_chars: b"LMT\0CET\0CEST\0".to_vec(),
        leap_seconds: vec![],
        footer: (version != 0).then(|| b"CET-1CEST,M3.5.0,M10.5.0/3".to_vec()),
    }
}

#[test]
fn reads_every_version() {
    for version in [0, b'2', b'3', b'4'] {
        let data = sample(version);
        let parsed = tzif::parse(&encode(&data)).unwrap();
        assert_eq!(parsed, data, "version {version}");
        assert_eq!(parsed.abbreviation(2), b"CEST");
    }
}

#[test]
fn version_1_reads_only_32_bit_data() {
    let mut data = sample(0);
    data.transitions[0] = -(1 << 40);
    let parsed = tzif::parse(&encode(&data)).unwrap();
    assert_eq!(parsed.transitions, vec![1_711_846_800, 1_729_990_800]);
    assert_eq!(parsed.footer, None);
}

#[test]
fn version_2_uses_64_bit_data() {
    let mut data = sample(b'2');
    data.transitions[0] = -(1 << 40);
    assert_eq!(tzif::parse(&encode(&data)).unwrap(), data);
}

#[test]
fn leap_seconds_and_v4_truncation_and_expiry() {
    let mut data = sample(b'4');
    // Truncated start: the first record already has a correction of 27;
    // the last one repeats it to mark the expiry of the table.
    data.leap_seconds = vec![
        LeapSecond {
            occurrence: 1_483_228_826,
            correction: 27,
        },
        LeapSecond {
            occurrence: 1_719_792_027,
            correction: 27,
        },
    ];
    assert_eq!(tzif::parse(&encode(&data)).unwrap(), data);
}

#[test]
fn v3_footer_with_extensions_is_kept() {
    let mut data = sample(b'3');
    data.footer = Some(b"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1".to_vec());
    assert_eq!(tzif::parse(&encode(&data)).unwrap(), data);
    data.footer = Some(b"EST5EDT,0/0,J365/25".to_vec());
    assert_eq!(tzif::parse(&encode(&data)).unwrap(), data);
}

#[test]
fn real_zone_files_parse() {
    let Ok(bytes) = std::fs::read(format!("{ZONEINFO}/America/New_York")) else {
        return ntpbox_skip("zone file America/New_York");
    };
    let data = tzif::parse(&bytes).unwrap();
    assert!(data.version >= b'2');
    assert_eq!(data.footer.as_deref(), Some(&b"EST5EDT,M3.2.0,M11.1.0"[..]));
    assert!(data.transitions.windows(2).all(|w| w[0] < w[1]));
    let right = tzif::parse(&std::fs::read(format!("{ZONEINFO}/right/UTC")).unwrap()).unwrap();
    assert!(right.leap_seconds.len() >= 27);
    assert_eq!(right.leap_seconds[0].correction, 1);
}

fn ntpbox_skip(what: &str) {
    if std::env::var_os("NTPBOX_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("{what} is missing, and NTPBOX_REQUIRE_ALL=1 requires it");
    }
    eprintln!("SKIPPED: {what} is missing");
}

#[test]
fn malformed_files_give_typed_errors() {
    let good = encode(&sample(b'2'));
    assert_eq!(tzif::parse(b""), Err(TzifError::Truncated("header")));
    let mut bad_magic = good.clone();
    bad_magic[2] = b'j';
    assert_eq!(tzif::parse(&bad_magic), Err(TzifError::BadMagic));
    assert!(matches!(
        tzif::parse(&good[..good.len() / 2]),
        Err(TzifError::Truncated(_))
    ));
    // A footer cut short is read as far as it goes, as glibc reads it.
    let cut = tzif::parse(&good[..good.len() - 3]).unwrap();
    assert_eq!(cut.footer.as_deref(), Some(&b"CET-1CEST,M3.5.0,M10.5."[..]));

    let mut bad_type = sample(0);
    bad_type.transition_types[1] = 7;
    assert_eq!(
        tzif::parse(&encode(&bad_type)),
        Err(TzifError::BadTypeIndex {
            transition: 1,
            index: 7
        })
    );

    let mut bytes = encode(&sample(0));
    // The isdst byte of type 0 follows the 44-byte header, 3 times and 3 type indices.
    let isdst_at = 44 + 3 * 4 + 3 + 4;
    bytes[isdst_at] = 2;
    assert_eq!(
        tzif::parse(&bytes),
        Err(TzifError::BadIsdst {
            local_type: 0,
            value: 2
        })
    );

    let mut all_dst = sample(0);
    all_dst.transition_types = vec![2, 2, 2];
    assert_eq!(
        tzif::parse(&encode(&all_dst)),
        Err(TzifError::NoStandardType)
    );

    let mut negative = encode(&sample(0));
    negative[36..40].copy_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(tzif::parse(&negative), Err(TzifError::BadCount("type")));
}

/// Strategy: a valid TZif data set of any version.
fn arb_tzif() -> impl Strategy<Value = TzifData> {
    let version = prop_oneof![Just(0u8), Just(b'2'), Just(b'3'), Just(b'4')];
    (version, 1usize..6, 0usize..20, 0usize..4).prop_flat_map(
        |(version, ntypes, ntrans, nleaps)| {
            let time = if version == 0 {
                (i64::from(i32::MIN)..=i64::from(i32::MAX)).boxed()
            } else {
                any::<i64>().boxed()
            };
            (
                Just(version),
                proptest::collection::vec(time.clone(), ntrans),
                proptest::collection::vec(0..ntypes as u8, ntrans),
                proptest::collection::vec(
                    (
                        any::<i32>(),
                        any::<bool>(),
                        0u8..12,
                        any::<bool>(),
                        any::<bool>(),
                    ),
                    ntypes,
                ),
                proptest::collection::vec((time, any::<i32>()), nleaps),
                proptest::option::of("[A-Z]{3,6}[0-9]"),
            )
                .prop_map(
                    |(version, mut transitions, mut ttypes, types, leaps, footer)| {
                        transitions.sort_unstable();
                        let types: Vec<LocalTimeType> = types
                            .into_iter()
                            .enumerate()
                            .map(|(i, (utoff, isdst, abbr, is_std, is_ut))| LocalTimeType {
                                utoff,
                                isdst: isdst && i != 0,
                                abbr_index: abbr,
                                is_std,
                                is_ut,
                            })
                            .collect();
                        // glibc refuses several types without a standard transition.
                        if types.len() > 1 && !ttypes.is_empty() {
                            ttypes[0] = 0;
                        }
                        let (transitions, ttypes) = if types.len() > 1 && ttypes.is_empty() {
                            (vec![0], vec![0])
                        } else {
                            (transitions, ttypes)
                        };
                        TzifData {
                            version,
                            transitions,
                            transition_types: ttypes,
                            types,
                            abbreviation_chars: b"LMT\0STD\0DST\0".to_vec(),
                            leap_seconds: leaps
                                .into_iter()
                                .map(|(occurrence, correction)| LeapSecond {
                                    occurrence,
                                    correction,
                                })
                                .collect(),
                            footer: if version == 0 {
                                None
                            } else {
                                footer.map(String::into_bytes)
                            },
                        }
                    },
                )
        },
    )
}

/// Cases per property: 512, or PROPTEST_CASES for a longer fuzzing run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn write_then_read_round_trips(data in arb_tzif()) {
        prop_assert_eq!(tzif::parse(&encode(&data)).unwrap(), data);
    }

    /// Fuzzing: arbitrary bytes never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = tzif::parse(&bytes);
        let mut with_magic = b"TZif2".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = tzif::parse(&with_magic);
    }

    /// Fuzzing: a valid file with bytes changed, cut or extended never
    /// panics, and whatever parses can be used for conversions.
    #[test]
    fn mutated_files_never_panic(
        data in arb_tzif(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        t in any::<i64>(),
    ) {
        let mut bytes = encode(&data);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        for candidate in [&bytes[..], &bytes[..keep]] {
            if let Ok(parsed) = tzif::parse(candidate) {
                let zone = ntpbox::tz::Zone::from_tzif(parsed);
                let _ = zone.localtime(t);
                let _ = zone.gmtime(t);
                let _ = zone.next_change_after(t);
            }
        }
    }
}
