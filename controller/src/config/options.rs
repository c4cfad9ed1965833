//! Container options of an instance (reference section 2.5) other than
//! ports, volumes and lifecycle checks.

use std::collections::BTreeMap;

use super::model::{Limits, LogConfig, RestartPolicy, Ulimit};
use super::reader::{Reader, describe, join};
use super::yaml::{Node, Value};

use super::keys::{self, LOG_DRIVERS, RESTART_NAMES};

/// `name[:retries]` or `{name, retries}`.
pub fn restart(r: &mut Reader, node: &Node, path: &str) -> Option<RestartPolicy> {
    let (name, retries, name_node) = match &node.value {
        Value::Str(s) => {
            let (name, retries) = match s.split_once(':') {
                Some((n, c)) => {
                    match c.trim().parse::<u64>() {
                        Ok(c) => (n.to_string(), c),
                        Err(_) => {
                            r.error(node, path, format!("invalid restart policy \"{s}\": the retry count must be a number"));
                            return None;
                        }
                    }
                }
                None => (s.clone(), 0),
            };
            (name, retries, node)
        }
        Value::Map(_) => {
            let f = r.fields(node, path, &keys::names(keys::RESTART))?;
            let n = r.required(&f, "name")?;
            let name = r.string(n, &f.path("name"))?;
            let retries = match f.get("retries") {
                Some(c) => r.uint(c, &f.path("retries"))?,
                None => 0,
            };
            (name, retries, n)
        }
        _ => {
            r.error(
                node,
                path,
                format!(
                    "invalid restart policy {}: expected \"name[:retries]\" or {{name, retries}}",
                    describe(node)
                ),
            );
            return None;
        }
    };
    // Docker reads the count as a signed 64-bit number: a larger one
    // would fail at the first deployment instead of here.
    if i64::try_from(retries).is_err() {
        r.error(
            node,
            path,
            format!(
                "invalid restart policy: the retry count {retries} is larger than {}",
                i64::MAX
            ),
        );
        return None;
    }
    if !RESTART_NAMES.contains(&name.as_str()) {
        r.error(
            name_node,
            path,
            format!(
                "invalid restart policy \"{name}\"; choose one of {}",
                RESTART_NAMES.join(", ")
            ),
        );
        return None;
    }
    Some(RestartPolicy {
        name,
        maximum_retry_count: retries,
    })
}

/// `memory`, `swap` (bytes, or with a k/m/g suffix) and `cpu` (shares).
/// Returns the entries given, to be merged over the service's.
pub fn limits(r: &mut Reader, node: &Node, path: &str, into: &mut Limits) {
    let Some(f) = r.fields(node, path, &keys::names(keys::LIMITS)) else {
        return;
    };
    if let Some(n) = f.get("memory") {
        into.memory = bytes(r, n, &f.path("memory")).and_then(|b| u64::try_from(b).ok());
    }
    if let Some(n) = f.get("swap") {
        into.swap = bytes(r, n, &f.path("swap"));
    }
    if let Some(n) = f.get("cpu") {
        into.cpu = r.uint(n, &f.path("cpu"));
    }
}

/// `42`, `"42"`, `"42k"`, `"1G"`, `"1.5g"` (powers of 1024); `-1` = unlimited.
pub fn bytes(r: &mut Reader, node: &Node, path: &str) -> Option<i64> {
    let text = match &node.value {
        Value::Number(n) if n.int.is_some() => {
            return n.int.filter(|i| *i >= -1).or_else(|| {
                r.error(node, path, "a size cannot be negative");
                None
            });
        }
        Value::Str(s) => s.trim().to_string(),
        _ => {
            r.error(
                node,
                path,
                format!(
                    "expected a size in bytes, e.g. 512m, got {}",
                    describe(node)
                ),
            );
            return None;
        }
    };
    let (num, mult) = match text.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('k') => (&text[..text.len() - 1], 1024f64),
        Some('m') => (&text[..text.len() - 1], 1024f64 * 1024.0),
        Some('g') => (&text[..text.len() - 1], 1024f64 * 1024.0 * 1024.0),
        Some(c) if c.is_ascii_digit() => (text.as_str(), 1.0),
        _ => {
            r.error(
                node,
                path,
                format!("unknown unit suffix in \"{text}\"; use k, m or g"),
            );
            return None;
        }
    };
    match num.parse::<f64>() {
        // `as i64` would saturate silently: refuse what does not fit.
        Ok(v) if v >= 0.0 && (v * mult).round() < i64::MAX as f64 => {
            Some((v * mult).round() as i64)
        }
        Ok(v) if v >= 0.0 => {
            r.error(
                node,
                path,
                format!("size \"{text}\" is too large (at most 8 exabytes, about 8589934591g)"),
            );
            None
        }
        _ => {
            r.error(
                node,
                path,
                format!("invalid size \"{text}\"; e.g. 42, 42k, 512m, 1g"),
            );
            None
        }
    }
}

