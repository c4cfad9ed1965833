//! Container options MaestroNG never had (`networks`, `healthcheck`,
//! `tmpfs`, `cpus`, ...), accepted on a service and on an instance, and the
//! top-level `networks` and `volumes` sections that define user networks
//! and named volumes. Service-level values are read first and instance
//! values over them: a scalar or list replaces, a mapping (`sysctls`,
//! `tmpfs`, `networks`, `healthcheck`) merges key by key.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::LazyLock;

use super::keys;
use super::model::{
    Bind, ContainerOptions, Device, Healthcheck, NetworkAttach, NetworkDef, VolumeDef,
};
use super::options::{bytes, command, scalar_string, shell_split};
use super::reader::{Fields, Reader, describe, join};
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};

/// The keys this module reads, on services and instances alike.
/// The keys of the options' nested mappings, from the one table of keys
/// (`keys`).
static HEALTHCHECK_KEYS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| keys::names(keys::HEALTHCHECK));
static ATTACH_KEYS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| keys::names(keys::NETWORK_ATTACH));
static NETWORK_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| keys::names(keys::NETWORK_DEF));
static VOLUME_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| keys::names(keys::VOLUME_DEF));
const IPC_MODES: [&str; 5] = ["none", "private", "shareable", "host", "container:<name>"];
/// Docker's predefined networks: chosen with `net`, not `networks`.
const PREDEFINED_NETWORKS: [&str; 4] = ["bridge", "host", "none", "default"];
/// Linux signal names (without `SIG`), as Docker's `ParseSignal` knows them.
const SIGNALS: [&str; 33] = [
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU",
];

/// Reads the options present in `f` over `into`. `networks` are the
/// top-level definitions, which `networks` entries must name.
pub fn read(
    r: &mut Reader,
    f: &Fields<'_>,
    networks: &BTreeMap<String, NetworkDef>,
    into: &mut ContainerOptions,
) {
    let p = |k: &str| f.path(k);
    if let Some(n) = f.get("networks") {
        attachments(r, n, &p("networks"), networks, &mut into.networks);
    }
    if let Some(n) = f.get("healthcheck") {
        healthcheck(r, n, &p("healthcheck"), &mut into.healthcheck);
    }
    if let Some(n) = f.get("entrypoint") {
        into.entrypoint = entrypoint(r, n, &p("entrypoint")).or(into.entrypoint.take());
    }
    let text = |r: &mut Reader, k: &str, check: fn(&str) -> Result<(), String>| {
        let n = f.get(k)?;
        let s = r.name(n, &p(k))?;
        match check(&s) {
            Ok(()) => Some(s),
            Err(why) => {
                r.error(n, &p(k), why);
                None
            }
        }
    };
    set(&mut into.hostname, text(r, "hostname", hostname));
    set(&mut into.domainname, text(r, "domainname", domainname));
    set(&mut into.mac_address, text(r, "mac_address", mac_address));
    set(&mut into.pid, text(r, "pid", pid_mode));
    set(&mut into.ipc, text(r, "ipc", ipc_mode));
    set(&mut into.userns_mode, text(r, "userns_mode", userns_mode));
    set(&mut into.cpuset, text(r, "cpuset", cpuset));
    set(&mut into.platform, text(r, "platform", platform));
    set(&mut into.runtime, text(r, "runtime", |_| Ok(())));
    if let Some(n) = f.get("stop_signal") {
        set(&mut into.stop_signal, stop_signal(r, n, &p("stop_signal")));
    }
    let flag = |r: &mut Reader, k: &str| f.get(k).and_then(|n| r.bool(n, &p(k)));
    set(&mut into.tty, flag(r, "tty"));
    set(&mut into.stdin_open, flag(r, "stdin_open"));
    set(&mut into.read_only, flag(r, "read_only"));
    set(&mut into.init, flag(r, "init"));
    if let Some(n) = f.get("tmpfs") {
        tmpfs(r, n, &p("tmpfs"), &mut into.tmpfs);
    }
    let size = |r: &mut Reader, k: &str| {
        let n = f.get(k)?;
        let b = bytes(r, n, &p(k))?;
        if b < 0 {
            r.error(n, &p(k), "a size cannot be negative");
            return None;
        }
        Some(b)
    };
    set(&mut into.shm_size, size(r, "shm_size"));
    set(&mut into.mem_reservation, size(r, "mem_reservation"));
    if let Some(n) = f.get("sysctls") {
        string_map(r, n, &p("sysctls"), "key=value", &mut into.sysctls);
    }
    if let Some(n) = f.get("devices") {
        put(&mut into.devices, devices(r, n, &p("devices")));
    }
    let list = |r: &mut Reader, k: &str| f.get(k).and_then(|n| r.string_list(n, &p(k)));
    put(&mut into.group_add, list(r, "group_add"));
    put(&mut into.dns_search, list(r, "dns_search"));
    put(&mut into.dns_opt, list(r, "dns_opt"));
    if let Some(n) = f.get("cpus") {
        set(&mut into.nano_cpus, cpus(r, n, &p("cpus")));
    }
    let ranged = |r: &mut Reader, k: &str, min: i64, max: i64, unit: &str| {
        f.get(k).and_then(|n| int_in(r, n, &p(k), min, max, unit))
    };
    set(
        &mut into.cpu_quota,
        ranged(r, "cpu_quota", 1000, i64::MAX, " microseconds"),
    );
    set(
        &mut into.cpu_period,
        ranged(r, "cpu_period", 1000, 1_000_000, " microseconds"),
    );
    set(
        &mut into.memory_swappiness,
        ranged(r, "memory_swappiness", 0, 100, ""),
    );
    set(
        &mut into.oom_score_adj,
        ranged(r, "oom_score_adj", -1000, 1000, ""),
    );
    set(
        &mut into.pids_limit,
        ranged(r, "pids_limit", -1, i64::MAX, ""),
    );
}

