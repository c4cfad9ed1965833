//! Watching the container while a state's checks run: `running` and
//! `pre-stop` need it running, `pre-start` and `stopped` need it down (or
//! absent). The moment it leaves that condition the wait ends, with what
//! happened and, when it died, its last log lines.

use crate::config::model::LifecycleState;
use crate::docker::models::ContainerState;
use crate::docker::{Docker, LogOptions};

/// Log lines shown when a container died during its checks.
pub const LOG_LINES: u64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Running,
    Down,
}

impl Condition {
    pub fn of(state: LifecycleState) -> Condition {
        match state {
            LifecycleState::Running | LifecycleState::PreStop => Condition::Running,
            LifecycleState::PreStart | LifecycleState::Stopped => Condition::Down,
        }
    }
}

/// What one look at the container found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    Holds,
    /// It left the condition: what happened, e.g. `container exited (code 1)`.
    Left(String),
    /// The daemon could not tell (unreachable, timeout): look again later.
    Unknown(String),
}

pub struct Watch<'a> {
    docker: &'a Docker,
    id: Option<&'a str>,
    condition: Condition,
    /// When the container last started, as first seen (see `running`).
    started_at: Option<String>,
}

impl<'a> Watch<'a> {
    pub fn new(docker: &'a Docker, id: Option<&'a str>, condition: Condition) -> Self {
        Watch {
            docker,
            id,
            condition,
            started_at: None,
        }
    }

    /// Whether looking can ever find anything: with no container, `Down`
    /// holds by definition.
    pub fn is_active(&self) -> bool {
        self.id.is_some()
    }

    pub fn condition(&self) -> Condition {
        self.condition
    }

    /// One `inspect`.
    pub fn probe(&mut self) -> Look {
        let Some(id) = self.id else {
            return match self.condition {
                Condition::Running => Look::Left("there is no container".into()),
                Condition::Down => Look::Holds,
            };
        };
        let state = match self.docker.inspect(id) {
            Ok(d) => d.state,
            Err(e) if e.is_not_found() => {
                return match self.condition {
                    Condition::Running => Look::Left("container was removed".into()),
                    Condition::Down => Look::Holds,
                };
            }
            Err(e) => return Look::Unknown(e.to_string()),
        };
        match self.condition {
            Condition::Down if state.running => Look::Left("container is running".into()),
            Condition::Down => Look::Holds,
            Condition::Running => running(&state, &mut self.started_at),
        }
    }

    /// The container's last log lines (stdout and stderr), if any.
    pub fn logs(&self) -> Option<String> {
        let id = self.id?;
        let opts = LogOptions {
            tail: Some(LOG_LINES),
            ..Default::default()
        };
        let mut out = Vec::new();
        for frame in self.docker.logs(id, &opts).ok()? {
            match frame {
                Ok(f) => out.extend(f.data),
                Err(_) => break,
            }
        }
        let text = String::from_utf8_lossy(&out).trim_end().to_string();
        (!text.is_empty()).then_some(text)
    }
}

/// Whether a container that must be running still is. `started_at` keeps
/// its start time as first seen: a different one later means it crashed and
/// was restarted between two looks.
fn running(s: &ContainerState, started_at: &mut Option<String>) -> Look {
    if s.restarting {
        return Look::Left(format!(
            "container is restarting (exited with code {})",
            s.exit_code
        ));
    }
    if s.paused {
        return Look::Left("container was paused".into());
    }
    if s.running {
        let first = started_at.get_or_insert_with(|| s.started_at.clone());
        if *first != s.started_at {
            return Look::Left("container restarted".into());
        }
        return Look::Holds;
    }
    if s.oom_killed {
        return Look::Left(format!(
            "container was killed for lack of memory (code {})",
            s.exit_code
        ));
    }
    match s.status.as_str() {
        "exited" | "dead" if !s.error.is_empty() => {
            Look::Left(format!("container failed: {}", s.error))
        }
        "exited" | "dead" => Look::Left(format!("container exited (code {})", s.exit_code)),
        "created" => Look::Left("container is not running (created, never started)".into()),
        other => Look::Left(format!("container is not running ({other})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: &str, f: impl FnOnce(&mut ContainerState)) -> ContainerState {
        let mut s = ContainerState {
            status: status.into(),
            running: status == "running",
            started_at: "t1".into(),
            ..Default::default()
        };
        f(&mut s);
        s
    }

    fn left(s: &ContainerState) -> String {
        match running(s, &mut None) {
            Look::Left(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_a_container_that_must_run_did() {
        assert_eq!(running(&state("running", |_| {}), &mut None), Look::Holds);
        let exited = state("exited", |s| s.exit_code = 3);
        assert_eq!(left(&exited), "container exited (code 3)");
        let oom = state("exited", |s| {
            s.exit_code = 137;
            s.oom_killed = true;
        });
        assert_eq!(
            left(&oom),
            "container was killed for lack of memory (code 137)"
        );
        let restarting = state("restarting", |s| {
            s.running = true;
            s.restarting = true;
            s.exit_code = 7;
        });
        assert_eq!(
            left(&restarting),
            "container is restarting (exited with code 7)"
        );
        let paused = state("paused", |s| {
            s.running = true;
            s.paused = true;
        });
        assert_eq!(left(&paused), "container was paused");
        assert_eq!(
            left(&state("created", |_| {})),
            "container is not running (created, never started)"
        );
        let failed = state("exited", |s| {
            s.exit_code = 127;
            s.error = "exec: \"nope\": executable file not found".into();
        });
        assert_eq!(
            left(&failed),
            "container failed: exec: \"nope\": executable file not found"
        );
    }

    #[test]
    fn a_restart_between_two_looks_is_seen() {
        let mut first = None;
        assert_eq!(running(&state("running", |_| {}), &mut first), Look::Holds);
        assert_eq!(running(&state("running", |_| {}), &mut first), Look::Holds);
        let again = state("running", |s| s.started_at = "t2".into());
        assert_eq!(
            running(&again, &mut first),
            Look::Left("container restarted".into())
        );
    }

    #[test]
    fn conditions_of_the_states() {
        assert_eq!(Condition::of(LifecycleState::Running), Condition::Running);
        assert_eq!(Condition::of(LifecycleState::PreStop), Condition::Running);
        assert_eq!(Condition::of(LifecycleState::PreStart), Condition::Down);
        assert_eq!(Condition::of(LifecycleState::Stopped), Condition::Down);
    }
}
