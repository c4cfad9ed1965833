//! Which instances a command works on: the one resolver of the "things"
//! of the command line, for every command. Things resolve as MaestroNG
//! 0.8.3 resolves them (reference 7.1), with its quirks fixed (filters also
//! apply when no things are given).
//!
//! - A thing is tried as an instance (container) name first, then as a
//!   service name; neither is a usage error with a suggestion.
//! - `stop`, `kill` and `restart` expand a service to its instances only
//!   with `-s/--expand-services` (or `-a/--all`, which implies it), and
//!   need `-a` to act on everything when no things are given.
//! - No things: every service (`status` and `dump` include `omit`
//!   services, other commands leave them out), with `-d` implied unless
//!   `-i` is given; `logs` needs things.
//! - `-d` adds the instances of every service the selected ones depend on
//!   (start, pull, clean, status; always for dump) or that depends on them
//!   (stop, kill, restart). `deptree` and `logs` take the things as named.
//! - `-C` (instance glob) and `-S` (ship glob) filter the final set.

use std::collections::{BTreeSet, HashMap};

use crate::scheduler::Deps;

use super::fnmatch::fnmatch;
use crate::config::Environment;
use crate::config::validate::service_graph;
use crate::graph::Graph;

/// The commands, as far as selection cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Stop,
    Kill,
    Clean,
    Status,
    Restart,
    Pull,
    Logs,
    Dump,
    Deptree,
}

impl Verb {
    pub fn name(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Kill => "kill",
            Verb::Clean => "clean",
            Verb::Status => "status",
            Verb::Restart => "restart",
            Verb::Pull => "pull",
            Verb::Logs => "logs",
            Verb::Dump => "dump",
            Verb::Deptree => "deptree",
        }
    }

    /// Stop and kill work dependents first and guard against acting on a
    /// whole service by accident.
    pub fn is_reverse(self) -> bool {
        matches!(self, Verb::Stop | Verb::Kill)
    }

    /// Stop, kill and restart interrupt running services: they refuse a
    /// service name without `-s` and "no things" without `-a`, and `-d`
    /// adds what depends on the things (MaestroNG's `needed_for`). Restart
    /// still runs forward (dependencies first, #186).
    pub fn interrupts(self) -> bool {
        matches!(self, Verb::Stop | Verb::Kill | Verb::Restart)
    }

    /// Without things, `omit: true` services are part of it too.
    fn includes_omitted(self) -> bool {
        matches!(self, Verb::Status | Verb::Dump)
    }
}

/// The selection flags of the command line.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub things: Vec<String>,
    pub with_dependencies: bool,
    pub ignore_dependencies: bool,
    pub expand_services: bool,
    pub all: bool,
    pub container_filter: Option<String>,
    pub ship_filter: Option<String>,
}

impl Request {
    /// Just these things, no flags.
    pub fn things(things: &[String]) -> Self {
        Request {
            things: things.to_vec(),
            ..Request::default()
        }
    }
}

/// Why the things could not be resolved. `Usage` errors exit 2, `Refused`
/// (MaestroNG's safety errors) exit 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    Usage(String),
    Refused(String),
}

impl SelectError {
    pub fn exit_status(&self) -> crate::exit::ExitStatus {
        match self {
            SelectError::Usage(_) => crate::exit::ExitStatus::Error,
            SelectError::Refused(_) => crate::exit::ExitStatus::Failure,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.exit_status().code()
    }

    pub fn message(&self) -> &str {
        match self {
            SelectError::Usage(m) | SelectError::Refused(m) => m,
        }
    }
}

/// What a command works on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The instances, by name: the input order of plans (the scheduler
    /// orders rows itself).
    pub names: BTreeSet<String>,
    /// The same instances in dependency order (services in dependency
    /// order, ties by name, then instances by name): the order of
    /// `status`, `pull`, `dump` and `logs`.
    pub ordered: Vec<String>,
    /// The services the things name, and those of the selected instances
    /// (`deptree`).
    pub services: BTreeSet<String>,
}

impl Selection {
    pub fn contains(&self, instance: &str) -> bool {
        self.names.contains(instance)
    }
}

