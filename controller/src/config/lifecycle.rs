//! Lifecycle checks (reference section 6), resolved against one instance:
//! named ports are looked up in the instance's merged ports, the http host
//! defaults to the ship's address. Each instance gets its own copies
//! (MaestroNG mutated the shared service-level lists).

use std::collections::BTreeMap;

use super::keys;
use super::model::{Check, EnvFrom, LifecycleState, Port, Protocol};
use super::options::{scalar_string, shell_split};
use super::reader::{Fields, Reader, describe, join};
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};

type Parse = fn(&mut Reader, &Fields<'_>, &Target<'_>) -> Option<Check>;

/// The function that reads a check of type `name` (the types and their
/// keys are `keys::CHECK_TYPES`).
fn parser(name: &str) -> Option<Parse> {
    let parse: Parse = match name {
        "tcp" => tcp,
        "http" => http,
        "exec" => exec,
        "rexec" => rexec,
        "sleep" => sleep,
        "health" => health,
        _ => return None,
    };
    Some(parse)
}

/// What a check is resolved against: the instance's name and ports, and
/// its ship's address (the default http host).
struct Target<'a> {
    instance: &'a str,
    ports: &'a BTreeMap<String, Port>,
    ship_ip: &'a str,
}

/// Parses `lifecycle` and appends its checks to `into`, per state.
pub fn parse(
    r: &mut Reader,
    node: &Node,
    path: &str,
    instance: &str,
    ports: &BTreeMap<String, Port>,
    ship_ip: &str,
    into: &mut BTreeMap<LifecycleState, Vec<Check>>,
) {
    let Some(entries) = r.entries(node, path) else {
        return;
    };
    for (state_name, knode, list) in entries {
        let p = join(path, &state_name);
        let Some(state) = LifecycleState::ALL
            .iter()
            .find(|(n, _)| *n == state_name)
            .map(|(_, s)| *s)
        else {
            let hint = did_you_mean(&state_name, LifecycleState::ALL.iter().map(|(n, _)| *n));
            r.error(
                knode,
                &p,
                format!("unknown lifecycle state \"{state_name}\"{hint}"),
            );
            continue;
        };
        let items = match &list.value {
            Value::Null => continue,
            Value::Seq(items) => items,
            _ => {
                r.error(
                    list,
                    &p,
                    format!(
                        "invalid lifecycle checks: expected a list of checks, got {}",
                        list.kind()
                    ),
                );
                continue;
            }
        };
        for (i, item) in items.iter().enumerate() {
            let target = Target {
                instance,
                ports,
                ship_ip,
            };
            if let Some(c) = check(r, item, &format!("{p}[{i}]"), &target) {
                into.entry(state).or_default().push(c);
            }
        }
    }
}

fn check(r: &mut Reader, node: &Node, path: &str, target: &Target<'_>) -> Option<Check> {
    // Read `type` first, then check the keys allowed for that type.
    let Value::Map(entries) = &node.value else {
        r.error(
            node,
            path,
            format!(
                "expected a check mapping with a `type`, got {}",
                node.kind()
            ),
        );
        return None;
    };
    let names = || keys::CHECK_TYPES.iter().map(|(n, _)| *n);
    let type_node = entries
        .iter()
        .find(|(k, _)| k.text() == Some("type"))
        .map(|(_, v)| v);
    let Some(type_node) = type_node else {
        let all: Vec<&str> = names().collect();
        r.error(
            node,
            path,
            format!("missing required key \"type\" (one of {})", all.join(", ")),
        );
        return None;
    };
    let name = r.string(type_node, &join(path, "type"))?;
    let (Some(kind_keys), Some(parse)) = (keys::check_keys(&name), parser(&name)) else {
        let hint = did_you_mean(&name, names());
        r.error(
            type_node,
            &join(path, "type"),
            format!("unknown lifecycle check type \"{name}\"{hint}"),
        );
        return None;
    };
    let allowed: Vec<&str> = std::iter::once("type")
        .chain(kind_keys.iter().map(|k| k.name))
        .collect();
    let f = r.fields(node, path, &allowed)?;
    parse(r, &f, target)
}

/// A named port of the instance that a check can connect to: TCP, single.
fn single_tcp_port<'p>(
    r: &mut Reader,
    f: &Fields<'_>,
    pnode: &Node,
    name: &str,
    port: &'p Port,
    check: &str,
) -> Option<&'p Port> {
    if port.protocol != Protocol::Tcp {
        r.error(pnode, &f.path("port"), format!("port {name} is not TCP"));
        return None;
    }
    if port.external.is_range() {
        r.error(
            pnode,
            &f.path("port"),
            format!("port {name} is a range; {check} check needs a single port"),
        );
        return None;
    }
    Some(port)
}

fn tcp(r: &mut Reader, f: &Fields<'_>, t: &Target<'_>) -> Option<Check> {
    let pnode = r.required(f, "port")?;
    let name = r.string(pnode, &f.path("port"))?;
    let Some(port) = t.ports.get(&name) else {
        let hint = did_you_mean(&name, t.ports.keys().map(String::as_str));
        r.error(
            pnode,
            &f.path("port"),
            format!("port {name} is not defined by {}{hint}", t.instance),
        );
        return None;
    };
    let port = single_tcp_port(r, f, pnode, &name, port, "a tcp")?;
    let max_wait = opt_uint(r, f, "max_wait", 180)?;
    Some(Check::Tcp {
        port: name,
        target_port: port.external.start,
        max_wait,
    })
}

