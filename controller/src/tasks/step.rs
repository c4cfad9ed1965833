//! The tasks the scheduler runs: one per instance, doing what its plan step
//! says (`plan::Action`) against the instance's ship, reporting progress
//! through the task context and failing with a message that says why.
//!
//! - start: `pre-start` checks, remove the old stopped container (with its
//!   anonymous volumes), pull only when the ship lacks the image (or with
//!   `-r`), create, start, then the `running` checks; a container that is
//!   not running right after start fails with its last log lines.
//!   A one-shot (`run: once`) is instead waited for until it exits: 0 is
//!   its success, another code fails with the code and the last log lines.
//! - stop: `pre-stop` checks, stop with `stop_timeout`, `stopped` checks.
//! - kill: SIGKILL, `stopped` checks.
//! - clean: remove a stopped container and its anonymous volumes.
//!
//! A start that creates a new container (none stood in the way), has
//! dependencies, no `pre-start` checks and no reference to another
//! container in its create request (links, `volumes_from`, a
//! `container:` network, PID or IPC namespace) creates it early: the create
//! (and a pull the ship needs) is the task's early part, run while the
//! dependencies still start and pass their checks; only the start waits
//! for them ([`start_tasks`]). Should the play end before such a container
//! is started, [`remove_unstarted`] removes it again, so an instance that
//! was not attempted has no container, as before.
//!
//! Failures of stop and kill are not fatal (the play goes on), as in
//! MaestroNG; the others abort what still waits.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::container_spec::create_request;
use super::pull::{PullSpec, pull_image};
use crate::config::Environment;
use crate::config::model::{Instance, LifecycleState};
use crate::docker::{Docker, LogOptions};
use crate::events::State;
use crate::lifecycle::{self, Target};
use crate::plan::observe::container_display;
use crate::plan::{Action, Step};
use crate::registry_auth::{self, Lookup};
use crate::scheduler::{
    Completion, Outcome, Report, Task as Node, TaskContext, TaskFailure, TaskResult,
};

/// Lines of a dead container's log shown in its failure.
const LOG_TAIL: u64 = 20;
/// Characters of a log line shown in a message.
const LOG_LINE_MAX: usize = 500;

/// What every task of a play shares.
pub struct Shared<'a> {
    pub env: &'a Environment,
    /// A client per ship name, or why there is none.
    pub dockers: &'a BTreeMap<String, Result<Docker, String>>,
    /// `-r/--refresh-images`: pull even when the ship has the image.
    pub refresh_images: bool,
    /// `up --no-start`: a create step creates the container and leaves it
    /// stopped (no start, no `running` checks).
    pub no_start: bool,
    /// (ship, image reference) pairs known to be on the ship in this play:
    /// the other instances of an image on a ship do not ask again (one
    /// image inspect per ship and image, not per instance).
    pub images_present: Mutex<BTreeSet<(String, String)>>,
}

/// Runs one plan step: the work of one scheduler node.
pub fn run_step(shared: &Shared<'_>, step: &Step, ctx: &TaskContext<'_>) -> TaskResult {
    let non_fatal = matches!(
        step.action,
        Action::Stop { .. } | Action::Kill { .. } | Action::Down { .. }
    );
    let fail = |m: String| {
        if non_fatal {
            TaskFailure::non_fatal(m)
        } else {
            TaskFailure::fatal(m)
        }
    };
    match &step.action {
        // A ship that did not answer fails its own instances only: never
        // fatal, so the rest of the play goes on (its dependents were
        // planned as `Blocked`).
        Action::HostDown { reason } => Err(TaskFailure::non_fatal(format!("host down: {reason}"))),
        Action::Blocked { by } => Err(TaskFailure::non_fatal(format!(
            "not started: {by} is on a ship that did not answer"
        ))),
        Action::UpToDate { container, drift } => {
            let secs = container.for_secs.unwrap_or(0);
            ctx.emit_with_container(container.display(), State::UpFor { secs });
            if *drift {
                ctx.emit_note(format!(
                    "{}: running with an older configuration; restart it to apply the change",
                    step.instance
                ));
            }
            Ok(Completion::Done)
        }
        Action::Down { container } => {
            match container {
                Some(c) => ctx.emit_with_container(c.display(), State::Down),
                None => ctx.emit(State::Down),
            }
            Ok(Completion::Done)
        }
        Action::Absent => {
            ctx.emit(State::Absent);
            Ok(Completion::Done)
        }
        Action::Completed { container } => {
            ctx.emit_with_container(container.display(), State::AlreadyCompleted);
            Ok(Completion::Done)
        }
        Action::SkipRunning { container } => {
            ctx.emit_with_container(container.display(), State::Skipped);
            Ok(Completion::Skipped)
        }
        _ => {
            let (instance, docker) = shared.resolve(step).map_err(fail)?;
            let task = Task {
                shared,
                instance,
                docker,
                ctx,
            };
            match &step.action {
                Action::Create { replace } => task
                    .create_and_start(replace.as_ref().map(|c| c.id.as_str()))
                    .map_err(TaskFailure::fatal),
                Action::StartExisting { container } => task
                    .start_existing(&container.id)
                    .map_err(TaskFailure::fatal),
                Action::AwaitExit { container } => {
                    ctx.emit_with_container(container.display(), State::RunningToCompletion);
                    task.run_to_completion(&container.id)
                        .map_err(TaskFailure::fatal)
                }
                Action::Stop { container } => task
                    .stop(&container.id, &container.display(), false)
                    .map_err(TaskFailure::non_fatal),
                Action::Kill { container } => task
                    .stop(&container.id, &container.display(), true)
                    .map_err(TaskFailure::non_fatal),
                Action::Remove { container } => task
                    .remove(&container.id, &container.display())
                    .map_err(TaskFailure::fatal),
                _ => Ok(Completion::Done),
            }
        }
    }
}

