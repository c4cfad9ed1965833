//! The config commands through the built `maestro` binary: validate,
//! deptree, dump and config. No daemon needed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use maestro_tests::{TempDir, bin, text};

const ENV: &str = "name: demo
ships:
  s1: {ip: 10.213.0.11}
  s2: {ip: 10.213.0.12}
registries:
  lab: {registry: 'https://10.213.0.30:5000', username: u, password: hunter2}
services:
  zookeeper:
    image: lab/zk:1
    ports: {client: 2181}
    instances:
      zk-1: {ship: s1}
      zk-2: {ship: s2}
  kafka:
    image: lab/kafka:2
    requires: [zookeeper]
    env: {API_TOKEN: t0ps3cret}
    instances:
      kafka-1: {ship: s1, ports: {broker: 9092}}
";

/// A fresh folder for one test, holding `maestro.yaml` with `text`.
fn folder(test: &str, text: &str) -> TempDir {
    let dir = TempDir::new("config", test);
    dir.write("maestro.yaml", text);
    dir
}

fn maestro(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(bin("maestro"));
    cmd.args(args).current_dir(dir).env_remove("MAESTRO_FILE");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn validate_prints_a_summary_and_exits_0() {
    let dir = folder("validate-ok", ENV);
    let out = maestro(&dir, &["validate"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "maestro.yaml: valid: 2 ships, 2 services, 3 instances\n"
    );
    // MAESTRO_FILE is the fallback for -f.
    let other = dir.join("other.yaml");
    std::fs::write(&other, ENV).unwrap();
    std::fs::remove_file(dir.join("maestro.yaml")).unwrap();
    let out = Command::new(bin("maestro"))
        .arg("validate")
        .current_dir(&dir)
        .env("MAESTRO_FILE", &other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn validate_reports_every_error_and_exits_1() {
    let bad = ENV
        .replace("ship: s2", "ship: s3")
        .replace("requires: [zookeeper]", "requires: [zookeper]")
        .replace("broker: 9092", "broker: \"9092/tcp:9092/udp\"");
    let dir = folder("validate-bad", &bad);
    let out = maestro(&dir, &["validate"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("maestro.yaml:13:20: services.zookeeper.instances.zk-2.ship: unknown ship \"s3\"; did you mean"), "{err}");
    assert!(lines[1].starts_with("maestro.yaml:16:16: services.kafka.requires[0]: service dependency zookeper defined on kafka does not exist; did you mean \"zookeeper\"?"), "{err}");
    assert!(lines[2].starts_with("maestro.yaml:19:43: services.kafka.instances.kafka-1.ports.broker: mismatched protocols"), "{err}");
}

#[test]
fn missing_file_is_exit_2() {
    let dir = folder("missing", ENV);
    let out = maestro(&dir, &["-f", "nope.yaml", "validate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "nope.yaml: environment file not found\n");
}

#[test]
fn stdin_renders_templates_with_includes_from_the_current_folder() {
    let dir = folder("stdin", "");
    std::fs::write(dir.join("ships.yaml"), "ships:\n  s1: {ip: 10.213.0.11}\n").unwrap();
    let main = "name: {{ env.ENV_NAME }}\n{% include \"ships.yaml\" %}\n";
    let mut cmd = Command::new(bin("maestro"));
    cmd.args(["-f", "-", "dump"])
        .current_dir(&dir)
        .env("ENV_NAME", "from-env");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(main.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["name"], "from-env");
    assert_eq!(doc["ships"]["s1"]["ip"], "10.213.0.11");
    // Strict templates: an undefined variable is an error naming the line.
    let out = maestro(
        &dir,
        &["--strict-templates", "-f", "-", "validate"],
        Some("name: x\nships: {{ env.NOT_SET_ANYWHERE }}\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("<stdin>:2: template error: undefined value"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn deptree_prints_the_tree() {
    let yaml = "name: t\nships: {s: {ip: 127.0.0.1}}\nservices:\n  A: {image: a, requires: [B, C], instances: {a1: {ship: s}}}\n  B: {image: b, requires: [C], instances: {b1: {ship: s}}}\n  C: {image: c, instances: {c1: {ship: s}}}\n";
    let dir = folder("deptree", yaml);
    let out = maestro(&dir, &["deptree", "A"], None);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "A\n +- B\n \\- C\n".to_string())
    );
    let out = maestro(&dir, &["deptree", "-r", "a1", "B"], None);
    assert_eq!(
        text(&out.stdout),
        "A\n +- B\n |  \\- C\n \\- C\n\nB\n \\- C\n"
    );
    let out = maestro(&dir, &["deptree", "nope"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope is neither a service nor a container"));
}

#[test]
fn dump_redacts_secrets_unless_asked() {
    let dir = folder("dump", ENV);
    let out = maestro(&dir, &["dump", "-c"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("t0ps3cret"),
        "{stdout}"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = doc["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["zk-1", "zk-2", "kafka-1"], "dependency order");
    assert_eq!(doc["registries"]["lab"]["password"], "<redacted>");
    assert_eq!(doc["instances"][2]["env"]["API_TOKEN"], "<redacted>");
    assert_eq!(doc["config"]["registries"]["lab"]["password"], "<redacted>");
    assert_eq!(
        doc["instances"][2]["config_hash"].as_str().unwrap().len(),
        64
    );

    let out = maestro(
        &dir,
        &["config", "--format", "json", "--show-secrets"],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["registries"]["lab"]["password"], "hunter2");
    let kafka = &doc["instances"][2]["env"];
    assert_eq!(kafka["API_TOKEN"], "t0ps3cret");
    assert_eq!(kafka["ZOOKEEPER_ZK_2_HOST"], "10.213.0.12");
    assert_eq!(kafka["ZOOKEEPER_INSTANCES"], "zk-1,zk-2");

    // Things limit the dump to them and their dependencies.
    let out = maestro(&dir, &["dump", "zk-2"], None);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["instances"].as_array().unwrap().len(), 1);
}

/// `maestro dump | head` closes the pipe early: the output stops there,
/// quietly, without a panic and without an error exit.
#[test]
fn dump_into_a_closed_pipe_stops_quietly() {
    let mut services = String::from("name: big\nships:\n  s1: {ip: 10.213.0.11}\nservices:\n");
    for i in 0..200 {
        services.push_str(&format!(
            "  svc{i}:\n    image: lab/app:1\n    env: {{A: '{}'}}\n    instances:\n      app-{i}: {{ship: s1}}\n",
            "x".repeat(400)
        ));
    }
    let dir = folder("pipe", &services);
    let mut child = Command::new(bin("maestro"))
        .args(["dump", "--show-secrets"])
        .current_dir(&dir)
        .env_remove("MAESTRO_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The dump is far larger than a pipe's buffer: closing the read end
    // before reading anything makes the writer hit a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// The `wide` shape of `scripts/bench/config`: 50 ships, services of 10
/// instances in chains of 10, two ports each, a shared anchor, and 40
/// variables per instance (about 2.6 KB an instance).
fn wide_environment(instances: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(instances * 2700);
    s.push_str("name: bench\n_jvm: &jvm [-Xmx512m, [-XX:+UseG1GC, -Dfoo=bar]]\n");
    s.push_str("ship_defaults: {timeout: 10, max_concurrency: 4}\nships:\n");
    for ship in 1..=50 {
        writeln!(
            s,
            "  ship{ship}: {{ip: 10.213.1.{ship}, docker_port: 2375}}"
        )
        .unwrap();
    }
    s.push_str("services:\n");
    let mut k = 0;
    for v in 1..=instances.div_ceil(10) {
        writeln!(
            s,
            "  svc-{v}:\n    image: registry.example:5000/team/svc-{v}:1.{v}"
        )
        .unwrap();
        if (v - 1) % 10 != 0 {
            writeln!(s, "    requires: [svc-{}]", v - 1).unwrap();
        }
        s.push_str("    env: {JAVA_OPTS: *jvm, LEVEL: info, WORKERS: 4}\n");
        writeln!(s, "    ports: {{admin: 9{}00}}", v % 10).unwrap();
        s.push_str("    lifecycle: {running: [{type: tcp, port: client}]}\n    instances:\n");
        for i in 1..=10 {
            if k == instances {
                break;
            }
            k += 1;
            let ship = k % 50 + 1;
            writeln!(
                s,
                "      svc-{v}-{i}:\n        ship: ship{ship}\n        ports: {{client: \"8080:{}\", admin: \"9000:{}\"}}\n        env:\n          ID: {k}",
                1024 + k,
                30000 + k
            )
            .unwrap();
            for j in 1..40 {
                writeln!(
                    s,
                    "          SETTING_{j:02}: value-{k}-{j}-abcdefghijklmnopqrstuvwxyz"
                )
                .unwrap();
            }
        }
    }
    s
}

/// A 5,000-instance file (13 MB) and the 3,000-instance shared-anchor file
/// of the size limit's regression are valid: no file is refused for its
/// size.
#[test]
fn validate_accepts_thousands_of_instances() {
    let dir = folder("validate-5000", &wide_environment(5000));
    let out = maestro(&dir, &["validate"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "maestro.yaml: valid: 50 ships, 500 services, 5000 instances\n"
    );
}

/// A 50 MB file of 20,000 instances with four errors planted far apart:
/// validation finishes and reports each at its key path and line.
#[test]
fn validate_of_20000_instances_reports_every_planted_error() {
    let mut text_ = wide_environment(20_000);
    assert!(text_.len() > 50_000_000, "{}", text_.len());
    let plant = |t: &mut String, from: &str, to: &str| {
        assert_eq!(t.matches(from).count(), 1, "{from}");
        *t = t.replacen(from, to, 1);
    };
    // An unknown ship, a service typo, an unknown key and a host port
    // taken twice on one ship (instance 3 and 19,953 are both on ship4).
    plant(
        &mut text_,
        "      svc-17-3:\n        ship: ship14\n",
        "      svc-17-3:\n        ship: ship51\n",
    );
    plant(
        &mut text_,
        "    requires: [svc-1233]\n",
        "    requires: [svc-12333]\n",
    );
    plant(
        &mut text_,
        "  svc-1500:\n    image:",
        "  svc-1500:\n    imagee: x\n    image:",
    );
    plant(&mut text_, "admin: \"9000:49953\"", "admin: \"9000:1027\"");
    let line_of = |needle: &str| text_[..text_.find(needle).unwrap()].matches('\n').count() + 1;
    let lines = [
        line_of("ship: ship51"),
        line_of("requires: [svc-12333]"),
        line_of("imagee: x"),
        line_of("admin: \"9000:1027\""),
    ];
    let dir = folder("validate-20000", &text_);
    drop(text_);
    let out = maestro(&dir, &["validate"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let want = [
        format!(
            "maestro.yaml:{}:15: services.svc-17.instances.svc-17-3.ship: unknown ship \"ship51\"",
            lines[0]
        ),
        format!(
            "maestro.yaml:{}:16: services.svc-1234.requires[0]: service dependency svc-12333 defined on svc-1234 does not exist",
            lines[1]
        ),
        format!(
            "maestro.yaml:{}:5: services.svc-1500.imagee: unknown key",
            lines[2]
        ),
        format!(
            "maestro.yaml:{}:46: services.svc-1996.instances.svc-1996-3.ports.admin: host port 1027/tcp on ship ship4 is also bound by svc-1-3.ports.client",
            lines[3]
        ),
    ];
    for w in &want {
        assert!(
            err.lines().any(|l| l.starts_with(w.as_str())),
            "{w}\nnot in:\n{err}"
        );
    }
    assert_eq!(err.lines().count(), 4, "{err}");
}

/// A 50-service `requires` chain: every container gets the link variables
/// of every service below its own, the streamed document parses, and the
/// instances come in dependency order.
#[test]
fn dump_of_a_requires_chain_gives_each_container_its_dependencies() {
    use std::fmt::Write as _;
    let mut env = String::from(
        "name: chain\nships:\n  s1: {ip: 10.213.0.11}\n  s2: {ip: 10.213.0.12}\nservices:\n",
    );
    for v in 1..=50 {
        writeln!(env, "  layer-{v}:\n    image: lab/layer-{v}:1").unwrap();
        if v > 1 {
            writeln!(env, "    requires: [layer-{}]", v - 1).unwrap();
        }
        env.push_str("    instances:\n");
        for i in 1..=2 {
            writeln!(
                env,
                "      layer-{v}-{i}: {{ship: s{i}, ports: {{client: \"8080:{}\"}}}}",
                1000 + v
            )
            .unwrap();
        }
    }
    let dir = folder("dump-chain", &env);
    let out = maestro(&dir, &["dump", "--show-secrets"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let instances = doc["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 100);
    for (n, inst) in instances.iter().enumerate() {
        let v = n / 2 + 1;
        assert_eq!(inst["name"], format!("layer-{v}-{}", n % 2 + 1));
        let env = inst["env"].as_object().unwrap();
        // Own service: host, port and internal port per instance, and the
        // instance list; each service below: host and port per instance,
        // and the list; then the 6 fixed variables.
        assert_eq!(env.len(), 7 + 5 * (v - 1) + 6, "{}", inst["name"]);
        if v > 1 {
            assert_eq!(env["LAYER_1_LAYER_1_2_HOST"], "10.213.0.12");
            assert_eq!(env["LAYER_1_LAYER_1_2_CLIENT_PORT"], "1001");
            assert!(!env.contains_key("LAYER_1_LAYER_1_2_CLIENT_INTERNAL_PORT"));
        }
        assert_eq!(
            env[&format!("LAYER_{v}_INSTANCES")],
            format!("layer-{v}-1,layer-{v}-2")
        );
    }
}
