//! Reading `services` and their instances: service-level settings merged
//! into each instance, every container option read and checked. Checks
//! that need all instances (dependencies, `volumes_from`, ports, names)
//! are in `validate`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::container_env::{self, EnvSources};
use super::lifecycle;
use super::model::{Instance, Limits, Port, Service, Ulimit};
use super::options;
use super::ports::parse_port;
use super::reader::{Fields, Reader, join};
use super::ship::ShipRef;
use super::suggest::did_you_mean;
use super::volumes::binds;
use super::yaml::{Node, Value};

pub const SERVICE_KEYS: [&str; 11] = [
    "image",
    "instances",
    "requires",
    "wants_info",
    "omit",
    "env",
    "envfile",
    "lifecycle",
    "limits",
    "ports",
    "ulimits",
];
const INSTANCE_KEYS: [&str; 29] = [
    "ship",
    "image",
    "command",
    "cmd",
    "ports",
    "env",
    "envfile",
    "volumes",
    "container_volumes",
    "volumes_from",
    "links",
    "lifecycle",
    "privileged",
    "cap_add",
    "cap_drop",
    "extra_hosts",
    "net",
    "dns",
    "restart",
    "stop_timeout",
    "limits",
    "ulimits",
    "log_driver",
    "log_opt",
    "security_opt",
    "workdir",
    "username",
    "labels",
    "lxc_conf",
];

/// Per-instance facts needed after parsing, by instance name.
pub struct Extra<'n> {
    pub sources: EnvSources,
    pub node: &'n Node,
    pub path: String,
    pub volumes_from: Vec<NameRef<'n>>,
}

pub struct ServiceExtra<'n> {
    pub sources: EnvSources,
    pub requires: Vec<NameRef<'n>>,
    pub wants_info: Vec<NameRef<'n>>,
}

pub struct Ctx<'a> {
    /// The valid ships.
    pub ships: &'a BTreeMap<String, ShipRef>,
    /// Every name under `ships`, valid or not: an invalid ship was already
    /// reported and must not also be "unknown" where it is used.
    pub ship_names: &'a BTreeSet<String>,
    pub schema: u8,
    pub base_dir: &'a Path,
}

impl Ctx<'_> {
    /// The ship named at `node`; an unknown name is reported with a
    /// suggestion, an invalid ship silently (it was reported already).
    fn ship(&self, r: &mut Reader, node: &Node, path: &str, name: &str) -> Option<&ShipRef> {
        let ship = self.ships.get(name);
        if ship.is_none() && !self.ship_names.contains(name) {
            let hint = did_you_mean(name, self.ship_names.iter().map(String::as_str));
            r.error(node, path, format!("unknown ship \"{name}\"{hint}"));
        }
        ship
    }
}

/// A name given in a list (`requires`, `volumes_from`), with where it is.
pub struct NameRef<'n> {
    pub name: String,
    pub node: &'n Node,
    pub path: String,
}

fn name_list<'n>(r: &mut Reader, node: Option<&'n Node>, path: &str) -> Vec<NameRef<'n>> {
    let Some(node) = node else { return Vec::new() };
    match &node.value {
        // A plain string is one name (MaestroNG iterated it letter by letter).
        Value::Str(s) => vec![NameRef {
            name: s.clone(),
            node,
            path: path.to_string(),
        }],
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| {
                let path = format!("{path}[{i}]");
                r.name(it, &path).map(|name| NameRef {
                    name,
                    node: it,
                    path,
                })
            })
            .collect(),
        _ => {
            r.error(
                node,
                path,
                format!("expected a list of names, got {}", node.kind()),
            );
            Vec::new()
        }
    }
}

