//! `maestro dump [-c] [things]` and `maestro config --format json`: the
//! resolved environment as JSON on stdout, instances in dependency order.
//! Passwords, tokens, headers and environment values are redacted unless
//! `--show-secrets` is given.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::cli::GlobalArgs;
use crate::config::ship::{ApiVersion, Ship};
use crate::config::validate::service_graph;
use crate::config::{Environment, Loaded, yaml};

pub const REDACTED: &str = "<redacted>";

pub fn run(global: &GlobalArgs, with_config: bool, show_secrets: bool, things: &[String]) -> i32 {
    let l = match super::load(global) {
        Ok(l) => l,
        Err(code) => return code,
    };
    match document(&l, things, with_config, show_secrets) {
        Ok(doc) => {
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => {
                    if let Err(code) = super::print_stdout(&format!("{s}\n")) {
                        return code;
                    }
                }
                Err(e) => {
                    eprintln!("maestro: cannot write JSON: {e}");
                    return 2;
                }
            }
            0
        }
        Err(msg) => {
            eprintln!("maestro: {msg}");
            2
        }
    }
}

/// Instance names in dependency order (dependencies first, then by name),
/// limited to `things` and what they depend on when things are given.
pub fn ordered_instances(env: &Environment, things: &[String]) -> Result<Vec<String>, String> {
    let graph = service_graph(&env.services, false);
    let order = graph
        .order()
        .map_err(|c| format!("dependency cycle: {}", c.join(" -> ")))?;
    let wanted: Option<BTreeSet<String>> = if things.is_empty() {
        None
    } else {
        let mut set = BTreeSet::new();
        for t in things {
            let (services, only): (Vec<String>, Option<&str>) = if env.services.contains_key(t) {
                (vec![t.clone()], None)
            } else if let Some(i) = env.instances.get(t) {
                (vec![i.service.clone()], Some(t.as_str()))
            } else {
                return Err(env.unknown_thing(t));
            };
            for s in &services {
                match only {
                    Some(i) => {
                        set.insert(i.to_string());
                    }
                    None => set.extend(env.services[s].instances.iter().cloned()),
                }
                for d in graph.closure(s) {
                    set.extend(env.services[&d].instances.iter().cloned());
                }
            }
        }
        Some(set)
    };
    Ok(order
        .iter()
        .flat_map(|s| env.services[s].instances.iter())
        .filter(|i| wanted.as_ref().is_none_or(|w| w.contains(*i)))
        .cloned()
        .collect())
}

pub fn document(
    l: &Loaded,
    things: &[String],
    with_config: bool,
    show_secrets: bool,
) -> Result<Value, String> {
    let env = &l.env;
    let instances: Vec<Value> = ordered_instances(env, things)?
        .iter()
        .map(|n| {
            let i = &env.instances[n];
            let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("env".into(), json!(env.container_env(i)));
            }
            v
        })
        .collect();
    let mut doc = json!({
        "name": env.name,
        "schema": env.schema,
        "ships": env.ships.values().map(|s| (s.name.clone(), ship_json(s))).collect::<serde_json::Map<_, _>>(),
        "registries": serde_json::to_value(&env.registries).unwrap_or(Value::Null),
        "services": serde_json::to_value(&env.services).unwrap_or(Value::Null),
        "instances": instances,
        "audit": serde_json::to_value(&env.audit).unwrap_or(Value::Null),
    });
    if with_config && let Some(o) = doc.as_object_mut() {
        o.insert("config".into(), yaml::to_json(&l.tree));
    }
    if !show_secrets {
        redact(&mut doc);
    }
    Ok(doc)
}

fn ship_json(s: &Ship) -> Value {
    json!({
        "ip": s.ip,
        "endpoint": s.endpoint,
        "docker_port": s.docker_port,
        "socket_path": s.socket_path,
        "api_version": match &s.api_version { ApiVersion::Auto => "auto".to_string(), ApiVersion::Fixed(v) => v.clone() },
        "timeout": s.timeout.as_secs_f64(),
        "tls": s.tls.as_ref().map(|t| json!({"verify": t.verify, "ca_cert": t.ca_cert, "cert": t.cert, "key": t.key})),
        "ssh_tunnel": s.ssh_tunnel.as_ref().map(|t| json!({"user": t.user, "key": t.key, "port": t.port, "known_hosts": t.known_hosts})),
        "max_concurrency": s.max_concurrency,
    })
}

/// Replaces secrets: values of `password` and `token` keys, and every value
/// inside `env` and `headers` mappings (environment values may be secrets).
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match k.as_str() {
                    "password" | "token" if !val.is_null() => *val = Value::String(REDACTED.into()),
                    "env" | "headers" => match val {
                        Value::Object(inner) => inner
                            .values_mut()
                            .for_each(|x| *x = Value::String(REDACTED.into())),
                        Value::Null => {}
                        other => *other = Value::String(REDACTED.into()),
                    },
                    _ => redact(val),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}
