//! start, stop, kill, clean and status through the built `maestro` binary
//! against the lab's daemons. Every test has its own environment name and
//! instance names (prefixed with the test's tag and the process id) and
//! host ports, so tests run in parallel; a guard removes the test's
//! containers at the end, even when it fails.

use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::{Duration, Instant};

use maestro_tests::{
    SHIPS, TestEnv, assert_code, finished_at, id, nanos_of_day, running, started_at, stderr, stdout,
};
use serde_json::Value;

/// A chain over three ships: `a` (two instances) <- `b` <- `c`.
const CHAIN: &str = "
  a:
    image: {IMAGE}
    instances:
      {P}-a1: {ship: ship1, command: sleep 3600, stop_timeout: 1}
      {P}-a2: {ship: ship2, command: sleep 3600, stop_timeout: 1}
  b:
    image: {IMAGE}
    requires: [a]
    instances:
      {P}-b1: {ship: ship2, command: sleep 3600, stop_timeout: 1}
  c:
    image: {IMAGE}
    requires: [b]
    instances:
      {P}-c1: {ship: ship3, command: sleep 3600, stop_timeout: 1}
";

#[test]
fn start_follows_dependencies_and_a_second_start_changes_nothing() {
    let t = TestEnv::new("chain", CHAIN);
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("start: 4 done"), "{text}");
    let where_ = [
        ("a1", "ship1"),
        ("a2", "ship2"),
        ("b1", "ship2"),
        ("c1", "ship3"),
    ];
    let first: Vec<Value> = where_
        .iter()
        .map(|(n, s)| t.inspect(s, &t.n(n)).unwrap())
        .collect();
    assert!(first.iter().all(running));
    // A dependent never starts before every instance it depends on.
    let (a1, a2, b1, c1) = (
        started_at(&first[0]),
        started_at(&first[1]),
        started_at(&first[2]),
        started_at(&first[3]),
    );
    assert!(b1 > a1 && b1 > a2, "b1 {b1} before a1 {a1} / a2 {a2}");
    assert!(c1 > b1, "c1 {c1} before b1 {b1}");

    let again = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&again, 0);
    assert!(stdout(&again).contains("up for"), "{}", stdout(&again));
    for (v, (n, s)) in first.iter().zip(where_) {
        let now = t.inspect(s, &t.n(n)).unwrap();
        assert_eq!(id(v), id(&now), "{n} was recreated");
    }
    let dry = t.maestro(&["start", "--dry-run"]);
    assert_code(&dry, 0);
    assert!(
        stdout(&dry).contains("0 of 4 instances to change"),
        "{}",
        stdout(&dry)
    );
}

