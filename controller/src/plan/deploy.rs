//! The deploy plan: for each instance of the file, what it needs to match
//! the file and why (`create`, `start`, `recreate` naming the changed
//! fields, `pull+recreate`, `nothing`, `adopt`, `conflict`), and the
//! containers of the environment that the file no longer has (`orphan`).
//! `maestro plan` prints it; `up` applies it. Pure: the observation comes
//! in as data, in two rounds (what to inspect is decided from the lists,
//! [`needs`], then [`decide`] with what the inspections found).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::config::Environment;
use crate::config::model::Instance;
use crate::docker::models::ContainerSummary;
use crate::labels;

/// One container as a ship's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listed {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    /// The image reference it was created with (or an image id, when the
    /// reference has since been given to another image).
    pub image: String,
    /// The id of the image it runs.
    pub image_id: String,
    /// `created`, `running`, `exited`, ...
    pub state: String,
    pub labels: BTreeMap<String, String>,
    /// The exit code of an exited container, from the list's status text.
    pub exit_code: Option<i64>,
}

impl Listed {
    pub fn from_summary(s: &ContainerSummary) -> Self {
        Listed {
            id: s.id.clone(),
            name: s.name().to_string(),
            image: s.image.clone(),
            image_id: s.image_id.clone(),
            state: s.state.clone(),
            labels: s
                .labels
                .as_ref()
                .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            exit_code: super::observe::exit_code(&s.status),
        }
    }

    /// Running as Docker counts it (paused and restarting too).
    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting" | "paused")
    }

    fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// `tag:shortid`, as `status` shows containers.
    pub fn display(&self) -> String {
        super::observe::container_display(&self.image, &self.id)
    }
}

/// Every container of each ship, by ship name; a ship that did not answer
/// holds the reason.
pub type Lists = BTreeMap<String, Result<Vec<Listed>, String>>;

/// How a container with an instance's name relates to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Created by maestro for this environment.
    Ours,
    /// No `maestro.environment` label: created by hand, by MaestroNG or by
    /// another tool.
    Unlabelled,
    /// Labelled for another environment.
    Foreign,
}

fn ownership(env_name: &str, c: &Listed) -> Ownership {
    match c.label(labels::ENVIRONMENT) {
        None => Ownership::Unlabelled,
        Some(e) if e == env_name => Ownership::Ours,
        Some(_) => Ownership::Foreign,
    }
}

/// The requests the decision of one instance needs beyond the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// Inspect the container: its configuration hash differs, so its fields
    /// are compared with the file's.
    pub container: bool,
    /// Inspect the configured image on the ship: does the container run
    /// what the ship has under that name now?
    pub image: bool,
}

/// The container of `instance` on its ship, if the list shows one.
pub fn found<'a>(lists: &'a Lists, instance: &Instance) -> Option<&'a Listed> {
    let list = lists.get(instance.ship.name.as_str())?.as_ref().ok()?;
    list.iter().find(|c| c.name == instance.name)
}

/// What to inspect before deciding: only maestro's own containers are
/// compared; only those whose hash differs are inspected.
pub fn needs(env_name: &str, instance: &Instance, container: Option<&Listed>) -> Needs {
    match container {
        Some(c) if ownership(env_name, c) == Ownership::Ours => Needs {
            container: c.label(labels::CONFIG_HASH) != Some(instance.config_hash.as_str()),
            image: true,
        },
        _ => Needs::default(),
    }
}

/// What the inspections found for one instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// The changed fields (`plan::compare`), when the container was
    /// inspected; the error when an inspection failed.
    pub changes: Option<Result<BTreeSet<String>, String>>,
    /// The id of the image the ship has under the configured name
    /// (`Ok(None)`: it has none), when it was inspected.
    pub ship_image: Option<Result<Option<String>, String>>,
}

/// The image a container runs and the one its name points at now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChange {
    /// The configured reference.
    pub name: String,
    /// The id of the image the container runs.
    pub running: String,
    /// The id the ship has under the name now; `None`: the ship has no
    /// image of that name any more (it must be pulled).
    pub current: Option<String>,
}

