//! Property tests of the parsers with an inverse: what a value prints as
//! (or is written as in a file) reads back as the same value.

use proptest::prelude::*;

use super::model::{Bind, Port, PortRange, Protocol, RestartPolicy};
use super::reader::Reader;
use super::yaml::{self, Node, Value};
use super::{options, ports, volumes};

/// The value of `v:` in `v: {text}`.
fn node(text: &str) -> Node {
    let root = yaml::parse(&format!("v: {text}\n")).expect("valid YAML");
    let Value::Map(mut entries) = root.value else {
        panic!("not a mapping")
    };
    entries.remove(0).1
}

fn port_range() -> impl Strategy<Value = PortRange> {
    (1u16..=65535, 0u16..200).prop_map(|(start, len)| PortRange {
        start,
        end: start.saturating_add(len),
    })
}

/// Any valid port: ranges of equal size on both sides.
fn any_port() -> impl Strategy<Value = Port> {
    (
        port_range(),
        1u16..=65535,
        prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp)],
        prop_oneof![
            Just("0.0.0.0".to_string()),
            "(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})){3}",
            Just("::1".to_string()),
        ],
    )
        .prop_map(|(exposed, start, protocol, host_ip)| {
            let len = exposed.end - exposed.start;
            let start = start.min(65535 - len);
            Port {
                exposed,
                external: PortRange {
                    start,
                    end: start + len,
                },
                protocol,
                host_ip,
            }
        })
}

fn read_port(text: &str) -> Option<Port> {
    let mut r = Reader::default();
    let p = ports::parse_port(&mut r, &node(text), "ports.p");
    assert_eq!(p.is_none(), !r.errors.is_empty());
    p
}

/// The string form: `exposed[/proto]:external[/proto]` (host ip 0.0.0.0).
fn port_string(p: &Port) -> String {
    format!(
        "\"{}/{proto}:{}/{proto}\"",
        p.exposed,
        p.external,
        proto = p.protocol.as_str()
    )
}

