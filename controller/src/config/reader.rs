//! Typed reads from the YAML node tree that record an error (with key path
//! and line) instead of failing, so one pass reports every problem.

use super::error::ConfigError;
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};

/// Collects the errors of one validation pass.
#[derive(Debug, Default)]
pub struct Reader {
    pub errors: Vec<ConfigError>,
}

/// `parent.key`, or `key` at the top.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The entries of a mapping that passed the unknown-key check. Null values
/// count as absent: MaestroNG crashed on `ports:` with nothing after it.
pub struct Fields<'n> {
    pub path: String,
    pub node: &'n Node,
    entries: Vec<(String, &'n Node)>,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }

    pub fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
}

impl Reader {
    pub fn push(&mut self, e: ConfigError) {
        self.errors.push(e);
    }

    pub fn error(&mut self, node: &Node, path: &str, message: impl Into<String>) {
        self.errors.push(node.error(path, message));
    }

    /// Mapping entries with their key text; null reads as an empty mapping.
    pub fn entries<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
    ) -> Option<Vec<(String, &'n Node, &'n Node)>> {
        match &node.value {
            Value::Null => Some(Vec::new()),
            Value::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    match k.scalar_text() {
                        Some(key) => out.push((key, k, v)),
                        None => {
                            self.error(k, path, format!("a key must be a string, got {}", k.kind()))
                        }
                    }
                }
                Some(out)
            }
            _ => {
                self.error(
                    node,
                    path,
                    format!("expected a mapping, got {}", node.kind()),
                );
                None
            }
        }
    }

    /// A mapping whose keys must be among `allowed`; unknown keys are
    /// reported with a suggestion.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        self.fields_with(node, path, allowed, |_| false)
    }

    /// As `fields`, but keys for which `free` holds are skipped silently.
    pub fn fields_with<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&str],
        free: impl Fn(&str) -> bool,
    ) -> Option<Fields<'n>> {
        let entries = self.entries(node, path)?;
        let mut kept = Vec::with_capacity(entries.len());
        for (key, knode, v) in entries {
            if free(&key) {
                continue;
            }
            if allowed.contains(&key.as_str()) {
                kept.push((key, v));
            } else {
                let hint = did_you_mean(&key, allowed.iter().copied());
                self.error(
                    knode,
                    &join(path, &key),
                    format!("unknown key \"{key}\"{hint}"),
                );
            }
        }
        Some(Fields {
            path: path.to_string(),
            node,
            entries: kept,
        })
    }

    /// A required key: reports "missing" at the mapping when absent.
    pub fn required<'n>(&mut self, f: &Fields<'n>, key: &str) -> Option<&'n Node> {
        let v = f.get(key);
        if v.is_none() {
            self.error(f.node, &f.path, format!("missing required key \"{key}\""));
        }
        v
    }

    /// A string; numbers and booleans read as their text (names, paths, tags).
    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Str(_) | Value::Number(_) => node.scalar_text(),
            _ => {
                self.error(
                    node,
                    path,
                    format!("expected a string, got {}", node.kind()),
                );
                None
            }
        }
    }

    /// A non-empty string.
    pub fn name(&mut self, node: &Node, path: &str) -> Option<String> {
        let s = self.string(node, path)?;
        if s.trim().is_empty() {
            self.error(node, path, "must not be empty");
            return None;
        }
        Some(s)
    }

    /// A boolean. YAML 1.1 words (`yes`/`no`/`on`/`off`) are accepted for
    /// compatibility with MaestroNG files.
    pub fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => match s.to_ascii_lowercase().as_str() {
                "yes" | "on" | "true" => Some(true),
                "no" | "off" | "false" => Some(false),
                _ => {
                    self.error(node, path, format!("expected a boolean, got \"{s}\""));
                    None
                }
            },
            _ => {
                self.error(
                    node,
                    path,
                    format!("expected a boolean, got {}", node.kind()),
                );
                None
            }
        }
    }

    /// A non-negative integer (a digit string is accepted too).
    pub fn uint(&mut self, node: &Node, path: &str) -> Option<u64> {
        let v = match &node.value {
            Value::Number(n) => n.int.and_then(|i| u64::try_from(i).ok()),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        };
        if v.is_none() {
            let msg = match digits(node) {
                // Integers are read as signed 64-bit numbers, as YAML does.
                Some(t) => format!("the number {t} is too large (at most {})", i64::MAX),
                None => format!("expected a non-negative integer, got {}", describe(node)),
            };
            self.error(node, path, msg);
        }
        v
    }

    /// A TCP port number, 1-65535.
    pub fn port(&mut self, node: &Node, path: &str) -> Option<u16> {
        if let Some(t) = digits(node)
            && t.parse::<u64>().is_err()
        {
            self.error(node, path, format!("port {t} is out of range 1-65535"));
            return None;
        }
        let v = self.uint(node, path)?;
        match u16::try_from(v) {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.error(node, path, format!("port {v} is out of range 1-65535"));
                None
            }
        }
    }

    /// A non-negative number of seconds (integer or decimal).
    pub fn seconds(&mut self, node: &Node, path: &str) -> Option<f64> {
        let v = match &node.value {
            Value::Number(n) => Some(n.float),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|f: &f64| f.is_finite() && *f >= 0.0);
        if v.is_none() {
            self.error(
                node,
                path,
                format!("expected a number of seconds, got {}", describe(node)),
            );
        }
        v
    }

    /// A list of strings; a single string is read as a one-element list.
    pub fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        match &node.value {
            Value::Null => Some(Vec::new()),
            Value::Str(_) | Value::Number(_) => node.scalar_text().map(|s| vec![s]),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.string(item, &format!("{path}[{i}]"))?);
                }
                Some(out)
            }
            _ => {
                self.error(
                    node,
                    path,
                    format!(
                        "expected a string or a list of strings, got {}",
                        node.kind()
                    ),
                );
                None
            }
        }
    }
}

/// The digits of a number or string written as an unsigned integer.
fn digits(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Number(n) => Some(n.text.trim_start_matches('+')),
        Value::Str(s) => Some(s.trim()),
        _ => None,
    }
    .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
}

/// A short description of a node for messages: scalars show their text.
pub fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("\"{s}\""),
        Value::Number(n) => n.text.clone(),
        Value::Bool(b) => b.to_string(),
        _ => node.kind().to_string(),
    }
}
