//! The `exec` auditor: runs a script with the play's targets as JSON on its
//! standard input.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a script may run before it is killed and counted as failed.
pub const SCRIPT_LIMIT: Duration = Duration::from_secs(60);

/// One run of the script.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub script: &'a str,
    pub args: Vec<String>,
    /// `MAESTRO_AUDIT_*` variables describing the play.
    pub env: Vec<(&'static str, String)>,
    pub stdin: Vec<u8>,
    pub limit: Duration,
}

/// Runs the script to its end. A non-zero exit is a failure whose message
/// carries the end of its standard error, lines that look like they hold
/// a secret left out.
pub fn run(r: &Run<'_>) -> Result<(), String> {
    let mut child = Command::new(r.script)
        .args(&r.args)
        .envs(r.env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", r.script))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A script that does not read its input is fine.
        let _ = stdin.write_all(&r.stdin);
    }
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(1 << 20).read_to_end(&mut buf);
        }
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > r.limit => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "{} did not finish within {}s and was killed",
                    r.script,
                    r.limit.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(format!("waiting for {}: {e}", r.script)),
        }
    };
    let err = reader.join().unwrap_or_default();
    let status = status?;
    if status.success() {
        return Ok(());
    }
    let why = status.code().map_or_else(
        || "was killed by a signal".to_string(),
        |c| format!("exited with {c}"),
    );
    let tail = summarise(&String::from_utf8_lossy(&err));
    if tail.is_empty() {
        Err(format!("{} {why}", r.script))
    } else {
        Err(format!("{} {why}: {tail}", r.script))
    }
}

/// The last three non-empty lines of standard error, at most 300
/// characters; a line mentioning a password, secret, token or key is
/// replaced by a note.
pub fn summarise(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail: Vec<String> = lines[lines.len().saturating_sub(3)..]
        .iter()
        .map(|l| {
            let lower = l.to_lowercase();
            if [
                "password",
                "passwd",
                "secret",
                "token",
                "key",
                "authorization",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                "<a line that may hold a secret>".to_string()
            } else {
                (*l).to_string()
            }
        })
        .collect();
    let joined = tail.join(" / ");
    if joined.chars().count() > 300 {
        let cut: String = joined.chars().take(300).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_summary_keeps_the_end_and_hides_secret_lines() {
        assert_eq!(summarise("a\n\nb\nc\nd\n"), "b / c / d");
        assert_eq!(
            summarise("x\nPASSWORD=hunter2\n"),
            "x / <a line that may hold a secret>"
        );
        assert_eq!(summarise(&"y".repeat(400)).len(), 303);
        assert_eq!(summarise(""), "");
    }
}
