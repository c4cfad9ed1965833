//! Node tree -> `Environment`, collecting every error of the file: the
//! top level, then the checks across services and instances (dependencies,
//! cycles, `volumes_from`, host ports, variable names), then the container
//! environments and configuration hashes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use maestro_common as common;

use super::audit::parse_audit;
use super::container_env::{self, ContainerEnvs, EnvSources, EnvfileCache, ServiceEnv};
use super::container_options;
use super::error::ConfigError;
use super::keys;
use super::model::{Environment, Instance, Port, Protocol, Service};
use super::reader::{Reader, join};
use super::registry::parse_registries;
use super::secrets::Secrets;
use super::services::{Ctx, Extra, NameRef, ServiceExtra, parse_service, service_keys};
use super::ship::parse_ships;
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};
use crate::graph::{Graph, format_cycle};

/// The environment of the tree; each instance's configuration hash is
/// computed when `hashes` (see `LoadOptions`).
pub fn validate(
    root: &Node,
    base_dir: &Path,
    hashes: bool,
) -> Result<Environment, Vec<ConfigError>> {
    if !matches!(root.value, Value::Map(_) | Value::Null) {
        let msg = format!(
            "an environment file is a mapping of top-level keys (name, ships, services...), got {}",
            root.kind()
        );
        return Err(vec![root.error("", msg)]);
    }
    let mut r = Reader::default();
    let Some(top) = r.fields_with(root, "", &keys::names(keys::TOP), keys::free_top_key) else {
        return Err(r.errors);
    };
    let name = r.required(&top, "name").and_then(|n| r.name(n, "name"));
    let schema = top.get("__maestro").map_or(1, |m| schema(&mut r, m));
    if let Some(p) = top.get("ship_provider")
        && r.string(p, "ship_provider").is_some_and(|s| s != "static")
    {
        r.error(
            p,
            "ship_provider",
            "invalid ship provider; available providers: static",
        );
    }
    let registries = top
        .get("registries")
        .map(|n| parse_registries(&mut r, n))
        .unwrap_or_default();
    let ships = match r.required(&top, "ships") {
        Some(n) => parse_ships(&mut r, n, top.get("ship_defaults"), base_dir),
        None => BTreeMap::new(),
    };
    let secret_names = top
        .get("secret_names")
        .map(|n| super::secrets::parse_names(&mut r, n))
        .unwrap_or_else(|| Secrets::default().names);
    let audit = top
        .get("audit")
        .map(|n| parse_audit(&mut r, n, base_dir))
        .unwrap_or_default();

    let networks = top
        .get("networks")
        .map(|n| container_options::network_defs(&mut r, n))
        .unwrap_or_default();
    let volumes = top
        .get("volumes")
        .map(|n| container_options::volume_defs(&mut r, n))
        .unwrap_or_default();

    let mut services = BTreeMap::new();
    let mut instances: BTreeMap<String, Instance> = BTreeMap::new();
    let mut sextra: BTreeMap<String, ServiceExtra<'_>> = BTreeMap::new();
    let mut iextra: BTreeMap<String, Extra<'_>> = BTreeMap::new();
    let ship_names: BTreeSet<String> = top.get("ships").and_then(|n| n.keys()).unwrap_or_default();
    let service_names: BTreeSet<String> = top
        .get("services")
        .and_then(|n| n.keys())
        .unwrap_or_default();
    let ctx = Ctx {
        ships: &ships,
        ship_names: &ship_names,
        schema,
        base_dir,
        networks: &networks,
    };
    let entries = top
        .get("services")
        .map(|n| r.entries(n, "services").unwrap_or_default())
        .unwrap_or_default();
    let parsed = parse_services(&mut r, &ctx, &entries);
    for (sname, service, extra) in parsed.services {
        services.insert(sname.clone(), service);
        sextra.insert(sname, extra);
    }
    instances.extend(parsed.instances);
    iextra.extend(parsed.iextra);

    check_dependencies(&mut r, &mut services, &service_names, &sextra);
    check_volumes_from(&mut r, &mut services, &instances, &iextra);
    check_cycles(&mut r, root, &services, &sextra);
    check_port_conflicts(&mut r, &instances, &iextra);

    let Some(name) = name.filter(|_| r.errors.is_empty()) else {
        check_variable_names(&mut r, &services, &instances, &iextra);
        return Err(finish(r.errors));
    };
    // With many instances, the variables' names are checked on another
    // thread while the environments are computed here; these are used
    // only if the names are good.
    let mut sources = take_sources(&mut sextra, &mut iextra);
    let names = || {
        let mut names = Reader::default();
        check_variable_names(&mut names, &services, &instances, &iextra);
        names.errors
    };
    let mut compute = || compute_envs(&mut r, &name, &services, &instances, &mut sources);
    let (name_errors, envs) = if instances.len() < PARALLEL_SERVICES {
        (names(), compute())
    } else {
        on_two_threads("names", names, compute)
    };
    if !name_errors.is_empty() {
        return Err(finish(name_errors));
    }
    if hashes {
        hash_instances(&mut instances, &envs);
    }
    let secrets = Secrets {
        names: secret_names,
        services: sextra
            .iter()
            .filter(|(_, x)| !x.secrets.is_empty())
            .map(|(k, x)| (k.clone(), x.secrets.clone()))
            .collect(),
        instances: iextra
            .iter()
            .filter(|(_, x)| !x.secrets.is_empty())
            .map(|(k, x)| (k.clone(), x.secrets.clone()))
            .collect(),
    };
    if !r.errors.is_empty() {
        return Err(finish(r.errors));
    }
    Ok(Environment {
        name,
        schema,
        base_dir: base_dir.to_path_buf(),
        registries,
        ships,
        services,
        instances,
        audit,
        networks,
        volumes,
        envs,
        secrets,
    })
}

