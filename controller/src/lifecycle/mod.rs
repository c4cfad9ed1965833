//! Lifecycle checks: the `pre-start`, `running`, `pre-stop` and `stopped`
//! states of an instance, each a list of checks (`tcp`, `http`, `exec`,
//! `rexec`, `sleep`, `health`) that must all pass while the container stays in the
//! condition the state requires.
//!
//! The orchestration tasks call [`run_state`]; everything about attempts,
//! back-off, deadlines and watching the container lives here. Each check
//! type is a module testable on its own (`tcp`, `http`, `exec`, `rexec`,
//! `sleep`, `health`), built on the shared attempt loop (`retry`, `backoff`); `watch`
//! looks at the container. See `docs/lifecycle.md`.

pub mod backoff;
pub mod exec;
pub mod health;
pub mod http;
pub mod retry;
pub mod rexec;
pub mod sleep;
pub mod tcp;
pub mod watch;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::config::model::{Check, Instance, LifecycleState};
use crate::config::ship::Ship;
use crate::docker::Docker;
use crate::events::State;
use crate::scheduler::CancelToken;

use backoff::Backoff;
use retry::Verdict;
use watch::{Condition, Look, Watch};

/// What the checks of one state run against.
pub struct Target<'a> {
    pub instance: &'a Instance,
    pub ship: &'a Ship,
    /// The client of the instance's ship (for `rexec` and for watching the
    /// container).
    pub docker: &'a Docker,
    /// The container's ID; `None` when there is no container (a `pre-start`
    /// check before the first create).
    pub container_id: Option<&'a str>,
    /// The container's full environment (for `exec` checks).
    pub container_env: &'a BTreeMap<String, String>,
}

/// Why a state's checks did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    /// One line, e.g. `running check tcp:client did not pass within 180 attempts`
    /// or `container exited (code 1) while waiting for tcp:client`.
    pub message: String,
    /// The container's last log lines when it died, to show the user.
    pub logs: Option<String>,
}

/// Runs every check of `state` (service-level checks first, then the
/// instance's own, as configured in `target.instance.lifecycle`),
/// concurrently, and returns when all passed, one failed, the container left
/// the condition the state requires (`running` and `pre-stop`: running;
/// `pre-start` and `stopped`: not running), or `cancel` fired. `progress`
/// receives `State::Checking { what }` updates for the live table.
///
/// A state without checks only confirms the condition, with one look.
pub fn run_state(
    state: LifecycleState,
    target: &Target<'_>,
    cancel: &CancelToken,
    progress: &(dyn Fn(State) + Sync),
) -> Result<(), CheckFailure> {
    let checks: &[Check] = target
        .instance
        .lifecycle
        .get(&state)
        .map_or(&[], Vec::as_slice);
    let whats: Vec<String> = checks.iter().map(describe).collect();
    let mut watch = Watch::new(target.docker, target.container_id, Condition::of(state));
    // A container that is already out of the condition (exited right after
    // its start) fails at once, before any check.
    match watch.probe() {
        Look::Holds => {}
        Look::Left(what) => return Err(left(&watch, state, what, &whats)),
        Look::Unknown(e) if checks.is_empty() => {
            return Err(CheckFailure {
                message: format!("{} state: cannot inspect the container: {e}", name(state)),
                logs: None,
            });
        }
        // The checks may still pass; the watcher looks again soon.
        Look::Unknown(_) => {}
    }
    if checks.is_empty() {
        return Ok(());
    }
    if cancel.is_cancelled() {
        return Err(interrupted(&whats));
    }

    // Ends the checks still running once the state is decided.
    let stop = CancelToken::new();
    std::thread::scope(|s| {
        let (tx, rx) = crossbeam_channel::unbounded();
        for (i, check) in checks.iter().enumerate() {
            let (worker_tx, stop) = (tx.clone(), &stop);
            let spawned = std::thread::Builder::new()
                .name(format!("maestro-check-{i}"))
                .spawn_scoped(s, move || {
                    let _ = worker_tx.send((i, run_check(check, target, stop)));
                });
            if let Err(e) = spawned {
                let _ = tx.send((i, Verdict::Fatal(format!("cannot start a thread: {e}"))));
            }
        }
        drop(tx);
        let waited = Waiting {
            state,
            checks,
            whats: &whats,
            results: rx,
        }
        .wait(&mut watch, cancel, progress);
        stop.cancel();
        waited
    })
}

