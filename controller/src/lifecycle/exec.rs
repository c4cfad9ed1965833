//! `exec`: a command run on the maestro host (in the current folder), with
//! the container's environment; exit code 0 passes.
//!
//! Each run is the leader of its own process group, and the whole group is
//! killed when the run ends: a command that forks (`sh -c 'x & y'`) leaves
//! nothing behind when it exits, outlives its `timeout`, the check's
//! `max_wait`, or the check is stopped (the state was decided, Ctrl-C).
//! The leader is reaped only after its group was killed, so the group's id
//! cannot have been reused by then.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::backoff::Backoff;
use super::retry::{Attempt, Budget, Verdict, retry};
use crate::config::model::EnvFrom;
use crate::scheduler::CancelToken;

/// How long an exec check may take beyond its `attempts`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// One run (`timeout`, seconds).
    pub timeout: Option<f64>,
    /// The whole check, a run in flight included (`max_wait`, seconds).
    pub max_wait: Option<f64>,
}

fn duration(secs: Option<f64>) -> Option<Duration> {
    secs.map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
}

/// Runs `command` until it exits 0, within `attempts` attempts (see
/// `retry`) and the `limits`.
pub fn check(
    command: &[String],
    attempts: u64,
    envfrom: EnvFrom,
    container_env: &BTreeMap<String, String>,
    limits: Limits,
    stop: &CancelToken,
) -> Verdict {
    // The stdin document is the same for every attempt.
    let stdin = match envfrom {
        EnvFrom::Env => None,
        EnvFrom::Stdin => Some(stdin_document(container_env)),
    };
    let timeout = duration(limits.timeout);
    let max_wait = duration(limits.max_wait);
    let budget = Budget::attempts(attempts).at_most(max_wait);
    retry(budget, stop, |left| {
        // A run gets its timeout, and never more than what is left of
        // `max_wait`.
        let run = match (timeout, max_wait) {
            (Some(t), Some(_)) if t <= left => Some(RunLimit::Timeout(t)),
            (Some(t), None) => Some(RunLimit::Timeout(t)),
            (_, Some(_)) => Some(RunLimit::MaxWait(left)),
            (None, None) => None,
        };
        attempt(command, container_env, stdin.as_deref(), run, stop)
    })
}

/// What ends a run that does not exit by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunLimit {
    /// The check's `timeout`.
    Timeout(Duration),
    /// What is left of the check's `max_wait`.
    MaxWait(Duration),
}

impl RunLimit {
    fn after(self) -> Duration {
        match self {
            RunLimit::Timeout(d) | RunLimit::MaxWait(d) => d,
        }
    }

    /// The attempt's reason when the run was killed.
    fn reason(self) -> String {
        match self {
            RunLimit::Timeout(d) => format!("no exit within {}s (killed)", d.as_secs_f64()),
            RunLimit::MaxWait(_) => "still running at max_wait (killed)".into(),
        }
    }
}

/// MaestroNG's `envfrom: stdin`: maestro's own environment with the
/// container's on top, as one JSON object.
pub fn stdin_document(container_env: &BTreeMap<String, String>) -> Vec<u8> {
    let mut all: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    all.extend(container_env.iter().map(|(k, v)| (k.clone(), v.clone())));
    serde_json::to_vec(&all).unwrap_or_default()
}