pub fn parse_service<'n>(
    r: &mut Reader,
    ctx: &Ctx<'_>,
    sname: &str,
    f: &Fields<'n>,
    instances: &mut BTreeMap<String, Instance>,
    iextra: &mut BTreeMap<String, Extra<'n>>,
) -> Option<(Service, ServiceExtra<'n>)> {
    let image = r
        .required(f, "image")
        .and_then(|n| r.name(n, &f.path("image")));
    let requires = name_list(r, f.get("requires"), &f.path("requires"));
    let wants_info = name_list(r, f.get("wants_info"), &f.path("wants_info"));
    let omit = f
        .get("omit")
        .and_then(|n| r.bool(n, &f.path("omit")))
        .unwrap_or(false);
    let sources =
        container_env::parse_sources(r, f.get("env"), f.get("envfile"), &f.path, ctx.base_dir);
    let mut ports: BTreeMap<String, Port> = BTreeMap::new();
    if let Some(pn) = f.get("ports") {
        for (pname, _, v) in r.entries(pn, &f.path("ports")).unwrap_or_default() {
            if let Some(p) = parse_port(r, v, &join(&f.path("ports"), &pname)) {
                ports.insert(pname, p);
            }
        }
    }
    let mut limits = Limits::default();
    if let Some(l) = f.get("limits") {
        options::limits(r, l, &f.path("limits"), &mut limits);
    }
    let mut ulimits = BTreeMap::new();
    if let Some(u) = f.get("ulimits") {
        options::ulimits(r, u, &f.path("ulimits"), &mut ulimits);
    }
    let inode = r.required(f, "instances");
    let mut names = Vec::new();
    for (iname, knode, v) in inode
        .and_then(|n| r.entries(n, &f.path("instances")))
        .unwrap_or_default()
    {
        let ipath = join(&f.path("instances"), &iname);
        if let Err(why) = container_name(&iname) {
            r.error(knode, &ipath, format!("invalid instance name: {why}"));
        }
        if let Some(other) = instances.get(&iname) {
            r.error(
                knode,
                &ipath,
                format!(
                    "instance {iname} is already defined in service {}",
                    other.service
                ),
            );
            continue;
        }
        let Some(fi) = r.fields(v, &ipath, &INSTANCE_KEYS) else {
            continue;
        };
        let base = Base {
            image: image.as_deref(),
            ports: &ports,
            limits: &limits,
            ulimits: &ulimits,
            lifecycle: f.get("lifecycle"),
            lifecycle_path: f.path("lifecycle"),
        };
        if let Some((inst, extra)) = parse_instance(r, ctx, sname, &iname, &fi, &base) {
            names.push(iname.clone());
            instances.insert(iname.clone(), inst);
            iextra.insert(iname, extra);
        }
    }
    names.sort();
    let service = Service {
        name: sname.to_string(),
        image: image?,
        requires: requires.iter().map(|n| n.name.clone()).collect(),
        wants_info: wants_info.iter().map(|n| n.name.clone()).collect(),
        volumes_from_services: Vec::new(),
        omit,
        instances: names,
    };
    Some((
        service,
        ServiceExtra {
            sources,
            requires,
            wants_info,
        },
    ))
}

/// Whether Docker accepts an instance name as its container's name
/// (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`): checked here so that `validate` says so,
/// rather than the create request at `start`. MaestroNG had no check.
fn container_name(name: &str) -> Result<(), String> {
    let why = if name.chars().count() < 2 {
        "Docker needs at least 2 characters"
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        "it must start with an ASCII letter or digit"
    } else if name.contains(char::is_whitespace) {
        "it contains white space"
    } else if name.contains('/') {
        "it contains `/`"
    } else if !name.is_ascii() {
        "it contains non-ASCII characters"
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        "it contains a character other than ASCII letters, digits, `_`, `.` and `-`"
    } else {
        return Ok(());
    };
    Err(format!(
        "{name:?}: {why}; Docker refuses it as a container name (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]+)"
    ))
}

/// Service-level settings that instances inherit.
struct Base<'a, 'n> {
    image: Option<&'a str>,
    ports: &'a BTreeMap<String, Port>,
    limits: &'a Limits,
    ulimits: &'a BTreeMap<String, Ulimit>,
    lifecycle: Option<&'n Node>,
    lifecycle_path: String,
}

