//! `maestro dump [-c] [things]` and `maestro config --format json`: the
//! resolved environment as JSON on stdout, instances in dependency order.
//! Passwords, tokens, headers and environment values are redacted unless
//! `--show-secrets` is given.

use serde_json::{Value, json};

use super::{CommandResult, Context};
use crate::config::ship::{ApiVersion, Ship};
use crate::config::{Loaded, yaml};
use crate::exit::{ExitStatus, Failed};
use crate::plan::selection::{Request, Selection, Verb};

pub const REDACTED: &str = "<redacted>";

pub fn run(
    ctx: &Context,
    with_config: bool,
    show_secrets: bool,
    things: &[String],
) -> CommandResult {
    let selection = ctx.select(Verb::Dump, &Request::things(things))?;
    let doc = document(ctx.loaded(), &selection, with_config, show_secrets);
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Failed::error(format_args!("cannot write JSON: {e}")))?;
    super::print_stdout(&format!("{text}\n"))?;
    Ok(ExitStatus::Success)
}

/// The dump of the selected instances (in dependency order), with the
/// environment around them.
pub fn document(l: &Loaded, selection: &Selection, with_config: bool, show_secrets: bool) -> Value {
    let env = &l.env;
    let instances: Vec<Value> = selection
        .ordered
        .iter()
        .filter_map(|n| env.instances.get(n))
        .map(|i| {
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
    doc
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
