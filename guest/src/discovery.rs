//! The guestutils functions of MaestroNG 0.8.3, over an environment lookup.
//!
//! Every function takes the lookup as `&dyn Fn(&str) -> Option<String>` so
//! tests pass hand-made environments and the binary passes the process
//! environment. Error messages are MaestroNG's, word for word, because start
//! scripts and their operators know them.
//!
//! Two deliberate differences from the Python code (both documented in
//! `docs/guest.md`):
//! - an empty `<S>_INSTANCES` means "no instances" (Python yields one
//!   instance named `''` and fails on its host);
//! - an empty `CONTAINER_HOST_ADDRESS` is an error even when resolving
//!   (Python resolves `''` to `0.0.0.0`).

use std::fmt;

use maestro_common::{
    CONTAINER_HOST_ADDRESS, CONTAINER_NAME, ENVIRONMENT_NAME, SERVICE_NAME, host_var,
    instances_var, internal_port_var, normalize, port_var, split_instances,
};

/// Reads one environment variable; `None` when unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Environment name used when `MAESTRO_ENVIRONMENT_NAME` is unset.
pub const DEFAULT_ENVIRONMENT_NAME: &str = "local";

/// MaestroNG's `MaestroEnvironmentError`: the message is all there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryError(pub String);

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DiscoveryError {}

type Result<T> = std::result::Result<T, DiscoveryError>;

/// `get_environment_name()`: never fails.
pub fn environment_name(env: Lookup) -> String {
    env(ENVIRONMENT_NAME).unwrap_or_else(|| DEFAULT_ENVIRONMENT_NAME.to_owned())
}

/// `get_service_name()`.
pub fn service_name(env: Lookup) -> Result<String> {
    non_empty(env(SERVICE_NAME), "Service name was not defined")
}

/// `get_container_name()`.
pub fn container_name(env: Lookup) -> Result<String> {
    non_empty(env(CONTAINER_NAME), "Container name was not defined")
}

/// `get_container_host_address()`, without resolution (see `net::resolve_ipv4`).
pub fn host_address(env: Lookup) -> Result<String> {
    non_empty(
        env(CONTAINER_HOST_ADDRESS),
        "Container host address was not defined",
    )
}

/// `get_port(name, default)`: the calling container's own exposed port.
pub fn port(env: Lookup, name: &str, default: Option<&str>) -> Result<String> {
    let service = service_name(env)?;
    let container = container_name(env)?;
    specific_exposed_port(env, &service, &container, name, default)
}

/// `get_specific_host(service, container)`.
pub fn specific_host(env: Lookup, service: &str, container: &str) -> Result<String> {
    env(&host_var(service, container)).ok_or_else(|| {
        DiscoveryError(format!(
            "No host defined for container {container} of service {service}"
        ))
    })
}

/// `get_specific_port(service, container, port, default)`: the external port,
/// as the canonical decimal integer (Python prints `int(value)`).
pub fn specific_port(
    env: Lookup,
    service: &str,
    container: &str,
    port: &str,
    default: Option<&str>,
) -> Result<String> {
    let value = env(&port_var(service, container, port));
    port_or_default(value, default, "port", service, container, port)
}

/// `get_specific_exposed_port(service, container, port, default)`: the port
/// inside the container; only peers of the same service have it.
pub fn specific_exposed_port(
    env: Lookup,
    service: &str,
    container: &str,
    port: &str,
    default: Option<&str>,
) -> Result<String> {
    let value = env(&internal_port_var(service, container, port));
    port_or_default(value, default, "internal port", service, container, port)
}

/// A port variable's value (or the default) as a number, else MaestroNG's
/// "No <what> <port> defined for container <c> of service <s>".
fn port_or_default(
    value: Option<String>,
    default: Option<&str>,
    what: &str,
    service: &str,
    container: &str,
    port: &str,
) -> Result<String> {
    int_or_default(value, default).ok_or_else(|| {
        DiscoveryError(format!(
            "No {what} {port} defined for container {container} of service {service}"
        ))
    })
}

/// `get_node_list(service, ports, minimum)`: `host[:port1[:port2...]]` for
/// each instance, in the order of `<S>_INSTANCES` (which maestro sorts).
pub fn node_list(
    env: Lookup,
    service: &str,
    ports: &[&str],
    minimum: usize,
) -> Result<Vec<String>> {
    let mut nodes = Vec::new();
    for container in instances(env, service) {
        let mut node = specific_host(env, service, &container)?;
        for port in ports {
            node.push(':');
            node.push_str(&specific_port(env, service, &container, port, None)?);
        }
        nodes.push(node);
    }
    if nodes.len() < minimum {
        return Err(DiscoveryError(format!(
            "No or not enough {service} nodes configured"
        )));
    }
    Ok(nodes)
}

