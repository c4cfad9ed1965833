//! `maestro restart`: config -> selection (like `stop`: `-s`/`-a` safety,
//! `-d` adds dependents) -> observe -> restart plan (dependencies first,
//! services rolling batch by batch) -> restart tasks -> events -> renderer,
//! with the auditors told before and after.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::audit::PlayInfo;
use crate::cli::{GlobalArgs, RestartArgs};
use crate::exec::restart::{Outcome, RestartFlags, RestartShared, run_restart};
use crate::exec::tasks::Shared;
use crate::exec::{Direction, Node, Play, Report};
use crate::plan::observe;
use crate::plan::restart::{self as restart_plan, RestartOptions};
use crate::plan::selection::{self, Command};
use crate::registry_auth::{self, Lookup};

use super::orchestrate::{clients, request};

pub fn run(global: &GlobalArgs, args: &RestartArgs) -> i32 {
    let loaded = match super::load(global) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let env = &loaded.env;
    let sel = &args.play.selection;
    let req = request(sel, args.expand_services, args.all);
    let selected = match selection::select(env, Command::Restart, &req) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("maestro: {}", e.message());
            return e.exit_code();
        }
    };
    let deps = selection::dependencies(env, &selected, sel.ignore_dependencies);
    let dockers = clients(env, &selected);
    let observed = observe::observe(env, &selected, &dockers);
    let options = RestartOptions {
        reuse: args.reuse,
        only_if_changed: args.only_if_changed,
        batch: args.batch,
    };
    let plan = restart_plan::plan(env, &deps, &observed, options);
    if args.play.dry_run {
        return super::print_stdout(&plan.to_string()).err().unwrap_or(0);
    }

    let info = PlayInfo::new(
        "restart",
        plan.steps.iter().map(|s| s.instance.clone()).collect(),
    );

    // Credentials once per image, only when `-r` pulls.
    let lookup = Lookup::from_process();
    let credentials = if args.refresh_images {
        registry_auth::for_instances(env, plan.steps.iter().map(|s| s.instance.as_str()), &lookup)
    } else {
        BTreeMap::new()
    };
    let shared = RestartShared::new(
        Shared {
            env,
            dockers: &dockers,
            refresh_images: false,
        },
        RestartFlags {
            refresh_images: args.refresh_images,
            reuse: args.reuse,
            only_if_changed: args.only_if_changed,
            step_delay: Duration::from_secs(args.step_delay),
            stop_start_delay: Duration::from_secs(args.stop_start_delay),
        },
        credentials,
    );
    let nodes: Vec<Node<'_>> = plan
        .steps
        .iter()
        .map(|step| {
            let shared = &shared;
            Node::new(
                step.instance.clone(),
                step.service.clone(),
                step.ship.clone(),
                step.deps.clone(),
                move |ctx| run_restart(shared, step, ctx),
            )
        })
        .collect();
    let play = Play {
        command: "restart".into(),
        direction: Direction::Forward,
        limits: super::play::limits(env, sel.concurrency),
        nodes,
    };
    super::play::run_audited(env, &info, args.play.progress, play, |report| {
        let recap = recap(report, &shared.outcome());
        eprintln!("maestro: {recap}");
        recap
    })
}

/// What a restart that did not finish did: restarted, up to date, failed
/// (with why), and never touched (their old containers still run).
pub fn recap(report: &Report, outcome: &Outcome) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut parts = vec![format!("restarted: {}", list(&outcome.restarted))];
    if !outcome.up_to_date.is_empty() {
        parts.push(format!("up to date: {}", list(&outcome.up_to_date)));
    }
    let failed: Vec<String> = report
        .summary
        .failures
        .iter()
        .map(|f| {
            // The reason without the log lines the table already showed.
            let first = f.message.lines().next().unwrap_or("");
            let first = first.strip_suffix("; last log lines:").unwrap_or(first);
            format!("{} ({first})", f.id)
        })
        .collect();
    parts.push(format!("failed: {}", list(&failed)));
    parts.push(format!(
        "not touched: {}",
        list(&report.summary.not_attempted)
    ));
    let verb = if report.summary.interrupted {
        "restart interrupted"
    } else {
        "restart stopped"
    };
    format!("{verb}; {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Failure, Summary};

    #[test]
    fn recap_names_restarted_failed_and_untouched() {
        let summary = Summary {
            command: "restart".into(),
            total: 4,
            done: 2,
            skipped: 0,
            failed: 1,
            aborted: 1,
            elapsed: Duration::from_secs(3),
            interrupted: false,
            failures: vec![Failure {
                id: "web-2".into(),
                message: "running checks failed: giving up; last log lines:\n    boom".into(),
                fatal: true,
            }],
            not_attempted: vec!["web-3".into()],
        };
        let report = Report {
            nodes: Vec::new(),
            summary,
        };
        let outcome = Outcome {
            restarted: vec!["web-1".into()],
            up_to_date: vec!["web-0".into()],
        };
        assert_eq!(
            recap(&report, &outcome),
            "restart stopped; restarted: web-1; up to date: web-0; \
             failed: web-2 (running checks failed: giving up); not touched: web-3"
        );
    }
}
