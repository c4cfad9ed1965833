//! The networks and named volumes an instance's container needs on its
//! ship: created when missing (labelled as the environment's), never
//! removed by a container's own work. `clean --networks` removes the
//! environment's networks (`remove_networks`).

use std::sync::Mutex;

use serde_json::{Value, json};

use super::container_spec::endpoint;
use crate::config::Environment;
use crate::config::model::{Instance, NetworkDef, VolumeDef};
use crate::docker::Docker;
use crate::docker::query::filters;

/// Creation is serialised within the process: two instances of a play
/// on the same ship must not both find a network missing and create it
/// twice (Docker allows two networks of one name).
static CREATING: Mutex<()> = Mutex::new(());

/// Makes sure the networks and named volumes of `i` exist on its ship.
pub fn ensure(docker: &Docker, env: &Environment, i: &Instance) -> Result<(), String> {
    let needs_network = i
        .options
        .networks
        .iter()
        .any(|n| env.networks.contains_key(&n.name));
    let volumes: Vec<(&String, &VolumeDef)> = i
        .volumes
        .iter()
        .filter_map(|b| env.volumes.get_key_value(&b.host))
        .collect();
    if !needs_network && volumes.is_empty() {
        return Ok(());
    }
    let _guard = CREATING.lock().unwrap_or_else(|p| p.into_inner());
    for n in &i.options.networks {
        if let Some(def) = env.networks.get(&n.name) {
            ensure_network(docker, &env.name, &n.name, def)?;
        }
    }
    for (name, def) in volumes {
        ensure_volume(docker, &env.name, name, def)?;
    }
    Ok(())
}

fn labels(env_name: &str, own: &std::collections::BTreeMap<String, String>) -> Value {
    let mut l: serde_json::Map<String, Value> = own
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    l.insert(crate::labels::ENVIRONMENT.into(), env_name.into());
    Value::Object(l)
}

fn ensure_network(
    docker: &Docker,
    env_name: &str,
    name: &str,
    def: &NetworkDef,
) -> Result<(), String> {
    let ship = docker.ship();
    match docker.network_inspect(name) {
        // The lookup also matches id prefixes: only the name counts.
        Ok(v) if v["Name"].as_str() == Some(name) => {
            let owner = v["Labels"][crate::labels::ENVIRONMENT].as_str();
            return match owner {
                Some(other) if other != env_name && !def.external => Err(format!(
                    "network {name} on {ship} belongs to environment {other}"
                )),
                _ => Ok(()),
            };
        }
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(format!("cannot inspect network {name}: {e}")),
    }
    if def.external {
        return Err(format!(
            "network {name} is external (made outside maestro) and does not exist on {ship}"
        ));
    }
    let mut body = json!({
        "Name": name,
        "Driver": def.driver,
        "CheckDuplicate": true,
        "Internal": def.internal,
        "Options": def.driver_opts,
        "Labels": labels(env_name, &def.labels),
    });
    if let Some(subnet) = &def.subnet {
        let mut config = json!({ "Subnet": subnet });
        if let Some(gw) = &def.gateway {
            config["Gateway"] = gw.as_str().into();
        }
        body["IPAM"] = json!({ "Driver": "default", "Config": [config] });
    }
    match docker.network_create(&body) {
        Ok(_) => Ok(()),
        // Made meanwhile by another maestro: it is there.
        Err(e) if e.status() == Some(409) => Ok(()),
        Err(e) => Err(format!("cannot create network {name}: {e}")),
    }
}

fn ensure_volume(
    docker: &Docker,
    env_name: &str,
    name: &str,
    def: &VolumeDef,
) -> Result<(), String> {
    match docker.volume_inspect(name) {
        Ok(_) => return Ok(()),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(format!("cannot inspect volume {name}: {e}")),
    }
    if def.external {
        return Err(format!(
            "volume {name} is external (made outside maestro) and does not exist on {}",
            docker.ship()
        ));
    }
    let body = json!({
        "Name": name,
        "Driver": def.driver,
        "DriverOpts": def.driver_opts,
        "Labels": labels(env_name, &def.labels),
    });
    docker
        .volume_create(&body)
        .map_err(|e| format!("cannot create volume {name}: {e}"))
}

/// Connects a created container to its networks after the first (which
/// it was created on), before it starts.
pub fn connect(docker: &Docker, i: &Instance, container: &str) -> Result<(), String> {
    for n in i.options.networks.iter().skip(1) {
        docker
            .network_connect(&n.name, container, &endpoint(n))
            .map_err(|e| format!("cannot connect the container to network {}: {e}", n.name))?;
    }
    Ok(())
}

/// What `clean --networks` did on one ship: the networks removed, and
/// those kept with why.
#[derive(Debug, Default)]
pub struct Removed {
    pub removed: Vec<String>,
    pub kept: Vec<(String, String)>,
}

/// Removes the networks labelled as the environment's on one ship. One
/// still in use (by a container of another selection, or not maestro's)
/// is kept and said why.
pub fn remove_networks(docker: &Docker, env_name: &str) -> Result<Removed, String> {
    let label = format!("{}={env_name}", crate::labels::ENVIRONMENT);
    let list = docker
        .networks(&filters([("label", label.as_str())]))
        .map_err(|e| format!("cannot list networks: {e}"))?;
    let mut out = Removed::default();
    for n in list {
        let name = n["Name"].as_str().unwrap_or_default().to_string();
        let id = n["Id"].as_str().unwrap_or(&name).to_string();
        match docker.network_remove(&id) {
            Ok(()) => out.removed.push(name),
            Err(e) if e.is_not_found() => {}
            Err(e) => out.kept.push((name, e.to_string())),
        }
    }
    out.removed.sort();
    Ok(out)
}
