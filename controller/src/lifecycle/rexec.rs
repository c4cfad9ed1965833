//! `rexec`: a command run inside the container (docker exec); exit code 0
//! passes.
//!
//! The exec is started detached and its end read from `exec inspect`, as
//! MaestroNG did: nothing blocks while the command runs, so a stop ends the
//! wait at once (the command itself then runs to its end in the container:
//! the API cannot kill an exec).

use std::time::{Duration, Instant};

use super::backoff::Backoff;
use super::retry::{Attempt, Budget, Verdict, retry_with};
use crate::docker::Docker;
use crate::docker::models::ExecConfig;
use crate::scheduler::CancelToken;

/// How long an exec may stay neither running nor finished before the
/// attempt counts as failed.
const START_GRACE: Duration = Duration::from_secs(5);

/// Runs `command` in the container until it exits 0, within `attempts`
/// attempts (see `retry`).
pub fn check(
    docker: &Docker,
    container: Option<&str>,
    command: &[String],
    attempts: u64,
    stop: &CancelToken,
) -> Verdict {
    let Some(id) = container else {
        return Verdict::Fatal("there is no container to run it in".into());
    };
    // Each attempt is several API calls: the gentler doubling back-off.
    retry_with(Budget::attempts(attempts), Backoff::new(), stop, |_| {
        attempt(docker, id, command, stop)
    })
}

/// One docker exec, waited for.
pub fn attempt(
    docker: &Docker,
    container: &str,
    command: &[String],
    stop: &CancelToken,
) -> Attempt {
    let config = ExecConfig {
        cmd: Some(command.to_vec()),
        // The output is not needed, and not attaching it lets the exec run
        // detached.
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        ..Default::default()
    };
    let exec_id = match docker.exec_create(container, &config) {
        Ok(id) => id,
        Err(e) => return Attempt::Retry(e.to_string()),
    };
    if let Err(e) = docker.exec_start_detached(&exec_id) {
        return Attempt::Retry(e.to_string());
    }
    let started = Instant::now();
    let mut delays = Backoff::between(Duration::from_millis(5), Duration::from_millis(250));
    loop {
        match docker.exec_inspect(&exec_id) {
            Ok(d) => match d.exit_code {
                Some(0) if !d.running => return Attempt::Pass,
                Some(code) if !d.running => return Attempt::Retry(format!("exit code {code}")),
                _ if !d.running && started.elapsed() > START_GRACE => {
                    return Attempt::Retry("the exec never started".into());
                }
                _ => {}
            },
            Err(e) => return Attempt::Retry(e.to_string()),
        }
        if stop.sleep(delays.next().unwrap_or(Duration::from_millis(250))) {
            return Attempt::Retry("stopped".into());
        }
    }
}