/// The names of the ports instance `container` of `service` was given (its
/// `<S>_<C>_<P>_PORT` variables among `keys`), in normalised form, sorted;
/// those whose value is not a single port (a range) are left out.
/// `<S>_<C>_<P>_INTERNAL_PORT` is told apart from a port named `<P>_internal`
/// by the `<S>_<C>_<P>_PORT` maestro always writes beside it, and a key that
/// also starts with the prefix of another instance with a longer name
/// (`db` and `db-a`) belongs to that one.
pub fn instance_port_names(
    env: Lookup,
    keys: &[&str],
    service: &str,
    container: &str,
    all: &[String],
) -> Vec<String> {
    let prefix_of = |c: &str| format!("{}_{}_", normalize(service), normalize(c));
    let prefix = prefix_of(container);
    let longer: Vec<String> = all
        .iter()
        .map(|c| prefix_of(c))
        .filter(|p| p.len() > prefix.len() && p.starts_with(&prefix))
        .collect();
    let mut names = Vec::new();
    for key in keys {
        let Some(name) = key
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix("_PORT"))
            .filter(|name| !name.is_empty())
        else {
            continue;
        };
        let internal = name
            .strip_suffix("_INTERNAL")
            .is_some_and(|p| keys.contains(&format!("{prefix}{p}_PORT").as_str()));
        let single = env(key).is_some_and(|v| python_int(&v).is_some());
        if !internal && single && !longer.iter().any(|p| key.starts_with(p.as_str())) {
            names.push(name.to_owned());
        }
    }
    names.sort_unstable();
    names
}

/// The instance names of a service from `<S>_INSTANCES`; none when unset or empty.
pub fn instances(env: Lookup, service: &str) -> Vec<String> {
    env(&instances_var(service))
        .map(|v| split_instances(&v).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn non_empty(value: Option<String>, message: &str) -> Result<String> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(DiscoveryError(message.to_owned())),
    }
}

/// `int(os.environ.get(var, default))`: the default applies only when the
/// variable is unset; a set but non-integer value (a range such as
/// `1234-1236`, an empty string) is an error even with a default.
fn int_or_default(value: Option<String>, default: Option<&str>) -> Option<String> {
    match value {
        Some(v) => python_int(&v),
        None => python_int(default?),
    }
}

/// Parses a string as Python's `int(s)` does (base 10) and returns the
/// canonical decimal form: surrounding whitespace is ignored, a sign is
/// allowed, single `_` may separate digits, leading zeros are dropped.
/// Digits are kept as text so any length works, as with Python's big ints.
/// Python also accepts non-ASCII decimal digits (e.g. Arabic-Indic); this
/// does not, as no port is written that way.
pub fn python_int(s: &str) -> Option<String> {
    // Python 3.11 refuses to convert strings of more than 4300 digits.
    const MAX_DIGITS: usize = 4300;
    let s = s.trim_matches(is_python_space);
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mut out = String::with_capacity(digits.len());
    let mut previous_was_digit = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => {
                out.push(c);
                previous_was_digit = true;
            }
            '_' if previous_was_digit => previous_was_digit = false,
            _ => return None,
        }
    }
    // Empty, or ending in `_`.
    if !previous_was_digit || out.len() > MAX_DIGITS {
        return None;
    }
    let trimmed = out.trim_start_matches('0');
    Some(match (trimmed.is_empty(), negative) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{trimmed}"),
        (false, false) => trimmed.to_owned(),
    })
}

