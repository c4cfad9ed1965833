//! The built `maestro-guest` binary, run with a controlled environment.
// A test crate: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_maestro-guest");

/// The environment maestro gives a kafka container that requires a
/// three-instance zookeeper.
const KAFKA_ENV: &[(&str, &str)] = &[
    ("MAESTRO_ENVIRONMENT_NAME", "prod"),
    ("SERVICE_NAME", "kafka"),
    ("CONTAINER_NAME", "kafka-1"),
    ("CONTAINER_HOST_ADDRESS", "10.213.0.11"),
    ("ZOOKEEPER_INSTANCES", "zk-1,zk-2,zk-3"),
    ("ZOOKEEPER_ZK_1_HOST", "10.213.0.11"),
    ("ZOOKEEPER_ZK_1_CLIENT_PORT", "2181"),
    ("ZOOKEEPER_ZK_2_HOST", "10.213.0.12"),
    ("ZOOKEEPER_ZK_2_CLIENT_PORT", "2182"),
    ("ZOOKEEPER_ZK_3_HOST", "10.213.0.13"),
    ("ZOOKEEPER_ZK_3_CLIENT_PORT", "2183"),
    ("KAFKA_INSTANCES", "kafka-1"),
    ("KAFKA_KAFKA_1_HOST", "10.213.0.11"),
    ("KAFKA_KAFKA_1_BROKER_PORT", "19092"),
    ("KAFKA_KAFKA_1_BROKER_INTERNAL_PORT", "9092"),
    ("KAFKA_KAFKA_1_RANGE_PORT", "1234-1236"),
    ("SECRET_TOKEN", "s3cr3t-value"),
];

