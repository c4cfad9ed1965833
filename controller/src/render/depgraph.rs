//! `maestro deptree --format dot|mermaid`: services and their instances as
//! a graph. Each ship is a cluster (dot) or subgraph (Mermaid) holding the
//! instances it runs; each service is a box joined to its instances by a
//! plain line; `requires` are solid arrows, `wants_info` dashed arrows, and
//! `volumes_from` (ordering only) solid arrows labelled `volumes_from`.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Environment;

/// What a dependency edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    Requires,
    WantsInfo,
    VolumesFrom,
}

/// The graph of some services: what both formats draw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Graph {
    /// Service -> its instances, sorted.
    pub services: BTreeMap<String, Vec<String>>,
    /// Ship -> (its ip, the instances of these services on it).
    pub ships: BTreeMap<String, (String, Vec<String>)>,
    /// (from service, to service, kind), sorted, each once.
    pub edges: BTreeSet<(String, String, EdgeKind)>,
}

/// The graph of `services` and of the services they depend on (through
/// `requires` and `volumes_from`, transitively, and `wants_info`), so that
/// no edge points outside the picture.
pub fn graph(env: &Environment, services: &[String]) -> Graph {
    let mut g = Graph::default();
    let mut todo: Vec<&str> = services.iter().map(String::as_str).collect();
    while let Some(name) = todo.pop() {
        let Some(s) = env.services.get(name) else {
            continue;
        };
        if g.services.contains_key(name) {
            continue;
        }
        g.services.insert(name.to_string(), s.instances.clone());
        for i in &s.instances {
            if let Some(inst) = env.instances.get(i) {
                g.ships
                    .entry(inst.ship.name.clone())
                    .or_insert_with(|| (inst.ship.ip.clone(), Vec::new()))
                    .1
                    .push(i.clone());
            }
        }
        let kinds = [
            (&s.requires, EdgeKind::Requires),
            (&s.wants_info, EdgeKind::WantsInfo),
            (&s.volumes_from_services, EdgeKind::VolumesFrom),
        ];
        for (targets, kind) in kinds {
            for t in targets {
                // A service both required and taken volumes from is one
                // `requires` edge.
                if kind == EdgeKind::VolumesFrom && s.requires.contains(t) {
                    continue;
                }
                g.edges.insert((name.to_string(), t.clone(), kind));
                todo.push(t);
            }
        }
    }
    for (_, list) in g.ships.values_mut() {
        list.sort();
    }
    g
}

/// A double-quoted dot ID.
fn dq(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Graphviz dot text of the graph.
pub fn dot(g: &Graph) -> String {
    let mut out = String::from(
        "digraph maestro {\n  rankdir=LR;\n  graph [fontname=\"Helvetica\", fontsize=11];\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for name in g.services.keys() {
        out.push_str(&format!(
            "  {} [label={}, shape=box, style=\"rounded,filled\", fillcolor=\"#dbe8f7\"];\n",
            dq(&format!("service:{name}")),
            dq(name)
        ));
    }
    for (ship, (ip, instances)) in &g.ships {
        out.push_str(&format!(
            "  subgraph {} {{\n    label={};\n    style=\"rounded,dashed\";\n    color=\"#888888\";\n",
            dq(&format!("cluster_ship:{ship}")),
            dq(&format!("{ship} ({ip})"))
        ));
        for i in instances {
            out.push_str(&format!(
                "    {} [label={}, shape=ellipse];\n",
                dq(&format!("instance:{i}")),
                dq(i)
            ));
        }
        out.push_str("  }\n");
    }
    for (name, instances) in &g.services {
        for i in instances {
            out.push_str(&format!(
                "  {} -> {} [arrowhead=none, color=\"#999999\"];\n",
                dq(&format!("service:{name}")),
                dq(&format!("instance:{i}"))
            ));
        }
    }
    for (from, to, kind) in &g.edges {
        let style = match kind {
            EdgeKind::Requires => "style=solid",
            EdgeKind::WantsInfo => "style=dashed, label=\"wants_info\"",
            EdgeKind::VolumesFrom => "style=solid, label=\"volumes_from\"",
        };
        out.push_str(&format!(
            "  {} -> {} [{style}];\n",
            dq(&format!("service:{from}")),
            dq(&format!("service:{to}"))
        ));
    }
    out.push_str("}\n");
    out
}

/// A Mermaid label: quoted, with `"` as an entity.
fn label(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "#quot;"))
}

