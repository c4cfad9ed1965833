//! The configuration hash stored in each container's `maestro.config-hash`
//! label: it tells whether a running container was created from what the
//! file says now, or must be recreated.
//!
//! The hash is SHA-256 over an explicit record of what the container is
//! created from ([`RecordV1`]), not over the internal `Instance`: a field
//! added to the model for another purpose must not make every running
//! container of every user look changed after an upgrade. The record is
//! hashed as compact JSON with sorted keys, followed by what the container
//! environment is computed from (the ship's address, the service's digest of
//! its variables and link variables, see `ContainerEnvs::seal`, and the
//! instance's own variables). Hashing those sources rather than the built
//! map keeps validation fast when deep `requires` chains give every
//! container thousands of variables.
//!
//! Rules that keep labels of earlier releases valid:
//! - Version 1's JSON is exactly what the first releases hashed (the whole
//!   instance less `lifecycle`, whose checks run around the container but
//!   are not part of it), so their labels match without migration. A test
//!   pins the value.
//! - A container option added later joins the record with
//!   `skip_serializing_if` its default: a file that does not use it keeps
//!   its hash. Changing the meaning or shape of an existing field needs a
//!   new record version (and a label value that says which).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::{Bind, Instance, LogConfig, Port, RunMode, Ulimit};

pub fn config_hash(
    inst: &Instance,
    ship_ip: &str,
    service_digest: &[u8; 32],
    user: &[(String, String)],
) -> String {
    let mut h = Sha256::new();
    // A record of strings, numbers and maps always serialises.
    let json = serde_json::to_vec(&RecordV1::from(inst)).unwrap_or_default();
    h.update(&json);
    h.update([0]);
    h.update(ship_ip.as_bytes());
    h.update([0]);
    h.update(service_digest);
    for (k, v) in user {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// Lower-case hexadecimal, without a `format!` per byte.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// What a container is created from, version 1. Names and shapes are
/// frozen (see the module's rules).
///
/// The JSON is hashed with its keys sorted, and it is written straight
/// from these structs (a `serde_json::Value` in between, which sorts,
/// costs five times the rest of the hash): so the fields of every struct
/// here are declared in the byte order of their names. A test compares
/// the output with the sorted form. Fields with `skip_serializing_if`
/// were added after the first releases: each joins the JSON only when
/// set, so a file that does not use it keeps its hash.
#[derive(Serialize)]
struct RecordV1<'a> {
    cap_add: &'a [String],
    cap_drop: &'a [String],
    command: Option<&'a [String]>,
    container_volumes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpuset: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    devices: Vec<DeviceV1<'a>>,
    dns: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    dns_opt: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    dns_search: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    domainname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<&'a [String]>,
    extra_hosts: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    group_add: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<HealthcheckV1<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    image: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    init: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ipc: Option<&'a str>,
    labels: &'a BTreeMap<String, String>,
    limits: LimitsV1,
    links: &'a BTreeMap<String, String>,
    log: Option<LogV1<'a>>,
    lxc_conf: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem_reservation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_swappiness: Option<i64>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nano_cpus: Option<i64>,
    net: Option<&'a str>,
    /// In order: the first network is the one the container is created on.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    networks: Vec<NetworkV1<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oom_score_adj: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
    ports: BTreeMap<&'a str, PortV1<'a>>,
    privileged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    restart: RestartV1<'a>,
    /// `"once"` for a one-shot: turning a service into a one-shot (or back)
    /// replaces its container. `run_max_wait` is not part of the container and
    /// is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime: Option<&'a str>,
    security_opt: &'a [String],
    service: &'a str,
    ship: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shm_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stdin_open: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_signal: Option<&'a str>,
    stop_timeout: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    sysctls: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tmpfs: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tty: Option<bool>,
    ulimits: BTreeMap<&'a str, UlimitV1>,
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    userns_mode: Option<&'a str>,
    volumes: Vec<BindV1<'a>>,
    volumes_from: &'a [String],
    workdir: Option<&'a str>,
}

#[derive(Serialize)]
struct NetworkV1<'a> {
    aliases: &'a [String],
    ipv4_address: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct HealthcheckV1<'a> {
    interval: Option<i64>,
    retries: Option<i64>,
    start_period: Option<i64>,
    test: Option<&'a [String]>,
    timeout: Option<i64>,
}

