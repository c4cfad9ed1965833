//! `maestro start|stop|kill|clean`: config -> selection -> observe -> plan
//! -> scheduler tasks -> events -> renderer, with the auditors told before
//! and after, and Ctrl-C turned into a cancellation.

use std::collections::BTreeMap;

use crate::audit::PlayInfo;
use crate::cli::{GlobalArgs, PlayArgs, Selection};
use crate::config::Environment;
use crate::docker::Docker;
use crate::exec::tasks::{Shared, run_step};
use crate::exec::{Direction, Node, Play};
use crate::plan::selection::{self, Command, Request};
use crate::plan::{self as planning, PlanOptions};

/// What the command line asked for, beyond the selection.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub expand_services: bool,
    pub all: bool,
    pub refresh_images: bool,
    pub reuse: bool,
}

/// The selection request of the command line.
pub fn request(sel: &Selection, expand_services: bool, all: bool) -> Request {
    Request {
        things: sel.things.clone(),
        with_dependencies: sel.with_dependencies,
        ignore_dependencies: sel.ignore_dependencies,
        expand_services,
        all,
        container_filter: sel.container_filter.clone(),
        ship_filter: sel.ship_filter.clone(),
    }
}

/// A client for every ship that holds an instance of `selected`; a ship
/// whose client cannot be built (unreadable TLS files) gets the reason.
pub fn clients<'a>(
    env: &Environment,
    selected: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, Result<Docker, String>> {
    let mut out = BTreeMap::new();
    for name in selected {
        let Some(i) = env.instances.get(name) else {
            continue;
        };
        if out.contains_key(&i.ship) {
            continue;
        }
        let Some(ship) = env.ships.get(&i.ship) else {
            continue;
        };
        let client = Docker::new(ship).map_err(|e| e.to_string());
        if let Ok(d) = &client
            && let Some(w) = d.warning()
        {
            eprintln!("maestro: warning: {w}");
        }
        out.insert(i.ship.clone(), client);
    }
    out
}

/// Runs one of start, stop, kill, clean and returns the exit code.
pub fn run(global: &GlobalArgs, command: Command, args: &PlayArgs, opts: &Options) -> i32 {
    let loaded = match super::load(global) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let env = &loaded.env;
    let sel = &args.selection;
    let selected =
        match selection::select(env, command, &request(sel, opts.expand_services, opts.all)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("maestro: {}", e.message());
                return e.exit_code();
            }
        };
    let deps = selection::dependencies(env, &selected, sel.ignore_dependencies);
    let dockers = clients(env, &selected);
    let observed = planning::observe(env, &selected, &dockers);
    let plan = planning::plan(
        env,
        command,
        &deps,
        &observed,
        PlanOptions { reuse: opts.reuse },
    );
    if args.dry_run {
        return super::print_stdout(&plan.to_string()).err().unwrap_or(0);
    }

    let info = PlayInfo::new(
        command.name(),
        plan.steps.iter().map(|s| s.instance.clone()).collect(),
    );
    let shared = Shared {
        env,
        dockers: &dockers,
        refresh_images: opts.refresh_images,
    };
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
                move |ctx| run_step(shared, step, ctx),
            )
        })
        .collect();
    let play = Play {
        command: command.name().to_string(),
        direction: if command.is_reverse() {
            Direction::Reverse
        } else {
            Direction::Forward
        },
        limits: super::play::limits(env, sel.concurrency),
        nodes,
    };
    super::play::run_audited(env, &info, args.progress, play, |report| {
        let mut msg = format!(
            "{}: {} failed, {} not attempted",
            command.name(),
            report.summary.failed,
            report.summary.aborted
        );
        if report.summary.interrupted {
            msg.push_str(" (interrupted)");
        }
        msg
    })
}
