//! Published ports: the host address of each binding, as the daemon
//! applies it.

use maestro_tests::*;
use serde_json::Value;

/// The host addresses the daemon publishes a container port on.
fn published_ips(v: &Value, key: &str) -> Vec<String> {
    let mut ips: Vec<String> = v["NetworkSettings"]["Ports"][key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not published: {}", v["NetworkSettings"]))
        .iter()
        .map(|b| b["HostIp"].as_str().unwrap_or_default().to_string())
        .collect();
    ips.sort();
    ips
}

/// A port without an address is bound on `0.0.0.0` only, as MaestroNG
/// documents: an empty `HostIp` would make Docker 20.10+ publish it on
/// `::` too. `external: ['::', port]` asks for IPv6 explicitly.
#[test]
fn ports_without_an_address_publish_on_ipv4_only() {
    let t = TestEnv::new(
        "ports-v4",
        "  web:
    image: {IMAGE}
    instances:
      {P}-w1:
        ship: ship1
        command: sleep 3600
        stop_timeout: 1
        ports:
          plain: '80:31611'
          mapped: {exposed: 81, external: 31612}
          six: {exposed: 82, external: ['::', 31613]}
          both4: '83:31614'
          both6: {exposed: 83, external: ['::', 31614]}
",
    );
    assert_code(&t.maestro(&["start"]), 0);
    let v = t.inspect("ship1", &t.n("w1")).unwrap();
    let b = &v["HostConfig"]["PortBindings"];
    assert_eq!(
        b["80/tcp"],
        serde_json::json!([{"HostIp": "0.0.0.0", "HostPort": "31611"}])
    );
    assert_eq!(
        b["81/tcp"],
        serde_json::json!([{"HostIp": "0.0.0.0", "HostPort": "31612"}])
    );
    assert_eq!(
        b["82/tcp"],
        serde_json::json!([{"HostIp": "::", "HostPort": "31613"}])
    );
    assert_eq!(published_ips(&v, "80/tcp"), ["0.0.0.0"]);
    assert_eq!(published_ips(&v, "81/tcp"), ["0.0.0.0"]);
    assert_eq!(published_ips(&v, "82/tcp"), ["::"]);
    // Both families on one host port, as two named ports.
    assert_eq!(published_ips(&v, "83/tcp"), ["0.0.0.0", "::"]);

    // `docker port` tells the same.
    let out = t
        .lab
        .docker("ship1")
        .args(["port", &t.n("w1")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "80/tcp -> 0.0.0.0:31611",
            "81/tcp -> 0.0.0.0:31612",
            "82/tcp -> [::]:31613",
            "83/tcp -> 0.0.0.0:31614",
            "83/tcp -> [::]:31614",
        ]
    );
}
