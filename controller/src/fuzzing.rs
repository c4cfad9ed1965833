//! Entry points for the fuzz targets (`fuzz/`) and the bad-input tests:
//! each runs one parser of the environment file on arbitrary input and
//! checks what must hold of its result. Not part of the supported API.
//!
//! Every function panics only when an invariant is broken, so that a fuzzer
//! reports it; a parser's ordinary refusal of bad input is not a failure.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::model::Limits;
use crate::config::reader::Reader;
use crate::config::yaml::{self, Node, Value};
use crate::config::{self, LoadError, LoadOptions, Source, options, ports, volumes};

/// The nodes a parser of one value is tried on: the input read as YAML (any
/// kind of node), and the input as one string.
fn nodes(text: &str) -> Vec<Node> {
    let mut out = Vec::new();
    if let Ok(root) = yaml::parse(text) {
        out.push(root);
    }
    // JSON strings are YAML double-quoted scalars.
    if let Ok(quoted) = serde_json::to_string(text)
        && let Ok(Node {
            value: Value::Map(mut entries),
            ..
        }) = yaml::parse(&format!("v: {quoted}\n"))
        && let Some((_, v)) = entries.pop()
    {
        out.push(v);
    }
    out
}

/// Every error must name a key path, and a line when it has a node.
fn check_errors(r: &Reader, path: &str) {
    for e in &r.errors {
        assert!(
            e.path.starts_with(path),
            "error outside {path}: {}: {}",
            e.path,
            e.message
        );
        assert!(!e.message.is_empty());
    }
}

/// A value refused has an error. One read may also have errors (an unknown
/// key beside valid ones): the pass goes on to report every problem.
fn refused_with_a_reason(refused: bool, r: &Reader) {
    assert!(!refused || !r.errors.is_empty(), "refused without an error");
}

/// A whole environment file, from bytes: UTF-8 check, template, YAML,
/// validation. `base_dir` should be an empty folder (includes and envfiles
/// resolve there).
pub fn environment(bytes: &[u8], base_dir: &Path) {
    let src = match config::utf8("fuzz.yaml", bytes.to_vec()) {
        Ok(text) => Source {
            name: "fuzz.yaml".into(),
            text,
            base_dir: base_dir.into(),
        },
        Err(e) => {
            check_load_error(&e);
            return;
        }
    };
    match config::load_source(&src, &LoadOptions::default()) {
        Ok(_) => {}
        Err(e) => check_load_error(&e),
    }
}

fn check_load_error(e: &LoadError) {
    assert_eq!(e.exit_code(), 1, "{e}");
    assert!(!e.errors().is_empty());
    let shown = e.to_string();
    assert!(shown.starts_with("fuzz.yaml"), "{shown}");
}

/// A named port: a valid one prints as a spec that reads back the same.
pub fn port(text: &str) {
    for node in nodes(text) {
        let mut r = Reader::default();
        let parsed = ports::parse_port(&mut r, &node, "ports.p");
        check_errors(&r, "ports.p");
        refused_with_a_reason(parsed.is_none(), &r);
        if let Some(p) = parsed {
            assert!(p.exposed.start >= 1 && p.exposed.start <= p.exposed.end);
            assert!(p.external.start >= 1 && p.external.start <= p.external.end);
            let again = port_round_trip(&p);
            assert_eq!(again.as_ref(), Some(&p), "{text:?}");
        }
    }
}

/// A port printed in the mapping form and parsed again.
pub fn port_round_trip(p: &config::model::Port) -> Option<config::model::Port> {
    let proto = p.protocol.as_str();
    let spec = format!(
        "{{exposed: \"{}/{proto}\", external: [{}, \"{}/{proto}\"]}}",
        p.exposed,
        serde_json::to_string(&p.host_ip).ok()?,
        p.external
    );
    let node = yaml::parse(&spec).ok()?;
    let mut r = Reader::default();
    ports::parse_port(&mut r, &node, "ports.p")
}

/// Volumes (a mapping of binds) in both schemas.
pub fn volumes(text: &str) {
    for node in nodes(text) {
        for schema in [1, 2] {
            let mut r = Reader::default();
            let binds = volumes::binds(&mut r, &node, "volumes", schema);
            check_errors(&r, "volumes");
            for (i, b) in binds.iter().enumerate() {
                assert!(b.target.starts_with('/'));
                assert!(binds[..i].iter().all(|o| o.target != b.target));
            }
        }
    }
}

