//! The `--dry-run` text of a plan: one line per instance with what it
//! needs and why, deterministic (unit tests compare it).

use std::fmt::Write as _;

use crate::plan::Plan;
use crate::plan::restart::RestartPlan;

/// `kafka-1 (ship1) after zk-1,zk-2: create and start: no container`.
pub fn text(plan: &Plan) -> String {
    let mut out = format!("{} plan:\n", plan.command.name());
    for s in &plan.steps {
        let _ = write!(out, "  {} ({})", s.instance, s.ship);
        if !s.deps.is_empty() {
            let word = if plan.command.is_reverse() {
                "before"
            } else {
                "after"
            };
            let _ = write!(out, " {word} {}", s.deps.join(","));
        }
        let _ = writeln!(out, ": {}", s.cause());
    }
    let changes = plan.steps.iter().filter(|s| s.action.changes()).count();
    let _ = writeln!(out, "{changes} of {} instances to change", plan.steps.len());
    out
}

/// `web-2 (ship2) batch 2 after web-1: stop and recreate it: 1:abc is running`.
pub fn restart_text(plan: &RestartPlan) -> String {
    let mut out = format!("restart plan (batches of {}):\n", plan.options.batch);
    for s in &plan.steps {
        let _ = write!(out, "  {} ({}) batch {}", s.instance, s.ship, s.batch);
        if !s.deps.is_empty() {
            let _ = write!(out, " after {}", s.deps.join(","));
        }
        let _ = writeln!(out, ": {}", s.cause(&plan.options));
    }
    out
}
