//! The environment variables of each container (reference section 4), in
//! MaestroNG's order, a later source winning:
//!
//! 1. service envfiles;
//! 2. service `env`;
//! 3. `MAESTRO_ENVIRONMENT_NAME`, `SERVICE_NAME`;
//! 4. instance envfiles;
//! 5. instance `env`;
//! 6. `CONTAINER_NAME`, `CONTAINER_HOST_ADDRESS`, `DOCKER_IMAGE`, `DOCKER_TAG`;
//! 7. link variables of the own service (with `_INTERNAL_PORT`);
//! 8. link variables of the transitive `requires` and the direct
//!    `wants_info` (without `_INTERNAL_PORT`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use maestro_common as common;

use super::model::Instance;
use super::pyvalue;
use super::reader::{Reader, join};

use super::yaml::{Node, Value};

/// Where the user-given variables of one level (service or instance) come from.
#[derive(Debug, Clone, Default)]
pub struct EnvSources {
    /// Envfiles (resolved paths) with the key path they were given at.
    pub envfiles: Vec<(PathBuf, Node, String)>,
    pub env: Vec<(String, String)>,
}

/// Reads `env` (a mapping; list values are flattened) and `envfile`.
pub fn parse_sources(
    r: &mut Reader,
    env: Option<&Node>,
    envfile: Option<&Node>,
    path: &str,
    base: &Path,
) -> EnvSources {
    let mut out = EnvSources::default();
    if let Some(n) = envfile {
        let p = join(path, "envfile");
        let items: Vec<&Node> = match &n.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![n],
        };
        for (i, it) in items.iter().enumerate() {
            let ip = if matches!(n.value, Value::Seq(_)) {
                format!("{p}[{i}]")
            } else {
                p.clone()
            };
            if let Some(f) = r.name(it, &ip) {
                out.envfiles.push((base.join(f), (*it).clone(), ip));
            }
        }
    }
    if let Some(n) = env {
        let p = join(path, "env");
        if matches!(n.value, Value::Seq(_)) {
            r.error(
                n,
                &p,
                "env must be a mapping of NAME: value (for files of variables, use `envfile`)",
            );
            return out;
        }
        for (k, knode, v) in r.entries(n, &p).unwrap_or_default() {
            // The key path only for errors: thousands of variables have none.
            let kp = || join(&p, &k);
            if k.is_empty() || k.contains('=') {
                r.error(knode, &kp(), "invalid variable name");
                continue;
            }
            let mut text = String::new();
            // Values are not echoed in errors: they may be secrets.
            if !flatten(v, &mut text) {
                r.error(
                    v,
                    &kp(),
                    "a variable's value must be a scalar or a list of scalars, not a mapping",
                );
            } else if text.contains('\0') {
                // Docker refuses it at start, with an error that quotes
                // the value: say so here, without the value.
                r.error(
                    v,
                    &kp(),
                    "a variable's value cannot contain a NUL character (Docker refuses it)",
                );
            } else {
                out.env.push((k, text));
            }
        }
    }
    out
}

/// Scalars as text (booleans `true`/`false`, numbers as written, null
/// empty); lists joined with single spaces, recursively. False on a mapping.
/// Where MaestroNG's PyYAML reads a scalar as a non-finite float or a
/// timestamp, the text is Python's `str()` of it (`inf`, `nan`,
/// `2001-12-14 21:59:43.100000-05:00`).
fn flatten(node: &Node, out: &mut String) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            true
        }
        Value::Number(n) => {
            let python = (!n.float.is_finite() && n.int.is_none())
                .then(|| pyvalue::non_finite_text(&n.text))
                .flatten();
            out.push_str(python.unwrap_or(&n.text));
            true
        }
        Value::Str(s) => {
            match node.plain.then(|| pyvalue::timestamp_text(s)).flatten() {
                Some(t) => out.push_str(&t),
                None => out.push_str(s),
            }
            true
        }
        Value::Seq(items) => {
            let mut first = true;
            for it in items {
                let mut part = String::new();
                if !flatten(it, &mut part) {
                    return false;
                }
                if !first {
                    out.push(' ');
                }
                out.push_str(&part);
                first = false;
            }
            true
        }
        Value::Map(_) => false,
    }
}

