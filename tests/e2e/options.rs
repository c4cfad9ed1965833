//! The container options maestro adds to MaestroNG's schema, against the
//! lab's daemons: each reaches `docker inspect`; user networks are created
//! with the environment's label, the container is created on the first and
//! connected to the second with its aliases, and `clean --networks` removes
//! them; a named volume is created with its driver and labels; a file
//! healthcheck makes the `health` check wait, and an unhealthy one shows
//! its probes' output; options the lab cannot honour (another platform, an
//! unknown runtime, a missing device) reach the daemon, whose refusal names
//! them; a changed network attachment is a pending change for `plan`.

use maestro_tests::{TestEnv, assert_code, running, stderr, stdout};
use serde_json::{Value, json};

/// Removes the test's networks and volumes (by the environment's label),
/// after its containers.
struct Cleanup<'a>(&'a TestEnv);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.0.remove_containers();
        let label = format!("label=maestro.environment={}", self.0.name);
        for what in ["network", "volume"] {
            let out = self
                .0
                .lab
                .docker("ship1")
                .args([what, "ls", "-q", "--filter", &label])
                .output();
            let Ok(out) = out else { continue };
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = self
                    .0
                    .lab
                    .docker("ship1")
                    .arg(what)
                    .arg("rm")
                    .args(&ids)
                    .output();
            }
        }
    }
}

/// A network made by hand for the test, removed at the end.
struct ExternalNetwork<'a>(&'a TestEnv, String);

impl Drop for ExternalNetwork<'_> {
    fn drop(&mut self) {
        self.0.remove_containers();
        let _ = self
            .0
            .lab
            .docker("ship1")
            .args(["network", "rm", &self.1])
            .output();
    }
}

fn docker_json(t: &TestEnv, args: &[&str]) -> Value {
    let out = t.lab.docker("ship1").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0].clone()
}