#[derive(Serialize)]
struct DeviceV1<'a> {
    container: &'a str,
    host: &'a str,
    permissions: &'a str,
}

#[derive(Serialize)]
struct PortV1<'a> {
    /// A number or a range, as text: `9092`, `7000-7002`.
    exposed: String,
    external: String,
    host_ip: &'a str,
    protocol: &'a str,
}

#[derive(Serialize)]
struct BindV1<'a> {
    host: &'a str,
    mode: Option<&'a str>,
    target: &'a str,
}

#[derive(Serialize)]
struct RestartV1<'a> {
    maximum_retry_count: u64,
    name: &'a str,
}

#[derive(Serialize)]
struct LimitsV1 {
    cpu: Option<u64>,
    memory: Option<u64>,
    swap: Option<i64>,
}

#[derive(Serialize)]
struct UlimitV1 {
    hard: i64,
    soft: i64,
}

#[derive(Serialize)]
struct LogV1<'a> {
    driver: &'a str,
    options: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a Instance> for RecordV1<'a> {
    fn from(i: &'a Instance) -> Self {
        let port = |p: &'a Port| PortV1 {
            exposed: p.exposed.to_string(),
            external: p.external.to_string(),
            host_ip: &p.host_ip,
            protocol: p.protocol.as_str(),
        };
        let bind = |b: &'a Bind| BindV1 {
            host: &b.host,
            target: &b.target,
            mode: b.mode.as_deref(),
        };
        let o = &i.options;
        RecordV1 {
            cap_add: &i.cap_add,
            cap_drop: &i.cap_drop,
            command: i.command.as_deref(),
            container_volumes: &i.container_volumes,
            cpu_period: o.cpu_period,
            cpu_quota: o.cpu_quota,
            cpuset: o.cpuset.as_deref(),
            devices: o
                .devices
                .iter()
                .map(|d| DeviceV1 {
                    host: &d.host,
                    container: &d.container,
                    permissions: &d.permissions,
                })
                .collect(),
            dns: &i.dns,
            dns_opt: &o.dns_opt,
            dns_search: &o.dns_search,
            domainname: o.domainname.as_deref(),
            entrypoint: o.entrypoint.as_deref(),
            extra_hosts: &i.extra_hosts,
            group_add: &o.group_add,
            healthcheck: o.healthcheck.as_ref().map(|h| HealthcheckV1 {
                test: h.test.as_deref(),
                interval: h.interval,
                timeout: h.timeout,
                retries: h.retries,
                start_period: h.start_period,
            }),
            hostname: o.hostname.as_deref(),
            image: &i.image,
            init: o.init,
            ipc: o.ipc.as_deref(),
            labels: &i.labels,
            limits: LimitsV1 {
                memory: i.limits.memory,
                swap: i.limits.swap,
                cpu: i.limits.cpu,
            },
            links: &i.links,
            log: i
                .log
                .as_ref()
                .map(|LogConfig { driver, options }| LogV1 { driver, options }),
            lxc_conf: &i.lxc_conf,
            mac_address: o.mac_address.as_deref(),
            mem_reservation: o.mem_reservation,
            memory_swappiness: o.memory_swappiness,
            name: &i.name,
            nano_cpus: o.nano_cpus,
            net: i.net.as_deref(),
            networks: o
                .networks
                .iter()
                .map(|n| NetworkV1 {
                    name: &n.name,
                    aliases: &n.aliases,
                    ipv4_address: n.ipv4_address.as_deref(),
                })
                .collect(),
            oom_score_adj: o.oom_score_adj,
            pid: o.pid.as_deref(),
            pids_limit: o.pids_limit,
            platform: o.platform.as_deref(),
            ports: i.ports.iter().map(|(k, p)| (k.as_str(), port(p))).collect(),
            privileged: i.privileged,
            read_only: o.read_only,
            restart: RestartV1 {
                name: &i.restart.name,
                maximum_retry_count: i.restart.maximum_retry_count,
            },
            run: (o.run == Some(RunMode::Once)).then_some("once"),
            runtime: o.runtime.as_deref(),
            security_opt: &i.security_opt,
            service: &i.service,
            ship: &i.ship.name,
            shm_size: o.shm_size,
            stdin_open: o.stdin_open,
            stop_signal: o.stop_signal.as_deref(),
            stop_timeout: i.stop_timeout,
            sysctls: &o.sysctls,
            tmpfs: &o.tmpfs,
            tty: o.tty,
            ulimits: i
                .ulimits
                .iter()
                .map(|(k, &Ulimit { soft, hard })| (k.as_str(), UlimitV1 { soft, hard }))
                .collect(),
            username: i.username.as_deref(),
            userns_mode: o.userns_mode.as_deref(),
            volumes: i.volumes.iter().map(bind).collect(),
            volumes_from: &i.volumes_from,
            workdir: i.workdir.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::model::{
        Bind, Check, ContainerOptions, LifecycleState, Limits, LogConfig, Port, PortRange,
        Protocol, RestartPolicy, Ulimit,
    };

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&all), expected);
        assert_eq!(hex(&[]), "");
    }

    /// An instance with every field set to something other than its default.
    pub(super) fn fixed() -> Instance {
        let range = |start, end| PortRange { start, end };
        Instance {
            name: "kafka-1".into(),
            service: "kafka".into(),
            ship: "ship1".into(),
            image: "reg.example:5000/kafka:2.8".into(),
            command: Some(vec!["run".into(), "--fast".into()]),
            ports: BTreeMap::from([
                (
                    "broker".into(),
                    Port {
                        exposed: range(9092, 9092),
                        external: range(19092, 19092),
                        protocol: Protocol::Tcp,
                        host_ip: "0.0.0.0".into(),
                    },
                ),
                (
                    "gossip".into(),
                    Port {
                        exposed: range(7000, 7002),
                        external: range(17000, 17002),
                        protocol: Protocol::Udp,
                        host_ip: "10.213.0.11".into(),
                    },
                ),
            ]),
            volumes: vec![Bind {
                host: "/data/kafka".into(),
                target: "/var/lib/kafka".into(),
                mode: Some("ro".into()),
            }],
            container_volumes: vec!["/scratch".into()],
            volumes_from: vec!["kafka-data".into()],
            links: BTreeMap::from([("zk-1".into(), "zk".into())]),
            lifecycle: BTreeMap::from([(
                LifecycleState::Running,
                vec![Check::Sleep { wait: 1.0 }],
            )]),
            privileged: true,
            cap_add: vec!["NET_ADMIN".into()],
            cap_drop: vec!["MKNOD".into()],
            extra_hosts: vec!["db:10.213.0.12".into()],
            net: Some("bridge".into()),
            dns: vec!["10.213.0.1".into()],
            restart: RestartPolicy {
                name: "on-failure".into(),
                maximum_retry_count: 3,
            },
            stop_timeout: 30,
            limits: Limits {
                memory: Some(1 << 30),
                swap: Some(-1),
                cpu: Some(512),
            },
            ulimits: BTreeMap::from([(
                "nofile".into(),
                Ulimit {
                    soft: 1024,
                    hard: 4096,
                },
            )]),
            log: Some(LogConfig {
                driver: "json-file".into(),
                options: BTreeMap::from([("max-size".into(), "10m".into())]),
            }),
            security_opt: vec!["no-new-privileges".into()],
            workdir: Some("/srv".into()),
            username: Some("kafka".into()),
            labels: BTreeMap::from([("team".into(), "data".into())]),
            lxc_conf: BTreeMap::from([("lxc.cgroup.cpuset.cpus".into(), "0".into())]),
            options: Default::default(),
            config_hash: "ignored".into(),
        }
    }

    const USER: [(&str, &str); 1] = [("HEAP", "1g")];

    fn hash(i: &Instance) -> String {
        let user: Vec<(String, String)> = USER
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        config_hash(i, "10.213.0.11", &[7; 32], &user)
    }

    /// The value the first releases computed for `fixed()` (SHA-256 of the
    /// whole instance's JSON less `lifecycle`): containers they created
    /// carry it, and must not look changed.
    const EARLIER_RELEASE: &str =
        "a41b99f6897b81318a5d8a9b5776c26bdabf70fe086c248e32bd833cb1d6c8d1";

    #[test]
    fn the_hash_of_a_fixed_instance_is_pinned_and_matches_earlier_releases() {
        assert_eq!(hash(&fixed()), EARLIER_RELEASE);
    }

    /// `fixed()` with every option added after the first releases set.
    fn with_every_option() -> Instance {
        use crate::config::model::{Device, Healthcheck, NetworkAttach};
        let mut i = fixed();
        let text = |s: &str| Some(s.to_string());
        let list = |s: &str| vec![s.to_string()];
        let map = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        i.options = ContainerOptions {
            networks: vec![NetworkAttach {
                name: "back".into(),
                aliases: list("db"),
                ipv4_address: text("10.1.0.5"),
            }],
            healthcheck: Some(Healthcheck {
                test: Some(list("CMD-SHELL true")),
                interval: Some(1),
                timeout: Some(2),
                retries: Some(3),
                start_period: Some(4),
            }),
            entrypoint: Some(list("/init")),
            hostname: text("h"),
            domainname: text("example"),
            mac_address: text("02:42:ac:11:00:02"),
            stop_signal: text("SIGINT"),
            tty: Some(true),
            stdin_open: Some(true),
            read_only: Some(true),
            tmpfs: map("/run", "size=1m"),
            shm_size: Some(1 << 26),
            sysctls: map("net.core.somaxconn", "1024"),
            devices: vec![Device {
                host: "/dev/null".into(),
                container: "/dev/n".into(),
                permissions: "rw".into(),
            }],
            init: Some(true),
            pid: text("host"),
            ipc: text("shareable"),
            group_add: list("audio"),
            dns_search: list("example"),
            dns_opt: list("ndots:2"),
            cpuset: text("0"),
            nano_cpus: Some(5),
            cpu_quota: Some(6),
            cpu_period: Some(7),
            mem_reservation: Some(8),
            memory_swappiness: Some(9),
            oom_score_adj: Some(10),
            pids_limit: Some(11),
            platform: text("linux/amd64"),
            runtime: text("runc"),
            userns_mode: text("host"),
            run: Some(RunMode::Once),
            ..Default::default()
        };
        i
    }

    /// The JSON is written in field order: every struct must declare its
    /// fields sorted, as a `serde_json::Value` would write them.
    #[test]
    fn the_record_is_written_with_its_keys_sorted() {
        for i in [fixed(), with_every_option()] {
            let record = RecordV1::from(&i);
            let written = serde_json::to_string(&record).unwrap();
            let sorted = serde_json::to_value(&record).unwrap().to_string();
            assert_eq!(written, sorted);
        }
        // Every option is in it.
        let all = serde_json::to_value(RecordV1::from(&with_every_option())).unwrap();
        let set = all.as_object().unwrap().len();
        assert_eq!(set, 58, "a field was added: set it in with_every_option");
    }

    #[test]
    fn the_record_is_the_frozen_json_of_version_1() {
        let json =
            String::from_utf8(serde_json::to_vec(&RecordV1::from(&fixed())).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"cap_add":["NET_ADMIN"],"cap_drop":["MKNOD"],"command":["run","--fast"],"container_volumes":["/scratch"],"dns":["10.213.0.1"],"extra_hosts":["db:10.213.0.12"],"image":"reg.example:5000/kafka:2.8","labels":{"team":"data"},"limits":{"cpu":512,"memory":1073741824,"swap":-1},"links":{"zk-1":"zk"},"log":{"driver":"json-file","options":{"max-size":"10m"}},"lxc_conf":{"lxc.cgroup.cpuset.cpus":"0"},"name":"kafka-1","net":"bridge","ports":{"broker":{"exposed":"9092","external":"19092","host_ip":"0.0.0.0","protocol":"tcp"},"gossip":{"exposed":"7000-7002","external":"17000-17002","host_ip":"10.213.0.11","protocol":"udp"}},"privileged":true,"restart":{"maximum_retry_count":3,"name":"on-failure"},"security_opt":["no-new-privileges"],"service":"kafka","ship":"ship1","stop_timeout":30,"ulimits":{"nofile":{"hard":4096,"soft":1024}},"username":"kafka","volumes":[{"host":"/data/kafka","mode":"ro","target":"/var/lib/kafka"}],"volumes_from":["kafka-data"],"workdir":"/srv"}"#
        );
    }

    #[test]
    fn checks_and_the_stored_hash_are_not_part_of_it() {
        let mut i = fixed();
        i.lifecycle.clear();
        i.config_hash = "something else".into();
        assert_eq!(hash(&i), EARLIER_RELEASE);
    }

    #[test]
    fn every_source_changes_it() {
        let base = hash(&fixed());
        let mut i = fixed();
        i.ports.get_mut("broker").unwrap().host_ip = "127.0.0.1".into();
        assert_ne!(hash(&i), base);
        let mut i = fixed();
        i.limits.memory = None;
        assert_ne!(hash(&i), base);
        let user = vec![("HEAP".to_string(), "2g".to_string())];
        assert_ne!(config_hash(&fixed(), "10.213.0.11", &[7; 32], &user), base);
        assert_ne!(config_hash(&fixed(), "10.213.0.12", &[7; 32], &user), base);
        assert_ne!(config_hash(&fixed(), "10.213.0.11", &[8; 32], &user), base);
    }

    /// Each option added after the first releases changes the hash when
    /// set, and only then.
    #[test]
    fn added_options_change_it_only_when_set() {
        use crate::config::model::{Healthcheck, NetworkAttach};
        let base = hash(&fixed());
        let mut i = fixed();
        i.options = ContainerOptions::default();
        assert_eq!(hash(&i), base);
        let changes: Vec<fn(&mut ContainerOptions)> = vec![
            |o| {
                o.networks = vec![NetworkAttach {
                    name: "back".into(),
                    aliases: vec![],
                    ipv4_address: None,
                }]
            },
            |o| {
                o.healthcheck = Some(Healthcheck {
                    test: Some(vec!["NONE".into()]),
                    ..Default::default()
                })
            },
            |o| o.entrypoint = Some(vec![]),
            |o| o.hostname = Some("h".into()),
            |o| o.tty = Some(false),
            |o| o.tmpfs = BTreeMap::from([("/run".into(), String::new())]),
            |o| o.shm_size = Some(1 << 26),
            |o| o.nano_cpus = Some(500_000_000),
            |o| o.platform = Some("linux/amd64".into()),
            |o| o.userns_mode = Some("host".into()),
            |o| o.run = Some(RunMode::Once),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for change in changes {
            let mut i = fixed();
            change(&mut i.options);
            let h = hash(&i);
            assert_ne!(h, base);
            assert!(seen.insert(h), "two options hash alike");
        }
        // `run: always` is the default and how long a one-shot may run is
        // no part of its container.
        let mut i = fixed();
        i.options.run = Some(RunMode::Always);
        i.options.run_max_wait = Some(60);
        assert_eq!(hash(&i), base);
        // The order of networks matters: the first is the create network.
        let attach = |n: &str| NetworkAttach {
            name: n.into(),
            aliases: vec![],
            ipv4_address: None,
        };
        let (mut a, mut b) = (fixed(), fixed());
        a.options.networks = vec![attach("x"), attach("y")];
        b.options.networks = vec![attach("y"), attach("x")];
        assert_ne!(hash(&a), hash(&b));
    }
}
