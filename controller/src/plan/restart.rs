//! The plan of `maestro restart`: for each selected instance what its
//! restart does and what it waits for. Pure; `--dry-run` prints it.
//!
//! Order (#186 fixed): dependencies are restarted before the services that
//! need them, as `start` orders them, and a service rolls batch by batch:
//! its instances, sorted by name, are cut into batches of `--batch`, and
//! each instance waits for the whole previous batch of its service. So at
//! most one batch of a service is down at any moment, independent services
//! roll in parallel, and `-c 1` makes everything one at a time.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::observe::{Container, Observed, Seen};
use crate::config::Environment;
use crate::scheduler::Deps;

/// `--batch N|N%`: how many instances of one service restart at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    Count(usize),
    /// A share of the service's instances in play, rounded up (at least 1).
    Percent(usize),
}

impl Default for Batch {
    fn default() -> Self {
        Batch::Count(1)
    }
}

impl Batch {
    /// The batch size for a service with `n` instances in play (at least 1).
    pub fn size(self, n: usize) -> usize {
        match self {
            Batch::Count(c) => c.max(1),
            Batch::Percent(p) => (n * p).div_ceil(100).max(1),
        }
    }
}

impl FromStr for Batch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a count (3) or a percentage (25%) of instances");
        let (digits, percent) = match s.strip_suffix('%') {
            Some(d) => (d, true),
            None => (s, false),
        };
        let n: usize = digits.trim().parse().map_err(|_| bad())?;
        match (percent, n) {
            (_, 0) => Err(format!("the batch must be at least 1 instance, not `{s}`")),
            (true, n) if n > 100 => Err(format!("a batch of `{s}` is more than all instances")),
            (true, n) => Ok(Batch::Percent(n)),
            (false, n) => Ok(Batch::Count(n)),
        }
    }
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Batch::Count(n) => write!(f, "{n}"),
            Batch::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// What the plan needs from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestartOptions {
    /// `--reuse`: start the stopped container again instead of recreating it.
    pub reuse: bool,
    /// `--only-if-changed`: leave alone a running container whose image and
    /// configuration hash are current (decided by the task, after `-r`'s pull).
    pub only_if_changed: bool,
    pub batch: Batch,
}

/// What one instance's restart does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestartAction {
    /// The container runs: stop it, then start it again (recreated, or the
    /// same container with `--reuse`).
    Restart { container: Container },
    /// Not running (or no container): start it, as MaestroNG did.
    Start { container: Option<Container> },
    /// The ship did not answer.
    HostDown { reason: String },
}

/// One instance's part of the restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartStep {
    pub instance: String,
    pub service: String,
    pub ship: String,
    /// Instances it waits for: every selected instance of the services it
    /// requires, and the previous batch of its own service.
    /// Shared by the instances of a service in the same batch.
    pub deps: Deps,
    /// Its batch within its service, from 1.
    pub batch: usize,
    pub action: RestartAction,
}

impl RestartStep {
    /// Why the step does what it does, in words (`--dry-run`).
    pub fn cause(&self, opts: &RestartOptions) -> String {
        let start = if opts.reuse {
            "start it again"
        } else {
            "recreate it"
        };
        match &self.action {
            RestartAction::Restart { container } => {
                let what = format!("{} is running", container.display());
                if opts.only_if_changed {
                    format!(
                        "stop and {start} unless its image and configuration are current: {what}"
                    )
                } else {
                    format!("stop and {start}: {what}")
                }
            }
            RestartAction::Start { container: Some(c) } => {
                format!("start: container {} is {}", c.display(), c.state)
            }
            RestartAction::Start { container: None } => "create and start: no container".into(),
            RestartAction::HostDown { reason } => format!("host down: {reason}"),
        }
    }
}

/// The whole restart, steps sorted by instance name (the scheduler orders
/// the rows by the waits).
#[derive(Debug, Clone)]
pub struct RestartPlan {
    pub options: RestartOptions,
    pub steps: Vec<RestartStep>,
}