#[test]
fn stop_reverses_the_order_then_kill_and_clean() {
    let t = TestEnv::new("stop", CHAIN);
    assert_code(&t.maestro(&["start"]), 0);

    let out = t.maestro(&["stop", "-a", "--progress", "plain"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("stopped"), "{}", stdout(&out));
    let a1 = t.inspect("ship1", &t.n("a1")).unwrap();
    let a2 = t.inspect("ship2", &t.n("a2")).unwrap();
    let b1 = t.inspect("ship2", &t.n("b1")).unwrap();
    let c1 = t.inspect("ship3", &t.n("c1")).unwrap();
    assert!(![&a1, &a2, &b1, &c1].iter().any(|v| running(v)));
    // Dependents stop first.
    assert!(finished_at(&c1) < finished_at(&b1));
    assert!(finished_at(&b1) < finished_at(&a1) && finished_at(&b1) < finished_at(&a2));

    // Everything is down: status says so and exits 1.
    let st = t.maestro(&["status"]);
    assert_code(&st, 1);
    assert_eq!(stdout(&st).matches("down").count(), 4, "{}", stdout(&st));

    // Stop again: nothing to do.
    let out = t.maestro(&["stop", "-a", "--progress", "plain"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("down"));

    // Start a1 again (reusing the stopped container keeps its id), kill it.
    assert_code(&t.maestro(&["start", "--reuse", &t.n("a1")]), 0);
    let a1_again = t.inspect("ship1", &t.n("a1")).unwrap();
    assert!(running(&a1_again));
    assert_eq!(id(&a1), id(&a1_again));
    let killed = t.maestro(&["kill", &t.n("a1"), "--progress", "plain"]);
    assert_code(&killed, 0);
    assert!(stdout(&killed).contains("killed"), "{}", stdout(&killed));
    let after = t.inspect("ship1", &t.n("a1")).unwrap();
    assert!(!running(&after));
    assert_eq!(after["State"]["ExitCode"], 137);

    // clean removes stopped containers and skips running ones.
    assert_code(&t.maestro(&["start", "-i", &t.n("c1")]), 0);
    let cleaned = t.maestro(&["clean", "--progress", "plain"]);
    assert_code(&cleaned, 0);
    let text = stdout(&cleaned);
    assert!(
        text.contains("removed") && text.contains("skipped"),
        "{text}"
    );
    assert!(t.inspect("ship1", &t.n("a1")).is_none());
    assert!(t.inspect("ship2", &t.n("b1")).is_none());
    assert!(running(&t.inspect("ship3", &t.n("c1")).unwrap()));
    let again = t.maestro(&["clean", "-C", "*-a1", "--progress", "plain"]);
    assert_code(&again, 0);
    assert!(stdout(&again).contains("absent"), "{}", stdout(&again));
}

#[test]
fn a_start_that_fails_shows_the_logs_and_aborts_the_rest() {
    let t = TestEnv::new(
        "fail",
        "
  a:
    image: {IMAGE}
    instances:
      {P}-a1: {ship: ship1, command: sleep 3600}
  b:
    image: {IMAGE}
    requires: [a]
    instances:
      {P}-b1: {ship: ship2, command: \"sh -c 'echo first words; echo it broke >&2; exit 3'\"}
    lifecycle:
      # A container that exits before the first look fails at once; one
      # that is still winding down is seen dying while its check waits.
      running: [{type: sleep, wait: 2}]
  c:
    image: {IMAGE}
    requires: [b]
    instances:
      {P}-c1: {ship: ship3, command: sleep 3600}
",
    );
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("exited (code 3)"), "{text}");
    assert!(
        text.contains("it broke") && text.contains("first words"),
        "{text}"
    );
    assert!(
        text.contains(&format!("aborted: {} failed", t.n("b1"))),
        "{text}"
    );
    assert!(
        text.contains(&format!("not attempted: {}", t.n("c1"))),
        "{text}"
    );
    assert!(running(&t.inspect("ship1", &t.n("a1")).unwrap()));
    assert!(
        t.inspect("ship3", &t.n("c1")).is_none(),
        "c1 must not exist"
    );
    // Status reports exactly that.
    let st = t.maestro(&["status", "--format", "json"]);
    assert_code(&st, 1);
    let rows: Vec<Value> = stdout(&st)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status_of = |n: &str| {
        rows.iter().find(|r| r["instance"] == t.n(n)).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_of("a1"), "running");
    assert_eq!(status_of("b1"), "down");
    assert_eq!(status_of("c1"), "absent");
}

#[test]
fn status_table_and_json_match_the_ships() {
    let t = TestEnv::new(
        "status",
        "
  web:
    image: {IMAGE}
    instances:
      {P}-w1:
        ship: ship1
        command: httpd -f -p 8080
        ports: {http: '8080:31081', dns: '53/udp:31053/udp'}
      {P}-w2: {ship: ship2, command: sleep 3600}
  tools:
    image: {IMAGE}
    omit: true
    instances:
      {P}-t1: {ship: ship3, command: sleep 3600}
",
    );
    let out = t.maestro(&["start"]);
    assert_code(&out, 0);
    // `start` leaves out omitted services; `status` lists them.
    assert!(t.inspect("ship3", &t.n("t1")).is_none());
    let st = t.maestro(&["status"]);
    assert_code(&st, 1);
    let text = stdout(&st);
    let line = |n: &str| {
        text.lines()
            .find(|l| l.contains(&t.n(n)))
            .unwrap_or_else(|| panic!("no row for {n}: {text}"))
            .to_string()
    };
    let w1 = t.inspect("ship1", &t.n("w1")).unwrap();
    let short: String = id(&w1).chars().take(7).collect();
    assert!(line("w1").contains(&format!("1:{short}")), "{text}");
    assert!(line("w1").contains("running for"), "{text}");
    assert!(line("t1").contains("absent"), "{text}");
    assert!(text.starts_with(" #  INSTANCE"), "{text}");

    let full = t.maestro(&["status", "-F", "-H", &t.n("w1")]);
    assert_code(&full, 0);
    let text = stdout(&full);
    assert!(text.contains("10.213.0.11"), "{text}");
    assert!(text.contains("http:31081 up"), "{text}");
    assert!(text.contains("dns:31053/udp udp"), "{text}");

    let js = t.maestro(&["status", "--format", "json"]);
    assert_code(&js, 1);
    let rows: Vec<Value> = stdout(&js)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    let w1_row = rows.iter().find(|r| r["instance"] == t.n("w1")).unwrap();
    assert_eq!(w1_row["status"], "running");
    assert_eq!(w1_row["container"], id(&w1));
    assert_eq!(w1_row["ship"], "ship1");
    assert_eq!(w1_row["ports"][1]["up"], true, "{w1_row}");
    // -c 1: one ship list at a time, the same rows.
    let one = t.maestro(&["status", "-c", "1", "--format", "json"]);
    assert_code(&one, 1);
    let statuses = |text: String| {
        let mut v: Vec<(String, String)> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|r| (r["instance"].to_string(), r["status"].to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(statuses(stdout(&one)), statuses(stdout(&js)));

    // After starting the omitted service by name, everything runs: exit 0.
    assert_code(&t.maestro(&["start", "tools"]), 0);
    assert_code(&t.maestro(&["status"]), 0);
}

#[test]
fn filters_and_safety_flags() {
    let t = TestEnv::new(
        "filters",
        "
  web:
    image: {IMAGE}
    instances:
      {P}-web-a: {ship: ship1, command: sleep 3600, stop_timeout: 1}
      {P}-web-b: {ship: ship2, command: sleep 3600, stop_timeout: 1}
  api:
    image: {IMAGE}
    instances:
      {P}-api-a: {ship: ship1, command: sleep 3600, stop_timeout: 1}
      {P}-api-b: {ship: ship2, command: sleep 3600, stop_timeout: 1}
",
    );
    // Filters apply even without things (MaestroNG ignored them here).
    assert_code(&t.maestro(&["start", "-S", "ship*2"]), 0);
    assert!(running(&t.inspect("ship2", &t.n("web-b")).unwrap()));
    assert!(running(&t.inspect("ship2", &t.n("api-b")).unwrap()));
    assert!(t.inspect("ship1", &t.n("web-a")).is_none());
    assert_code(&t.maestro(&["start", "web", "-C", "*-a"]), 0);
    assert!(running(&t.inspect("ship1", &t.n("web-a")).unwrap()));
    assert!(t.inspect("ship1", &t.n("api-a")).is_none());

    let out = t.maestro(&["stop"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("No services or containers specified for stop, and --all not set.")
    );
    let out = t.maestro(&["kill", "web"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("web is a service but --expand-services was not specified"));
    let out = t.maestro(&["start", "webb"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("webb is neither a service nor a container"),
        "{err}"
    );
    assert!(err.contains("did you mean \"web\"?"), "{err}");
    let out = t.maestro(&["start", "-r", "--reuse"]);
    assert_code(&out, 2);
    // Nothing of that touched a container.
    assert!(running(&t.inspect("ship2", &t.n("web-b")).unwrap()));

    assert_code(&t.maestro(&["stop", "-s", "web"]), 0);
    assert!(!running(&t.inspect("ship1", &t.n("web-a")).unwrap()));
    assert!(!running(&t.inspect("ship2", &t.n("web-b")).unwrap()));
    assert!(running(&t.inspect("ship2", &t.n("api-b")).unwrap()));
    assert_code(&t.maestro(&["stop", "-a", "-C", "*-api-?"]), 0);
    assert!(!running(&t.inspect("ship2", &t.n("api-b")).unwrap()));
}

#[test]
fn an_unreachable_ship_fails_only_its_own_tasks() {
    let t = TestEnv::with_extra(
        "down",
        "  gone:\n    ip: 10.213.0.99\n    timeout: 2\n",
        "
  far:
    image: {IMAGE}
    instances:
      {P}-far1: {ship: gone, command: sleep 3600}
  near:
    image: {IMAGE}
    instances:
      {P}-near1: {ship: ship1, command: sleep 3600}
  user:
    image: {IMAGE}
    requires: [far]
    instances:
      {P}-user1: {ship: ship2, command: sleep 3600}
",
    );
    let started = Instant::now();
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    assert!(started.elapsed() < Duration::from_secs(30));
    let text = stdout(&out);
    assert!(text.contains("host down"), "{text}");
    assert!(text.contains("10.213.0.99"), "{text}");
    assert!(
        text.contains(&format!("{} is on a ship that did not answer", t.n("far1"))),
        "{text}"
    );
    assert!(running(&t.inspect("ship1", &t.n("near1")).unwrap()));
    assert!(t.inspect("ship2", &t.n("user1")).is_none());

    let st = t.maestro(&["status"]);
    assert_code(&st, 1);
    let text = stdout(&st);
    let far = text.lines().find(|l| l.contains(&t.n("far1"))).unwrap();
    assert!(far.contains("host down"), "{text}");
}

#[test]
fn containers_get_every_configured_option() {
    let t = TestEnv::new(
        "inspect",
        "
  db:
    image: {IMAGE}
    instances:
      {P}-db1:
        ship: ship1
        command: sleep 3600
        container_volumes: [/data]
  app:
    image: {IMAGE}
    requires: [db]
    env: {GREETING: hello}
    limits: {cpu: 512}
    instances:
      {P}-app1:
        ship: ship1
        command: [sh, -c, 'exec sleep 3600']
        ports:
          http: '8080:31180'
          dns: {exposed: 53/udp, external: [10.213.0.11, 31153/udp]}
        volumes:
          {DIR}: {target: /host, mode: ro}
        volumes_from: [{P}-db1]
        env: {LEVEL: 3}
        cap_add: [NET_ADMIN]
        extra_hosts: {gw: 10.213.0.1, s2: {ship: ship2}}
        dns: [10.213.0.53]
        restart: on-failure:3
        stop_timeout: 4
        limits: {memory: 64m, swap: 128m}
        ulimits: {nofile: {soft: 1024, hard: 2048}}
        log_driver: json-file
        log_opt: {max-size: 1m}
        workdir: /tmp
        username: '65534'
        labels: {team: edge}
",
    );
    assert_code(&t.maestro(&["start"]), 0);
    let v = t.inspect("ship1", &t.n("app1")).unwrap();
    let c = &v["Config"];
    let h = &v["HostConfig"];
    assert_eq!(c["Hostname"], t.n("app1"));
    assert_eq!(c["Cmd"], serde_json::json!(["sh", "-c", "exec sleep 3600"]));
    let env: Vec<String> = serde_json::from_value(c["Env"].clone()).unwrap();
    for want in [
        "GREETING=hello".to_string(),
        "LEVEL=3".to_string(),
        format!("CONTAINER_NAME={}", t.n("app1")),
        format!("MAESTRO_ENVIRONMENT_NAME={}", t.name),
        "CONTAINER_HOST_ADDRESS=10.213.0.11".to_string(),
    ] {
        assert!(env.contains(&want), "{want} not in {env:?}");
    }
    let db_host = format!(
        "DB_{}_HOST=10.213.0.11",
        t.n("db1").to_uppercase().replace('-', "_")
    );
    assert!(env.contains(&db_host), "{db_host} not in {env:?}");
    assert_eq!(c["User"], "65534");
    assert_eq!(c["WorkingDir"], "/tmp");
    assert_eq!(c["StopTimeout"], 4);
    assert_eq!(c["Labels"]["team"], "edge");
    assert_eq!(c["Labels"]["maestro.environment"], t.name.as_str());
    assert_eq!(c["Labels"]["maestro.service"], "app");
    assert_eq!(c["Labels"]["maestro.instance"], t.n("app1"));
    assert_eq!(
        c["Labels"]["maestro.config-hash"].as_str().unwrap().len(),
        64
    );
    assert_eq!(h["PortBindings"]["8080/tcp"][0]["HostPort"], "31180");
    assert_eq!(h["PortBindings"]["53/udp"][0]["HostIp"], "10.213.0.11");
    assert_eq!(h["PortBindings"]["53/udp"][0]["HostPort"], "31153");
    assert_eq!(h["Binds"][0], format!("{}:/host:ro", t.dir.display()));
    assert_eq!(h["VolumesFrom"][0], t.n("db1"));
    assert_eq!(h["CapAdd"][0], "NET_ADMIN");
    let mut hosts: Vec<String> = serde_json::from_value(h["ExtraHosts"].clone()).unwrap();
    hosts.sort();
    assert_eq!(hosts, ["gw:10.213.0.1", "s2:10.213.0.12"]);
    assert_eq!(h["Dns"][0], "10.213.0.53");
    assert_eq!(h["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(h["RestartPolicy"]["MaximumRetryCount"], 3);
    assert_eq!(h["Memory"], 64 << 20);
    assert_eq!(h["MemorySwap"], 128 << 20);
    assert_eq!(h["CpuShares"], 512);
    assert_eq!(h["Ulimits"][0]["Name"], "nofile");
    assert_eq!(h["Ulimits"][0]["Soft"], 1024);
    assert_eq!(h["Ulimits"][0]["Hard"], 2048);
    assert_eq!(h["LogConfig"]["Type"], "json-file");
    assert_eq!(h["LogConfig"]["Config"]["max-size"], "1m");
    // The bind works: the test folder is visible read-only inside.
    let ls = t
        .lab
        .docker("ship1")
        .args(["exec", &t.n("app1"), "ls", "/host"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("maestro.yaml"));

    // A changed configuration leaves a running container alone and says so.
    let yaml = std::fs::read_to_string(t.dir.join("maestro.yaml")).unwrap();
    std::fs::write(
        t.dir.join("maestro.yaml"),
        yaml.replace("LEVEL: 3", "LEVEL: 4"),
    )
    .unwrap();
    let dry = t.maestro(&["start", "--dry-run"]);
    assert_code(&dry, 0);
    assert!(
        stdout(&dry).contains("configuration changed; restart to apply"),
        "{}",
        stdout(&dry)
    );
}

#[test]
fn refresh_pulls_from_the_registry_without_showing_the_password() {
    let t = TestEnv::new(
        "pull",
        "
  reg:
    image: {REGISTRY}/maestro-lab/box:1
    instances:
      {P}-r1: {ship: ship3, command: sleep 3600}
",
    );
    let out = t.maestro(&["start", "-r", "--progress", "plain"]);
    assert_code(&out, 0);
    let text = stdout(&out) + &stderr(&out);
    assert!(text.contains("pulling"), "{text}");
    assert!(!text.contains(&t.lab.var("MAESTRO_LAB_REGISTRY_PASSWORD")));
    assert!(running(&t.inspect("ship3", &t.n("r1")).unwrap()));
    // Without -r an image the ship has is not pulled again.
    assert_code(&t.maestro(&["stop", &t.n("r1")]), 0);
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);
    assert!(!stdout(&out).contains("pulling"), "{}", stdout(&out));
}

#[test]
fn ctrl_c_stops_scheduling_and_a_second_start_completes() {
    let mut services = String::from("  s:\n    image: {IMAGE}\n    instances:\n");
    for k in 0..10 {
        services.push_str(&format!(
            "      {{P}}-s{k}: {{ship: ship{}, command: sleep 3600}}\n",
            k % 3 + 1
        ));
    }
    let t = TestEnv::new("intr", &services);
    let mut child = t
        .cmd(&["start", "-c", "1", "--progress", "plain"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let first_started = line.contains("started");
        seen.push(line);
        if first_started {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    seen.extend(lines.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    let text = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(text.contains("aborted: interrupted"), "{text}");
    assert!(text.contains("interrupted after"), "{text}");

    let again = t.maestro(&["start"]);
    assert_code(&again, 0);
    for k in 0..10 {
        let ship = format!("ship{}", k % 3 + 1);
        assert!(running(&t.inspect(&ship, &t.n(&format!("s{k}"))).unwrap()));
    }
}

/// The containers of this test's environment on a ship, by name.
fn containers_of(t: &TestEnv) -> Vec<String> {
    let mut names = Vec::new();
    for ship in SHIPS {
        let out = t
            .lab
            .docker(ship)
            .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
            .arg(format!("label=maestro.environment={}", t.name))
            .output()
            .unwrap();
        names.extend(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string),
        );
    }
    names.sort();
    names
}

#[test]
fn checks_gate_dependents_and_independent_instances_overlap() {
    let t = TestEnv::new("gate", "
  a:
    image: {IMAGE}
    ports: {http: '8080:31280'}
    lifecycle:
      running: [{type: http, port: http, path: /index.html, match_regex: ready, max_wait: 20}]
    instances:
      {P}-a1: {ship: ship1, command: \"sh -c 'sleep 2; mkdir -p /www; echo ready > /www/index.html; exec httpd -f -p 8080 -h /www'\"}
      {P}-a2: {ship: ship2, command: \"sh -c 'sleep 2; mkdir -p /www; echo ready > /www/index.html; exec httpd -f -p 8080 -h /www'\"}
  b:
    image: {IMAGE}
    requires: [a]
    lifecycle:
      running: [{type: exec, command: \"sh -c 'test -n \\\"$CONTAINER_NAME\\\"'\", attempts: 5}]
    instances:
      {P}-b1: {ship: ship2, command: sleep 3600}
  c:
    image: {IMAGE}
    requires: [b]
    lifecycle:
      running: [{type: rexec, command: [sh, -c, 'test -e /bin/sh'], attempts: 5}]
    instances:
      {P}-c1: {ship: ship3, command: sleep 3600}
");
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("checking"), "{text}");
    let a1v = t.inspect("ship1", &t.n("a1")).unwrap();
    let a2v = t.inspect("ship2", &t.n("a2")).unwrap();
    let (a1, a2) = (started_at(&a1v), started_at(&a2v));
    let b1 = started_at(&t.inspect("ship2", &t.n("b1")).unwrap());
    let c1 = started_at(&t.inspect("ship3", &t.n("c1")).unwrap());
    // a's http check cannot pass before its 2 s sleep is over, and b
    // starts only once both a instances passed it.
    let wait = 2_000_000_000;
    assert!(
        b1 >= a1.max(a2) + wait,
        "b1 {b1} too early after a1 {a1} / a2 {a2}"
    );
    assert!(c1 > b1, "c1 {c1} before b1 {b1}");
    // The two a instances ran at the same time: each was created while the
    // other still waited for its check (which needs 2 s after its start).
    let created = |v: &Value| nanos_of_day(v["Created"].as_str().unwrap());
    assert!(
        created(&a2v) < a1 + wait,
        "a2 created after a1's task ended"
    );
    assert!(
        created(&a1v) < a2 + wait,
        "a1 created after a2's task ended"
    );
}

#[test]
fn a_dependents_container_is_created_while_its_dependency_is_checked() {
    let t = TestEnv::new(
        "early",
        "
  a:
    image: {IMAGE}
    lifecycle:
      running: [{type: sleep, wait: 3}]
    instances:
      {P}-a1: {ship: ship1, command: sleep 3600}
  b:
    image: {IMAGE}
    requires: [a]
    instances:
      {P}-b1: {ship: ship2, command: sleep 3600}
  c:
    image: {IMAGE}
    requires: [a]
    # A pre-start check may look for the dependencies: c is created after.
    lifecycle:
      pre-start: [{type: sleep, wait: 1}]
    instances:
      {P}-c1: {ship: ship3, command: sleep 3600}
",
    );
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);
    let a1 = t.inspect("ship1", &t.n("a1")).unwrap();
    let b1 = t.inspect("ship2", &t.n("b1")).unwrap();
    let c1 = t.inspect("ship3", &t.n("c1")).unwrap();
    let created = |v: &Value| nanos_of_day(v["Created"].as_str().unwrap());
    let wait = 3_000_000_000;
    // a1's check lasts 3 s from its start: b1 was created before it passed,
    // and started after.
    assert!(
        created(&b1) < started_at(&a1) + wait,
        "b1 created {} not before a1's check ended {}",
        created(&b1),
        started_at(&a1) + wait
    );
    assert!(
        started_at(&b1) >= started_at(&a1) + wait,
        "b1 started during a1's check"
    );
    assert!(
        created(&c1) >= started_at(&a1) + wait,
        "c1 created before a1's check ended"
    );
}

#[test]
fn a_check_that_never_passes_fails_in_time_and_aborts_dependents() {
    let t = TestEnv::new(
        "never",
        "
  a:
    image: {IMAGE}
    lifecycle:
      running: [{type: exec, command: 'false', attempts: 3}]
    instances:
      {P}-a1: {ship: ship1, command: sleep 3600}
  b:
    image: {IMAGE}
    requires: [a]
    instances:
      {P}-b1: {ship: ship2, command: sleep 3600}
  c:
    image: {IMAGE}
    requires: [b]
    instances:
      {P}-c1: {ship: ship3, command: sleep 3600}
",
    );
    let began = Instant::now();
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "{:?}",
        began.elapsed()
    );
    let text = stdout(&out);
    assert!(text.contains("running checks failed"), "{text}");
    assert!(
        text.contains(&format!("aborted: {} failed", t.n("a1"))),
        "{text}"
    );
    assert!(
        text.contains(&format!("not attempted: {}, {}", t.n("b1"), t.n("c1"))),
        "{text}"
    );
    // The only container is the one reported as failed.
    assert_eq!(containers_of(&t), [t.n("a1")]);
}

#[test]
fn a_container_dying_during_its_checks_fails_with_its_logs() {
    let t = TestEnv::new("dies", "
  a:
    image: {IMAGE}
    ports: {p: '9000:31390'}
    lifecycle:
      running: [{type: tcp, port: p, max_wait: 100}]
    instances:
      {P}-a1: {ship: ship1, command: \"sh -c 'echo starting up; sleep 1; echo giving up >&2; exit 4'\"}
");
    let began = Instant::now();
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    let text = stdout(&out);
    assert!(text.contains("giving up"), "{text}");
}

#[test]
fn stop_runs_its_checks_and_a_failed_stop_does_not_halt_the_play() {
    let t = TestEnv::new(
        "stopchk",
        "
  a:
    image: {IMAGE}
    lifecycle:
      pre-stop: [{type: rexec, command: [sh, -c, 'test -e /bin/sh'], attempts: 3}]
      stopped: [{type: sleep, wait: 0.2}]
    instances:
      {P}-a1: {ship: ship1, command: sleep 3600, stop_timeout: 1}
  b:
    image: {IMAGE}
    requires: [a]
    lifecycle:
      pre-stop: [{type: exec, command: 'false', attempts: 2}]
    instances:
      {P}-b1: {ship: ship2, command: sleep 3600, stop_timeout: 1}
",
    );
    assert_code(&t.maestro(&["start"]), 0);
    // b (stopped first) fails its pre-stop check: reported, not fatal, a
    // is still stopped, and the exit code says something failed.
    let out = t.maestro(&["stop", "-a", "--progress", "plain"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("pre-stop checks failed"), "{text}");
    assert!(text.contains("stop: 1 done, 1 failed"), "{text}");
    assert!(running(&t.inspect("ship2", &t.n("b1")).unwrap()));
    let a1 = t.inspect("ship1", &t.n("a1")).unwrap();
    assert!(!running(&a1));
}

/// A TCP relay on loopback to a lab daemon, which the test can sever at any
/// moment: from then on the "ship" behind it refuses every connection, as a
/// daemon that went away mid-run does, while the lab's daemons stay up for
/// the other tests.
struct Relay {
    port: u16,
    severed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    streams: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn to(target: String) -> Relay {
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let relay = Relay {
            port,
            severed: Default::default(),
            streams: Default::default(),
        };
        let (severed, streams) = (relay.severed.clone(), relay.streams.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if severed.load(Ordering::SeqCst) {
                    // Dropping the listener makes later connects refused.
                    return;
                }
                let Ok(client) = conn else { continue };
                let Ok(daemon) = TcpStream::connect(&target) else {
                    continue;
                };
                {
                    let mut open = streams.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(daemon.try_clone().unwrap());
                }
                let (mut c2, mut d2) = (client.try_clone().unwrap(), daemon.try_clone().unwrap());
                let (mut c1, mut d1) = (client, daemon);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c1, &mut d1);
                    let _ = d1.shutdown(Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut d2, &mut c2);
                    let _ = c2.shutdown(Shutdown::Write);
                });
            }
        });
        relay
    }

    /// Closes every open connection and stops listening.
    fn sever(&self) {
        use std::sync::atomic::Ordering;
        self.severed.store(true, Ordering::SeqCst);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

#[test]
fn a_ship_whose_daemon_goes_away_mid_run_fails_its_own_tasks_and_says_so() {
    let lab = maestro_tests::Lab::get();
    let relay = Relay::to(format!("{}:2375", lab.ship_ip("ship1")));
    let flaky = format!(
        "  flaky:\n    ip: {}\n    endpoint: 127.0.0.1\n    docker_port: {}\n    timeout: 5\n",
        lab.ship_ip("ship1"),
        relay.port
    );
    let t = TestEnv::with_extra(
        "midrun",
        &flaky,
        "
  a:
    image: {IMAGE}
    lifecycle:
      running: [{type: sleep, wait: 2}]
    instances:
      {P}-a1: {ship: ship2, command: sleep 3600, stop_timeout: 1}
  b:
    image: {IMAGE}
    requires: [a]
    instances:
      {P}-b1: {ship: flaky, command: sleep 3600, stop_timeout: 1}
",
    );
    let mut child = t.cmd(&["start", "--progress", "json"]).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    let mut severed = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        // The flaky ship answered while the play was planned; it goes away
        // while its dependency is still being checked.
        if !severed && v["instance"] == t.n("a1") && v["state"] == "checking" {
            relay.sever();
            severed = true;
        }
        events.push(v);
    }
    let out = child.wait_with_output().unwrap();
    assert!(severed, "a1 was never checked: {events:?}");
    assert_code(&out, 1);

    let last_state = |name: &str| {
        events
            .iter()
            .rev()
            .find(|e| e["instance"] == name && e["state"].is_string())
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(last_state(&t.n("a1"))["state"], "started", "{events:?}");
    let b1 = last_state(&t.n("b1"));
    assert_eq!(b1["state"], "failed", "{events:?}");
    // The failure names the ship and how it was reached.
    let message = b1["message"].as_str().unwrap();
    assert!(message.contains("flaky"), "{message}");
    assert!(
        message.contains(&format!("127.0.0.1:{}", relay.port)),
        "{message}"
    );
    // b1 was never started. Its container may exist: it is created while
    // its dependency is still being checked, before the ship went away
    // (a ship that is gone cannot be told to remove it either).
    if let Some(b1) = t.inspect("ship1", &t.n("b1")) {
        assert!(!running(&b1), "{b1}");
    }
    assert!(running(&t.inspect("ship2", &t.n("a1")).unwrap()));
}
