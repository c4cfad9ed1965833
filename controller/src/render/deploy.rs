//! `maestro plan`'s two forms of the deploy plan (`plan::deploy`): the
//! text a person reads (deterministic: unit tests compare it) and one JSON
//! document with stable field names (docs/commands.md). Environment values
//! never appear: a changed variable is named, not shown.

use std::fmt::Write as _;

use serde::Serialize;

use crate::plan::deploy::{
    Conflict, Decision, DeployPlan, ImageChange, InstancePlan, Orphan, OrphanCause,
};

/// One line per instance (name order), then the orphans, the ships that
/// did not answer, the counts and the verdict.
pub fn text(plan: &DeployPlan) -> String {
    let mut out = format!("plan of environment {}:\n", plan.environment);
    for i in &plan.instances {
        let _ = writeln!(
            out,
            "  {} ({}): {}: {}",
            i.instance,
            i.ship,
            i.decision.word(),
            cause(i)
        );
    }
    for o in &plan.orphans {
        let _ = writeln!(
            out,
            "  {} ({}): orphan: {}",
            o.container.name,
            o.ship,
            orphan_cause(o)
        );
    }
    for (ship, reason) in &plan.unlisted {
        let _ = writeln!(out, "  ship {ship} did not answer: {reason}");
    }
    let counts: Vec<String> = plan
        .counts()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(w, n)| format!("{n} {w}"))
        .collect();
    let _ = writeln!(
        out,
        "{}: {}",
        verdict(plan),
        if counts.is_empty() {
            "no instances".to_string()
        } else {
            counts.join(", ")
        }
    );
    out
}

fn verdict(plan: &DeployPlan) -> &'static str {
    if plan.failed() {
        "incomplete"
    } else if plan.pending() {
        "changes pending"
    } else {
        "no changes"
    }
}

fn short_id(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .chars()
        .take(12)
        .collect()
}

fn image_change(c: &ImageChange) -> String {
    match &c.current {
        Some(now) => format!(
            "{} is image {} on the ship now, the container runs {}",
            c.name,
            short_id(now),
            short_id(&c.running)
        ),
        None => format!(
            "the ship no longer has {} (the container runs {})",
            c.name,
            short_id(&c.running)
        ),
    }
}

/// Why, in words.
pub fn cause(i: &InstancePlan) -> String {
    let c = i.container.as_ref();
    let shown = || c.map(|c| c.display()).unwrap_or_default();
    let state = || c.map(|c| c.state.clone()).unwrap_or_default();
    match &i.decision {
        Decision::Create => "no container".into(),
        Decision::Start => format!("{} is {}, unchanged", shown(), state()),
        // Left alone and not running: a one-shot that completed.
        Decision::Nothing if c.is_some_and(|c| !c.running()) => {
            format!("{} completed, unchanged", shown())
        }
        Decision::Nothing => format!("{} is {}, unchanged", shown(), state()),
        Decision::Recreate { changes, image } => {
            let fields = if changes.is_empty() {
                None
            } else {
                Some(format!("changed {}", changes.join(", ")))
            };
            match (fields, image) {
                (Some(f), None) => f,
                (None, None) => "its configuration hash differs (no compared field does)".into(),
                (None, Some(img)) => image_change(img),
                (Some(f), Some(img)) => format!("{}; {f}", image_change(img)),
            }
        }
        Decision::Adopt => format!(
            "{} was not created by maestro and runs the file's image; up recreates it with maestro's labels",
            shown()
        ),
        Decision::Conflict(Conflict::OtherEnvironment(e)) => format!(
            "{} belongs to environment {e}; up leaves it alone (remove or rename it)",
            shown()
        ),
        Decision::Conflict(Conflict::OtherImage(img)) => format!(
            "{} was not created by maestro and runs {img}, not the file's image; up leaves it alone (remove or rename it)",
            shown()
        ),
        Decision::Error(e) => e.clone(),
    }
}

fn orphan_cause(o: &Orphan) -> String {
    let what = format!("{} is {}", o.container.display(), o.container.state);
    match (&o.cause, &o.service) {
        (OrphanCause::Moved { to }, _) => format!("moved to {to}; {what}"),
        (OrphanCause::Removed, Some(s)) if !s.is_empty() => {
            format!("not in the file (service {s}); {what}")
        }
        (OrphanCause::Removed, _) => format!("not in the file; {what}"),
    }
}

#[derive(Serialize)]
struct Doc<'a> {
    environment: &'a str,
    /// `up` would change something.
    pending: bool,
    /// Every ship answered and every inspection succeeded.
    complete: bool,
    instances: Vec<InstanceDoc<'a>>,
    orphans: Vec<OrphanDoc<'a>>,
    unlisted: Vec<UnlistedDoc<'a>>,
    counts: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct ContainerDoc<'a> {
    name: &'a str,
    id: &'a str,
    image: &'a str,
    image_id: &'a str,
    state: &'a str,
}