/// Why a container with an instance's name is not maestro's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Labelled for another environment.
    OtherEnvironment(String),
    /// Unlabelled and created from another image than the file's.
    OtherImage(String),
}

/// What one instance needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No container: create and start one.
    Create,
    /// Stopped and unchanged: start it.
    Start,
    /// Its configuration changed (`changes`, named as in the file; empty
    /// when only the hash tells it), or the image its reference names did
    /// (`image`: pull, then recreate).
    Recreate {
        changes: Vec<String>,
        image: Option<ImageChange>,
    },
    /// Running and unchanged.
    Nothing,
    /// A container maestro did not create, from the file's image: `up`
    /// recreates it with maestro's labels.
    Adopt,
    /// A container of that name that `up` will not touch; the user must
    /// remove or rename it.
    Conflict(Conflict),
    /// It could not be decided: the ship did not answer or an inspection
    /// failed. The plan is incomplete.
    Error(String),
}

impl Decision {
    /// The action's word in the text and JSON forms.
    pub fn word(&self) -> &'static str {
        match self {
            Decision::Create => "create",
            Decision::Start => "start",
            Decision::Recreate { image: Some(_), .. } => "pull+recreate",
            Decision::Recreate { image: None, .. } => "recreate",
            Decision::Nothing => "nothing",
            Decision::Adopt => "adopt",
            Decision::Conflict(_) => "conflict",
            Decision::Error(_) => "error",
        }
    }

    /// Whether `up` would change something (or must be helped by hand).
    pub fn pending(&self) -> bool {
        !matches!(self, Decision::Nothing | Decision::Error(_))
    }
}

/// One instance's part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePlan {
    pub instance: String,
    pub service: String,
    pub ship: String,
    /// The container of that name on its ship.
    pub container: Option<Listed>,
    pub decision: Decision,
}

/// Why a container of the environment is no instance of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrphanCause {
    /// No instance of that name in the file.
    Removed,
    /// The instance is on another ship now.
    Moved { to: String },
}

/// A container labelled with this environment that the file does not have
/// (on that ship).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub ship: String,
    pub container: Listed,
    /// Its `maestro.service` label.
    pub service: Option<String>,
    pub cause: OrphanCause,
}

/// The whole plan: instances in name order, orphans by ship and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployPlan {
    pub environment: String,
    pub instances: Vec<InstancePlan>,
    pub orphans: Vec<Orphan>,
    /// Ships whose containers could not be listed: orphans there are not
    /// known.
    pub unlisted: BTreeMap<String, String>,
}

impl DeployPlan {
    /// Something would change.
    pub fn pending(&self) -> bool {
        !self.orphans.is_empty() || self.instances.iter().any(|i| i.decision.pending())
    }

    /// The plan is incomplete: a ship did not answer, an inspection failed.
    pub fn failed(&self) -> bool {
        !self.unlisted.is_empty()
            || self
                .instances
                .iter()
                .any(|i| matches!(i.decision, Decision::Error(_)))
    }

    /// How many instances take each action, in a fixed order.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<(&'static str, usize)> = [
            "create",
            "start",
            "recreate",
            "pull+recreate",
            "adopt",
            "conflict",
            "nothing",
            "error",
        ]
        .iter()
        .map(|w| (*w, 0))
        .collect();
        for i in &self.instances {
            let w = i.decision.word();
            if let Some(c) = counts.iter_mut().find(|(k, _)| *k == w) {
                c.1 += 1;
            }
        }
        counts.push(("orphan", self.orphans.len()));
        counts
    }
}

