//! `maestro restart`: config -> selection (like `stop`: `-s`/`-a` safety,
//! `-d` adds dependents) -> observe -> restart plan (dependencies first,
//! services rolling batch by batch) -> restart tasks -> events -> renderer,
//! with the auditors told before and after.

use std::collections::BTreeMap;
use std::time::Duration;

use super::context::request;
use super::{CommandResult, Context};
use crate::audit::PlayInfo;
use crate::cli::RestartArgs;
use crate::exit::ExitStatus;
use crate::plan::restart::{self as restart_plan, RestartOptions};
use crate::plan::selection::{self, Verb};
use crate::registry_auth::{self, Lookup};
use crate::scheduler::{self, Direction, Play, Report};
use crate::tasks::restart::{RestartFlags, RestartShared, run_restart};
use crate::tasks::step::Shared;

pub fn run(ctx: &Context, args: &RestartArgs) -> CommandResult {
    let env = ctx.env();
    let sel = &args.play.selection;
    let selection = ctx.select(Verb::Restart, &request(sel, args.expand_services, args.all))?;
    // Taken before looking at the ships, so the plan is made under it.
    let _lock = if args.play.dry_run {
        None
    } else {
        ctx.lock("restart", &args.play.lock)?
    };
    let deps = selection::dependencies(env, &selection.names, sel.ignore_dependencies);
    let dockers = ctx.clients(&selection);
    let observed = ctx.observe(&selection, &dockers, 0);
    let options = RestartOptions {
        reuse: args.reuse,
        only_if_changed: args.only_if_changed,
        batch: args.batch,
    };
    let plan = restart_plan::plan(env, &deps, &observed, options);
    if args.play.dry_run {
        super::print_stdout(&crate::render::plan::restart_text(&plan))?;
        return Ok(ExitStatus::Success);
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
            no_start: false,
            images_present: Default::default(),
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
    let shared = &shared;
    let nodes = super::play::tasks(
        &plan.steps,
        |s| (&s.instance, &s.service, &s.ship, &s.deps),
        |step, ctx| run_restart(shared, step, ctx),
    );
    let play = Play {
        command: "restart".into(),
        direction: Direction::Forward,
        limits: super::play::limits(env, sel.concurrency),
        nodes,
    };
    let report = super::play::run_audited(env, &info, args.play.progress, play, recap)?;
    let status = report.summary.exit_status();
    if status != ExitStatus::Success {
        crate::render::message::error(&format!("maestro: {}", recap(&report)));
    }
    Ok(status)
}

/// What a restart that did not finish did: restarted, up to date, failed
/// (with why), and never touched (their old containers still run).
pub fn recap(report: &Report) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let ended = |outcome: scheduler::Outcome| -> Vec<String> {
        report
            .nodes
            .iter()
            .filter(|n| n.outcome == outcome)
            .map(|n| n.id.clone())
            .collect()
    };
    let restarted = ended(scheduler::Outcome::Done);
    let up_to_date = ended(scheduler::Outcome::Unchanged);
    let mut parts = vec![format!("restarted: {}", list(&restarted))];
    if !up_to_date.is_empty() {
        parts.push(format!("up to date: {}", list(&up_to_date)));
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
    use crate::scheduler::NodeReport;

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
        let node = |id: &str, outcome| NodeReport {
            id: id.into(),
            ship: "s".into(),
            number: 0,
            outcome,
            started: None,
            finished: None,
        };
        let report = Report {
            nodes: vec![
                node("web-0", scheduler::Outcome::Unchanged),
                node("web-1", scheduler::Outcome::Done),
            ],
            summary,
        };
        assert_eq!(
            recap(&report),
            "restart stopped; restarted: web-1; up to date: web-0; \
             failed: web-2 (running checks failed: giving up); not touched: web-3"
        );
    }
}