/// An optional setting given at this level replaces the one inherited.
fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

/// A list given at this level replaces the one inherited.
fn put<T>(slot: &mut Vec<T>, value: Option<Vec<T>>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Checks between options and the instance's other keys, on the merged
/// result. Each error is reported at the instance's key when it has one,
/// else at the instance.
pub fn conflicts(
    r: &mut Reader,
    f: &Fields<'_>,
    o: &ContainerOptions,
    net: Option<&str>,
    binds: &[Bind],
    container_volumes: &[String],
    networks: &BTreeMap<String, NetworkDef>,
) {
    let at = |k: &str| f.get(k).unwrap_or(f.node);
    if let Some(net) = net
        && !o.networks.is_empty()
    {
        let k = if f.get("networks").is_some() {
            "networks"
        } else {
            "net"
        };
        r.error(
            at(k),
            &f.path(k),
            format!("give either net ({net}) or networks, not both: the first network replaces the default bridge that net would set"),
        );
    }
    if let (Some(h), Some(net)) = (&o.hostname, net)
        && (net == "host" || net.starts_with("container:"))
    {
        r.error(
            at("hostname"),
            &f.path("hostname"),
            format!("hostname \"{h}\" cannot be set with net: {net} (the container shares another's network and its name)"),
        );
    }
    for target in o.tmpfs.keys() {
        let clash = binds.iter().any(|b| &b.target == target) || container_volumes.contains(target);
        if clash {
            r.error(
                at("tmpfs"),
                &f.path("tmpfs"),
                format!("{target} is both a tmpfs and a volume target"),
            );
        }
    }
    if o.nano_cpus.is_some() {
        for k in ["cpu_quota", "cpu_period"] {
            let set = match k {
                "cpu_quota" => o.cpu_quota.is_some(),
                _ => o.cpu_period.is_some(),
            };
            if set {
                let key = if f.get(k).is_some() { k } else { "cpus" };
                r.error(
                    at(key),
                    &f.path(key),
                    format!("give either cpus or {k}, not both (Docker refuses NanoCpus with a CPU quota or period)"),
                );
            }
        }
    }
    for a in &o.networks {
        let (Some(ip), Some(def)) = (&a.ipv4_address, networks.get(&a.name)) else {
            continue;
        };
        let path = join(&join(&f.path("networks"), &a.name), "ipv4_address");
        match def.subnet.as_deref().and_then(parse_cidr) {
            Some((net, bits)) => {
                if let Ok(addr) = ip.parse::<Ipv4Addr>()
                    && !in_subnet(addr, net, bits)
                {
                    r.error(
                        at("networks"),
                        &path,
                        format!(
                            "{ip} is outside network {}'s subnet {}",
                            a.name,
                            def.subnet.as_deref().unwrap_or_default()
                        ),
                    );
                }
            }
            None if !def.external => r.error(
                at("networks"),
                &path,
                format!(
                    "a fixed ipv4_address needs a subnet on network {}: Docker gives fixed addresses only on networks with a configured subnet",
                    a.name
                ),
            ),
            None => {}
        }
    }
}

/// `networks`: a list of names, or name -> null | {aliases, ipv4_address}.
fn attachments(
    r: &mut Reader,
    node: &Node,
    path: &str,
    defs: &BTreeMap<String, NetworkDef>,
    into: &mut Vec<NetworkAttach>,
) {
    let mut found: Vec<(NetworkAttach, &Node, String)> = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if let Some(name) = r.name(it, &p) {
                    found.push((
                        NetworkAttach {
                            name,
                            aliases: Vec::new(),
                            ipv4_address: None,
                        },
                        it,
                        p,
                    ));
                }
            }
        }
        Value::Map(_) => {
            for (name, knode, v) in r.entries(node, path).unwrap_or_default() {
                let p = join(path, &name);
                let mut a = NetworkAttach {
                    name,
                    aliases: Vec::new(),
                    ipv4_address: None,
                };
                if !v.is_null() {
                    let Some(af) = r.fields(v, &p, &ATTACH_KEYS) else {
                        continue;
                    };
                    if let Some(al) = af.get("aliases") {
                        a.aliases = r.string_list(al, &af.path("aliases")).unwrap_or_default();
                        for (i, alias) in a.aliases.iter().enumerate() {
                            if let Err(why) = hostname(alias) {
                                r.error(al, &format!("{}[{i}]", af.path("aliases")), why);
                            }
                        }
                    }
                    if let Some(ip) = af.get("ipv4_address") {
                        let ipp = af.path("ipv4_address");
                        a.ipv4_address = r.name(ip, &ipp).filter(|s| {
                            let ok = s.parse::<Ipv4Addr>().is_ok();
                            if !ok {
                                r.error(ip, &ipp, format!("\"{s}\" is not an IPv4 address"));
                            }
                            ok
                        });
                    }
                }
                found.push((a, knode, p));
            }
        }
        _ => {
            r.error(
                node,
                path,
                format!(
                    "expected a list of network names or a mapping name -> {{aliases, ipv4_address}}, got {}",
                    node.kind()
                ),
            );
            return;
        }
    }
    for (a, n, p) in found {
        if !defs.contains_key(&a.name) {
            let hint = did_you_mean(&a.name, defs.keys().map(String::as_str));
            let extra = if PREDEFINED_NETWORKS.contains(&a.name.as_str()) {
                format!("; Docker's {} network is chosen with net", a.name)
            } else {
                String::new()
            };
            r.error(
                n,
                &p,
                format!(
                    "unknown network \"{}\"{hint}{extra}; networks are defined in the top-level networks section",
                    a.name
                ),
            );
            continue;
        }
        match into.iter_mut().find(|x| x.name == a.name) {
            Some(slot) => *slot = a,
            None => into.push(a),
        }
    }
}

