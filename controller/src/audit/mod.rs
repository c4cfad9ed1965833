//! Auditors: tell the team what maestro did (`audit:` entries of type `log`,
//! `http`, `exec`, `slack`). Every play that changes something (start, stop,
//! kill, restart, pull, clean) reports its start, then its success or error.
//!
//! An auditor that fails on `action` aborts the play before any change is
//! made, unless the entry has `ignore_errors: true`; failures of `success`
//! and `error` are kept as warnings (`take_warnings`) and never change the
//! outcome.
//!
//! Unlike MaestroNG, the `http` and `exec` auditors are told about all three
//! moments (MaestroNG: webhooks only on `action`, scripts only on
//! `success`); `{event}` (templates, script arguments) and
//! `MAESTRO_AUDIT_EVENT` (scripts) say which one it is.
//!
//! - `message`: the sentences and the compact list of names.
//! - `template`: the webhook payload template.
//! - `http`, `exec`, `log`: the three ways of sending (Slack is an HTTP preset).

pub mod exec;
pub mod http;
pub mod log;
pub mod message;
pub mod template;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::model::{Auditor, AuditorKind, Environment};
use message::Phase;
use template::Fields;

/// What a play is about, for the auditors' messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayInfo {
    /// The command, e.g. `start`.
    pub action: String,
    /// The instances the play works on, in play order.
    pub what: Vec<String>,
    /// Who runs maestro (the login name).
    pub who: String,
    /// What the play did, told with its success (`up`'s summary).
    pub outcome: Option<String>,
}

impl PlayInfo {
    /// A play run by the current user.
    pub fn new(action: &str, what: Vec<String>) -> PlayInfo {
        PlayInfo {
            action: action.to_string(),
            what,
            who: current_user(),
            outcome: None,
        }
    }
}

/// The login name: `$USER`, `$LOGNAME`, else the account of the user id.
pub fn current_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return v;
        }
    }
    // SAFETY: getuid cannot fail and touches no memory of ours.
    let uid = unsafe { libc::getuid() };
    format!("uid {uid}")
}

/// An auditor refused a play's start; the play must not go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError {
    pub message: String,
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The environment's auditors.
#[derive(Debug, Default)]
pub struct Auditors {
    entries: Vec<Auditor>,
    /// Instance -> (its ship's ip, its service), for the `exec` auditor.
    targets: BTreeMap<String, (String, String)>,
    warnings: Mutex<Vec<String>>,
}

