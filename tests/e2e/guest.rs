//! `maestro-guest` inside containers that the built `maestro` binary started
//! on the lab: a `zookeeper`-like service with three instances on ship1..ship3
//! and a `kafka`-like service requiring it. The kafka container's start
//! script finds zookeeper with `maestro-guest node-list`, renders a config
//! file with `maestro-guest render`, and connects to every zookeeper
//! instance through the addresses it was given; the test then checks each
//! of those from outside with `docker exec`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use maestro_tests::{Lab, TempDir, TestEnv, assert_code, stderr, stdout, unique};
use serde_json::{Value, json};

/// A zookeeper-like instance answers every connection on its `client` port
/// (2181 inside, a host port per instance outside) with `imok <its name>`,
/// like zookeeper's `ruok` four-letter word. The kafka-like instance writes
/// what it found and what each instance answered under /tmp, touches
/// /tmp/ready, and waits; its `running` check waits for /tmp/ready, so a
/// failing script fails the start with its logs.
const SERVICES: &str = r#"
  zookeeper:
    image: {IMAGE}
    lifecycle:
      running: [{type: tcp, port: client, max_wait: 30}]
    instances:
      {P}-zk-1: {ship: ship1, ports: {client: '2181:{PORT1}'}, command: [sh, -c, "{ZK}"], stop_timeout: 1}
      {P}-zk-2: {ship: ship2, ports: {client: '2181:{PORT2}'}, command: [sh, -c, "{ZK}"], stop_timeout: 1}
      {P}-zk-3: {ship: ship3, ports: {client: '2181:{PORT3}'}, command: [sh, -c, "{ZK}"], stop_timeout: 1}
  kafka:
    image: {IMAGE}
    requires: [zookeeper]
    lifecycle:
      running: [{type: rexec, command: 'test -e /tmp/ready', attempts: 100}]
    instances:
      {P}-kafka-1:
        ship: ship2
        stop_timeout: 1
        volumes:
          {DIR}: {target: /conf, mode: ro}
        command:
          - sh
          - -c
          - |
            set -e
            maestro-guest node-list zookeeper client --separator , > /tmp/zk.list
            maestro-guest render /conf/server.properties.j2 -o /tmp/server.properties
            for a in $(maestro-guest node-list zookeeper client); do
              nc -w 5 "${a%:*}" "${a#*:}" < /dev/null >> /tmp/zk.answers
            done
            touch /tmp/ready
            exec sleep 3600
"#;

/// The zookeeper-like server: `nc -ll` serves connections one after the
/// other, each with a shell that prints the greeting.
const ZK: &str =
    r#"trap 'exit 0' TERM; nc -ll -p 2181 -e sh -c 'echo imok $CONTAINER_NAME' & wait"#;

const TEMPLATE: &str = "broker.id={{ container_name() }}
zookeeper.connect={{ node_list('zookeeper', ports=['client']) | join(',') }}
";

#[test]
fn kafka_finds_renders_and_reaches_every_zookeeper_through_maestro_guest() {
    // Host ports unique per test process, so parallel runs from several
    // checkouts on the shared lab do not collide.
    let base = 20000 + (std::process::id() % 3000) * 3;
    let ports = [base, base + 1, base + 2];
    let services = SERVICES
        .replace("{ZK}", &ZK.replace('"', "\\\""))
        .replace("{PORT1}", &ports[0].to_string())
        .replace("{PORT2}", &ports[1].to_string())
        .replace("{PORT3}", &ports[2].to_string());
    let t = TestEnv::new("guest", &services);
    std::fs::write(t.dir.join("server.properties.j2"), TEMPLATE).unwrap();

    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);

    let zks: Vec<String> = (1..=3).map(|k| t.n(&format!("zk-{k}"))).collect();
    let expected = ["ship1", "ship2", "ship3"]
        .iter()
        .zip(ports)
        .map(|(ship, port)| format!("{}:{port}", t.lab.ship_ip(ship)))
        .collect::<Vec<_>>()
        .join(",");
    let kafka = t.n("kafka-1");
    let exec = |args: &[&str]| {
        let out = t
            .lab
            .docker("ship2")
            .arg("exec")
            .arg(&kafka)
            .args(args)
            .output()
            .unwrap();
        assert_code(&out, 0);
        stdout(&out)
    };

    // The variables maestro injected, named after the real instance names.
    let env = exec(&["env"]);
    let var = format!(
        "ZOOKEEPER_{}_CLIENT_PORT={}",
        zks[0].to_uppercase().replace('-', "_"),
        ports[0]
    );
    assert!(env.lines().any(|l| l == var), "{var} not in\n{env}");

    // maestro-guest run by hand in the container, and by the start script.
    let listed = exec(&[
        "maestro-guest",
        "node-list",
        "zookeeper",
        "client",
        "--separator",
        ",",
    ]);
    assert_eq!(listed.trim_end(), expected);
    assert_eq!(exec(&["cat", "/tmp/zk.list"]).trim_end(), expected);

    let config = exec(&["cat", "/tmp/server.properties"]);
    assert_eq!(
        config,
        format!("broker.id={kafka}\nzookeeper.connect={expected}\n")
    );

    // Each address reached the instance it names: the answers come in the
    // order of the list, each with the name of the container that answered.
    let answers = exec(&["cat", "/tmp/zk.answers"]);
    let want: Vec<String> = zks.iter().map(|z| format!("imok {z}")).collect();
    assert_eq!(answers.lines().collect::<Vec<_>>(), want, "{answers}");
}

