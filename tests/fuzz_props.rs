//! Property tests of the parsers the fuzz targets (fuzz/) hammer, in the
//! normal suite, with round trips where a writer exists: keys files and
//! MACs, mode 6 messages, fragments and variable lists, POSIX TZ strings,
//! and ntp.conf association and trustedkey lines. (NTP packets are in
//! proto_props.rs, TZif files in tz_tzif.rs, random ntp.conf text in
//! config_props.rs.) PROPTEST_CASES sets how many cases each runs.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use ntpbox::auth::{Algorithm, Keyring, Verdict, KEY_ID_LEN, MAX_MAC_FIELD_LEN};
use ntpbox::config::auth::parse_keys;
use ntpbox::config::{parse_str, AssociationOptions, Diagnostics, Host, Target};
use ntpbox::proto::control::{fragments, ControlMessage, Reassembly, MAX_FRAGMENTS};
use ntpbox::proto::varlist::{self, VarListWriter};
use ntpbox::proto::{Digest, MacField};
use ntpbox::tz::posix::DateKind;
use ntpbox::tz::PosixTz;
use proptest::prelude::*;

/// Cases per property: `default`, or PROPTEST_CASES for a longer run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------
// Keys files and MACs.

/// One key as a generator makes it: what a keys file should give back.
#[derive(Clone, Debug)]
struct GenKey {
    id: u32,
    algorithm: Algorithm,
    /// How the type is spelled (any name of the algorithm, any case).
    type_word: String,
    secret: Vec<u8>,
    /// Written as hex (else as the characters themselves).
    hex: bool,
    comment: bool,
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    proptest::sample::select(Algorithm::ALL.to_vec())
}