/// `healthcheck`: {test, interval, timeout, retries, start_period} or
/// {disable: true}, merged over the service's.
fn healthcheck(r: &mut Reader, node: &Node, path: &str, into: &mut Option<Healthcheck>) {
    let Some(f) = r.fields(node, path, &HEALTHCHECK_KEYS) else {
        return;
    };
    let disable = f
        .get("disable")
        .and_then(|n| r.bool(n, &f.path("disable")))
        .unwrap_or(false);
    if disable {
        if let Some(t) = f.get("test") {
            r.error(
                t,
                &f.path("test"),
                "give either disable: true or test, not both",
            );
            return;
        }
        *into = Some(Healthcheck {
            test: Some(vec!["NONE".into()]),
            ..Healthcheck::default()
        });
        return;
    }
    let mut hc = into.take().filter(|h| !h.disabled()).unwrap_or_default();
    if let Some(t) = f.get("test") {
        set(&mut hc.test, health_test(r, t, &f.path("test")));
    }
    for (k, slot) in [
        ("interval", &mut hc.interval),
        ("timeout", &mut hc.timeout),
        ("start_period", &mut hc.start_period),
    ] {
        if let Some(n) = f.get(k) {
            set(slot, duration(r, n, &f.path(k)));
        }
    }
    if let Some(n) = f.get("retries") {
        set(
            &mut hc.retries,
            r.uint(n, &f.path("retries"))
                .map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
        );
    }
    // Without a test, Docker keeps the image's `HEALTHCHECK` command and
    // takes these settings over its own; with nothing at all, say so.
    if hc == Healthcheck::default() {
        r.error(
            node,
            path,
            "an empty healthcheck: give a test, its timings, or disable: true",
        );
        return;
    }
    *into = Some(hc);
}