/// One run, killed with its process group after `limit` (if any). With a
/// stdin document the command inherits maestro's plain environment and
/// reads the document; otherwise the container's variables are added to
/// its environment.
pub fn attempt(
    command: &[String],
    container_env: &BTreeMap<String, String>,
    stdin: Option<&[u8]>,
    limit: Option<RunLimit>,
    stop: &CancelToken,
) -> Attempt {
    let Some((program, args)) = command.split_first() else {
        return Attempt::Fatal("empty command".into());
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        // Never printed: the output could hold the environment's secrets.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        // Its own group, so that the run can be ended with everything it
        // started.
        .process_group(0);
    if stdin.is_none() {
        cmd.envs(container_env);
    }
    let mut child = match spawn(&mut cmd) {
        Ok(c) => c,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => {
            return Attempt::Fatal(format!("cannot run {program}: {e}"));
        }
        Err(e) => return Attempt::Retry(format!("cannot run {program}: {e}")),
    };
    let ended = std::thread::scope(|s| {
        if let (Some(doc), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A command that never reads its stdin must not block us: write
            // on the side, and let a broken pipe be.
            s.spawn(move || {
                let _ = pipe.write_all(doc);
            });
        }
        wait(&mut child, limit.map(RunLimit::after), stop)
    });
    match ended {
        Ended::Stopped => Attempt::Retry("stopped".into()),
        Ended::TimedOut => Attempt::Retry(limit.map(RunLimit::reason).unwrap_or_default()),
        Ended::Failed(e) => Attempt::Retry(format!("waiting for {program}: {e}")),
        Ended::Exited(s) => exit_attempt(s),
    }
}

fn exit_attempt(s: ExitStatus) -> Attempt {
    match (s.code(), s.signal()) {
        (Some(0), _) => Attempt::Pass,
        (Some(code), _) => Attempt::Retry(format!("exit code {code}")),
        (None, Some(sig)) => Attempt::Retry(format!("killed by signal {sig}")),
        (None, None) => Attempt::Retry(format!("{s}")),
    }
}

/// How a run ended.
enum Ended {
    Exited(ExitStatus),
    /// `stop` fired.
    Stopped,
    /// Still running at its limit.
    TimedOut,
    Failed(std::io::Error),
}

/// Waits for the run, polling often at first; kills its process group when
/// it exits (what it left behind), outlives `limit`, or `stop` fires.
fn wait(child: &mut Child, limit: Option<Duration>, stop: &CancelToken) -> Ended {
    let start = Instant::now();
    let mut delays = Backoff::between(Duration::from_millis(2), Duration::from_millis(50));
    let ended = loop {
        match exited(child) {
            Ok(true) => break None,
            Ok(false) => {}
            Err(e) => break Some(Ended::Failed(e)),
        }
        let mut delay = delays.next().unwrap_or(Duration::from_millis(50));
        if let Some(limit) = limit {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                break Some(Ended::TimedOut);
            }
            delay = delay.min(left);
        }
        if stop.sleep(delay) {
            break Some(Ended::Stopped);
        }
    };
    end_group(child);
    let status = child.wait();
    match (ended, status) {
        (Some(ended), _) => ended,
        (None, Ok(s)) => Ended::Exited(s),
        (None, Err(e)) => Ended::Failed(e),
    }
}

/// Whether the child has exited, without reaping it: while it is a zombie
/// its pid, the group's id, cannot be reused.
fn exited(child: &Child) -> std::io::Result<bool> {
    // SAFETY: an all-zero siginfo_t is a valid value; waitid writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t; the pid is our child's.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            child.id(),
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: waitid filled `info` (si_pid is 0 when nothing exited yet).
    Ok(unsafe { info.si_pid() } != 0)
}

/// The process groups of runs in flight, for an exit that cannot wait for
/// them (a second Ctrl-C): they are in groups of their own, so the
/// terminal's Ctrl-C does not reach them.
static GROUPS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    // Held across the spawn, so that `kill_all` cannot miss a group.
    let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
    let child = cmd.spawn()?;
    groups.insert(child.id());
    Ok(child)
}

/// Kills the run's process group (the leader is not yet reaped).
fn end_group(child: &Child) {
    let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
    kill_group(child.id());
    groups.remove(&child.id());
}

fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: kill has no memory effects; a negative pid names a group.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Kills every exec check run in flight with its group: for a process
/// exit that skips the checks' own clean-up.
pub fn kill_all() {
    let groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
    for &pgid in groups.iter() {
        kill_group(pgid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn exit_0_passes_and_other_codes_retry() {
        let stop = CancelToken::new();
        let e = env(&[]);
        assert_eq!(
            check(&sh("exit 0"), 1, EnvFrom::Env, &e, Limits::default(), &stop),
            Verdict::Passed
        );
        assert_eq!(
            attempt(&sh("exit 3"), &e, None, None, &stop),
            Attempt::Retry("exit code 3".into())
        );
        assert_eq!(
            attempt(&sh("kill -9 $$"), &e, None, None, &stop),
            Attempt::Retry("killed by signal 9".into())
        );
    }

    #[test]
    fn retries_until_the_command_passes() {
        let dir = std::env::temp_dir().join(format!("maestro-exec-check-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        // Fails twice, then passes (a counter in a file).
        let script = format!(
            "n=$(cat {d} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}; [ $n -ge 3 ]",
            d = dir.display()
        );
        let out = check(
            &sh(&script),
            5,
            EnvFrom::Env,
            &env(&[]),
            Limits::default(),
            &CancelToken::new(),
        );
        assert_eq!(out, Verdict::Passed);
        assert_eq!(std::fs::read_to_string(&dir).unwrap().trim(), "3");
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn gives_up_after_its_attempts() {
        let out = check(
            &sh("exit 1"),
            1,
            EnvFrom::Env,
            &env(&[]),
            Limits::default(),
            &CancelToken::new(),
        );
        let Verdict::GaveUp { last, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(last, "exit code 1");
    }

    #[test]
    fn envfrom_env_adds_the_container_variables_to_maestros() {
        let e = env(&[("SVC_HOST", "10.213.0.1"), ("SVC_PORT", "2181")]);
        let stop = CancelToken::new();
        // The container's variables and maestro's own (PATH, to find sh).
        let ok = sh(r#"[ "$SVC_HOST:$SVC_PORT" = 10.213.0.1:2181 ] && [ -n "$PATH" ]"#);
        assert_eq!(attempt(&ok, &e, None, None, &stop), Attempt::Pass);
        let wrong = sh(r#"[ "$SVC_HOST" = other ]"#);
        assert_eq!(
            attempt(&wrong, &e, None, None, &stop),
            Attempt::Retry("exit code 1".into())
        );
    }

    #[test]
    fn envfrom_stdin_sends_a_json_object_and_leaves_the_environment_alone() {
        let e = env(&[("SVC_HOST", "10.213.0.1"), ("QUOTE", "a \"b\"\nc")]);
        let file = std::env::temp_dir().join(format!("maestro-exec-stdin-{}", std::process::id()));
        let script = format!(r#"[ -z "$SVC_HOST" ] && cat > {}"#, file.display());
        let out = check(
            &sh(&script),
            1,
            EnvFrom::Stdin,
            &e,
            Limits::default(),
            &CancelToken::new(),
        );
        assert_eq!(out, Verdict::Passed);
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let _ = std::fs::remove_file(&file);
        assert_eq!(doc["SVC_HOST"], "10.213.0.1");
        assert_eq!(doc["QUOTE"], "a \"b\"\nc");
        // Maestro's own environment is in the document too.
        assert!(doc["PATH"].is_string(), "{doc}");
    }

    #[test]
    fn a_command_that_ignores_a_large_stdin_still_finishes() {
        let big: BTreeMap<String, String> = (0..2000)
            .map(|i| (format!("V{i}"), "x".repeat(100)))
            .collect();
        let out = check(
            &sh("exit 0"),
            1,
            EnvFrom::Stdin,
            &big,
            Limits::default(),
            &CancelToken::new(),
        );
        assert_eq!(out, Verdict::Passed);
    }

    #[test]
    fn a_missing_program_is_fatal() {
        let cmd = vec!["/nonexistent/check-script".to_string()];
        let out = check(
            &cmd,
            100,
            EnvFrom::Env,
            &env(&[]),
            Limits::default(),
            &CancelToken::new(),
        );
        let Verdict::Fatal(m) = out else {
            panic!("{out:?}")
        };
        assert!(
            m.starts_with("cannot run /nonexistent/check-script: "),
            "{m}"
        );
    }

    /// A script that records its shell's pid and its forked child's in
    /// `file`, then never exits (nor does the child).
    fn hanging(file: &std::path::Path) -> Vec<String> {
        sh(&format!(
            "sleep 1000 & echo $$ $! >> {}; sleep 1000",
            file.display()
        ))
    }

    /// Whether a process runs (a zombie does not): /proc/<pid>/stat's state.
    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            }
        }
    }

    /// Every pid `hanging` recorded is gone (within a second: SIGKILL is
    /// delivered asynchronously); returns how many there were.
    fn all_gone(file: &std::path::Path) -> usize {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let pids: Vec<u32> = text
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        let deadline = Instant::now() + Duration::from_secs(1);
        while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        assert!(left.is_empty(), "still running: {left:?} of {pids:?}");
        pids.len()
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let f = std::env::temp_dir().join(format!("maestro-exec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_file(&f);
        f
    }

    #[test]
    fn a_run_that_never_exits_is_killed_with_its_children_at_its_timeout() {
        let file = scratch("timeout");
        let limits = Limits {
            timeout: Some(0.3),
            max_wait: None,
        };
        let start = Instant::now();
        // One attempt, so one second (the attempts budget): runs of 0.3 s
        // each, every one killed, until that second has passed.
        let out = check(
            &hanging(&file),
            1,
            EnvFrom::Env,
            &env(&[]),
            limits,
            &CancelToken::new(),
        );
        let took = start.elapsed();
        let Verdict::GaveUp { last, attempts, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(last, "no exit within 0.3s (killed)");
        assert!(attempts >= 2, "{attempts}");
        assert!(took >= Duration::from_secs(1), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        // Two pids per run: the shell and the child it forked.
        assert_eq!(all_gone(&file), 2 * attempts as usize);
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn max_wait_ends_the_check_and_its_run_in_flight() {
        let file = scratch("maxwait");
        let limits = Limits {
            timeout: None,
            max_wait: Some(0.5),
        };
        let start = Instant::now();
        // 100 attempts would be 100 s; max_wait cuts the first run.
        let out = check(
            &hanging(&file),
            100,
            EnvFrom::Env,
            &env(&[]),
            limits,
            &CancelToken::new(),
        );
        let took = start.elapsed();
        let Verdict::GaveUp { last, attempts, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(attempts, 1);
        assert_eq!(last, "still running at max_wait (killed)");
        assert!(took >= Duration::from_millis(500), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert_eq!(all_gone(&file), 2);

        // A timeout longer than what is left of max_wait is cut to it.
        let limits = Limits {
            timeout: Some(60.0),
            max_wait: Some(0.4),
        };
        let start = Instant::now();
        let out = check(
            &hanging(&file),
            100,
            EnvFrom::Env,
            &env(&[]),
            limits,
            &CancelToken::new(),
        );
        assert!(
            matches!(out, Verdict::GaveUp { attempts: 1, .. }),
            "{out:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(all_gone(&file), 4);
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn a_passing_run_leaves_no_child_behind() {
        let file = scratch("leftover");
        let script = sh(&format!(
            "sleep 1000 & echo $! > {}; exit 0",
            file.display()
        ));
        let out = check(
            &script,
            1,
            EnvFrom::Env,
            &env(&[]),
            Limits::default(),
            &CancelToken::new(),
        );
        assert_eq!(out, Verdict::Passed);
        assert_eq!(all_gone(&file), 1);
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn stop_kills_a_running_command() {
        let file = scratch("stop");
        let stop = CancelToken::new();
        let start = Instant::now();
        let out = std::thread::scope(|s| {
            s.spawn(|| {
                // Once the run has forked its child.
                let deadline = Instant::now() + Duration::from_secs(10);
                while std::fs::read_to_string(&file)
                    .unwrap_or_default()
                    .split_whitespace()
                    .count()
                    < 2
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                stop.cancel();
            });
            check(
                &hanging(&file),
                1,
                EnvFrom::Env,
                &env(&[]),
                Limits::default(),
                &stop,
            )
        });
        assert_eq!(out, Verdict::Stopped);
        assert!(start.elapsed() < Duration::from_secs(10));
        // The forked child too.
        assert_eq!(all_gone(&file), 2);
        let _ = std::fs::remove_file(&file);
    }
}