/// One scheduler task per step of a `start` plan. A step that creates early
/// (see the module doc) gets its create as the task's early part; the id of
/// the container it made is kept in `created` (one slot per step, same
/// order) for the start, and for [`remove_unstarted`].
pub fn start_tasks<'a>(
    shared: &'a Shared<'a>,
    steps: &'a [Step],
    created: &'a [OnceLock<String>],
) -> Vec<Node<'a>> {
    steps
        .iter()
        .zip(created)
        .map(|(step, slot)| {
            let node = Node::new(
                &step.instance,
                &step.service,
                &step.ship,
                Vec::<String>::new(),
                move |ctx| match slot.get() {
                    Some(id) => start_created(shared, step, id, ctx),
                    None => run_step(shared, step, ctx),
                },
            )
            .with_deps(step.deps.clone());
            if shared.creates_early(step) {
                node.with_early(move |ctx| create_early(shared, step, slot, ctx))
            } else {
                node
            }
        })
        .collect()
}

/// Removes the containers created early whose task never got to start
/// them (the play was aborted or interrupted first), so that an instance
/// reported as not attempted has no container. Returns one message per
/// container that could not be removed.
pub fn remove_unstarted(
    shared: &Shared<'_>,
    steps: &[Step],
    created: &[OnceLock<String>],
    report: &Report,
) -> Vec<String> {
    let leftovers: Vec<(&Step, &String)> = steps
        .iter()
        .zip(created)
        .filter_map(|(step, slot)| Some((step, slot.get()?)))
        .filter(|(step, _)| {
            report
                .node(&step.instance)
                .is_some_and(|n| matches!(n.outcome, Outcome::Aborted(_)))
        })
        .collect();
    let mut problems = Vec::new();
    for (step, id) in leftovers {
        let removed = shared
            .client(&step.ship)
            .map_err(|f| f.message)
            .and_then(|docker| {
                docker
                    .remove(id, true, true)
                    .or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) })
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = removed {
            problems.push(format!(
                "{}: the container created for it was not started and could not be removed: {e}",
                step.instance
            ));
        }
    }
    problems
}

/// The early part of a start step: pull when needed and create.
fn create_early(
    shared: &Shared<'_>,
    step: &Step,
    created: &OnceLock<String>,
    ctx: &TaskContext<'_>,
) -> TaskResult {
    let (instance, docker) = shared.resolve(step).map_err(TaskFailure::fatal)?;
    let task = Task {
        shared,
        instance,
        docker,
        ctx,
    };
    let id = task.create().map_err(TaskFailure::fatal)?;
    let shown = container_display(&instance.image, &id);
    // Only the first set counts; a task's early part runs once.
    let _ = created.set(id);
    ctx.emit_with_container(shown, State::Waiting);
    Ok(Completion::Done)
}

/// The rest of a start step whose container was created early.
fn start_created(shared: &Shared<'_>, step: &Step, id: &str, ctx: &TaskContext<'_>) -> TaskResult {
    let (instance, docker) = shared.resolve(step).map_err(TaskFailure::fatal)?;
    let task = Task {
        shared,
        instance,
        docker,
        ctx,
    };
    task.start_and_check(id).map_err(TaskFailure::fatal)
}

