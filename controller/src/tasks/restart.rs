//! The restart task: one per instance, run by the scheduler in the order
//! of `plan::restart` (dependencies first, one batch of a service after
//! the other). It is made of the start and stop tasks (`tasks::run_step`)
//! and the pull task (`pull::pull_image`):
//!
//! 1. `-r`: pull the image on the instance's ship (asking the registry);
//! 2. `--only-if-changed`: a running container created from the image the
//!    ship now has under the configured name, with the configuration's
//!    hash label, is left alone (`up to date`);
//! 3. `--step-delay`: wait until that long after the previous batch of the
//!    service finished restarting (Ctrl-C ends the wait and the roll: the
//!    instance is left as it was);
//! 4. stop (pre-stop checks, stop, stopped checks), `--stop-start-delay`,
//!    start (recreate, or start the same container with `--reuse`), then
//!    the `running` checks.
//!
//! Every failure is fatal: a roll stops at the first instance that does not
//! come back (or cannot be stopped or pulled), and everything not yet
//! started keeps its old container. A ship that does not answer fails its
//! own instances only. Ctrl-C after an instance's container was stopped
//! (during its `stopped` checks or `--stop-start-delay`) still starts it,
//! without waiting for its `running` checks; only `pre-start` checks,
//! which an interruption cuts short, keep it from starting.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pull::{PullSpec, pull_image};
use super::step::{Shared, run_step};
use crate::docker::Docker;
use crate::events::State;
use crate::plan::observe::Container;
use crate::plan::restart::{RestartAction, RestartStep};
use crate::plan::{Action, Step};
use crate::registry_auth::Credentials;
use crate::scheduler::{Completion, TaskContext, TaskFailure, TaskResult};

/// The command line's restart flags the tasks act on.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestartFlags {
    pub refresh_images: bool,
    pub reuse: bool,
    pub only_if_changed: bool,
    pub step_delay: Duration,
    pub stop_start_delay: Duration,
}

/// What every restart task of a play shares.
pub struct RestartShared<'a> {
    /// The start and stop tasks' context (`refresh_images` false: the pull
    /// is this task's first step, the start does not pull again).
    pub tasks: Shared<'a>,
    pub flags: RestartFlags,
    /// Credentials per image, looked up once (`registry_auth::for_image`).
    pub credentials: BTreeMap<String, Result<Option<Credentials>, String>>,
    /// When each service last finished restarting an instance, for
    /// `--step-delay`.
    last_restart: Mutex<BTreeMap<String, Instant>>,
}

impl<'a> RestartShared<'a> {
    pub fn new(
        tasks: Shared<'a>,
        flags: RestartFlags,
        credentials: BTreeMap<String, Result<Option<Credentials>, String>>,
    ) -> Self {
        RestartShared {
            tasks,
            flags,
            credentials,
            last_restart: Mutex::new(BTreeMap::new()),
        }
    }
}

