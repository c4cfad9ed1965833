//! A stable hash of an instance's resolved configuration: the orchestration
//! stores it in a container label to tell whether the container must be
//! recreated. SHA-256 over the canonical JSON of the instance (maps
//! sorted; without `config_hash`, and without `lifecycle`, whose checks
//! run around the container but are not part of it) and over what its environment is computed from: the ship's address, the
//! service's digest (its variables and link variables, see
//! `ContainerEnvs::seal`) and the instance's own variables. Hashing the
//! sources rather than the built map keeps validation fast when deep
//! `requires` chains give every container thousands of variables.

use sha2::{Digest, Sha256};

use super::model::Instance;

pub fn config_hash(
    inst: &Instance,
    ship_ip: &str,
    service_digest: &[u8; 32],
    user: &[(String, String)],
) -> String {
    let mut h = Sha256::new();
    let Ok(mut json) = serde_json::to_value(inst) else {
        return String::new();
    };
    if let Some(o) = json.as_object_mut() {
        o.remove("config_hash");
        o.remove("lifecycle");
    }
    h.update(json.to_string().as_bytes());
    h.update([0]);
    h.update(ship_ip.as_bytes());
    h.update([0]);
    h.update(service_digest);
    for (k, v) in user {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
