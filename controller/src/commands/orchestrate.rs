//! `maestro start|stop|kill|clean`: config -> selection -> observe -> plan
//! -> scheduler tasks -> events -> renderer, with the auditors told before
//! and after, and Ctrl-C turned into a cancellation.

use std::sync::OnceLock;

use super::context::request;
use super::{CommandResult, Context};
use crate::audit::PlayInfo;
use crate::cli::PlayArgs;
use crate::exit::ExitStatus;
use crate::plan::selection::{self, Verb};
use crate::plan::{self as planning, PlanOptions};
use crate::scheduler::{Direction, Play};
use crate::tasks::step::{Shared, remove_unstarted, start_tasks};

/// What the command line asked for, beyond the selection.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub expand_services: bool,
    pub all: bool,
    pub refresh_images: bool,
    pub reuse: bool,
}

/// Runs one of start, stop, kill, clean.
pub fn run(ctx: &Context, verb: Verb, args: &PlayArgs, opts: &Options) -> CommandResult {
    let env = ctx.env();
    let sel = &args.selection;
    let selection = ctx.select(verb, &request(sel, opts.expand_services, opts.all))?;
    // Taken before looking at the ships, so the plan is made under it.
    let _lock = if args.dry_run {
        None
    } else {
        ctx.lock(verb.name(), &args.lock)?
    };
    let deps = selection::dependencies(env, &selection.names, sel.ignore_dependencies);
    let dockers = ctx.clients(&selection);
    let observed = ctx.observe(&selection, &dockers, 0);
    let plan = planning::plan(
        env,
        verb,
        &deps,
        &observed,
        PlanOptions { reuse: opts.reuse },
    );
    if args.dry_run {
        super::print_stdout(&crate::render::plan::text(&plan))?;
        return Ok(ExitStatus::Success);
    }

    let info = PlayInfo::new(
        verb.name(),
        plan.steps.iter().map(|s| s.instance.clone()).collect(),
    );
    let shared = Shared {
        env,
        dockers: &dockers,
        refresh_images: opts.refresh_images,
        no_start: false,
        images_present: Default::default(),
    };
    let shared = &shared;
    // One slot per step for a container created early (start only).
    let created: Vec<OnceLock<String>> = plan.steps.iter().map(|_| OnceLock::new()).collect();
    let nodes = start_tasks(shared, &plan.steps, &created);
    let play = Play {
        command: verb.name().to_string(),
        direction: if verb.is_reverse() {
            Direction::Reverse
        } else {
            Direction::Forward
        },
        limits: super::play::limits(env, sel.concurrency),
        nodes,
    };
    let report = super::play::run_audited(env, &info, args.progress, play, |report| {
        let mut msg = format!(
            "{}: {} failed, {} not attempted",
            verb.name(),
            report.summary.failed,
            report.summary.aborted
        );
        if report.summary.interrupted {
            msg.push_str(" (interrupted)");
        }
        msg
    })?;
    for problem in remove_unstarted(shared, &plan.steps, &created, &report) {
        crate::render::message::warning(problem);
    }
    Ok(report.summary.exit_status())
}