/// Decides one instance from its container (if any) and the facts the
/// inspections [`needs`] asked for brought.
pub fn decide(
    env_name: &str,
    instance: &Instance,
    container: Option<&Listed>,
    facts: &Facts,
) -> Decision {
    let Some(c) = container else {
        return Decision::Create;
    };
    match ownership(env_name, c) {
        Ownership::Foreign => {
            let other = c.label(labels::ENVIRONMENT).unwrap_or_default();
            return Decision::Conflict(Conflict::OtherEnvironment(other.to_string()));
        }
        Ownership::Unlabelled => {
            return if same_image(&c.image, &instance.image) {
                Decision::Adopt
            } else {
                Decision::Conflict(Conflict::OtherImage(c.image.clone()))
            };
        }
        Ownership::Ours => {}
    }
    let changes = match &facts.changes {
        Some(Ok(changed)) => changed.iter().cloned().collect(),
        Some(Err(e)) => return Decision::Error(e.clone()),
        None => Vec::new(),
    };
    let hash_differs = c.label(labels::CONFIG_HASH) != Some(instance.config_hash.as_str());
    let image = match &facts.ship_image {
        Some(Ok(current)) if current.as_deref() != Some(c.image_id.as_str()) => Some(ImageChange {
            name: instance.image.clone(),
            running: c.image_id.clone(),
            current: current.clone(),
        }),
        Some(Ok(_)) | None => None,
        Some(Err(e)) => return Decision::Error(e.clone()),
    };
    // A changed reference (`image` among the changes) is a recreate from
    // another image, not the same name pointing elsewhere.
    let image = image.filter(|_| !changes.iter().any(|f| f == "image"));
    if hash_differs || image.is_some() {
        Decision::Recreate { changes, image }
    } else if c.running() || completed_one_shot(instance, c) {
        Decision::Nothing
    } else {
        Decision::Start
    }
}

/// A one-shot (`run: once`) whose container exited 0 from the file's
/// configuration: up to date, not a stopped container to start.
pub fn completed_one_shot(instance: &Instance, c: &Listed) -> bool {
    instance.one_shot().is_some()
        && super::observe::one_shot_done(
            c.running(),
            &c.state,
            c.exit_code,
            c.label(labels::CONFIG_HASH),
            &instance.config_hash,
        )
}

/// `up --rerun`: every completed one-shot of the plan is started again
/// (its container runs once more) instead of being left alone.
pub fn rerun_one_shots(env: &Environment, plan: &mut DeployPlan) {
    for p in &mut plan.instances {
        let completed = match (env.instances.get(&p.instance), &p.container) {
            (Some(i), Some(c)) => completed_one_shot(i, c),
            _ => false,
        };
        if completed && p.decision == Decision::Nothing {
            p.decision = Decision::Start;
        }
    }
}

/// Two references to the same image name (`box` is `box:latest`).
pub fn same_image(a: &str, b: &str) -> bool {
    maestro_common::image_details(a) == maestro_common::image_details(b)
}

/// The containers labelled with this environment that are no instance of
/// the file on their ship. With `services`, only those whose service label
/// is one of them (the things of the command line).
pub fn orphans(
    env: &Environment,
    lists: &Lists,
    services: Option<&BTreeSet<String>>,
) -> Vec<Orphan> {
    let mut out = Vec::new();
    for (ship, list) in lists {
        let Ok(list) = list else { continue };
        for c in list {
            if ownership(&env.name, c) != Ownership::Ours {
                continue;
            }
            let service = c.label(labels::SERVICE).map(str::to_string);
            if let Some(wanted) = services
                && !service.as_ref().is_some_and(|s| wanted.contains(s))
            {
                continue;
            }
            let instance = c.label(labels::INSTANCE).unwrap_or(&c.name);
            let cause = match env.instances.get(instance) {
                Some(i) if i.ship.name.as_str() == ship.as_str() && c.name == i.name => continue,
                Some(i) if i.ship.name.as_str() != ship.as_str() => OrphanCause::Moved {
                    to: i.ship.to_string(),
                },
                // Renamed by hand, or an instance label that is not its name.
                Some(_) => continue,
                None => OrphanCause::Removed,
            };
            out.push(Orphan {
                ship: ship.clone(),
                container: c.clone(),
                service,
                cause,
            });
        }
    }
    out.sort_by(|a, b| (&a.ship, &a.container.name).cmp(&(&b.ship, &b.container.name)));
    out
}