/// A string is run by the container's shell (`CMD-SHELL`); a list is the
/// command and its arguments (`CMD`), and may start with `CMD` or
/// `CMD-SHELL` itself.
fn health_test(r: &mut Reader, node: &Node, path: &str) -> Option<Vec<String>> {
    match &node.value {
        Value::Str(s) if s.trim().is_empty() => {
            r.error(node, path, "the healthcheck test is empty");
            None
        }
        Value::Str(s) => Some(vec!["CMD-SHELL".into(), s.clone()]),
        Value::Seq(_) => {
            let words = command(r, node, path)?;
            match words.first().map(String::as_str) {
                None => {
                    r.error(node, path, "the healthcheck test is empty");
                    None
                }
                Some("NONE") => {
                    r.error(node, path, "use disable: true to turn the healthcheck off");
                    None
                }
                Some("CMD" | "CMD-SHELL") if words.len() < 2 => {
                    r.error(node, path, "the healthcheck test has no command");
                    None
                }
                Some("CMD" | "CMD-SHELL") => Some(words),
                Some(_) => Some(std::iter::once("CMD".to_string()).chain(words).collect()),
            }
        }
        _ => {
            r.error(
                node,
                path,
                format!(
                    "expected a shell command (string) or a command and its arguments (list), got {}",
                    node.kind()
                ),
            );
            None
        }
    }
}

/// A duration: `10s`, `1m30s`, `500ms`, `1h`, `1.5s`, or a number of
/// seconds; at least 1 ms (Docker's minimum), in nanoseconds.
pub fn duration(r: &mut Reader, node: &Node, path: &str) -> Option<i64> {
    let nanos = match &node.value {
        Value::Number(n) if n.float.is_finite() && n.float >= 0.0 => Some(n.float * 1e9),
        Value::Str(s) => parse_duration(s.trim()),
        _ => None,
    };
    match nanos {
        Some(ns) if (1e6..9.2e18).contains(&ns) => Some(ns.round() as i64),
        Some(ns) if ns >= 9.2e18 => {
            r.error(node, path, format!("{} is too long", describe(node)));
            None
        }
        Some(_) => {
            r.error(
                node,
                path,
                format!("{} is shorter than 1ms, Docker's minimum", describe(node)),
            );
            None
        }
        None => {
            r.error(
                node,
                path,
                format!(
                    "invalid duration {}; e.g. 10s, 1m30s, 500ms, 1h",
                    describe(node)
                ),
            );
            None
        }
    }
}

