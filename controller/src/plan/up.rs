//! `up`'s play: the deploy plan (`plan::deploy`) turned into one step per
//! instance, with what it waits for. Pure.
//!
//! An instance waits for every selected instance of the services it
//! requires (as `start` orders them), so a recreated dependency has passed
//! its `running` checks before its dependents are touched. With
//! `--rolling`, each service's instances are also cut into batches as
//! `restart` cuts them (`plan::restart`), each waiting for the previous
//! batch of its service. Orphans (with `--remove-orphans`) wait for
//! nothing.

use std::collections::BTreeMap;

use super::deploy::{Conflict, Decision, DeployPlan, Listed};
use super::observe::Container;
use super::restart::{self as restart_plan, Batch, RestartOptions};
use crate::config::Environment;
use crate::scheduler::Deps;

/// What one step of `up` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpWork {
    /// No container: create and start one.
    Create,
    /// maestro's stopped, unchanged container: start it.
    Start { container: Container },
    /// Stop it when it runs, remove it and create it again from the file:
    /// its configuration or image changed, or (`adopt`) it was not created
    /// by maestro but runs the file's image.
    Recreate { container: Container, adopt: bool },
    /// Running and unchanged: left alone, same container.
    Leave { container: Container },
    /// Not touched, and the instance fails with this reason: a conflicting
    /// container of its name, or a plan that could not be decided.
    Refuse { reason: String },
    /// A container of the environment the file no longer has on that ship:
    /// stopped (with the instance's `stop_timeout` when it moved, else
    /// Docker's 10 s) and removed.
    RemoveOrphan {
        container: Container,
        stop_timeout: Option<u64>,
    },
}

impl UpWork {
    /// The word of the summary for a step that did its work.
    pub fn done_word(&self) -> &'static str {
        match self {
            UpWork::Create => "created",
            UpWork::Start { .. } => "started",
            UpWork::Recreate { .. } => "recreated",
            UpWork::Leave { .. } => "left alone",
            UpWork::Refuse { .. } => "refused",
            UpWork::RemoveOrphan { .. } => "removed",
        }
    }
}

/// One node of `up`'s play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpStep {
    /// Unique in the play: the instance name; an orphan's container name,
    /// with `@ship` when an instance of the play has that name.
    pub id: String,
    /// The instance (or the orphan's container name).
    pub instance: String,
    pub service: String,
    /// The ship's name.
    pub ship: String,
    /// Ids of the steps it waits for; shared by the instances of a
    /// service (see `selection::dependencies`).
    pub deps: Deps,
    pub work: UpWork,
}

/// A listed container as the start and stop tasks take it.
pub fn container(c: &Listed) -> Container {
    Container {
        id: c.id.clone(),
        image: c.image.clone(),
        running: c.running(),
        state: c.state.clone(),
        for_secs: None,
        config_hash: c.labels.get(crate::labels::CONFIG_HASH).cloned(),
        exit_code: c.exit_code,
    }
}

/// The steps of `up` for `plan`. `deps` comes from
/// `selection::dependencies` (the instances of required services);
/// `rolling` adds the waits on the previous batch of the same service.
pub fn steps(
    env: &Environment,
    plan: &DeployPlan,
    deps: &[(String, Deps)],
    rolling: Option<Batch>,
    remove_orphans: bool,
) -> Vec<UpStep> {
    let waits: BTreeMap<String, Deps> = match rolling {
        Some(batch) => {
            let options = RestartOptions {
                batch,
                ..RestartOptions::default()
            };
            restart_plan::plan(env, deps, &Default::default(), options)
                .steps
                .into_iter()
                .map(|s| (s.instance, s.deps))
                .collect()
        }
        None => deps.iter().cloned().collect(),
    };
    let mut out: Vec<UpStep> = plan
        .instances
        .iter()
        .filter_map(|p| {
            let i = env.instances.get(&p.instance)?;
            Some(UpStep {
                id: p.instance.clone(),
                instance: p.instance.clone(),
                service: p.service.clone(),
                ship: i.ship.name.clone(),
                deps: waits.get(&p.instance).cloned().unwrap_or_default(),
                work: work(&i.image, p.container.as_ref(), &p.decision),
            })
        })
        .collect();
    if remove_orphans {
        for o in &plan.orphans {
            let name = &o.container.name;
            let taken = out.iter().any(|s| &s.id == name);
            out.push(UpStep {
                id: if taken {
                    format!("{name}@{}", o.ship)
                } else {
                    name.clone()
                },
                instance: name.clone(),
                service: o.service.clone().unwrap_or_default(),
                ship: o.ship.clone(),
                deps: Deps::default(),
                work: UpWork::RemoveOrphan {
                    container: container(&o.container),
                    stop_timeout: env.instances.get(name).map(|i| i.stop_timeout),
                },
            });
        }
    }
    out
}

/// `--no-start`: a stopped container is left as it is instead of started.
pub fn without_starts(steps: Vec<UpStep>) -> Vec<UpStep> {
    steps
        .into_iter()
        .map(|mut s| {
            if let UpWork::Start { container } = s.work {
                s.work = UpWork::Leave { container };
            }
            s
        })
        .collect()
}