impl Shared<'_> {
    /// Whether a start step creates its container early: a new container
    /// (no old one to remove first: a play that ends before the start
    /// would leave the instance without the container it had), after
    /// dependencies (without, there is nothing to overlap), no `pre-start`
    /// checks (they may look for the dependencies, and ran before the
    /// create in MaestroNG), and a create request that names no other
    /// container (the daemon refuses links, `volumes_from` and a
    /// `container:` network, PID or IPC namespace to a container that does
    /// not exist yet).
    fn creates_early(&self, step: &Step) -> bool {
        if self.no_start || !matches!(step.action, Action::Create { replace: None }) {
            return false;
        }
        if step.deps.is_empty() || !matches!(self.dockers.get(&step.ship), Some(Ok(_))) {
            return false;
        }
        self.env.instances.get(&step.instance).is_some_and(|i| {
            let pre_start = i
                .lifecycle
                .get(&LifecycleState::PreStart)
                .is_some_and(|c| !c.is_empty());
            let names_a_container = !i.links.is_empty()
                || !i.volumes_from.is_empty()
                || [&i.net, &i.options.pid, &i.options.ipc]
                    .into_iter()
                    .any(|mode| mode.as_deref().is_some_and(|m| m.starts_with("container:")));
            !pre_start && !names_a_container
        })
    }

    fn resolve(&self, step: &Step) -> Result<(&Instance, &Docker), String> {
        let instance = self
            .env
            .instances
            .get(&step.instance)
            .ok_or_else(|| format!("unknown instance {}", step.instance))?;
        let docker = self.client(&instance.ship.name).map_err(|f| f.message)?;
        Ok((instance, docker))
    }

    /// The client of a ship in play. A ship whose client could not be built
    /// fails its own task only (`host down`, not fatal); a ship without a
    /// client at all is a bug of the play's making (fatal).
    pub fn client(&self, ship: &str) -> Result<&Docker, TaskFailure> {
        match self.dockers.get(ship) {
            Some(Ok(d)) => Ok(d),
            Some(Err(e)) => Err(TaskFailure::non_fatal(format!("host down: {e}"))),
            None => Err(TaskFailure::fatal(format!("ship `{ship}` has no client"))),
        }
    }
}

struct Task<'a, 'c> {
    shared: &'a Shared<'a>,
    instance: &'a Instance,
    docker: &'a Docker,
    ctx: &'a TaskContext<'c>,
}

impl Task<'_, '_> {
    fn has_checks(&self, state: LifecycleState) -> bool {
        self.instance
            .lifecycle
            .get(&state)
            .is_some_and(|c| !c.is_empty())
    }

    /// Runs the checks of `state`, if the instance has any.
    fn checks(&self, state: LifecycleState, container_id: Option<&str>) -> Result<(), String> {
        if !self.has_checks(state) {
            return Ok(());
        }
        let env = self.shared.env.container_env(self.instance);
        let target = Target {
            instance: self.instance,
            ship: &self.instance.ship,
            docker: self.docker,
            container_id,
            container_env: &env,
        };
        let ctx = self.ctx;
        let progress = |s: State| ctx.emit(s);
        lifecycle::run_state(state, &target, ctx.cancel, &progress).map_err(|f| {
            let name = match state {
                LifecycleState::PreStart => "pre-start",
                LifecycleState::Running => "running",
                LifecycleState::PreStop => "pre-stop",
                LifecycleState::Stopped => "stopped",
            };
            let mut m = format!("{name} checks failed: {}", f.message);
            if let Some(logs) = f.logs.filter(|l| !l.trim().is_empty()) {
                m.push_str(&indent_logs(&logs));
            }
            // The container's own output may print its environment.
            self.scrub(m)
        })
    }

    /// A daemon's error about the container, or its log lines, without the
    /// values of its secret variables (runc quotes an environment entry it
    /// refuses; a program may print its configuration).
    fn scrub(&self, message: String) -> String {
        self.shared.env.scrub_secrets(self.instance, &message)
    }

