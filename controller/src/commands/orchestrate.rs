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
    /// `start --rerun`: run completed one-shot containers again.
    pub rerun: bool,
    /// `clean --networks`: then remove the environment's networks on the
    /// selection's ships.
    pub networks: bool,
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
        PlanOptions {
            reuse: opts.reuse,
            rerun: opts.rerun,
        },
    );
    if args.dry_run {
        let mut text = crate::render::plan::text(&plan);
        if opts.networks {
            text.push_str(&networks_dry_run(&env.name, &dockers));
        }
        super::print_stdout(&text)?;
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
    let status = report.summary.exit_status();
    if opts.networks && !report.summary.interrupted {
        let networks = remove_networks(&env.name, &dockers);
        if status == ExitStatus::Success {
            return Ok(networks);
        }
    }
    Ok(status)
}

/// `clean --networks`: removes the environment's networks on each ship
/// of the play, saying what went and what stayed (a network still in use
/// stays, and the command fails).
fn remove_networks(
    env_name: &str,
    dockers: &std::collections::BTreeMap<String, Result<crate::docker::Docker, String>>,
) -> ExitStatus {
    use crate::render::message;
    let mut status = ExitStatus::Success;
    for (ship, docker) in dockers {
        let Ok(docker) = docker else { continue };
        match crate::tasks::resources::remove_networks(docker, env_name) {
            Ok(done) => {
                for name in done.removed {
                    message::note(format!("removed network {name} on {ship}"));
                }
                for (name, why) in done.kept {
                    message::warning(format!("network {name} on {ship} kept: {why}"));
                    status = ExitStatus::Failure;
                }
            }
            Err(e) => {
                message::warning(format!("{ship}: {e}"));
                status = ExitStatus::Failure;
            }
        }
    }
    status
}

/// The networks `clean --networks` would remove, one line each.
fn networks_dry_run(
    env_name: &str,
    dockers: &std::collections::BTreeMap<String, Result<crate::docker::Docker, String>>,
) -> String {
    let label = format!("{}={env_name}", crate::labels::ENVIRONMENT);
    let mut out = String::new();
    for (ship, docker) in dockers {
        let Ok(docker) = docker else { continue };
        let list = docker
            .networks(&crate::docker::filters([("label", label.as_str())]))
            .unwrap_or_default();
        let mut names: Vec<&str> = list.iter().filter_map(|n| n["Name"].as_str()).collect();
        names.sort_unstable();
        for name in names {
            out.push_str(&format!("network {name} on {ship}: remove\n"));
        }
    }
    out
}
