//! The built `maestro-guest` binaries, run with a controlled environment:
//! every command runs twice, once as built for the host by cargo and once as
//! shipped in images (the static musl build of `scripts/build-guest`), and
//! both must give the same status, stdout and stderr, so a difference
//! between the two C libraries shows here.
// A test crate: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_maestro-guest");

/// The binary `scripts/build-guest` makes (built once per test run; a warm
/// build only relinks).
fn shipped() -> &'static str {
    static SHIPPED: OnceLock<String> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let out = Command::new(root.join("scripts/build-guest"))
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/build-guest: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
        assert!(
            path.contains("x86_64-unknown-linux-musl"),
            "not the musl build: {path}"
        );
        path
    })
}

/// Both binaries: the host build, then the shipped one.
fn binaries() -> [&'static str; 2] {
    [BIN, shipped()]
}

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

fn run_bin(bin: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Runs both binaries, asserts they behave the same and returns the output.
fn run_with(env: &[(&str, &str)], args: &[&str]) -> Output {
    let host = run_bin(BIN, env, args);
    let shipped = run_bin(shipped(), env, args);
    let show = |o: &Output| {
        format!(
            "{:?}\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(
        show(&host),
        show(&shipped),
        "{args:?}: the host build (left) and the shipped musl build (right) differ"
    );
    host
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
    for bin in binaries() {
        std::fs::remove_file(&config).ok();
        let child = Command::new(bin)
            .args(["exec", "--render", &render, "--", "sh", "-c"])
            .arg(format!("cat {}; echo $$", config.display()))
            .env_clear()
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{bin}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("10.213.0.11:2181,10.213.0.12:2182,10.213.0.13:2183\n{pid}\n"),
            "{bin}"
        );
    }
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

/// A loopback server answering each connection with `response` (after
/// reading the request), for as long as the test runs.
fn serve(response: impl Fn(&str) -> String + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            // Up to the end of the headers (a TCP check sends nothing and
            // closes: read then returns 0).
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let answer = response(&String::from_utf8_lossy(&request));
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

/// A loopback port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A web container's environment: its own `http` port is `port`.
fn web_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("SERVICE_NAME", "web".into()),
        ("CONTAINER_NAME", "web-1".into()),
        ("WEB_WEB_1_HTTP_INTERNAL_PORT", port.to_string()),
        ("WEB_WEB_1_HTTP_PORT", "18080".into()),
    ]
}

fn run_owned(env: &[(&str, String)], args: &[&str]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_with(&env, args)
}

#[test]
fn check_tcp_by_port_name_or_number() {
    let open = serve(|_| String::new());
    let closed = closed_port();
    let env = web_env(open);
    for args in [
        &["check", "tcp", "http"][..],
        &["check", "tcp", &open.to_string()],
    ] {
        let out = run_owned(&env, args);
        assert_eq!(code(&out), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
    let out = run_owned(
        &env,
        &["check", "tcp", &closed.to_string(), "--timeout", "2"],
    );
    assert_eq!(code(&out), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("127.0.0.1:{closed}: Connection refused (os error 111)\n")
    );
    let out = run_owned(
        &env,
        &[
            "check",
            "tcp",
            "http",
            "--host",
            "localhost",
            "--timeout",
            "0.5",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_http_status_and_body() {
    let port = serve(|request| {
        if request.starts_with("GET /health HTTP/1.0\r\n") {
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nweb-1 ok\n".into()
        } else if request.starts_with("GET /starting ") {
            "HTTP/1.0 503 Service Unavailable\r\n\r\nstill starting\n".into()
        } else {
            "HTTP/1.0 404 Not Found\r\n\r\nno such page\n".into()
        }
    });
    let env = web_env(port);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "http", "http"];
        args.extend_from_slice(extra);
        run_owned(&env, &args)
    };
    let healthy = |extra: &[&str]| {
        let out = check(extra);
        assert_eq!(code(&out), Some(0), "{extra:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    };
    let unhealthy = |extra: &[&str], why: &str| {
        let out = check(extra);
        assert_eq!(code(&out), Some(1), "{extra:?}");
        assert_eq!(text(&out.stderr), format!("{why}\n"), "{extra:?}");
    };
    healthy(&["--path", "/health"]);
    healthy(&["--path", "health", "--match", "^web-1 ok$"]);
    healthy(&["--path", "/health", "--status", "200", "--match", "o+k"]);
    healthy(&["--path", "/starting", "--status", "503"]);
    // A pattern alone decides, whatever the status (MaestroNG's http check).
    healthy(&["--path", "/starting", "--match", "starting"]);
    unhealthy(
        &[],
        &format!("http://127.0.0.1:{port}/: status 404, expected 200"),
    );
    unhealthy(
        &["--path", "/starting"],
        &format!("http://127.0.0.1:{port}/starting: status 503, expected 200"),
    );
    unhealthy(
        &["--path", "/health", "--match", "down"],
        &format!("http://127.0.0.1:{port}/health: status 200, body does not match down"),
    );
    // Not HTTP at all.
    let ssh = serve(|_| "SSH-2.0-OpenSSH_9.2\r\n".into());
    let out = run_with(&[], &["check", "http", &ssh.to_string()]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("http://127.0.0.1:{ssh}/: not an HTTP response\n")
    );
    // A server that accepts and never answers: the timeout, then exit 1.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    let out = run_with(&[], &["check", "http", &port, "--timeout", "0.3"]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("http://127.0.0.1:{port}/: timed out\n")
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn check_and_wait_reject_bad_input_with_exit_2() {
    let env = web_env(8080);
    let bad = |args: &[&str], message: &str| {
        let out = run_owned(&env, args);
        assert_eq!(code(&out), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(text(&out.stderr), format!("{message}\n"), "{args:?}");
    };
    bad(
        &["check", "tcp", "admin"],
        "No internal port admin defined for container web-1 of service web",
    );
    bad(
        &["check", "tcp", "70000"],
        "70000 is not a port number (1-65535)",
    );
    bad(
        &["check", "tcp", "http", "--host", "10.213.0.11:80"],
        "malformed address \"10.213.0.11:80\": expected an IPv4 address or a host name",
    );
    bad(
        &["check", "http", "http", "--match", "(ok|up)"],
        "--match (ok|up): only characters, `.`, `*`, `+`, `?`, `^`, `$` and `\\` are supported",
    );
    bad(
        &["check", "udp", "53"],
        "check takes tcp or http, got udp (try --help)",
    );
    bad(
        &["check", "tcp", "http", "--match", "x"],
        "check does not take --match",
    );
    bad(
        &["check", "tcp", "http", "--timeout", "1m"],
        "--timeout takes a number of seconds, got 1m",
    );
    bad(&["wait"], "wrong number of arguments for wait (try --help)");
    bad(
        &["wait", "db", "client"],
        "No or not enough db nodes configured",
    );
    let mut with_host = env.clone();
    with_host.push(("WEB_INSTANCES", "web-1".into()));
    let out = run_owned(&with_host, &["wait", "web", "http"]);
    assert_eq!(code(&out), Some(2));
    assert_eq!(
        text(&out.stderr),
        "No host defined for container web-1 of service web\n"
    );
    with_host.push(("WEB_WEB_1_HOST", "web 1".into()));
    let out = run_owned(&with_host, &["wait", "web", "http"]);
    assert_eq!(code(&out), Some(2));
    assert_eq!(
        text(&out.stderr),
        "malformed address \"web 1\": expected an IPv4 address or a host name \
         (host of web-1 of service web)\n"
    );
    with_host.pop();
    with_host.push(("WEB_WEB_1_HOST", "127.0.0.1".into()));
    let out = run_owned(&with_host, &["wait", "web", "admin"]);
    assert_eq!(code(&out), Some(2));
    assert_eq!(
        text(&out.stderr),
        "No port admin defined for container web-1 of service web\n"
    );
}

/// The environment of a container told about two `db` instances on
/// loopback, with their `sql` ports.
fn db_env(ports: [u16; 2]) -> Vec<(&'static str, String)> {
    vec![
        ("DB_INSTANCES", "db-1,db-2".into()),
        ("DB_DB_1_HOST", "127.0.0.1".into()),
        ("DB_DB_1_SQL_PORT", ports[0].to_string()),
        ("DB_DB_2_HOST", "localhost".into()),
        ("DB_DB_2_SQL_PORT", ports[1].to_string()),
    ]
}

#[test]
fn wait_for_all_or_any_instance() {
    let open = [serve(|_| String::new()), serve(|_| String::new())];
    let out = run_owned(&db_env(open), &["wait", "db", "sql"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!(
            "waiting for all of db: db-1 at 127.0.0.1:{}, db-2 at localhost:{}\n\
             db-1 of db is ready\ndb-2 of db is ready\n",
            open[0], open[1]
        )
    );
    // No port named: every port each instance was given.
    let out = run_owned(&db_env(open), &["wait", "db"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));

    let closed = closed_port();
    let half = db_env([open[0], closed]);
    let started = Instant::now();
    let out = run_owned(&half, &["wait", "db", "sql", "--timeout", "0.5"]);
    assert_eq!(code(&out), Some(1));
    assert!(started.elapsed() < Duration::from_secs(5));
    let stderr = text(&out.stderr);
    assert!(
        stderr.ends_with(&format!(
            "db-1 of db is ready\ntimed out waiting for db: \
             db-2 (localhost:{closed}: Connection refused (os error 111))\n"
        )),
        "{stderr}"
    );
    let out = run_owned(&half, &["wait", "db", "sql", "--any", "--timeout", "0.5"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
}

#[test]
fn wait_returns_once_a_late_instance_comes_up() {
    for bin in binaries() {
        let port = closed_port();
        let env = db_env([port, port]);
        let child = Command::new(bin)
            .args(["wait", "db", "sql", "--timeout", "20"])
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let started = Instant::now();
        let out = child.wait_with_output().unwrap();
        drop(listener);
        assert_eq!(code(&out), Some(0), "{bin}: {}", text(&out.stderr));
        // The backoff stays short: ready within about a second of the port
        // opening.
        assert!(started.elapsed() < Duration::from_secs(3), "{bin}");
        assert!(
            text(&out.stderr).ends_with("db-2 of db is ready\n"),
            "{bin}"
        );
    }
}