/// The state's coordinator: collects the checks' results and watches the
/// container meanwhile, on the calling thread.
struct Waiting<'c> {
    state: LifecycleState,
    checks: &'c [Check],
    whats: &'c [String],
    results: crossbeam_channel::Receiver<(usize, Verdict)>,
}

impl Waiting<'_> {
    fn wait(
        &self,
        watch: &mut Watch<'_>,
        cancel: &CancelToken,
        progress: &(dyn Fn(State) + Sync),
    ) -> Result<(), CheckFailure> {
        let mut pending = vec![true; self.checks.len()];
        progress(State::Checking {
            what: self.whats[0].clone(),
        });
        // The container is looked at 50, 150, 350, 750 ms in, then every
        // second: a crash right after start is seen almost at once, and a
        // long wait costs the daemon one inspect a second.
        let mut delays = Backoff::new();
        let mut next_look = Instant::now() + delays.next().unwrap_or(backoff::MAX);
        loop {
            let timeout = if watch.is_active() {
                next_look.saturating_duration_since(Instant::now())
            } else {
                Duration::from_secs(3600)
            };
            crossbeam_channel::select! {
                recv(self.results) -> msg => {
                    let Ok((i, outcome)) = msg else {
                        return Err(CheckFailure {
                            message: format!("{} checks ended without a result", name(self.state)),
                            logs: None,
                        });
                    };
                    if outcome == Verdict::Passed {
                        pending[i] = false;
                        match pending.iter().position(|p| *p) {
                            None => return Ok(()),
                            Some(next) => progress(State::Checking { what: self.whats[next].clone() }),
                        }
                        continue;
                    }
                    // A check that failed because the container died says
                    // less than the death itself.
                    if let Look::Left(what) = watch.probe() {
                        return Err(left(watch, self.state, what, &self.pending(&pending)));
                    }
                    return Err(self.failure(i, outcome));
                },
                recv(cancel.receiver()) -> _ => return Err(interrupted(&self.pending(&pending))),
                default(timeout) => {
                    if let Look::Left(what) = watch.probe() {
                        return Err(left(watch, self.state, what, &self.pending(&pending)));
                    }
                    next_look = Instant::now() + delays.next().unwrap_or(backoff::MAX);
                },
            }
        }
    }

    fn pending(&self, pending: &[bool]) -> Vec<String> {
        self.whats
            .iter()
            .zip(pending)
            .filter(|(_, p)| **p)
            .map(|(w, _)| w.clone())
            .collect()
    }

    fn failure(&self, i: usize, outcome: Verdict) -> CheckFailure {
        let head = format!("{} check {}", name(self.state), self.whats[i]);
        let message = match outcome {
            Verdict::Passed => format!("{head} passed"),
            Verdict::Fatal(m) => format!("{head}: {m}"),
            Verdict::Stopped => format!("{head} was stopped"),
            Verdict::GaveUp {
                attempts,
                elapsed,
                last,
            } => {
                let within = match &self.checks[i] {
                    Check::Http { max_wait, .. } | Check::Health { max_wait } => {
                        format!("{}s", seconds(*max_wait))
                    }
                    // Cut by its max_wait before its attempts were spent.
                    Check::Exec {
                        max_wait: Some(max_wait),
                        attempts: n,
                        ..
                    } if attempts < *n || elapsed < Duration::from_secs(*n) => {
                        format!("{}s ({attempts} attempts made)", seconds(*max_wait))
                    }
                    Check::Tcp { max_wait: n, .. }
                    | Check::Exec { attempts: n, .. }
                    | Check::Rexec { attempts: n, .. } => {
                        format!(
                            "{n} attempts ({attempts} made in {:.1}s)",
                            elapsed.as_secs_f64()
                        )
                    }
                    Check::Sleep { .. } => format!("{:.1}s", elapsed.as_secs_f64()),
                };
                format!("{head} did not pass within {within}: {last}")
            }
        };
        CheckFailure {
            message,
            logs: None,
        }
    }
}

