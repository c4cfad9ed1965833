//! The container options of `container_options`: read at both levels,
//! merged, and every bad input reported with its path and line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::model::*;
use crate::config::{Environment, load_str};

const HEAD: &str = "name: t\n__maestro: {schema: 2}\nships:\n  s1: {ip: 10.213.0.1}\n";

/// A file of one service `web` (with `service` indented under it) and
/// one instance `w1` (with `instance` inside its flow mapping), after
/// `top` (top-level sections).
fn file(top: &str, service: &str, instance: &str) -> String {
    format!(
        "{HEAD}{top}services:\n  web:\n    image: box\n{service}    instances:\n      w1: {{ship: s1{}{instance}}}\n",
        if instance.is_empty() { "" } else { ", " }
    )
}

fn ok(yaml: &str) -> Environment {
    match load_str(yaml, Path::new(".")) {
        Ok(e) => e,
        Err(e) => panic!("expected a valid environment, got:\n{e}\nfor:\n{yaml}"),
    }
}

fn opts(yaml: &str) -> ContainerOptions {
    ok(yaml).instances["w1"].options.clone()
}

fn err(yaml: &str) -> String {
    match load_str(yaml, Path::new(".")) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts the errors contain `want` (`line:col: path: message`).
fn assert_err(yaml: &str, want: &str) {
    let out = err(yaml);
    assert!(out.contains(want), "wanted {want:?} in:\n{out}");
}

const NETS: &str = "networks:\n  front: {}\n  back: {driver: bridge, driver_opts: {com.docker.network.bridge.enable_icc: 'true'}, labels: {tier: back}, subnet: 172.31.250.0/24, gateway: 172.31.250.1}\n  ext: {external: true}\n";

#[test]
fn a_file_without_the_options_has_them_unset() {
    let e = ok(&file("", "", ""));
    assert_eq!(e.instances["w1"].options, ContainerOptions::default());
    assert!(e.networks.is_empty() && e.volumes.is_empty());
}

#[test]
fn networks_as_a_list_or_a_map_with_aliases() {
    let o = opts(&file(NETS, "", "networks: [front, back]"));
    let names: Vec<&str> = o.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["front", "back"]);
    let o = opts(&file(
        NETS,
        "",
        "networks: {back: {aliases: [db, store], ipv4_address: 172.31.250.9}, front: null}",
    ));
    assert_eq!(
        o.networks[0],
        NetworkAttach {
            name: "back".into(),
            aliases: vec!["db".into(), "store".into()],
            ipv4_address: Some("172.31.250.9".into()),
        }
    );
    assert_eq!(o.networks[1].name, "front");
    let e = ok(&file(NETS, "", ""));
    let back = &e.networks["back"];
    assert_eq!(back.driver, "bridge");
    assert_eq!(back.subnet.as_deref(), Some("172.31.250.0/24"));
    assert_eq!(back.labels["tier"], "back");
    assert_eq!(
        back.driver_opts["com.docker.network.bridge.enable_icc"],
        "true"
    );
    assert!(e.networks["ext"].external);
    assert_eq!(e.networks["front"].driver, "bridge");
}

#[test]
fn service_networks_merge_into_the_instance_by_name() {
    let o = opts(&file(
        NETS,
        "    networks: {front: {aliases: [web]}, back: null}\n",
        "networks: {back: {aliases: [b]}, ext: null}",
    ));
    let got: Vec<(&str, Vec<String>)> = o
        .networks
        .iter()
        .map(|n| (n.name.as_str(), n.aliases.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("front", vec!["web".to_string()]),
            ("back", vec!["b".to_string()]),
            ("ext", vec![])
        ]
    );
}

