//! The frame every command that changes containers runs its play in
//! (start, stop, kill, clean, restart, pull, up): the auditors are told the play
//! starts, and one that refuses stops it before any change; the scheduler
//! runs it with the chosen renderer and Ctrl-C handling; the auditors hear
//! how it ended, and their warnings are printed.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::audit::{Auditors, PlayInfo};
use crate::config::Environment;
use crate::exit::Failed;
use crate::render::{self, Progress};
use crate::scheduler::{
    self, CancelToken, Concurrency, Deps, Play, Report, Task, TaskContext, TaskResult,
};

/// The per-ship limits of the environment's ships under the `-c` limit.
pub fn limits(env: &Environment, concurrency: usize) -> Concurrency {
    Concurrency::new(
        concurrency,
        env.ships
            .values()
            .map(|s| (s.name.as_str(), s.max_concurrency)),
    )
}

/// One scheduler task per step of a plan: `place` says where a step stands
/// in the play (its id, service, ship and the ids it waits for), `work`
/// what it does.
pub fn tasks<'a, S: Sync>(
    steps: &'a [S],
    place: impl Fn(&'a S) -> (&'a str, &'a str, &'a str, &'a Deps),
    work: impl Fn(&'a S, &TaskContext<'_>) -> TaskResult + Copy + Send + 'a,
) -> Vec<Task<'a>> {
    steps
        .iter()
        .map(|step| {
            let (id, service, ship, deps) = place(step);
            Task::new(id, service, ship, Vec::<String>::new(), move |ctx| {
                work(step, ctx)
            })
            .with_deps(deps.clone())
        })
        .collect()
}

/// Runs `play` under the environment's auditors and returns its report
/// (its summary says how the command ends). `failure` turns the report of
/// a play that did not succeed into the message the auditors get. An
/// auditor that refuses the play, or a play the scheduler cannot run, is a
/// `Failed`.
pub fn run_audited(
    env: &Environment,
    info: &PlayInfo,
    progress: Progress,
    play: Play<'_>,
    failure: impl FnOnce(&Report) -> String,
) -> Result<Report, Failed> {
    run_told(env, info, progress, play, |_| None, failure)
}

/// As [`run_audited`], and the auditors hear with the play's success what
/// it did (`outcome`, e.g. `up`'s summary).
pub fn run_audited_outcome(
    env: &Environment,
    info: &PlayInfo,
    progress: Progress,
    play: Play<'_>,
    outcome: impl Fn(&Report) -> String,
) -> Result<Report, Failed> {
    run_told(
        env,
        info,
        progress,
        play,
        |r| Some(outcome(r)),
        |r| outcome(r),
    )
}

fn run_told(
    env: &Environment,
    info: &PlayInfo,
    progress: Progress,
    play: Play<'_>,
    success: impl FnOnce(&Report) -> Option<String>,
    failure: impl FnOnce(&Report) -> String,
) -> Result<Report, Failed> {
    let auditors = Auditors::from_environment(env);
    if let Err(e) = auditors.action(info) {
        print_warnings(&auditors);
        return Err(Failed::failure(e));
    }
    let cancel = interrupt_token();
    let result = render::with_progress(progress, |sink| scheduler::run(play, sink, &cancel));
    match &result {
        Ok(report) if report.summary.exit_status() == crate::exit::ExitStatus::Success => {
            let mut done = info.clone();
            done.outcome = success(report);
            auditors.success(&done);
        }
        Ok(report) => auditors.error(info, &failure(report)),
        Err(e) => auditors.error(info, &e.to_string()),
    }
    print_warnings(&auditors);
    result.map_err(Failed::error)
}

fn print_warnings(auditors: &Auditors) {
    for w in auditors.take_warnings() {
        render::message::warning(w);
    }
}

/// The process's Ctrl-C token. The first call installs the handler: a
/// changing command calls it before it takes the deploy lock, so that from
/// then on a Ctrl-C always ends in a released lock.
pub fn interrupt_token() -> CancelToken {
    static TOKEN: OnceLock<CancelToken> = OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancelToken::new();
            install_interrupt_handler(&token);
            token
        })
        .clone()
}

/// Ctrl-C (and SIGTERM, SIGHUP): the first one cancels the play (tasks in
/// flight finish, the rest is reported as not attempted, exit 130); a
/// second one exits at once.
fn install_interrupt_handler(cancel: &CancelToken) {
    static PRESSED: AtomicUsize = AtomicUsize::new(0);
    let cancel = cancel.clone();
    let installed = ctrlc::set_handler(move || {
        if PRESSED.fetch_add(1, Ordering::SeqCst) == 0 {
            cancel.cancel();
        } else {
            // Exiting skips destructors: end the exec checks' commands (in
            // process groups of their own, which the terminal's Ctrl-C does
            // not reach) and release the deploy lock first.
            crate::lifecycle::exec::kill_all();
            crate::lock::release_held();
            std::process::exit(130);
        }
    });
    if let Err(e) = installed {
        render::message::warning(format_args!("Ctrl-C will end maestro at once: {e}"));
    }
}
