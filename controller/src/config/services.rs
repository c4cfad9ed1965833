//! Reading `services` and their instances: service-level settings merged
//! into each instance, every container option read and checked. Checks
//! that need all instances (dependencies, `volumes_from`, ports, names)
//! are in `validate`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use super::container_env::{self, EnvSources};
use super::container_options;
use super::keys;
use super::lifecycle;
use super::model::{
    Bind, Check, ContainerOptions, Instance, LifecycleState, Limits, NetworkDef, Port, Service,
    Ulimit,
};
use super::oneshot;
use super::options;
use super::ports::parse_port;
use super::reader::{Fields, Reader, join};
use super::ship::ShipRef;
use super::suggest::did_you_mean;
use super::volumes::binds;
use super::yaml::{Node, Value};

/// Every key a service takes (`keys::SERVICE`: MaestroNG's, then
/// maestro's container options), listed once for every service read.
pub fn service_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| keys::names(keys::SERVICE));
    &KEYS
}

/// Every key an instance takes (`keys::INSTANCE`), as `service_keys`.
pub fn instance_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| keys::names(keys::INSTANCE));
    &KEYS
}

/// Per-instance facts needed after parsing, by instance name.
pub struct Extra<'n> {
    pub sources: EnvSources,
    pub node: &'n Node,
    pub path: String,
    pub volumes_from: Vec<NameRef<'n>>,
    /// `secrets`: variables whose values are secret (see `secrets`).
    pub secrets: BTreeSet<String>,
}

pub struct ServiceExtra<'n> {
    pub sources: EnvSources,
    pub requires: Vec<NameRef<'n>>,
    pub wants_info: Vec<NameRef<'n>>,
    /// `secrets`: variables whose values are secret (see `secrets`).
    pub secrets: BTreeSet<String>,
}

pub struct Ctx<'a> {
    /// The valid ships.
    pub ships: &'a BTreeMap<String, ShipRef>,
    /// Every name under `ships`, valid or not: an invalid ship was already
    /// reported and must not also be "unknown" where it is used.
    pub ship_names: &'a BTreeSet<String>,
    pub schema: u8,
    pub base_dir: &'a Path,
    /// The top-level `networks` definitions.
    pub networks: &'a BTreeMap<String, NetworkDef>,
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