#[test]
fn bad_networks() {
    assert_err(
        &file(NETS, "", "networks: [frnot]"),
        ":13:33: services.web.instances.w1.networks[0]: unknown network \"frnot\"; did you mean \"front\"?",
    );
    assert_err(
        &file(NETS, "", "networks: [bridge]"),
        "unknown network \"bridge\"; Docker's bridge network is chosen with net",
    );
    assert_err(
        &file(NETS, "", "networks: front"),
        "services.web.instances.w1.networks: expected a list of network names or a mapping",
    );
    assert_err(
        &file(NETS, "", "networks: {front: {alias: [x]}}"),
        "services.web.instances.w1.networks.front.alias: unknown key \"alias\"; did you mean \"aliases\"?",
    );
    assert_err(
        &file(NETS, "", "networks: {back: {ipv4_address: 10.0.0}}"),
        "networks.back.ipv4_address: \"10.0.0\" is not an IPv4 address",
    );
    assert_err(
        &file(NETS, "", "networks: {back: {ipv4_address: 10.1.2.3}}"),
        "10.1.2.3 is outside network back's subnet 172.31.250.0/24",
    );
    assert_err(
        &file(NETS, "", "networks: {front: {ipv4_address: 10.1.2.3}}"),
        "a fixed ipv4_address needs a subnet on network front",
    );
    assert_err(
        &file(NETS, "", "networks: {front: {aliases: [bad_alias]}}"),
        "invalid host name \"bad_alias\"",
    );
    // net and networks together.
    assert_err(
        &file(NETS, "", "net: host, networks: [front]"),
        "services.web.instances.w1.networks: give either net (host) or networks, not both",
    );
    // A service's networks with an instance's net.
    assert_err(
        &file(NETS, "    networks: [front]\n", "net: none"),
        "services.web.instances.w1.net: give either net (none) or networks, not both",
    );
}

#[test]
fn bad_network_definitions() {
    let top = |defs: &str| format!("networks:\n{defs}");
    assert_err(
        &file(&top("  front: {drivr: overlay}\n"), "", ""),
        ":6:11: networks.front.drivr: unknown key \"drivr\"; did you mean \"driver\"?",
    );
    assert_err(
        &file(&top("  host: {}\n"), "", ""),
        "networks.host: host is one of Docker's predefined networks; choose it with net: host",
    );
    assert_err(
        &file(&top("  'bad name': {}\n"), "", ""),
        "networks.bad name: invalid name \"bad name\"",
    );
    assert_err(
        &file(&top("  n1: {subnet: 10.0.0.0/33}\n"), "", ""),
        "networks.n1.subnet: invalid subnet \"10.0.0.0/33\"",
    );
    assert_err(
        &file(
            &top("  n1: {subnet: 10.0.0.0/24, gateway: 10.0.1.1}\n"),
            "",
            "",
        ),
        "networks.n1.gateway: gateway 10.0.1.1 is outside the subnet",
    );
    assert_err(
        &file(&top("  n1: {external: true, driver: overlay}\n"), "", ""),
        "networks.n1.driver: driver cannot be set on an external definition",
    );
    assert_err(
        &file(&top("  n1: {labels: {maestro.environment: x}}\n"), "", ""),
        "labels starting with maestro. are maestro's own",
    );
    assert_err(
        &file(&top("  n1: [a]\n"), "", ""),
        "networks.n1: expected a mapping, got a list",
    );
}

#[test]
fn healthcheck_forms_and_merge() {
    let o = opts(&file(
        "",
        "",
        "healthcheck: {test: 'wget -q localhost', interval: 1m30s, timeout: 500ms, retries: 3, start_period: 10}",
    ));
    assert_eq!(
        o.healthcheck,
        Some(Healthcheck {
            test: Some(vec!["CMD-SHELL".into(), "wget -q localhost".into()]),
            interval: Some(90_000_000_000),
            timeout: Some(500_000_000),
            retries: Some(3),
            start_period: Some(10_000_000_000),
        })
    );
    // Timings alone tune the image's own HEALTHCHECK.
    let o = opts(&file("", "", "healthcheck: {interval: 1s}"));
    assert_eq!(o.healthcheck.unwrap().test, None);
    let o = opts(&file("", "", "healthcheck: {test: [cat, /tmp/ok]}"));
    assert_eq!(
        o.healthcheck.unwrap().test.unwrap(),
        ["CMD", "cat", "/tmp/ok"]
    );
    let o = opts(&file("", "", "healthcheck: {test: [CMD-SHELL, 'true']}"));
    assert_eq!(o.healthcheck.unwrap().test.unwrap(), ["CMD-SHELL", "true"]);
    // The service's test with the instance's interval; disable replaces.
    let svc = "    healthcheck: {test: 'true', retries: 2}\n";
    let o = opts(&file("", svc, "healthcheck: {interval: 2s}"));
    let h = o.healthcheck.unwrap();
    assert_eq!(
        (h.test.unwrap()[1].as_str(), h.interval, h.retries),
        ("true", Some(2_000_000_000), Some(2))
    );
    let o = opts(&file("", svc, "healthcheck: {disable: true}"));
    assert!(o.healthcheck.unwrap().disabled());
    // A test after a disabled service healthcheck starts afresh.
    let o = opts(&file(
        "",
        "    healthcheck: {disable: true}\n",
        "healthcheck: {test: 'true'}",
    ));
    assert_eq!(
        o.healthcheck.unwrap(),
        Healthcheck {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            ..Default::default()
        }
    );
}

