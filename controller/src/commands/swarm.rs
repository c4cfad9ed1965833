//! `maestro swarm label [--manager SHIP]`: gives each Swarm node whose
//! address (`Status.Addr`) is a ship's `ip` the node label
//! `maestro.ship=<ship>`, which `maestro export swarm` places services by.
//! Talks to one manager ship's Engine API: `GET /nodes`, then `POST
//! /nodes/{id}/update?version=N` with the node's spec and the label.

use serde_json::Value;

use super::{CommandResult, Context};
use crate::config::ship::Ship;
use crate::docker::Docker;
use crate::exit::{ExitStatus, Failed};
use crate::export::swarm::SHIP_LABEL;

/// What labelling needs to do, decided from the node list alone.
#[derive(Debug, Default, PartialEq)]
pub struct LabelPlan {
    /// Node id, spec version, new spec, ship, node host name; only the
    /// nodes whose label is not already right.
    pub updates: Vec<(String, u64, Value, String, String)>,
    /// Ship and node host name of nodes already labelled.
    pub current: Vec<(String, String)>,
    /// Ships no node has the address of.
    pub without_node: Vec<String>,
    /// Ships whose address another ship (named) already labelled a node with.
    pub sharing: Vec<(String, String)>,
}

/// Matches nodes to ships by address (`Status.Addr` equal to the ship's
/// `ip`; ships are taken by name, so of two ships with one address the
/// first names the node).
pub fn plan_labels(nodes: &[Value], ships: &[(String, String)]) -> LabelPlan {
    let mut plan = LabelPlan::default();
    let mut taken: Vec<(&str, &str)> = Vec::new();
    for (ship, ip) in ships {
        let node = nodes.iter().find(|n| address(n) == Some(ip.as_str()));
        let Some(node) = node else {
            plan.without_node.push(ship.clone());
            continue;
        };
        if let Some((first, _)) = taken.iter().find(|(_, a)| *a == ip.as_str()) {
            plan.sharing.push((ship.clone(), first.to_string()));
            continue;
        }
        taken.push((ship, ip));
        let host = node
            .pointer("/Description/Hostname")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let label = node
            .pointer(&format!("/Spec/Labels/{}", SHIP_LABEL.replace('/', "~1")))
            .and_then(Value::as_str);
        if label == Some(ship.as_str()) {
            plan.current.push((ship.clone(), host));
            continue;
        }
        let id = node
            .get("ID")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let version = node
            .pointer("/Version/Index")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut spec = node
            .get("Spec")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        if let Some(o) = spec.as_object_mut() {
            let labels = o
                .entry("Labels")
                .or_insert_with(|| Value::Object(Default::default()));
            if !labels.is_object() {
                *labels = Value::Object(Default::default());
            }
            if let Some(l) = labels.as_object_mut() {
                l.insert(SHIP_LABEL.into(), Value::String(ship.clone()));
            }
        }
        plan.updates.push((id, version, spec, ship.clone(), host));
    }
    plan
}

/// A node's address: `Status.Addr`, or for a manager that reports
/// `0.0.0.0` there (a Swarm initialised without `--advertise-addr` on some
/// engines) the host part of `ManagerStatus.Addr`.
fn address(node: &Value) -> Option<&str> {
    let status = node.pointer("/Status/Addr").and_then(Value::as_str);
    match status {
        Some(a) if a != "0.0.0.0" => Some(a),
        _ => node
            .pointer("/ManagerStatus/Addr")
            .and_then(Value::as_str)
            .and_then(|a| a.rsplit_once(':').map(|(host, _)| host)),
    }
}