/// What the `services` part of the file reads as, services in file order.
#[derive(Default)]
struct Parsed<'n> {
    services: Vec<(String, Service, ServiceExtra<'n>)>,
    instances: BTreeMap<String, Instance>,
    iextra: BTreeMap<String, Extra<'n>>,
}

/// Instances from which the services are read on two threads: reading one
/// instance is some 15 microseconds, a thread some 50.
const PARALLEL_SERVICES: usize = 128;

/// Reads the services: the first ones (half of the instances) on another
/// thread, the rest here. Services are independent once the ships and
/// networks are known, except that an instance name may be used only once:
/// a file that repeats one is read on one thread, so that the repetition
/// is reported where it is, as always.
fn parse_services<'n>(
    r: &mut Reader,
    ctx: &Ctx<'_>,
    entries: &[(String, &'n Node, &'n Node)],
) -> Parsed<'n> {
    // Each service's instances, and whether a name comes back.
    let mut names = HashSet::new();
    let mut repeated = false;
    let counts: Vec<usize> = entries
        .iter()
        .map(|(_, _, s)| match s.child("instances").map(|i| &i.value) {
            Some(Value::Map(m)) => {
                repeated = repeated || !m.iter().all(|(k, _)| names.insert(k.text()));
                m.len()
            }
            _ => 0,
        })
        .collect();
    let total: usize = counts.iter().sum();
    if total < PARALLEL_SERVICES || repeated {
        return parse_some(r, ctx, entries);
    }
    let mut seen = 0;
    let half = counts
        .iter()
        .position(|c| {
            seen += c;
            seen * 2 >= total
        })
        .map_or(entries.len(), |i| i + 1);
    let (first, rest) = entries.split_at(half);
    let read = |part| {
        let mut reader = Reader::default();
        let parsed = parse_some(&mut reader, ctx, part);
        (reader, parsed)
    };
    let ((theirs, mut parsed), (mine, later)) =
        on_two_threads("services", || read(first), || read(rest));
    // In file order, as one thread would have reported and read them.
    r.errors.extend(theirs.errors);
    r.errors.extend(mine.errors);
    parsed.services.extend(later.services);
    parsed.instances.extend(later.instances);
    parsed.iextra.extend(later.iextra);
    parsed
}

