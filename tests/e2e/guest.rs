//! `maestro-guest` inside containers that the built `maestro` binary started
//! on the lab: a `zookeeper`-like service with three instances on ship1..ship3
//! and a `kafka`-like service requiring it. The kafka container's start
//! script finds zookeeper with `maestro-guest node-list`, renders a config
//! file with `maestro-guest render`, and connects to every zookeeper
//! instance through the addresses it was given; the test then checks each
//! of those from outside with `docker exec`.

use std::path::PathBuf;
use std::process::Command;

use maestro_tests::{Lab, TempDir, TestEnv, assert_code, stderr, stdout, unique};

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

/// The binary `scripts/build-guest` makes: the one images get.
fn shipped_guest() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("scripts/build-guest"))
        .current_dir(&root)
        .output()
        .unwrap();
    assert_code(&out, 0);
    PathBuf::from(stdout(&out).trim_end())
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