pub fn label(ctx: &Context, manager: Option<&str>) -> CommandResult {
    let env = ctx.env();
    let candidates: Vec<&Ship> = match manager {
        Some(name) => match env.ships.get(name) {
            Some(s) => vec![s],
            None => {
                let hint = crate::config::suggest::did_you_mean(
                    name,
                    env.ships.keys().map(String::as_str),
                );
                return Err(Failed::error(format_args!(
                    "--manager {name}: no such ship{hint}"
                )));
            }
        },
        None => env.ships.values().map(|s| &**s).collect(),
    };
    // Without --manager, the first ship (by name) that answers as a manager.
    let mut errors = Vec::new();
    let mut found = None;
    for ship in candidates {
        let result = Docker::new(ship).and_then(|d| d.nodes().map(|n| (d, n)));
        match result {
            Ok((d, nodes)) => {
                found = Some((ship, d, nodes));
                break;
            }
            Err(e) => errors.push(format!("{}: {e}", ship.name)),
        }
    }
    let Some((ship, docker, nodes)) = found else {
        return Err(Failed::failure(format_args!(
            "no ship answered as a Swarm manager:\n  {}",
            errors.join("\n  ")
        )));
    };
    let ships: Vec<(String, String)> = env
        .ships
        .values()
        .map(|s| (s.name.clone(), s.ip.clone()))
        .collect();
    let plan = plan_labels(&nodes, &ships);
    let mut lines = vec![format!("manager: {} ({} nodes)", ship.name, nodes.len())];
    let mut failed = false;
    for (id, version, spec, ship, host) in &plan.updates {
        match docker.node_update(id, *version, spec) {
            Ok(()) => lines.push(format!("{ship}: node {host} labelled {SHIP_LABEL}={ship}")),
            Err(e) => {
                failed = true;
                lines.push(format!("{ship}: node {host}: labelling failed: {e}"));
            }
        }
    }
    for (ship, host) in &plan.current {
        lines.push(format!("{ship}: node {host} already labelled"));
    }
    for (ship, first) in &plan.sharing {
        lines.push(format!(
            "{ship}: shares its address with {first}, whose label its node carries"
        ));
    }
    if !plan.without_node.is_empty() {
        lines.push(format!(
            "ships without a node: {}",
            plan.without_node.join(", ")
        ));
    }
    lines.push(String::new());
    super::print_stdout(&lines.join("\n"))?;
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(id: &str, addr: &str, host: &str, labels: Value) -> Value {
        json!({
            "ID": id,
            "Version": {"Index": 12},
            "Spec": {"Role": "manager", "Availability": "active", "Labels": labels},
            "Description": {"Hostname": host},
            "Status": {"State": "ready", "Addr": addr},
        })
    }

    #[test]
    fn nodes_are_matched_by_address_and_keep_their_spec() {
        let nodes = [
            node("n1", "10.213.0.41", "swarm1", json!({"zone": "a"})),
            node("n2", "10.213.0.42", "swarm2", json!({"maestro.ship": "s2"})),
            node("n9", "10.213.0.49", "other", json!({})),
        ];
        let ships = [
            ("s1".to_string(), "10.213.0.41".to_string()),
            ("s1b".to_string(), "10.213.0.41".to_string()),
            ("s2".to_string(), "10.213.0.42".to_string()),
            ("s3".to_string(), "10.213.0.43".to_string()),
        ];
        let plan = plan_labels(&nodes, &ships);
        assert_eq!(plan.updates.len(), 1);
        let (id, version, spec, ship, host) = &plan.updates[0];
        assert_eq!(
            (id.as_str(), *version, ship.as_str(), host.as_str()),
            ("n1", 12, "s1", "swarm1")
        );
        assert_eq!(
            spec,
            &json!({"Role": "manager", "Availability": "active", "Labels": {"zone": "a", "maestro.ship": "s1"}})
        );
        assert_eq!(plan.current, [("s2".to_string(), "swarm2".to_string())]);
        assert_eq!(plan.sharing, [("s1b".to_string(), "s1".to_string())]);
        assert_eq!(plan.without_node, ["s3"]);
    }

    #[test]
    fn a_manager_without_its_address_in_status_is_found_by_its_manager_address() {
        let mut n = node("n1", "0.0.0.0", "h", json!({}));
        n["ManagerStatus"] = json!({"Addr": "10.213.0.41:2377", "Leader": true});
        let plan = plan_labels(&[n], &[("s1".into(), "10.213.0.41".into())]);
        assert_eq!(plan.updates.len(), 1);
        assert!(plan.without_node.is_empty());
    }

    #[test]
    fn a_node_without_labels_gets_the_mapping() {
        let mut n = node("n1", "10.213.0.41", "h", Value::Null);
        n["Spec"].as_object_mut().unwrap().remove("Labels");
        let plan = plan_labels(&[n], &[("s1".into(), "10.213.0.41".into())]);
        assert_eq!(plan.updates[0].2["Labels"], json!({"maestro.ship": "s1"}));
    }
}