    fn create_and_start(&self, replace: Option<&str>) -> TaskResult2 {
        self.checks(LifecycleState::PreStart, replace)?;
        if let Some(old) = replace {
            self.ctx.emit(State::Removing);
            self.docker
                .remove(old, true, false)
                .or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) })
                .map_err(|e| format!("cannot remove the old container: {e}"))?;
        }
        let id = self.create()?;
        if self.shared.no_start {
            let shown = container_display(&self.instance.image, &id);
            self.ctx.emit_with_container(shown, State::Done);
            return Ok(Completion::Done);
        }
        self.start_and_check(&id)
    }

    /// Pulls the image when the ship lacks it, creates the container and
    /// returns its id.
    fn create(&self) -> Result<String, String> {
        self.ensure_image()?;
        self.ctx.emit(State::Creating);
        super::resources::ensure(self.docker, self.shared.env, self.instance)?;
        let env = self.shared.env.container_env(self.instance);
        let body = create_request(&self.shared.env.name, self.instance, &env);
        let platform = self.instance.options.platform.as_deref();
        let created = self
            .docker
            .create_on(&self.instance.name, platform, &body)
            .map_err(|e| self.scrub(format!("cannot create the container: {e}")))?;
        if let Err(e) = super::resources::connect(self.docker, self.instance, &created.id) {
            // A container left half-connected would be started as it is by
            // a later `--reuse`: it goes.
            let _ = self.docker.remove(&created.id, true, true);
            return Err(e);
        }
        Ok(created.id)
    }

    fn start_existing(&self, id: &str) -> TaskResult2 {
        self.checks(LifecycleState::PreStart, Some(id))?;
        self.start_and_check(id)
    }

    fn start_and_check(&self, id: &str) -> TaskResult2 {
        let shown = container_display(&self.instance.image, id);
        self.ctx.emit_with_container(shown, State::Starting);
        self.docker
            .start(id)
            .map_err(|e| self.scrub(format!("cannot start the container: {e}")))?;
        if self.instance.one_shot().is_some() {
            self.ctx.emit(State::RunningToCompletion);
            return self.run_to_completion(id);
        }
        let details = self
            .docker
            .inspect(id)
            .map_err(|e| format!("container status could not be obtained after start: {e}"))?;
        if !details.state.running {
            return Err(format!(
                "container {} (code {}) right after start{}",
                details.state.status,
                details.state.exit_code,
                self.log_tail(id)
            ));
        }
        self.checks(LifecycleState::Running, Some(id))?;
        self.ctx.emit(State::Started);
        Ok(Completion::Done)
    }

    /// Waits for a one-shot container to exit, at most its `run_max_wait`:
    /// exit 0 is its success; another code fails with the code and the
    /// last log lines. Its dependents wait for this, so they start only
    /// once it has done its work. A container still running at the limit
    /// is left running (it may be half way through its work) and fails.
    fn run_to_completion(&self, id: &str) -> TaskResult2 {
        let max_wait = self.instance.one_shot().unwrap_or_default();
        let deadline = std::time::Instant::now() + max_wait;
        // Looked at soon after its start (many finish in a blink), then
        // less often: the watch's doubling delays.
        let mut pauses = crate::lifecycle::backoff::Backoff::new();
        loop {
            let details = self
                .docker
                .inspect(id)
                .map_err(|e| format!("one-shot container status could not be obtained: {e}"))?;
            let state = &details.state;
            if !state.running && matches!(state.status.as_str(), "exited" | "dead") {
                if state.exit_code == 0 && state.status == "exited" {
                    self.ctx.emit(State::Completed);
                    return Ok(Completion::Done);
                }
                let how = if state.status == "dead" {
                    format!("is dead (code {})", state.exit_code)
                } else {
                    format!("exited with code {}", state.exit_code)
                };
                return Err(format!("one-shot container {how}{}", self.log_tail(id)));
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(format!(
                    "one-shot container still running after run_max_wait ({}s); it was left running{}",
                    max_wait.as_secs(),
                    self.log_tail(id)
                ));
            }
            let pause = pauses.next().unwrap_or(crate::lifecycle::backoff::MAX);
            if self.ctx.cancel.sleep(pause.min(deadline - now)) {
                return Err("interrupted while waiting for the one-shot container to exit; it was left running".into());
            }
        }
    }

    /// The last log lines of a container, indented under the message.
    fn log_tail(&self, id: &str) -> String {
        let opts = LogOptions {
            tail: Some(LOG_TAIL),
            ..LogOptions::default()
        };
        let mut text = Vec::new();
        if let Ok(stream) = self.docker.logs(id, &opts) {
            for frame in stream.flatten() {
                text.extend(frame.data);
            }
        }
        let text = String::from_utf8_lossy(&text);
        if text.trim().is_empty() {
            "; no log output".into()
        } else {
            // Shown in progress and told to auditors: without the values of
            // the container's secret variables, which its output may print.
            self.scrub(indent_logs(&text))
        }
    }

    /// Pulls the image when the ship lacks it, or always with `-r`, the
    /// way `maestro pull` does (same credentials, retries and progress).
    fn ensure_image(&self) -> Result<(), String> {
        let image = &self.instance.image;
        // An untagged image means `:latest` (MaestroNG compared the bare
        // name against tags and pulled on every start).
        let reference = if image.contains('@') {
            image.clone()
        } else {
            let (repo, tag) = maestro_common::image_details(image);
            format!("{repo}:{tag}")
        };
        let key = (self.instance.ship.name.clone(), reference.clone());
        let known = |present: &BTreeSet<(String, String)>| present.contains(&key);
        if !self.shared.refresh_images {
            if self.shared.images_present.lock().is_ok_and(|p| known(&p)) {
                return Ok(());
            }
            if self.ship_has_image(&reference)? {
                if let Ok(mut p) = self.shared.images_present.lock() {
                    p.insert(key);
                }
                return Ok(());
            }
        }
        // Credentials are looked up only now: a start that pulls nothing
        // never reads the Docker configuration.
        let env = self.shared.env;
        let credentials = registry_auth::for_image(env, image, &Lookup::from_process())
            .map_err(|e| format!("cannot pull {reference}: {e}"))?;
        let spec = PullSpec {
            image: &reference,
            credentials: credentials.as_ref(),
            retry: env.registry_for(image).map(|r| &r.retry),
            // Presence was checked above.
            refresh: true,
        };
        pull_image(self.docker, &spec, self.ctx)
            .map(|_| ())
            .map_err(|e| format!("cannot pull {reference}: {e}"))
    }

    fn ship_has_image(&self, reference: &str) -> Result<bool, String> {
        match self.docker.image_inspect(reference) {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(format!("cannot inspect image {reference}: {e}")),
        }
    }

    /// stop (`kill` false: pre-stop checks, stop with the grace period) or
    /// kill (SIGKILL), then the `stopped` checks.
    fn stop(&self, id: &str, shown: &str, kill: bool) -> TaskResult2 {
        if kill {
            self.ctx.emit_with_container(shown, State::Killing);
            self.docker
                .kill(id, Some("SIGKILL"))
                .or_else(|e| if is_not_running(&e) { Ok(()) } else { Err(e) })
                .map_err(|e| format!("cannot kill the container: {e}"))?;
        } else {
            self.checks(LifecycleState::PreStop, Some(id))?;
            self.ctx.emit_with_container(shown, State::Stopping);
            self.docker
                .stop(id, Some(Duration::from_secs(self.instance.stop_timeout)))
                .map_err(|e| format!("cannot stop the container: {e}"))?;
        }
        self.checks(LifecycleState::Stopped, Some(id))?;
        self.ctx
            .emit(if kill { State::Killed } else { State::Stopped });
        Ok(Completion::Done)
    }

    fn remove(&self, id: &str, shown: &str) -> TaskResult2 {
        self.ctx.emit_with_container(shown, State::Removing);
        self.docker
            .remove(id, true, false)
            .map_err(|e| format!("cannot remove the container: {e}"))?;
        self.ctx.emit(State::Removed);
        Ok(Completion::Done)
    }
}