/// An envfile, each line read as docker-py 1.10.6's `parse_env_file`
/// (MaestroNG's) reads it: lines end at `\n`, `\r\n` or `\r`; the line's
/// surrounding whitespace (Python's `str.strip()`) is removed; it splits at
/// the first `=`; quotes are kept. Where docker-py's reading is a bug,
/// maestro differs (docs/config.md, "The container environment"):
/// - whitespace before the `=` is not part of the name (`A = 1` sets `A`
///   to ` 1`; docker-py sets `A ` to ` 1`);
/// - blank lines are skipped (docker-py fails on them);
/// - a `#` after leading whitespace starts a comment too (docker-py only
///   skips a `#` in the first column);
/// - an empty name (`=1`) is an error;
/// - a UTF-8 byte order mark at the start is ignored.
pub fn parse_envfile(text: &str) -> Result<Vec<(String, String)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (i, line) in universal_lines(text).enumerate() {
        let l = line.trim_matches(python_space);
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        match l.split_once('=') {
            // Docker refuses a NUL in a value, and its error quotes the value.
            Some((k, v)) if v.contains('\0') => {
                return Err(format!(
                    "line {}: the value of {} contains a NUL character, which Docker refuses",
                    i + 1,
                    k.trim_end_matches(python_space)
                ));
            }
            Some((k, v)) if !k.trim_end_matches(python_space).is_empty() => {
                out.push((k.trim_end_matches(python_space).to_string(), v.to_string()))
            }
            Some(_) => return Err(format!("line {}: empty variable name", i + 1)),
            None => return Err(format!("line {}: expected KEY=VALUE", i + 1)),
        }
    }
    Ok(out)
}

/// Python's `str.isspace()`: Unicode white space plus the separators
/// U+001C to U+001F.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Lines as Python's text files give them (universal newlines).
fn universal_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match rest.find(['\n', '\r']) {
            Some(at) => {
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..at], &rest[at + skip..])
            }
            None => (rest, ""),
        };
        rest = next;
        Some(line)
    })
}

/// Reads envfiles once each, however many instances use them.
#[derive(Default)]
pub struct EnvfileCache {
    files: HashMap<PathBuf, Option<Vars>>,
}

impl EnvfileCache {
    /// The user-given variables of one level, in order: envfiles, then `env`.
    /// Unreadable or malformed envfiles are reported at their key. The
    /// `env` pairs are moved out of `src` (each level is resolved once).
    pub fn resolve(&mut self, r: &mut Reader, src: &mut EnvSources) -> Vars {
        let mut out = Vars::new();
        for (file, node, path) in &src.envfiles {
            let entry = self.files.entry(file.clone()).or_insert_with(|| {
                let parsed = std::fs::read(file)
                    .map_err(|e| format!("cannot read envfile {}: {e}", file.display()))
                    .and_then(|b| {
                        String::from_utf8(b).map_err(|e| {
                            let (line, column, msg) = super::utf8_problem(&e);
                            format!("envfile {}:{line}:{column}: {msg}", file.display())
                        })
                    })
                    .and_then(|t| {
                        parse_envfile(&t).map_err(|e| format!("envfile {}: {e}", file.display()))
                    });
                match parsed {
                    Ok(v) => Some(v),
                    Err(msg) => {
                        r.error(node, path, msg);
                        None
                    }
                }
            });
            out.extend(entry.iter().flatten().cloned());
        }
        if out.is_empty() {
            out = std::mem::take(&mut src.env);
        } else {
            out.append(&mut src.env);
        }
        out
    }
}

/// Variables as (name, value) pairs, applied in order.
pub type Vars = Vec<(String, String)>;

/// The link variables of one service.
#[derive(Debug, Clone, Default)]
pub struct LinkVars {
    /// For the service's own instances (with `_INTERNAL_PORT`).
    pub own: Vars,
    /// For services that require it or want its info.
    pub others: Vars,
}

pub fn link_vars(service: &str, instances: &[&Instance]) -> LinkVars {
    let mut own = Vec::new();
    let mut other = Vec::new();
    for i in instances {
        let host = (common::host_var(service, &i.name), i.ship.ip.clone());
        own.push(host.clone());
        other.push(host);
        for (pname, p) in &i.ports {
            let ext = (
                common::port_var(service, &i.name, pname),
                p.external.to_string(),
            );
            own.push(ext.clone());
            other.push(ext);
            own.push((
                common::internal_port_var(service, &i.name, pname),
                p.exposed.to_string(),
            ));
        }
    }
    let mut names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
    names.sort_unstable();
    let all = (common::instances_var(service), names.join(","));
    own.push(all.clone());
    other.push(all);
    LinkVars { own, others: other }
}