/// Go-style durations (`1h2m3.5s`, `250ms`, `10us`, `3ns`), in nanoseconds.
fn parse_duration(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "h" => 3600e9,
            "m" => 60e9,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += num * mult;
    }
    Some(total)
}

/// `entrypoint`: a string split like a shell would, or a list; empty
/// (`""` or `[]`) clears the image's entrypoint.
fn entrypoint(r: &mut Reader, node: &Node, path: &str) -> Option<Vec<String>> {
    match &node.value {
        Value::Str(s) if s.trim().is_empty() => Some(Vec::new()),
        Value::Seq(items) if items.is_empty() => Some(Vec::new()),
        Value::Str(s) => match shell_split(s) {
            Some(words) => Some(words),
            None => {
                r.error(node, path, "unbalanced quotes in the entrypoint");
                None
            }
        },
        _ => command(r, node, path),
    }
}

/// A host name as Linux takes it: letters, digits and `-`, 1 to 63
/// characters, not starting or ending with `-`.
fn hostname(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid host name \"{s}\": use 1 to 63 ASCII letters, digits and inner `-`"
        ))
    }
}

/// Dot-separated host names.
fn domainname(s: &str) -> Result<(), String> {
    if s.len() <= 253 && s.split('.').all(|l| hostname(l).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "invalid domain name \"{s}\": labels of ASCII letters, digits and inner `-`, separated by dots"
        ))
    }
}

fn mac_address(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid MAC address \"{s}\"; e.g. 02:42:ac:11:00:02"
        ))
    }
}

fn pid_mode(s: &str) -> Result<(), String> {
    if s == "host" || s.strip_prefix("container:").is_some_and(|c| !c.is_empty()) {
        Ok(())
    } else {
        Err(format!(
            "invalid pid mode \"{s}\"; choose host or container:<name>"
        ))
    }
}

fn ipc_mode(s: &str) -> Result<(), String> {
    if IPC_MODES[..4].contains(&s) || s.strip_prefix("container:").is_some_and(|c| !c.is_empty()) {
        Ok(())
    } else {
        Err(format!(
            "invalid ipc mode \"{s}\"; choose one of {}",
            IPC_MODES.join(", ")
        ))
    }
}

fn userns_mode(s: &str) -> Result<(), String> {
    if s == "host" {
        Ok(())
    } else {
        Err(format!(
            "invalid userns_mode \"{s}\"; the only mode is host (leave it out for the daemon's default)"
        ))
    }
}

/// `0-3,5`: CPU numbers and ranges.
fn cpuset(s: &str) -> Result<(), String> {
    let item = |p: &str| -> bool {
        let (a, b) = p.split_once('-').unwrap_or((p, p));
        match (a.parse::<u32>(), b.parse::<u32>()) {
            (Ok(a), Ok(b)) => a <= b,
            _ => false,
        }
    };
    if s.split(',').all(item) {
        Ok(())
    } else {
        Err(format!(
            "invalid cpuset \"{s}\"; CPU numbers and ranges, e.g. 0-2,4"
        ))
    }
}

/// `os[/arch[/variant]]`, e.g. `linux/amd64`, `linux/arm/v7`.
fn platform(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = parts.len() <= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid platform \"{s}\"; os[/arch[/variant]], e.g. linux/amd64"
        ))
    }
}

