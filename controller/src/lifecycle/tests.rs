//! `run_state` without a daemon: `pre-start` checks of an instance that has
//! no container yet (so nothing is inspected), against local servers and
//! commands. The container watcher is tested against the lab
//! (`tests/e2e/lifecycle.rs`).

use std::net::TcpListener;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::config::{Environment, load_str};
use crate::scheduler::cancel::cancelled_after;

fn env(checks: &str, port: u16) -> Environment {
    let yaml = format!(
        "name: t\nships:\n  local: {{ip: 127.0.0.1}}\nservices:\n  svc:\n    image: box\n    env: {{GREETING: hello}}\n    instances:\n      one:\n        ship: local\n        ports: {{client: {port}}}\n        lifecycle:\n{checks}"
    );
    match load_str(&yaml, Path::new(".")) {
        Ok(e) => e,
        Err(e) => panic!("{e}\n{yaml}"),
    }
}

/// Runs `state` of instance `one`, with no container, recording progress.
fn run(
    e: &Environment,
    state: LifecycleState,
    cancel: &CancelToken,
) -> (Result<(), CheckFailure>, Vec<String>) {
    let inst = &e.instances["one"];
    let ship = &e.ships["local"];
    // Building a client contacts nothing; no check here reaches a daemon.
    let docker = Docker::new(ship).unwrap();
    let container_env = e.container_env(inst);
    let target = Target {
        instance: inst,
        ship,
        docker: &docker,
        container_id: None,
        container_env: &container_env,
    };
    let seen = Mutex::new(Vec::new());
    let progress = |s: State| seen.lock().unwrap().push(s.to_string());
    let r = run_state(state, &target, cancel, &progress);
    (r, seen.into_inner().unwrap())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn all_checks_pass_concurrently() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // Two commands that each wait for the other's mark: they pass only
    // when they run at the same time (each gives up after about 10 s).
    let dir = std::env::temp_dir().join(format!("maestro-concurrent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let wait_for = |mine: &str, other: &str| {
        format!(
            "            - {{type: exec, attempts: 1, command: [sh, -c, 'touch {d}/{mine}; i=0; while [ ! -f {d}/{other} ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 1; sleep 0.01; done']}}\n",
            d = dir.display()
        )
    };
    let checks = format!(
        "          pre-start:\n{}{}            - {{type: tcp, port: client}}\n            - {{type: exec, command: \"sh -c '[ $GREETING = hello ]'\"}}\n            - {{type: sleep, wait: 0.1}}\n",
        wait_for("a", "b"),
        wait_for("b", "a")
    );
    let e = env(&checks, port);
    let (r, progress) = run(&e, LifecycleState::PreStart, &CancelToken::new());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r, Ok(()));
    assert!(
        progress[0].starts_with("checking exec:sh -c touch "),
        "{progress:?}"
    );
    assert!(progress.len() >= 2, "{progress:?}");
    assert!(
        progress.iter().all(|p| p.starts_with("checking ")),
        "{progress:?}"
    );
}

