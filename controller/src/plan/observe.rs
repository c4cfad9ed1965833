//! What the ships hold now: one container list request per ship involved,
//! all ships in parallel, matched to instances by container name (the
//! instance name, as MaestroNG names containers).

use std::collections::{BTreeMap, BTreeSet};

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
}

impl Container {
    /// `tag:shortid`, MaestroNG's CONTAINER column.
    pub fn display(&self) -> String {
        container_display(&self.image, &self.id)
    }

    fn from_summary(s: &ContainerSummary) -> Self {
        Container {
            id: s.id.clone(),
            image: s.image.clone(),
            running: s.state == "running",
            state: s.state.clone(),
            for_secs: status_secs(&s.status),
            config_hash: s
                .labels
                .as_ref()
                .and_then(|l| l.get(crate::exec::container_spec::LABEL_CONFIG_HASH))
                .cloned(),
        }
    }
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
    let mut by_ship: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for name in selected {
        if let Some(i) = env.instances.get(name) {
            by_ship.entry(i.ship.as_str()).or_default().push(name);
        }
    }
    let lists: Vec<(&str, Result<Vec<ContainerSummary>, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = by_ship
            .keys()
            .map(|&ship| {
                s.spawn(move || {
                    let result = match dockers.get(ship) {
                        Some(Ok(d)) => d
                            .containers(true, &Default::default())
                            .map_err(|e| e.to_string()),
                        Some(Err(e)) => Err(e.clone()),
                        None => Err(format!("ship `{ship}` has no client")),
                    };
                    (ship, result)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or(("", Err("internal error: listing panicked".into())))
            })
            .collect()
    });
    let mut seen = BTreeMap::new();
    for (ship, result) in lists {
        let names = by_ship.get(ship).cloned().unwrap_or_default();
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