/// The binary `scripts/build-guest` makes: the one images get, the static
/// musl build.
fn shipped_guest() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("scripts/build-guest"))
        .current_dir(&root)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let path = stdout(&out).trim_end().to_owned();
    assert!(
        path.contains("/x86_64-unknown-linux-musl/"),
        "not the musl build: {path}"
    );
    PathBuf::from(path)
}

/// Removes a test image on drop, also when the test fails.
struct ImageGuard<'a>(&'a Lab, &'a str, String);

impl Drop for ImageGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.docker(self.1).args(["rmi", "-f", &self.2]).output();
    }
}

#[test]
fn the_shipped_guest_is_static_and_runs_alone_in_an_image_from_scratch() {
    let lab = Lab::get();
    let guest = shipped_guest();

    // Not dynamic: no interpreter, nothing for ldd to list.
    let ldd = Command::new("ldd").arg(&guest).output().unwrap();
    let said = format!("{}{}", stdout(&ldd), stderr(&ldd));
    assert!(
        said.contains("not a dynamic executable") || said.contains("statically linked"),
        "ldd {}: {said}",
        guest.display()
    );

    // An image whose only file is the binary (`docker import` of a tar of
    // it: the image has no base, as `FROM scratch`).
    let dir = TempDir::new("guest", "scratch");
    std::fs::copy(&guest, dir.join("maestro-guest")).unwrap();
    let tar = dir.join("rootfs.tar");
    let out = Command::new("tar")
        .arg("-C")
        .arg(&*dir)
        .arg("-cf")
        .arg(&tar)
        .arg("maestro-guest")
        .output()
        .unwrap();
    assert_code(&out, 0);
    let image = format!("maestro-test/{}:1", unique("guest", "scratch"));
    let _guard = ImageGuard(&lab, "ship1", image.clone());
    let out = lab
        .docker("ship1")
        .arg("import")
        .arg(&tar)
        .arg(&image)
        .output()
        .unwrap();
    assert_code(&out, 0);

    let conf = TempDir::new("guest", "scratch-conf");
    conf.write(
        "t.j2",
        "zk={{ node_list('zookeeper', ports=['client']) | join(',') }}\n",
    );
    let run = |args: &[&str]| {
        lab.docker("ship1")
            .args(["run", "--rm", "--network", "none"])
            .args(["-e", "SERVICE_NAME=kafka", "-e", "CONTAINER_NAME=kafka-1"])
            .args(["-e", "ZOOKEEPER_INSTANCES=zk-1,zk-2"])
            .args(["-e", "ZOOKEEPER_ZK_1_HOST=10.213.0.11"])
            .args(["-e", "ZOOKEEPER_ZK_1_CLIENT_PORT=2181"])
            .args(["-e", "ZOOKEEPER_ZK_2_HOST=10.213.0.12"])
            .args(["-e", "ZOOKEEPER_ZK_2_CLIENT_PORT=2182"])
            .arg("-v")
            .arg(format!("{}:/conf:ro", conf.display()))
            .arg(&image)
            .arg("/maestro-guest")
            .args(args)
            .output()
            .unwrap()
    };
    let listed = run(&["node-list", "zookeeper", "client", "--separator", ","]);
    assert_code(&listed, 0);
    assert_eq!(stdout(&listed), "10.213.0.11:2181,10.213.0.12:2182\n");
    let rendered = run(&["render", "/conf/t.j2"]);
    assert_code(&rendered, 0);
    assert_eq!(stdout(&rendered), "zk=10.213.0.11:2181,10.213.0.12:2182\n");
    // A missing port: exit 2 with MaestroNG's message.
    let missing = run(&["specific-port", "zookeeper", "zk-1", "admin"]);
    assert_code(&missing, 2);
    assert!(
        stderr(&missing).contains("No port admin defined for container zk-1 of service zookeeper"),
        "{}",
        stderr(&missing)
    );
}