/// `name: int` (soft = hard) or `name: {soft, hard}`, merged into `into`.
pub fn ulimits(r: &mut Reader, node: &Node, path: &str, into: &mut BTreeMap<String, Ulimit>) {
    let Some(entries) = r.entries(node, path) else {
        return;
    };
    for (name, _, v) in entries {
        let p = join(path, &name);
        let limit = match &v.value {
            Value::Number(n) => n.int.map(|i| Ulimit { soft: i, hard: i }),
            Value::Map(_) => {
                let Some(f) = r.fields(v, &p, &keys::names(keys::ULIMIT_MAPPING)) else {
                    continue;
                };
                let soft = r
                    .required(&f, "soft")
                    .and_then(|n| int(r, n, &f.path("soft")));
                let hard = r
                    .required(&f, "hard")
                    .and_then(|n| int(r, n, &f.path("hard")));
                match (soft, hard) {
                    (Some(soft), Some(hard)) => Some(Ulimit { soft, hard }),
                    _ => continue,
                }
            }
            _ => None,
        };
        match limit {
            Some(l) => {
                into.insert(name, l);
            }
            None => r.error(
                v,
                &p,
                format!("expected an integer or {{soft, hard}}, got {}", describe(v)),
            ),
        }
    }
}

fn int(r: &mut Reader, node: &Node, path: &str) -> Option<i64> {
    match &node.value {
        Value::Number(n) if n.int.is_some() => n.int,
        _ => {
            r.error(
                node,
                path,
                format!("expected an integer, got {}", describe(node)),
            );
            None
        }
    }
}

/// `log_driver` + `log_opt` (values stringified, as MaestroNG does).
pub fn log(
    r: &mut Reader,
    driver: Option<&Node>,
    opts: Option<&Node>,
    path: &str,
) -> Option<LogConfig> {
    let mut options = BTreeMap::new();
    if let Some(o) = opts {
        let p = join(path, "log_opt");
        match &o.value {
            Value::Map(_) => {
                for (k, _, v) in r.entries(o, &p).unwrap_or_default() {
                    match scalar_string(v) {
                        Some(s) => {
                            options.insert(k, s);
                        }
                        None => r.error(
                            v,
                            &join(&p, &k),
                            format!("expected a string, got {}", v.kind()),
                        ),
                    }
                }
            }
            _ => r.error(o, &p, "log_opt must be a mapping"),
        }
    }
    let d = driver?;
    let p = join(path, "log_driver");
    let name = r.string(d, &p)?;
    if !LOG_DRIVERS.contains(&name.as_str()) {
        r.error(
            d,
            &p,
            format!("log_driver must be one of {}", LOG_DRIVERS.join(", ")),
        );
        return None;
    }
    Some(LogConfig {
        driver: name,
        options,
    })
}

/// A list of `key=value` (or bare `key`) strings, or a mapping.
pub fn labels(r: &mut Reader, node: &Node, path: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(s) = r.string(item, &format!("{path}[{i}]")) {
                    let (k, v) = s.split_once('=').unwrap_or((&s, ""));
                    out.insert(k.to_string(), v.to_string());
                }
            }
        }
        Value::Map(_) => {
            for (k, _, v) in r.entries(node, path).unwrap_or_default() {
                match scalar_string(v) {
                    Some(s) => {
                        out.insert(k, s);
                    }
                    None => r.error(
                        v,
                        &join(path, &k),
                        format!("expected a string, got {}", v.kind()),
                    ),
                }
            }
        }
        _ => r.error(
            node,
            path,
            format!(
                "invalid labels {}: must be a list or a mapping",
                describe(node)
            ),
        ),
    }
    out
}

/// A scalar as a string: booleans as `true`/`false`, numbers as written,
/// null as the empty string.
pub fn scalar_string(node: &Node) -> Option<String> {
    match &node.value {
        Value::Null => Some(String::new()),
        _ => node.scalar_text(),
    }
}

/// A command: a list of arguments, or a string split like a POSIX shell
/// would (quotes and backslashes), as docker-py's `shlex.split` did.
pub fn command(r: &mut Reader, node: &Node, path: &str) -> Option<Vec<String>> {
    match &node.value {
        Value::Str(s) => match shell_split(s) {
            Some(v) if !v.is_empty() => Some(v),
            Some(_) => {
                r.error(node, path, "the command is empty");
                None
            }
            None => {
                r.error(node, path, "unbalanced quotes in the command");
                None
            }
        },
        Value::Seq(items) => {
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                out.push(
                    scalar_string(it)
                        .filter(|_| !matches!(it.value, Value::Null))
                        .or_else(|| {
                            r.error(
                                it,
                                &format!("{path}[{i}]"),
                                format!("expected a string, got {}", it.kind()),
                            );
                            None
                        })?,
                );
            }
            Some(out)
        }
        _ => {
            r.error(
                node,
                path,
                format!("expected a string or a list, got {}", node.kind()),
            );
            None
        }
    }
}

