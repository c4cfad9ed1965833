//! The `exec` auditor: runs a script with the play's targets as JSON on its
//! standard input.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::text::summarise;

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