/// Runs one check to its end (or until `stop`).
fn run_check(check: &Check, t: &Target<'_>, stop: &CancelToken) -> Verdict {
    match check {
        Check::Tcp {
            target_port,
            max_wait,
            ..
        } => tcp::check(&t.ship.ip, *target_port, *max_wait, stop),
        Check::Http {
            target_port,
            host,
            scheme,
            path,
            method,
            match_regex,
            max_wait,
            verify,
            timeout,
            headers,
            ..
        } => match http::spec(
            scheme,
            host,
            *target_port,
            path,
            method,
            match_regex.as_deref(),
            *verify,
            *timeout,
            headers,
        ) {
            Ok(spec) => http::check(&spec, *max_wait, stop),
            Err(e) => Verdict::Fatal(e),
        },
        Check::Exec {
            command,
            attempts,
            envfrom,
            timeout,
            max_wait,
        } => {
            let limits = exec::Limits {
                timeout: *timeout,
                max_wait: *max_wait,
            };
            exec::check(command, *attempts, *envfrom, t.container_env, limits, stop)
        }
        Check::Rexec { command, attempts } => {
            rexec::check(t.docker, t.container_id, command, *attempts, stop)
        }
        Check::Sleep { wait } => sleep::check(*wait, stop),
        Check::Health { max_wait } => health::check(t.docker, t.container_id, *max_wait, stop),
    }
}

/// `tcp:client`, `http:web`, `exec:./ready.sh db`, `sleep:5s`: what the
/// live table shows while the check runs, and what messages name.
pub fn describe(check: &Check) -> String {
    match check {
        Check::Tcp { port, .. } => format!("tcp:{port}"),
        Check::Http { port, .. } => format!("http:{port}"),
        Check::Exec { command, .. } => format!("exec:{}", summary(command)),
        Check::Rexec { command, .. } => format!("rexec:{}", summary(command)),
        Check::Sleep { wait } => format!("sleep:{}s", seconds(*wait)),
        Check::Health { .. } => "health".into(),
    }
}

/// The command, shortened to fit a table cell.
fn summary(command: &[String]) -> String {
    const MAX: usize = 40;
    let joined = command.join(" ");
    if joined.chars().count() <= MAX {
        return joined;
    }
    let mut short: String = joined.chars().take(MAX - 1).collect();
    short.push('…');
    short
}

fn seconds(s: f64) -> String {
    // `5`, `0.5`: no trailing `.0`.
    format!("{s}")
}

fn name(state: LifecycleState) -> &'static str {
    LifecycleState::ALL
        .iter()
        .find(|(_, s)| *s == state)
        .map_or("?", |(n, _)| n)
}

fn waiting_for(whats: &[String]) -> String {
    if whats.is_empty() {
        String::new()
    } else {
        format!(" while waiting for {}", whats.join(", "))
    }
}

/// The container left the state's condition.
fn left(watch: &Watch<'_>, state: LifecycleState, what: String, whats: &[String]) -> CheckFailure {
    let message = if whats.is_empty() {
        let needs = match watch.condition() {
            Condition::Running => "running",
            Condition::Down => "down",
        };
        format!("{what}: the {} state needs it {needs}", name(state))
    } else {
        format!("{what}{}", waiting_for(whats))
    };
    CheckFailure {
        message,
        // Its last words, when it died.
        logs: match watch.condition() {
            Condition::Running => watch.logs(),
            Condition::Down => None,
        },
    }
}

fn interrupted(whats: &[String]) -> CheckFailure {
    CheckFailure {
        message: format!("interrupted{}", waiting_for(whats)),
        logs: None,
    }
}

#[cfg(test)]
mod tests;