/// The environment's networks on ship1, by name.
fn networks(t: &TestEnv) -> Vec<String> {
    let out = t
        .lab
        .docker("ship1")
        .args(["network", "ls", "--format", "{{.Name}}", "--filter"])
        .arg(format!("label=maestro.environment={}", t.name))
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// A /24 of its own per test process, away from Docker's default pools.
fn subnet() -> String {
    format!("192.168.{}", 20 + std::process::id() % 200)
}

#[test]
fn options_reach_docker_inspect_and_networks_are_made_connected_and_cleaned() {
    let net = subnet();
    let services = format!(
        "
  app:
    image: {{IMAGE}}
    tty: true
    sysctls: {{net.core.somaxconn: '512'}}
    instances:
      {{P}}-a:
        ship: ship1
        stop_timeout: 1
        entrypoint: [/bin/sh, -c]
        command: ['sleep 3600']
        networks:
          {{P}}-front: {{aliases: [web-alias]}}
          {{P}}-back: {{aliases: [b-alias], ipv4_address: {net}.10}}
        volumes: {{{{P}}-data: /data}}
        hostname: web-a
        domainname: example.org
        mac_address: '02:42:ac:11:00:99'
        stop_signal: SIGQUIT
        stdin_open: true
        read_only: true
        tmpfs: {{/run: 'size=1m'}}
        shm_size: 32m
        sysctls: {{net.ipv4.tcp_syncookies: '0'}}
        devices: ['/dev/null:/dev/nothing:r']
        init: true
        ipc: shareable
        group_add: ['20']
        dns_search: [example.org]
        dns_opt: ['ndots:2']
        cpuset: '0'
        cpus: 0.5
        mem_reservation: 16m
        memory_swappiness: 10
        oom_score_adj: 100
        pids_limit: 64
        runtime: runc
        userns_mode: host
        healthcheck: {{test: 'true', interval: 1s, timeout: 2s, retries: 4, start_period: 1m}}
      {{P}}-b:
        ship: ship1
        stop_timeout: 1
        command: sleep 3600
        networks: [{{P}}-front, {{P}}-ext]
        pid: host
        cpu_quota: 50000
        cpu_period: 100000
        entrypoint: ''
networks:
  {{P}}-front: {{labels: {{tier: front}}}}
  {{P}}-back: {{subnet: {net}.0/24, gateway: {net}.1, driver_opts: {{com.docker.network.bridge.enable_icc: 'true'}}}}
  {{P}}-ext: {{external: true}}
volumes:
  {{P}}-data: {{driver: local, labels: {{kind: data}}}}
"
    );
    let t = TestEnv::new("opt-all", &services);
    let _cleanup = Cleanup(&t);
    let (front, back, data) = (t.n("front"), t.n("back"), t.n("data"));

    // An external network must exist: maestro neither makes nor removes it.
    let ext = t.n("ext");
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains(&format!(
            "network {ext} is external (made outside maestro) and does not exist on ship1"
        )),
        "{}",
        stdout(&out)
    );
    let made = t
        .lab
        .docker("ship1")
        .args(["network", "create", &ext])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let _ext = ExternalNetwork(&t, ext.clone());
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);

    // The networks, made with the environment's label and their settings.
    assert_eq!(networks(&t), [back.clone(), front.clone()]);
    let f = docker_json(&t, &["network", "inspect", &front]);
    assert_eq!(f["Driver"], "bridge");
    assert_eq!(f["Labels"]["tier"], "front");
    assert_eq!(f["Labels"]["maestro.environment"], t.name.as_str());
    let b = docker_json(&t, &["network", "inspect", &back]);
    assert_eq!(b["IPAM"]["Config"][0]["Subnet"], format!("{net}.0/24"));
    assert_eq!(b["IPAM"]["Config"][0]["Gateway"], format!("{net}.1"));
    assert_eq!(b["Options"]["com.docker.network.bridge.enable_icc"], "true");
    // The named volume, with its driver and labels.
    let v = docker_json(&t, &["volume", "inspect", &data]);
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Labels"]["kind"], "data");
    assert_eq!(v["Labels"]["maestro.environment"], t.name.as_str());

    let a = t.inspect("ship1", &t.n("a")).unwrap();
    assert!(running(&a));
    let (c, h) = (&a["Config"], &a["HostConfig"]);
    assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c"]));
    assert_eq!(c["Cmd"], json!(["sleep 3600"]));
    assert_eq!(c["Hostname"], "web-a");
    assert_eq!(c["Domainname"], "example.org");
    assert_eq!(c["StopSignal"], "SIGQUIT");
    assert_eq!((&c["Tty"], &c["OpenStdin"]), (&json!(true), &json!(true)));
    assert_eq!(
        c["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "true"], "Interval": 1_000_000_000u64,
               "Timeout": 2_000_000_000u64, "Retries": 4, "StartPeriod": 60_000_000_000u64})
    );
    // Created on the first network, connected to the second, each with
    // its aliases; the default bridge is not joined.
    let nets = &a["NetworkSettings"]["Networks"];
    assert_eq!(h["NetworkMode"], front.as_str());
    assert!(nets.get("bridge").is_none(), "{nets}");
    let aliases = |n: &str| -> Vec<String> {
        serde_json::from_value(nets[n]["Aliases"].clone()).unwrap_or_default()
    };
    assert!(aliases(&front).contains(&"web-alias".to_string()), "{nets}");
    assert!(aliases(&back).contains(&"b-alias".to_string()), "{nets}");
    assert_eq!(nets[&back]["IPAddress"], format!("{net}.10"));
    assert_eq!(nets[&front]["MacAddress"], "02:42:ac:11:00:99");
    assert_eq!(h["Binds"], json!([format!("{data}:/data")]));
    assert_eq!(h["ReadonlyRootfs"], true);
    assert_eq!(h["Tmpfs"], json!({"/run": "size=1m"}));
    assert_eq!(h["ShmSize"], 32 << 20);
    // The service's sysctls merged with the instance's.
    assert_eq!(
        h["Sysctls"],
        json!({"net.core.somaxconn": "512", "net.ipv4.tcp_syncookies": "0"})
    );
    assert_eq!(
        h["Devices"],
        json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/nothing", "CgroupPermissions": "r"}])
    );
    assert_eq!(h["Init"], true);
    assert_eq!(h["IpcMode"], "shareable");
    assert_eq!(h["GroupAdd"], json!(["20"]));
    assert_eq!(h["DnsSearch"], json!(["example.org"]));
    assert_eq!(h["DnsOptions"], json!(["ndots:2"]));
    assert_eq!(h["CpusetCpus"], "0");
    assert_eq!(h["NanoCpus"], 500_000_000);
    assert_eq!(h["MemoryReservation"], 16 << 20);
    assert_eq!(h["MemorySwappiness"], 10);
    assert_eq!(h["OomScoreAdj"], 100);
    assert_eq!(h["PidsLimit"], 64);
    assert_eq!(h["Runtime"], "runc");
    assert_eq!(h["UsernsMode"], "host");

    let b = t.inspect("ship1", &t.n("b")).unwrap();
    assert!(running(&b));
    assert_eq!(b["HostConfig"]["PidMode"], "host");
    assert_eq!(b["HostConfig"]["CpuQuota"], 50000);
    assert_eq!(b["HostConfig"]["CpuPeriod"], 100000);
    assert_eq!(b["Config"]["Entrypoint"], Value::Null);
    assert_eq!(b["Config"]["Hostname"], t.n("b").as_str());
    assert_eq!(b["Config"]["Tty"], true, "the service's tty");
    let bnets = &b["NetworkSettings"]["Networks"];
    assert!(
        bnets.get(&front).is_some() && bnets.get(&back).is_none(),
        "{bnets}"
    );

    // The two instances reach each other by alias on their shared network.
    let out = t
        .lab
        .docker("ship1")
        .args(["exec", &t.n("b"), "ping", "-c", "1", "-W", "5", "web-alias"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Nothing changed: plan is clean; another alias is a pending change.
    assert_code(&t.maestro(&["plan"]), 0);
    let path = t.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("[web-alias]", "[web-alias, more]")).unwrap();
    let out = t.maestro(&["plan"]);
    assert_code(&out, 2);
    assert!(
        stdout(&out).contains(&format!("changed networks.{front}")),
        "{}",
        stdout(&out)
    );
    // up recreates it on its networks, the new alias with it.
    assert_code(&t.maestro(&["up", "--progress", "plain"]), 0);
    let a = t.inspect("ship1", &t.n("a")).unwrap();
    let nets = &a["NetworkSettings"]["Networks"];
    let aliases: Vec<String> =
        serde_json::from_value(nets[&front]["Aliases"].clone()).unwrap_or_default();
    assert!(aliases.contains(&"more".to_string()), "{nets}");
    assert_eq!(nets[&back]["IPAddress"], format!("{net}.10"));
    assert_code(&t.maestro(&["plan"]), 0);

    // clean --networks: containers first, then the networks; volumes stay.
    assert_code(&t.maestro(&["stop", "-a", "--progress", "plain"]), 0);
    let out = t.maestro(&["clean", "--networks", "--dry-run"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains(&format!("network {front} on ship1: remove")),
        "{}",
        stdout(&out)
    );
    assert_eq!(networks(&t).len(), 2);
    let out = t.maestro(&["clean", "--networks", "--progress", "plain"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains(&format!("removed network {back} on ship1")),
        "{}",
        stderr(&out)
    );
    assert!(networks(&t).is_empty(), "{:?}", networks(&t));
    assert_eq!(docker_json(&t, &["network", "inspect", &ext])["Name"], ext);
    assert_eq!(docker_json(&t, &["volume", "inspect", &data])["Name"], data);
}

#[test]
fn a_file_healthcheck_makes_health_wait_and_unhealthy_shows_the_probes() {
    let t = TestEnv::new(
        "opt-health",
        "
  ok:
    image: {IMAGE}
    healthcheck: {test: 'test -f /tmp/ready', interval: 100ms, retries: 1000}
    lifecycle: {running: [{type: health, max_wait: 30}]}
    instances:
      {P}-ok: {ship: ship1, stop_timeout: 1, command: ['/bin/sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 600']}
  bad:
    image: {IMAGE}
    lifecycle: {running: [{type: health, max_wait: 60}]}
    instances:
      {P}-bad:
        ship: ship1
        stop_timeout: 1
        command: sleep 600
        healthcheck: {test: [sh, -c, 'echo probe-says-no; exit 3'], interval: 100ms, retries: 1}
",
    );
    let started = std::time::Instant::now();
    let out = t.maestro(&["start", "--progress", "plain", "ok"]);
    assert_code(&out, 0);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let v = t.inspect("ship1", &t.n("ok")).unwrap();
    assert_eq!(v["State"]["Health"]["Status"], "healthy");

    let started = std::time::Instant::now();
    let out = t.maestro(&["start", "--progress", "plain", "bad"]);
    assert_code(&out, 1);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("the container's healthcheck reports unhealthy; last probes:"),
        "{said}"
    );
    assert!(said.contains("exit 3: probe-says-no"), "{said}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn options_the_lab_cannot_honour_reach_the_daemon() {
    let t = TestEnv::new(
        "opt-refused",
        "
  plat:
    image: {IMAGE}
    instances:
      {P}-plat: {ship: ship1, command: sleep 600, platform: linux/s390x}
  rt:
    image: {IMAGE}
    instances:
      {P}-rt: {ship: ship1, command: sleep 600, runtime: no-such-runtime}
  dev:
    image: {IMAGE}
    instances:
      {P}-dev: {ship: ship1, command: sleep 600, devices: [/dev/no-such-device]}
",
    );
    // The daemons' own words (Docker 20.10).
    for (service, named, daemon_says) in [
        (
            "plat",
            "linux/s390x",
            "does not match the specified platform",
        ),
        ("rt", "no-such-runtime", "Unknown runtime specified"),
        (
            "dev",
            "/dev/no-such-device",
            "error gathering device information",
        ),
    ] {
        let out = t.maestro(&["start", "--progress", "plain", service]);
        assert_code(&out, 1);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert!(said.contains(named), "{service}: {said}");
        assert!(said.contains(daemon_says), "{service}: {said}");
    }
}