/// Any spelling of the algorithm's names, in mixed case.
fn type_word(a: Algorithm) -> impl Strategy<Value = String> {
    let names: Vec<&'static str> = [
        "M",
        "MD5",
        "SHA1",
        "SHA-1",
        "SHA224",
        "SHA-224",
        "SHA256",
        "SHA-256",
        "SHA384",
        "SHA-384",
        "SHA512",
        "SHA-512",
        "AES128CMAC",
        "AES",
        "AES-128",
    ]
    .into_iter()
    .filter(|n| Algorithm::from_name(n) == Some(a))
    .collect();
    (proptest::sample::select(names), any::<u32>()).prop_map(|(name, case)| {
        name.chars()
            .enumerate()
            .map(|(i, c)| {
                if case >> (i % 32) & 1 == 1 {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect()
    })
}

/// A secret the keys file can say exactly: ASCII of 1 to 20 characters
/// (no blank, no `#`), or 11 to 32 bytes in hex; AES keys are 16 bytes.
fn secret(a: Algorithm) -> impl Strategy<Value = (Vec<u8>, bool)> {
    let ascii = "[!-\"$-~]{1,20}".prop_map(|s| (s.into_bytes(), false));
    let hex = proptest::collection::vec(any::<u8>(), 11..=32).prop_map(|b| (b, true));
    let cmac_ascii = "[!-\"$-~]{16}".prop_map(|s| (s.into_bytes(), false));
    let cmac_hex = proptest::collection::vec(any::<u8>(), 16).prop_map(|b| (b, true));
    if a == Algorithm::Aes128Cmac {
        prop_oneof![cmac_ascii, cmac_hex].boxed()
    } else {
        prop_oneof![ascii, hex].boxed()
    }
}

fn gen_key() -> impl Strategy<Value = GenKey> {
    (1u32..=65_535, algorithm(), any::<bool>()).prop_flat_map(|(id, algorithm, comment)| {
        (type_word(algorithm), secret(algorithm)).prop_map(move |(type_word, (secret, hex))| {
            GenKey {
                id,
                algorithm,
                type_word,
                secret,
                hex,
                comment,
            }
        })
    })
}

fn gen_keys() -> impl Strategy<Value = Vec<GenKey>> {
    proptest::collection::vec(gen_key(), 0..8).prop_map(|mut keys| {
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(k.id));
        keys
    })
}

/// The keys file for `keys`, with a comment line and blank lines between.
fn keys_text(keys: &[GenKey]) -> (String, Vec<usize>) {
    let mut text = String::from("# generated\n");
    let mut lines = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if i % 2 == 1 {
            text.push('\n');
        }
        let secret = if k.hex {
            k.secret.iter().map(|b| format!("{b:02x}")).collect()
        } else {
            String::from_utf8(k.secret.clone()).unwrap()
        };
        let comment = if k.comment { "\t# key" } else { "" };
        text.push_str(&format!("{} {} {secret}{comment}\n", k.id, k.type_word));
        lines.push(text.lines().count());
    }
    (text, lines)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn written_keys_files_read_back_exactly(keys in gen_keys()) {
        let (text, lines) = keys_text(&keys);
        let mut diags = Diagnostics::default();
        let parsed = parse_keys(text.as_bytes(), Path::new("k"), &mut diags);
        prop_assert!(diags.items.is_empty(), "{:?}", diags.items);
        prop_assert_eq!(parsed.len(), keys.len());
        for ((p, k), line) in parsed.iter().zip(&keys).zip(lines) {
            prop_assert_eq!(p.id, k.id);
            prop_assert_eq!(p.algorithm, k.algorithm);
            prop_assert_eq!(&p.secret, &k.secret);
            prop_assert_eq!(p.line, line);
            prop_assert!(p.access.is_empty());
        }
    }

    #[test]
    fn what_is_signed_verifies_and_no_flipped_bit_does(
        key in gen_key(),
        data in proptest::collection::vec(any::<u8>(), 0..200),
        bit in any::<usize>(),
    ) {
        let mut ring = Keyring::new();
        ring.insert(key.id, key.algorithm, &key.secret).unwrap();
        ring.trust(key.id);
        let mut field = [0u8; MAX_MAC_FIELD_LEN];
        let n = ring.sign_into(key.id, &data, &mut field).unwrap();
        prop_assert_eq!(n, KEY_ID_LEN + key.algorithm.mac_len());
        prop_assert_eq!(&field[..4], &key.id.to_be_bytes());
        let mac = &field[KEY_ID_LEN..n];
        prop_assert_eq!(ring.verify(&data, key.id, mac), Verdict::Authentic(key.id));
        // One bit flipped in the data or in the MAC.
        let total_bits = (data.len() + mac.len()) * 8;
        let at = bit % total_bits;
        let (mut data2, mut mac2) = (data.clone(), mac.to_vec());
        if at < data.len() * 8 {
            data2[at / 8] ^= 1 << (at % 8);
        } else {
            let at = at - data.len() * 8;
            mac2[at / 8] ^= 1 << (at % 8);
        }
        prop_assert_eq!(ring.verify(&data2, key.id, &mac2), Verdict::BadMac(key.id));
    }

    #[test]
    fn any_keys_file_gives_keys_that_fit_a_keyring(
        lines in proptest::collection::vec(
            prop_oneof![
                "[0-9]{1,6} [A-Za-z0-9-]{1,10} [!-~]{0,70}( [0-9a-f.:,/]{0,30})?",
                "[ -~\t]{0,60}",
            ],
            0..10,
        )
    ) {
        let text = lines.join("\n");
        let mut diags = Diagnostics::default();
        let keys = parse_keys(text.as_bytes(), Path::new("k"), &mut diags);
        let count = text.split('\n').count();
        for d in &diags.items {
            prop_assert!(d.line >= 1 && d.line <= count, "{}", d);
        }
        let ids: Vec<u32> = keys.iter().map(|k| k.id).collect();
        let ring = Keyring::from_config(&keys, &ids).unwrap();
        prop_assert_eq!(ring.len(), keys.len());
    }
}

// ---------------------------------------------------------------------------
// Mode 6.

/// Everything of a mode 6 message but its data (which it borrows).
#[derive(Clone, Debug)]
struct ControlFields {
    bits: (u8, u8, bool, bool, bool, u8),
    words: (u16, u16, u16, u16),
    mac: Option<(u32, Vec<u8>)>,
}

impl ControlFields {
    fn message<'a>(&self, data: &'a [u8]) -> ControlMessage<'a> {
        let (leap, version, response, error, more, opcode) = self.bits;
        ControlMessage {
            leap,
            version,
            response,
            error,
            more,
            opcode,
            sequence: self.words.0,
            status: self.words.1,
            association_id: self.words.2,
            offset: self.words.3,
            data,
            mac: self.mac.as_ref().map(|(key_id, d)| MacField::Mac {
                key_id: *key_id,
                digest: Digest::new(d).unwrap(),
            }),
        }
    }
}

