//! `audit`: auditors notified of plays (reference section 9). Parsed and
//! validated here; running them is the orchestration's business.

use std::collections::BTreeMap;
use std::path::Path;

use super::keys;
use super::model::{AuditLevel, Auditor, AuditorKind};
use super::options::scalar_string;
use super::reader::{Fields, Reader, describe};
use super::ship::resolve;
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};

pub fn parse_audit(r: &mut Reader, node: &Node, base: &Path) -> Vec<Auditor> {
    let items = match &node.value {
        Value::Null => return Vec::new(),
        Value::Seq(items) => items,
        _ => {
            r.error(
                node,
                "audit",
                format!("expected a list of auditors, got {}", node.kind()),
            );
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| auditor(r, item, &format!("audit[{i}]"), base))
        .collect()
}

/// One `audit` entry: its type, then the keys every auditor takes, then
/// those of its type. `None` when it has an error (reported).
fn auditor(r: &mut Reader, item: &Node, path: &str, base: &Path) -> Option<Auditor> {
    let (kind, specific) = auditor_type(r, item, path)?;
    let mut allowed = vec!["type"];
    allowed.extend(keys::AUDITOR.iter().chain(specific).map(|k| k.name));
    let f = r.fields(item, path, &allowed)?;
    let level = auditor_level(r, &f, item);
    let ignore_errors = f
        .get("ignore_errors")
        .and_then(|n| r.bool(n, &f.path("ignore_errors")))
        .unwrap_or(false);
    let kind = match kind.as_str() {
        "log" => log_auditor(r, &f, base),
        "exec" => exec_auditor(r, &f),
        "slack" => slack_auditor(r, &f),
        _ => http_auditor(r, &f, item),
    }?;
    Some(Auditor {
        level,
        ignore_errors,
        kind,
    })
}

/// The auditor types (`keys::AUDITOR_TYPES`).
fn types() -> impl Iterator<Item = &'static str> {
    keys::AUDITOR_TYPES.iter().map(|(n, _)| *n)
}

/// `type`: one of `types()`, with the keys that type takes.
fn auditor_type(r: &mut Reader, item: &Node, path: &str) -> Option<(String, &'static [keys::Key])> {
    let Value::Map(entries) = &item.value else {
        r.error(
            item,
            path,
            format!("expected an auditor mapping, got {}", item.kind()),
        );
        return None;
    };
    let Some(tnode) = entries
        .iter()
        .find(|(k, _)| k.text() == Some("type"))
        .map(|(_, v)| v)
    else {
        r.error(
            item,
            path,
            format!(
                "missing required key \"type\" (one of {})",
                types().collect::<Vec<_>>().join(", ")
            ),
        );
        return None;
    };
    let kind = r.string(tnode, &format!("{path}.type"))?;
    if kind == "hipchat" {
        r.error(
            tnode,
            &format!("{path}.type"),
            "the hipchat auditor is not supported: HipChat was shut down in 2019",
        );
        return None;
    }
    let Some(specific) = keys::auditor_keys(&kind) else {
        let hint = did_you_mean(&kind, types());
        r.error(
            tnode,
            &format!("{path}.type"),
            format!("unknown auditor type \"{kind}\"{hint}"),
        );
        return None;
    };
    Some((kind, specific))
}

/// `level`: `info` (the default) or `debug`.
fn auditor_level(r: &mut Reader, f: &Fields<'_>, item: &Node) -> AuditLevel {
    let level = f.get("level").and_then(|n| r.string(n, &f.path("level")));
    match level.as_deref() {
        None | Some("info") => AuditLevel::Info,
        Some("debug") => AuditLevel::Debug,
        Some(other) => {
            r.error(
                f.get("level").unwrap_or(item),
                &f.path("level"),
                format!("level must be info or debug, got \"{other}\""),
            );
            AuditLevel::Info
        }
    }
}

/// A required key of an auditor, as a non-empty string.
fn required(r: &mut Reader, f: &Fields<'_>, key: &str) -> Option<String> {
    r.required(f, key).and_then(|n| r.name(n, &f.path(key)))
}

/// `type: log`: `file`.
fn log_auditor(r: &mut Reader, f: &Fields<'_>, base: &Path) -> Option<AuditorKind> {
    required(r, f, "file").map(|file| AuditorKind::Log {
        file: resolve(base, &file),
    })
}

/// `type: exec`: `script`, `args`.
fn exec_auditor(r: &mut Reader, f: &Fields<'_>) -> Option<AuditorKind> {
    let script = required(r, f, "script");
    let args = f.get("args").and_then(|n| r.string(n, &f.path("args")));
    script.map(|script| AuditorKind::Exec { script, args })
}

/// `type: slack`: `channel`, `token`, `name`, `icon`.
fn slack_auditor(r: &mut Reader, f: &Fields<'_>) -> Option<AuditorKind> {
    let channel = required(r, f, "channel");
    let token = required(r, f, "token");
    let name = f.get("name").and_then(|n| r.string(n, &f.path("name")));
    let icon = f.get("icon").and_then(|n| r.string(n, &f.path("icon")));
    channel
        .zip(token)
        .map(|(channel, token)| AuditorKind::Slack {
            channel,
            token,
            name,
            icon,
        })
}

/// `type: http`: `endpoint`, `payload`, `headers`, `method`, `timeout`.
fn http_auditor(r: &mut Reader, f: &Fields<'_>, item: &Node) -> Option<AuditorKind> {
    let endpoint = required(r, f, "endpoint");
    let payload = f.get("payload").map(|n| {
        if !matches!(n.value, Value::Map(_) | Value::Seq(_)) {
            r.error(
                n,
                &f.path("payload"),
                format!("expected a mapping or a list, got {}", describe(n)),
            );
        }
        super::yaml::to_json(n)
    });
    let mut headers = BTreeMap::new();
    if let Some(h) = f.get("headers") {
        for (k, _, v) in r.entries(h, &f.path("headers")).unwrap_or_default() {
            headers.insert(k, scalar_string(v).unwrap_or_default());
        }
    }
    let method = match f.get("method").and_then(|n| r.string(n, &f.path("method"))) {
        None => "POST".to_string(),
        Some(m) if m.eq_ignore_ascii_case("post") || m.eq_ignore_ascii_case("get") => {
            m.to_ascii_uppercase()
        }
        Some(m) => {
            r.error(
                f.get("method").unwrap_or(item),
                &f.path("method"),
                format!("method must be POST or GET, got \"{m}\""),
            );
            return None;
        }
    };
    let timeout = f
        .get("timeout")
        .and_then(|n| r.seconds(n, &f.path("timeout")))
        .unwrap_or(3.0);
    endpoint.map(|endpoint| AuditorKind::Http {
        endpoint,
        payload,
        headers,
        method,
        timeout,
    })
}
