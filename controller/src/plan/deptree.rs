//! `maestro deptree`: which services the things name (the tree itself is
//! drawn by `render::deptree`).

use std::collections::BTreeSet;

use crate::config::Environment;

/// Resolves things (service or instance names) to services, sorted and
/// deduplicated; with none, every service not marked `omit`.
pub fn services_for(env: &Environment, things: &[String]) -> Result<Vec<String>, String> {
    if things.is_empty() {
        return Ok(env
            .services
            .values()
            .filter(|s| !s.omit)
            .map(|s| s.name.clone())
            .collect());
    }
    let mut out = BTreeSet::new();
    for t in things {
        if env.services.contains_key(t) {
            out.insert(t.clone());
        } else if let Some(i) = env.instances.get(t) {
            out.insert(i.service.clone());
        } else {
            return Err(env.unknown_thing(t));
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let yaml = "name: t\nships: {s1: {ip: 127.0.0.1}}\nservices:\n  A: {image: a, requires: [B, C], instances: {a1: {ship: s1}}}\n  B: {image: b, requires: [C], instances: {b1: {ship: s1}}}\n  C: {image: c, instances: {c1: {ship: s1}}}\n";
        crate::config::load_str(yaml, std::path::Path::new(".")).unwrap()
    }

    #[test]
    fn things_map_instances_to_services() {
        let e = env();
        assert_eq!(
            services_for(&e, &["b1".into(), "A".into()]).unwrap(),
            ["A", "B"]
        );
        assert_eq!(services_for(&e, &[]).unwrap(), ["A", "B", "C"]);
        assert!(
            services_for(&e, &["zz".into()])
                .unwrap_err()
                .contains("neither a service nor a container")
        );
    }
}