/// Resolves the request for `verb`.
pub fn select(env: &Environment, verb: Verb, req: &Request) -> Result<Selection, SelectError> {
    let Named {
        mut chosen,
        mut services,
        deps_without_things,
    } = resolve_things(env, verb, req)?;
    let with_deps = match verb {
        Verb::Dump => true,
        Verb::Deptree | Verb::Logs => false,
        // `-d` gathers the dependencies even with `-i`, which only drops
        // the waiting (MaestroNG: `start -d -i kafka` starts zookeeper and
        // kafka at once).
        _ => deps_without_things.unwrap_or(req.with_dependencies),
    };
    let graph = service_graph(&env.services, false);
    if with_deps {
        for s in related_services(env, &graph, verb, &chosen) {
            if let Some(svc) = env.services.get(&s) {
                chosen.extend(svc.instances.iter().cloned());
                services.insert(s);
            }
        }
    }
    chosen.retain(|name| {
        env.instances.get(name).is_some_and(|i| {
            req.container_filter
                .as_deref()
                .is_none_or(|p| fnmatch(p, &i.name))
                && req
                    .ship_filter
                    .as_deref()
                    .is_none_or(|p| fnmatch(p, &i.ship.name))
        })
    });
    // A validated environment has no cycle; were there one, name order.
    let service_order = graph
        .order()
        .unwrap_or_else(|_| env.services.keys().cloned().collect());
    let ordered = service_order
        .iter()
        .filter_map(|s| env.services.get(s))
        .flat_map(|s| s.instances.iter())
        .filter(|i| chosen.contains(*i))
        .cloned()
        .collect();
    Ok(Selection {
        names: chosen,
        ordered,
        services,
    })
}

/// What the things name.
struct Named {
    chosen: BTreeSet<String>,
    services: BTreeSet<String>,
    /// With no things, whether dependencies come along (MaestroNG: then
    /// `-d` is forced on unless `-i` is given).
    deps_without_things: Option<bool>,
}

/// The instances and services the things name; when there are none,
/// every service.
fn resolve_things(env: &Environment, verb: Verb, req: &Request) -> Result<Named, SelectError> {
    let mut chosen = BTreeSet::new();
    let mut services = BTreeSet::new();
    if req.things.is_empty() {
        if verb == Verb::Logs {
            return Err(SelectError::Usage(
                "logs needs at least one service or container".into(),
            ));
        }
        if verb.interrupts() && !req.all {
            return Err(SelectError::Refused(format!(
                "No services or containers specified for {}, and --all not set.",
                verb.name()
            )));
        }
        for s in env.services.values() {
            if verb.includes_omitted() || !s.omit {
                chosen.extend(s.instances.iter().cloned());
                services.insert(s.name.clone());
            }
        }
        return Ok(Named {
            chosen,
            services,
            deps_without_things: Some(!req.ignore_dependencies),
        });
    }
    let expand = req.expand_services || req.all || !verb.interrupts();
    for thing in &req.things {
        if let Some(i) = env.instances.get(thing) {
            chosen.insert(thing.clone());
            services.insert(i.service.clone());
        } else if let Some(s) = env.services.get(thing) {
            if !expand {
                return Err(SelectError::Refused(format!(
                    "{thing} is a service but --expand-services was not specified"
                )));
            }
            chosen.extend(s.instances.iter().cloned());
            services.insert(s.name.clone());
        } else {
            return Err(SelectError::Usage(env.unknown_thing(thing)));
        }
    }
    Ok(Named {
        chosen,
        services,
        deps_without_things: None,
    })
}

/// The services the chosen instances' services depend on (forward verbs)
/// or that depend on them (stop, kill, restart), transitively.
fn related_services(
    env: &Environment,
    graph: &Graph,
    verb: Verb,
    chosen: &BTreeSet<String>,
) -> BTreeSet<String> {
    let of_chosen: BTreeSet<&str> = chosen
        .iter()
        .filter_map(|i| env.instances.get(i))
        .map(|i| i.service.as_str())
        .collect();
    let mut related = BTreeSet::new();
    for s in of_chosen {
        if verb.interrupts() {
            related.extend(graph.reverse_closure(s));
        } else {
            related.extend(graph.closure(s));
        }
    }
    related
}