fn http(r: &mut Reader, f: &Fields<'_>, t: &Target<'_>) -> Option<Check> {
    let pnode = r.required(f, "port")?;
    let text = r.string(pnode, &f.path("port"))?;
    let target_port = match t.ports.get(&text) {
        Some(p) => {
            single_tcp_port(r, f, pnode, &text, p, "an http")?
                .external
                .start
        }
        None => {
            match text.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => {
                    let hint = did_you_mean(&text, t.ports.keys().map(String::as_str));
                    let instance = t.instance;
                    r.error(
                    pnode,
                    &f.path("port"),
                    format!("port {text} is not defined by {instance} and is not a port number{hint}"),
                );
                    return None;
                }
            }
        }
    };
    let s = |r: &mut Reader, key: &str, default: &str| -> Option<String> {
        match f.get(key) {
            Some(n) => r.string(n, &f.path(key)),
            None => Some(default.to_string()),
        }
    };
    let host = s(r, "host", t.ship_ip)?;
    let scheme = s(r, "scheme", "http")?;
    if scheme != "http" && scheme != "https" {
        r.error(
            f.get("scheme").unwrap_or(f.node),
            &f.path("scheme"),
            format!("unknown scheme \"{scheme}\"; use http or https"),
        );
    }
    let mut path = s(r, "path", "/")?;
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let method = s(r, "method", "get")?.to_ascii_lowercase();
    let match_regex = match f.get("match_regex") {
        Some(n) => {
            let re = r.string(n, &f.path("match_regex"))?;
            // As the check compiles it (`.` matches newlines).
            if let Err(e) = regex_lite::RegexBuilder::new(&re)
                .dot_matches_new_line(true)
                .build()
            {
                r.error(n, &f.path("match_regex"), format!("bad regex: {e}"));
                return None;
            }
            Some(re)
        }
        None => None,
    };
    let max_wait = opt_seconds(r, f, "max_wait", 300.0)?;
    let (mut verify, mut timeout, mut headers) = (true, None, BTreeMap::new());
    if let Some(o) = f.get("requests_options") {
        let of = r.fields(
            o,
            &f.path("requests_options"),
            &keys::names(keys::REQUESTS_OPTIONS),
        )?;
        if let Some(v) = of.get("verify") {
            verify = r.bool(v, &of.path("verify"))?;
        }
        if let Some(t) = of.get("timeout") {
            timeout = Some(r.seconds(t, &of.path("timeout"))?);
        }
        if let Some(h) = of.get("headers") {
            for (k, _, v) in r.entries(h, &of.path("headers")).unwrap_or_default() {
                headers.insert(k, scalar_string(v).unwrap_or_default());
            }
        }
    }
    Some(Check::Http {
        port: text,
        target_port,
        host,
        scheme,
        path,
        method,
        match_regex,
        max_wait,
        verify,
        timeout,
        headers,
    })
}

/// `command` of an exec or rexec check: a list, or a string split as a
/// shell would.
fn command(r: &mut Reader, f: &Fields<'_>) -> Option<Vec<String>> {
    let cnode = r.required(f, "command")?;
    let command = match &cnode.value {
        Value::Str(s) => shell_split(s).filter(|v| !v.is_empty()),
        Value::Seq(items) => items.iter().map(|i| i.scalar_text()).collect(),
        _ => None,
    };
    if command.is_none() {
        r.error(
            cnode,
            &f.path("command"),
            format!("invalid command {}", describe(cnode)),
        );
    }
    command
}

fn exec(r: &mut Reader, f: &Fields<'_>, _: &Target<'_>) -> Option<Check> {
    let command = command(r, f)?;
    let attempts = opt_uint(r, f, "attempts", 180)?;
    let envfrom = match f.get("envfrom") {
        None => EnvFrom::Env,
        Some(n) => match r.string(n, &f.path("envfrom"))?.as_str() {
            "env" => EnvFrom::Env,
            "stdin" => EnvFrom::Stdin,
            other => {
                r.error(
                    n,
                    &f.path("envfrom"),
                    format!("envfrom must be env or stdin, got \"{other}\""),
                );
                return None;
            }
        },
    };
    // Both read before giving up, so that both are reported.
    let timeout = f.get("timeout").map(|n| r.seconds(n, &f.path("timeout")));
    let max_wait = f.get("max_wait").map(|n| r.seconds(n, &f.path("max_wait")));
    Some(Check::Exec {
        command,
        attempts,
        envfrom,
        timeout: timeout.map_or(Some(None), |t| t.map(Some))?,
        max_wait: max_wait.map_or(Some(None), |t| t.map(Some))?,
    })
}

fn rexec(r: &mut Reader, f: &Fields<'_>, _: &Target<'_>) -> Option<Check> {
    let command = command(r, f)?;
    let attempts = opt_uint(r, f, "attempts", 180)?;
    Some(Check::Rexec { command, attempts })
}

fn sleep(r: &mut Reader, f: &Fields<'_>, _: &Target<'_>) -> Option<Check> {
    let w = r.required(f, "wait")?;
    Some(Check::Sleep {
        wait: r.seconds(w, &f.path("wait"))?,
    })
}

fn health(r: &mut Reader, f: &Fields<'_>, _: &Target<'_>) -> Option<Check> {
    let max_wait = opt_seconds(r, f, "max_wait", 300.0)?;
    Some(Check::Health { max_wait })
}

fn opt_seconds(r: &mut Reader, f: &Fields<'_>, key: &str, default: f64) -> Option<f64> {
    match f.get(key) {
        Some(n) => r.seconds(n, &f.path(key)),
        None => Some(default),
    }
}

fn opt_uint(r: &mut Reader, f: &Fields<'_>, key: &str, default: u64) -> Option<u64> {
    match f.get(key) {
        Some(n) => r.uint(n, &f.path(key)),
        None => Some(default),
    }
}