/// Runs `other` on a thread named `name` while `here` runs on this one.
/// Without a thread (or should it fail), `other` runs here afterwards.
fn on_two_threads<A: Send, B>(
    name: &str,
    other: impl Fn() -> A + Sync,
    here: impl FnOnce() -> B,
) -> (A, B) {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn_scoped(scope, || {
                crate::heap::prepare_thread();
                other()
            });
        let b = here();
        let a = handle
            .ok()
            .and_then(|h| h.join().ok())
            .unwrap_or_else(&other);
        (a, b)
    })
}

fn parse_some<'n>(
    r: &mut Reader,
    ctx: &Ctx<'_>,
    entries: &[(String, &'n Node, &'n Node)],
) -> Parsed<'n> {
    let mut out = Parsed::default();
    for (sname, _, snode) in entries {
        let spath = join("services", sname);
        let Some(f) = r.fields(snode, &spath, service_keys()) else {
            continue;
        };
        let Some((service, extra)) =
            parse_service(r, ctx, sname, &f, &mut out.instances, &mut out.iextra)
        else {
            continue;
        };
        out.services.push((sname.clone(), service, extra));
    }
    out
}

/// `__maestro`: `{schema: 1 or 2}`; `base_dir` (set by MaestroNG's loader)
/// is accepted and ignored.
fn schema(r: &mut Reader, node: &Node) -> u8 {
    let Some(f) = r.fields(node, "__maestro", &keys::names(keys::MAESTRO)) else {
        return 1;
    };
    let Some(s) = f.get("schema") else { return 1 };
    match r.uint(s, "__maestro.schema") {
        Some(1) => 1,
        Some(2) | None => 2,
        Some(v) => {
            let msg = format!("unknown schema {v}; use 1 or 2");
            r.error(s, "__maestro.schema", msg);
            2
        }
    }
}

/// Every dependency cycle, reported at the `requires` entry that starts it.
fn check_cycles(
    r: &mut Reader,
    root: &Node,
    services: &BTreeMap<String, Service>,
    sextra: &BTreeMap<String, ServiceExtra<'_>>,
) {
    for cycle in service_graph(services, false).cycles() {
        let first = &cycle[0];
        let (node, path) = sextra
            .get(first)
            .and_then(|x| {
                let next = x.requires.iter().find(|n| cycle.get(1) == Some(&n.name));
                next.or(x.requires.first())
            })
            .map(|n| (n.node, n.path.clone()))
            .unwrap_or((root, join("services", first)));
        let msg = format!("dependency cycle: {}", format_cycle(&cycle));
        r.error(node, &path, msg);
    }
}

/// Instances from which the configuration hashes are computed on two
/// threads (a thread costs more than hashing a few instances).
const PARALLEL_HASHES: usize = 64;

fn hash_instances(instances: &mut BTreeMap<String, Instance>, envs: &ContainerEnvs) {
    let hash = |inst: &Instance| {
        let digest = envs
            .services
            .get(&inst.service)
            .map_or([0; 32], |s| s.digest);
        let user = envs
            .instances
            .get(&inst.name)
            .map_or(&[][..], Vec::as_slice);
        super::hash::config_hash(inst, &inst.ship.ip, &digest, user)
    };
    let part = |part: &[&Instance]| part.iter().map(|i| hash(i)).collect::<Vec<String>>();
    let all: Vec<&Instance> = instances.values().collect();
    let hashes = if all.len() < PARALLEL_HASHES {
        part(&all)
    } else {
        // Each hash is independent (a tenth of the time of `validate` on
        // one thread): the second half on another thread.
        let (mine, theirs) = all.split_at(all.len() / 2);
        let (rest, mut out) = on_two_threads("hash", || part(theirs), || part(mine));
        out.extend(rest);
        out
    };
    for (inst, h) in instances.values_mut().zip(hashes) {
        inst.config_hash = h;
    }
}

