//! Lifecycle checks (`maestro::lifecycle::run_state`) against containers on
//! the lab's ship1: checks that wait for a service to come up, and the
//! container watcher that ends a wait the moment the container dies.
//!
//! Each test creates its own `maestro-lab/box:1` container (busybox: `sh`,
//! `httpd`), publishes its port 8080 on a port the daemon picks, and loads
//! an environment file (the lab's ships plus one service whose named port
//! `web` maps to that host port) through `maestro::config`, so the checks run
//! exactly as configured by a user.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use maestro::config::model::LifecycleState;
use maestro::config::ship::Ship;
use maestro::config::{Environment, load_str};
use maestro::docker::Docker;
use maestro::docker::models::{
    ContainerCreateBody, HealthConfig, HostConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use maestro::events::State;
use maestro::lifecycle::{CheckFailure, Target, run_state};
use maestro::scheduler::CancelToken;
use maestro_tests::{Lab, unique};

fn load(lab: &Lab, services: &str) -> Environment {
    let yaml = format!("name: t-lifecycle\n{}\n{services}", lab.fragment());
    let dir = std::env::temp_dir();
    load_str(&yaml, &dir).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

/// A container on ship1 and the environment that describes it; removed on
/// drop, even when the test fails.
struct Boxed {
    docker: Docker,
    env: Environment,
    name: String,
    id: String,
    /// When the container was started.
    started: Instant,
}

impl Drop for Boxed {
    fn drop(&mut self) {
        let _ = self.docker.remove(&self.id, true, true);
    }
}

#[derive(Default)]
struct Options {
    restart_always: bool,
    healthcheck: Option<HealthConfig>,
}

/// Creates and starts a container running `script`, then loads an
/// environment whose instance (named like the container) has `lifecycle`
/// (YAML, indented for the instance's `lifecycle:` key).
fn boxed(script: &str, lifecycle: &str) -> Boxed {
    boxed_with(script, lifecycle, Options::default())
}

fn boxed_with(script: &str, lifecycle: &str, opts: Options) -> Boxed {
    let lab = Lab::get();
    let name = unique("lifecycle", "box");
    let image = lab.var("MAESTRO_LAB_IMAGE");
    let ships = load(&lab, "");
    // A patient client: the lab's daemons share a small machine.
    let mut ship = Ship::clone(&ships.ships["ship1"]);
    ship.timeout = Duration::from_secs(30);
    let docker = Docker::new(&ship).unwrap();
    let body = ContainerCreateBody {
        image: Some(image.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
        exposed_ports: Some(vec!["8080/tcp".into()]),
        labels: Some([("maestro.test".to_string(), "lifecycle".to_string())].into()),
        healthcheck: opts.healthcheck,
        host_config: Some(HostConfig {
            port_bindings: Some(
                [(
                    "8080/tcp".to_string(),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some(String::new()),
                    }]),
                )]
                .into(),
            ),
            restart_policy: opts.restart_always.then_some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker.create(&name, &body).unwrap().id;
    let mut b = Boxed {
        docker,
        env: ships,
        name: name.clone(),
        id,
        started: Instant::now(),
    };
    b.started = Instant::now();
    b.docker.start(&b.id).unwrap();
    // The host port the daemon picked (none once the container exited:
    // then no check reaches it anyway).
    let d = b.docker.inspect(&b.id).unwrap();
    let port = match d.raw["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"].as_str() {
        Some(p) => p.to_string(),
        None if !d.state.running => "1".to_string(),
        None => panic!("no host port: {}", d.raw["NetworkSettings"]),
    };
    b.env = load(
        &lab,
        &format!(
            "services:\n  box:\n    image: {image}\n    env: {{SECRET_TOKEN: s3cr3t-value}}\n    instances:\n      {name}:\n        ship: ship1\n        ports: {{web: \"8080:{port}\"}}\n        lifecycle:\n{lifecycle}"
        ),
    );
    b
}

/// Runs `state`'s checks; returns the result, how long the call took, and
/// the progress it reported.
fn run(b: &Boxed, state: LifecycleState) -> (Result<(), CheckFailure>, Duration, Vec<String>) {
    let inst = &b.env.instances[&b.name];
    let container_env = b.env.container_env(inst);
    let target = Target {
        instance: inst,
        ship: &b.env.ships["ship1"],
        docker: &b.docker,
        container_id: Some(&b.id),
        container_env: &container_env,
    };
    let seen = Mutex::new(Vec::new());
    let progress = |s: State| seen.lock().unwrap().push(s.to_string());
    let start = Instant::now();
    let r = run_state(state, &target, &CancelToken::new(), &progress);
    (r, start.elapsed(), seen.into_inner().unwrap())
}

/// The bound for "at once": far below the checks' 60 s `max_wait`, with
/// room for a lab daemon slowed down by a loaded machine.
const WELL_BEFORE: Duration = Duration::from_secs(30);

const HTTPD_LATE: &str = "sleep 0.6; exec httpd -f -p 8080 -h /";

#[test]
fn running_tcp_check_passes_once_the_port_opens() {
    let b = boxed(
        HTTPD_LATE,
        "          running: [{type: tcp, port: web, max_wait: 20}]\n",
    );
    let (r, _, progress) = run(&b, LifecycleState::Running);
    assert_eq!(r, Ok(()));
    // It waited for the server: the published port refuses connections
    // until httpd listens (no false positive from the daemon's proxy).
    let since_start = b.started.elapsed();
    assert!(since_start >= Duration::from_millis(600), "{since_start:?}");
    assert!(since_start < WELL_BEFORE, "{since_start:?}");
    assert_eq!(progress, ["checking tcp:web"]);
}

#[test]
fn http_check_waits_for_the_body_to_match() {
    let script = "mkdir -p /www; echo state=starting > /www/status; httpd -f -p 8080 -h /www & sleep 0.6; echo state=READY > /www/status; wait";
    let b = boxed(
        script,
        "          running:\n            - {type: http, port: web, path: status, match_regex: 'state=READY', max_wait: 20}\n",
    );
    let (r, _, progress) = run(&b, LifecycleState::Running);
    assert_eq!(r, Ok(()));
    // httpd answered 200 from the start; only the body made it pass.
    assert!(b.started.elapsed() >= Duration::from_millis(600));
    assert_eq!(progress, ["checking http:web"]);

    // A body that never matches fails after max_wait, saying why.
    let b2 = boxed(
        script,
        "          running:\n            - {type: http, port: web, path: /status, match_regex: NEVER, max_wait: 1}\n",
    );
    let (r, took, _) = run(&b2, LifecycleState::Running);
    let m = r.unwrap_err().message;
    assert_eq!(
        m,
        "running check http:web did not pass within 1s: status 200, body does not match the regex"
    );
    assert!(took >= Duration::from_secs(1), "{took:?}");
}

#[test]
fn rexec_check_runs_inside_the_container() {
    let b = boxed(
        "sleep 0.6; touch /tmp/ready; exec sleep 600",
        "          running: [{type: rexec, command: test -f /tmp/ready, attempts: 20}]\n          pre-stop: [{type: rexec, command: test -f /tmp/never, attempts: 1}]\n",
    );
    let (r, _, progress) = run(&b, LifecycleState::Running);
    assert_eq!(r, Ok(()));
    assert!(b.started.elapsed() >= Duration::from_millis(600));
    assert_eq!(progress, ["checking rexec:test -f /tmp/ready"]);

    let (r, _, _) = run(&b, LifecycleState::PreStop);
    let m = r.unwrap_err().message;
    assert!(
        m.starts_with("pre-stop check rexec:test -f /tmp/never did not pass within 1 attempts ("),
        "{m}"
    );
    assert!(m.ends_with("): exit code 1"), "{m}");
}

#[test]
fn exec_check_sees_the_container_environment() {
    let b = boxed(
        "exec sleep 600",
        "          running:\n            - {type: exec, command: [sh, -c, '[ \"$SECRET_TOKEN\" = s3cr3t-value ] && [ \"$CONTAINER_HOST_ADDRESS\" = 10.213.0.11 ]'], attempts: 1}\n          pre-stop:\n            - {type: exec, command: [sh, -c, 'echo \"$SECRET_TOKEN\"; exit 1'], attempts: 1}\n",
    );
    let (r, _, _) = run(&b, LifecycleState::Running);
    assert_eq!(r, Ok(()));
    // A failure never shows the environment (nor the command's output).
    let (r, _, _) = run(&b, LifecycleState::PreStop);
    let f = r.unwrap_err();
    assert!(!f.message.contains("s3cr3t-value"), "{f:?}");
    assert!(f.message.ends_with("exit code 1"), "{f:?}");
}

#[test]
fn a_container_that_dies_during_the_wait_ends_it_at_once_with_its_logs() {
    let b = boxed(
        "echo booting; echo 'fatal: no config file' >&2; sleep 0.5; exit 3",
        "          running: [{type: tcp, port: web, max_wait: 60}, {type: sleep, wait: 60}]\n",
    );
    let (r, took, _) = run(&b, LifecycleState::Running);
    let f = r.unwrap_err();
    assert_eq!(
        f.message,
        "container exited (code 3) while waiting for tcp:web, sleep:60s"
    );
    let logs = f.logs.expect("the container's logs");
    assert!(logs.contains("booting"), "{logs}");
    assert!(logs.contains("fatal: no config file"), "{logs}");
    // Well before max_wait: the exit is seen within about a second (on an
    // idle machine).
    assert!(took < WELL_BEFORE, "{took:?}");
}

#[test]
fn a_container_that_already_exited_fails_without_waiting() {
    let b = boxed(
        "echo bye; exit 2",
        "          running: [{type: tcp, port: web, max_wait: 60}]\n",
    );
    // Let it exit.
    b.docker.wait(&b.id).unwrap();
    let (r, took, progress) = run(&b, LifecycleState::Running);
    let f = r.unwrap_err();
    assert_eq!(
        f.message,
        "container exited (code 2) while waiting for tcp:web"
    );
    assert_eq!(f.logs.as_deref(), Some("bye"));
    assert!(progress.is_empty(), "no check was started: {progress:?}");
    assert!(took < WELL_BEFORE, "{took:?}");

    // With no checks at all, the same: no idle wait.
    let b = boxed("exit 5", "          stopped: []\n");
    b.docker.wait(&b.id).unwrap();
    let (r, took, _) = run(&b, LifecycleState::Running);
    assert_eq!(
        r.unwrap_err().message,
        "container exited (code 5): the running state needs it running"
    );
    assert!(took < WELL_BEFORE, "{took:?}");
}

#[test]
fn a_restarting_container_fails_the_wait() {
    let b = boxed_with(
        "echo attempt; sleep 0.3; exit 7",
        "          running: [{type: tcp, port: web, max_wait: 60}]\n",
        Options {
            restart_always: true,
            ..Default::default()
        },
    );
    let (r, took, _) = run(&b, LifecycleState::Running);
    let f = r.unwrap_err();
    assert!(
        f.message
            .starts_with("container is restarting (exited with code 7)")
            || f.message.starts_with("container restarted")
            || f.message.starts_with("container exited (code 7)"),
        "{f:?}"
    );
    assert!(f.message.ends_with(" while waiting for tcp:web"), "{f:?}");
    assert!(f.logs.unwrap_or_default().contains("attempt"));
    assert!(took < WELL_BEFORE, "{took:?}");
}

#[test]
fn stopped_state_passes_for_an_exited_container_and_not_for_a_running_one() {
    let b = boxed(
        "exec sleep 600",
        "          stopped: [{type: sleep, wait: 0.2}]\n          pre-stop: []\n",
    );
    // Running: pre-stop (no checks) holds, stopped does not.
    let (r, _, _) = run(&b, LifecycleState::PreStop);
    assert_eq!(r, Ok(()));
    let (r, _, _) = run(&b, LifecycleState::Stopped);
    assert_eq!(
        r.unwrap_err(),
        CheckFailure {
            message: "container is running while waiting for sleep:0.2s".into(),
            logs: None
        }
    );
    b.docker.kill(&b.id, None).unwrap();
    b.docker.wait(&b.id).unwrap();
    let (r, took, progress) = run(&b, LifecycleState::Stopped);
    assert_eq!(r, Ok(()));
    assert!(took >= Duration::from_millis(200));
    assert_eq!(progress, ["checking sleep:0.2s"]);
    let (r, _, _) = run(&b, LifecycleState::PreStart);
    assert_eq!(r, Ok(()));
}

/// A Docker healthcheck running `test` every 100 ms.
fn health(test: &[&str], retries: i64) -> Options {
    Options {
        healthcheck: Some(HealthConfig {
            test: Some(test.iter().map(|s| s.to_string()).collect()),
            interval: Some(100_000_000),
            timeout: Some(1_000_000_000),
            retries: Some(retries),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn health_check_waits_for_dockers_healthcheck() {
    let b = boxed_with(
        "sleep 0.6; touch /tmp/ready; exec sleep 600",
        "          running: [{type: health, max_wait: 20}]\n",
        health(&["CMD-SHELL", "test -f /tmp/ready"], 1000),
    );
    let (r, _, progress) = run(&b, LifecycleState::Running);
    assert_eq!(r, Ok(()));
    assert!(b.started.elapsed() >= Duration::from_millis(600));
    assert_eq!(progress, ["checking health"]);

    // Unhealthy: a failure at once, not after max_wait.
    let b = boxed_with(
        "exec sleep 600",
        "          running: [{type: health, max_wait: 60}]\n",
        health(&["CMD", "false"], 1),
    );
    let (r, took, _) = run(&b, LifecycleState::Running);
    // The failure shows the probes Docker kept (`CMD false` says nothing).
    let message = r.unwrap_err().message;
    assert!(
        message.starts_with(
            "running check health: the container's healthcheck reports unhealthy; last probes:\n    exit 1, no output"
        ),
        "{message}"
    );
    assert!(took < WELL_BEFORE, "{took:?}");

    // No healthcheck at all: an error, no wait.
    let b = boxed(
        "exec sleep 600",
        "          running: [{type: health, max_wait: 60}]\n",
    );
    let (r, took, _) = run(&b, LifecycleState::Running);
    assert!(
        r.unwrap_err()
            .message
            .starts_with("running check health: the container has no healthcheck"),
    );
    assert!(took < WELL_BEFORE, "{took:?}");
}