/// A restart policy: a valid one reads back from `name:retries`.
pub fn restart(text: &str) {
    for node in nodes(text) {
        let mut r = Reader::default();
        let parsed = options::restart(&mut r, &node, "restart");
        check_errors(&r, "restart");
        refused_with_a_reason(parsed.is_none(), &r);
        if let Some(p) = parsed {
            let spec = format!("{}:{}", p.name, p.maximum_retry_count);
            let again = nodes(&spec)
                .into_iter()
                .filter(|n| matches!(n.value, Value::Str(_)))
                .find_map(|n| options::restart(&mut Reader::default(), &n, "restart"));
            assert_eq!(again.as_ref(), Some(&p), "{text:?}");
        }
    }
}

/// `limits` and sizes: a size is never below -1 and a memory limit never
/// negative.
pub fn limits(text: &str) {
    for node in nodes(text) {
        let mut r = Reader::default();
        let mut into = Limits::default();
        options::limits(&mut r, &node, "limits", &mut into);
        check_errors(&r, "limits");
        assert!(into.swap.is_none_or(|s| s >= -1));
        let mut r = Reader::default();
        if let Some(b) = options::bytes(&mut r, &node, "limits.memory") {
            assert!(b >= -1);
        }
        check_errors(&r, "limits.memory");
        let mut r = Reader::default();
        let mut ulimits = BTreeMap::new();
        options::ulimits(&mut r, &node, "ulimits", &mut ulimits);
        check_errors(&r, "ulimits");
    }
}

/// An image reference: the split gives back parts of the reference, and
/// the registry lookup never fails.
pub fn image(text: &str) {
    let (repo, tag) = maestro_common::image_details(text);
    assert!(!tag.is_empty());
    assert!(text.starts_with(repo), "{text:?} -> {repo:?}");
    assert!(
        tag == "latest" || text.ends_with(tag),
        "{text:?} -> {tag:?}"
    );
    let src = "quay.io: {registry: 'https://quay.io/v1/'}\nlab: {registry: '10.213.0.30:5000'}\n";
    let registries = match yaml::parse(src) {
        Ok(node) => config::registry::parse_registries(&mut Reader::default(), &node),
        Err(_) => BTreeMap::new(),
    };
    let _ = config::registry::registry_for_image(&registries, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry points accept what they are meant to and check what they
    /// claim, on ordinary inputs (the fuzz targets call them on any).
    #[test]
    fn the_fuzzing_entry_points_run_on_ordinary_input() {
        let dir = std::env::temp_dir();
        environment(
            b"name: t\nships: {s1: {ip: 10.213.0.11}}\nservices: {}\n",
            &dir,
        );
        environment(b"name: \xff\n", &dir);
        environment(b"{{ 1 / 0 }}", &dir);
        port("80");
        port("\"8000-8010/udp:9000-9010/udp\"");
        port("{exposed: 80, external: [10.0.0.1, 81]}");
        volumes("{/a: /b, /c: {target: /d, mode: ro}}");
        restart("on-failure:3");
        restart("{name: always, retries: 2}");
        limits("{memory: 1.5g, swap: -1, cpu: 512}");
        image("quay.io:8081/foo/bar:1.2@sha256:abc");
    }

    /// Found by the `restart` fuzz target: a policy read beside an unknown
    /// key (reported) is not a broken invariant.
    #[test]
    fn a_value_read_beside_an_unknown_key_is_not_a_failure() {
        restart("{name: always, zetries: 2}");
        port("{exposed: 80, external: 81, zxposed: 1}");
        let mut r = Reader::default();
        let node = yaml::parse("{name: always, zetries: 2}").expect("valid YAML");
        assert!(options::restart(&mut r, &node, "restart").is_some());
        assert!(r.errors[0].message.contains("unknown key \"zetries\""));
    }

    #[test]
    fn a_port_round_trips_through_its_printed_form() {
        let node = yaml::parse("{exposed: 8000-8010/udp, external: [\"::1\", 9000-9010/udp]}")
            .expect("valid YAML");
        let mut r = Reader::default();
        let p = ports::parse_port(&mut r, &node, "p").expect("a valid port");
        assert_eq!(port_round_trip(&p), Some(p));
    }
}