/// An `image` value: a name that Docker's reference grammar accepts.
fn image_reference(r: &mut Reader, node: &Node, path: &str) -> Option<String> {
    let text = r.name(node, path)?;
    match super::image::check(&text) {
        Ok(()) => Some(text),
        Err(why) => {
            r.error(
                node,
                path,
                format!("\"{text}\" is not an image reference: {why}"),
            );
            None
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
        .and_then(|n| image_reference(r, n, &f.path("image")));
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
        read_ports(r, pn, &f.path("ports"), &mut ports);
    }
    let mut limits = Limits::default();
    if let Some(l) = f.get("limits") {
        options::limits(r, l, &f.path("limits"), &mut limits);
    }
    let mut ulimits = BTreeMap::new();
    if let Some(u) = f.get("ulimits") {
        options::ulimits(r, u, &f.path("ulimits"), &mut ulimits);
    }
    let mut options = ContainerOptions::default();
    container_options::read(r, f, ctx.networks, &mut options);
    oneshot::read(r, f, &mut options);
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
        let Some(fi) = r.fields(v, &ipath, instance_keys()) else {
            continue;
        };
        let base = Base {
            image: image.as_deref(),
            ports: &ports,
            limits: &limits,
            ulimits: &ulimits,
            lifecycle: f.get("lifecycle"),
            lifecycle_path: f.path("lifecycle"),
            options: &options,
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
            secrets: super::secrets::parse_list(r, f.get("secrets"), &f.path),
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
    options: &'a ContainerOptions,
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
    let ship = instance_ship(r, ctx, f);
    let image = match f.get("image") {
        Some(n) => image_reference(r, n, &p("image")),
        None => base.image.map(str::to_string),
    };
    let command = instance_command(r, f);
    let mut ports = base.ports.clone();
    if let Some(pn) = f.get("ports") {
        read_ports(r, pn, &p("ports"), &mut ports);
    }
    let lifecycle = instance_lifecycle(r, f, base, iname, &ports, ship.as_ref());
    let (limits, ulimits) = instance_limits(r, f, base);
    let (volumes, container_volumes) = instance_volumes(r, ctx, f, iname);
    let volumes_from = name_list(r, f.get("volumes_from"), &p("volumes_from"));
    let links = instance_links(r, f);
    let extra_hosts = instance_extra_hosts(r, ctx, f);
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
    let lxc_conf = instance_lxc_conf(r, f);
    let sources =
        container_env::parse_sources(r, f.get("env"), f.get("envfile"), &f.path, ctx.base_dir);
    let mut options = base.options.clone();
    container_options::read(r, f, ctx.networks, &mut options);
    oneshot::read(r, f, &mut options);
    oneshot::conflicts(r, f, &options, &restart, &lifecycle);
    container_options::conflicts(
        r,
        f,
        &options,
        net.as_deref(),
        &volumes,
        &container_volumes,
        ctx.networks,
    );
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
        options,
        config_hash: String::new(),
    };
    Some((
        inst,
        Extra {
            sources,
            node: f.node,
            path: f.path.clone(),
            volumes_from,
            secrets: super::secrets::parse_list(r, f.get("secrets"), &f.path),
        },
    ))
}

/// `ship`: required, and one of the valid ships.
fn instance_ship(r: &mut Reader, ctx: &Ctx<'_>, f: &Fields<'_>) -> Option<ShipRef> {
    let path = f.path("ship");
    let n = r.required(f, "ship")?;
    let name = r.name(n, &path)?;
    ctx.ship(r, n, &path, &name).cloned()
}

/// `command`, or its deprecated spelling `cmd` (not both).
fn instance_command(r: &mut Reader, f: &Fields<'_>) -> Option<Vec<String>> {
    match (f.get("command"), f.get("cmd")) {
        (Some(_), Some(c)) => {
            r.error(
                c,
                &f.path("cmd"),
                "give either command or its deprecated spelling cmd, not both",
            );
            None
        }
        (Some(c), None) => options::command(r, c, &f.path("command")),
        (None, Some(c)) => options::command(r, c, &f.path("cmd")),
        (None, None) => None,
    }
}

/// `ports` (of a service or an instance), added to `into` by name.
fn read_ports(r: &mut Reader, node: &Node, path: &str, into: &mut BTreeMap<String, Port>) {
    for (pname, _, v) in r.entries(node, path).unwrap_or_default() {
        if let Some(port) = parse_port(r, v, &join(path, &pname)) {
            into.insert(pname, port);
        }
    }
}

/// `lifecycle`: the service's checks, then the instance's own.
fn instance_lifecycle(
    r: &mut Reader,
    f: &Fields<'_>,
    base: &Base<'_, '_>,
    iname: &str,
    ports: &BTreeMap<String, Port>,
    ship: Option<&ShipRef>,
) -> BTreeMap<LifecycleState, Vec<Check>> {
    // Without a valid ship the instance is dropped at the end; its checks
    // are still read (and reported) against an empty address.
    let ship_ip = ship.map_or("", |s| s.ip.as_str());
    let mut checks = BTreeMap::new();
    if let Some(l) = base.lifecycle {
        let path = &base.lifecycle_path;
        lifecycle::parse(r, l, path, iname, ports, ship_ip, &mut checks);
    }
    if let Some(l) = f.get("lifecycle") {
        let path = &f.path("lifecycle");
        lifecycle::parse(r, l, path, iname, ports, ship_ip, &mut checks);
    }
    checks
}

/// `limits` and `ulimits`: the service's, overridden key by key.
fn instance_limits(
    r: &mut Reader,
    f: &Fields<'_>,
    base: &Base<'_, '_>,
) -> (Limits, BTreeMap<String, Ulimit>) {
    let mut limits = base.limits.clone();
    if let Some(l) = f.get("limits") {
        options::limits(r, l, &f.path("limits"), &mut limits);
    }
    let mut ulimits = base.ulimits.clone();
    if let Some(u) = f.get("ulimits") {
        options::ulimits(r, u, &f.path("ulimits"), &mut ulimits);
    }
    (limits, ulimits)
}

/// `volumes` (bind mounts) and `container_volumes`, which must not mount
/// on the same path.
fn instance_volumes(
    r: &mut Reader,
    ctx: &Ctx<'_>,
    f: &Fields<'_>,
    iname: &str,
) -> (Vec<Bind>, Vec<String>) {
    let volumes = f
        .get("volumes")
        .map(|v| binds(r, v, &f.path("volumes"), ctx.schema))
        .unwrap_or_default();
    let path = f.path("container_volumes");
    let container_volumes = f
        .get("container_volumes")
        .and_then(|v| r.string_list(v, &path))
        .unwrap_or_default();
    for cv in &container_volumes {
        if volumes.iter().any(|b| &b.target == cv) {
            let at = f.get("container_volumes").unwrap_or(f.node);
            r.error(at, &path, format!("conflict in {iname} between bind-mounted volume and container-only volume on {cv}"));
        }
    }
    (volumes, container_volumes)
}

/// `links`: container -> alias; a null alias is the container's name.
fn instance_links(r: &mut Reader, f: &Fields<'_>) -> BTreeMap<String, String> {
    let mut links = BTreeMap::new();
    let Some(l) = f.get("links") else {
        return links;
    };
    let path = f.path("links");
    for (k, _, v) in r.entries(l, &path).unwrap_or_default() {
        let alias = if v.is_null() {
            Some(k.clone())
        } else {
            r.name(v, &join(&path, &k))
        };
        if let Some(a) = alias {
            links.insert(k, a);
        }
    }
    links
}

/// `extra_hosts`: host -> address, or `{ship: name}` for that ship's ip.
fn instance_extra_hosts(r: &mut Reader, ctx: &Ctx<'_>, f: &Fields<'_>) -> Vec<String> {
    let mut extra_hosts = Vec::new();
    let Some(h) = f.get("extra_hosts") else {
        return extra_hosts;
    };
    let path = f.path("extra_hosts");
    for (host, _, v) in r.entries(h, &path).unwrap_or_default() {
        let hp = join(&path, &host);
        let ip = match &v.value {
            Value::Map(_) => r
                .fields(v, &hp, &keys::names(keys::EXTRA_HOST))
                .and_then(|hf| {
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
    extra_hosts
}

/// `lxc_conf`: key -> value, as text.
fn instance_lxc_conf(r: &mut Reader, f: &Fields<'_>) -> BTreeMap<String, String> {
    let mut lxc_conf = BTreeMap::new();
    if let Some(l) = f.get("lxc_conf") {
        for (k, _, v) in r.entries(l, &f.path("lxc_conf")).unwrap_or_default() {
            lxc_conf.insert(k, options::scalar_string(v).unwrap_or_default());
        }
    }
    lxc_conf
}