type TaskResult2 = Result<Completion, String>;

/// A kill of a container that has stopped meanwhile is a 409 "is not running".
fn is_not_running(e: &crate::docker::Error) -> bool {
    e.status() == Some(409) && e.to_string().contains("is not running")
}

/// Log text under a failure message, each line indented.
fn indent_logs(text: &str) -> String {
    let mut out = String::from("; last log lines:");
    // The daemon was asked for LOG_TAIL lines; one that sends more, or
    // lines without end, must not flood the message.
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[lines.len().saturating_sub(LOG_TAIL as usize)..] {
        out.push_str("\n    ");
        let line = line.trim_end();
        match line.char_indices().nth(LOG_LINE_MAX) {
            Some((at, _)) => {
                out.push_str(&line[..at]);
                out.push_str("...");
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_indented_under_the_message() {
        assert_eq!(
            indent_logs("one\ntwo  \n"),
            "; last log lines:\n    one\n    two"
        );
    }

    #[test]
    fn log_tails_keep_the_last_lines_each_cut_short() {
        let many: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let shown = indent_logs(&many);
        assert_eq!(shown.lines().count(), 1 + LOG_TAIL as usize);
        assert!(shown.ends_with("\n    line 99"), "{shown}");
        assert!(shown.contains("\n    line 80\n"), "{shown}");
        let long = "é".repeat(LOG_LINE_MAX * 10);
        let shown = indent_logs(&long);
        assert_eq!(
            shown.chars().count(),
            "; last log lines:\n    ".chars().count() + LOG_LINE_MAX + 3
        );
    }
}