/// A signal name (`SIGTERM`, `term`) or number (1-64), as Docker's
/// `ParseSignal` takes it; names are stored as `SIGTERM`.
fn stop_signal(r: &mut Reader, node: &Node, path: &str) -> Option<String> {
    let s = r.name(node, path)?;
    if let Ok(n) = s.parse::<u32>() {
        if (1..=64).contains(&n) {
            return Some(n.to_string());
        }
    } else {
        let upper = s.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        if SIGNALS.contains(&bare) {
            return Some(format!("SIG{bare}"));
        }
        let hint = did_you_mean(bare, SIGNALS.iter().copied());
        r.error(
            node,
            path,
            format!("unknown signal \"{s}\"{hint}; e.g. SIGTERM, SIGQUIT, SIGINT or a number"),
        );
        return None;
    }
    r.error(node, path, format!("signal {s} is out of range 1-64"));
    None
}

/// `tmpfs`: a path, a list of `path[:options]`, or path -> options.
fn tmpfs(r: &mut Reader, node: &Node, path: &str, into: &mut BTreeMap<String, String>) {
    let mut found: Vec<(String, String, &Node, String)> = Vec::new();
    match &node.value {
        Value::Str(_) | Value::Seq(_) => {
            let items: Vec<&Node> = match &node.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![node],
            };
            for (i, it) in items.into_iter().enumerate() {
                let p = if matches!(node.value, Value::Seq(_)) {
                    format!("{path}[{i}]")
                } else {
                    path.to_string()
                };
                let Some(s) = r.name(it, &p) else { continue };
                let (target, opts) = s.split_once(':').unwrap_or((&s, ""));
                found.push((target.to_string(), opts.to_string(), it, p));
            }
        }
        Value::Map(_) => {
            for (target, knode, v) in r.entries(node, path).unwrap_or_default() {
                let p = join(path, &target);
                let opts = if v.is_null() {
                    Some(String::new())
                } else {
                    r.string(v, &p)
                };
                if let Some(opts) = opts {
                    found.push((target, opts, knode, p));
                }
            }
        }
        _ => {
            r.error(
                node,
                path,
                format!(
                    "expected a path, a list of path[:options] or a mapping path -> options, got {}",
                    node.kind()
                ),
            );
            return;
        }
    }
    for (target, opts, n, p) in found {
        if !target.starts_with('/') {
            r.error(
                n,
                &p,
                format!("the tmpfs path \"{target}\" must be absolute"),
            );
            continue;
        }
        into.insert(target, opts);
    }
}

/// A mapping of strings, or a list of `key=value`, merged into `into`.
fn string_map(
    r: &mut Reader,
    node: &Node,
    path: &str,
    form: &str,
    into: &mut BTreeMap<String, String>,
) {
    match &node.value {
        Value::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let Some(s) = r.name(it, &p) else { continue };
                match s.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => {
                        into.insert(k.trim().to_string(), v.trim().to_string());
                    }
                    _ => r.error(it, &p, format!("expected {form}, got \"{s}\"")),
                }
            }
        }
        Value::Map(_) => {
            for (k, _, v) in r.entries(node, path).unwrap_or_default() {
                match scalar_string(v).filter(|_| !v.is_null()) {
                    Some(s) => {
                        into.insert(k, s);
                    }
                    None => r.error(
                        v,
                        &join(path, &k),
                        format!("expected a string, got {}", v.kind()),
                    ),
                }
            }
        }
        _ => r.error(
            node,
            path,
            format!(
                "expected a mapping or a list of {form}, got {}",
                node.kind()
            ),
        ),
    }
}

