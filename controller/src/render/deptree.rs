//! `maestro deptree`: the tree of service dependencies, in MaestroNG's
//! format (reference section 7.2):
//!
//! ```text
//! A
//!  +- B
//!  |  \- C
//!  \- C
//! ```
//!
//! Without `recursive`, a dependency already shown under the same top-level
//! service (even as a sibling) is not shown again deeper down.

use std::collections::BTreeSet;

use crate::config::Environment;

/// The text of the trees of `services`, a blank line between trees.
pub fn render(env: &Environment, services: &[String], recursive: bool) -> String {
    let mut out = String::new();
    for (i, s) in services.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(s);
        out.push('\n');
        let mut shown = BTreeSet::new();
        children(env, s, " ", recursive, &mut shown, &mut out);
    }
    out
}

fn children(
    env: &Environment,
    service: &str,
    indent: &str,
    recursive: bool,
    shown: &mut BTreeSet<String>,
    out: &mut String,
) {
    let Some(s) = env.services.get(service) else {
        return;
    };
    let mut deps: Vec<&str> = s.ordering_deps().collect();
    deps.sort_unstable();
    deps.dedup();
    if !recursive {
        deps.retain(|d| !shown.contains(*d));
        shown.extend(deps.iter().map(|d| d.to_string()));
    }
    for (i, d) in deps.iter().enumerate() {
        let last = i + 1 == deps.len();
        out.push_str(indent);
        out.push_str(if last { "\\- " } else { "+- " });
        out.push_str(d);
        out.push('\n');
        let deeper = format!("{indent}{}", if last { "  " } else { "|  " });
        children(env, d, &deeper, recursive, shown, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let yaml = "name: t\nships: {s1: {ip: 127.0.0.1}}\nservices:\n  A: {image: a, requires: [B, C], instances: {a1: {ship: s1}}}\n  B: {image: b, requires: [C], instances: {b1: {ship: s1}}}\n  C: {image: c, instances: {c1: {ship: s1}}}\n";
        crate::config::load_str(yaml, std::path::Path::new(".")).unwrap()
    }

    #[test]
    fn case35_deptree_format() {
        let e = env();
        assert_eq!(render(&e, &["A".into()], false), "A\n +- B\n \\- C\n");
        assert_eq!(
            render(&e, &["A".into()], true),
            "A\n +- B\n |  \\- C\n \\- C\n"
        );
        assert_eq!(
            render(&e, &["A".into(), "B".into()], false),
            "A\n +- B\n \\- C\n\nB\n \\- C\n"
        );
    }
}