fn run_with(env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn run(args: &[&str]) -> Output {
    run_with(KAFKA_ENV, args)
}

/// Asserts success and returns stdout.
fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{args:?}: stderr not empty");
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts exit status 2 with empty stdout and returns stderr.
fn error_with(env: &[(&str, &str)], args: &[&str]) -> String {
    let out = run_with(env, args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
    String::from_utf8(out.stderr).unwrap()
}

fn error(args: &[&str]) -> String {
    error_with(KAFKA_ENV, args)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mg-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn names() {
    assert_eq!(stdout(&["env-name"]), "prod\n");
    assert_eq!(stdout(&["service-name"]), "kafka\n");
    assert_eq!(stdout(&["container-name", "--json"]), "\"kafka-1\"\n");
    assert_eq!(stdout(&["host-address"]), "10.213.0.11\n");
    assert_eq!(stdout(&["host-address", "--resolve"]), "10.213.0.11\n");
    assert_eq!(run_with(&[], &["env-name"]).stdout, b"local\n");
    assert_eq!(
        error_with(&[], &["service-name"]),
        "Service name was not defined\n"
    );
    assert_eq!(
        error_with(&[("CONTAINER_NAME", "")], &["container-name"]),
        "Container name was not defined\n"
    );
    for args in [&["host-address"][..], &["host-address", "--resolve"]] {
        assert_eq!(
            error_with(&[("CONTAINER_HOST_ADDRESS", "")], args),
            "Container host address was not defined\n"
        );
    }
}

#[test]
fn host_address_resolves_names_from_the_hosts_file() {
    let env = [("CONTAINER_HOST_ADDRESS", "localhost")];
    assert_eq!(
        run_with(&env, &["host-address", "--resolve"]).stdout,
        b"127.0.0.1\n"
    );
}

#[test]
fn internal_address() {
    assert_eq!(stdout(&["internal-address", "lo"]), "127.0.0.1\n");
    assert_eq!(
        stdout(&["internal-address", "lo", "--json"]),
        "\"127.0.0.1\"\n"
    );
    assert_eq!(
        error(&["internal-address", "nosuch0"]),
        "No interface nosuch0\n"
    );
}

#[test]
fn ports() {
    assert_eq!(stdout(&["port", "broker"]), "9092\n");
    assert_eq!(stdout(&["port", "broker", "--json"]), "9092\n");
    assert_eq!(stdout(&["port", "jmx", "--default", "7199"]), "7199\n");
    assert_eq!(
        error(&["port", "jmx"]),
        "No internal port jmx defined for container kafka-1 of service kafka\n"
    );
    assert_eq!(
        stdout(&["specific-port", "zookeeper", "zk-2", "client"]),
        "2182\n"
    );
    assert_eq!(
        error(&["specific-port", "zookeeper", "zk-1", "peer"]),
        "No port peer defined for container zk-1 of service zookeeper\n"
    );
    // A range is not a port, default or not.
    assert_eq!(
        error(&[
            "specific-port",
            "kafka",
            "kafka-1",
            "range",
            "--default",
            "1"
        ]),
        "No port range defined for container kafka-1 of service kafka\n"
    );
    assert_eq!(
        stdout(&["specific-exposed-port", "kafka", "kafka-1", "broker"]),
        "9092\n"
    );
    assert_eq!(
        error(&["specific-exposed-port", "zookeeper", "zk-1", "client"]),
        "No internal port client defined for container zk-1 of service zookeeper\n"
    );
    assert_eq!(
        stdout(&[
            "specific-exposed-port",
            "zookeeper",
            "zk-1",
            "client",
            "--default",
            "2181"
        ]),
        "2181\n"
    );
}

#[test]
fn host() {
    assert_eq!(stdout(&["host", "zookeeper", "zk-3"]), "10.213.0.13\n");
    assert_eq!(
        error(&["host", "zookeeper", "zk-4"]),
        "No host defined for container zk-4 of service zookeeper\n"
    );
}

#[test]
fn node_list() {
    assert_eq!(
        stdout(&["node-list", "zookeeper", "client", "--separator", ","]),
        "10.213.0.11:2181,10.213.0.12:2182,10.213.0.13:2183\n"
    );
    assert_eq!(
        stdout(&["node-list", "zookeeper"]),
        "10.213.0.11\n10.213.0.12\n10.213.0.13\n"
    );
    assert_eq!(
        stdout(&["node-list", "zookeeper", "client", "--json"]),
        "[\"10.213.0.11:2181\",\"10.213.0.12:2182\",\"10.213.0.13:2183\"]\n"
    );
    assert_eq!(
        error(&["node-list", "zookeeper", "client", "--minimum", "4"]),
        "No or not enough zookeeper nodes configured\n"
    );
    assert_eq!(
        error(&["node-list", "zookeeper", "client", "admin"]),
        "No port admin defined for container zk-1 of service zookeeper\n"
    );
    assert_eq!(stdout(&["node-list", "nosuch", "--minimum", "0"]), "");
    assert_eq!(
        stdout(&["node-list", "nosuch", "--minimum", "0", "--json"]),
        "[]\n"
    );
}

#[test]
fn instances() {
    assert_eq!(stdout(&["instances", "zookeeper"]), "zk-1\nzk-2\nzk-3\n");
    assert_eq!(
        stdout(&["instances", "zookeeper", "--json"]),
        "[\"zk-1\",\"zk-2\",\"zk-3\"]\n"
    );
    assert_eq!(stdout(&["instances", "nosuch"]), "");
    assert_eq!(
        run_with(&[("S_INSTANCES", "")], &["instances", "s", "--json"]).stdout,
        b"[]\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(error(&["nope"]), "unknown command nope (try --help)\n");
    assert_eq!(
        error(&["host", "zookeeper"]),
        "wrong number of arguments for host (try --help)\n"
    );
    assert!(stdout(&["--help"]).contains("node-list SERVICE"));
    assert_eq!(
        stdout(&["--version"]),
        format!("maestro-guest {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn render_to_stdout_and_to_a_file() {
    let dir = temp_dir("render");
    let template = dir.join("server.properties.j2");
    std::fs::write(
        &template,
        "broker.id={{ container_name() }}\n\
         port={{ port('broker') }}\n\
         zookeeper.connect={{ node_list('zookeeper', ports=['client']) | join(',') }}\n\
         env={{ env.MAESTRO_ENVIRONMENT_NAME }}\n",
    )
    .unwrap();
    let expected = "broker.id=kafka-1\nport=9092\n\
                    zookeeper.connect=10.213.0.11:2181,10.213.0.12:2182,10.213.0.13:2183\n\
                    env=prod\n";
    assert_eq!(stdout(&["render", template.to_str().unwrap()]), expected);

    let out = dir.join("server.properties");
    assert_eq!(
        stdout(&[
            "render",
            template.to_str().unwrap(),
            "-o",
            out.to_str().unwrap()
        ]),
        ""
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn render_errors_name_the_file_and_line_and_hide_values() {
    let dir = temp_dir("render-err");
    let template = dir.join("bad.j2");
    let name = template.to_str().unwrap();
    std::fs::write(&template, "a={{ env.SECRET_TOKEN }}\nb={{ env.NOT_SET }}\n").unwrap();
    let out = dir.join("out");
    let message = error(&["render", name, "-o", out.to_str().unwrap()]);
    assert_eq!(
        message,
        format!("undefined value: `env.NOT_SET` is undefined (in {name}:2)\n")
    );
    assert!(!message.contains("s3cr3t"));
    // Nothing is written when rendering fails.
    assert!(!out.exists());

    std::fs::write(&template, "{{ node_list('zookeeper', minimum=5) }}").unwrap();
    assert_eq!(
        error(&["render", name]),
        format!("invalid operation: No or not enough zookeeper nodes configured (in {name}:1)\n")
    );
    let missing = dir.join("missing.j2");
    assert!(
        error(&["render", missing.to_str().unwrap()])
            .starts_with(&format!("cannot read template {}: ", missing.display()))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exec_renders_then_becomes_the_command() {
    let dir = temp_dir("exec");
    let template = dir.join("zk.j2");
    let config = dir.join("zk.conf");
    std::fs::write(
        &template,
        "{{ node_list('zookeeper', ['client']) | join(',') }}\n",
    )
    .unwrap();
    let render = format!("{}:{}", template.display(), config.display());
    // `sh` found through PATH; `$$` is the shell's PID, which must be the
    // PID maestro-guest had: exec replaced the process instead of forking.
    let mut env = KAFKA_ENV.to_vec();
    env.push(("PATH", "/usr/bin:/bin"));
    let child = Command::new(BIN)
        .args(["exec", "--render", &render, "--", "sh", "-c"])
        .arg(format!("cat {}; echo $$", config.display()))
        .env_clear()
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("10.213.0.11:2181,10.213.0.12:2182,10.213.0.13:2183\n{pid}\n")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exec_leaves_sigpipe_at_its_default() {
    // Rust programs ignore SIGPIPE; the exec'd service must not inherit that.
    let out = run_with(
        &[("PATH", "/usr/bin:/bin")],
        &["exec", "--", "grep", "^SigIgn:", "/proc/self/status"],
    );
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let mask = u64::from_str_radix(line.trim().trim_start_matches("SigIgn:").trim(), 16).unwrap();
    let sigpipe = 1u64 << (13 - 1);
    assert_eq!(mask & sigpipe, 0, "{line}");
}

#[test]
fn exec_reports_a_missing_command_like_a_shell() {
    let out = run_with(
        &[("PATH", "/usr/bin:/bin")],
        &["exec", "--", "no-such-command-xyz"],
    );
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("cannot run no-such-command-xyz: "));
}

#[test]
fn exec_stops_before_the_command_when_rendering_fails() {
    let dir = temp_dir("exec-err");
    let marker = dir.join("ran");
    let template = dir.join("t.j2");
    std::fs::write(&template, "{{ env.NOT_SET }}").unwrap();
    let render = format!("{}:{}", template.display(), dir.join("out").display());
    let out = run_with(
        &[("PATH", "/usr/bin:/bin")],
        &[
            "exec",
            "--render",
            &render,
            "--",
            "touch",
            marker.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!marker.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