fn control_fields() -> impl Strategy<Value = ControlFields> {
    (
        (
            0u8..4,
            1u8..=4,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            0u8..32,
        ),
        any::<(u16, u16, u16, u16)>(),
        prop_oneof![
            Just(None),
            (1u32.., proptest::collection::vec(any::<u8>(), 16)).prop_map(Some),
            (1u32.., proptest::collection::vec(any::<u8>(), 20)).prop_map(Some),
        ],
    )
        .prop_map(|(bits, words, mac)| ControlFields { bits, words, mac })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn control_messages_encode_then_decode_to_themselves(
        fields in control_fields(),
        data in proptest::collection::vec(any::<u8>(), 0..500),
    ) {
        let msg = fields.message(&data);
        let wire = msg.to_vec();
        prop_assert_eq!(wire.len(), msg.encoded_len());
        let decoded = ControlMessage::decode(&wire).unwrap();
        prop_assert_eq!(decoded, msg);
        // The MAC covers the header and the data padded to 8 bytes.
        if msg.mac.is_some() {
            prop_assert_eq!(msg.authenticated_len() % 8, 0);
        }
    }

    #[test]
    fn fragments_reassemble_in_any_order_with_duplicates(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        max in 1usize..500,
        order in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let pieces: Vec<(usize, &[u8], bool)> = fragments(&data, max).collect();
        prop_assert!(pieces.iter().all(|(_, c, _)| c.len() <= max));
        let deliveries = order.iter().map(|i| i % pieces.len()).chain((0..pieces.len()).rev());
        let mut r = Reassembly::new();
        let mut whole = None;
        for i in deliveries {
            let (offset, chunk, more) = pieces[i];
            let mut msg = ControlMessage::request(2, 7, 0, chunk);
            (msg.response, msg.more, msg.offset) = (true, more, offset as u16);
            let wire = msg.to_vec();
            match r.add(&ControlMessage::decode(&wire).unwrap()) {
                Ok(Some(got)) => {
                    whole = Some(got);
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    prop_assert!(pieces.len() > MAX_FRAGMENTS, "{} fragments: {}", pieces.len(), e);
                    return Ok(());
                }
            }
        }
        prop_assert_eq!(whole, Some(data));
    }

    #[test]
    fn variable_lists_read_back_what_was_written(
        items in proptest::collection::vec(
            (
                "[a-z][a-z0-9_.]{0,10}",
                prop_oneof![
                    Just(None),
                    "[A-Za-z0-9.:_+-]{1,16}".prop_map(|v| Some((v, false))),
                    "[ !#-~]{0,24}".prop_map(|v| Some((v, true))),
                ],
            ),
            0..30,
        )
    ) {
        let mut w = VarListWriter::new();
        for (name, value) in &items {
            match value {
                None => w.name(name),
                Some((v, false)) => w.raw(name, v),
                Some((v, true)) => w.quoted(name, v),
            };
        }
        let text = w.finish();
        prop_assert!(text.split("\r\n").all(|line| line.len() <= 72 || !line.contains(", ")));
        let vars = varlist::parse(text.as_bytes());
        prop_assert_eq!(vars.len(), items.len(), "{}", text);
        for (var, (name, value)) in vars.iter().zip(&items) {
            prop_assert_eq!(&var.name, name);
            match value {
                None => prop_assert_eq!(&var.value, &None),
                Some((v, quoted)) => {
                    prop_assert_eq!(var.value.as_deref(), Some(v.as_str()));
                    prop_assert_eq!(var.quoted, *quoted);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// POSIX TZ strings.

/// An abbreviation and how it is written: plain letters, or `<...>`.
fn tz_name() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        "[A-Za-z]{3,6}".prop_map(|n| (n.clone(), n)),
        "[+-][0-9]{2,4}|[A-Za-z0-9+-]{3,8}".prop_map(|n| (format!("<{n}>"), n)),
    ]
}

/// An offset as written (`5`, `-3:30`, `+10:00:15`) and its value in
/// seconds west of UT.
fn tz_offset() -> impl Strategy<Value = (String, i32)> {
    (
        prop_oneof![Just(""), Just("+"), Just("-")],
        0u16..=24,
        proptest::option::of((0u16..60, proptest::option::of(0u16..60))),
    )
        .prop_map(|(sign, h, rest)| {
            let mut text = format!("{sign}{h}");
            let mut secs = i32::from(h) * 3600;
            if let Some((m, s)) = rest {
                text.push_str(&format!(":{m:02}"));
                secs += i32::from(m) * 60;
                if let Some(s) = s {
                    text.push_str(&format!(":{s:02}"));
                    secs += i32::from(s);
                }
            }
            (text, if sign == "-" { -secs } else { secs })
        })
}

/// A rule date as written, and (kind, m, n, d).
fn tz_date() -> impl Strategy<Value = (String, (DateKind, u16, u16, u16))> {
    prop_oneof![
        (1u16..=12, 1u16..=5, 0u16..=6)
            .prop_map(|(m, n, d)| (format!("M{m}.{n}.{d}"), (DateKind::MonthWeekDay, m, n, d))),
        (1u16..=365).prop_map(|d| (format!("J{d}"), (DateKind::JulianDay, 0, 0, d))),
        (0u16..=365).prop_map(|d| (format!("{d}"), (DateKind::ZeroBasedDay, 0, 0, d))),
    ]
}

/// A switch time as written (absent: 02:00) and its seconds.
fn tz_time() -> impl Strategy<Value = (String, i32)> {
    prop_oneof![
        Just((String::new(), 7200)),
        (any::<bool>(), 0u16..=167, 0u16..60, 0u16..60).prop_map(|(neg, h, m, s)| {
            let secs = i32::from(h) * 3600 + i32::from(m) * 60 + i32::from(s);
            let sign = if neg { "-" } else { "" };
            (
                format!("/{sign}{h}:{m:02}:{s:02}"),
                if neg { -secs } else { secs },
            )
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(500)))]

    #[test]
    fn tz_strings_read_back_their_parts(
        std_name in tz_name(),
        std_offset in tz_offset(),
        dst in proptest::option::of((
            tz_name(),
            proptest::option::of(tz_offset()),
            (tz_date(), tz_time(), tz_date(), tz_time()),
        )),
    ) {
        let mut text = format!("{}{}", std_name.0, std_offset.0);
        if let Some((name, offset, ((d0, _), (t0, _), (d1, _), (t1, _)))) = &dst {
            text.push_str(&name.0);
            if let Some((o, _)) = offset {
                text.push_str(o);
            }
            text.push_str(&format!(",{d0}{t0},{d1}{t1}"));
        }
        let tz = PosixTz::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert!(tz.complete);
        let std = &tz.rules[0];
        prop_assert_eq!(&std.name, &std_name.1.as_bytes().to_vec(), "{}", text);
        prop_assert_eq!(std.offset, -std_offset.1, "{}", text);
        match dst {
            None => {
                prop_assert!(!tz.has_dst(), "{}", text);
                prop_assert_eq!(tz.rules[1].offset, std.offset);
            }
            Some((name, offset, ((_, start), (_, start_secs), (_, end), (_, end_secs)))) => {
                let d = &tz.rules[1];
                prop_assert_eq!(&d.name, &name.1.as_bytes().to_vec(), "{}", text);
                let expected = offset.map_or(std.offset + 3600, |(_, west)| -west);
                prop_assert_eq!(d.offset, expected, "{}", text);
                for (rule, (kind, m, n, day), secs) in
                    [(&tz.rules[0], start, start_secs), (&tz.rules[1], end, end_secs)]
                {
                    prop_assert_eq!(rule.kind, kind, "{}", text);
                    if kind == DateKind::MonthWeekDay {
                        prop_assert_eq!((rule.m, rule.n), (m, n), "{}", text);
                    }
                    prop_assert_eq!(rule.d, day, "{}", text);
                    prop_assert_eq!(rule.secs, secs, "{}", text);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ntp.conf lines.

fn options() -> impl Strategy<Value = AssociationOptions> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (3u8..=17, 0u8..=14),
        (any::<bool>(), any::<bool>()),
        proptest::option::of(1u32..=65_535),
        proptest::option::of(1u8..=4),
    )
        .prop_map(
            |(
                (prefer, iburst, burst, noselect),
                (min, spread),
                (has_min, has_max),
                key,
                version,
            )| {
                AssociationOptions {
                    prefer,
                    iburst,
                    burst,
                    noselect,
                    minpoll: has_min.then_some(min),
                    maxpoll: has_max.then_some((min + spread).min(17)),
                    key,
                    version,
                    ..AssociationOptions::default()
                }
            },
        )
}

fn option_words(o: &AssociationOptions) -> Vec<String> {
    let mut w = Vec::new();
    for (set, word) in [
        (o.prefer, "prefer"),
        (o.iburst, "iburst"),
        (o.burst, "burst"),
        (o.noselect, "noselect"),
    ] {
        if set {
            w.push(word.to_string());
        }
    }
    for (value, word) in [
        (o.minpoll.map(u32::from), "minpoll"),
        (o.maxpoll.map(u32::from), "maxpoll"),
        (o.key, "key"),
        (o.version.map(u32::from), "version"),
    ] {
        if let Some(v) = value {
            w.push(format!("{word} {v}"));
        }
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn server_lines_read_back_their_options(
        servers in proptest::collection::vec((any::<[u8; 4]>(), proptest::option::of(1u16..), options()), 1..6),
        rotation in any::<usize>(),
    ) {
        let mut text = String::new();
        for (ip, port, o) in &servers {
            let ip = Ipv4Addr::from(*ip);
            let host = match port {
                Some(p) => format!("{ip}:{p}"),
                None => ip.to_string(),
            };
            let mut words = option_words(o);
            if !words.is_empty() {
                let n = rotation % words.len();
                words.rotate_left(n);
            }
            text.push_str(&format!("server {host} {}\n", words.join(" ")));
        }
        let loaded = parse_str(&text, Path::new("ntp.conf"));
        // 127.127.x.y is a reference clock, not a network server.
        let networked: Vec<_> = servers.iter().filter(|(ip, _, _)| ip[..2] != [127, 127]).collect();
        let errors: Vec<String> = loaded.diagnostics.errors().map(ToString::to_string).collect();
        if networked.len() != servers.len() {
            return Ok(());
        }
        prop_assert!(errors.is_empty(), "{:?}\n{}", errors, text);
        let got: Vec<_> = loaded.config.network_sources().collect();
        prop_assert_eq!(got.len(), servers.len());
        for (a, (ip, port, o)) in got.iter().zip(&servers) {
            let expected = Target::Network {
                host: Host::Ip(IpAddr::V4(Ipv4Addr::from(*ip))),
                port: *port,
                family: None,
            };
            prop_assert_eq!(&a.target, &expected);
            prop_assert_eq!(&a.options, o, "{}", text);
        }
    }

    #[test]
    fn trustedkey_lists_and_ranges_read_back(
        items in proptest::collection::vec(
            prop_oneof![
                (1u32..=65_535).prop_map(|k| (k, k)),
                (1u32..=65_000, 0u32..20).prop_map(|(k, n)| (k, k + n)),
            ],
            1..8,
        ),
    ) {
        let words: Vec<String> = items
            .iter()
            .map(|&(a, b)| if a == b { a.to_string() } else { format!("({a} ... {b})") })
            .collect();
        let text = format!("trustedkey {}\n", words.join(" "));
        let loaded = parse_str(&text, Path::new("ntp.conf"));
        prop_assert!(loaded.diagnostics.items.is_empty(), "{:?}", loaded.diagnostics.items);
        let expected: Vec<u32> = items.iter().flat_map(|&(a, b)| a..=b).collect();
        prop_assert_eq!(loaded.config.trusted_keys, expected);
    }
}

// ---------------------------------------------------------------------------
// Regressions found by the properties above.

/// Found by `control_messages_encode_then_decode_to_themselves`: when the
/// data ends 4 bytes past an 8-byte boundary, a 16-byte MAC (MD5,
/// AES-CMAC) after the 8-byte padding was read as a 20-byte one starting
/// in the padding, with key ID 0. ntpq signs `ifstats` exactly so.
#[test]
fn an_md5_signed_mode6_request_keeps_its_key_id() {
    let mut ring = Keyring::new();
    ring.insert(1, Algorithm::Md5, b"ntpbox-md5-key").unwrap();
    ring.trust(1);
    // 12-byte header + "ifstats" = 19 bytes, padded to 24, then the MAC.
    let mut wire = ControlMessage::request(11, 1, 0, b"ifstats").to_vec();
    wire.resize(24, 0);
    let covered = wire.clone();
    ring.sign(1, &covered, &mut wire).unwrap();
    assert_eq!(wire.len(), 44);
    let msg = ControlMessage::decode(&wire).unwrap();
    assert_eq!(msg.data, b"ifstats");
    let Some(MacField::Mac { key_id, digest }) = msg.mac else {
        panic!("no MAC in {msg:?}");
    };
    assert_eq!(key_id, 1);
    assert_eq!(msg.authenticated_len(), 24);
    assert_eq!(
        ring.verify(&wire[..msg.authenticated_len()], key_id, digest.as_bytes()),
        Verdict::Authentic(1)
    );
}