#[test]
fn one_failing_check_fails_the_state_at_once_with_its_reason() {
    let port = free_port();
    let checks = "          pre-start:\n            - {type: sleep, wait: 60}\n            - {type: exec, command: [sh, -c, 'exit 4'], attempts: 1}\n";
    let e = env(checks, port);
    let start = Instant::now();
    let (r, _) = run(&e, LifecycleState::PreStart, &CancelToken::new());
    let f = r.unwrap_err();
    assert!(
        f.message
            .starts_with("pre-start check exec:sh -c exit 4 did not pass within 1 attempts ("),
        "{}",
        f.message
    );
    assert!(f.message.ends_with("s): exit code 4"), "{}", f.message);
    assert_eq!(f.logs, None);
    // The 60 s sleep was stopped, not waited for.
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn tcp_failure_names_the_port_and_the_reason() {
    let port = free_port();
    let e = env(
        "          pre-start: [{type: tcp, port: client, max_wait: 1}]\n",
        port,
    );
    let (r, progress) = run(&e, LifecycleState::PreStart, &CancelToken::new());
    let m = r.unwrap_err().message;
    assert!(
        m.starts_with("pre-start check tcp:client did not pass within 1 attempts ("),
        "{m}"
    );
    assert!(m.contains("refused"), "{m}");
    assert_eq!(progress, ["checking tcp:client"]);
}

#[test]
fn http_bad_regex_is_an_error_at_once() {
    // The loader rejects a bad regex; a check built some other way still
    // fails cleanly, at once.
    let mut e = env(
        "          pre-start: [{type: http, port: client, match_regex: ok}]\n",
        free_port(),
    );
    let inst = e.instances.get_mut("one").unwrap();
    let checks = inst.lifecycle.get_mut(&LifecycleState::PreStart).unwrap();
    let Check::Http { match_regex, .. } = &mut checks[0] else {
        panic!("{checks:?}")
    };
    *match_regex = Some("(oops".into());
    let start = Instant::now();
    let (r, _) = run(&e, LifecycleState::PreStart, &CancelToken::new());
    let m = r.unwrap_err().message;
    assert!(
        m.starts_with("pre-start check http:client: bad match_regex \"(oops\": "),
        "{m}"
    );
    // Not retried until max_wait (300 s).
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn http_failure_says_the_deadline() {
    let e = env(
        "          pre-start: [{type: http, port: client, max_wait: 0.2}]\n",
        free_port(),
    );
    let (r, _) = run(&e, LifecycleState::PreStart, &CancelToken::new());
    let m = r.unwrap_err().message;
    assert!(
        m.starts_with("pre-start check http:client did not pass within 0.2s: "),
        "{m}"
    );
}

#[test]
fn cancel_ends_every_wait_promptly() {
    let port = free_port();
    let checks = "          pre-start:\n            - {type: sleep, wait: 60}\n            - {type: tcp, port: client}\n            - {type: exec, command: [sleep, '30']}\n";
    let e = env(checks, port);
    let ((r, _), took) = cancelled_after(Duration::from_millis(200), |cancel| {
        run(&e, LifecycleState::PreStart, cancel)
    });
    assert_eq!(
        r.unwrap_err().message,
        "interrupted while waiting for sleep:60s, tcp:client, exec:sleep 30"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn no_checks_and_no_container() {
    let e = env("          stopped: []\n", free_port());
    // Down states hold without a container...
    for state in [LifecycleState::PreStart, LifecycleState::Stopped] {
        let start = Instant::now();
        let (r, progress) = run(&e, state, &CancelToken::new());
        assert_eq!(r, Ok(()));
        assert!(progress.is_empty());
        // No idle wait (MaestroNG: up to 5 s).
        assert!(start.elapsed() < Duration::from_secs(2));
    }
    // ...running ones do not.
    let (r, _) = run(&e, LifecycleState::Running, &CancelToken::new());
    assert_eq!(
        r.unwrap_err(),
        CheckFailure {
            message: "there is no container: the running state needs it running".into(),
            logs: None
        }
    );
}

#[test]
fn descriptions() {
    let c = |yaml: &str| {
        let e = env(&format!("          pre-start: [{yaml}]\n"), 80);
        describe(&e.instances["one"].lifecycle[&LifecycleState::PreStart][0])
    };
    assert_eq!(c("{type: tcp, port: client}"), "tcp:client");
    assert_eq!(c("{type: http, port: 8080}"), "http:8080");
    assert_eq!(
        c("{type: rexec, command: test -f /tmp/ready}"),
        "rexec:test -f /tmp/ready"
    );
    assert_eq!(c("{type: sleep, wait: 5}"), "sleep:5s");
    assert_eq!(
        c("{type: exec, command: ./a-very-long-check-script --with many --options here}"),
        "exec:./a-very-long-check-script --with many …"
    );
}
