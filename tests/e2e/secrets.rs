//! Secrets never leak: distinctive secret strings are planted in an
//! environment file (a registry password, secret environment values, the
//! contents of a TLS key and of an SSH private key) and every command runs
//! against the lab, failures included (a refused pull, a failing lifecycle
//! check that prints the container's environment, a ship whose TLS key or
//! SSH key is unusable), in every output format. No output, no auditor's
//! log and no auditor's message may hold one of them, unless
//! `--show-secrets` asks for them.

use std::process::Output;

use maestro_tests::{TempDir, TestEnv, stderr, stdout, unique};

/// What a command printed, for the report of a leak.
struct Run {
    args: Vec<String>,
    out: String,
    err: String,
    code: Option<i32>,
}

fn run(env: &TestEnv, args: &[&str]) -> Run {
    let o: Output = env
        .cmd(args)
        // The user's own Docker configuration stays out of the test.
        .env("DOCKER_CONFIG", env.dir.join("dockercfg"))
        .output()
        .unwrap();
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out: stdout(&o),
        err: stderr(&o),
        code: o.status.code(),
    }
}

/// The body of a PEM file (a line between the armour), to look for.
fn pem_body_line(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find(|l| !l.starts_with("-----") && l.len() >= 20)
        .unwrap_or_else(|| panic!("{path} has no body"))
        .to_string()
}

