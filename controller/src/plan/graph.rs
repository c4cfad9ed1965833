//! A directed dependency graph over names ("a depends on b"), with the
//! algorithms planning needs: transitive closure, Kahn order and cycles
//! reported as full paths. Pure; knows nothing of YAML or Docker.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// node -> the nodes it depends on (sorted, deduplicated).
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    pub fn new() -> Self {
        Graph::default()
    }

    pub fn add_node(&mut self, n: &str) {
        self.deps.entry(n.to_string()).or_default();
    }

    /// `from` depends on `to`.
    pub fn add_edge(&mut self, from: &str, to: &str) {
        self.add_node(to);
        self.deps
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    }

    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.deps.keys().map(String::as_str)
    }

    /// Direct dependencies of `n`, sorted.
    pub fn deps(&self, n: &str) -> impl Iterator<Item = &str> {
        self.deps.get(n).into_iter().flatten().map(String::as_str)
    }

    /// Nodes that depend directly on `n`, sorted.
    pub fn dependents(&self, n: &str) -> Vec<&str> {
        self.deps
            .iter()
            .filter(|(_, d)| d.contains(n))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Everything `n` depends on, directly or not (not `n` itself unless a
    /// cycle leads back to it). Safe on cyclic graphs.
    pub fn closure(&self, n: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = self.deps(n).collect();
        while let Some(x) = stack.pop() {
            if seen.insert(x.to_string()) {
                stack.extend(self.deps(x));
            }
        }
        seen
    }

    /// Everything that depends on `n`, directly or not.
    pub fn reverse_closure(&self, n: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = self.dependents(n);
        while let Some(x) = stack.pop() {
            if seen.insert(x.to_string()) {
                stack.extend(self.dependents(x));
            }
        }
        seen
    }

    /// Kahn's algorithm: dependencies first, ties broken by name. Err with
    /// one cycle (as a path `a, b, c, a`) when there is none.
    pub fn order(&self) -> Result<Vec<String>, Vec<String>> {
        let mut missing: BTreeMap<&str, usize> = self
            .deps
            .iter()
            .map(|(k, d)| (k.as_str(), d.len()))
            .collect();
        let mut ready: BTreeSet<&str> = missing
            .iter()
            .filter(|(_, c)| **c == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut rdeps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, d) in &self.deps {
            for x in d {
                rdeps.entry(x.as_str()).or_default().push(k.as_str());
            }
        }
        let mut out = Vec::with_capacity(self.deps.len());
        while let Some(n) = ready.pop_first() {
            out.push(n.to_string());
            for m in rdeps.get(n).into_iter().flatten() {
                if let Some(c) = missing.get_mut(m) {
                    *c -= 1;
                    if *c == 0 {
                        ready.insert(m);
                    }
                }
            }
        }
        if out.len() == self.deps.len() {
            Ok(out)
        } else {
            Err(self.cycles().into_iter().next().unwrap_or_default())
        }
    }

    /// The cycles a depth-first search meets (at least one per group of
    /// services that depend on each other), each once, as a closed path
    /// starting at its smallest name: `[a, b, a]`.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> =
            self.deps.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
        for start in self.deps.keys() {
            if marks[start.as_str()] != Mark::New {
                continue;
            }
            // Iterative DFS: (node, its deps, next dep index).
            let mut path: Vec<&str> = vec![start];
            let mut iters: Vec<Vec<&str>> = vec![self.deps(start).collect()];
            marks.insert(start, Mark::Active);
            while let Some(it) = iters.last_mut() {
                if it.is_empty() {
                    iters.pop();
                    if let Some(done) = path.pop() {
                        marks.insert(done, Mark::Done);
                    }
                    continue;
                }
                let next = it.remove(0);
                match marks.get(next).copied().unwrap_or(Mark::Done) {
                    Mark::New => {
                        marks.insert(next, Mark::Active);
                        path.push(next);
                        iters.push(self.deps(next).collect());
                    }
                    Mark::Active => {
                        let pos = path.iter().position(|p| *p == next).unwrap_or(0);
                        found.insert(rotate(&path[pos..]));
                    }
                    Mark::Done => {}
                }
            }
            while let Some(done) = path.pop() {
                marks.insert(done, Mark::Done);
            }
        }
        found.into_iter().collect()
    }
}

/// A cycle as a closed path starting at its smallest node.
fn rotate(cycle: &[&str]) -> Vec<String> {
    let min = cycle
        .iter()
        .enumerate()
        .min_by_key(|(_, n)| **n)
        .map_or(0, |(i, _)| i);
    let mut out: Vec<String> = cycle[min..]
        .iter()
        .chain(cycle[..min].iter())
        .map(|s| s.to_string())
        .collect();
    if let Some(first) = out.first().cloned() {
        out.push(first);
    }
    out
}

/// `a -> b -> a`.
pub fn format_cycle(cycle: &[String]) -> String {
    cycle.join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.add_edge(a, b);
        }
        g
    }

    #[test]
    fn order_puts_dependencies_first() {
        let g = g(&[("a", "b"), ("a", "c"), ("b", "c"), ("d", "a")]);
        assert_eq!(g.order().unwrap(), ["c", "b", "a", "d"]);
        assert_eq!(
            g.closure("d"),
            BTreeSet::from(["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            g.reverse_closure("c"),
            BTreeSet::from(["a".into(), "b".into(), "d".into()])
        );
    }

    #[test]
    fn case18_cycles_are_full_paths() {
        let g1 = g(&[("a", "b"), ("b", "c"), ("c", "a"), ("x", "a")]);
        assert_eq!(g1.cycles(), vec![vec!["a", "b", "c", "a"]]);
        assert_eq!(format_cycle(&g1.order().unwrap_err()), "a -> b -> c -> a");
        let selfloop = g(&[("a", "a")]);
        assert_eq!(format_cycle(&selfloop.order().unwrap_err()), "a -> a");
        let two = g(&[("b", "a"), ("a", "b")]);
        assert_eq!(format_cycle(&two.cycles()[0]), "a -> b -> a");
        // The closure terminates on a cycle.
        assert!(g1.closure("a").contains("a"));
    }
}
