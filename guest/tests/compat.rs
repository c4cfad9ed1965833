//! Same answers as MaestroNG 0.8.3's Python `guestutils`.
//!
//! Installs `maestro-ng==0.8.3` from PyPI into a venv cached under the
//! target directory (`target/tmp/`), evaluates a table of calls with
//! `guestutils` and the same calls with the built `maestro-guest`, and
//! compares stdout and error messages. If the venv cannot be made, the test
//! fails with pip's output: it never skips.

// A test crate: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use serde_json::{Value, json};

#[path = "../../tests/support/maestro_ng_venv.rs"]
mod maestro_ng_venv;

const BIN: &str = env!("CARGO_BIN_EXE_maestro-guest");
const DRIVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/compat/guestutils_driver.py"
);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Exit 0 with this stdout.
    Out(String),
    /// Exit 2 with this message on stderr.
    Err(String),
}

struct Case {
    env: &'static [(&'static str, &'static str)],
    /// A Python expression over the guestutils functions.
    python: &'static str,
    /// The maestro-guest arguments that must answer the same.
    cli: &'static [&'static str],
    /// A deliberate difference: what each side gives, and why.
    differs: Option<(Outcome, Outcome, &'static str)>,
}

const fn same(
    env: &'static [(&'static str, &'static str)],
    python: &'static str,
    cli: &'static [&'static str],
) -> Case {
    Case {
        env,
        python,
        cli,
        differs: None,
    }
}

const NONE: &[(&str, &str)] = &[];

const KAFKA: &[(&str, &str)] = &[
    ("MAESTRO_ENVIRONMENT_NAME", "prod"),
    ("SERVICE_NAME", "kafka"),
    ("CONTAINER_NAME", "kafka-1"),
    ("CONTAINER_HOST_ADDRESS", "10.213.0.11"),
    ("ZOOKEEPER_INSTANCES", "zk-1,zk-2,zk-3"),
    ("ZOOKEEPER_ZK_1_HOST", "10.213.0.11"),
    ("ZOOKEEPER_ZK_1_CLIENT_PORT", "2181"),
    ("ZOOKEEPER_ZK_1_PEER_PORT", "2888"),
    ("ZOOKEEPER_ZK_2_HOST", "10.213.0.12"),
    ("ZOOKEEPER_ZK_2_CLIENT_PORT", "2182"),
    ("ZOOKEEPER_ZK_2_PEER_PORT", "2889"),
    ("ZOOKEEPER_ZK_3_HOST", "10.213.0.13"),
    ("ZOOKEEPER_ZK_3_CLIENT_PORT", "2183"),
    ("KAFKA_INSTANCES", "kafka-1"),
    ("KAFKA_KAFKA_1_HOST", "10.213.0.11"),
    ("KAFKA_KAFKA_1_BROKER_PORT", "19092"),
    ("KAFKA_KAFKA_1_BROKER_INTERNAL_PORT", "9092"),
];

/// Port values in the forms `int()` accepts or refuses.
const ODD_PORTS: &[(&str, &str)] = &[
    ("S_C_RANGE_PORT", "1234-1236"),
    ("S_C_EMPTY_PORT", ""),
    ("S_C_SPACED_PORT", " 2181\t"),
    ("S_C_PLUS_PORT", "+80"),
    ("S_C_ZEROS_PORT", "0080"),
    ("S_C_UNDERSCORE_PORT", "1_000"),
    ("S_C_NEGATIVE_PORT", "-1"),
    ("S_C_HEX_PORT", "0x50"),
    ("S_C_PROTO_PORT", "80/tcp"),
    ("S_C_FLOAT_PORT", "80.0"),
    ("S_C_BIG_PORT", "123456789012345678901234567890"),
    ("S_C_RANGE_INTERNAL_PORT", "1234-1236"),
    ("S_C_SPACED_INTERNAL_PORT", " 8080 "),
];

/// Names that normalise: dashes, dots, spaces, Unicode letters.
const ODD_NAMES: &[(&str, &str)] = &[
    ("MY_SVC_V2_INSTANCES", "web-1,web.2,web 3"),
    ("MY_SVC_V2_WEB_1_HOST", "10.213.0.1"),
    ("MY_SVC_V2_WEB_1_HTTP_ALT_PORT", "81"),
    ("MY_SVC_V2_WEB_2_HOST", "10.213.0.2"),
    ("MY_SVC_V2_WEB_2_HTTP_ALT_PORT", "82"),
    ("MY_SVC_V2_WEB_3_HOST", "10.213.0.3"),
    ("MY_SVC_V2_WEB_3_HTTP_ALT_PORT", "83"),
    ("CAFÉ_CRÈME_1_HOST", "10.213.0.9"),
    ("CAFÉ_CRÈME_1_HTTP_PORT", "8080"),
    ("CAFÉ_INSTANCES", "crème-1"),
    ("STRASSE_INSTANCES", "a"),
    // A combining vowel sign (U+093F) is not a word character for Python.
    ("\u{915}__WEB_1_HOST", "10.213.0.4"),
    ("\u{915}__WEB_1_\u{916}__PORT", "8081"),
    ("\u{915}__INSTANCES", "web-1"),
];