/// The Mermaid flowchart of the graph. Node IDs are positional (`s0`,
/// `i0`, `ship0`): names may hold characters Mermaid IDs cannot.
pub fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let sid: BTreeMap<&str, String> = g
        .services
        .keys()
        .enumerate()
        .map(|(n, s)| (s.as_str(), format!("s{n}")))
        .collect();
    let iid: BTreeMap<&str, String> = g
        .services
        .values()
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(n, i)| (i.as_str(), format!("i{n}")))
        .collect();
    for (name, id) in &sid {
        out.push_str(&format!("  {id}[{}]\n", label(name)));
    }
    for (n, (ship, (ip, instances))) in g.ships.iter().enumerate() {
        out.push_str(&format!(
            "  subgraph ship{n}[{}]\n",
            label(&format!("{ship} ({ip})"))
        ));
        for i in instances {
            out.push_str(&format!("    {}([{}])\n", iid[i.as_str()], label(i)));
        }
        out.push_str("  end\n");
    }
    for (name, instances) in &g.services {
        for i in instances {
            out.push_str(&format!(
                "  {} --- {}\n",
                sid[name.as_str()],
                iid[i.as_str()]
            ));
        }
    }
    for (from, to, kind) in &g.edges {
        let arrow = match kind {
            EdgeKind::Requires => "-->",
            EdgeKind::WantsInfo => "-. wants_info .->",
            EdgeKind::VolumesFrom => "-- volumes_from -->",
        };
        out.push_str(&format!(
            "  {} {arrow} {}\n",
            sid[from.as_str()],
            sid[to.as_str()]
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let yaml = r#"
name: t
ships:
  north: {ip: 192.0.2.1}
  south: {ip: 192.0.2.2}
services:
  web:
    image: w
    requires: [api]
    wants_info: [metrics]
    instances: {web-1: {ship: north}}
  api:
    image: a
    requires: store
    instances: {api-1: {ship: north}, api-2: {ship: south}}
  store:
    image: s
    instances: {store-1: {ship: south}}
  metrics:
    image: m
    instances: {"metrics.1": {ship: south, volumes_from: [store-1]}}
  lonely: {image: l, omit: true, instances: {lonely-1: {ship: north}}}
"#;
        crate::config::load_str(yaml, std::path::Path::new(".")).unwrap()
    }

    #[test]
    fn the_graph_holds_the_services_their_dependencies_and_their_ships() {
        let g = graph(&env(), &["web".into()]);
        assert_eq!(
            g.services.keys().collect::<Vec<_>>(),
            ["api", "metrics", "store", "web"]
        );
        assert_eq!(
            g.ships["north"],
            ("192.0.2.1".into(), vec!["api-1".into(), "web-1".into()])
        );
        assert_eq!(g.ships["south"].1, ["api-2", "metrics.1", "store-1"]);
        let edges: Vec<(&str, &str, EdgeKind)> = g
            .edges
            .iter()
            .map(|(a, b, k)| (a.as_str(), b.as_str(), *k))
            .collect();
        assert_eq!(
            edges,
            [
                ("api", "store", EdgeKind::Requires),
                ("metrics", "store", EdgeKind::VolumesFrom),
                ("web", "api", EdgeKind::Requires),
                ("web", "metrics", EdgeKind::WantsInfo),
            ]
        );
        // Only what was asked for and its dependencies.
        assert!(!g.services.contains_key("lonely"));
        let store = graph(&env(), &["store".into()]);
        assert_eq!(store.services.keys().collect::<Vec<_>>(), ["store"]);
        assert!(store.edges.is_empty());
        assert_eq!(store.ships.keys().collect::<Vec<_>>(), ["south"]);
    }

    #[test]
    fn dot_has_a_cluster_per_ship_solid_requires_and_dashed_wants_info() {
        let text = dot(&graph(&env(), &["web".into()]));
        assert!(text.starts_with("digraph maestro {\n"), "{text}");
        assert!(text.ends_with("}\n"), "{text}");
        let north = "  subgraph \"cluster_ship:north\" {\n    label=\"north (192.0.2.1)\";\n    style=\"rounded,dashed\";\n    color=\"#888888\";\n    \"instance:api-1\" [label=\"api-1\", shape=ellipse];\n    \"instance:web-1\" [label=\"web-1\", shape=ellipse];\n  }\n";
        assert!(text.contains(north), "{text}");
        assert!(text.contains("subgraph \"cluster_ship:south\""), "{text}");
        assert_eq!(text.matches("subgraph").count(), 2);
        assert!(
            text.contains("  \"service:web\" -> \"service:api\" [style=solid];\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  \"service:web\" -> \"service:metrics\" [style=dashed, label=\"wants_info\"];\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  \"service:metrics\" -> \"service:store\" [style=solid, label=\"volumes_from\"];\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  \"service:api\" -> \"instance:api-2\" [arrowhead=none, color=\"#999999\"];\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  \"service:store\" [label=\"store\", shape=box, style=\"rounded,filled\", fillcolor=\"#dbe8f7\"];\n"),
            "{text}"
        );
        // Every instance once, every service once.
        assert_eq!(text.matches("shape=ellipse").count(), 5);
        assert_eq!(text.matches("shape=box").count(), 4);
    }

    #[test]
    fn dot_quotes_names() {
        let mut g = Graph::default();
        g.services.insert("a\"b".into(), vec![]);
        assert!(dot(&g).contains("\"service:a\\\"b\" [label=\"a\\\"b\""));
    }

    #[test]
    fn mermaid_has_a_subgraph_per_ship_solid_requires_and_dotted_wants_info() {
        let text = mermaid(&graph(&env(), &["web".into()]));
        let expected = "flowchart LR
  s0[\"api\"]
  s1[\"metrics\"]
  s2[\"store\"]
  s3[\"web\"]
  subgraph ship0[\"north (192.0.2.1)\"]
    i0([\"api-1\"])
    i4([\"web-1\"])
  end
  subgraph ship1[\"south (192.0.2.2)\"]
    i1([\"api-2\"])
    i2([\"metrics.1\"])
    i3([\"store-1\"])
  end
  s0 --- i0
  s0 --- i1
  s1 --- i2
  s2 --- i3
  s3 --- i4
  s0 --> s2
  s1 -- volumes_from --> s2
  s3 --> s0
  s3 -. wants_info .-> s1
";
        assert_eq!(text, expected);
    }
}