/// `devices`: `host[:container[:permissions]]` strings.
fn devices(r: &mut Reader, node: &Node, path: &str) -> Option<Vec<Device>> {
    let list = r.string_list(node, path)?;
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let at = match &node.value {
            Value::Seq(items) => &items[i],
            _ => node,
        };
        let parts: Vec<&str> = s.split(':').collect();
        let (host, container, perms) = match parts.as_slice() {
            [h] => (*h, *h, "rwm"),
            [h, c] if c.chars().all(|x| "rwm".contains(x)) && !c.starts_with('/') => (*h, *h, *c),
            [h, c] => (*h, *c, "rwm"),
            [h, c, m] => (*h, *c, *m),
            _ => {
                r.error(
                    at,
                    &p,
                    format!("invalid device \"{s}\"; host[:container[:permissions]]"),
                );
                continue;
            }
        };
        if !host.starts_with('/') || !container.starts_with('/') {
            r.error(
                at,
                &p,
                format!("invalid device \"{s}\": paths must be absolute"),
            );
            continue;
        }
        if perms.is_empty() || !perms.chars().all(|c| "rwm".contains(c)) {
            r.error(
                at,
                &p,
                format!("invalid device permissions \"{perms}\"; some of r, w and m"),
            );
            continue;
        }
        out.push(Device {
            host: host.into(),
            container: container.into(),
            permissions: perms.into(),
        });
    }
    Some(out)
}

/// `cpus`: a positive number of CPUs, as billionths.
fn cpus(r: &mut Reader, node: &Node, path: &str) -> Option<i64> {
    let v = match &node.value {
        Value::Number(n) => Some(n.float),
        Value::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match v {
        Some(c) if c.is_finite() && c > 0.0 && c < 1e9 => Some((c * 1e9).round() as i64),
        _ => {
            r.error(
                node,
                path,
                format!(
                    "expected a positive number of CPUs, e.g. 1.5, got {}",
                    describe(node)
                ),
            );
            None
        }
    }
}

/// An integer within `min..=max` (a digit string is accepted too).
fn int_in(r: &mut Reader, node: &Node, path: &str, min: i64, max: i64, unit: &str) -> Option<i64> {
    let v = match &node.value {
        Value::Number(n) => n.int,
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    };
    match v {
        Some(v) if (min..=max).contains(&v) => Some(v),
        Some(v) if max == i64::MAX => {
            r.error(node, path, format!("{v} is below the minimum {min}{unit}"));
            None
        }
        Some(v) => {
            r.error(
                node,
                path,
                format!("{v} is out of range {min}..{max}{unit}"),
            );
            None
        }
        None => {
            r.error(
                node,
                path,
                format!("expected an integer, got {}", describe(node)),
            );
            None
        }
    }
}

/// Whether Docker takes `name` as a network or volume name.
fn object_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name \"{name}\": Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        ))
    }
}

fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, b) = s.split_once('/')?;
    let bits: u8 = b.parse().ok().filter(|b| *b <= 32)?;
    Some((a.parse().ok()?, bits))
}

fn in_subnet(addr: Ipv4Addr, net: Ipv4Addr, bits: u8) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(addr) & mask == u32::from(net) & mask
}

