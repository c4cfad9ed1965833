//! Watching the container while a state's checks run: `running` and
//! `pre-stop` need it running, `pre-start` and `stopped` need it down (or
//! absent). The moment it leaves that condition the wait ends, with what
//! happened and, when it died, its last log lines.

use crate::config::model::LifecycleState;
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
pub enum Seen {
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
    /// When the container last started, as first seen: a different value
    /// later means it crashed and was restarted between two looks.
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
    pub fn probe(&mut self) -> Seen {
        let Some(id) = self.id else {
            return match self.condition {
                Condition::Running => Seen::Left("there is no container".into()),
                Condition::Down => Seen::Holds,
            };
        };
        let state = match self.docker.inspect(id) {
            Ok(d) => d.state,
            Err(e) if e.is_not_found() => {
                return match self.condition {
                    Condition::Running => Seen::Left("container was removed".into()),
                    Condition::Down => Seen::Holds,
                };
            }
            Err(e) => return Seen::Unknown(e.to_string()),
        };
        match self.condition {
            Condition::Down if state.running => Seen::Left("container is running".into()),
            Condition::Down => Seen::Holds,
            Condition::Running => self.running(state),
        }
    }

    fn running(&mut self, s: crate::docker::models::ContainerState) -> Seen {
        if s.restarting {
            return Seen::Left(format!(
                "container is restarting (exited with code {})",
                s.exit_code
            ));
        }
        if s.paused {
            return Seen::Left("container was paused".into());
        }
        if s.running {
            let first = self.started_at.get_or_insert_with(|| s.started_at.clone());
            if *first != s.started_at {
                return Seen::Left("container restarted".into());
            }
            return Seen::Holds;
        }
        if s.oom_killed {
            return Seen::Left(format!(
                "container was killed for lack of memory (code {})",
                s.exit_code
            ));
        }
        match s.status.as_str() {
            "exited" | "dead" if !s.error.is_empty() => {
                Seen::Left(format!("container failed: {}", s.error))
            }
            "exited" | "dead" => Seen::Left(format!("container exited (code {})", s.exit_code)),
            "created" => Seen::Left("container is not running (created, never started)".into()),
            other => Seen::Left(format!("container is not running ({other})")),
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