/// For each selected instance, the selected instances it must wait for
/// (in forward terms): the instances of every service in its service's
/// transitive dependencies that are part of the play. With
/// `ignore_dependencies` nothing waits.
pub fn dependencies(
    env: &Environment,
    selected: &BTreeSet<String>,
    ignore_dependencies: bool,
) -> Vec<(String, Deps)> {
    let graph = service_graph(&env.services, false);
    // One list per service, shared by its instances (and so one barrier in
    // the scheduler): lists of all the instances of whole services would
    // otherwise be copied into each of their dependents. An instance never
    // waits for itself, so a service in its own closure (a cycle, refused
    // by validation) gets a list per instance.
    let mut by_service: HashMap<&str, Deps> = HashMap::new();
    let none = Deps::from(Vec::new());
    selected
        .iter()
        .map(|name| {
            let Some(i) = env.instances.get(name).filter(|_| !ignore_dependencies) else {
                return (name.clone(), none.clone());
            };
            let list = |services: &BTreeSet<String>| -> Deps {
                selected
                    .iter()
                    .filter(|other| {
                        env.instances
                            .get(*other)
                            .is_some_and(|o| o.name != i.name && services.contains(&o.service))
                    })
                    .cloned()
                    .collect()
            };
            let deps = match by_service.get(i.service.as_str()) {
                Some(shared) => shared.clone(),
                None => {
                    let services = graph.closure(&i.service);
                    let deps = list(&services);
                    if !services.contains(&i.service) {
                        by_service.insert(i.service.as_str(), deps.clone());
                    }
                    deps
                }
            };
            (name.clone(), deps)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "name: t
ships:
  ship1: {ip: 10.213.0.1}
  ship2: {ip: 10.213.0.2}
services:
  zk:
    image: zk
    instances: {zk-1: {ship: ship1}, zk-2: {ship: ship2}}
  kafka:
    image: kafka
    requires: [zk]
    instances: {kafka-1: {ship: ship1}}
  web:
    image: web
    requires: [kafka]
    instances: {web-a: {ship: ship1}, web-b: {ship: ship2}}
  webapp1:
    image: web
    instances: {webapp1-a: {ship: ship1}, webapp1-b: {ship: ship2}}
  tools:
    image: tools
    omit: true
    instances: {tools-1: {ship: ship1}}
  needs-tools:
    image: x
    omit: true
    requires: [tools]
    instances: {nt-1: {ship: ship2}}
";

    fn env() -> Environment {
        crate::config::load_str(ENV, std::path::Path::new(".")).unwrap()
    }

    fn sel(verb: Verb, req: Request) -> Result<Vec<String>, SelectError> {
        select(&env(), verb, &req).map(|s| s.names.into_iter().collect())
    }

    fn things(t: &[&str]) -> Request {
        Request {
            things: t.iter().map(|s| s.to_string()).collect(),
            ..Request::default()
        }
    }

    #[test]
    fn case31_stop_safety() {
        let e = sel(Verb::Stop, Request::default()).unwrap_err();
        assert_eq!(
            e,
            SelectError::Refused(
                "No services or containers specified for stop, and --all not set.".into()
            )
        );
        assert_eq!(e.exit_code(), 1);
        let e = sel(Verb::Kill, things(&["web"])).unwrap_err();
        assert_eq!(
            e.message(),
            "web is a service but --expand-services was not specified"
        );
        // An instance needs no flag; -s expands; -a means everything.
        assert_eq!(sel(Verb::Stop, things(&["web-a"])).unwrap(), ["web-a"]);
        let s = Request {
            expand_services: true,
            ..things(&["web"])
        };
        assert_eq!(sel(Verb::Stop, s).unwrap(), ["web-a", "web-b"]);
        let all = Request {
            all: true,
            ..Request::default()
        };
        assert_eq!(
            sel(Verb::Stop, all).unwrap(),
            [
                "kafka-1",
                "web-a",
                "web-b",
                "webapp1-a",
                "webapp1-b",
                "zk-1",
                "zk-2"
            ]
        );
        // -a lets service names expand too.
        let a = Request {
            all: true,
            ..things(&["webapp1"])
        };
        assert_eq!(sel(Verb::Stop, a).unwrap(), ["webapp1-a", "webapp1-b"]);
    }

    #[test]
    fn case32_omit() {
        let start = sel(Verb::Start, Request::default()).unwrap();
        assert!(!start.contains(&"tools-1".to_string()));
        assert!(!start.contains(&"nt-1".to_string()));
        let status = sel(Verb::Status, Request::default()).unwrap();
        assert!(status.contains(&"tools-1".to_string()));
        assert!(status.contains(&"nt-1".to_string()));
        assert_eq!(sel(Verb::Start, things(&["tools"])).unwrap(), ["tools-1"]);
        // An omitted service comes along when something needs it.
        let d = Request {
            with_dependencies: true,
            ..things(&["nt-1"])
        };
        assert_eq!(sel(Verb::Start, d).unwrap(), ["nt-1", "tools-1"]);
    }

    #[test]
    fn case34_filters() {
        let c = |p: &str| Some(p.to_string());
        let r = Request {
            container_filter: c("*-a"),
            ..things(&["web"])
        };
        assert_eq!(sel(Verb::Status, r).unwrap(), ["web-a"]);
        let r = Request {
            ship_filter: c("ship*2"),
            ..things(&["web"])
        };
        assert_eq!(sel(Verb::Status, r).unwrap(), ["web-b"]);
        let r = Request {
            container_filter: c("*-b"),
            ship_filter: c("ship*2"),
            ..things(&["web", "webapp1"])
        };
        assert_eq!(sel(Verb::Status, r).unwrap(), ["web-b", "webapp1-b"]);
    }

    #[test]
    fn filters_apply_without_things() {
        // MaestroNG ignored -C/-S here and acted on everything.
        let r = Request {
            container_filter: Some("web*".into()),
            ..Request::default()
        };
        assert_eq!(
            sel(Verb::Start, r).unwrap(),
            ["web-a", "web-b", "webapp1-a", "webapp1-b"]
        );
        let r = Request {
            ship_filter: Some("ship2".into()),
            all: true,
            ..Request::default()
        };
        assert_eq!(sel(Verb::Stop, r).unwrap(), ["web-b", "webapp1-b", "zk-2"]);
    }

    #[test]
    fn dependencies_follow_the_direction() {
        let d = Request {
            with_dependencies: true,
            ..things(&["kafka-1"])
        };
        assert_eq!(
            sel(Verb::Start, d.clone()).unwrap(),
            ["kafka-1", "zk-1", "zk-2"]
        );
        assert_eq!(sel(Verb::Stop, d).unwrap(), ["kafka-1", "web-a", "web-b"]);
        // No things: -d implied unless -i; -i keeps only the things.
        let i = Request {
            ignore_dependencies: true,
            ..things(&["web-a"])
        };
        assert_eq!(sel(Verb::Start, i).unwrap(), ["web-a"]);
        assert_eq!(sel(Verb::Start, things(&["web-a"])).unwrap(), ["web-a"]);
        // -d -i: the dependencies come along, nothing waits for them.
        let di = Request {
            with_dependencies: true,
            ignore_dependencies: true,
            ..things(&["kafka-1"])
        };
        assert_eq!(
            sel(Verb::Start, di.clone()).unwrap(),
            ["kafka-1", "zk-1", "zk-2"]
        );
        assert_eq!(sel(Verb::Stop, di).unwrap(), ["kafka-1", "web-a", "web-b"]);
    }

    #[test]
    fn dependency_order_and_services_for_every_command() {
        let e = env();
        let all = select(&e, Verb::Dump, &Request::default()).unwrap();
        assert_eq!(
            all.ordered,
            [
                "tools-1",
                "nt-1",
                "webapp1-a",
                "webapp1-b",
                "zk-1",
                "zk-2",
                "kafka-1",
                "web-a",
                "web-b"
            ]
        );
        // dump: a thing brings what it depends on, omitted or not.
        let nt = select(&e, Verb::Dump, &things(&["nt-1"])).unwrap();
        assert_eq!(nt.ordered, ["tools-1", "nt-1"]);
        // deptree: the services named, and those of named instances.
        let d = select(&e, Verb::Deptree, &things(&["web-a", "zk"])).unwrap();
        assert_eq!(d.services.into_iter().collect::<Vec<_>>(), ["web", "zk"]);
        let d = select(&e, Verb::Deptree, &Request::default()).unwrap();
        assert!(!d.services.contains("tools") && d.services.contains("kafka"));
        // logs: the things as named, in dependency order; none is an error.
        let l = select(&e, Verb::Logs, &things(&["web", "zk-2"])).unwrap();
        assert_eq!(l.ordered, ["zk-2", "web-a", "web-b"]);
        let err = select(&e, Verb::Logs, &Request::default()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.message(),
            "logs needs at least one service or container"
        );
    }

    #[test]
    fn unknown_things_are_usage_errors_with_a_hint() {
        let e = sel(Verb::Start, things(&["kafak"])).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.message()
                .contains("kafak is neither a service nor a container")
        );
        assert!(e.message().contains("kafka"), "{}", e.message());
    }

    #[test]
    fn waits_are_transitive_within_the_play() {
        let e = env();
        let selected: BTreeSet<String> = ["zk-1", "zk-2", "web-a", "webapp1-a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let deps = dependencies(&e, &selected, false);
        let of = |n: &str| deps.iter().find(|(i, _)| i == n).unwrap().1.clone();
        // web requires kafka requires zk: kafka is not in the play, zk is.
        assert_eq!(*of("web-a"), ["zk-1", "zk-2"]);
        assert!(of("zk-1").is_empty());
        assert!(of("webapp1-a").is_empty());
        assert!(
            dependencies(&e, &selected, true)
                .iter()
                .all(|(_, d)| d.is_empty())
        );
    }

    #[test]
    fn the_instances_of_a_service_share_one_list() {
        let e = env();
        let selected: BTreeSet<String> = ["zk-1", "zk-2", "kafka-1", "web-a", "web-b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let deps = dependencies(&e, &selected, false);
        let of = |n: &str| deps.iter().find(|(i, _)| i == n).unwrap().1.clone();
        assert_eq!(*of("web-a"), ["kafka-1", "zk-1", "zk-2"]);
        // One list, not a copy per instance: the scheduler joins web-a and
        // web-b to their dependencies through one barrier.
        assert!(std::sync::Arc::ptr_eq(&of("web-a"), &of("web-b")));
        assert!(!std::sync::Arc::ptr_eq(&of("web-a"), &of("kafka-1")));
    }
}
