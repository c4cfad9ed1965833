//! `registries`: where images are pulled from, with credentials.

use std::collections::BTreeMap;

use super::keys;
use super::model::{Registry, Retry};
use super::reader::{Reader, join};
use super::yaml::Node;

pub fn parse_registries(r: &mut Reader, node: &Node) -> BTreeMap<String, Registry> {
    let mut out = BTreeMap::new();
    for (name, _, v) in r.entries(node, "registries").unwrap_or_default() {
        let path = join("registries", &name);
        let Some(f) = r.fields(v, &path, &keys::names(keys::REGISTRY)) else {
            continue;
        };
        let registry = r
            .required(&f, "registry")
            .and_then(|n| r.name(n, &f.path("registry")));
        let mut opt = |key: &str| f.get(key).and_then(|n| r.string(n, &f.path(key)));
        let (username, password, email) = (opt("username"), opt("password"), opt("email"));
        let mut retry = Retry {
            attempts: 3,
            when: Vec::new(),
        };
        if let Some(rn) = f.get("retry")
            && let Some(rf) = r.fields(rn, &f.path("retry"), &keys::names(keys::RETRY))
        {
            if let Some(a) = rf.get("attempts") {
                match r.uint(a, &rf.path("attempts")).map(u32::try_from) {
                    Some(Ok(v)) if v > 0 => retry.attempts = v,
                    Some(_) => r.error(a, &rf.path("attempts"), "attempts must be at least 1"),
                    None => {}
                }
            }
            if let Some(w) = rf.get("when") {
                let items = match &w.value {
                    super::yaml::Value::Seq(items) => items.iter().collect(),
                    _ => vec![w],
                };
                for (i, it) in items.iter().enumerate() {
                    let p = format!("{}[{i}]", rf.path("when"));
                    match r.uint(it, &p).map(u16::try_from) {
                        Some(Ok(code)) if (100..600).contains(&code) => retry.when.push(code),
                        Some(_) => r.error(it, &p, "expected an HTTP status code"),
                        None => {}
                    }
                }
            }
        }
        if let Some(registry) = registry {
            out.insert(
                name.clone(),
                Registry {
                    name,
                    registry,
                    username,
                    password,
                    email,
                    retry,
                },
            );
        }
    }
    out
}

/// The `host[:port]` part of a registry URL.
fn netloc(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// The registry an image is pulled from (MaestroNG's `registry_for_container`):
/// the first path component of the repository, matched against the
/// registry names, then against each registry URL's `host:port` or host.
/// An image without a `/` (or starting with one) has no registry.
pub fn registry_for_image<'a>(
    registries: &'a BTreeMap<String, Registry>,
    image: &str,
) -> Option<&'a Registry> {
    let (repo, _) = maestro_common::image_details(image);
    let (first, _) = repo.split_once('/')?;
    if first.is_empty() {
        return None;
    }
    if let Some(reg) = registries.get(first) {
        return Some(reg);
    }
    registries.values().find(|reg| {
        let loc = netloc(&reg.registry);
        let host = loc.split(':').next().unwrap_or(loc);
        first == loc || first == host
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case29_registry_resolution() {
        let src = "registries:\n  quay.io: {registry: 'https://quay.io/v1/', username: u, password: p, email: e}\n  foo2: {registry: 'https://foo1.registry/v1'}\n  foo4: {registry: 'https://foo4.example/v1'}\n";
        let root = crate::config::yaml::parse(src).unwrap();
        let super::super::yaml::Value::Map(e) = &root.value else {
            panic!()
        };
        let mut r = Reader::default();
        let regs = parse_registries(&mut r, &e[0].1);
        assert!(r.errors.is_empty());
        let name = |img: &str| registry_for_image(&regs, img).map(|r| r.name.as_str());
        assert_eq!(name("quay.io/user/foo1"), Some("quay.io"));
        assert_eq!(name("foo1.registry/user/foo2"), Some("foo2"));
        assert_eq!(name("foo2.registry/user/foo2"), None);
        assert_eq!(name("foo4/bar"), Some("foo4"));
        assert_eq!(name("ubuntu"), None);
        assert_eq!(regs["quay.io"].retry.attempts, 3);
    }
}
