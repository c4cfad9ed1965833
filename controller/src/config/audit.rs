//! `audit`: auditors notified of plays (reference section 9). Parsed and
//! validated here; running them is the orchestration's business.

use std::collections::BTreeMap;

use super::model::{AuditLevel, Auditor, AuditorKind};
use super::options::scalar_string;
use super::reader::{Reader, describe};
use super::ship::resolve;
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};

const TYPES: [&str; 4] = ["log", "http", "exec", "slack"];

pub fn parse_audit(r: &mut Reader, node: &Node, base: &std::path::Path) -> Vec<Auditor> {
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
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("audit[{i}]");
        let Value::Map(entries) = &item.value else {
            r.error(
                item,
                &path,
                format!("expected an auditor mapping, got {}", item.kind()),
            );
            continue;
        };
        let Some(tnode) = entries
            .iter()
            .find(|(k, _)| k.scalar_text().as_deref() == Some("type"))
            .map(|(_, v)| v)
        else {
            r.error(
                item,
                &path,
                format!(
                    "missing required key \"type\" (one of {})",
                    TYPES.join(", ")
                ),
            );
            continue;
        };
        let Some(kind) = r.string(tnode, &format!("{path}.type")) else {
            continue;
        };
        let specific: &[&str] = match kind.as_str() {
            "log" => &["file"],
            "http" => &["endpoint", "payload", "headers", "method", "timeout"],
            "exec" => &["script", "args"],
            "slack" => &["channel", "token", "name", "icon"],
            "hipchat" => {
                r.error(
                    tnode,
                    &format!("{path}.type"),
                    "the hipchat auditor is not supported: HipChat was shut down in 2019",
                );
                continue;
            }
            _ => {
                let hint = did_you_mean(&kind, TYPES);
                r.error(
                    tnode,
                    &format!("{path}.type"),
                    format!("unknown auditor type \"{kind}\"{hint}"),
                );
                continue;
            }
        };
        let mut allowed = vec!["type", "level", "ignore_errors"];
        allowed.extend_from_slice(specific);
        let Some(f) = r.fields(item, &path, &allowed) else {
            continue;
        };
        let level = match f
            .get("level")
            .and_then(|n| r.string(n, &f.path("level")))
            .as_deref()
        {
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
        };
        let ignore_errors = f
            .get("ignore_errors")
            .and_then(|n| r.bool(n, &f.path("ignore_errors")))
            .unwrap_or(false);
        let req =
            |r: &mut Reader, key: &str| r.required(&f, key).and_then(|n| r.name(n, &f.path(key)));
        let kind = match kind.as_str() {
            "log" => req(r, "file").map(|file| AuditorKind::Log {
                file: resolve(base, &file),
            }),
            "exec" => {
                let script = req(r, "script");
                let args = f.get("args").and_then(|n| r.string(n, &f.path("args")));
                script.map(|script| AuditorKind::Exec { script, args })
            }
            "slack" => {
                let channel = req(r, "channel");
                let token = req(r, "token");
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
            _ => {
                let endpoint = req(r, "endpoint");
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
                        continue;
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
        };
        if let Some(kind) = kind {
            out.push(Auditor {
                level,
                ignore_errors,
                kind,
            });
        }
    }
    out
}