/// Assembles the plan of the `selected` instances from the ships' lists
/// and the facts gathered per instance (missing facts: nothing was
/// inspected).
pub fn plan(
    env: &Environment,
    selected: &BTreeSet<String>,
    lists: &Lists,
    facts: &HashMap<String, Facts>,
    orphan_services: Option<&BTreeSet<String>>,
) -> DeployPlan {
    let none = Facts::default();
    let instances = selected
        .iter()
        .filter_map(|name| env.instances.get(name))
        .map(|i| {
            let container = found(lists, i);
            let decision = match lists.get(i.ship.name.as_str()) {
                Some(Err(e)) => Decision::Error(format!("host down: {e}")),
                None => Decision::Error(format!("ship `{}` was not listed", i.ship)),
                Some(Ok(_)) => decide(&env.name, i, container, facts.get(&i.name).unwrap_or(&none)),
            };
            InstancePlan {
                instance: i.name.clone(),
                service: i.service.clone(),
                ship: i.ship.to_string(),
                container: container.cloned(),
                decision,
            }
        })
        .collect();
    let unlisted = lists
        .iter()
        .filter_map(|(s, l)| l.as_ref().err().map(|e| (s.clone(), e.clone())))
        .collect();
    DeployPlan {
        environment: env.name.clone(),
        instances,
        orphans: orphans(env, lists, orphan_services),
        unlisted,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const ENV: &str = "name: prod
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
    instances: {kafka-1: {ship: ship1}, kafka-2: {ship: ship2}}
  web:
    image: web:1
    instances: {web-1: {ship: ship2}}
";

    pub fn env() -> Environment {
        crate::config::load_str(ENV, std::path::Path::new(".")).unwrap()
    }

    /// A container maestro created for `instance` of `env`, running.
    pub fn ours(env: &Environment, instance: &str, id: &str) -> Listed {
        let i = &env.instances[instance];
        Listed {
            id: id.into(),
            name: instance.into(),
            image: i.image.clone(),
            image_id: format!("sha256:{}", i.image.replace(':', "")),
            state: "running".into(),
            labels: BTreeMap::from([
                (labels::ENVIRONMENT.into(), env.name.clone()),
                (labels::SERVICE.into(), i.service.clone()),
                (labels::INSTANCE.into(), instance.into()),
                (labels::CONFIG_HASH.into(), i.config_hash.clone()),
            ]),
            exit_code: None,
        }
    }

    fn same_image_facts(c: &Listed) -> Facts {
        Facts {
            changes: None,
            ship_image: Some(Ok(Some(c.image_id.clone()))),
        }
    }

    #[test]
    fn absent_running_and_stopped() {
        let env = env();
        let i = &env.instances["zk-1"];
        assert_eq!(decide("prod", i, None, &Facts::default()), Decision::Create);
        let mut c = ours(&env, "zk-1", "aaaa");
        assert_eq!(
            needs("prod", i, Some(&c)),
            Needs {
                container: false,
                image: true
            }
        );
        assert_eq!(
            decide("prod", i, Some(&c), &same_image_facts(&c)),
            Decision::Nothing
        );
        c.state = "exited".into();
        assert_eq!(
            decide("prod", i, Some(&c), &same_image_facts(&c)),
            Decision::Start
        );
    }

    #[test]
    fn a_completed_one_shot_is_up_to_date() {
        let env = crate::config::load_str(
            "name: prod\nships: {ship1: {ip: 10.213.0.1}}\nservices:\n  seed:\n    image: box:1\n    run: once\n    instances: {seed-1: {ship: ship1}}\n",
            std::path::Path::new("."),
        )
        .unwrap();
        let i = &env.instances["seed-1"];
        let mut c = ours(&env, "seed-1", "aaaa");
        c.state = "exited".into();
        c.exit_code = Some(0);
        let facts = same_image_facts(&c);
        assert_eq!(decide("prod", i, Some(&c), &facts), Decision::Nothing);
        // A failed run is run again.
        c.exit_code = Some(3);
        assert_eq!(decide("prod", i, Some(&c), &facts), Decision::Start);
        // A changed configuration is a recreate (a new run).
        c.exit_code = Some(0);
        c.labels.insert(labels::CONFIG_HASH.into(), "old".into());
        assert!(matches!(
            decide("prod", i, Some(&c), &facts),
            Decision::Recreate { .. }
        ));
        // A service that exited 0 is still a stopped container to start.
        let zk = env_with_zk_exited();
        assert_eq!(
            decide(
                "prod",
                &zk.0.instances["zk-1"],
                Some(&zk.1),
                &same_image_facts(&zk.1)
            ),
            Decision::Start
        );
    }

    #[test]
    fn rerun_starts_completed_one_shots_only() {
        let env = crate::config::load_str(
            "name: prod\nships: {ship1: {ip: 10.213.0.1}}\nservices:\n  seed:\n    image: box:1\n    run: once\n    instances: {seed-1: {ship: ship1}}\n  app:\n    image: box:1\n    instances: {app-1: {ship: ship1}}\n",
            std::path::Path::new("."),
        )
        .unwrap();
        let mut seed = ours(&env, "seed-1", "aaaa");
        seed.state = "exited".into();
        seed.exit_code = Some(0);
        let app = ours(&env, "app-1", "bbbb");
        let lists: Lists =
            BTreeMap::from([("ship1".to_string(), Ok(vec![seed.clone(), app.clone()]))]);
        let facts = HashMap::from([
            ("seed-1".to_string(), same_image_facts(&seed)),
            ("app-1".to_string(), same_image_facts(&app)),
        ]);
        let selected = env.instances.keys().cloned().collect();
        let mut p = plan(&env, &selected, &lists, &facts, None);
        let decisions = |p: &DeployPlan| -> Vec<Decision> {
            p.instances.iter().map(|i| i.decision.clone()).collect()
        };
        assert_eq!(decisions(&p), [Decision::Nothing, Decision::Nothing]);
        assert!(!p.pending());
        rerun_one_shots(&env, &mut p);
        // app-1 (running service) is left alone; seed-1 runs again.
        assert_eq!(decisions(&p), [Decision::Nothing, Decision::Start]);
        assert!(p.pending());
    }

    fn env_with_zk_exited() -> (Environment, Listed) {
        let env = env();
        let mut c = ours(&env, "zk-1", "aaaa");
        c.state = "exited".into();
        c.exit_code = Some(0);
        (env, c)
    }

    #[test]
    fn a_changed_hash_is_inspected_and_its_fields_named() {
        let env = env();
        let i = &env.instances["zk-1"];
        let mut c = ours(&env, "zk-1", "aaaa");
        c.labels.insert(labels::CONFIG_HASH.into(), "old".into());
        c.state = "exited".into();
        assert!(needs("prod", i, Some(&c)).container);
        let facts = Facts {
            changes: Some(Ok(BTreeSet::from(["env.JVM_OPTS".to_string()]))),
            ship_image: Some(Ok(Some(c.image_id.clone()))),
        };
        assert_eq!(
            decide("prod", i, Some(&c), &facts),
            Decision::Recreate {
                changes: vec!["env.JVM_OPTS".into()],
                image: None
            }
        );
        let failed = Facts {
            changes: Some(Err("cannot inspect zk-1: timed out".into())),
            ..facts
        };
        assert_eq!(
            decide("prod", i, Some(&c), &failed),
            Decision::Error("cannot inspect zk-1: timed out".into())
        );
    }

    #[test]
    fn the_tag_pointing_at_another_image_is_pull_and_recreate() {
        let env = env();
        let i = &env.instances["zk-1"];
        let c = ours(&env, "zk-1", "aaaa");
        let moved = Facts {
            changes: None,
            ship_image: Some(Ok(Some("sha256:new".into()))),
        };
        let d = decide("prod", i, Some(&c), &moved);
        assert_eq!(d.word(), "pull+recreate");
        assert_eq!(
            d,
            Decision::Recreate {
                changes: vec![],
                image: Some(ImageChange {
                    name: "zk:3".into(),
                    running: "sha256:zk3".into(),
                    current: Some("sha256:new".into())
                })
            }
        );
        let gone = Facts {
            changes: None,
            ship_image: Some(Ok(None)),
        };
        assert_eq!(decide("prod", i, Some(&c), &gone).word(), "pull+recreate");
    }

    #[test]
    fn unlabelled_containers_are_adopted_when_the_image_matches() {
        let env = env();
        let i = &env.instances["zk-1"];
        let mut c = ours(&env, "zk-1", "aaaa");
        c.labels.clear();
        assert_eq!(needs("prod", i, Some(&c)), Needs::default());
        assert_eq!(
            decide("prod", i, Some(&c), &Facts::default()),
            Decision::Adopt
        );
        c.image = "zk:3.9".into();
        assert_eq!(
            decide("prod", i, Some(&c), &Facts::default()),
            Decision::Conflict(Conflict::OtherImage("zk:3.9".into()))
        );
        c.labels
            .insert(labels::ENVIRONMENT.into(), "staging".into());
        assert_eq!(
            decide("prod", i, Some(&c), &Facts::default()),
            Decision::Conflict(Conflict::OtherEnvironment("staging".into()))
        );
        assert!(same_image("busybox", "busybox:latest"));
    }

    #[test]
    fn orphans_removed_and_moved() {
        let env = env();
        let mut moved = ours(&env, "zk-2", "bbbb");
        moved.labels.insert(labels::CONFIG_HASH.into(), "x".into());
        let mut removed = ours(&env, "zk-1", "cccc");
        removed.name = "zk-9".into();
        removed
            .labels
            .insert(labels::INSTANCE.into(), "zk-9".into());
        let mut other_env = removed.clone();
        other_env.name = "zk-8".into();
        other_env
            .labels
            .insert(labels::ENVIRONMENT.into(), "staging".into());
        let lists: Lists = BTreeMap::from([
            (
                "ship1".to_string(),
                Ok(vec![
                    ours(&env, "zk-1", "aaaa"),
                    moved.clone(),
                    removed.clone(),
                    other_env,
                ]),
            ),
            ("ship2".to_string(), Ok(vec![])),
        ]);
        let got = orphans(&env, &lists, None);
        let got: Vec<(&str, &OrphanCause)> = got
            .iter()
            .map(|o| (o.container.name.as_str(), &o.cause))
            .collect();
        assert_eq!(
            got,
            [
                ("zk-2", &OrphanCause::Moved { to: "ship2".into() }),
                ("zk-9", &OrphanCause::Removed)
            ]
        );
        let kafka_only = BTreeSet::from(["kafka".to_string()]);
        assert!(orphans(&env, &lists, Some(&kafka_only)).is_empty());
    }

    #[test]
    fn a_ship_that_does_not_answer_fails_the_plan() {
        let env = env();
        let lists: Lists = BTreeMap::from([
            ("ship1".to_string(), Ok(vec![])),
            ("ship2".to_string(), Err("ship `ship2`: refused".into())),
        ]);
        let selected = env.instances.keys().cloned().collect();
        let p = plan(&env, &selected, &lists, &HashMap::new(), None);
        assert!(p.failed() && p.pending());
        assert_eq!(
            p.instances
                .iter()
                .map(|i| (i.instance.as_str(), i.decision.word()))
                .collect::<Vec<_>>(),
            [
                ("kafka-1", "create"),
                ("kafka-2", "error"),
                ("web-1", "error"),
                ("zk-1", "create"),
                ("zk-2", "error")
            ]
        );
    }
}