#[derive(Serialize)]
struct InstanceDoc<'a> {
    instance: &'a str,
    service: &'a str,
    ship: &'a str,
    action: &'static str,
    /// The text form's words.
    cause: String,
    container: Option<ContainerDoc<'a>>,
    /// Changed fields, named as in the file; never values.
    changes: &'a [String],
    image: Option<ImageDoc<'a>>,
    conflict: Option<ConflictDoc<'a>>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct ImageDoc<'a> {
    name: &'a str,
    running: &'a str,
    current: Option<&'a str>,
}

#[derive(Serialize)]
struct ConflictDoc<'a> {
    /// `other_environment` or `other_image`.
    kind: &'static str,
    /// The other environment's name, or the container's image.
    value: &'a str,
}

#[derive(Serialize)]
struct OrphanDoc<'a> {
    ship: &'a str,
    container: ContainerDoc<'a>,
    service: Option<&'a str>,
    /// `removed` or `moved`.
    cause: &'static str,
    moved_to: Option<&'a str>,
}

#[derive(Serialize)]
struct UnlistedDoc<'a> {
    ship: &'a str,
    error: &'a str,
}

fn container_doc(c: &crate::plan::deploy::Listed) -> ContainerDoc<'_> {
    ContainerDoc {
        name: &c.name,
        id: &c.id,
        image: &c.image,
        image_id: &c.image_id,
        state: &c.state,
    }
}