const PARTIAL: &[(&str, &str)] = &[
    ("S_INSTANCES", "a,b"),
    ("S_A_HOST", "h1"),
    ("S_A_P_PORT", "1"),
    ("S_B_P_PORT", "2"),
    ("T_INSTANCES", "a, b"),
    ("T_A_HOST", "h1"),
    ("T__B_HOST", "h2"),
    ("EMPTY_INSTANCES", ""),
];

fn cases() -> Vec<Case> {
    use Outcome::{Err, Out};
    vec![
        // Names.
        same(KAFKA, "get_environment_name()", &["env-name"]),
        same(NONE, "get_environment_name()", &["env-name"]),
        same(
            &[("MAESTRO_ENVIRONMENT_NAME", "")],
            "get_environment_name()",
            &["env-name"],
        ),
        same(KAFKA, "get_service_name()", &["service-name"]),
        same(NONE, "get_service_name()", &["service-name"]),
        same(
            &[("SERVICE_NAME", "")],
            "get_service_name()",
            &["service-name"],
        ),
        same(KAFKA, "get_container_name()", &["container-name"]),
        same(NONE, "get_container_name()", &["container-name"]),
        same(
            &[("CONTAINER_NAME", "")],
            "get_container_name()",
            &["container-name"],
        ),
        // Host address.
        same(KAFKA, "get_container_host_address()", &["host-address"]),
        same(NONE, "get_container_host_address()", &["host-address"]),
        same(
            &[("CONTAINER_HOST_ADDRESS", "")],
            "get_container_host_address()",
            &["host-address"],
        ),
        same(
            KAFKA,
            "get_container_host_address(True)",
            &["host-address", "--resolve"],
        ),
        same(
            &[("CONTAINER_HOST_ADDRESS", "localhost")],
            "get_container_host_address(as_ip_address=True)",
            &["host-address", "--resolve"],
        ),
        Case {
            env: &[("CONTAINER_HOST_ADDRESS", "")],
            python: "get_container_host_address(True)",
            cli: &["host-address", "--resolve"],
            differs: Some((
                Out("0.0.0.0\n".into()),
                Err("Container host address was not defined".into()),
                "Python resolves '' to 0.0.0.0 before checking it is empty",
            )),
        },
        // Internal address: guestutils reads eth0 (present on the project's
        // machines and in containers); other interfaces through netifaces.
        same(
            NONE,
            "get_container_internal_address()",
            &["internal-address"],
        ),
        same(
            NONE,
            "netifaces.ifaddresses('lo')[netifaces.AF_INET][0]['addr']",
            &["internal-address", "lo"],
        ),
        // Own port.
        same(KAFKA, "get_port('broker')", &["port", "broker"]),
        same(
            KAFKA,
            "get_port('jmx', 7199)",
            &["port", "jmx", "--default", "7199"],
        ),
        same(
            KAFKA,
            "get_port('jmx', default='x')",
            &["port", "jmx", "--default", "x"],
        ),
        same(KAFKA, "get_port('jmx')", &["port", "jmx"]),
        same(
            NONE,
            "get_port('broker', 1)",
            &["port", "broker", "--default", "1"],
        ),
        same(
            &[("SERVICE_NAME", "s")],
            "get_port('broker', 1)",
            &["port", "broker", "--default", "1"],
        ),
        // Specific host.
        same(
            KAFKA,
            "get_specific_host('zookeeper', 'zk-3')",
            &["host", "zookeeper", "zk-3"],
        ),
        same(
            KAFKA,
            "get_specific_host('zookeeper', 'zk-4')",
            &["host", "zookeeper", "zk-4"],
        ),
        same(
            KAFKA,
            "get_specific_host('zoo', 'zk-1')",
            &["host", "zoo", "zk-1"],
        ),
        same(
            ODD_NAMES,
            "get_specific_host('my-svc.v2', 'web.2')",
            &["host", "my-svc.v2", "web.2"],
        ),
        same(
            ODD_NAMES,
            "get_specific_host('my.svc-v2', 'web 3')",
            &["host", "my.svc-v2", "web 3"],
        ),
        same(
            ODD_NAMES,
            "get_specific_host('café', 'crème-1')",
            &["host", "café", "crème-1"],
        ),
        same(
            ODD_NAMES,
            "get_specific_host('\u{915}\u{93f}', 'web-1')",
            &["host", "\u{915}\u{93f}", "web-1"],
        ),
        same(
            ODD_NAMES,
            "get_specific_port('\u{915}\u{93f}', 'web-1', '\u{916}\u{942}')",
            &["specific-port", "\u{915}\u{93f}", "web-1", "\u{916}\u{942}"],
        ),
        // Specific ports.
        same(
            KAFKA,
            "get_specific_port('zookeeper', 'zk-2', 'client')",
            &["specific-port", "zookeeper", "zk-2", "client"],
        ),
        same(
            KAFKA,
            "get_specific_port('zookeeper', 'zk-3', 'peer')",
            &["specific-port", "zookeeper", "zk-3", "peer"],
        ),
        same(
            KAFKA,
            "get_specific_port('zookeeper', 'zk-3', 'peer', 2890)",
            &[
                "specific-port",
                "zookeeper",
                "zk-3",
                "peer",
                "--default",
                "2890",
            ],
        ),
        same(
            KAFKA,
            "get_specific_port('zookeeper', 'zk-3', 'peer', '2890')",
            &[
                "specific-port",
                "zookeeper",
                "zk-3",
                "peer",
                "--default",
                "2890",
            ],
        ),
        same(
            KAFKA,
            "get_specific_port('kafka', 'kafka-1', 'broker')",
            &["specific-port", "kafka", "kafka-1", "broker"],
        ),
        same(
            ODD_NAMES,
            "get_specific_port('my-svc.v2', 'web-1', 'http-alt')",
            &["specific-port", "my-svc.v2", "web-1", "http-alt"],
        ),
        same(
            ODD_NAMES,
            "get_specific_port('café', 'crème-1', 'http')",
            &["specific-port", "café", "crème-1", "http"],
        ),
        same(
            KAFKA,
            "get_specific_exposed_port('kafka', 'kafka-1', 'broker')",
            &["specific-exposed-port", "kafka", "kafka-1", "broker"],
        ),
        same(
            KAFKA,
            "get_specific_exposed_port('zookeeper', 'zk-1', 'client')",
            &["specific-exposed-port", "zookeeper", "zk-1", "client"],
        ),
        same(
            KAFKA,
            "get_specific_exposed_port('zookeeper', 'zk-1', 'client', 2181)",
            &[
                "specific-exposed-port",
                "zookeeper",
                "zk-1",
                "client",
                "--default",
                "2181",
            ],
        ),
        same(
            ODD_PORTS,
            "get_specific_exposed_port('s', 'c', 'range', 1)",
            &["specific-exposed-port", "s", "c", "range", "--default", "1"],
        ),
        same(
            ODD_PORTS,
            "get_specific_exposed_port('s', 'c', 'spaced')",
            &["specific-exposed-port", "s", "c", "spaced"],
        ),
        // Node lists.
        same(
            KAFKA,
            "get_node_list('zookeeper')",
            &["node-list", "zookeeper"],
        ),
        same(
            KAFKA,
            "get_node_list('zookeeper', ports=['client'])",
            &["node-list", "zookeeper", "client"],
        ),
        same(
            KAFKA,
            "','.join(get_node_list('zookeeper', ['client']))",
            &["node-list", "zookeeper", "client", "--separator", ","],
        ),
        same(
            KAFKA,
            "get_node_list('zookeeper', ['client', 'peer'])",
            &["node-list", "zookeeper", "client", "peer"],
        ),
        same(
            KAFKA,
            "get_node_list('zookeeper', ['client'], minimum=3)",
            &["node-list", "zookeeper", "client", "--minimum", "3"],
        ),
        same(
            KAFKA,
            "get_node_list('zookeeper', ['client'], minimum=4)",
            &["node-list", "zookeeper", "client", "--minimum", "4"],
        ),
        same(KAFKA, "get_node_list('nosuch')", &["node-list", "nosuch"]),
        same(
            KAFKA,
            "get_node_list('nosuch', minimum=0)",
            &["node-list", "nosuch", "--minimum", "0"],
        ),
        same(
            KAFKA,
            "get_node_list('kafka', ['broker'], -1)",
            &["node-list", "kafka", "broker", "--minimum", "-1"],
        ),
        same(
            ODD_NAMES,
            "get_node_list('my-svc.v2', ['http-alt'])",
            &["node-list", "my-svc.v2", "http-alt"],
        ),
        same(
            ODD_NAMES,
            "get_node_list('café', ['http'])",
            &["node-list", "café", "http"],
        ),
        same(
            PARTIAL,
            "get_node_list('s', ['p'])",
            &["node-list", "s", "p"],
        ),
        same(PARTIAL, "get_node_list('s')", &["node-list", "s"]),
        same(PARTIAL, "get_node_list('t')", &["node-list", "t"]),
        same(
            PARTIAL,
            "get_node_list('t', ['p'])",
            &["node-list", "t", "p"],
        ),
        Case {
            env: PARTIAL,
            python: "get_node_list('empty', minimum=0)",
            cli: &["node-list", "empty", "--minimum", "0"],
            differs: Some((
                Err("No host defined for container  of service empty".into()),
                Out(String::new()),
                "Python reads an empty INSTANCES as one instance named ''",
            )),
        },
        Case {
            env: PARTIAL,
            python: "get_node_list('empty')",
            cli: &["node-list", "empty"],
            differs: Some((
                Err("No host defined for container  of service empty".into()),
                Err("No or not enough empty nodes configured".into()),
                "Python reads an empty INSTANCES as one instance named ''",
            )),
        },
        // Instance names.
        same(
            KAFKA,
            "_get_service_instance_names('zookeeper')",
            &["instances", "zookeeper"],
        ),
        same(
            KAFKA,
            "_get_service_instance_names('nosuch')",
            &["instances", "nosuch"],
        ),
        same(
            ODD_NAMES,
            "_get_service_instance_names('my-svc.v2')",
            &["instances", "my-svc.v2"],
        ),
        same(
            ODD_NAMES,
            "_get_service_instance_names('straße')",
            &["instances", "straße"],
        ),
        same(
            PARTIAL,
            "_get_service_instance_names('t')",
            &["instances", "t"],
        ),
    ]
    .into_iter()
    .chain(
        ODD_PORTS
            .iter()
            .filter_map(|(var, _)| {
                // One `specific-port` case per odd value, with and without default.
                let name = var.strip_prefix("S_C_")?.strip_suffix("_PORT")?;
                if name.ends_with("_INTERNAL") {
                    return None;
                }
                let name: &'static str = Box::leak(name.to_lowercase().into_boxed_str());
                let call = |default: &str| -> &'static str {
                    Box::leak(
                        format!("get_specific_port('s', 'c', '{name}'{default})").into_boxed_str(),
                    )
                };
                let args = |extra: &[&'static str]| -> &'static [&'static str] {
                    let mut v = vec!["specific-port", "s", "c", name];
                    v.extend_from_slice(extra);
                    Box::leak(v.into_boxed_slice())
                };
                Some([
                    same(ODD_PORTS, call(""), args(&[])),
                    same(ODD_PORTS, call(", 7"), args(&["--default", "7"])),
                ])
            })
            .flatten(),
    )
    .collect()
}