/// What the container environments are made of, kept per service and per
/// instance so that the (possibly large) maps are only built for the
/// containers a command touches: with transitive `requires`, every
/// container of a deep chain carries the variables of all services below.
#[derive(Debug, Clone, Default)]
pub struct ContainerEnvs {
    pub environment_name: String,
    pub services: BTreeMap<String, ServiceEnv>,
    /// Instance envfiles then instance `env`, by instance name.
    pub instances: BTreeMap<String, Vars>,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceEnv {
    /// Service envfiles then service `env`.
    pub user: Vars,
    pub links: LinkVars,
    /// Services whose `others` link variables its containers get: the
    /// transitive `requires` and the direct `wants_info`, sorted.
    pub deps: Vec<String>,
    /// SHA-256 of everything above plus the dependencies' link variables:
    /// the service's share of its instances' configuration hash.
    pub digest: [u8; 32],
    /// The link variables every instance of the service gets (its own, then
    /// its dependencies'), merged once on first use: with a deep chain they
    /// are most of each container's environment, and the same for all of
    /// the service's instances.
    pub(super) links_merged: OnceLock<BTreeMap<String, String>>,
}

/// One container's environment: the variables of its own (user-given and
/// fixed ones), and the link variables it shares with the other instances
/// of its service, which win over its own. Both sorted; `iter` merges them
/// without copying.
pub struct ContainerEnv<'a> {
    own: BTreeMap<String, String>,
    links: &'a BTreeMap<String, String>,
}

impl<'a> ContainerEnv<'a> {
    /// Every variable, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.iter_sourced().map(|(k, v, _)| (k, v))
    }

    /// Every variable, sorted by name, and whether its value is a link
    /// variable's (computed by maestro, never a secret).
    pub fn iter_sourced(&self) -> impl Iterator<Item = (&str, &str, bool)> + '_ {
        let mut own = self.own.iter().peekable();
        let mut links = self.links.iter().peekable();
        std::iter::from_fn(move || {
            let (next, link) = match (own.peek(), links.peek()) {
                (None, None) => return None,
                (Some(_), None) => (own.next(), false),
                (None, Some(_)) => (links.next(), true),
                (Some((a, _)), Some((b, _))) => match a.cmp(b) {
                    std::cmp::Ordering::Less => (own.next(), false),
                    std::cmp::Ordering::Greater => (links.next(), true),
                    std::cmp::Ordering::Equal => {
                        own.next();
                        (links.next(), true)
                    }
                },
            };
            next.map(|(k, v)| (k.as_str(), v.as_str(), link))
        })
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        let mut env = self.links.clone();
        for (k, v) in self.own {
            env.entry(k).or_insert(v);
        }
        env
    }
}

impl ContainerEnvs {
    /// The full environment of one container (module doc for the order).
    pub fn compute(&self, i: &Instance, ship_ip: &str) -> BTreeMap<String, String> {
        self.container(i, ship_ip).into_map()
    }

