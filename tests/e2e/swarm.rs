//! `maestro swarm label` and `maestro export swarm` against a real Swarm:
//! three more lab daemons (`scripts/lab swarm`, swarm1..swarm3, swarm1 the
//! manager), the stack deployed with `docker stack deploy`.
//!
//! The environment is `examples/maestro.yaml` (store <- api <- web), adapted:
//! its ships are the Swarm's nodes (store-1 and web-1 on swarm1, api-1 on
//! swarm2, api-2 on swarm3), instance names and host ports are unique to
//! the test run, and every service has `restart: always` (the example's
//! default, `no`, is Swarm's `none`: a killed task would stay dead). The
//! same file on the plain ships ship1..ship3 is started with `maestro start`
//! to compare the containers' environments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use maestro_tests::{Lab, SHIPS, TempDir, assert_code, bin, stderr, stdout, text};

const NODES: [&str; 3] = ["swarm1", "swarm2", "swarm3"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts (or finds) the lab's Swarm; returns its exports (`swarm.env`).
fn swarm_lab() -> BTreeMap<String, String> {
    let t = Instant::now();
    let out = Command::new(repo().join("scripts/lab"))
        .arg("swarm")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/lab swarm: {}",
        text(&out.stderr)
    );
    eprintln!(
        "scripts/lab swarm: {:.1} s: {}",
        t.elapsed().as_secs_f64(),
        text(&out.stderr).trim()
    );
    let dir = Lab::get().dir();
    std::fs::read_to_string(dir.join("swarm.env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// The example, adapted: `ships` replaces the lab fragment, the example's
/// ships become `placement`'s, instance names get `prefix`, host ports
/// start at `port`.
fn example(name: &str, prefix: &str, ships: &str, placement: [&str; 3], port: u16) -> String {
    let mut text = std::fs::read_to_string(repo().join("examples/maestro.yaml")).unwrap();
    for (from, to) in [
        ("name: demo", format!("name: {name}")),
        ("{% include \"lab.yaml\" %}", ships.to_string()),
        ("'7000:17000'", format!("'7000:{port}'")),
        ("'8080:18080'", format!("'8080:{}'", port + 1)),
        ("'8080:18000'", format!("'8080:{}'", port + 2)),
        ("ship: ship1", format!("ship: {}", placement[0])),
        ("ship: ship2", format!("ship: {}", placement[1])),
        ("ship: ship3", format!("ship: {}", placement[2])),
    ] {
        assert!(text.contains(from), "the example has no {from}");
        text = text.replace(from, &to);
    }
    for i in ["store-1", "api-1", "api-2", "web-1"] {
        text = text.replace(
            &format!("      {i}: {{ship"),
            &format!("      {prefix}-{i}: {{restart: always, ship"),
        );
    }
    text
}

fn docker(socket: &str) -> Command {
    let mut c = Command::new("docker");
    c.env("DOCKER_HOST", format!("unix://{socket}"))
        .stdin(Stdio::null());
    c
}

fn ok(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{c:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Removes the stack and the plain ships' containers, also when the test fails.
struct Cleanup {
    manager: String,
    stack: String,
    env_name: String,
    lab: Lab,
    /// Named volumes the stack made: (daemon socket, name).
    volumes: Vec<(String, String)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = docker(&self.manager)
            .args(["stack", "rm", &self.stack])
            .output();
        // A volume goes once the task's container is gone.
        for (socket, name) in &self.volumes {
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(30) {
                let out = docker(socket).args(["volume", "rm", name]).output();
                if out
                    .is_ok_and(|o| o.status.success() || text(&o.stderr).contains("no such volume"))
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        for ship in SHIPS {
            let out = self
                .lab
                .docker(ship)
                .args(["ps", "-aq", "--filter"])
                .arg(format!("label=maestro.environment={}", self.env_name))
                .output();
            let Ok(out) = out else { continue };
            let ids: Vec<String> = text(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = self.lab.docker(ship).args(["rm", "-f"]).args(&ids).output();
            }
        }
    }
}

/// The running task container of a service: (node, container id).
fn task(
    manager: &str,
    sockets: &BTreeMap<&str, String>,
    service: &str,
) -> Option<(String, String)> {
    let out = docker(manager)
        .args([
            "service",
            "ps",
            service,
            "--filter",
            "desired-state=running",
        ])
        .args(["--format", "{{.Node}} {{.CurrentState}}"])
        .output()
        .ok()?;
    let line = text(&out.stdout);
    let line = line.lines().find(|l| l.contains(" Running "))?;
    let node = line.split(' ').next()?.to_string();
    let ids = ok({
        let mut c = docker(&sockets[node.as_str()]);
        c.args(["ps", "-q", "--filter"])
            .arg(format!("label=com.docker.swarm.service.name={service}"));
        c
    });
    let id = ids.split_whitespace().next()?.to_string();
    Some((node, id))
}

fn env_of(socket: &str, container: &str) -> BTreeSet<String> {
    let out = ok({
        let mut c = docker(socket);
        c.args(["inspect", "--format", "{{json .Config.Env}}", container]);
        c
    });
    serde_json::from_str::<Vec<String>>(out.trim())
        .unwrap()
        .into_iter()
        .collect()
}

fn get(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s =
        std::net::TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    (body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200")).then_some(body)
}

/// The page, once it lists the items from both api instances.
fn wait_page(addr: &str, apis: &[String], limit: Duration) -> String {
    let t = Instant::now();
    loop {
        if let Some(page) = get(addr)
            && apis.iter().all(|a| page.contains(&format!("--- {a}\n")))
            && page.matches("apples 3").count() == 2
        {
            return page;
        }
        assert!(
            t.elapsed() < limit,
            "no full page at {addr} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_example_runs_on_a_swarm_as_maestro_runs_it() {
    let lab = Lab::get();
    let swarm = swarm_lab();
    let sockets: BTreeMap<&str, String> = NODES
        .iter()
        .map(|n| {
            (
                *n,
                swarm[&format!("MAESTRO_LAB_{}_SOCKET", n.to_uppercase())].clone(),
            )
        })
        .collect();
    let ips: Vec<String> = NODES
        .iter()
        .map(|n| swarm[&format!("MAESTRO_LAB_{}_IP", n.to_uppercase())].clone())
        .collect();
    let manager = sockets["swarm1"].clone();
    let pid = std::process::id();
    let name = format!("e2e-swarm-{pid}");
    let prefix = format!("t{pid}-sw");
    let stack = format!("sw{pid}");
    let port = 20000 + (pid % 4000) as u16 * 3;
    let _cleanup = Cleanup {
        manager: manager.clone(),
        stack: stack.clone(),
        env_name: name.clone(),
        lab: lab.clone(),
        volumes: Vec::new(),
    };

    // The Swarm's ships, and one ship no node has.
    let mut ships = String::from("ships:\n");
    for (n, ip) in NODES.iter().zip(&ips) {
        ships.push_str(&format!(
            "  {n}: {{ip: {ip}, docker_port: 2375, timeout: 30}}\n"
        ));
    }
    ships.push_str("  ghost: {ip: 10.213.0.49, docker_port: 2375}\n");
    let dir = TempDir::new("e2e", "swarm");
    dir.write(
        "maestro.yaml",
        &example(&name, &prefix, &ships, NODES, port),
    );
    let plain = TempDir::new("e2e", "swarm-plain");
    plain.write(
        "maestro.yaml",
        &example(&name, &prefix, &lab.fragment(), SHIPS, port),
    );
    let maestro = |dir: &Path, args: &[&str]| -> Output {
        Command::new(bin("maestro"))
            .args(args)
            .current_dir(dir)
            .env_remove("MAESTRO_FILE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    // Labels: each node by its address; the ghost ship has none.
    let out = maestro(&dir, &["swarm", "label", "--manager", "swarm1"]);
    assert_code(&out, 0);
    let said = stdout(&out);
    assert!(said.starts_with("manager: swarm1 (3 nodes)\n"), "{said}");
    for n in NODES {
        assert!(
            said.contains(&format!("{n}: node {n} labelled maestro.ship={n}\n"))
                || said.contains(&format!("{n}: node {n} already labelled\n")),
            "{said}"
        );
        let label = ok({
            let mut c = docker(&manager);
            c.args([
                "node",
                "inspect",
                n,
                "--format",
                "{{index .Spec.Labels \"maestro.ship\"}}",
            ]);
            c
        });
        assert_eq!(label.trim(), n);
    }
    assert!(said.ends_with("ships without a node: ghost\n"), "{said}");
    let out = maestro(&dir, &["swarm", "label", "--manager", "swarm2"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no ship answered as a Swarm manager"),
        "{}",
        stderr(&out)
    );

    // --strict: the lifecycle checks Swarm does not run are errors.
    let file = dir.join("stack.yaml");
    let export = [
        "export",
        "swarm",
        "--wait-for-dependencies",
        "--guest",
        "/bin/maestro-guest",
        "--stack",
        &stack,
        "-o",
        "stack.yaml",
    ];
    let out = maestro(&dir, &[&export[..], &["--strict"]].concat());
    assert_code(&out, 1);
    assert!(!file.exists());
    let out = maestro(&dir, &export);
    assert_code(&out, 0);
    let warnings: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
    let want: Vec<String> = [
        ("store-1", "tcp"),
        ("api-1", "http"),
        ("api-2", "http"),
        ("web-1", "rexec"),
    ]
    .iter()
    .map(|(i, c)| {
        format!(
            "maestro: warning: {prefix}-{i}: lifecycle.running: Swarm does not run maestro's \
                 lifecycle checks ({c}); left out (a healthcheck is Swarm's own form)"
        )
    })
    .collect();
    assert_eq!(
        warnings.iter().collect::<BTreeSet<_>>(),
        want.iter().collect::<BTreeSet<_>>()
    );

    // Deploy; every task on its ship's node.
    let t = Instant::now();
    ok({
        let mut c = docker(&manager);
        c.args(["stack", "deploy", "--resolve-image", "never", "-c"])
            .arg(&file)
            .arg(&stack);
        c
    });
    let deployed = t.elapsed();
    let placed = [
        ("store-1", "swarm1"),
        ("api-1", "swarm2"),
        ("api-2", "swarm3"),
        ("web-1", "swarm1"),
    ];
    let mut tasks = BTreeMap::new();
    while tasks.len() < placed.len() {
        for (i, node) in placed {
            let service = format!("{stack}_{prefix}-{i}");
            if let Some((on, id)) = task(&manager, &sockets, &service) {
                assert_eq!(on, node, "{service} runs on {on}");
                tasks.insert(i, id);
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "tasks running: {tasks:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = t.elapsed();
    let web = format!("{}:{}", ips[0], port + 2);
    let apis = [
        format!("{}:{}", ips[1], port + 1),
        format!("{}:{}", ips[2], port + 1),
    ];
    let page = wait_page(&web, &apis, Duration::from_secs(60));
    let served = t.elapsed();
    assert!(
        page.contains(&format!(
            "{prefix}-web-1 on {}, items from every api:",
            ips[0]
        )),
        "{page}"
    );

    // The same file on the plain ships, started by maestro.
    let out = maestro(&plain, &["start", "--progress", "plain"]);
    assert_code(&out, 0);
    let ship_ip = |s: &str| lab.ship_ip(s);
    // What legitimately differs: the ships' addresses (each node's address
    // stands where its ship's is). Nothing else.
    let to_plain = |v: &str| -> String {
        let mut v = v.to_string();
        for (n, s) in ips.iter().zip(SHIPS) {
            v = v.replace(n.as_str(), &ship_ip(s));
        }
        v
    };
    for (i, node) in placed {
        let ship = SHIPS[NODES.iter().position(|n| *n == node).unwrap()];
        let on_swarm: BTreeSet<String> = env_of(&sockets[node], &tasks[i])
            .iter()
            .map(|e| to_plain(e))
            .collect();
        let on_ship = env_of(
            &lab.ship_socket(ship).display().to_string(),
            &format!("{prefix}-{i}"),
        );
        assert_eq!(on_swarm, on_ship, "the environment of {i}");
    }
    // The guest's answer inside a task, and inside maestro's container.
    let node_list = |socket: &str, c: &str| {
        ok({
            let mut cmd = docker(socket);
            cmd.args(["exec", c, "maestro-guest", "node-list", "api", "http"]);
            cmd
        })
    };
    let in_task = node_list(&sockets["swarm1"], &tasks["web-1"]);
    assert_eq!(in_task, format!("{}\n{}\n", apis[0], apis[1]));
    let in_ship = node_list(
        &lab.ship_socket("ship1").display().to_string(),
        &format!("{prefix}-web-1"),
    );
    assert_eq!(to_plain(&in_task), in_ship);

    // A killed task's container is replaced, and the page comes back.
    let t = Instant::now();
    ok({
        let mut c = docker(&sockets["swarm1"]);
        c.args(["kill", &tasks["web-1"]]);
        c
    });
    let service = format!("{stack}_{prefix}-web-1");
    loop {
        if let Some((on, id)) = task(&manager, &sockets, &service)
            && id != tasks["web-1"]
        {
            assert_eq!(on, "swarm1");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "web-1 was not replaced"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let replaced = t.elapsed();
    wait_page(&web, &apis, Duration::from_secs(60));
    eprintln!(
        "swarm: stack deploy returned in {:.2} s, all 4 tasks running after {:.2} s, page after {:.2} s; \
         killed web task replaced after {:.2} s, page back after {:.2} s",
        deployed.as_secs_f64(),
        running.as_secs_f64(),
        served.as_secs_f64(),
        replaced.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

/// Every key the export maps reaches the task's container (or its service),
/// as `docker stack deploy` reads the file; `net: host` is the host network.
#[test]
fn every_mapped_key_reaches_the_task() {
    let swarm = swarm_lab();
    let manager = swarm["MAESTRO_LAB_SWARM1_SOCKET"].clone();
    let node = swarm["MAESTRO_LAB_SWARM2_SOCKET"].clone();
    let pid = std::process::id();
    let stack = format!("swk{pid}");
    let port = 20000 + (pid % 4000) as u16 * 3;
    let _cleanup = Cleanup {
        manager: manager.clone(),
        stack: stack.clone(),
        env_name: format!("e2e-swk-{pid}"),
        lab: Lab::get(),
        volumes: vec![(node.clone(), format!("data-{pid}"))],
    };
    let dir = TempDir::new("e2e", "swarm-keys");
    let sleep = "command: [sh, -c, \"trap 'exit 0' TERM; sleep 1000 & wait\"]";
    dir.write(
        "maestro.yaml",
        &format!(
            "name: e2e-swk-{pid}
__maestro: {{schema: 2}}
ships:
  swarm1: {{ip: {}, docker_port: 2375}}
  swarm2: {{ip: {}, docker_port: 2375}}
networks:
  back: {{labels: {{tier: back}}}}
volumes:
  data-{pid}: {{}}
services:
  k:
    image: maestro-lab/box:1
    instances:
      kk-1:
        ship: swarm2
        command: [\"trap 'exit 0' TERM; sleep 1000 & wait\"]
        volumes: {{/tmp: {{target: /hosttmp, mode: ro}}, data-{pid}: /data}}
        container_volumes: [/scratch]
        restart: on-failure:3
        limits: {{memory: 64m}}
        stop_timeout: 5
        dns: [10.213.0.1]
        extra_hosts: {{db: 10.213.0.9}}
        cap_add: [NET_ADMIN]
        cap_drop: [MKNOD]
        ulimits: {{nofile: {{soft: 1024, hard: 4096}}}}
        labels: {{team: data}}
        log_driver: json-file
        log_opt: {{max-size: 10m}}
        username: '65534'
        workdir: /tmp
        ports: {{p: '80/udp:{port}/udp'}}
        env: {{PRICE: '$5'}}
        networks: {{back: {{aliases: [kdb]}}}}
        healthcheck: {{test: [CMD, /bin/true], interval: 1500ms, retries: 2}}
        entrypoint: [/bin/sh, -c]
        tmpfs: {{/run: size=1m}}
        stop_signal: SIGQUIT
        init: true
        read_only: true
        sysctls: {{net.core.somaxconn: 1024}}
        dns_search: [lab]
        cpus: 0.5
        mem_reservation: 8m
      hh-1: {{ship: swarm1, net: host, {sleep}}}
",
            swarm["MAESTRO_LAB_SWARM1_IP"], swarm["MAESTRO_LAB_SWARM2_IP"]
        ),
    );
    let out = Command::new(bin("maestro"))
        .args(["export", "swarm", "--stack", &stack, "-o", "stack.yaml"])
        .current_dir(&dir)
        .env_remove("MAESTRO_FILE")
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(
        stderr(&out),
        "maestro: warning: kk-1: mem_reservation: written as deploy.resources.reservations.memory, \
         which Swarm places tasks by; the container gets no soft memory limit\n"
    );
    let deploy = docker(&manager)
        .args(["stack", "deploy", "--resolve-image", "never", "-c"])
        .arg(dir.join("stack.yaml"))
        .arg(&stack)
        .output()
        .unwrap();
    assert!(deploy.status.success(), "{}", text(&deploy.stderr));
    // No key of the file is one docker stack deploy ignores.
    assert!(
        !text(&deploy.stderr).contains("Ignoring"),
        "{}",
        text(&deploy.stderr)
    );
    let sockets: BTreeMap<&str, String> = [("swarm1", manager.clone()), ("swarm2", node.clone())]
        .into_iter()
        .collect();
    let t = Instant::now();
    let (kk, hh) = loop {
        let kk = task(&manager, &sockets, &format!("{stack}_kk-1"));
        let hh = task(&manager, &sockets, &format!("{stack}_hh-1"));
        if let (Some(kk), Some(hh)) = (kk, hh) {
            break (kk, hh);
        }
        assert!(t.elapsed() < Duration::from_secs(60), "tasks not running");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!((kk.0.as_str(), hh.0.as_str()), ("swarm2", "swarm1"));
    let inspect = ok({
        let mut c = docker(&node);
        c.args(["inspect", &kk.1]);
        c
    });
    let v: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&inspect).unwrap()[0].clone();
    let (config, host) = (&v["Config"], &v["HostConfig"]);
    assert_eq!(config["Hostname"], "kk-1");
    assert_eq!(config["User"], "65534");
    assert_eq!(config["WorkingDir"], "/tmp");
    assert_eq!(config["Labels"]["team"], "data");
    assert!(
        config["Env"]
            .as_array()
            .unwrap()
            .contains(&"PRICE=$5".into()),
        "{}",
        config["Env"]
    );
    assert_eq!(host["CapAdd"], serde_json::json!(["CAP_NET_ADMIN"]));
    assert_eq!(host["CapDrop"], serde_json::json!(["CAP_MKNOD"]));
    assert_eq!(host["Dns"], serde_json::json!(["10.213.0.1"]));
    assert_eq!(host["ExtraHosts"], serde_json::json!(["db:10.213.0.9"]));
    assert_eq!(
        host["Ulimits"],
        serde_json::json!([{"Name": "nofile", "Soft": 1024, "Hard": 4096}])
    );
    assert_eq!(
        host["LogConfig"],
        serde_json::json!({"Type": "json-file", "Config": {"max-size": "10m"}})
    );
    assert_eq!(host["Memory"], 64 * 1024 * 1024);
    let mounts = host["Mounts"].as_array().unwrap();
    let mount = |target: &str| {
        mounts
            .iter()
            .find(|m| m["Target"] == target)
            .unwrap_or_else(|| panic!("no mount at {target}: {mounts:?}"))
            .clone()
    };
    assert_eq!(
        mount("/hosttmp"),
        serde_json::json!({"Type": "bind", "Source": "/tmp", "Target": "/hosttmp", "ReadOnly": true})
    );
    assert_eq!(mount("/scratch")["Type"], "volume");
    // The named volume keeps maestro's name (not the stack's prefix).
    assert_eq!(mount("/data")["Source"], format!("data-{pid}"));
    assert_eq!(mount("/run")["Type"], "tmpfs");
    assert_eq!(mount("/run")["TmpfsOptions"]["SizeBytes"], 1 << 20);
    assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(config["StopSignal"], "SIGQUIT");
    assert_eq!(
        config["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "/bin/true"])
    );
    assert_eq!(config["Healthcheck"]["Interval"], 1_500_000_000i64);
    assert_eq!(host["Init"], true);
    assert_eq!(host["ReadonlyRootfs"], true);
    assert_eq!(host["Sysctls"]["net.core.somaxconn"], "1024");
    assert_eq!(host["DnsSearch"], serde_json::json!(["lab"]));
    assert_eq!(host["NanoCpus"], 500_000_000);
    // On the stack's network (Swarm names it <stack>_back); the alias is
    // the service's, answered by Swarm's DNS.
    let networks = &v["NetworkSettings"]["Networks"];
    assert!(
        networks.get(format!("{stack}_back")).is_some(),
        "{networks}"
    );
    assert_eq!(
        v["NetworkSettings"]["Ports"]["80/udp"][0]["HostPort"],
        port.to_string()
    );
    let service = ok({
        let mut c = docker(&manager);
        c.args(["service", "inspect", &format!("{stack}_kk-1")]);
        c
    });
    let spec = serde_json::from_str::<serde_json::Value>(&service).unwrap()[0]["Spec"].clone();
    assert_eq!(spec["Labels"]["maestro.instance"], "kk-1");
    let task_spec = &spec["TaskTemplate"];
    assert_eq!(task_spec["RestartPolicy"]["Condition"], "on-failure");
    assert_eq!(task_spec["RestartPolicy"]["MaxAttempts"], 3);
    assert_eq!(
        task_spec["ContainerSpec"]["StopGracePeriod"],
        5_000_000_000i64
    );
    assert_eq!(spec["EndpointSpec"]["Mode"], "dnsrr");
    assert_eq!(
        task_spec["Networks"][0]["Aliases"],
        serde_json::json!(["kdb", "kk-1"])
    );
    // Swarm places by it; the container gets no soft limit (a finding).
    assert_eq!(
        task_spec["Resources"]["Reservations"]["MemoryBytes"],
        8 << 20
    );
    let network = ok({
        let mut c = docker(&manager);
        c.args([
            "inspect",
            "--format",
            "{{.HostConfig.NetworkMode}} {{.Config.Hostname}}",
            &hh.1,
        ]);
        c
    });
    assert_eq!(network.trim(), "host swarm1");
}

/// The command's refusals, without Docker: a secret (named, never shown)
/// and a bad stack name write nothing; `--show-secrets` writes the value;
/// standard output is the default.
#[test]
fn export_refuses_secrets_and_bad_stack_names() {
    let dir = TempDir::new("e2e", "swarm-refuse");
    dir.write(
        "maestro.yaml",
        "name: refuse\nships: {s1: {ip: 10.213.0.41}}\nservices:\n  db:\n    image: maestro-lab/box:1\n    env: {DB_PASSWORD: hunter2, MODE: fast}\n    instances: {db-1: {ship: s1}}\n",
    );
    let maestro = |args: &[&str]| {
        Command::new(bin("maestro"))
            .args(args)
            .current_dir(&dir)
            .env_remove("MAESTRO_FILE")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let out = maestro(&["export", "swarm", "-o", "stack.yaml"]);
    assert_code(&out, 1);
    assert_eq!(
        stderr(&out),
        "maestro: refusing to export:\n  db-1: env.DB_PASSWORD holds a secret, which the stack file \
         would show in clear; give --show-secrets to write it anyway\n"
    );
    assert!(!dir.join("stack.yaml").exists());
    let out = maestro(&["export", "swarm", "--stack=-bad"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--stack \"-bad\""),
        "{}",
        stderr(&out)
    );
    let out = maestro(&["export", "swarm", "nope"]);
    assert_code(&out, 2);
    let out = maestro(&["export", "swarm", "--show-secrets"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("      DB_PASSWORD: hunter2\n"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("\nversion: \"3.8\"\n"),
        "{}",
        stdout(&out)
    );
}