/// Runs a command and asserts it succeeded.
fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_code(&out, 0);
    stdout(&out)
}

fn sha256(file: &Path) -> String {
    let out = sh(Command::new("sha256sum").arg(file));
    out.split_whitespace().next().unwrap().to_owned()
}

/// Loads on `ship` an image `FROM scratch` holding only `files` (path in
/// the image, file copied there, executable) and `extra` text files, with
/// `config` as its image configuration (`Cmd`, `Healthcheck`...). Built as
/// a `docker save` archive: a Docker `HEALTHCHECK` cannot be set through
/// `docker import`. The image is removed when the guard drops.
fn scratch_image<'a>(
    lab: &'a Lab,
    ship: &'a str,
    tag: &str,
    files: &[(&str, &Path)],
    extra: &[(&str, &str)],
    config: Value,
) -> ImageGuard<'a> {
    let dir = TempDir::new("guest", tag);
    let rootfs = dir.join("rootfs");
    for (name, source) in files {
        let target = rootfs.join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(source, &target).unwrap();
    }
    for (name, text) in extra {
        let target = rootfs.join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, text).unwrap();
    }
    let archive = dir.join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let layer = archive.join("layer.tar");
    sh(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["--owner=0", "--group=0", "-cf"])
        .arg(&layer)
        .arg("."));
    let image_config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256(&layer))]},
    });
    let config_file = archive.join("config.json");
    std::fs::write(&config_file, image_config.to_string()).unwrap();
    let name = format!("maestro-test/{}:1", unique("guest", tag));
    let manifest = json!([{"Config": "config.json", "RepoTags": [name], "Layers": ["layer.tar"]}]);
    std::fs::write(archive.join("manifest.json"), manifest.to_string()).unwrap();
    let tar = dir.join("image.tar");
    sh(Command::new("tar")
        .arg("-C")
        .arg(&archive)
        .arg("-cf")
        .arg(&tar)
        .args(["manifest.json", "config.json", "layer.tar"]));
    let guard = ImageGuard(lab, ship, name);
    sh(lab.docker(ship).arg("load").arg("-q").arg("-i").arg(&tar));
    guard
}

/// Polls `docker inspect -f FORMAT` on a container until `done` accepts
/// the answer; panics with the last answer after `limit`.
fn poll(
    lab: &Lab,
    ship: &str,
    container: &str,
    format: &str,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let started = Instant::now();
    loop {
        let out = lab
            .docker(ship)
            .args(["inspect", "-f", format, container])
            .output()
            .unwrap();
        let answer = stdout(&out).trim().to_owned();
        if out.status.success() && done(&answer) {
            return answer;
        }
        assert!(
            started.elapsed() < limit,
            "{container}: {format} is still {answer:?} after {limit:?} {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// What a container wrote, both streams.
fn logs(lab: &Lab, ship: &str, container: &str) -> String {
    let out = lab.docker(ship).args(["logs", container]).output().unwrap();
    format!("{}{}", stdout(&out), stderr(&out))
}

/// Host ports of this test process for the probe tests (a range apart from
/// the one above and from the fixed ports of other tests).
fn probe_ports() -> u32 {
    33000 + (std::process::id() % 1500) * 4
}

const HEALTH_SERVICES: &str = r#"
  web:
    image: {SCRATCH}
    instances:
      {P}-web-1: {ship: ship1, ports: {web: '8080:{PORT1}'}, stop_timeout: 1}
      {P}-web-2: {ship: ship1, ports: {web: '8080:{PORT2}'}, command: [/busybox, sleep, '3600'], stop_timeout: 1}
"#;

#[test]
fn a_scratch_image_without_a_shell_reports_healthy_through_the_guest() {
    let lab = Lab::get();
    let guest = shipped_guest();
    // busybox serves HTTP; the image has no shell (no /bin/sh), so the
    // HEALTHCHECK can only be an exec-form command: the guest.
    let image = scratch_image(
        &lab,
        "ship1",
        "health",
        &[
            ("maestro-guest", guest.as_path()),
            ("busybox", Path::new("/bin/busybox")),
        ],
        &[("www/health", "web ok\n")],
        json!({
            "Cmd": ["/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
            "Healthcheck": {
                "Test": ["CMD", "/maestro-guest", "check", "http", "web", "--path", "/health",
                         "--match", "^web ok$"],
                "Interval": 1_000_000_000u64,
                "Timeout": 5_000_000_000u64,
                "Retries": 2,
            },
        }),
    );
    let base = probe_ports();
    let services = HEALTH_SERVICES
        .replace("{SCRATCH}", &image.2)
        .replace("{PORT1}", &base.to_string())
        .replace("{PORT2}", &(base + 1).to_string());
    let t = TestEnv::new("guest-health", &services);
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);
    let (web1, web2) = (t.n("web-1"), t.n("web-2"));

    // web-1 serves /health: Docker runs the guest and reports healthy.
    let status = "{{.State.Health.Status}}";
    poll(&lab, "ship1", &web1, status, Duration::from_secs(40), |s| {
        s == "healthy"
    });
    let last = poll(
        &lab,
        "ship1",
        &web1,
        "{{json .State.Health.Log}}",
        Duration::from_secs(5),
        |_| true,
    );
    let log: Value = serde_json::from_str(&last).unwrap();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["ExitCode"] == 0),
        "{last}"
    );
    // web-2 runs the same image but serves nothing: exit 1, unhealthy.
    poll(&lab, "ship1", &web2, status, Duration::from_secs(40), |s| {
        s == "unhealthy"
    });
    let last = poll(
        &lab,
        "ship1",
        &web2,
        "{{json .State.Health.Log}}",
        Duration::from_secs(5),
        |_| true,
    );
    let log: Value = serde_json::from_str(&last).unwrap();
    let entry = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["ExitCode"], 1, "{last}");
    assert_eq!(
        entry["Output"], "127.0.0.1:8080: Connection refused (os error 111)\n",
        "{last}"
    );

    // The TCP check, by hand in the container: healthy, not healthy, and
    // bad input (exit 2, MaestroNG's message).
    let exec = |container: &str, args: &[&str]| {
        lab.docker("ship1")
            .args(["exec", container, "/maestro-guest"])
            .args(args)
            .output()
            .unwrap()
    };
    assert_code(&exec(&web1, &["check", "tcp", "web"]), 0);
    assert_code(&exec(&web2, &["check", "tcp", "web"]), 1);
    let bad = exec(&web1, &["check", "tcp", "admin"]);
    assert_code(&bad, 2);
    assert_eq!(
        stderr(&bad),
        format!("No internal port admin defined for container {web1} of service web\n")
    );
}