/// Decides every selected instance's restart. `deps` comes from
/// `selection::dependencies` (forward: the instances of required services).
pub fn plan(
    env: &Environment,
    deps: &[(String, Deps)],
    observed: &Observed,
    options: RestartOptions,
) -> RestartPlan {
    // Each service's instances in play, by name, cut into batches.
    let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, _) in deps {
        if let Some(i) = env.instances.get(name) {
            by_service.entry(i.service.as_str()).or_default().push(name);
        }
    }
    let mut batch_of: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for names in by_service.values_mut() {
        names.sort_unstable();
        let size = options.batch.size(names.len());
        let batches: Vec<&[&str]> = names.chunks(size).collect();
        for (b, batch) in batches.iter().enumerate() {
            let previous: Vec<String> = match b.checked_sub(1) {
                Some(p) => batches[p].iter().map(|s| s.to_string()).collect(),
                None => Vec::new(),
            };
            for name in *batch {
                batch_of.insert(name, (b + 1, previous.clone()));
            }
        }
    }
    // One list per service and batch, shared as `required` is.
    let mut shared: BTreeMap<(&str, usize), Deps> = BTreeMap::new();
    let steps = deps
        .iter()
        .filter_map(|(name, required)| {
            let i = env.instances.get(name)?;
            let (batch, previous) = batch_of.get(name.as_str()).cloned().unwrap_or((1, vec![]));
            let waits = if previous.is_empty() {
                required.clone()
            } else {
                shared
                    .entry((i.service.as_str(), batch))
                    .or_insert_with(|| required.iter().cloned().chain(previous).collect())
                    .clone()
            };
            let action = match observed.get(name) {
                Seen::HostDown(reason) => RestartAction::HostDown {
                    reason: reason.clone(),
                },
                Seen::Container(c) if c.running => RestartAction::Restart {
                    container: c.clone(),
                },
                Seen::Container(c) => RestartAction::Start {
                    container: Some(c.clone()),
                },
                Seen::Absent => RestartAction::Start { container: None },
            };
            Some(RestartStep {
                instance: name.clone(),
                service: i.service.clone(),
                ship: i.ship.name.clone(),
                deps: waits,
                batch,
                action,
            })
        })
        .collect();
    RestartPlan { options, steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::selection::dependencies;

    const ENV: &str = "name: t
ships:
  ship1: {ip: 10.213.0.1}
  ship2: {ip: 10.213.0.2}
  ship3: {ip: 10.213.0.3}
services:
  zk:
    image: zk:3
    instances: {zk-2: {ship: ship2}, zk-1: {ship: ship1}}
  web:
    image: web:1
    requires: [zk]
    instances:
      web-1: {ship: ship1}
      web-2: {ship: ship2}
      web-3: {ship: ship3}
      web-4: {ship: ship1}
      web-5: {ship: ship2}
";

    fn running(id: &str) -> Seen {
        Seen::Container(Container {
            id: id.into(),
            image: "web:1".into(),
            running: true,
            state: "running".into(),
            for_secs: Some(60),
            config_hash: None,
            exit_code: None,
        })
    }

    fn make(batch: Batch, seen: &[(&str, Seen)]) -> RestartPlan {
        let env = crate::config::load_str(ENV, std::path::Path::new(".")).unwrap();
        let selected = env.instances.keys().cloned().collect();
        let deps = dependencies(&env, &selected, false);
        let mut observed = Observed::default();
        for (n, s) in seen {
            observed.seen.insert(n.to_string(), s.clone());
        }
        let options = RestartOptions {
            batch,
            ..RestartOptions::default()
        };
        plan(&env, &deps, &observed, options)
    }

    #[test]
    fn selection_is_as_safe_as_stop_and_d_adds_dependents() {
        use crate::plan::selection::{Request, Verb, select};
        let env = crate::config::load_str(ENV, std::path::Path::new(".")).unwrap();
        let e = select(&env, Verb::Restart, &Request::default()).unwrap_err();
        assert_eq!(
            e.message(),
            "No services or containers specified for restart, and --all not set."
        );
        let things = |t: &[&str]| Request {
            things: t.iter().map(|s| s.to_string()).collect(),
            ..Request::default()
        };
        let e = select(&env, Verb::Restart, &things(&["zk"])).unwrap_err();
        assert_eq!(
            e.message(),
            "zk is a service but --expand-services was not specified"
        );
        let d = Request {
            with_dependencies: true,
            ..things(&["zk-1"])
        };
        let chosen: Vec<String> = select(&env, Verb::Restart, &d)
            .unwrap()
            .names
            .into_iter()
            .collect();
        assert_eq!(
            chosen,
            ["web-1", "web-2", "web-3", "web-4", "web-5", "zk-1"]
        );
    }

    #[test]
    fn batch_flag() {
        assert_eq!("3".parse::<Batch>(), Ok(Batch::Count(3)));
        assert_eq!("25%".parse::<Batch>(), Ok(Batch::Percent(25)));
        assert!("0".parse::<Batch>().is_err());
        assert!("150%".parse::<Batch>().is_err());
        assert!("x".parse::<Batch>().unwrap_err().contains("`x`"));
        assert_eq!(Batch::Percent(25).size(5), 2);
        assert_eq!(Batch::Percent(1).size(5), 1);
        assert_eq!(Batch::Percent(100).size(5), 5);
        assert_eq!(Batch::Count(9).size(5), 9);
    }

    #[test]
    fn dependencies_first_then_one_batch_after_another() {
        let seen = [("web-1", running("aaaaaaaaaa"))];
        assert_eq!(
            crate::render::plan::restart_text(&make(Batch::Count(1), &seen)),
            "restart plan (batches of 1):
  web-1 (ship1) batch 1 after zk-1,zk-2: stop and recreate it: 1:aaaaaaa is running
  web-2 (ship2) batch 2 after zk-1,zk-2,web-1: create and start: no container
  web-3 (ship3) batch 3 after zk-1,zk-2,web-2: create and start: no container
  web-4 (ship1) batch 4 after zk-1,zk-2,web-3: create and start: no container
  web-5 (ship2) batch 5 after zk-1,zk-2,web-4: create and start: no container
  zk-1 (ship1) batch 1: create and start: no container
  zk-2 (ship2) batch 2 after zk-1: create and start: no container
"
        );
        let text = crate::render::plan::restart_text(&make(Batch::Percent(40), &[]));
        assert!(
            text.contains("web-2 (ship2) batch 1 after zk-1,zk-2:"),
            "{text}"
        );
        assert!(
            text.contains("web-3 (ship3) batch 2 after zk-1,zk-2,web-1,web-2:"),
            "{text}"
        );
        assert!(
            text.contains("web-5 (ship2) batch 3 after zk-1,zk-2,web-3,web-4:"),
            "{text}"
        );
        // 40% of zk's two instances is one.
        assert!(text.contains("zk-2 (ship2) batch 2 after zk-1:"), "{text}");
    }

    #[test]
    fn the_scheduler_runs_the_plan_in_that_order() {
        use crate::events::Recorder;
        use crate::scheduler::{self, CancelToken, Completion, Concurrency, Direction, Play, Task};
        use std::sync::Mutex;
        let plan = make(Batch::Count(2), &[]);
        let log = Mutex::new(Vec::new());
        let nodes = plan
            .steps
            .iter()
            .map(|s| {
                let log = &log;
                Task::new(
                    &s.instance,
                    &s.service,
                    &s.ship,
                    s.deps.iter(),
                    move |ctx| {
                        log.lock().unwrap().push(ctx.id.to_string());
                        Ok(Completion::Done)
                    },
                )
            })
            .collect();
        let play = Play {
            command: "restart".into(),
            direction: Direction::Forward,
            limits: Concurrency::new(1, []),
            nodes,
        };
        let report = scheduler::run(play, &Recorder::new(), &CancelToken::new()).unwrap();
        assert_eq!(report.summary.exit_code(), 0);
        assert_eq!(
            log.into_inner().unwrap(),
            ["zk-1", "zk-2", "web-1", "web-2", "web-3", "web-4", "web-5"]
        );
    }
}
