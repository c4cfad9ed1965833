//! The `up` task: one per step of `plan::up`, made of the existing tasks.
//! A create is `start`'s create step, a start is `start --reuse`'s, a
//! recreate is `restart`'s task (stop when running, then remove and create
//! again, then the `running` checks); an unchanged instance is left alone
//! (same container; a one-shot still running is waited for); an orphan is stopped and removed. Start, recreate and
//! orphan removal failures are fatal (nothing not yet started is touched);
//! a refused instance (a conflicting container, a ship that did not answer)
//! fails alone and the play goes on.

use std::time::Duration;

use super::restart::{RestartShared, run_restart};
use super::step::run_step;
use crate::events::State;
use crate::plan::observe::Container;
use crate::plan::restart::{RestartAction, RestartStep};
use crate::plan::up::{UpStep, UpWork};
use crate::plan::{Action, Step};
use crate::scheduler::{Completion, TaskContext, TaskFailure, TaskResult};

/// Runs one step of `up`: the work of one scheduler node. `Done` when it
/// changed its instance, `Unchanged` when it left it alone.
pub fn run_up(shared: &RestartShared<'_>, step: &UpStep, ctx: &TaskContext<'_>) -> TaskResult {
    let as_step = |action: Action| Step {
        instance: step.instance.clone(),
        service: step.service.clone(),
        ship: step.ship.clone(),
        deps: Default::default(),
        action,
    };
    match &step.work {
        UpWork::Create => run_step(
            &shared.tasks,
            &as_step(Action::Create { replace: None }),
            ctx,
        ),
        UpWork::Start { container } => run_step(
            &shared.tasks,
            &as_step(Action::StartExisting {
                container: container.clone(),
            }),
            ctx,
        ),
        UpWork::Recreate { container, .. } => {
            let restart = RestartStep {
                instance: step.instance.clone(),
                service: step.service.clone(),
                ship: step.ship.clone(),
                deps: Default::default(),
                batch: 1,
                action: if container.running {
                    RestartAction::Restart {
                        container: container.clone(),
                    }
                } else {
                    RestartAction::Start {
                        container: Some(container.clone()),
                    }
                },
            };
            run_restart(shared, &restart, ctx)
        }
        UpWork::Leave { container } => {
            let instance = shared.tasks.env.instances.get(&step.instance);
            let one_shot = instance.is_some_and(|i| i.one_shot().is_some());
            // A one-shot still running (an earlier play was interrupted) is
            // waited for, so that its dependents start after its work.
            if one_shot && container.running {
                return run_step(
                    &shared.tasks,
                    &as_step(Action::AwaitExit {
                        container: container.clone(),
                    }),
                    ctx,
                )
                .map(|_| Completion::Unchanged);
            }
            let completed =
                one_shot && instance.is_some_and(|i| container.completed(&i.config_hash));
            let state = if container.running {
                State::UpToDate
            } else if completed {
                State::AlreadyCompleted
            } else {
                State::Down
            };
            ctx.emit_with_container(container.display(), state);
            Ok(Completion::Unchanged)
        }
        UpWork::Refuse { reason } => Err(TaskFailure::non_fatal(reason.clone())),
        UpWork::RemoveOrphan {
            container,
            stop_timeout,
        } => remove_orphan(shared, step, container, *stop_timeout, ctx),
    }
}

/// Stops (when running) and removes a container the file no longer has,
/// with its anonymous volumes. Its instance is not in the file (or is on
/// another ship), so there are no lifecycle checks to run.
fn remove_orphan(
    shared: &RestartShared<'_>,
    step: &UpStep,
    container: &Container,
    stop_timeout: Option<u64>,
    ctx: &TaskContext<'_>,
) -> TaskResult {
    let docker = shared.tasks.client(&step.ship)?;
    let shown = container.display();
    if container.running {
        ctx.emit_with_container(shown.clone(), State::Stopping);
        docker
            .stop(&container.id, stop_timeout.map(Duration::from_secs))
            .map_err(|e| TaskFailure::fatal(format!("cannot stop the orphan: {e}")))?;
    }
    ctx.emit_with_container(shown, State::Removing);
    docker
        .remove(&container.id, true, false)
        .or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) })
        .map_err(|e| TaskFailure::fatal(format!("cannot remove the orphan: {e}")))?;
    ctx.emit(State::Removed);
    Ok(Completion::Done)
}