/// Python's `str.isspace()`: Unicode `White_Space` plus the ASCII
/// information separators U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn err(message: &str) -> DiscoveryError {
        DiscoveryError(message.to_owned())
    }

    /// Three zookeeper instances as maestro injects them into a kafka
    /// container (no `_INTERNAL_PORT` for a required service), plus the
    /// kafka container's own variables.
    fn kafka_env() -> impl Fn(&str) -> Option<String> {
        env_of(&[
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
            ("ZOOKEEPER_ZK_3_PEER_PORT", "2890"),
            ("KAFKA_INSTANCES", "kafka-1"),
            ("KAFKA_KAFKA_1_HOST", "10.213.0.11"),
            ("KAFKA_KAFKA_1_BROKER_PORT", "19092"),
            ("KAFKA_KAFKA_1_BROKER_INTERNAL_PORT", "9092"),
        ])
    }

    #[test]
    fn environment_name_defaults_to_local() {
        assert_eq!(environment_name(&kafka_env()), "prod");
        assert_eq!(environment_name(&env_of(&[])), "local");
        // Set but empty is returned as is, like `os.environ.get`.
        assert_eq!(
            environment_name(&env_of(&[("MAESTRO_ENVIRONMENT_NAME", "")])),
            ""
        );
    }

    #[test]
    fn service_and_container_names_must_be_non_empty() {
        let env = kafka_env();
        assert_eq!(service_name(&env), Ok("kafka".into()));
        assert_eq!(container_name(&env), Ok("kafka-1".into()));
        let empty = env_of(&[("SERVICE_NAME", ""), ("CONTAINER_NAME", "")]);
        assert_eq!(
            service_name(&empty),
            Err(err("Service name was not defined"))
        );
        assert_eq!(
            container_name(&env_of(&[])),
            Err(err("Container name was not defined"))
        );
        assert_eq!(
            container_name(&empty),
            Err(err("Container name was not defined"))
        );
    }

    #[test]
    fn host_address_must_be_non_empty() {
        assert_eq!(host_address(&kafka_env()), Ok("10.213.0.11".into()));
        let missing = Err(err("Container host address was not defined"));
        assert_eq!(host_address(&env_of(&[])), missing);
        assert_eq!(
            host_address(&env_of(&[("CONTAINER_HOST_ADDRESS", "")])),
            missing
        );
    }

    #[test]
    fn port_is_the_own_internal_port() {
        let env = kafka_env();
        assert_eq!(port(&env, "broker", None), Ok("9092".into()));
        assert_eq!(port(&env, "jmx", Some("7199")), Ok("7199".into()));
        assert_eq!(
            port(&env, "jmx", None),
            Err(err(
                "No internal port jmx defined for container kafka-1 of service kafka"
            ))
        );
        // Without its own names, `port` fails on those first.
        assert_eq!(
            port(&env_of(&[]), "broker", Some("1")),
            Err(err("Service name was not defined"))
        );
    }

    #[test]
    fn specific_host_reads_the_normalised_variable() {
        let env = env_of(&[("MY_SVC_V2_WEB_1_HOST", "10.213.0.1")]);
        assert_eq!(
            specific_host(&env, "my-svc.v2", "web-1"),
            Ok("10.213.0.1".into())
        );
        // `zk.1` and `zk-1` share one variable name, as in MaestroNG.
        assert_eq!(
            specific_host(&env, "my.svc-v2", "web.1"),
            Ok("10.213.0.1".into())
        );
        assert_eq!(
            specific_host(&env, "my-svc.v2", "web-2"),
            Err(err(
                "No host defined for container web-2 of service my-svc.v2"
            ))
        );
        // Set but empty is a host (Python only fails on a missing key).
        let empty = env_of(&[("S_C_HOST", "")]);
        assert_eq!(specific_host(&empty, "s", "c"), Ok(String::new()));
    }

    #[test]
    fn specific_port_reads_the_external_port() {
        let env = kafka_env();
        assert_eq!(
            specific_port(&env, "zookeeper", "zk-2", "client", None),
            Ok("2182".into())
        );
        assert_eq!(
            specific_port(&env, "zookeeper", "zk-1", "client", None),
            Ok("2181".into())
        );
        assert_eq!(
            specific_port(&env, "zookeeper", "zk-1", "admin", Some("8080")),
            Ok("8080".into())
        );
        assert_eq!(
            specific_port(&env, "zookeeper", "zk-1", "admin", None),
            Err(err(
                "No port admin defined for container zk-1 of service zookeeper"
            ))
        );
        assert_eq!(
            specific_port(&env, "zookeeper", "zk-1", "admin", Some("eighty")),
            Err(err(
                "No port admin defined for container zk-1 of service zookeeper"
            ))
        );
    }

    #[test]
    fn ranges_and_non_integers_are_port_errors_even_with_a_default() {
        let env = env_of(&[
            ("S_C_RANGE_PORT", "1234-1236"),
            ("S_C_EMPTY_PORT", ""),
            ("S_C_TCP_PORT", "80/tcp"),
            ("S_C_RANGE_INTERNAL_PORT", "1234-1236"),
        ]);
        for name in ["range", "empty", "tcp"] {
            assert_eq!(
                specific_port(&env, "s", "c", name, Some("1")),
                Err(err(&format!(
                    "No port {name} defined for container c of service s"
                )))
            );
        }
        assert_eq!(
            specific_exposed_port(&env, "s", "c", "range", None),
            Err(err(
                "No internal port range defined for container c of service s"
            ))
        );
    }

    #[test]
    fn specific_exposed_port_reads_the_internal_port() {
        let env = kafka_env();
        assert_eq!(
            specific_exposed_port(&env, "kafka", "kafka-1", "broker", None),
            Ok("9092".into())
        );
        // A required service's internal ports are not injected.
        assert_eq!(
            specific_exposed_port(&env, "zookeeper", "zk-1", "client", None),
            Err(err(
                "No internal port client defined for container zk-1 of service zookeeper"
            ))
        );
    }

    #[test]
    fn normalised_names_apply_to_service_container_and_port() {
        let env = env_of(&[
            ("MY_SVC_V2_INSTANCES", "web-1"),
            ("MY_SVC_V2_WEB_1_HOST", "10.213.0.1"),
            ("MY_SVC_V2_WEB_1_HTTP_ALT_PORT", "81"),
            ("MY_SVC_V2_WEB_1_HTTP_ALT_INTERNAL_PORT", "8081"),
        ]);
        assert_eq!(
            specific_port(&env, "my-svc.v2", "web-1", "http-alt", None),
            Ok("81".into())
        );
        assert_eq!(
            specific_exposed_port(&env, "my-svc.v2", "web-1", "http.alt", None),
            Ok("8081".into())
        );
        assert_eq!(
            node_list(&env, "my-svc.v2", &["http-alt"], 1),
            Ok(vec!["10.213.0.1:81".into()])
        );
        assert_eq!(instances(&env, "my-svc.v2"), vec!["web-1".to_string()]);
    }

    #[test]
    fn node_list_builds_host_and_ports_in_instance_order() {
        let env = kafka_env();
        assert_eq!(
            node_list(&env, "zookeeper", &[], 1),
            Ok(vec![
                "10.213.0.11".into(),
                "10.213.0.12".into(),
                "10.213.0.13".into()
            ])
        );
        assert_eq!(
            node_list(&env, "zookeeper", &["client", "peer"], 3),
            Ok(vec![
                "10.213.0.11:2181:2888".into(),
                "10.213.0.12:2182:2889".into(),
                "10.213.0.13:2183:2890".into()
            ])
        );
    }

    #[test]
    fn node_list_fails_on_a_missing_port_or_host() {
        let env = kafka_env();
        assert_eq!(
            node_list(&env, "zookeeper", &["client", "admin"], 1),
            Err(err(
                "No port admin defined for container zk-1 of service zookeeper"
            ))
        );
        let no_host = env_of(&[("S_INSTANCES", "a,b"), ("S_A_HOST", "h")]);
        assert_eq!(
            node_list(&no_host, "s", &[], 1),
            Err(err("No host defined for container b of service s"))
        );
    }

    #[test]
    fn node_list_minimum() {
        let env = kafka_env();
        assert_eq!(node_list(&env, "zookeeper", &[], 3).map(|n| n.len()), Ok(3));
        assert_eq!(
            node_list(&env, "zookeeper", &[], 4),
            Err(err("No or not enough zookeeper nodes configured"))
        );
        assert_eq!(
            node_list(&env, "nosuch", &[], 1),
            Err(err("No or not enough nosuch nodes configured"))
        );
        assert_eq!(node_list(&env, "nosuch", &["client"], 0), Ok(vec![]));
    }

    #[test]
    fn empty_or_unset_instances_mean_none() {
        let empty = env_of(&[("S_INSTANCES", "")]);
        assert_eq!(instances(&empty, "s"), Vec::<String>::new());
        assert_eq!(instances(&env_of(&[]), "s"), Vec::<String>::new());
        assert_eq!(node_list(&empty, "s", &[], 0), Ok(vec![]));
        assert_eq!(
            node_list(&empty, "s", &[], 1),
            Err(err("No or not enough s nodes configured"))
        );
        // Other entries are taken verbatim, as Python's `split(',')`.
        let spaced = env_of(&[("S_INSTANCES", "a, b")]);
        assert_eq!(
            instances(&spaced, "s"),
            vec!["a".to_string(), " b".to_string()]
        );
    }

    #[test]
    fn python_int_matches_python() {
        let ok = [
            ("2181", "2181"),
            (" 2181\n", "2181"),
            ("+5", "5"),
            ("-5", "-5"),
            ("007", "7"),
            ("-0", "0"),
            ("000", "0"),
            ("1_000", "1000"),
            ("\u{1f}42\u{a0}", "42"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
        ];
        for (input, expected) in ok {
            assert_eq!(python_int(input).as_deref(), Some(expected), "{input:?}");
        }
        for input in [
            "",
            " ",
            "-",
            "+",
            "1234-1236",
            "80/tcp",
            "1.5",
            "0x10",
            "_1",
            "1_",
            "1__0",
            "- 1",
            "1 2",
        ] {
            assert_eq!(python_int(input), None, "{input:?}");
        }
        assert_eq!(python_int(&"9".repeat(4301)), None);
        assert!(python_int(&"9".repeat(4300)).is_some());
    }
}