/// Runs one instance's restart: the work of one scheduler node. `Done`
/// when it was restarted, `Unchanged` when it was found up to date.
pub fn run_restart(
    shared: &RestartShared<'_>,
    step: &RestartStep,
    ctx: &TaskContext<'_>,
) -> TaskResult {
    if let RestartAction::HostDown { reason } = &step.action {
        return Err(TaskFailure::non_fatal(format!("host down: {reason}")));
    }
    let flags = &shared.flags;
    let env = shared.tasks.env;
    let instance = env
        .instances
        .get(&step.instance)
        .ok_or_else(|| TaskFailure::fatal(format!("unknown instance {}", step.instance)))?;
    let docker = shared.tasks.client(&step.ship)?;

    if flags.refresh_images {
        let credentials = match shared.credentials.get(&instance.image) {
            Some(Ok(c)) => c.as_ref(),
            Some(Err(e)) => return Err(TaskFailure::fatal(e.clone())),
            None => None,
        };
        let spec = PullSpec {
            image: &instance.image,
            credentials,
            retry: env.registry_for(&instance.image).map(|r| &r.retry),
            refresh: true,
        };
        pull_image(docker, &spec, ctx)
            .map_err(|e| TaskFailure::fatal(format!("cannot pull: {e}")))?;
    }

    if flags.only_if_changed
        && let RestartAction::Restart { container } = &step.action
        && is_current(docker, &instance.image, &instance.config_hash, container)
            .map_err(TaskFailure::fatal)?
    {
        ctx.emit_with_container(container.display(), State::UpToDate);
        return Ok(Completion::Unchanged);
    }

    // A one-shot that completed from the file's configuration has nothing
    // to apply.
    if flags.only_if_changed
        && instance.one_shot().is_some()
        && let RestartAction::Start {
            container: Some(container),
        } = &step.action
        && container.completed(&instance.config_hash)
    {
        ctx.emit_with_container(container.display(), State::AlreadyCompleted);
        return Ok(Completion::Unchanged);
    }

    wait_for_step_delay(shared, &step.service, ctx);
    // Ctrl-C before the stop (during the step delay, typically): the roll
    // ends here and this instance keeps its container, as the instances
    // not yet reached do.
    if ctx.cancel.is_cancelled() {
        return Err(TaskFailure::fatal(
            "interrupted before its restart: left as it was",
        ));
    }

    let part = |action: Action| Step {
        instance: step.instance.clone(),
        service: step.service.clone(),
        ship: step.ship.clone(),
        deps: Default::default(),
        action,
    };
    let start = match &step.action {
        RestartAction::Restart { container } => {
            // A stop that fails stops the roll: the container may still
            // run, and starting a second one would be worse than waiting.
            // Except Ctrl-C during the `stopped` checks: the container is
            // down, and an interrupted roll brings back what it stopped.
            let stop = run_step(
                &shared.tasks,
                &part(Action::Stop {
                    container: container.clone(),
                }),
                ctx,
            );
            if let Err(f) = stop
                && !(ctx.cancel.is_cancelled() && is_down(docker, &container.id))
            {
                return Err(TaskFailure::fatal(f.message));
            }
            if !flags.stop_start_delay.is_zero() {
                ctx.emit(State::Waiting);
                // Ctrl-C cuts the delay short but the container is still
                // started: an interrupted roll never leaves it stopped.
                ctx.cancel.sleep(flags.stop_start_delay);
            }
            start_action(flags.reuse, Some(container))
        }
        RestartAction::Start { container } => start_action(flags.reuse, container.as_ref()),
        // Answered at the top: nothing to start on a ship that is down.
        RestartAction::HostDown { .. } => return Ok(Completion::Unchanged),
    };
    let result = run_step(&shared.tasks, &part(start), ctx);
    if let Ok(mut last) = shared.last_restart.lock() {
        last.insert(step.service.clone(), Instant::now());
    }
    result?;
    Ok(Completion::Done)
}

/// Whether a container is known not to run (an inspect that fails says
/// nothing).
fn is_down(docker: &Docker, id: &str) -> bool {
    docker.inspect(id).is_ok_and(|d| !d.state.running)
}

/// How to start an instance whose container is stopped (or absent).
fn start_action(reuse: bool, container: Option<&Container>) -> Action {
    match container {
        Some(c) if reuse => Action::StartExisting {
            container: c.clone(),
        },
        replace => Action::Create {
            replace: replace.cloned(),
        },
    }
}

/// `--step-delay`: sleeps until the delay has passed since the service's
/// previous batch finished (nothing for the first batch, or after a batch
/// that was all up to date). Ctrl-C ends the wait (and the caller then
/// leaves the instance alone).
fn wait_for_step_delay(shared: &RestartShared<'_>, service: &str, ctx: &TaskContext<'_>) {
    let delay = shared.flags.step_delay;
    if delay.is_zero() {
        return;
    }
    let last = shared
        .last_restart
        .lock()
        .ok()
        .and_then(|l| l.get(service).copied());
    if let Some(last) = last {
        let left = delay.saturating_sub(last.elapsed());
        if !left.is_zero() {
            ctx.emit(State::Waiting);
            ctx.cancel.sleep(left);
        }
    }
}

/// Whether a running container already is what the configuration asks
/// for: created from the image the ship holds under the configured name
/// now, and labelled with the configuration's hash (so a changed port,
/// variable or volume counts as a change; a container without the label,
/// e.g. one MaestroNG created, counts as changed).
fn is_current(
    docker: &Docker,
    image: &str,
    config_hash: &str,
    container: &Container,
) -> Result<bool, String> {
    let details = docker
        .inspect(&container.id)
        .map_err(|e| format!("cannot inspect the container: {e}"))?;
    let wanted = match docker.image_inspect(image) {
        Ok(i) => i.id,
        // The ship lacks the configured image: the container cannot be it.
        Err(e) if e.is_not_found() => return Ok(false),
        Err(e) => return Err(format!("cannot inspect image {image}: {e}")),
    };
    let label = details
        .config
        .labels
        .as_ref()
        .and_then(|l| l.get(crate::labels::CONFIG_HASH));
    Ok(wanted.as_deref() == Some(details.image.as_str())
        && label.map(String::as_str) == Some(config_hash))
}
