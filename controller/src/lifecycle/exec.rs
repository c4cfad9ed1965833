//! `exec`: a command run on the maestro host (in the current folder), with
//! the container's environment; exit code 0 passes.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::backoff::Backoff;
use super::retry::{Attempt, Budget, Verdict, retry};
use crate::config::model::EnvFrom;
use crate::scheduler::CancelToken;

/// Runs `command` until it exits 0, within `attempts` attempts (see `retry`).
pub fn check(
    command: &[String],
    attempts: u64,
    envfrom: EnvFrom,
    container_env: &BTreeMap<String, String>,
    stop: &CancelToken,
) -> Verdict {
    // The stdin document is the same for every attempt.
    let stdin = match envfrom {
        EnvFrom::Env => None,
        EnvFrom::Stdin => Some(stdin_document(container_env)),
    };
    retry(Budget::attempts(attempts), stop, |_| {
        attempt(command, container_env, stdin.as_deref(), stop)
    })
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

/// One run. With a stdin document the command inherits maestro's plain
/// environment and reads the document; otherwise the container's variables
/// are added to its environment.
pub fn attempt(
    command: &[String],
    container_env: &BTreeMap<String, String>,
    stdin: Option<&[u8]>,
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
        });
    if stdin.is_none() {
        cmd.envs(container_env);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => {
            return Attempt::Fatal(format!("cannot run {program}: {e}"));
        }
        Err(e) => return Attempt::Retry(format!("cannot run {program}: {e}")),
    };
    let status = std::thread::scope(|s| {
        if let (Some(doc), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A command that never reads its stdin must not block us: write
            // on the side, and let a broken pipe be.
            s.spawn(move || {
                let _ = pipe.write_all(doc);
            });
        }
        wait(&mut child, stop)
    });
    match status {
        None => Attempt::Retry("stopped".into()),
        Some(Err(e)) => Attempt::Retry(format!("waiting for {program}: {e}")),
        Some(Ok(s)) => exit_attempt(s),
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

/// Waits for the child, polling often at first; kills it when `stop`
/// fires (None).
fn wait(child: &mut Child, stop: &CancelToken) -> Option<std::io::Result<ExitStatus>> {
    let mut delays = Backoff::between(Duration::from_millis(2), Duration::from_millis(50));
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(Ok(s)),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        if stop.sleep(delays.next().unwrap_or(Duration::from_millis(50))) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::cancel::cancelled_after;

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
            check(&sh("exit 0"), 1, EnvFrom::Env, &e, &stop),
            Verdict::Passed
        );
        assert_eq!(
            attempt(&sh("exit 3"), &e, None, &stop),
            Attempt::Retry("exit code 3".into())
        );
        assert_eq!(
            attempt(&sh("kill -9 $$"), &e, None, &stop),
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
        assert_eq!(attempt(&ok, &e, None, &stop), Attempt::Pass);
        let wrong = sh(r#"[ "$SVC_HOST" = other ]"#);
        assert_eq!(
            attempt(&wrong, &e, None, &stop),
            Attempt::Retry("exit code 1".into())
        );
    }

    #[test]
    fn envfrom_stdin_sends_a_json_object_and_leaves_the_environment_alone() {
        let e = env(&[("SVC_HOST", "10.213.0.1"), ("QUOTE", "a \"b\"\nc")]);
        let file = std::env::temp_dir().join(format!("maestro-exec-stdin-{}", std::process::id()));
        let script = format!(r#"[ -z "$SVC_HOST" ] && cat > {}"#, file.display());
        let out = check(&sh(&script), 1, EnvFrom::Stdin, &e, &CancelToken::new());
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
        let out = check(&sh("exit 0"), 1, EnvFrom::Stdin, &big, &CancelToken::new());
        assert_eq!(out, Verdict::Passed);
    }

    #[test]
    fn a_missing_program_is_fatal() {
        let cmd = vec!["/nonexistent/check-script".to_string()];
        let out = check(&cmd, 100, EnvFrom::Env, &env(&[]), &CancelToken::new());
        let Verdict::Fatal(m) = out else {
            panic!("{out:?}")
        };
        assert!(
            m.starts_with("cannot run /nonexistent/check-script: "),
            "{m}"
        );
    }

    #[test]
    fn stop_kills_a_running_command() {
        let (out, took) = cancelled_after(Duration::from_millis(100), |stop| {
            check(&sh("sleep 30"), 1, EnvFrom::Env, &env(&[]), stop)
        });
        assert_eq!(out, Verdict::Stopped);
        assert!(took < Duration::from_secs(5));
    }
}