/// POSIX-shell word splitting without expansion. None on unbalanced quotes.
pub fn shell_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => cur.push(c),
                            '\n' => {}
                            c => {
                                cur.push('\\');
                                cur.push(c);
                            }
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => cur.push(c),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn node(src: &str) -> Node {
        let n = parse(&format!("v: {src}\n")).unwrap();
        let Value::Map(mut e) = n.value else { panic!() };
        e.remove(0).1
    }

    fn msgs(r: &Reader) -> String {
        r.errors
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn case23_restart_policies() {
        let mut r = Reader::default();
        let p = |r: &mut Reader, s: &str| restart(r, &node(s), "restart");
        assert_eq!(
            p(&mut r, "on-failure:3").unwrap(),
            RestartPolicy {
                name: "on-failure".into(),
                maximum_retry_count: 3
            }
        );
        assert_eq!(
            p(&mut r, "{name: on-failure, retries: 42}")
                .unwrap()
                .maximum_retry_count,
            42
        );
        assert_eq!(
            p(&mut r, "always").unwrap(),
            RestartPolicy {
                name: "always".into(),
                maximum_retry_count: 0
            }
        );
        assert_eq!(p(&mut r, "no").unwrap(), RestartPolicy::default());
        assert!(r.errors.is_empty());
        assert!(p(&mut r, "noclue").is_none());
        assert!(msgs(&r).contains("invalid restart policy \"noclue\"; choose one of no, always, on-failure, unless-stopped"));
        let mut r = Reader::default();
        p(&mut r, "{name: always, maximum_retry_count: 3}");
        assert!(
            msgs(&r).contains("unknown key \"maximum_retry_count\""),
            "{}",
            msgs(&r)
        );
        let mut r = Reader::default();
        assert!(
            p(&mut r, "[]").is_none(),
            "a list is an error, not silently the default"
        );
    }

    #[test]
    fn case24_limits_units() {
        let mut r = Reader::default();
        let mut l = Limits::default();
        limits(
            &mut r,
            &node("{swap: 42, memory: 1G, cpu: 2}"),
            "limits",
            &mut l,
        );
        assert_eq!(
            l,
            Limits {
                memory: Some(1073741824),
                swap: Some(42),
                cpu: Some(2)
            }
        );
        limits(&mut r, &node("{swap: \"42\"}"), "limits", &mut l);
        assert_eq!(l.swap, Some(42));
        limits(
            &mut r,
            &node("{swap: \"42k\", memory: 1.5g}"),
            "limits",
            &mut l,
        );
        assert_eq!((l.swap, l.memory), (Some(43008), Some(1610612736)));
        assert!(r.errors.is_empty(), "{}", msgs(&r));
        limits(&mut r, &node("{memory: 10x}"), "limits", &mut l);
        assert!(msgs(&r).contains("unknown unit suffix in \"10x\""));
        assert_eq!(r.errors[0].path, "limits.memory");
    }

    #[test]
    fn case25_ulimits() {
        let mut r = Reader::default();
        let mut u = BTreeMap::new();
        ulimits(
            &mut r,
            &node("{nproc: 65535, nofile: {soft: 1024, hard: 2048}}"),
            "ulimits",
            &mut u,
        );
        assert_eq!(
            u["nproc"],
            Ulimit {
                soft: 65535,
                hard: 65535
            }
        );
        assert_eq!(
            u["nofile"],
            Ulimit {
                soft: 1024,
                hard: 2048
            }
        );
        ulimits(&mut r, &node("{core: lots}"), "ulimits", &mut u);
        assert_eq!(r.errors[0].path, "ulimits.core");
    }

    #[test]
    fn case26_logging() {
        let mut r = Reader::default();
        assert!(log(&mut r, Some(&node("notvalid")), None, "i").is_none());
        assert!(msgs(&r).contains("log_driver must be one of json-file, syslog"));
        let mut r = Reader::default();
        log(&mut r, Some(&node("syslog")), Some(&node("x")), "i");
        assert!(msgs(&r).contains("log_opt must be a mapping"));
        let mut r = Reader::default();
        let l = log(
            &mut r,
            Some(&node("json-file")),
            Some(&node("{max-file: 2}")),
            "i",
        )
        .unwrap();
        assert_eq!(l.options["max-file"], "2");
    }

    #[test]
    fn case27_labels() {
        for bad in ["foo", "42"] {
            let mut r = Reader::default();
            labels(&mut r, &node(bad), "labels");
            assert!(msgs(&r).contains("invalid labels"), "{bad}");
        }
        let mut r = Reader::default();
        let l = labels(&mut r, &node("[a=1, b]"), "labels");
        assert_eq!(
            l,
            BTreeMap::from([("a".into(), "1".into()), ("b".into(), String::new())])
        );
        let l = labels(&mut r, &node("{a: 1, b: true}"), "labels");
        assert_eq!(
            l,
            BTreeMap::from([("a".into(), "1".into()), ("b".into(), "true".into())])
        );
        assert!(r.errors.is_empty());
    }

    #[test]
    fn shell_split_like_shlex() {
        assert_eq!(
            shell_split("a 'b c' \"d \\\"e\" f\\ g").unwrap(),
            ["a", "b c", "d \"e", "f g"]
        );
        assert!(shell_split("a 'b").is_none());
    }
}