fn run_python(cases: &[Case]) -> Vec<Outcome> {
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            let env: serde_json::Map<String, Value> = c
                .env
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            json!({"env": env, "call": c.python})
        })
        .collect();
    let mut child = Command::new(maestro_ng_venv::python(env!("CARGO_TARGET_TMPDIR")))
        .arg(DRIVER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "guestutils driver failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), cases.len());
    results
        .into_iter()
        .map(|r| match (r.get("out"), r.get("err")) {
            (Some(out), _) => Outcome::Out(out.as_str().unwrap().to_owned()),
            (_, Some(err)) => Outcome::Err(err.as_str().unwrap().to_owned()),
            _ => panic!("bad driver result {r}"),
        })
        .collect()
}

fn run_guest(case: &Case) -> Outcome {
    let out = Command::new(BIN)
        .args(case.cli)
        .env_clear()
        .envs(case.env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    match out.status.code() {
        Some(0) => {
            assert!(stderr.is_empty(), "{:?}: stderr {stderr:?}", case.cli);
            Outcome::Out(stdout)
        }
        Some(2) => {
            assert!(stdout.is_empty(), "{:?}: stdout {stdout:?}", case.cli);
            Outcome::Err(stderr.strip_suffix('\n').unwrap_or(&stderr).to_owned())
        }
        other => panic!("{:?}: exit {other:?}, stderr {stderr:?}", case.cli),
    }
}

#[test]
fn maestro_guest_answers_like_python_guestutils() {
    let cases = cases();
    assert!(cases.len() > 60, "the table lost cases");
    let python = run_python(&cases);
    let mut mismatches = Vec::new();
    for (case, py) in cases.iter().zip(python) {
        let guest = run_guest(case);
        match &case.differs {
            None if py == guest => {}
            None => mismatches.push(format!(
                "{} vs maestro-guest {:?}:\n  python: {py:?}\n  guest:  {guest:?}",
                case.python, case.cli
            )),
            Some((want_py, want_guest, why)) => {
                // Both sides must still behave as documented, so the
                // difference stays deliberate.
                if &py != want_py || &guest != want_guest {
                    mismatches.push(format!(
                        "documented difference ({why}) changed for {}:\n  python: {py:?}\n  guest:  {guest:?}",
                        case.python
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
