//! A stable hash of an instance's resolved configuration: the orchestration
//! stores it in a container label to tell whether the container must be
//! recreated. Canonical JSON (struct fields in declaration order, maps
//! sorted) of everything that affects the container, hashed with SHA-256.

use sha2::{Digest, Sha256};

use super::model::Instance;

pub fn config_hash(inst: &Instance) -> String {
    let mut v = match serde_json::to_value(inst) {
        Ok(v) => v,
        Err(_) => return String::new(),
    };
    if let Some(o) = v.as_object_mut() {
        o.remove("config_hash");
    }
    let digest = Sha256::digest(v.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
