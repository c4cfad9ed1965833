//! What the ships hold now: one container list request per ship involved,
//! all ships in parallel, matched to instances by container name (the
//! instance name, as MaestroNG names containers).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Environment;
use crate::docker::Docker;
use crate::docker::models::ContainerSummary;

/// What was seen of one instance's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Absent,
    Container(Container),
    /// The ship did not answer; the reason, naming the ship.
    HostDown(String),
}

/// The parts of a container the plan and `status` decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    /// The image reference it was created from.
    pub image: String,
    pub running: bool,
    /// `created`, `running`, `exited`, ...
    pub state: String,
    /// Seconds since it started (running) or stopped (not running), from
    /// the daemon's status text; `None` when it does not say.
    pub for_secs: Option<u64>,
    /// The `maestro.config-hash` label, when maestro created it.
    pub config_hash: Option<String>,
    /// The exit code of a container that ran and exited (Docker's
    /// `State.ExitCode`, as the list's status text shows it).
    pub exit_code: Option<i64>,
}

impl Container {
    /// `tag:shortid`, MaestroNG's CONTAINER column.
    pub fn display(&self) -> String {
        container_display(&self.image, &self.id)
    }

    /// A one-shot's container that ran to completion (exited 0) from the
    /// configuration whose hash is `config_hash`: nothing left to do.
    pub fn completed(&self, config_hash: &str) -> bool {
        one_shot_done(
            self.running,
            &self.state,
            self.exit_code,
            self.config_hash.as_deref(),
            config_hash,
        )
    }

    fn from_summary(s: &ContainerSummary) -> Self {
        Container {
            id: s.id.clone(),
            image: s.image.clone(),
            // Docker counts a paused or restarting container as running
            // (`State.Running`), and so did MaestroNG: start leaves it be.
            running: matches!(s.state.as_str(), "running" | "restarting" | "paused"),
            state: s.state.clone(),
            for_secs: status_secs(&s.status),
            config_hash: s
                .labels
                .as_ref()
                .and_then(|l| l.get(crate::labels::CONFIG_HASH))
                .cloned(),
            exit_code: exit_code(&s.status),
        }
    }
}

/// Whether a container is a completed one-shot run: exited with code 0,
/// created from the configuration hashed `want`.
pub fn one_shot_done(
    running: bool,
    state: &str,
    exit_code: Option<i64>,
    label: Option<&str>,
    want: &str,
) -> bool {
    !running && state == "exited" && exit_code == Some(0) && label == Some(want)
}

/// The exit code in the daemon's status text of an exited container
/// (`Exited (3) 2 minutes ago`): the list carries it, so a one-shot's
/// outcome costs no inspect.
pub fn exit_code(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest.split_once(')')?.0.trim().parse().ok()
}

/// `tag:shortid` of an image reference and a container id.
pub fn container_display(image: &str, id: &str) -> String {
    let (_, tag) = maestro_common::image_details(image);
    let short: String = id.chars().take(7).collect();
    format!("{tag}:{short}")
}

/// Every selected instance's container, by instance name.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub seen: BTreeMap<String, Seen>,
}

impl Observed {
    pub fn get(&self, instance: &str) -> &Seen {
        self.seen.get(instance).unwrap_or(&Seen::Absent)
    }
}

/// Lists the containers of every ship that holds a selected instance, one
/// request per ship, ships in parallel. `dockers` has a client per ship
/// name (or an error text for ships whose client could not be built).
pub fn observe(
    env: &Environment,
    selected: &BTreeSet<String>,
    dockers: &BTreeMap<String, Result<Docker, String>>,
) -> Observed {
    observe_limited(env, selected, dockers, 0)
}

