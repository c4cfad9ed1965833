//! Port specifications (reference section 3). In the string form the LEFT
//! side is the container port and the RIGHT side the host port, the reverse
//! of `docker run -p`; kept for compatibility with MaestroNG files.

use super::keys;
use super::model::{Port, PortRange, Protocol};
use super::reader::{Reader, describe};
use super::yaml::{Node, Value};

const FORMAT: &str = "expected <port>, <p1>-<p2> or <port>/{tcp,udp}, as `exposed` or `exposed:external`, or {exposed, external}";

/// Parses one named port; records an error and returns None when invalid.
pub fn parse_port(r: &mut Reader, node: &Node, path: &str) -> Option<Port> {
    let bad = |r: &mut Reader, why: String| {
        r.error(node, path, why);
        None
    };
    match &node.value {
        Value::Number(_) | Value::Str(_) => {
            let text = node.scalar_text().unwrap_or_default();
            let parts: Vec<&str> = text.split(':').collect();
            let (exposed, external) = match parts.as_slice() {
                [one] => (*one, *one),
                [a, b] => (*a, *b),
                _ => return bad(r, format!("invalid port spec \"{text}\": {FORMAT}")),
            };
            let (e, ep) = match side(exposed) {
                Ok(v) => v,
                Err(why) => return bad(r, format!("invalid port spec \"{text}\": {why}")),
            };
            let (x, xp) = match side(external) {
                Ok(v) => v,
                Err(why) => return bad(r, format!("invalid port spec \"{text}\": {why}")),
            };
            finish(r, node, path, e, ep, x, xp, "0.0.0.0".into())
        }
        Value::Map(_) => {
            let f = r.fields(node, path, &keys::names(keys::PORT_MAPPING))?;
            let (Some(en), Some(xn)) = (f.get("exposed"), f.get("external")) else {
                return bad(
                    r,
                    "invalid port spec: a mapping needs both `exposed` and `external`".into(),
                );
            };
            let (e, ep) = match en
                .scalar_text()
                .ok_or_else(|| format!("expected a port, got {}", en.kind()))
                .and_then(|t| side(&t))
            {
                Ok(v) => v,
                Err(why) => {
                    r.error(en, &f.path("exposed"), format!("invalid port spec: {why}"));
                    return None;
                }
            };
            let (ip, xnode) = match &xn.value {
                Value::Seq(items) if items.len() == 2 => {
                    match r.string(&items[0], &f.path("external[0]")) {
                        Some(ip) => (ip, &items[1]),
                        None => return None,
                    }
                }
                Value::Seq(_) => {
                    r.error(
                        xn,
                        &f.path("external"),
                        "expected a port or a list [host ip, port]",
                    );
                    return None;
                }
                _ => ("0.0.0.0".to_string(), xn),
            };
            let (x, xp) = match xnode
                .scalar_text()
                .ok_or_else(|| format!("expected a port, got {}", xnode.kind()))
                .and_then(|t| side(&t))
            {
                Ok(v) => v,
                Err(why) => {
                    r.error(
                        xnode,
                        &f.path("external"),
                        format!("invalid port spec: {why}"),
                    );
                    return None;
                }
            };
            finish(r, node, path, e, ep, x, xp, ip)
        }
        _ => bad(r, format!("invalid port spec {}: {FORMAT}", describe(node))),
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    r: &mut Reader,
    node: &Node,
    path: &str,
    exposed: PortRange,
    ep: Protocol,
    external: PortRange,
    xp: Protocol,
    host_ip: String,
) -> Option<Port> {
    if ep != xp {
        r.error(
            node,
            path,
            format!(
                "mismatched protocols between {exposed}/{} and {external}/{}",
                ep.as_str(),
                xp.as_str()
            ),
        );
        return None;
    }
    if exposed.is_range() && (external.end - external.start) != (exposed.end - exposed.start) {
        r.error(
            node,
            path,
            format!(
                "the exposed range {exposed} needs a host range of the same size, got {external}"
            ),
        );
        return None;
    }
    Some(Port {
        exposed,
        external,
        protocol: ep,
        host_ip,
    })
}

/// One side: `^\d+(-\d+)?(/(tcp|udp))?$`, numbers 1-65535, ranges ascending.
fn side(text: &str) -> Result<(PortRange, Protocol), String> {
    let (nums, proto) = match text.split_once('/') {
        None => (text, Protocol::Tcp),
        Some((n, "tcp")) => (n, Protocol::Tcp),
        Some((n, "udp")) => (n, Protocol::Udp),
        Some(_) => return Err(FORMAT.to_string()),
    };
    let num = |s: &str| -> Result<u16, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FORMAT.to_string());
        }
        match s.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err("port numbers go from 1 to 65535".to_string()),
        }
    };
    let range = match nums.split_once('-') {
        None => {
            let n = num(nums)?;
            PortRange { start: n, end: n }
        }
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                return Err("the range must go upwards".to_string());
            }
            PortRange { start: a, end: b }
        }
    };
    Ok((range, proto))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn port(src: &str) -> Result<Port, String> {
        let node = parse(&format!("p: {src}\n")).unwrap();
        let Value::Map(e) = &node.value else { panic!() };
        let mut r = Reader::default();
        let p = parse_port(&mut r, &e[0].1, "ports.p");
        match p {
            Some(p) if r.errors.is_empty() => Ok(p),
            _ => Err(r
                .errors
                .iter()
                .map(|e| format!("{}:{}: {}: {}", e.line, e.column, e.path, e.message))
                .collect::<Vec<_>>()
                .join("\n")),
        }
    }

    fn pr(a: u16, b: u16) -> PortRange {
        PortRange { start: a, end: b }
    }

    #[test]
    fn case5_simple_port() {
        let p = port("25").unwrap();
        assert_eq!(
            (p.exposed, p.external, p.protocol, p.host_ip.as_str()),
            (pr(25, 25), pr(25, 25), Protocol::Tcp, "0.0.0.0")
        );
        let p = port("\"53/udp\"").unwrap();
        assert_eq!((p.exposed, p.protocol), (pr(53, 53), Protocol::Udp));
    }

    #[test]
    fn case6_string_is_container_then_host() {
        let p = port("\"80:8080\"").unwrap();
        assert_eq!((p.exposed, p.external), (pr(80, 80), pr(8080, 8080)));
    }

    #[test]
    fn case7_protocol_mismatch() {
        let e = port("\"80/tcp:8080/udp\"").unwrap_err();
        assert!(
            e.contains("mismatched protocols between 80/tcp and 8080/udp"),
            "{e}"
        );
        assert!(e.starts_with("1:4: ports.p:"), "{e}");
        let p = port("\"53/udp:5353/udp\"").unwrap();
        assert_eq!(
            (p.exposed, p.external, p.protocol),
            (pr(53, 53), pr(5353, 5353), Protocol::Udp)
        );
    }

    #[test]
    fn case8_invalid_specs() {
        for bad in [
            "\"80/TCP\"",
            "\"0.0.0.0:80:80\"",
            "abc",
            "{exposed: 80}",
            "[80]",
            "0",
            "70000",
            "\"90-80\"",
        ] {
            let e = port(bad).unwrap_err();
            assert!(
                e.contains("ports.p") && e.contains("invalid port spec")
                    || e.contains("65535")
                    || e.contains("upwards"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn case9_host_ip_binding() {
        let p = port("{exposed: 53/udp, external: [192.168.10.2, 5353/udp]}").unwrap();
        assert_eq!(
            (p.exposed, p.external, p.protocol, p.host_ip.as_str()),
            (pr(53, 53), pr(5353, 5353), Protocol::Udp, "192.168.10.2")
        );
    }

    #[test]
    fn case10_ranges() {
        let p = port("{exposed: \"1234\", external: \"1234-1236\"}").unwrap();
        assert_eq!(
            (p.exposed_key(), p.external.to_string()),
            ("1234/tcp".into(), "1234-1236".into())
        );
        let p = port("{exposed: \"1234-1236\", external: \"1234-1236\"}").unwrap();
        assert_eq!(
            (p.exposed_key(), p.external),
            ("1234-1236/tcp".into(), pr(1234, 1236))
        );
        assert!(port("\"1234-1236:80\"").is_err());
    }
}
