//! The plan: for each selected instance, what its command will do and why,
//! decided from the observed containers before anything changes. Pure:
//! `--dry-run` prints it (`Plan`'s `Display`) and stops there.

use std::collections::BTreeSet;

use super::observe::{Container, Observed, Seen};
use super::selection::Verb;
use crate::config::Environment;
use crate::events::human_duration;
use crate::scheduler::Deps;

/// Options that change what `start` decides.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// `--reuse`: start an existing stopped container as it is.
    pub reuse: bool,
    /// `--rerun`: run one-shot containers again even when they completed
    /// from the same configuration.
    pub rerun: bool,
}

/// What one instance's task does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// start: running already; `drift` when its configuration hash label
    /// differs from the configuration (`restart` applies it).
    UpToDate {
        container: Container,
        drift: bool,
    },
    /// start: create (after removing `replace`, a stopped container) and
    /// start a new container.
    Create {
        replace: Option<Container>,
    },
    /// start with `--reuse`: start the existing stopped container.
    StartExisting {
        container: Container,
    },
    /// start, stop, kill: a one-shot that already ran to completion from
    /// the same configuration; nothing to do.
    Completed {
        container: Container,
    },
    /// start: a one-shot still running (from an earlier, interrupted
    /// play): waited for until it exits, as a fresh run would be.
    AwaitExit {
        container: Container,
    },
    /// stop / kill: the container runs.
    Stop {
        container: Container,
    },
    Kill {
        container: Container,
    },
    /// stop / kill: not running; nothing to do.
    Down {
        container: Option<Container>,
    },
    /// clean: remove the stopped container.
    Remove {
        container: Container,
    },
    /// clean: running, left alone.
    SkipRunning {
        container: Container,
    },
    /// clean: no container.
    Absent,
    /// The ship did not answer.
    HostDown {
        reason: String,
    },
    /// start: a dependency is on a ship that did not answer.
    Blocked {
        by: String,
    },
}

impl Action {
    /// Whether the task changes anything on the ship.
    pub fn changes(&self) -> bool {
        matches!(
            self,
            Action::Create { .. }
                | Action::StartExisting { .. }
                | Action::Stop { .. }
                | Action::Kill { .. }
                | Action::Remove { .. }
        )
    }
}

/// One instance's part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub instance: String,
    pub service: String,
    pub ship: String,
    /// Selected instances it waits for, in forward terms; shared by the
    /// instances of a service (see `selection::dependencies`).
    pub deps: Deps,
    pub action: Action,
}

impl Step {
    /// Why the step does what it does, in words.
    pub fn cause(&self) -> String {
        match &self.action {
            Action::UpToDate { container, drift } => {
                let up = container.for_secs.map_or("up".to_string(), |s| {
                    format!("up for {}", human_duration(s))
                });
                if *drift {
                    format!("nothing to do: {up} (configuration changed; restart to apply)")
                } else {
                    format!("nothing to do: {up}")
                }
            }
            Action::Create { replace: None } => "create and start: no container".into(),
            Action::Create { replace: Some(c) } => {
                format!(
                    "recreate and start: container {} is {}",
                    c.display(),
                    c.state
                )
            }
            Action::StartExisting { container } => {
                format!("start existing container {} (--reuse)", container.display())
            }
            Action::Completed { container } => {
                format!("nothing to do: {} completed", container.display())
            }
            Action::AwaitExit { container } => {
                format!(
                    "wait: one-shot {} is running to completion",
                    container.display()
                )
            }
            Action::Stop { container } => format!("stop: {} is running", container.display()),
            Action::Kill { container } => format!("kill: {} is running", container.display()),
            Action::Down { container: Some(c) } => {
                format!("nothing to do: {} is {}", c.display(), c.state)
            }
            Action::Down { container: None } => "nothing to do: no container".into(),
            Action::Remove { container } => {
                format!("remove: {} is {}", container.display(), container.state)
            }
            Action::SkipRunning { container } => {
                format!("skip: {} is running", container.display())
            }
            Action::Absent => "nothing to do: no container".into(),
            Action::HostDown { reason } => format!("host down: {reason}"),
            Action::Blocked { by } => format!("not started: {by} is on a ship that did not answer"),
        }
    }
}

/// The whole plan, steps sorted by instance name (the scheduler orders the
/// rows by dependencies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub command: Verb,
    pub steps: Vec<Step>,
}

/// Decides every selected instance's step. `deps` comes from
/// `selection::dependencies` (same order as `selected`).
pub fn plan(
    env: &Environment,
    command: Verb,
    deps: &[(String, Deps)],
    observed: &Observed,
    opts: PlanOptions,
) -> Plan {
    let down: BTreeSet<&str> = deps
        .iter()
        .filter(|(n, _)| matches!(observed.get(n), Seen::HostDown(_)))
        .map(|(n, _)| n.as_str())
        .collect();
    let steps = deps
        .iter()
        .filter_map(|(name, deps)| {
            let i = env.instances.get(name)?;
            let one_shot = i.one_shot().is_some();
            let action = decide(command, &i.config_hash, observed.get(name), opts, one_shot);
            let action = match action {
                Action::Create { .. } | Action::StartExisting { .. } | Action::UpToDate { .. }
                    if command == Verb::Start =>
                {
                    match deps.iter().find(|d| down.contains(d.as_str())) {
                        Some(by) if !matches!(action, Action::UpToDate { .. }) => {
                            Action::Blocked { by: by.clone() }
                        }
                        _ => action,
                    }
                }
                other => other,
            };
            Some(Step {
                instance: name.clone(),
                service: i.service.clone(),
                ship: i.ship.name.clone(),
                deps: deps.clone(),
                action,
            })
        })
        .collect();
    Plan { command, steps }
}

