//! `maestro up [things] [--rolling[=N|N%]] [--remove-orphans] [--no-start]`: makes the
//! ships match the file. config -> selection (as `start`) -> deploy lock ->
//! the deploy plan of `maestro plan` (`commands::plan::make`) -> `up`'s
//! steps (`plan::up`: dependency order, batches with `--rolling`) -> `up`
//! tasks -> events -> renderer, with the auditors told before and after
//! (after: the summary of what was created, recreated, started, removed
//! and left alone).

use std::collections::BTreeMap;

use super::context::request;
use super::{CommandResult, Context};
use crate::audit::PlayInfo;
use crate::cli::UpArgs;
use crate::exit::ExitStatus;
use crate::plan::selection::{self, Verb};
use crate::plan::up::{self as up_plan, UpStep, UpWork};
use crate::scheduler::{Direction, Outcome, Play, Report};
use crate::tasks::restart::{RestartFlags, RestartShared};
use crate::tasks::step::Shared;
use crate::tasks::up::run_up;

pub fn run(ctx: &Context, args: &UpArgs) -> CommandResult {
    let env = ctx.env();
    let sel = &args.play.selection;
    let selection = ctx.select(Verb::Start, &request(sel, false, false))?;
    let things = !sel.things.is_empty();
    // The Ctrl-C handler (and SIGTERM's) before the first look at the
    // ships, which can take a ship's timeout: an interruption then ends
    // `up` with exit 130 and a message instead of the signal's default.
    if !args.play.dry_run {
        super::play::interrupt_token();
    }
    let observe = || {
        let (dockers, mut plan) = super::plan::make(env, &selection, things, sel.concurrency);
        if args.rerun {
            crate::plan::deploy::rerun_one_shots(env, &mut plan);
        }
        (dockers, plan)
    };
    let (dockers, plan) = observe();
    // A plan with nothing to change needs no lock: the play changes
    // nothing. Otherwise the lock is taken and the ships are looked at
    // again under it, so that what is applied is decided under the lock.
    let settled = !plan.pending() && !plan.failed();
    let held = if args.play.dry_run || settled {
        None
    } else {
        ctx.lock("up", &args.play.lock)?
    };
    let (dockers, plan) = if held.is_some() {
        observe()
    } else {
        (dockers, plan)
    };
    if args.play.dry_run {
        super::print_stdout(&crate::render::deploy::text(&plan))?;
        return Ok(if plan.failed() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }
    if args.remove_orphans {
        for (ship, why) in &plan.unlisted {
            crate::render::message::warning(format_args!(
                "orphans on ship `{ship}` are not known and stay: {why}"
            ));
        }
    }
    let deps = selection::dependencies(env, &selection.names, sel.ignore_dependencies);
    let steps = up_plan::steps(env, &plan, &deps, args.rolling, args.remove_orphans);
    let steps = if args.no_start {
        up_plan::without_starts(steps)
    } else {
        steps
    };
    let info = PlayInfo::new("up", steps.iter().map(|s| s.id.clone()).collect());
    let shared = RestartShared::new(
        Shared {
            env,
            dockers: &dockers,
            refresh_images: false,
            no_start: args.no_start,
            images_present: Default::default(),
        },
        RestartFlags::default(),
        BTreeMap::new(),
    );
    let shared = &shared;
    let nodes = super::play::tasks(
        &steps,
        |s| (&s.id, &s.service, &s.ship, &s.deps),
        |step, ctx| run_up(shared, step, ctx),
    );
    let play = Play {
        command: "up".into(),
        direction: Direction::Forward,
        limits: super::play::limits(env, sel.concurrency),
        nodes,
    };
    let told = |report: &Report| recap(&steps, report);
    let report = super::play::run_audited_outcome(env, &info, args.play.progress, play, told)?;
    crate::render::message::note(format_args!("up: {}", recap(&steps, &report)));
    Ok(report.summary.exit_status())
}

/// What `up` did: `1 created (web-1), 0 recreated, ...`, then what failed
/// (with why) and what was not attempted. Names are listed for up to five
/// instances of a kind.
pub fn recap(steps: &[UpStep], report: &Report) -> String {
    let outcome: BTreeMap<&str, &Outcome> = report
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), &n.outcome))
        .collect();
    let kinds = ["created", "recreated", "started", "removed", "left alone"];
    let mut parts = Vec::new();
    for kind in kinds {
        let names: Vec<&str> = steps
            .iter()
            .filter(|s| s.work.done_word() == kind)
            .filter(|s| {
                matches!(
                    (outcome.get(s.id.as_str()).copied(), &s.work),
                    (Some(Outcome::Done), _) | (Some(Outcome::Unchanged), UpWork::Leave { .. })
                )
            })
            .map(|s| s.id.as_str())
            .collect();
        parts.push(counted(kind, &names));
    }
    let mut text = parts.join(", ");
    if !report.summary.failures.is_empty() {
        let failed: Vec<String> = report
            .summary
            .failures
            .iter()
            .map(|f| {
                let first = f.message.lines().next().unwrap_or("");
                let first = first.strip_suffix("; last log lines:").unwrap_or(first);
                format!("{} ({first})", f.id)
            })
            .collect();
        text.push_str(&format!("; failed: {}", failed.join(", ")));
    }
    if !report.summary.not_attempted.is_empty() {
        text.push_str(&format!(
            "; not attempted: {}",
            report.summary.not_attempted.join(", ")
        ));
    }
    if report.summary.interrupted {
        text.push_str(" (interrupted)");
    }
    text
}