fn work(image: &str, listed: Option<&Listed>, decision: &Decision) -> UpWork {
    let Some(c) = listed else {
        return match decision {
            Decision::Error(e) => UpWork::Refuse {
                reason: format!("not decided: {e}"),
            },
            _ => UpWork::Create,
        };
    };
    let container = container(c);
    match decision {
        Decision::Create => UpWork::Create,
        Decision::Start => UpWork::Start { container },
        Decision::Recreate { .. } => UpWork::Recreate {
            container,
            adopt: false,
        },
        Decision::Adopt => UpWork::Recreate {
            container,
            adopt: true,
        },
        Decision::Nothing => UpWork::Leave { container },
        Decision::Conflict(Conflict::OtherEnvironment(e)) => UpWork::Refuse {
            reason: format!(
                "conflict: container {} belongs to environment `{e}`; remove or rename it",
                c.name
            ),
        },
        Decision::Conflict(Conflict::OtherImage(other)) => UpWork::Refuse {
            reason: format!(
                "conflict: container {} was not created by maestro and runs {other}, not {image}; \
                 remove or rename it",
                c.name
            ),
        },
        Decision::Error(e) => UpWork::Refuse {
            reason: format!("not decided: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels;
    use crate::plan::deploy::tests::{env, ours};
    use crate::plan::deploy::{Facts, Lists, plan};
    use crate::plan::selection::dependencies;
    use std::collections::{BTreeSet, HashMap};

    fn make(lists: Lists, facts: HashMap<String, Facts>, rolling: Option<Batch>) -> Vec<UpStep> {
        let env = env();
        let selected: BTreeSet<String> = env.instances.keys().cloned().collect();
        let p = plan(&env, &selected, &lists, &facts, None);
        let deps = dependencies(&env, &selected, false);
        steps(&env, &p, &deps, rolling, true)
    }

    fn word(s: &UpStep) -> (&str, &str) {
        (s.id.as_str(), s.work.done_word())
    }

    #[test]
    fn each_decision_becomes_its_work_and_dependencies_are_waited_for() {
        let env = env();
        let mut zk1 = ours(&env, "zk-1", "a1");
        zk1.labels.insert(labels::CONFIG_HASH.into(), "old".into());
        let mut zk2 = ours(&env, "zk-2", "a2");
        zk2.state = "exited".into();
        let mut web = ours(&env, "web-1", "a3");
        web.labels.clear();
        let mut kafka2 = ours(&env, "kafka-2", "a4");
        kafka2
            .labels
            .insert(labels::ENVIRONMENT.into(), "staging".into());
        let mut orphan = ours(&env, "zk-1", "a5");
        orphan.name = "zk-9".into();
        orphan.labels.insert(labels::INSTANCE.into(), "zk-9".into());
        let lists: Lists = BTreeMap::from([
            ("ship1".to_string(), Ok(vec![zk1.clone(), orphan])),
            ("ship2".to_string(), Ok(vec![zk2, web, kafka2])),
        ]);
        let same = |c: &Listed| Facts {
            changes: Some(Ok(BTreeSet::from(["env.X".to_string()]))),
            ship_image: Some(Ok(Some(c.image_id.clone()))),
        };
        let facts = HashMap::from([("zk-1".to_string(), same(&zk1))]);
        let got = make(lists, facts, None);
        assert_eq!(
            got.iter().map(word).collect::<Vec<_>>(),
            [
                ("kafka-1", "created"),
                ("kafka-2", "refused"),
                ("web-1", "recreated"),
                ("zk-1", "recreated"),
                ("zk-2", "started"),
                ("zk-9", "removed"),
            ]
        );
        assert_eq!(*got[0].deps, ["zk-1", "zk-2"]);
        assert!(matches!(&got[1].work, UpWork::Refuse { reason }
            if reason == "conflict: container kafka-2 belongs to environment `staging`; remove or rename it"));
        assert!(matches!(got[2].work, UpWork::Recreate { adopt: true, .. }));
        assert_eq!(got[5].ship, "ship1");
        let kept = without_starts(got);
        assert_eq!(word(&kept[4]), ("zk-2", "left alone"));
        assert_eq!(word(&kept[0]), ("kafka-1", "created"));
    }

    #[test]
    fn rolling_waits_for_the_previous_batch_of_the_service() {
        let lists: Lists = BTreeMap::from([
            ("ship1".to_string(), Ok(vec![])),
            ("ship2".to_string(), Ok(vec![])),
        ]);
        let got = make(lists.clone(), HashMap::new(), Some(Batch::Count(1)));
        let zk2 = got.iter().find(|s| s.id == "zk-2").unwrap();
        assert_eq!(*zk2.deps, ["zk-1"]);
        let kafka2 = got.iter().find(|s| s.id == "kafka-2").unwrap();
        assert_eq!(*kafka2.deps, ["zk-1", "zk-2", "kafka-1"]);
        let plain = make(lists, HashMap::new(), None);
        let zk2 = plain.iter().find(|s| s.id == "zk-2").unwrap();
        assert!(zk2.deps.is_empty());
    }

    #[test]
    fn a_ship_that_did_not_answer_refuses_its_instances() {
        let lists: Lists = BTreeMap::from([
            ("ship1".to_string(), Ok(vec![])),
            ("ship2".to_string(), Err("refused".into())),
        ]);
        let got = make(lists, HashMap::new(), None);
        let zk2 = got.iter().find(|s| s.id == "zk-2").unwrap();
        assert_eq!(
            zk2.work,
            UpWork::Refuse {
                reason: "not decided: host down: refused".into()
            }
        );
    }
}