/// Errors in file order, each once (service-level settings are checked
/// once per instance).
fn finish(mut errors: Vec<ConfigError>) -> Vec<ConfigError> {
    let mut seen = BTreeSet::new();
    errors.retain(|e| seen.insert((e.line, e.column, e.path.clone(), e.message.clone())));
    errors.sort_by_key(|e| (e.line == 0, e.line, e.column));
    errors
}

fn check_dependencies(
    r: &mut Reader,
    services: &mut BTreeMap<String, Service>,
    declared: &BTreeSet<String>,
    sextra: &BTreeMap<String, ServiceExtra<'_>>,
) {
    for (sname, x) in sextra {
        for dep in x.requires.iter().chain(&x.wants_info) {
            // A declared but invalid service was reported where it is.
            if !declared.contains(&dep.name) {
                let hint = did_you_mean(&dep.name, declared.iter().map(String::as_str));
                let msg = format!(
                    "service dependency {} defined on {sname} does not exist{hint}",
                    dep.name
                );
                r.error(dep.node, &dep.path, msg);
            }
        }
    }
    // Unknown names were reported; keep the model consistent without them.
    let known: BTreeSet<String> = services.keys().cloned().collect();
    for s in services.values_mut() {
        s.requires.retain(|d| known.contains(d));
        s.wants_info.retain(|d| known.contains(d));
    }
}

fn check_volumes_from(
    r: &mut Reader,
    services: &mut BTreeMap<String, Service>,
    instances: &BTreeMap<String, Instance>,
    iextra: &BTreeMap<String, Extra<'_>>,
) {
    let mut extra_deps: Vec<(String, String)> = Vec::new();
    for (iname, x) in iextra {
        let Some(inst) = instances.get(iname) else {
            continue;
        };
        for NameRef {
            name: src,
            node,
            path,
        } in &x.volumes_from
        {
            let Some(source) = instances.get(src) else {
                let others = instances.keys().filter(|k| *k != iname);
                let hint = did_you_mean(src, others.map(String::as_str));
                r.error(
                    node,
                    path,
                    format!("unknown container {src} to get volumes from for {iname}{hint}"),
                );
                continue;
            };
            if source.ship != inst.ship {
                r.error(node, path, format!("{src} and {iname} must be on the same ship for volumes_from ({src} is on {}, {iname} on {})", source.ship, inst.ship));
                continue;
            }
            let mine: BTreeSet<&str> = inst
                .volumes
                .iter()
                .map(|b| b.target.as_str())
                .chain(inst.container_volumes.iter().map(String::as_str))
                .collect();
            let theirs: BTreeSet<&str> = source
                .volumes
                .iter()
                .map(|b| b.target.as_str())
                .chain(source.container_volumes.iter().map(String::as_str))
                .collect();
            let common: Vec<&str> = mine.intersection(&theirs).copied().collect();
            if !common.is_empty() {
                r.error(
                    node,
                    path,
                    format!(
                        "volume conflicts between {iname} and {src}: {}",
                        common.join(", ")
                    ),
                );
            }
            // Same service: no self-dependency (MaestroNG recursed forever).
            if source.service != inst.service {
                extra_deps.push((inst.service.clone(), source.service.clone()));
            }
        }
    }
    for (from, to) in extra_deps {
        if let Some(s) = services.get_mut(&from)
            && !s.volumes_from_services.contains(&to)
        {
            s.volumes_from_services.push(to);
            s.volumes_from_services.sort();
        }
    }
}