#[test]
fn planted_secrets_never_appear_in_any_output() {
    let u = unique("sec", "x").replace('-', "");
    let reg_pw = format!("RegPw{u}");
    let env_secret = format!("EnvPw{u}");
    let marked = format!("Marked{u}");
    let tls_key = format!("TlsKey{u}");
    let ssh_key = format!("SshKey{u}");
    let plain = format!("plain{u}");

    let keys = TempDir::new("sec", "keys");
    let bad_tls = keys.write(
        "bad-key.pem",
        &format!("-----BEGIN PRIVATE KEY-----\n{tls_key}\n-----END PRIVATE KEY-----\n"),
    );
    let bad_ssh = keys.write(
        "bad_id",
        &format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{ssh_key}\n-----END OPENSSH PRIVATE KEY-----\n"
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bad_ssh, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let lab = maestro_tests::Lab::get();
    let extra = format!(
        "  zbadtls:\n    ip: {tls_ip}\n    docker_port: 2376\n    tls: true\n    tls_ca_cert: {ca}\n    tls_cert: {cert}\n    tls_key: {bad_tls}\n\
         \x20 zbadssh:\n    ip: {ssh_ip}\n    socket_path: {sock}\n    ssh_tunnel: {{user: root, key: {bad_ssh}, known_hosts: {kh}}}\n",
        tls_ip = lab.ship_ip("shiptls"),
        ca = lab.var("MAESTRO_LAB_TLS_CA"),
        cert = lab.var("MAESTRO_LAB_TLS_CERT"),
        bad_tls = bad_tls.display(),
        ssh_ip = lab.ship_ip("shipssh"),
        sock = lab.var("MAESTRO_LAB_SSH_DOCKER_SOCKET"),
        bad_ssh = bad_ssh.display(),
        kh = lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS"),
    );
    let vars = format!(
        "env: {{DB_PASSWORD: {env_secret}, OPAQUE: {marked}, PLAIN: {plain}}}\n    secrets: [OPAQUE]"
    );
    let services = format!(
        r#"  web:
    image: {{IMAGE}}
    {vars}
    instances:
      {{P}}-web-1: {{ship: ship1, command: sleep 3600, stop_timeout: 1}}
  echo:
    image: {{IMAGE}}
    requires: [web]
    {vars}
    lifecycle:
      running:
        - {{type: rexec, command: "sh -c 'env; echo $DB_PASSWORD $OPAQUE >&2; exit 1'", attempts: 2}}
        - {{type: exec, command: "sh -c 'env; echo $DB_PASSWORD >&2; exit 1'", attempts: 2}}
    instances:
      {{P}}-echo-1: {{ship: ship2, command: sleep 3600, stop_timeout: 1}}
  fetch:
    image: {{REGISTRY}}/maestro-test/absent-{u}:1
    {vars}
    instances:
      {{P}}-fetch-1: {{ship: ship3, command: sleep 3600, stop_timeout: 1}}
  leaky:
    image: {{IMAGE}}
    {vars}
    instances:
      # The sleep check holds the start open, so that the exit is seen
      # (without a check, a container that exits within milliseconds of
      # its start can look running to the inspect after it).
      {{P}}-leaky-1: {{ship: ship3, command: "sh -c 'env; echo $DB_PASSWORD $OPAQUE; exit 3'", lifecycle: {{running: [{{type: sleep, wait: 5}}]}}}}
  badtls:
    image: {{IMAGE}}
    {vars}
    instances:
      {{P}}-badtls-1: {{ship: zbadtls}}
  badssh:
    image: {{IMAGE}}
    {vars}
    instances:
      {{P}}-badssh-1: {{ship: zbadssh}}
"#
    );
    let env = TestEnv::with_extra("secrets", &extra, &services);
    std::fs::create_dir_all(env.dir.join("dockercfg")).unwrap();
    // The lab's registry password is replaced by a wrong one: every pull
    // from the registry is refused. An auditor writes a log, and a failing
    // script auditor prints its environment and its input.
    let real_pw = lab.var("MAESTRO_LAB_REGISTRY_PASSWORD");
    let file = env.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&real_pw));
    let script = env.dir.write(
        "audit.sh",
        "#!/bin/sh\nenv >&2\ncat >&2\necho \"$MAESTRO_AUDIT_MESSAGE\" >&2\nexit 1\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let audit_log = env.dir.join("audit.log");
    let text = format!(
        "{}audit:\n  - {{type: log, file: {}}}\n  - {{type: exec, script: {}, ignore_errors: true}}\n",
        text.replace(&real_pw, &reg_pw),
        audit_log.display(),
        script.display()
    );
    std::fs::write(&file, text).unwrap();

    let web = env.n("web-1");
    let echo = env.n("echo-1");
    let mut runs: Vec<Run> = Vec::new();
    let mut step = |args: &[&str]| {
        let r = run(&env, args);
        runs.push(r);
        runs.len() - 1
    };
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate"],
        vec!["dump"],
        vec!["dump", "-c"],
        vec!["config"],
        vec!["config", "--format", "json"],
        vec!["deptree"],
        vec!["deptree", "-r"],
        vec!["ships"],
        vec!["status"],
        vec!["status", "--format", "json"],
        vec!["plan"],
        vec!["plan", "--format", "json"],
        vec!["start", "--dry-run"],
        vec!["start", "--progress", "json"],
        vec!["start", "--progress", "plain"],
        vec!["status", "--format", "json"],
        vec!["status", "--full"],
        vec!["logs", &web],
        vec!["logs", &echo],
        vec!["restart", "--progress", "json"],
        vec!["restart", "--progress", "plain"],
        vec!["up", "--progress", "json"],
        vec!["up", "--progress", "plain"],
        vec!["pull", "--progress", "json"],
        vec!["pull", "--progress", "plain"],
        vec!["lock", "status"],
        vec!["stop", "--progress", "json"],
        vec!["kill", "--progress", "plain"],
        vec!["clean", "--progress", "json"],
        vec!["start", "-i", "fetch", "--progress", "plain"],
        vec!["clean", "--progress", "plain"],
    ];
    let mut index = std::collections::BTreeMap::new();
    for c in &commands {
        index.insert(c.join(" "), step(c));
    }
    let shown = run(&env, &["dump", "--show-secrets"]);
    let shown_config = run(&env, &["config", "--show-secrets"]);

    // The failures happened (so their paths were checked).
    let at = |c: &str| &runs[index[c]];
    let start = at("start --progress plain");
    let start_all = format!("{}{}", start.out, start.err);
    assert_ne!(start.code, Some(0), "{start_all}");
    for (what, needle) in [
        ("the TLS key", "TLS: cannot use"),
        ("the SSH key", "ssh"),
        ("the pull", "fetch-1"),
        ("the check", "echo-1"),
        ("the exit", "leaky-1"),
        ("the exit's logs", &format!("PLAIN={plain}")),
        ("the exit's logs, scrubbed", "DB_PASSWORD=<redacted>"),
        ("the exit's logs, scrubbed", "OPAQUE=<redacted>"),
    ] {
        assert!(start_all.contains(needle), "{what}: {start_all}");
    }
    let pull = at("pull --progress plain");
    assert_ne!(pull.code, Some(0), "{}{}", pull.out, pull.err);
    // Not secret: readable in dump.
    let dump = &at("dump").out;
    assert!(dump.contains(&plain), "{dump}");
    assert!(dump.contains("<redacted>"), "{dump}");
    // The positive control: the secrets are in the file, --show-secrets shows them.
    for s in [&reg_pw, &env_secret, &marked] {
        assert!(
            shown.out.contains(s.as_str()),
            "dump --show-secrets lacks {s}"
        );
        assert!(
            shown_config.out.contains(s.as_str()),
            "config --show-secrets lacks {s}"
        );
    }

    let planted: Vec<(&str, String)> = vec![
        ("registry password", reg_pw.clone()),
        ("the lab's registry password", real_pw.clone()),
        ("secret env value", env_secret.clone()),
        ("value listed in secrets", marked.clone()),
        ("tls_key content", tls_key.clone()),
        ("ssh key content", ssh_key.clone()),
        (
            "the lab's TLS key",
            pem_body_line(&lab.var("MAESTRO_LAB_TLS_KEY")),
        ),
        (
            "the lab's SSH key",
            pem_body_line(&lab.var("MAESTRO_LAB_SSH_KEY")),
        ),
    ];
    let mut leaks = Vec::new();
    for r in &runs {
        for (what, s) in &planted {
            for (stream, text) in [("stdout", &r.out), ("stderr", &r.err)] {
                if text.contains(s.as_str()) {
                    leaks.push(format!(
                        "`maestro {}` {stream} holds the {what}:\n{text}",
                        r.args.join(" ")
                    ));
                }
            }
        }
    }
    let log = std::fs::read_to_string(&audit_log).unwrap_or_default();
    assert!(!log.is_empty(), "the log auditor wrote nothing");
    for (what, s) in &planted {
        if log.contains(s.as_str()) {
            leaks.push(format!("the audit log holds the {what}:\n{log}"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n\n"));
    eprintln!(
        "{} planted secrets x {} command runs (stdout and stderr each) and the audit log: no leak",
        planted.len(),
        runs.len()
    );
}

/// Files that cannot be read (template, YAML and schema errors on the
/// lines that hold a secret) are reported by line, never with the secret.
#[test]
fn broken_files_never_echo_their_secrets() {
    let dir = TempDir::new("sec", "broken");
    let secret = format!("Hunter{}", unique("sec", "b").replace('-', ""));
    let head = "name: t\nships: {a: {ip: 10.213.0.11}}\n";
    let cases = [
        format!(
            "{head}registries:\n  r: {{registry: 'https://r/', username: u, password: \"{{{{ '{secret}' + }}}}\"}}\nservices: {{}}\n"
        ),
        format!(
            "{head}registries:\n  r: {{registry: 'https://r/', username: u, password: \"{secret}}}\nservices: {{}}\n"
        ),
        format!(
            "{head}services:\n  s:\n    image: i\n    env: {{DB_PASSWORD: {secret}: x}}\n    instances: {{ab: {{ship: a}}}}\n"
        ),
        format!(
            "{head}services:\n  s:\n    image: i\n    env: {{DB_PASSWORD: \"{{{{ '{secret}' | nofilter }}}}\"}}\n    instances: {{ab: {{ship: a}}}}\n"
        ),
        format!(
            "{head}services:\n  s:\n    image: i\n    env: {{DB_PASSWORD: {{x: {secret}}}}}\n    instances: {{ab: {{ship: a}}}}\n"
        ),
        format!(
            "{head}registries:\n  r: {{registry: 'https://r/', username: u, password: [{secret}]}}\nservices: {{}}\n"
        ),
        // Docker refuses a NUL in a value, and its error quotes the value:
        // refused at load time instead.
        format!(
            "{head}services:\n  s:\n    image: i\n    env: {{DB_PASSWORD: \"{secret}\\0tail\"}}\n    instances: {{ab: {{ship: a}}}}\n"
        ),
    ];
    for (n, text) in cases.iter().enumerate() {
        let file = dir.write(&format!("m{n}.yaml"), text);
        for cmd in [
            ["validate"].as_slice(),
            &["dump"],
            &["status", "--format", "json"],
        ] {
            let o = std::process::Command::new(maestro_tests::bin("maestro"))
                .arg("-f")
                .arg(&file)
                .args(cmd)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let (out, err) = (stdout(&o), stderr(&o));
            assert_ne!(o.status.code(), Some(0), "case {n} {cmd:?}: {out}{err}");
            assert!(err.contains(&format!("m{n}.yaml:")), "case {n}: {err}");
            assert!(
                !out.contains(&secret) && !err.contains(&secret),
                "case {n} {cmd:?} leaks: {out}{err}"
            );
        }
    }
}