/// Shell quoting: every argument in single quotes.
fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn a_printed_port_spec_parses_to_the_same_port(mut p in any_port()) {
        // The mapping form carries the host address.
        prop_assert_eq!(crate::fuzzing::port_round_trip(&p), Some(p.clone()));
        // The string form binds every address.
        p.host_ip = "0.0.0.0".into();
        prop_assert_eq!(read_port(&port_string(&p)), Some(p.clone()));
        // TCP is the default protocol; one number is both sides.
        if p.protocol == Protocol::Tcp {
            prop_assert_eq!(read_port(&format!("\"{}:{}\"", p.exposed, p.external)), Some(p.clone()));
        }
        if p.exposed == p.external && !p.exposed.is_range() {
            prop_assert_eq!(read_port(&p.exposed.start.to_string()), Some(Port { protocol: Protocol::Tcp, ..p.clone() }));
        }
    }

    #[test]
    fn a_port_spec_of_any_text_is_a_port_or_an_error(text in "[0-9:/a-z-]{0,20}") {
        let quoted = serde_json::to_string(&text).unwrap();
        if let Some(p) = read_port(&quoted) {
            prop_assert!(p.exposed.start >= 1 && p.exposed.start <= p.exposed.end);
            prop_assert!(p.external.start <= p.external.end);
            // A range maps to a range of the same size; one exposed port may
            // take any host port of a range (`"1234:1234-1236"`).
            if p.exposed.is_range() {
                prop_assert_eq!(p.exposed.end - p.exposed.start, p.external.end - p.external.start);
            }
            // Printed again, it reads back the same.
            prop_assert_eq!(read_port(&port_string(&p)), Some(p));
        }
    }

    #[test]
    fn a_restart_policy_reads_back_from_name_and_retries(
        name in prop::sample::select(vec!["no", "always", "on-failure", "unless-stopped"]),
        retries in 0..=i64::MAX as u64,
        too_many in (i64::MAX as u64 + 1)..=u64::MAX,
    ) {
        let want = RestartPolicy { name: name.to_string(), maximum_retry_count: retries };
        for text in [format!("\"{name}:{retries}\""), format!("{{name: {name}, retries: {retries}}}")] {
            let mut r = Reader::default();
            prop_assert_eq!(options::restart(&mut r, &node(&text), "restart"), Some(want.clone()));
        }
        // Docker's limit, in both forms.
        for text in [format!("\"{name}:{too_many}\""), format!("{{name: {name}, retries: {too_many}}}")] {
            let mut r = Reader::default();
            prop_assert_eq!(options::restart(&mut r, &node(&text), "restart"), None);
            prop_assert!(!r.errors.is_empty());
        }
        let mut r = Reader::default();
        prop_assert_eq!(
            options::restart(&mut r, &node(&format!("\"{name}\"")), "restart"),
            Some(RestartPolicy { maximum_retry_count: 0, ..want })
        );
    }

    #[test]
    fn a_size_with_a_unit_is_that_many_bytes(n in 0i64..(1 << 33), unit in prop::sample::select(vec!["", "k", "K", "m", "M", "g", "G"])) {
        let mult: i64 = match unit.to_ascii_lowercase().as_str() {
            "" => 1,
            "k" => 1 << 10,
            "m" => 1 << 20,
            _ => 1 << 30,
        };
        let mut r = Reader::default();
        let got = options::bytes(&mut r, &node(&format!("\"{n}{unit}\"")), "limits.memory");
        match n.checked_mul(mult) {
            Some(want) => prop_assert_eq!(got, Some(want)),
            None => prop_assert!(got.is_none() && !r.errors.is_empty()),
        }
        // A plain number is bytes.
        let mut r = Reader::default();
        prop_assert_eq!(options::bytes(&mut r, &node(&n.to_string()), "limits.memory"), Some(n));
    }

    #[test]
    fn a_size_written_as_text_is_never_negative(text in "-?[0-9]{0,25}(\\.[0-9]{0,5})?[kmgKMGq]?") {
        let mut r = Reader::default();
        let quoted = serde_json::to_string(&text).unwrap();
        if let Some(b) = options::bytes(&mut r, &node(&quoted), "limits.memory") {
            prop_assert!(b >= 0);
        } else {
            prop_assert!(!r.errors.is_empty());
        }
    }

    #[test]
    fn schema2_volumes_read_back(
        binds in prop::collection::btree_map(
            "/[a-z0-9_.-]{1,10}(/[a-z0-9_.-]{1,10}){0,2}",
            ("/[a-z0-9_.-]{1,10}", prop::option::of(prop::sample::select(vec!["ro", "rw", "ro,Z", "z"]))),
            0..6,
        )
    ) {
        // Distinct targets (a second mount on one target is an error).
        let mut seen = std::collections::BTreeSet::new();
        let binds: Vec<Bind> = binds
            .into_iter()
            .filter(|(_, (t, _))| seen.insert(t.clone()))
            .map(|(host, (target, mode))| Bind { host, target, mode: mode.map(String::from) })
            .collect();
        let text = format!(
            "{{{}}}",
            binds
                .iter()
                .map(|b| match &b.mode {
                    Some(m) => format!("\"{}\": {{target: \"{}\", mode: \"{m}\"}}", b.host, b.target),
                    None => format!("\"{}\": \"{}\"", b.host, b.target),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut r = Reader::default();
        let got = volumes::binds(&mut r, &node(&text), "volumes", 2);
        prop_assert!(r.errors.is_empty(), "{:?}", r.errors);
        prop_assert_eq!(got, binds);
    }

    #[test]
    fn shell_quoted_arguments_split_back(args in prop::collection::vec(any::<String>(), 0..6)) {
        let args: Vec<String> = args.into_iter().filter(|a| !a.is_empty()).collect();
        prop_assert_eq!(options::shell_split(&shell_join(&args)), Some(args));
    }

    #[test]
    fn shell_split_of_any_text_does_not_panic(s in any::<String>()) {
        let _ = options::shell_split(&s);
    }
}