const WAIT_SERVICES: &str = r#"
  db:
    image: {IMAGE}
    instances:
      {P}-db-1: {ship: ship2, ports: {sql: '5432:{PORT1}'}, command: [sh, -c, "{DB}"], stop_timeout: 1}
  app:
    image: {SCRATCH}
    wants_info: [db]
    instances:
      {P}-app-1: {ship: ship1, command: [/maestro-guest, wait, db, sql, --timeout, '120'], stop_timeout: 1}
"#;

const DB: &str = r#"trap 'exit 0' TERM; nc -ll -p 5432 -e echo hello & wait"#;

#[test]
fn a_container_without_a_shell_waits_for_a_dependency_started_after_it() {
    let lab = Lab::get();
    let guest = shipped_guest();
    // The image holds the guest and nothing else.
    let image = scratch_image(
        &lab,
        "ship1",
        "wait",
        &[("maestro-guest", guest.as_path())],
        &[],
        json!({}),
    );
    let port = probe_ports() + 2;
    let services = WAIT_SERVICES
        .replace("{SCRATCH}", &image.2)
        .replace("{PORT1}", &port.to_string())
        .replace("{DB}", &DB.replace('"', "\\\""));
    let t = TestEnv::new("guest-wait", &services);
    let (app, db) = (t.n("app-1"), t.n("db-1"));

    // `wants_info` gives app db's address without starting db first.
    let out = t.maestro(&["start", "app", "--progress", "plain"]);
    assert_code(&out, 0);
    assert!(t.inspect("ship2", &db).is_none(), "db was started with app");
    let waiting = format!(
        "waiting for all of db: {db} at {}:{port}",
        lab.ship_ip("ship2")
    );
    let started = Instant::now();
    while !logs(&lab, "ship1", &app).contains(&waiting) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            logs(&lab, "ship1", &app)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Still waiting a while later: nothing answers yet.
    std::thread::sleep(Duration::from_secs(2));
    let state = t.inspect("ship1", &app).unwrap();
    assert_eq!(
        state["State"]["Running"],
        true,
        "{}",
        logs(&lab, "ship1", &app)
    );

    let out = t.maestro(&["start", "db", "--progress", "plain"]);
    assert_code(&out, 0);
    // app's wait returns once db answers: the container exits 0.
    poll(
        &lab,
        "ship1",
        &app,
        "{{.State.Status}}",
        Duration::from_secs(30),
        |s| s == "exited",
    );
    let state = t.inspect("ship1", &app).unwrap();
    let said = logs(&lab, "ship1", &app);
    assert_eq!(state["State"]["ExitCode"], 0, "{said}");
    assert!(said.ends_with(&format!("{db} of db is ready\n")), "{said}");
}
