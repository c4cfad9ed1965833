//! Dependency graphs, and the one topological sort of the program.
//!
//! [`topo_order`] orders nodes given by index (the scheduler's play);
//! [`Graph`] is a graph over names ("a depends on b") with what validation,
//! selection and `deptree` need: transitive closure, order and every cycle
//! as a full path. Pure; knows nothing of YAML or Docker.

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
        // Indices in name order, so ties in `topo_order` go by name.
        let names: Vec<&str> = self.nodes().collect();
        let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let deps: Vec<Vec<usize>> = names
            .iter()
            .map(|n| self.deps(n).filter_map(|d| index.get(d).copied()).collect())
            .collect();
        match topo_order(&deps) {
            Ok(order) => Ok(order.into_iter().map(|i| names[i].to_string()).collect()),
            // The cycle as validation reports it: from its smallest name.
            Err(_) => Err(self.cycles().into_iter().next().unwrap_or_default()),
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

/// Kahn's algorithm over nodes `0..deps.len()`, where `deps[i]` lists the
/// nodes `i` depends on (no duplicates): dependencies first, ties broken by
/// index. `Err` holds one cycle as a closed path of indices (`[a, b, a]`).
pub fn topo_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); deps.len()];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            dependents[j].push(i);
        }
    }
    let mut remaining: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..deps.len()).filter(|&i| remaining[i] == 0).collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &w in &dependents[i] {
            remaining[w] -= 1;
            if remaining[w] == 0 {
                ready.insert(w);
            }
        }
    }
    if order.len() == deps.len() {
        Ok(order)
    } else {
        let stuck: Vec<usize> = (0..deps.len()).filter(|&i| remaining[i] > 0).collect();
        Err(find_cycle(deps, &stuck))
    }
}

/// Walks from a stuck node along its stuck dependencies until one repeats;
/// returns that loop, first node repeated at the end.
fn find_cycle(deps: &[Vec<usize>], stuck: &[usize]) -> Vec<usize> {
    let is_stuck = |i: usize| stuck.contains(&i);
    let Some(&start) = stuck.first() else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut current = start;
    loop {
        // Every stuck node has at least one stuck dependency, else Kahn
        // would have released it.
        let Some(&next) = deps[current].iter().find(|&&d| is_stuck(d)) else {
            return path;
        };
        if let Some(pos) = path.iter().position(|&p| p == next) {
            let mut cycle = path.split_off(pos);
            cycle.push(next);
            return cycle;
        }
        path.push(next);
        current = next;
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
    fn topo_order_breaks_ties_by_index_and_returns_a_cycle_path() {
        assert_eq!(topo_order(&[vec![2], vec![], vec![1]]), Ok(vec![1, 2, 0]));
        assert_eq!(topo_order(&[vec![], vec![], vec![]]), Ok(vec![0, 1, 2]));
        assert_eq!(
            topo_order(&[vec![1], vec![2], vec![0], vec![]]),
            Err(vec![0, 1, 2, 0])
        );
        assert_eq!(topo_order(&[vec![0]]), Err(vec![0, 0]));
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