fn counted(kind: &str, names: &[&str]) -> String {
    match names.len() {
        0 => format!("0 {kind}"),
        n if n <= 5 => format!("{n} {kind} ({})", names.join(", ")),
        n => format!("{n} {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Failure, Summary};
    use crate::plan::observe::Container;
    use crate::scheduler::NodeReport;
    use std::time::Duration;

    fn step(id: &str, work: UpWork) -> UpStep {
        UpStep {
            id: id.into(),
            instance: id.into(),
            service: "web".into(),
            ship: "ship1".into(),
            deps: Default::default(),
            work,
        }
    }

    #[test]
    fn recap_counts_each_kind_and_names_failures() {
        let c = Container {
            id: "abc".into(),
            image: "web:1".into(),
            running: true,
            state: "running".into(),
            for_secs: None,
            config_hash: None,
            exit_code: None,
        };
        let steps = vec![
            step("web-1", UpWork::Create),
            step(
                "web-2",
                UpWork::Recreate {
                    container: c.clone(),
                    adopt: false,
                },
            ),
            step(
                "web-3",
                UpWork::Leave {
                    container: c.clone(),
                },
            ),
            step(
                "web-4",
                UpWork::Refuse {
                    reason: "conflict: x".into(),
                },
            ),
            step("web-5", UpWork::Start { container: c }),
        ];
        let node = |id: &str, outcome| NodeReport {
            id: id.into(),
            ship: "ship1".into(),
            number: 0,
            outcome,
            started: None,
            finished: None,
        };
        let report = Report {
            nodes: vec![
                node("web-1", Outcome::Done),
                node("web-2", Outcome::Done),
                node("web-3", Outcome::Unchanged),
                node(
                    "web-4",
                    Outcome::Failed {
                        message: "conflict: x".into(),
                        fatal: false,
                    },
                ),
                node(
                    "web-5",
                    Outcome::Aborted(crate::events::AbortReason::Interrupted),
                ),
            ],
            summary: Summary {
                command: "up".into(),
                total: 5,
                done: 3,
                skipped: 0,
                failed: 1,
                aborted: 1,
                elapsed: Duration::from_secs(1),
                interrupted: false,
                failures: vec![Failure {
                    id: "web-4".into(),
                    message: "conflict: x".into(),
                    fatal: false,
                }],
                not_attempted: vec!["web-5".into()],
            },
        };
        assert_eq!(
            recap(&steps, &report),
            "1 created (web-1), 1 recreated (web-2), 0 started, 0 removed, \
             1 left alone (web-3); failed: web-4 (conflict: x); not attempted: web-5"
        );
    }
}