/// The plan as one JSON document on one line.
pub fn json(plan: &DeployPlan) -> String {
    const NO_CHANGES: &[String] = &[];
    let instances = plan
        .instances
        .iter()
        .map(|i| {
            let (changes, image) = match &i.decision {
                Decision::Recreate { changes, image } => (changes.as_slice(), image.as_ref()),
                _ => (NO_CHANGES, None),
            };
            InstanceDoc {
                instance: &i.instance,
                service: &i.service,
                ship: &i.ship,
                action: i.decision.word(),
                cause: cause(i),
                container: i.container.as_ref().map(container_doc),
                changes,
                image: image.map(|c| ImageDoc {
                    name: &c.name,
                    running: &c.running,
                    current: c.current.as_deref(),
                }),
                conflict: match &i.decision {
                    Decision::Conflict(Conflict::OtherEnvironment(e)) => Some(ConflictDoc {
                        kind: "other_environment",
                        value: e,
                    }),
                    Decision::Conflict(Conflict::OtherImage(img)) => Some(ConflictDoc {
                        kind: "other_image",
                        value: img,
                    }),
                    _ => None,
                },
                error: match &i.decision {
                    Decision::Error(e) => Some(e),
                    _ => None,
                },
            }
        })
        .collect();
    let orphans = plan
        .orphans
        .iter()
        .map(|o| OrphanDoc {
            ship: &o.ship,
            container: container_doc(&o.container),
            service: o.service.as_deref(),
            cause: match o.cause {
                OrphanCause::Removed => "removed",
                OrphanCause::Moved { .. } => "moved",
            },
            moved_to: match &o.cause {
                OrphanCause::Moved { to } => Some(to),
                OrphanCause::Removed => None,
            },
        })
        .collect();
    let doc = Doc {
        environment: &plan.environment,
        pending: plan.pending(),
        complete: !plan.failed(),
        instances,
        orphans,
        unlisted: plan
            .unlisted
            .iter()
            .map(|(ship, error)| UnlistedDoc { ship, error })
            .collect(),
        counts: plan
            .counts()
            .into_iter()
            .map(|(w, n)| (w.to_string(), n.into()))
            .collect(),
    };
    let mut s = serde_json::to_string(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use super::*;
    use crate::labels;
    use crate::plan::deploy::tests::{env, ours};
    use crate::plan::deploy::{Facts, Lists, plan};

    /// Every action at once: zk-1 unchanged, zk-2 stopped, kafka-1 with a
    /// changed variable and port and a tag that moved, kafka-2 absent,
    /// web-1 made by hand, a removed and a moved instance's containers.
    fn every_action() -> DeployPlan {
        let env = env();
        let zk1 = ours(&env, "zk-1", "a1a1a1a1a1");
        let mut zk2 = ours(&env, "zk-2", "b2b2b2b2b2");
        zk2.state = "exited".into();
        let mut kafka1 = ours(&env, "kafka-1", "c3c3c3c3c3");
        kafka1
            .labels
            .insert(labels::CONFIG_HASH.into(), "old".into());
        let mut removed = ours(&env, "kafka-1", "d4d4d4d4d4");
        removed.name = "kafka-9".into();
        removed
            .labels
            .insert(labels::INSTANCE.into(), "kafka-9".into());
        let moved = ours(&env, "kafka-2", "e5e5e5e5e5");
        let mut by_hand = ours(&env, "web-1", "f6f6f6f6f6");
        by_hand.labels.clear();
        let lists: Lists = BTreeMap::from([
            (
                "ship1".to_string(),
                Ok(vec![zk1.clone(), kafka1, removed, moved]),
            ),
            ("ship2".to_string(), Ok(vec![zk2.clone(), by_hand])),
        ]);
        let same = |c: &crate::plan::deploy::Listed| Facts {
            changes: None,
            ship_image: Some(Ok(Some(c.image_id.clone()))),
        };
        let facts = HashMap::from([
            ("zk-1".to_string(), same(&zk1)),
            ("zk-2".to_string(), same(&zk2)),
            (
                "kafka-1".to_string(),
                Facts {
                    changes: Some(Ok(BTreeSet::from([
                        "env.JVM_OPTS".to_string(),
                        "ports.broker".to_string(),
                    ]))),
                    ship_image: Some(Ok(Some("sha256:0123456789abcdef".into()))),
                },
            ),
        ]);
        let all: BTreeSet<String> = env.instances.keys().cloned().collect();
        plan(&env, &all, &lists, &facts, None)
    }

    #[test]
    fn the_text_form() {
        assert_eq!(
            text(&every_action()),
            "plan of environment prod:
  kafka-1 (ship1): pull+recreate: kafka:2 is image 0123456789ab on the ship now, the container runs kafka2; changed env.JVM_OPTS, ports.broker
  kafka-2 (ship2): create: no container
  web-1 (ship2): adopt: 1:f6f6f6f was not created by maestro and runs the file's image; up recreates it with maestro's labels
  zk-1 (ship1): nothing: 3:a1a1a1a is running, unchanged
  zk-2 (ship2): start: 3:b2b2b2b is exited, unchanged
  kafka-2 (ship1): orphan: moved to ship2; 2:e5e5e5e is running
  kafka-9 (ship1): orphan: not in the file (service kafka); 2:d4d4d4d is running
changes pending: 1 create, 1 start, 1 pull+recreate, 1 adopt, 1 nothing, 2 orphan
"
        );
    }

    #[test]
    fn nothing_to_do_and_a_conflict() {
        let env = env();
        let zk1 = ours(&env, "zk-1", "a1a1a1a1a1");
        let lists: Lists = BTreeMap::from([("ship1".to_string(), Ok(vec![zk1.clone()]))]);
        let facts = HashMap::from([(
            "zk-1".to_string(),
            Facts {
                changes: None,
                ship_image: Some(Ok(Some(zk1.image_id.clone()))),
            },
        )]);
        let one = BTreeSet::from(["zk-1".to_string()]);
        let p = plan(&env, &one, &lists, &facts, None);
        assert_eq!(
            text(&p),
            "plan of environment prod:
  zk-1 (ship1): nothing: 3:a1a1a1a is running, unchanged
no changes: 1 nothing
"
        );
        let mut foreign = zk1;
        foreign.image = "zk:4".into();
        foreign.labels.clear();
        let lists: Lists = BTreeMap::from([("ship1".to_string(), Ok(vec![foreign]))]);
        let p = plan(&env, &one, &lists, &HashMap::new(), None);
        assert_eq!(
            text(&p),
            "plan of environment prod:
  zk-1 (ship1): conflict: 4:a1a1a1a was not created by maestro and runs zk:4, not the file's image; up leaves it alone (remove or rename it)
changes pending: 1 conflict
"
        );
    }

    #[test]
    fn the_json_form_has_stable_fields_and_no_values() {
        let v: serde_json::Value = serde_json::from_str(&json(&every_action())).unwrap();
        assert_eq!(v["environment"], "prod");
        assert_eq!(v["pending"], true);
        assert_eq!(v["complete"], true);
        let k1 = &v["instances"][0];
        assert_eq!(k1["instance"], "kafka-1");
        assert_eq!(k1["action"], "pull+recreate");
        assert_eq!(
            k1["changes"],
            serde_json::json!(["env.JVM_OPTS", "ports.broker"])
        );
        assert_eq!(k1["image"]["current"], "sha256:0123456789abcdef");
        assert_eq!(k1["container"]["state"], "running");
        assert_eq!(v["instances"][1]["container"], serde_json::Value::Null);
        assert_eq!(v["instances"][2]["action"], "adopt");
        assert_eq!(v["orphans"][0]["cause"], "moved");
        assert_eq!(v["orphans"][0]["moved_to"], "ship2");
        assert_eq!(v["orphans"][1]["cause"], "removed");
        assert_eq!(v["counts"]["orphan"], 2);
        assert_eq!(v["counts"]["recreate"], 0);
        let keys: Vec<&String> = k1.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "action",
                "cause",
                "changes",
                "conflict",
                "container",
                "error",
                "image",
                "instance",
                "service",
                "ship"
            ]
        );
    }
}