/// The top-level `networks` section.
pub fn network_defs(r: &mut Reader, node: &Node) -> BTreeMap<String, NetworkDef> {
    let mut out = BTreeMap::new();
    for (name, knode, v) in r.entries(node, "networks").unwrap_or_default() {
        let path = join("networks", &name);
        if let Err(why) = object_name(&name) {
            r.error(knode, &path, why);
            continue;
        }
        if PREDEFINED_NETWORKS.contains(&name.as_str()) {
            r.error(
                knode,
                &path,
                format!(
                    "{name} is one of Docker's predefined networks; choose it with net: {name}"
                ),
            );
            continue;
        }
        let mut def = NetworkDef {
            driver: "bridge".into(),
            ..NetworkDef::default()
        };
        if !v.is_null() {
            let Some(f) = r.fields(v, &path, &NETWORK_KEYS) else {
                continue;
            };
            common_def(
                r,
                &f,
                &mut def.driver,
                &mut def.driver_opts,
                &mut def.labels,
                &mut def.external,
            );
            def.internal = f
                .get("internal")
                .and_then(|n| r.bool(n, &f.path("internal")))
                .unwrap_or(false);
            if let Some(n) = f.get("subnet") {
                def.subnet = r.name(n, &f.path("subnet")).filter(|s| {
                    let ok = parse_cidr(s).is_some();
                    if !ok {
                        r.error(
                            n,
                            &f.path("subnet"),
                            format!("invalid subnet \"{s}\"; an IPv4 CIDR, e.g. 172.28.0.0/16"),
                        );
                    }
                    ok
                });
            }
            if let Some(n) = f.get("gateway") {
                def.gateway = r.name(n, &f.path("gateway")).filter(|s| {
                    let Ok(addr) = s.parse::<Ipv4Addr>() else {
                        r.error(
                            n,
                            &f.path("gateway"),
                            format!("\"{s}\" is not an IPv4 address"),
                        );
                        return false;
                    };
                    match def.subnet.as_deref().and_then(parse_cidr) {
                        Some((net, bits)) if !in_subnet(addr, net, bits) => {
                            r.error(
                                n,
                                &f.path("gateway"),
                                format!("gateway {s} is outside the subnet"),
                            );
                            false
                        }
                        Some(_) => true,
                        None => {
                            r.error(n, &f.path("gateway"), "a gateway needs a subnet");
                            false
                        }
                    }
                });
            }
            if def.external {
                external_alone(r, &f, &["external"]);
            }
        }
        out.insert(name, def);
    }
    out
}

/// The top-level `volumes` section.
pub fn volume_defs(r: &mut Reader, node: &Node) -> BTreeMap<String, VolumeDef> {
    let mut out = BTreeMap::new();
    for (name, knode, v) in r.entries(node, "volumes").unwrap_or_default() {
        let path = join("volumes", &name);
        if let Err(why) = object_name(&name).and_then(|()| {
            if name.len() < 2 {
                Err(format!(
                    "invalid name \"{name}\": Docker needs at least 2 characters"
                ))
            } else {
                Ok(())
            }
        }) {
            r.error(knode, &path, why);
            continue;
        }
        let mut def = VolumeDef {
            driver: "local".into(),
            ..VolumeDef::default()
        };
        if !v.is_null() {
            let Some(f) = r.fields(v, &path, &VOLUME_KEYS) else {
                continue;
            };
            common_def(
                r,
                &f,
                &mut def.driver,
                &mut def.driver_opts,
                &mut def.labels,
                &mut def.external,
            );
            if def.external {
                external_alone(r, &f, &["external"]);
            }
        }
        out.insert(name, def);
    }
    out
}

fn common_def(
    r: &mut Reader,
    f: &Fields<'_>,
    driver: &mut String,
    opts: &mut BTreeMap<String, String>,
    labels: &mut BTreeMap<String, String>,
    external: &mut bool,
) {
    if let Some(d) = f.get("driver").and_then(|n| r.name(n, &f.path("driver"))) {
        *driver = d;
    }
    if let Some(n) = f.get("driver_opts") {
        string_map(r, n, &f.path("driver_opts"), "key=value", opts);
    }
    if let Some(n) = f.get("labels") {
        string_map(r, n, &f.path("labels"), "key=value", labels);
        for k in labels.keys() {
            if k.starts_with("maestro.") {
                r.error(
                    n,
                    &join(&f.path("labels"), k),
                    "labels starting with maestro. are maestro's own",
                );
            }
        }
    }
    *external = f
        .get("external")
        .and_then(|n| r.bool(n, &f.path("external")))
        .unwrap_or(false);
}

/// An external network or volume is made elsewhere: its other settings
/// would be silently ignored, so they are an error.
fn external_alone(r: &mut Reader, f: &Fields<'_>, allowed: &[&str]) {
    for &k in NETWORK_KEYS.iter() {
        if !allowed.contains(&k)
            && let Some(n) = f.get(k)
        {
            r.error(
                n,
                &f.path(k),
                format!("{k} cannot be set on an external definition: it is made outside maestro"),
            );
        }
    }
}

#[cfg(test)]
mod tests;