/// The service graph: `requires` only, or every ordering dependency
/// (`requires` and the services taken `volumes_from`).
pub fn service_graph(services: &BTreeMap<String, Service>, requires_only: bool) -> Graph {
    let mut g = Graph::new();
    for s in services.values() {
        g.add_node(&s.name);
        if requires_only {
            s.requires.iter().for_each(|d| g.add_edge(&s.name, d));
        } else {
            s.ordering_deps().for_each(|d| g.add_edge(&s.name, d));
        }
    }
    g
}

/// Two bindings of one ship on the same host port and protocol.
fn check_port_conflicts(
    r: &mut Reader,
    instances: &BTreeMap<String, Instance>,
    iextra: &BTreeMap<String, Extra<'_>>,
) {
    type Binding<'a> = (&'a Instance, &'a str, &'a Port);
    let mut by_ship: HashMap<(&str, Protocol), Vec<Binding<'_>>> = HashMap::new();
    for inst in instances.values() {
        for (pname, port) in &inst.ports {
            by_ship
                .entry((inst.ship.name.as_str(), port.protocol))
                .or_default()
                .push((inst, pname, port));
        }
    }
    let mut keys: Vec<_> = by_ship.keys().copied().collect();
    keys.sort();
    for key in keys {
        let mut list = by_ship.remove(&key).unwrap_or_default();
        list.sort_by_key(|(i, n, p)| (p.external.start, i.name.as_str(), *n));
        for (a_idx, (ai, an, ap)) in list.iter().enumerate() {
            for (bi, bn, bp) in &list[a_idx + 1..] {
                if bp.external.start > ap.external.end {
                    break;
                }
                let ips_clash = host_ips_clash(&ap.host_ip, &bp.host_ip);
                if !ips_clash || !ap.external.overlaps(&bp.external) {
                    continue;
                }
                let x = &iextra[&bi.name];
                let path = join(&join(&x.path, "ports"), bn);
                // At the port when the instance names it, else at the instance
                // (the port came from the service).
                let at = x
                    .node
                    .child("ports")
                    .and_then(|p| p.child(bn))
                    .unwrap_or(x.node);
                r.error(
                    at,
                    &path,
                    format!(
                        "host port {}/{} on ship {} is also bound by {}.ports.{an} ({}/{})",
                        bp.external,
                        key.1.as_str(),
                        key.0,
                        ai.name,
                        ap.external,
                        key.1.as_str()
                    ),
                );
            }
        }
    }
}

/// Two names that normalise to the same variable would overwrite each other.
fn check_variable_names(
    r: &mut Reader,
    services: &BTreeMap<String, Service>,
    instances: &BTreeMap<String, Instance>,
    iextra: &BTreeMap<String, Extra<'_>>,
) {
    // Who gives each variable, written out only for an error: a file of
    // thousands of instances has none, and tens of thousands of claims.
    #[derive(Clone, Copy)]
    enum Owner<'a> {
        Service(&'a str),
        Instance(&'a Instance),
        Port(&'a Instance, &'a str),
    }
    impl std::fmt::Display for Owner<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Owner::Service(s) => write!(f, "service {s}"),
                Owner::Instance(i) => write!(f, "instance {} of service {}", i.name, i.service),
                Owner::Port(i, p) => write!(
                    f,
                    "port {p} of instance {} of service {}",
                    i.name, i.service
                ),
            }
        }
    }
    fn claim<'a>(
        owners: &mut HashMap<String, Owner<'a>>,
        r: &mut Reader,
        var: String,
        owner: Owner<'a>,
        node: &Node,
        path: &dyn Fn() -> String,
    ) {
        if let Some(first) = owners.get(&var) {
            // The same owner may give one variable twice.
            if first.to_string() != owner.to_string() {
                r.error(
                    node,
                    &path(),
                    format!("{owner} and {first} both give the variable {var}; rename one"),
                );
            }
        } else {
            owners.insert(var, owner);
        }
    }
    let mut owners: HashMap<String, Owner<'_>> = HashMap::new();
    let owners = &mut owners;
    for s in services.values() {
        let Some(first) = s.instances.first().and_then(|i| iextra.get(i)) else {
            continue;
        };
        claim(
            owners,
            r,
            common::instances_var(&s.name),
            Owner::Service(&s.name),
            first.node,
            &|| join("services", &s.name),
        );
    }
    for i in instances.values() {
        let x = &iextra[&i.name];
        claim(
            owners,
            r,
            common::host_var(&i.service, &i.name),
            Owner::Instance(i),
            x.node,
            &|| x.path.clone(),
        );
        for pname in i.ports.keys() {
            let at = x
                .node
                .child("ports")
                .and_then(|p| p.child(pname))
                .unwrap_or(x.node);
            let path = || join(&join(&x.path, "ports"), pname);
            let owner = Owner::Port(i, pname);
            claim(
                owners,
                r,
                common::port_var(&i.service, &i.name, pname),
                owner,
                at,
                &path,
            );
            claim(
                owners,
                r,
                common::internal_port_var(&i.service, &i.name, pname),
                owner,
                at,
                &path,
            );
        }
    }
}