/// `one_shot`: the instance has `run: once`.
fn decide(
    command: Verb,
    config_hash: &str,
    seen: &Seen,
    opts: PlanOptions,
    one_shot: bool,
) -> Action {
    let c = match seen {
        Seen::HostDown(reason) => {
            return Action::HostDown {
                reason: reason.clone(),
            };
        }
        Seen::Absent => None,
        Seen::Container(c) => Some(c.clone()),
    };
    match (command, c) {
        (Verb::Start, None) => Action::Create { replace: None },
        // A running one-shot is never killed to be run again: it may be
        // half way through its work.
        (Verb::Start, Some(c)) if one_shot && c.running => Action::AwaitExit { container: c },
        (Verb::Start | Verb::Stop | Verb::Kill, Some(c))
            if one_shot && c.completed(config_hash) && !(command == Verb::Start && opts.rerun) =>
        {
            Action::Completed { container: c }
        }
        (Verb::Start, Some(c)) if c.running => {
            let drift = c.config_hash.as_deref().is_some_and(|h| h != config_hash);
            Action::UpToDate {
                container: c,
                drift,
            }
        }
        (Verb::Start, Some(c)) if opts.reuse => Action::StartExisting { container: c },
        (Verb::Start, Some(c)) => Action::Create { replace: Some(c) },
        // Restart's first half is a stop (its own plan: `plan::restart`).
        (Verb::Stop | Verb::Restart, Some(c)) if c.running => Action::Stop { container: c },
        (Verb::Kill, Some(c)) if c.running => Action::Kill { container: c },
        (Verb::Stop | Verb::Kill | Verb::Restart, c) => Action::Down { container: c },
        (Verb::Clean, Some(c)) if c.running => Action::SkipRunning { container: c },
        (Verb::Clean, Some(c)) => Action::Remove { container: c },
        // The commands that change nothing only look.
        (
            Verb::Clean | Verb::Status | Verb::Pull | Verb::Logs | Verb::Dump | Verb::Deptree,
            None,
        ) => Action::Absent,
        (Verb::Status | Verb::Pull | Verb::Logs | Verb::Dump | Verb::Deptree, Some(c)) => {
            Action::UpToDate {
                container: c,
                drift: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::selection::dependencies;

    const ENV: &str = "name: t
ships:
  ship1: {ip: 10.213.0.1}
  ship2: {ip: 10.213.0.2}
services:
  zk:
    image: zk:3
    instances: {zk-1: {ship: ship1}, zk-2: {ship: ship2}}
  kafka:
    image: kafka:2
    requires: [zk]
    instances: {kafka-1: {ship: ship1}}
";

    fn container(id: &str, running: bool, hash: Option<&str>) -> Seen {
        Seen::Container(Container {
            id: id.into(),
            image: "zk:3".into(),
            running,
            state: if running { "running" } else { "exited" }.into(),
            for_secs: Some(180),
            config_hash: hash.map(str::to_string),
            exit_code: (!running).then_some(0),
        })
    }

    fn run(command: Verb, seen: &[(&str, Seen)], opts: PlanOptions) -> String {
        let env = crate::config::load_str(ENV, std::path::Path::new(".")).unwrap();
        let selected = env.instances.keys().cloned().collect();
        let deps = dependencies(&env, &selected, false);
        let mut observed = Observed::default();
        for (n, s) in seen {
            let s = match s {
                Seen::Container(c) if c.config_hash.as_deref() == Some("same") => {
                    let mut c = c.clone();
                    c.config_hash = Some(env.instances[*n].config_hash.clone());
                    Seen::Container(c)
                }
                other => other.clone(),
            };
            observed.seen.insert(n.to_string(), s);
        }
        crate::render::plan::text(&plan(&env, command, &deps, &observed, opts))
    }

    #[test]
    fn start_plan() {
        let seen = [
            ("zk-1", container("aaaaaaaaaa", true, Some("same"))),
            ("zk-2", container("bbbbbbbbbb", true, Some("old"))),
            ("kafka-1", container("cccccccccc", false, Some("same"))),
        ];
        assert_eq!(
            run(Verb::Start, &seen, PlanOptions::default()),
            "start plan:
  kafka-1 (ship1) after zk-1,zk-2: recreate and start: container 3:ccccccc is exited
  zk-1 (ship1): nothing to do: up for 3m0s
  zk-2 (ship2): nothing to do: up for 3m0s (configuration changed; restart to apply)
1 of 3 instances to change
"
        );
        let reuse = run(
            Verb::Start,
            &seen,
            PlanOptions {
                reuse: true,
                ..PlanOptions::default()
            },
        );
        assert!(reuse.contains(
            "kafka-1 (ship1) after zk-1,zk-2: start existing container 3:ccccccc (--reuse)"
        ));
    }

    const ONE_SHOT_ENV: &str = "name: t
ships:
  ship1: {ip: 10.213.0.1}
services:
  seed:
    image: box:1
    run: once
    instances: {seed-1: {ship: ship1}}
  app:
    image: box:1
    requires: [seed]
    instances: {app-1: {ship: ship1}}
";

    /// The step of `seed-1` (a one-shot) for `command` with its container
    /// `seen` (`exit` its exit code; `same` its hash label matching).
    fn one_shot_step(
        command: Verb,
        running: bool,
        exit: Option<i64>,
        same: bool,
        opts: PlanOptions,
    ) -> String {
        let env = crate::config::load_str(ONE_SHOT_ENV, std::path::Path::new(".")).unwrap();
        let selected = env.instances.keys().cloned().collect();
        let deps = dependencies(&env, &selected, false);
        let hash = env.instances["seed-1"].config_hash.clone();
        let mut observed = Observed::default();
        observed.seen.insert(
            "seed-1".into(),
            Seen::Container(Container {
                id: "dddddddddd".into(),
                image: "box:1".into(),
                running,
                state: if running { "running" } else { "exited" }.into(),
                for_secs: Some(60),
                config_hash: Some(if same { hash } else { "old".into() }),
                exit_code: exit,
            }),
        );
        let p = plan(&env, command, &deps, &observed, opts);
        let step = p.steps.iter().find(|s| s.instance == "seed-1").unwrap();
        step.cause()
    }

    #[test]
    fn a_completed_one_shot_is_left_alone_unless_changed_failed_or_rerun() {
        let none = PlanOptions::default();
        let rerun = PlanOptions {
            rerun: true,
            ..PlanOptions::default()
        };
        assert_eq!(
            one_shot_step(Verb::Start, false, Some(0), true, none),
            "nothing to do: 1:ddddddd completed"
        );
        assert_eq!(
            one_shot_step(Verb::Start, false, Some(0), true, rerun),
            "recreate and start: container 1:ddddddd is exited"
        );
        assert_eq!(
            one_shot_step(Verb::Start, false, Some(0), false, none),
            "recreate and start: container 1:ddddddd is exited"
        );
        assert_eq!(
            one_shot_step(Verb::Start, false, Some(3), true, none),
            "recreate and start: container 1:ddddddd is exited"
        );
        assert_eq!(
            one_shot_step(Verb::Start, true, None, true, rerun),
            "wait: one-shot 1:ddddddd is running to completion"
        );
        // stop and kill have nothing to do; clean removes it.
        for verb in [Verb::Stop, Verb::Kill] {
            assert_eq!(
                one_shot_step(verb, false, Some(0), true, none),
                "nothing to do: 1:ddddddd completed"
            );
        }
        assert_eq!(
            one_shot_step(Verb::Stop, false, Some(3), true, none),
            "nothing to do: 1:ddddddd is exited"
        );
        assert_eq!(
            one_shot_step(Verb::Clean, false, Some(0), true, none),
            "remove: 1:ddddddd is exited"
        );
    }

    #[test]
    fn start_with_a_ship_down_blocks_its_dependents() {
        let seen = [(
            "zk-2",
            Seen::HostDown("ship `ship2` (tcp://10.213.0.2:2375): refused".into()),
        )];
        assert_eq!(
            run(Verb::Start, &seen, PlanOptions::default()),
            "start plan:
  kafka-1 (ship1) after zk-1,zk-2: not started: zk-2 is on a ship that did not answer
  zk-1 (ship1): create and start: no container
  zk-2 (ship2): host down: ship `ship2` (tcp://10.213.0.2:2375): refused
1 of 3 instances to change
"
        );
    }

    #[test]
    fn stop_kill_clean_plans() {
        let seen = [
            ("zk-1", container("aaaaaaaaaa", true, None)),
            ("zk-2", container("bbbbbbbbbb", false, None)),
        ];
        assert_eq!(
            run(Verb::Stop, &seen, PlanOptions::default()),
            "stop plan:
  kafka-1 (ship1) before zk-1,zk-2: nothing to do: no container
  zk-1 (ship1): stop: 3:aaaaaaa is running
  zk-2 (ship2): nothing to do: 3:bbbbbbb is exited
1 of 3 instances to change
"
        );
        assert!(
            run(Verb::Kill, &seen, PlanOptions::default())
                .contains("zk-1 (ship1): kill: 3:aaaaaaa is running")
        );
        assert_eq!(
            run(Verb::Clean, &seen, PlanOptions::default()),
            "clean plan:
  kafka-1 (ship1) after zk-1,zk-2: nothing to do: no container
  zk-1 (ship1): skip: 3:aaaaaaa is running
  zk-2 (ship2): remove: 3:bbbbbbb is exited
1 of 3 instances to change
"
        );
    }
}