    /// The environment of one container, sharing its service's link
    /// variables (module doc for the order).
    pub fn container<'a>(&'a self, i: &Instance, ship_ip: &str) -> ContainerEnv<'a> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let mut own = BTreeMap::new();
        let Some(s) = self.services.get(&i.service) else {
            return ContainerEnv { own, links: &NONE };
        };
        own.extend(s.user.iter().cloned());
        own.insert(
            common::ENVIRONMENT_NAME.into(),
            self.environment_name.clone(),
        );
        own.insert(common::SERVICE_NAME.into(), i.service.clone());
        if let Some(user) = self.instances.get(&i.name) {
            own.extend(user.iter().cloned());
        }
        let (_, tag) = common::image_details(&i.image);
        own.insert(common::CONTAINER_NAME.into(), i.name.clone());
        own.insert(common::CONTAINER_HOST_ADDRESS.into(), ship_ip.into());
        own.insert(common::DOCKER_IMAGE.into(), i.image.clone());
        own.insert(common::DOCKER_TAG.into(), tag.into());
        let links = s.links_merged.get_or_init(|| {
            let mut links = BTreeMap::new();
            links.extend(s.links.own.iter().cloned());
            for d in &s.deps {
                if let Some(dep) = self.services.get(d) {
                    links.extend(dep.links.others.iter().cloned());
                }
            }
            links
        });
        ContainerEnv { own, links }
    }

    /// Fills each service's digest (after `services` is complete).
    pub fn seal(&mut self) {
        use sha2::{Digest, Sha256};
        let mut digests = BTreeMap::new();
        for (name, s) in &self.services {
            let mut h = Sha256::new();
            let mut feed = |vars: &Vars| {
                for (k, v) in vars {
                    h.update(k.as_bytes());
                    h.update([0]);
                    h.update(v.as_bytes());
                    h.update([0]);
                }
                h.update([1]);
            };
            feed(&s.user);
            feed(&s.links.own);
            for d in &s.deps {
                if let Some(dep) = self.services.get(d) {
                    feed(&dep.links.others);
                }
            }
            h.update(self.environment_name.as_bytes());
            digests.insert(name.clone(), <[u8; 32]>::from(h.finalize()));
        }
        for (name, d) in digests {
            if let Some(s) = self.services.get_mut(&name) {
                s.digest = d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envfile_format() {
        let v = parse_envfile("# c\n\nA=1\nB=x=y\nC=\"q\"\n").unwrap();
        assert_eq!(
            v,
            [
                ("A".into(), "1".into()),
                ("B".into(), "x=y".into()),
                ("C".into(), "\"q\"".into())
            ]
        );
        assert!(parse_envfile("A=1\nnope\n").unwrap_err().contains("line 2"));
    }

    #[test]
    fn envfile_lines_as_docker_py_reads_them() {
        let v = parse_envfile(
            "\u{feff}A=1 \r\n  B=two words\t\rC= lead\x1c\n\n   \n  # note\nD = x\n#E=1\nF==\u{a0}\nG",
        )
        .unwrap_err();
        assert!(v.contains("line 10: expected KEY=VALUE"), "{v}");
        let v = parse_envfile(
            "\u{feff}A=1 \r\n  B=two words\t\rC= lead\x1c\n\n   \n  # note\nD = x\n#E=1\nF==\u{a0}\n",
        )
        .unwrap();
        assert_eq!(
            v,
            [
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), " lead".into()),
                ("D".into(), " x".into()),
                ("F".into(), "=".into()),
            ]
        );
        assert!(
            parse_envfile(" =1\n")
                .unwrap_err()
                .contains("line 1: empty variable name")
        );
    }

    #[test]
    fn pyyaml_floats_and_timestamps_print_as_python() {
        let root = crate::config::yaml::parse(
            "env:\n  A: .inf\n  B: -.Inf\n  C: .nan\n  D: 2001-12-14t21:59:43.10-05:00\n  E: '2001-12-14t21:59:43.10-05:00'\n  F: [.inf, 2001-12-14 21:59:43.10]\n  G: -.nan\n  H: 2001-12-14\n  I: 1.50\n",
        )
        .unwrap();
        let Value::Map(e) = &root.value else { panic!() };
        let mut r = Reader::default();
        let s = parse_sources(&mut r, Some(&e[0].1), None, "services.s", Path::new("."));
        let m: BTreeMap<_, _> = s.env.into_iter().collect();
        assert_eq!(m["A"], "inf");
        assert_eq!(m["B"], "-inf");
        assert_eq!(m["C"], "nan");
        assert_eq!(m["D"], "2001-12-14 21:59:43.100000-05:00");
        assert_eq!(m["E"], "2001-12-14t21:59:43.10-05:00");
        assert_eq!(m["F"], "inf 2001-12-14 21:59:43.100000");
        assert_eq!(m["G"], "-.nan");
        assert_eq!(m["H"], "2001-12-14");
        assert_eq!(m["I"], "1.50");
    }

    #[test]
    fn case12_list_flattening_accepts_any_scalar() {
        let root = crate::config::yaml::parse(
            "env: {BAR: [This, [is, a], test], N: [a, 1, true, 0], E: [], B: true, F: 1.50}\n",
        )
        .unwrap();
        let Value::Map(e) = &root.value else { panic!() };
        let mut r = Reader::default();
        let s = parse_sources(&mut r, Some(&e[0].1), None, "services.s", Path::new("."));
        let m: BTreeMap<_, _> = s.env.into_iter().collect();
        assert_eq!(m["BAR"], "This is a test");
        assert_eq!(m["N"], "a 1 true 0");
        assert_eq!(m["E"], "");
        assert_eq!(m["B"], "true");
        assert_eq!(m["F"], "1.50");
    }
}