#[test]
fn bad_healthchecks() {
    let i = "services.web.instances.w1.healthcheck";
    assert_err(
        &file("", "", "healthcheck: {disable: true, test: 'true'}"),
        &format!("{i}.test: give either disable: true or test, not both"),
    );
    assert_err(
        &file("", "", "healthcheck: {test: 'true', interval: 10x}"),
        &format!("{i}.interval: invalid duration \"10x\"; e.g. 10s, 1m30s, 500ms, 1h"),
    );
    assert_err(
        &file("", "", "healthcheck: {test: 'true', timeout: 10us}"),
        &format!("{i}.timeout: \"10us\" is shorter than 1ms, Docker's minimum"),
    );
    assert_err(
        &file("", "", "healthcheck: {test: 'true', retries: -1}"),
        &format!("{i}.retries: expected a non-negative integer, got -1"),
    );
    assert_err(
        &file("", "", "healthcheck: {test: [NONE]}"),
        "use disable: true to turn the healthcheck off",
    );
    assert_err(
        &file("", "", "healthcheck: {test: 42}"),
        "expected a shell command (string) or a command and its arguments (list), got a number",
    );
    assert_err(
        &file("", "", "healthcheck: {}"),
        &format!("{i}: an empty healthcheck: give a test, its timings, or disable: true"),
    );
    assert_err(
        &file("", "", "healthcheck: {tset: 'true'}"),
        &format!("{i}.tset: unknown key \"tset\"; did you mean \"test\"?"),
    );
    assert_err(
        &file("", "    healthcheck: 'true'\n", ""),
        "services.web.healthcheck: expected a mapping, got a string",
    );
}