/// [`observe`] with at most `limit` list requests in flight (0: every ship
/// at once), for `status -c`.
pub fn observe_limited(
    env: &Environment,
    selected: &BTreeSet<String>,
    dockers: &BTreeMap<String, Result<Docker, String>>,
    limit: usize,
) -> Observed {
    let mut by_ship: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for name in selected {
        if let Some(i) = env.instances.get(name) {
            by_ship.entry(i.ship.name.as_str()).or_default().push(name);
        }
    }
    let ships: Vec<&str> = by_ship.keys().copied().collect();
    let lists = at_most(&ships, limit, |&ship| match dockers.get(ship) {
        Some(Ok(d)) => d
            .containers(true, &Default::default())
            .map_err(|e| e.to_string()),
        Some(Err(e)) => Err(e.clone()),
        None => Err(format!("ship `{ship}` has no client")),
    });
    let mut seen = BTreeMap::new();
    for (ship, result) in ships.iter().zip(lists) {
        let names = by_ship.get(ship).cloned().unwrap_or_default();
        let result =
            result.unwrap_or_else(|| Err("internal error: listing the containers panicked".into()));
        match result {
            Ok(list) => {
                for name in names {
                    let found = list
                        .iter()
                        .find(|c| c.names.iter().any(|n| n.trim_start_matches('/') == name));
                    let state = found.map_or(Seen::Absent, |c| {
                        Seen::Container(Container::from_summary(c))
                    });
                    seen.insert(name.to_string(), state);
                }
            }
            Err(e) => {
                for name in names {
                    seen.insert(name.to_string(), Seen::HostDown(e.clone()));
                }
            }
        }
    }
    Observed { seen }
}

/// `work` over `items` on at most `limit` threads at once (0: one thread
/// per item); the results in the items' order, `None` where `work`
/// panicked.
pub(crate) fn at_most<T: Sync, R: Send>(
    items: &[T],
    limit: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    let threads = if limit == 0 {
        items.len()
    } else {
        limit.min(items.len())
    };
    let next = AtomicUsize::new(0);
    let done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return out;
                        };
                        out.push((i, work(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    for (i, r) in done {
        results[i] = Some(r);
    }
    results
}

/// How long a port may take to accept a connection when probed.
const PORT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// A named port of an instance and whether it accepted a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortState {
    pub name: String,
    /// The host side: `9092` or `7000-7002`.
    pub port: String,
    pub protocol: crate::config::model::Protocol,
    /// Accepted a TCP connection (never for UDP, ranges or an instance that
    /// is not running, which are not probed).
    pub up: bool,
}

/// Connects to every TCP port of every running instance at its ship's
/// address (`(address, instance, running)`), all at once, each with a
/// short timeout; the states in the same order. UDP cannot be probed.
pub fn probe_ports(
    targets: &[(&str, &crate::config::model::Instance, bool)],
) -> Vec<Vec<PortState>> {
    use crate::config::model::Protocol;
    std::thread::scope(|s| {
        let handles: Vec<Vec<_>> = targets
            .iter()
            .map(|&(ip, instance, running)| {
                instance
                    .ports
                    .iter()
                    .map(|(name, p)| {
                        let port = p.external;
                        let probe = running && p.protocol == Protocol::Tcp && !port.is_range();
                        let handle = probe.then(|| s.spawn(move || reachable(ip, port.start)));
                        (name, p, handle)
                    })
                    .collect()
            })
            .collect();
        handles
            .into_iter()
            .map(|ports| {
                ports
                    .into_iter()
                    .map(|(name, p, handle)| PortState {
                        name: name.clone(),
                        port: p.external.to_string(),
                        protocol: p.protocol,
                        up: handle.is_some_and(|h| h.join().unwrap_or(false)),
                    })
                    .collect()
            })
            .collect()
    })
}

fn reachable(ip: &str, port: u16) -> bool {
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
    let addrs: Vec<SocketAddr> = (ip, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .unwrap_or_default();
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, PORT_TIMEOUT).is_ok())
}