fn parse_instance<'n>(
    r: &mut Reader,
    ctx: &Ctx<'_>,
    sname: &str,
    iname: &str,
    f: &Fields<'n>,
    base: &Base<'_, 'n>,
) -> Option<(Instance, Extra<'n>)> {
    let p = |k: &str| f.path(k);
    let ship = r.required(f, "ship").and_then(|n| {
        let s = r.name(n, &p("ship"))?;
        ctx.ship(r, n, &p("ship"), &s).cloned()
    });
    // Without a valid ship the instance is dropped at the end; its checks
    // are still read (and reported) against an empty address.
    let ship_ip = ship.as_ref().map(|s| s.ip.clone()).unwrap_or_default();
    let image = match f.get("image") {
        Some(n) => r.name(n, &p("image")),
        None => base.image.map(str::to_string),
    };
    let command = match (f.get("command"), f.get("cmd")) {
        (Some(_), Some(c)) => {
            r.error(
                c,
                &p("cmd"),
                "give either command or its deprecated spelling cmd, not both",
            );
            None
        }
        (Some(c), None) => options::command(r, c, &p("command")),
        (None, Some(c)) => options::command(r, c, &p("cmd")),
        (None, None) => None,
    };
    let mut ports = base.ports.clone();
    if let Some(pn) = f.get("ports") {
        for (pname, _, v) in r.entries(pn, &p("ports")).unwrap_or_default() {
            if let Some(port) = parse_port(r, v, &join(&p("ports"), &pname)) {
                ports.insert(pname, port);
            }
        }
    }
    let mut lifecycle = BTreeMap::new();
    if let Some(l) = base.lifecycle {
        lifecycle::parse(
            r,
            l,
            &base.lifecycle_path,
            iname,
            &ports,
            &ship_ip,
            &mut lifecycle,
        );
    }
    if let Some(l) = f.get("lifecycle") {
        lifecycle::parse(
            r,
            l,
            &p("lifecycle"),
            iname,
            &ports,
            &ship_ip,
            &mut lifecycle,
        );
    }
    let mut limits = base.limits.clone();
    if let Some(l) = f.get("limits") {
        options::limits(r, l, &p("limits"), &mut limits);
    }
    let mut ulimits = base.ulimits.clone();
    if let Some(u) = f.get("ulimits") {
        options::ulimits(r, u, &p("ulimits"), &mut ulimits);
    }
    let volumes = f
        .get("volumes")
        .map(|v| binds(r, v, &p("volumes"), ctx.schema))
        .unwrap_or_default();
    let container_volumes = f
        .get("container_volumes")
        .and_then(|v| r.string_list(v, &p("container_volumes")))
        .unwrap_or_default();
    for cv in &container_volumes {
        if volumes.iter().any(|b| &b.target == cv) {
            r.error(f.get("container_volumes").unwrap_or(f.node), &p("container_volumes"), format!("conflict in {iname} between bind-mounted volume and container-only volume on {cv}"));
        }
    }
    let volumes_from = match f.get("volumes_from") {
        None => Vec::new(),
        Some(n) => name_list(r, Some(n), &p("volumes_from")),
    };
    let mut links = BTreeMap::new();
    if let Some(l) = f.get("links") {
        for (k, _, v) in r.entries(l, &p("links")).unwrap_or_default() {
            let alias = if v.is_null() {
                Some(k.clone())
            } else {
                r.name(v, &join(&p("links"), &k))
            };
            if let Some(a) = alias {
                links.insert(k, a);
            }
        }
    }
    let mut extra_hosts = Vec::new();
    if let Some(h) = f.get("extra_hosts") {
        for (host, _, v) in r.entries(h, &p("extra_hosts")).unwrap_or_default() {
            let hp = join(&p("extra_hosts"), &host);
            let ip = match &v.value {
                Value::Map(_) => r.fields(v, &hp, &["ship"]).and_then(|hf| {
                    let sn = r.required(&hf, "ship")?;
                    let s = r.name(sn, &hf.path("ship"))?;
                    ctx.ship(r, sn, &hf.path("ship"), &s)
                        .map(|ship| ship.ip.clone())
                }),
                _ => r.name(v, &hp),
            };
            if let Some(ip) = ip {
                extra_hosts.push(format!("{host}:{ip}"));
            }
        }
    }
    let list = |r: &mut Reader, k: &str| {
        f.get(k)
            .and_then(|n| r.string_list(n, &p(k)))
            .unwrap_or_default()
    };
    let dns = list(r, "dns");
    let cap_add = list(r, "cap_add");
    let cap_drop = list(r, "cap_drop");
    let security_opt = list(r, "security_opt");
    let string = |r: &mut Reader, k: &str| f.get(k).and_then(|n| r.name(n, &p(k)));
    let net = string(r, "net");
    let workdir = string(r, "workdir");
    let username = string(r, "username");
    let privileged = f
        .get("privileged")
        .and_then(|n| r.bool(n, &p("privileged")))
        .unwrap_or(false);
    let restart = f
        .get("restart")
        .and_then(|n| options::restart(r, n, &p("restart")))
        .unwrap_or_default();
    let stop_timeout = f
        .get("stop_timeout")
        .and_then(|n| r.uint(n, &p("stop_timeout")))
        .unwrap_or(10);
    let log = options::log(r, f.get("log_driver"), f.get("log_opt"), &f.path);
    let labels = f
        .get("labels")
        .map(|n| options::labels(r, n, &p("labels")))
        .unwrap_or_default();
    let mut lxc_conf = BTreeMap::new();
    if let Some(l) = f.get("lxc_conf") {
        for (k, _, v) in r.entries(l, &p("lxc_conf")).unwrap_or_default() {
            lxc_conf.insert(k, options::scalar_string(v).unwrap_or_default());
        }
    }
    let sources =
        container_env::parse_sources(r, f.get("env"), f.get("envfile"), &f.path, ctx.base_dir);
    let inst = Instance {
        name: iname.to_string(),
        service: sname.to_string(),
        ship: ship?,
        image: image?,
        command,
        ports,
        volumes,
        container_volumes,
        volumes_from: volumes_from.iter().map(|n| n.name.clone()).collect(),
        links,
        lifecycle,
        privileged,
        cap_add,
        cap_drop,
        extra_hosts,
        net,
        dns,
        restart,
        stop_timeout,
        limits,
        ulimits,
        log,
        security_opt,
        workdir,
        username,
        labels,
        lxc_conf,
        config_hash: String::new(),
    };
    Some((
        inst,
        Extra {
            sources,
            node: f.node,
            path: f.path.clone(),
            volumes_from,
        },
    ))
}