#[test]
fn scalar_options_are_read_and_instance_wins() {
    let svc = "    hostname: from-service\n    tty: true\n    shm_size: 64m\n    cpus: 0.5\n    stop_signal: quit\n    sysctls: {net.core.somaxconn: 1024, net.ipv4.tcp_syncookies: 0}\n    tmpfs: [/run, '/tmp:size=1m']\n";
    let inst = "hostname: web-a, domainname: example.org, mac_address: '02:42:ac:11:00:99', stop_signal: 'SIGUSR1', stdin_open: yes, read_only: true, tmpfs: {/tmp: 'size=2m', /cache: null}, sysctls: [net.core.somaxconn=2048], init: true, pid: host, ipc: shareable, group_add: [audio, '20'], dns_search: example.org, dns_opt: [ndots:2], cpuset: '0-1,3', mem_reservation: 32m, memory_swappiness: 10, oom_score_adj: -500, pids_limit: 100, platform: linux/amd64, runtime: runc, userns_mode: host, entrypoint: /bin/sh -c, devices: ['/dev/null:/dev/nothing:r', /dev/zero]";
    let o = opts(&file("", svc, inst));
    assert_eq!(o.hostname.as_deref(), Some("web-a"));
    assert_eq!(o.domainname.as_deref(), Some("example.org"));
    assert_eq!(o.mac_address.as_deref(), Some("02:42:ac:11:00:99"));
    assert_eq!(o.stop_signal.as_deref(), Some("SIGUSR1"));
    assert_eq!(
        (o.tty, o.stdin_open, o.read_only),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(
        o.tmpfs,
        BTreeMap::from([
            ("/run".to_string(), String::new()),
            ("/tmp".into(), "size=2m".into()),
            ("/cache".into(), String::new())
        ])
    );
    assert_eq!(o.shm_size, Some(64 << 20));
    assert_eq!(
        o.sysctls,
        BTreeMap::from([
            ("net.core.somaxconn".to_string(), "2048".to_string()),
            ("net.ipv4.tcp_syncookies".into(), "0".into())
        ])
    );
    assert_eq!(o.nano_cpus, Some(500_000_000));
    assert_eq!(
        (o.init, o.pid.as_deref(), o.ipc.as_deref()),
        (Some(true), Some("host"), Some("shareable"))
    );
    assert_eq!(o.group_add, ["audio", "20"]);
    assert_eq!(o.dns_search, ["example.org"]);
    assert_eq!(o.dns_opt, ["ndots:2"]);
    assert_eq!(o.cpuset.as_deref(), Some("0-1,3"));
    assert_eq!(o.mem_reservation, Some(32 << 20));
    assert_eq!(
        (o.memory_swappiness, o.oom_score_adj, o.pids_limit),
        (Some(10), Some(-500), Some(100))
    );
    assert_eq!(o.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(o.runtime.as_deref(), Some("runc"));
    assert_eq!(o.userns_mode.as_deref(), Some("host"));
    assert_eq!(o.entrypoint.unwrap(), ["/bin/sh", "-c"]);
    assert_eq!(
        o.devices,
        [
            Device {
                host: "/dev/null".into(),
                container: "/dev/nothing".into(),
                permissions: "r".into()
            },
            Device {
                host: "/dev/zero".into(),
                container: "/dev/zero".into(),
                permissions: "rwm".into()
            }
        ]
    );
    // The service's values where the instance sets none.
    let o = opts(&file("", svc, ""));
    assert_eq!(o.hostname.as_deref(), Some("from-service"));
    assert_eq!(o.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(o.tmpfs["/tmp"], "size=1m");
    assert_eq!(
        ok(&file("", svc, "")).instances["w1"].hostname(),
        Some("from-service")
    );
    // An empty entrypoint clears the image's.
    assert_eq!(
        opts(&file("", "", "entrypoint: ''")).entrypoint,
        Some(vec![])
    );
    assert_eq!(
        opts(&file("", "", "entrypoint: []")).entrypoint,
        Some(vec![])
    );
    // cpu_quota and cpu_period without cpus.
    let o = opts(&file("", "", "cpu_quota: 50000, cpu_period: 100000"));
    assert_eq!((o.cpu_quota, o.cpu_period), (Some(50000), Some(100000)));
}

#[test]
fn bad_scalar_options() {
    let i = "services.web.instances.w1";
    for (inst, want) in [
        (
            "hostname: 'a_b'",
            format!("{i}.hostname: invalid host name \"a_b\""),
        ),
        (
            "domainname: 'a..b'",
            format!("{i}.domainname: invalid domain name \"a..b\""),
        ),
        (
            "mac_address: '02:42:ac'",
            format!("{i}.mac_address: invalid MAC address \"02:42:ac\""),
        ),
        (
            "stop_signal: SIGTREM",
            format!("{i}.stop_signal: unknown signal \"SIGTREM\"; did you mean \"TERM\"?"),
        ),
        (
            "stop_signal: 99",
            format!("{i}.stop_signal: signal 99 is out of range 1-64"),
        ),
        (
            "tty: maybe",
            format!("{i}.tty: expected a boolean, got \"maybe\""),
        ),
        (
            "read_only: [x]",
            format!("{i}.read_only: expected a boolean, got a list"),
        ),
        (
            "tmpfs: [run]",
            format!("{i}.tmpfs[0]: the tmpfs path \"run\" must be absolute"),
        ),
        (
            "tmpfs: 42",
            format!(
                "{i}.tmpfs: expected a path, a list of path[:options] or a mapping path -> options, got a number"
            ),
        ),
        (
            "shm_size: 64x",
            format!("{i}.shm_size: unknown unit suffix in \"64x\""),
        ),
        (
            "shm_size: -1",
            format!("{i}.shm_size: a size cannot be negative"),
        ),
        (
            "sysctls: [net.core.somaxconn]",
            format!("{i}.sysctls[0]: expected key=value, got \"net.core.somaxconn\""),
        ),
        (
            "sysctls: {a: [1]}",
            format!("{i}.sysctls.a: expected a string, got a list"),
        ),
        (
            "devices: ['dev/null']",
            format!("{i}.devices[0]: invalid device \"dev/null\": paths must be absolute"),
        ),
        (
            "devices: ['/dev/null:/dev/x:rx']",
            format!("{i}.devices[0]: invalid device permissions \"rx\""),
        ),
        (
            "pid: private",
            format!("{i}.pid: invalid pid mode \"private\"; choose host or container:<name>"),
        ),
        (
            "ipc: shared",
            format!(
                "{i}.ipc: invalid ipc mode \"shared\"; choose one of none, private, shareable, host, container:<name>"
            ),
        ),
        (
            "userns_mode: private",
            format!("{i}.userns_mode: invalid userns_mode \"private\""),
        ),
        (
            "cpuset: '1-0'",
            format!("{i}.cpuset: invalid cpuset \"1-0\""),
        ),
        (
            "cpus: 0",
            format!("{i}.cpus: expected a positive number of CPUs, e.g. 1.5, got 0"),
        ),
        (
            "cpus: lots",
            format!("{i}.cpus: expected a positive number of CPUs"),
        ),
        (
            "cpu_quota: 10",
            format!("{i}.cpu_quota: 10 is below the minimum 1000 microseconds"),
        ),
        (
            "cpu_period: 5000000",
            format!("{i}.cpu_period: 5000000 is out of range 1000..1000000 microseconds"),
        ),
        (
            "memory_swappiness: 101",
            format!("{i}.memory_swappiness: 101 is out of range 0..100"),
        ),
        (
            "oom_score_adj: -1001",
            format!("{i}.oom_score_adj: -1001 is out of range -1000..1000"),
        ),
        (
            "pids_limit: -2",
            format!("{i}.pids_limit: -2 is below the minimum -1"),
        ),
        (
            "pids_limit: many",
            format!("{i}.pids_limit: expected an integer, got \"many\""),
        ),
        (
            "platform: 'linux//amd64'",
            format!("{i}.platform: invalid platform \"linux//amd64\""),
        ),
        ("runtime: ''", format!("{i}.runtime: must not be empty")),
        (
            "entrypoint: \"sh 'x\"",
            format!("{i}.entrypoint: unbalanced quotes in the entrypoint"),
        ),
        (
            "entrypoint: {a: b}",
            format!("{i}.entrypoint: expected a string or a list, got a mapping"),
        ),
        (
            "group_add: {a: b}",
            format!("{i}.group_add: expected a string or a list of strings, got a mapping"),
        ),
        (
            "hostnme: x",
            format!("{i}.hostnme: unknown key \"hostnme\"; did you mean \"hostname\"?"),
        ),
    ] {
        assert_err(&file("", "", inst), &want);
    }
    // At service level too, with the service's path.
    assert_err(
        &file("", "    cpuset: x\n", ""),
        "services.web.cpuset: invalid cpuset \"x\"",
    );
    assert_err(
        &file("", "    shm_sise: 1m\n", ""),
        "services.web.shm_sise: unknown key \"shm_sise\"; did you mean \"shm_size\"?",
    );
}

#[test]
fn conflicting_options() {
    let i = "services.web.instances.w1";
    assert_err(
        &file("", "", "tmpfs: [/data], volumes: {/srv/data: /data}"),
        &format!("{i}.tmpfs: /data is both a tmpfs and a volume target"),
    );
    assert_err(
        &file("", "", "tmpfs: [/cache], container_volumes: [/cache]"),
        &format!("{i}.tmpfs: /cache is both a tmpfs and a volume target"),
    );
    assert_err(
        &file("", "", "cpus: 1, cpu_quota: 50000"),
        &format!("{i}.cpu_quota: give either cpus or cpu_quota, not both"),
    );
    assert_err(
        &file("", "    cpu_period: 100000\n", "cpus: 1"),
        &format!("{i}.cpus: give either cpus or cpu_period, not both"),
    );
    assert_err(
        &file("", "", "hostname: h, net: host"),
        &format!("{i}.hostname: hostname \"h\" cannot be set with net: host"),
    );
    // Each is fine alone.
    ok(&file(
        "",
        "",
        "tmpfs: [/data], volumes: {/srv/data: /other}, cpus: 1, hostname: h, net: bridge",
    ));
}

#[test]
fn named_volumes_are_defined_at_the_top() {
    let top = "volumes:\n  data: {driver: local, driver_opts: {type: tmpfs, device: tmpfs}, labels: {k: v}}\n  shared: {external: true}\n  plain:\n";
    let e = ok(&file(top, "", "volumes: {data: /data, shared: /shared}"));
    let d = &e.volumes["data"];
    assert_eq!(d.driver, "local");
    assert_eq!(d.driver_opts["type"], "tmpfs");
    assert_eq!(d.labels["k"], "v");
    assert!(e.volumes["shared"].external);
    assert_eq!(e.volumes["plain"].driver, "local");
    assert_eq!(e.instances["w1"].volumes[0].host, "data");
    assert_err(
        &file("volumes:\n  data: {drive: local}\n", "", ""),
        ":6:10: volumes.data.drive: unknown key \"drive\"; did you mean \"driver\"?",
    );
    assert_err(
        &file("volumes:\n  x: {}\n", "", ""),
        "volumes.x: invalid name \"x\": Docker needs at least 2 characters",
    );
    assert_err(
        &file(
            "volumes:\n  data: {external: true, driver_opts: {a: b}}\n",
            "",
            "",
        ),
        "volumes.data.driver_opts: driver_opts cannot be set on an external definition",
    );
    assert_err(
        &file("volumes: [data]\n", "", ""),
        ":5:10: volumes: expected a mapping, got a list",
    );
}

#[test]
fn durations() {
    use crate::config::reader::Reader;
    let node = |s: &str| {
        let n = crate::config::yaml::parse(&format!("v: {s}\n")).unwrap();
        n.child("v").unwrap().clone()
    };
    let mut r = Reader::default();
    for (text, ns) in [
        ("10s", 10_000_000_000i64),
        ("1m30s", 90_000_000_000),
        ("1h", 3_600_000_000_000),
        ("1.5s", 1_500_000_000),
        ("250ms", 250_000_000),
        ("2", 2_000_000_000),
        ("0.5", 500_000_000),
        ("1h2m3s", 3_723_000_000_000),
    ] {
        assert_eq!(
            super::duration(&mut r, &node(text), "d"),
            Some(ns),
            "{text}"
        );
    }
    assert!(r.errors.is_empty());
    for bad in ["10", "s", "1x", "-1s", "1s2", "", "[1]"] {
        let mut r = Reader::default();
        let n = node(if bad.is_empty() { "''" } else { bad });
        if bad == "10" {
            continue;
        }
        assert_eq!(super::duration(&mut r, &n, "d"), None, "{bad}");
        assert_eq!(r.errors.len(), 1, "{bad}");
    }
}

#[test]
fn the_options_are_in_the_dump_only_when_set() {
    let e = ok(&file(NETS, "", "networks: [front], tty: true"));
    let v = serde_json::to_value(&e.instances["w1"]).unwrap();
    assert_eq!(v["tty"], true);
    assert_eq!(v["networks"][0]["name"], "front");
    assert!(v.get("shm_size").is_none());
    let e = ok(&file("", "", ""));
    let v = serde_json::to_value(&e.instances["w1"]).unwrap();
    for k in crate::config::keys::names(crate::config::keys::CONTAINER_OPTIONS) {
        assert!(v.get(k).is_none(), "{k}");
    }
}
