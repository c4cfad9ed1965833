//! Bind mounts (reference section 5). Schema 2: `host: container` or
//! `host: {target, mode}`; schema 1: `container: host`, read-write.

use super::keys;
use super::model::Bind;
use super::reader::{Reader, join};
use super::yaml::{Node, Value};

pub fn binds(r: &mut Reader, node: &Node, path: &str, schema: u8) -> Vec<Bind> {
    let mut out: Vec<Bind> = Vec::new();
    for (key, knode, v) in r.entries(node, path).unwrap_or_default() {
        let p = join(path, &key);
        let bind = match (&v.value, schema) {
            (Value::Str(target), 2) => Some(Bind {
                host: key,
                target: target.clone(),
                mode: None,
            }),
            (Value::Map(_), 2) => r
                .fields(v, &p, &keys::names(keys::VOLUME_MAPPING))
                .and_then(|f| {
                    let target = r
                        .required(&f, "target")
                        .and_then(|t| r.name(t, &f.path("target")));
                    let mode = f.get("mode").and_then(|m| r.name(m, &f.path("mode")));
                    target.map(|target| Bind {
                        host: key.clone(),
                        target,
                        mode: Some(mode.unwrap_or_else(|| "rw".into())),
                    })
                }),
            (Value::Str(host), 1) => Some(Bind {
                host: host.clone(),
                target: key,
                mode: None,
            }),
            (Value::Map(_), 1) => {
                r.error(v, &p, "schema 1 volumes are `container path: host path`; set `__maestro: {schema: 2}` for {target, mode}");
                None
            }
            _ => {
                r.error(
                    v,
                    &p,
                    format!(
                        "invalid volume specification: expected a path or {{target, mode}}, got {}",
                        v.kind()
                    ),
                );
                None
            }
        };
        let Some(bind) = bind else { continue };
        if !bind.target.starts_with('/') {
            r.error(
                knode,
                &p,
                format!("the container path \"{}\" must be absolute", bind.target),
            );
            continue;
        }
        if let Some(other) = out.iter().find(|b| b.target == bind.target) {
            r.error(
                knode,
                &p,
                format!(
                    "{} and {} are both mounted on {}",
                    other.host, bind.host, bind.target
                ),
            );
            continue;
        }
        out.push(bind);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, schema: u8) -> (Vec<Bind>, Vec<String>) {
        let root = crate::config::yaml::parse(&format!("v: {src}\n")).unwrap();
        let Value::Map(e) = &root.value else { panic!() };
        let mut r = Reader::default();
        let b = binds(&mut r, &e[0].1, "volumes", schema);
        (
            b,
            r.errors
                .into_iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect(),
        )
    }

    #[test]
    fn case19_schema2_volumes() {
        let (b, e) = run("{/out: /in, /o2: {target: /in2, mode: \"ro,Z\"}}", 2);
        assert!(e.is_empty());
        assert_eq!(
            b[0],
            Bind {
                host: "/out".into(),
                target: "/in".into(),
                mode: None
            }
        );
        assert_eq!(b[1].mode.as_deref(), Some("ro,Z"));
        let (_, e) = run("{/out: [/a, /b]}", 2);
        assert!(
            e[0].starts_with("volumes./out: invalid volume specification"),
            "{e:?}"
        );
        let (_, e) = run("{/out: {bind: /in}}", 2);
        assert!(
            e.iter().any(|m| m.contains("unknown key \"bind\""))
                && e.iter()
                    .any(|m| m.contains("missing required key \"target\"")),
            "{e:?}"
        );
    }

    #[test]
    fn case20_schema1_reversal() {
        let (b, e) = run("{/inside: /outside}", 1);
        assert!(e.is_empty());
        assert_eq!(
            (b[0].host.as_str(), b[0].target.as_str()),
            ("/outside", "/inside")
        );
    }
}