impl Auditors {
    pub fn from_environment(env: &Environment) -> Auditors {
        let targets = env
            .instances
            .values()
            .map(|i| (i.name.clone(), (i.ship.ip.clone(), i.service.clone())))
            .collect();
        Auditors {
            entries: env.audit.clone(),
            targets,
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// True when the environment has no auditors.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The play is about to start. Every auditor is told; the failures of
    /// those without `ignore_errors` come back together as the error.
    pub fn action(&self, play: &PlayInfo) -> Result<(), AuditError> {
        let mut refused = Vec::new();
        for (i, a) in self.entries.iter().enumerate() {
            if let Err(e) = self.notify(a, play, Phase::Action) {
                let e = format!("{}: {e}", label(i, a));
                if a.ignore_errors {
                    self.warn(format!("{e} (ignored: ignore_errors is set)"));
                } else {
                    refused.push(e);
                }
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(AuditError {
                message: format!("auditor failed, nothing was done: {}", refused.join("; ")),
            })
        }
    }

    /// The play finished without failure.
    pub fn success(&self, play: &PlayInfo) {
        self.tell_all(play, Phase::Success);
    }

    /// The play failed with `message`.
    pub fn error(&self, play: &PlayInfo, message: &str) {
        self.tell_all(play, Phase::Error(message));
    }

    /// Failures of auditors that did not stop anything, for the command to
    /// show on standard error; emptied by the call.
    pub fn take_warnings(&self) -> Vec<String> {
        match self.warnings.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    fn tell_all(&self, play: &PlayInfo, phase: Phase<'_>) {
        for (i, a) in self.entries.iter().enumerate() {
            if let Err(e) = self.notify(a, play, phase) {
                self.warn(format!("{}: {e}", label(i, a)));
            }
        }
    }

    fn warn(&self, w: String) {
        match self.warnings.lock() {
            Ok(mut v) => v.push(w),
            Err(poisoned) => poisoned.into_inner().push(w),
        }
    }

    /// Tells one auditor. `level` does not filter anything yet: every
    /// message is a play-level (`info`) one, and errors are always sent.
    fn notify(&self, a: &Auditor, play: &PlayInfo, phase: Phase<'_>) -> Result<(), String> {
        let compact = message::compact(&play.what);
        let text = message::text(play, &compact, phase);
        let fields = Fields {
            what: &compact,
            action: &play.action,
            who: &play.who,
            message: &text,
            event: phase.name(),
        };
        match &a.kind {
            AuditorKind::Log { file } => {
                let full = message::text(play, &message::full(&play.what), phase);
                log::append(file, phase.level(), &full)
            }
            AuditorKind::Http {
                endpoint,
                payload,
                headers,
                method,
                timeout,
            } => {
                let body = match payload {
                    Some(p) => template::render(p, &fields).unwrap_or(Value::Null),
                    None => default_payload(&fields),
                };
                http::send(&http::HttpCall {
                    endpoint: endpoint.clone(),
                    method: method.clone(),
                    headers: headers.clone(),
                    body,
                    timeout: seconds(*timeout),
                })
            }
            AuditorKind::Slack {
                channel,
                token,
                name,
                icon,
            } => {
                let msg = http::SlackMessage {
                    channel,
                    name: name.as_deref(),
                    icon: icon.as_deref(),
                    text: &text,
                    event: phase.name(),
                    targets: (play.what.len() >= 5).then(|| message::full(&play.what)),
                    error: match phase {
                        Phase::Error(m) => Some(m),
                        _ => None,
                    },
                };
                http::send(&http::slack_request(token, msg.body(), seconds(3.0)))
            }
            AuditorKind::Exec { script, args } => {
                let args = args
                    .as_deref()
                    .unwrap_or("")
                    .split_whitespace()
                    .map(|w| template::format(w, &fields))
                    .collect();
                exec::run(&exec::Run {
                    script,
                    args,
                    env: vec![
                        ("MAESTRO_AUDIT_EVENT", phase.name().to_string()),
                        ("MAESTRO_AUDIT_ACTION", play.action.clone()),
                        ("MAESTRO_AUDIT_WHO", play.who.clone()),
                        ("MAESTRO_AUDIT_MESSAGE", text.clone()),
                    ],
                    stdin: self.targets_json(play),
                    limit: exec::SCRIPT_LIMIT,
                })
            }
        }
    }

    /// MaestroNG's script input: `{container: {ship: ip, service: name}}`.
    fn targets_json(&self, play: &PlayInfo) -> Vec<u8> {
        let map: serde_json::Map<String, Value> = play
            .what
            .iter()
            .map(|c| {
                let (ip, service) = self.targets.get(c).cloned().unwrap_or_default();
                (c.clone(), json!({"ship": ip, "service": service}))
            })
            .collect();
        serde_json::to_vec(&map).unwrap_or_default()
    }
}

/// `audit[0] (http)`: which entry of the file failed.
fn label(i: usize, a: &Auditor) -> String {
    let kind = match a.kind {
        AuditorKind::Log { .. } => "log",
        AuditorKind::Http { .. } => "http",
        AuditorKind::Exec { .. } => "exec",
        AuditorKind::Slack { .. } => "slack",
    };
    format!("audit[{i}] ({kind})")
}

/// The body sent when an `http` auditor has no `payload`.
fn default_payload(f: &Fields<'_>) -> Value {
    json!({
        "event": f.event,
        "action": f.action,
        "who": f.who,
        "what": f.what,
        "message": f.message,
    })
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(3))
}

#[cfg(test)]
mod tests;