/// The variables given in the file (`env`, `envfile`) of each service
/// and of each instance, by name, taken out of what was read of them.
type Sources = (BTreeMap<String, EnvSources>, BTreeMap<String, EnvSources>);

fn take_sources(
    sextra: &mut BTreeMap<String, ServiceExtra<'_>>,
    iextra: &mut BTreeMap<String, Extra<'_>>,
) -> Sources {
    (
        sextra
            .iter_mut()
            .map(|(k, x)| (k.clone(), std::mem::take(&mut x.sources)))
            .collect(),
        iextra
            .iter_mut()
            .map(|(k, x)| (k.clone(), std::mem::take(&mut x.sources)))
            .collect(),
    )
}

fn compute_envs(
    r: &mut Reader,
    name: &str,
    services: &BTreeMap<String, Service>,
    instances: &BTreeMap<String, Instance>,
    (service_sources, instance_sources): &mut Sources,
) -> ContainerEnvs {
    // Link variables follow declared `requires` only (volumes_from adds
    // ordering, not variables), transitively; `wants_info` directly.
    let graph = service_graph(services, true);
    let mut cache = EnvfileCache::default();
    let mut envs = ContainerEnvs {
        environment_name: name.to_string(),
        ..Default::default()
    };
    for s in services.values() {
        let insts: Vec<&Instance> = s
            .instances
            .iter()
            .filter_map(|i| instances.get(i))
            .collect();
        let mut deps: BTreeSet<String> = graph.closure(&s.name);
        deps.extend(s.wants_info.iter().cloned());
        deps.remove(&s.name);
        let user = service_sources
            .get_mut(&s.name)
            .map(|x| cache.resolve(r, x))
            .unwrap_or_default();
        let senv = ServiceEnv {
            user,
            links: container_env::link_vars(&s.name, &insts),
            deps: deps.into_iter().collect(),
            ..Default::default()
        };
        envs.services.insert(s.name.clone(), senv);
    }
    envs.seal();
    for (iname, x) in instance_sources.iter_mut() {
        envs.instances.insert(iname.clone(), cache.resolve(r, x));
    }
    envs
}

/// Whether two host addresses of one host port overlap: the same address,
/// or a wildcard and an address of its family (`0.0.0.0` for IPv4, `::`
/// for IPv6; an empty address is both). `0.0.0.0` and `::` do not clash:
/// Docker itself binds both for one port when given no address.
fn host_ips_clash(a: &str, b: &str) -> bool {
    let v6 = |ip: &str| ip.contains(':');
    let wildcard_of = |w: &str, ip: &str| match w {
        "" => true,
        "0.0.0.0" => !v6(ip),
        "::" => v6(ip),
        _ => false,
    };
    a == b || wildcard_of(a, b) || wildcard_of(b, a)
}