/// Seconds from the daemon's status text (`Up 3 minutes`, `Exited (0) 2
/// hours ago`, `Up About a minute (healthy)`), as Docker's `HumanDuration`
/// words them. Coarse (the list call has no timestamps) but it costs no
/// request per container.
pub fn status_secs(status: &str) -> Option<u64> {
    let rest = if let Some(r) = status.strip_prefix("Up ") {
        r
    } else if let Some(r) = status.strip_prefix("Exited (") {
        r.split_once(") ")?
            .1
            .strip_suffix(" ago")
            .or(Some(r.split_once(") ")?.1))?
    } else {
        return None;
    };
    let rest = rest.split(" (").next().unwrap_or(rest).trim();
    let rest = rest.strip_suffix(" ago").unwrap_or(rest);
    match rest {
        "Less than a second" => return Some(0),
        "About a minute" => return Some(60),
        "About an hour" => return Some(3600),
        _ => {}
    }
    let (n, unit) = rest.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let mult = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        "month" => 30 * 86_400,
        "year" => 365 * 86_400,
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_from_the_status_text() {
        assert_eq!(exit_code("Exited (0) 5 seconds ago"), Some(0));
        assert_eq!(exit_code("Exited (137) About a minute ago"), Some(137));
        assert_eq!(exit_code("Exited (3) Less than a second ago"), Some(3));
        assert_eq!(exit_code("Up 3 minutes"), None);
        assert_eq!(exit_code("Created"), None);
        assert_eq!(exit_code("Exited (x)"), None);
    }

    #[test]
    fn a_one_shot_is_done_when_it_exited_0_from_the_same_configuration() {
        assert!(one_shot_done(false, "exited", Some(0), Some("h"), "h"));
        assert!(!one_shot_done(false, "exited", Some(3), Some("h"), "h"));
        assert!(!one_shot_done(false, "exited", Some(0), Some("old"), "h"));
        assert!(!one_shot_done(false, "exited", Some(0), None, "h"));
        assert!(!one_shot_done(true, "running", None, Some("h"), "h"));
        assert!(!one_shot_done(false, "created", None, Some("h"), "h"));
    }

    #[test]
    fn at_most_keeps_the_limit_and_the_order() {
        use std::time::Duration;
        let items: Vec<usize> = (0..12).collect();
        for limit in [1, 3, 0] {
            let (now, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
            let out = at_most(&items, limit, |&i| {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                now.fetch_sub(1, Ordering::SeqCst);
                i * 10
            });
            let want: Vec<Option<usize>> = items.iter().map(|i| Some(i * 10)).collect();
            assert_eq!(out, want);
            let peak = peak.load(Ordering::SeqCst);
            assert!(
                peak <= if limit == 0 { 12 } else { limit },
                "{limit}: {peak}"
            );
            if limit == 1 {
                assert_eq!(peak, 1);
            }
        }
    }

    #[test]
    fn every_instance_of_a_ship_without_a_client_is_host_down() {
        let env = crate::config::load_str(
            "name: t\nships:\n  a: {ip: 127.0.0.1}\n  b: {ip: 127.0.0.2}\n  c: {ip: 127.0.0.3}\nservices:\n  s:\n    image: x\n    instances:\n      s-1: {ship: a}\n      s-2: {ship: b}\n      s-3: {ship: c}\n      s-4: {ship: a}\n",
            std::path::Path::new("/tmp"),
        )
        .unwrap();
        let selected: BTreeSet<String> = env.instances.keys().cloned().collect();
        let dockers: BTreeMap<String, Result<Docker, String>> = ["a", "b"]
            .iter()
            .map(|s| (s.to_string(), Err(format!("{s} is broken"))))
            .collect();
        let seen = observe_limited(&env, &selected, &dockers, 1);
        assert_eq!(seen.get("s-1"), &Seen::HostDown("a is broken".into()));
        assert_eq!(seen.get("s-4"), &Seen::HostDown("a is broken".into()));
        assert_eq!(seen.get("s-2"), &Seen::HostDown("b is broken".into()));
        assert_eq!(
            seen.get("s-3"),
            &Seen::HostDown("ship `c` has no client".into())
        );
    }

    #[test]
    fn status_words_to_seconds() {
        assert_eq!(status_secs("Up 3 minutes"), Some(180));
        assert_eq!(status_secs("Up About a minute (healthy)"), Some(60));
        assert_eq!(status_secs("Up Less than a second"), Some(0));
        assert_eq!(status_secs("Up 2 hours (Paused)"), Some(7200));
        assert_eq!(status_secs("Exited (0) 2 hours ago"), Some(7200));
        assert_eq!(status_secs("Exited (137) 5 seconds ago"), Some(5));
        assert_eq!(status_secs("Created"), None);
        assert_eq!(status_secs("Up 1 second"), Some(1));
    }

    #[test]
    fn container_column() {
        assert_eq!(
            container_display("maestro-lab/box:1", "0123456789abcdef"),
            "1:0123456"
        );
        assert_eq!(container_display("busybox", "abc"), "latest:abc");
    }
}
