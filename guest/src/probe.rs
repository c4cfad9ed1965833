//! `check` and `wait`: TCP and HTTP probes for images without a shell, `nc`
//! or `curl` (FROM scratch, distroless), usable as a Docker `HEALTHCHECK` and
//! in start scripts to wait for dependencies.
//!
//! Exit status: 0 healthy or ready, 1 not healthy or timed out, 2 for bad
//! input (unknown port name, malformed address or option), as every other
//! command. A host name that does not resolve (yet) is "not healthy", not
//! bad input: DNS may come up later.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

use crate::discovery::{self, Lookup};
use crate::pattern::Pattern;
use crate::{EXIT_ERROR, Failure};

/// Exit status of a failed check or a `wait` that timed out.
pub const EXIT_NOT_READY: i32 = 1;
/// `check`'s own limit when `--timeout` is not given: shorter than Docker's
/// default HEALTHCHECK timeout (30 s), so the check reports why it failed
/// before Docker kills it.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// `wait`'s limit when `--timeout` is not given.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(60);
/// At most this much of an HTTP response is read (the `--match` body).
const MAX_RESPONSE: usize = 1 << 20;

fn usage(message: String) -> Failure {
    Failure {
        message,
        code: EXIT_ERROR,
    }
}

fn not_ready(message: String) -> Failure {
    Failure {
        message,
        code: EXIT_NOT_READY,
    }
}

/// `--timeout S`: seconds, with up to three decimals (`0.5`); zero only
/// where `zero_ok` (for `wait`, meaning no limit, returned as `None`).
pub fn parse_timeout(value: &str, zero_ok: bool) -> Result<Option<Duration>, String> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let mut millis: u64 = 0;
    let mut scale = 1000;
    let digits = whole
        .bytes()
        .map(|b| (b, 1000))
        .chain(fraction.bytes().map(|b| (b, 0)));
    for (b, whole_digit) in digits {
        if !b.is_ascii_digit() || (whole_digit == 0 && scale == 1) || millis > u64::MAX / 100 {
            return Err(format!("--timeout takes a number of seconds, got {value}"));
        }
        if whole_digit == 0 {
            scale /= 10;
            millis += u64::from(b - b'0') * scale;
        } else {
            millis = millis * 10 + u64::from(b - b'0') * 1000;
        }
    }
    if whole.is_empty() {
        return Err(format!("--timeout takes a number of seconds, got {value}"));
    }
    match (millis, zero_ok) {
        (0, true) => Ok(None),
        (0, false) => Err(format!("--timeout must be more than 0, got {value}")),
        _ => Ok(Some(Duration::from_millis(millis))),
    }
}

/// A port number 1-65535 in canonical form (as `discovery` returns ports).
fn port_number(value: &str) -> Option<u16> {
    value.parse::<u16>().ok().filter(|p| *p != 0)
}

/// `check`'s PORT: a number, or a port name of this container, read as
/// `get_port` reads it (its exposed port inside the container).
pub fn own_port(env: Lookup, port: &str) -> Result<u16, Failure> {
    if port.bytes().all(|b| b.is_ascii_digit()) {
        return port_number(port.trim_start_matches('0'))
            .ok_or_else(|| usage(format!("{port} is not a port number (1-65535)")));
    }
    let value = discovery::port(env, port, None)?;
    port_number(&value).ok_or_else(|| usage(format!("port {port} is {value}, not 1-65535")))
}

/// A host given as an IPv4 address or a DNS name; anything else (a port
/// glued to it, spaces, an empty string) is malformed.
pub fn check_host(host: &str) -> Result<(), String> {
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    let numeric = name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if host.len() > 253 || numeric || !name.split('.').all(label_ok) {
        return Err(format!(
            "malformed address {host:?}: expected an IPv4 address or a host name"
        ));
    }
    Ok(())
}

/// Resolves a checked host to its IPv4 address.
fn resolve(host: &str) -> Result<Ipv4Addr, String> {
    match host.parse::<Ipv4Addr>() {
        Ok(ip) => Ok(ip),
        Err(_) => crate::net::lookup_ipv4(host).map_err(|e| format!("cannot resolve {host}: {e}")),
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// One TCP connection to `host:port`, within the deadline.
fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, String> {
    let ip = resolve(host)?;
    let timeout = remaining(deadline).ok_or("timed out")?;
    let address = SocketAddr::V4(SocketAddrV4::new(ip, port));
    TcpStream::connect_timeout(&address, timeout).map_err(|e| e.to_string())
}

/// What `check http` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub path: String,
    pub status: Option<u16>,
    pub pattern: Option<String>,
}

/// `check tcp|http`: Ok when healthy, else the reason with exit status 1.
pub fn check(
    env: Lookup,
    http: Option<&HttpCheck>,
    port: &str,
    host: Option<&str>,
    timeout: Duration,
) -> Result<(), Failure> {
    let host = host.unwrap_or("127.0.0.1");
    check_host(host).map_err(usage)?;
    let port = own_port(env, port)?;
    let pattern = match http.and_then(|h| h.pattern.as_deref()) {
        Some(p) => Some(Pattern::new(p).map_err(usage)?),
        None => None,
    };
    let deadline = Instant::now() + timeout;
    let at = format!("{host}:{port}");
    let stream = connect(host, port, deadline).map_err(|e| not_ready(format!("{at}: {e}")))?;
    let Some(http) = http else { return Ok(()) };
    let response = http_get(stream, host, port, &http.path, deadline)
        .map_err(|e| not_ready(format!("http://{at}{}: {e}", http.path)))?;
    http_verdict(&response, http, pattern.as_ref())
        .map_err(|e| not_ready(format!("http://{at}{}: {e}", http.path)))
}

/// `GET path` over HTTP/1.0 (no chunked encoding, the server closes the
/// connection), returning the raw response, at most `MAX_RESPONSE` bytes.
fn http_get(
    mut stream: TcpStream,
    host: &str,
    port: u16,
    path: &str,
    deadline: Instant,
) -> Result<Vec<u8>, String> {
    let io = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            "timed out".to_owned()
        } else {
            e.to_string()
        }
    };
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nUser-Agent: maestro-guest\r\nAccept: */*\r\n\r\n"
    );
    stream.set_write_timeout(remaining(deadline)).map_err(io)?;
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut response = Vec::new();
    let mut buffer = [0u8; 8192];
    while response.len() < MAX_RESPONSE {
        let left = remaining(deadline).ok_or("timed out")?;
        stream.set_read_timeout(Some(left)).map_err(io)?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(response)
}

/// Healthy as MaestroNG's `http` check decides: with a pattern, the pattern
/// found in the body (and the status, when one is asked for); without one,
/// the status asked for, 200 by default.
fn http_verdict(
    response: &[u8],
    http: &HttpCheck,
    pattern: Option<&Pattern>,
) -> Result<(), String> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/")
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| "not an HTTP response".to_owned())?;
    let wanted = match (http.status, pattern) {
        (Some(want), _) => Some(want),
        (None, Some(_)) => None,
        (None, None) => Some(200),
    };
    if let Some(want) = wanted.filter(|want| *want != status) {
        return Err(format!("status {status}, expected {want}"));
    }
    if pattern.is_some_and(|p| !p.is_match(body)) {
        let shown = http.pattern.as_deref().unwrap_or_default();
        return Err(format!("status {status}, body does not match {shown}"));
    }
    Ok(())
}

/// One instance `wait` waits for, with the addresses it must answer on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    pub host: String,
    pub ports: Vec<u16>,
}

/// The instances of `service` this container was told about, each with its
/// external address and the external ports named (as `node-list` gives
/// them), or every port it was given when none is named.
pub fn wait_targets(
    env: Lookup,
    keys: &[&str],
    service: &str,
    ports: &[String],
) -> Result<Vec<Instance>, Failure> {
    let names = discovery::instances(env, service);
    if names.is_empty() {
        return Err(usage(format!(
            "No or not enough {service} nodes configured"
        )));
    }
    let mut targets = Vec::new();
    for name in &names {
        let host = discovery::specific_host(env, service, name)?;
        check_host(&host)
            .map_err(|e| usage(format!("{e} (host of {name} of service {service})")))?;
        let named = if ports.is_empty() {
            discovery::instance_port_names(env, keys, service, name, &names)
        } else {
            ports.to_vec()
        };
        if named.is_empty() {
            return Err(usage(format!(
                "No ports defined for container {name} of service {service}"
            )));
        }
        let mut numbers = Vec::new();
        for port in &named {
            let value = discovery::specific_port(env, service, name, port, None)?;
            numbers.push(port_number(&value).ok_or_else(|| {
                usage(format!(
                    "port {port} of container {name} of service {service} is {value}, not 1-65535"
                ))
            })?);
        }
        targets.push(Instance {
            name: name.clone(),
            host,
            ports: numbers,
        });
    }
    Ok(targets)
}

/// `wait`: polls every instance's ports with a short backoff until all of
/// them (or, with `any`, one instance) answer, saying on stderr what it
/// waits for. `timeout` `None` waits without limit.
pub fn wait(
    service: &str,
    targets: &[Instance],
    any: bool,
    timeout: Option<Duration>,
) -> Result<(), Failure> {
    let mut message = format!(
        "waiting for {} of {service}:",
        if any { "any" } else { "all" }
    );
    for (k, i) in targets.iter().enumerate() {
        message.push_str(if k == 0 { " " } else { ", " });
        message.push_str(&format!("{} at {}", i.name, i.host));
        for (p, port) in i.ports.iter().enumerate() {
            message.push_str(&format!("{}{port}", if p == 0 { ':' } else { ',' }));
        }
    }
    eprintln!("{message}");
    let started = Instant::now();
    let mut pending: Vec<(&Instance, String)> =
        targets.iter().map(|i| (i, String::new())).collect();
    let mut pause = Duration::from_millis(100);
    loop {
        pending.retain_mut(|(instance, why)| {
            // Each attempt gets at most 2 s, and never runs past the
            // timeout: an address that drops packets must not hold up the
            // others.
            let left = timeout.map_or(Duration::MAX, |t| t.saturating_sub(started.elapsed()));
            let deadline =
                Instant::now() + left.clamp(Duration::from_millis(100), Duration::from_secs(2));
            for port in &instance.ports {
                if let Err(e) = connect(&instance.host, *port, deadline) {
                    *why = format!("{} ({}:{port}: {e})", instance.name, instance.host);
                    return true;
                }
            }
            eprintln!("{} of {service} is ready", instance.name);
            false
        });
        if pending.is_empty() || (any && pending.len() < targets.len()) {
            return Ok(());
        }
        let elapsed = started.elapsed();
        if let Some(limit) = timeout {
            if elapsed >= limit {
                let why: Vec<&str> = pending.iter().map(|(_, why)| why.as_str()).collect();
                return Err(not_ready(format!(
                    "timed out waiting for {service}: {}",
                    why.join(", ")
                )));
            }
            pause = pause.min(limit - elapsed);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("5", false), Ok(Some(Duration::from_secs(5))));
        assert_eq!(
            parse_timeout("0.25", false),
            Ok(Some(Duration::from_millis(250)))
        );
        assert_eq!(parse_timeout("0", true), Ok(None));
        assert_eq!(
            parse_timeout("0", false),
            Err("--timeout must be more than 0, got 0".into())
        );
        for bad in ["", "-1", "1s", "1.2345", ".5", "1e3", "x"] {
            assert_eq!(
                parse_timeout(bad, true),
                Err(format!("--timeout takes a number of seconds, got {bad}"))
            );
        }
    }

    #[test]
    fn hosts() {
        for good in ["10.213.0.11", "localhost", "db.example.", "my_host-1.lan"] {
            assert_eq!(check_host(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "10.213.0.11:80",
            "10.213.0.300",
            "a b",
            "-x",
            "a..b",
            "1.2.3",
        ] {
            assert_eq!(
                check_host(bad),
                Err(format!(
                    "malformed address {bad:?}: expected an IPv4 address or a host name"
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn own_ports_by_number_or_name() {
        let vars = env_of(&[
            ("SERVICE_NAME", "web"),
            ("CONTAINER_NAME", "web-1"),
            ("WEB_WEB_1_HTTP_INTERNAL_PORT", "8080"),
            ("WEB_WEB_1_BIG_INTERNAL_PORT", "70000"),
        ]);
        let lookup = |k: &str| vars.get(k).cloned();
        assert_eq!(own_port(&lookup, "http"), Ok(8080));
        assert_eq!(own_port(&lookup, "0443"), Ok(443));
        let err = |p: &str| own_port(&lookup, p).unwrap_err();
        assert_eq!(
            err("admin"),
            Failure {
                message: "No internal port admin defined for container web-1 of service web".into(),
                code: 2
            }
        );
        assert_eq!(err("big").message, "port big is 70000, not 1-65535");
        assert_eq!(err("0").message, "0 is not a port number (1-65535)");
        assert_eq!(err("65536").code, 2);
    }

    #[test]
    fn http_verdicts() {
        let check = |status: Option<u16>, pattern: Option<&str>| HttpCheck {
            path: "/".into(),
            status,
            pattern: pattern.map(str::to_owned),
        };
        let verdict = |response: &str, c: &HttpCheck| {
            let p = c.pattern.as_deref().map(|p| Pattern::new(p).unwrap());
            http_verdict(response.as_bytes(), c, p.as_ref())
        };
        let ok = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nweb-1 ok\n";
        let missing = "HTTP/1.1 404 Not Found\r\n\r\nno such page";
        assert_eq!(verdict(ok, &check(None, None)), Ok(()));
        assert_eq!(
            verdict(missing, &check(None, None)),
            Err("status 404, expected 200".into())
        );
        assert_eq!(verdict(missing, &check(Some(404), None)), Ok(()));
        // A pattern alone decides, whatever the status (as MaestroNG).
        assert_eq!(verdict(missing, &check(None, Some("no such"))), Ok(()));
        assert_eq!(verdict(ok, &check(None, Some("^web-1 ok$"))), Ok(()));
        assert_eq!(
            verdict(ok, &check(None, Some("Content"))),
            Err("status 200, body does not match Content".into())
        );
        assert_eq!(
            verdict(missing, &check(Some(200), Some("no such"))),
            Err("status 404, expected 200".into())
        );
        assert_eq!(
            verdict("SSH-2.0-OpenSSH\r\n", &check(None, None)),
            Err("not an HTTP response".into())
        );
        assert_eq!(
            verdict("", &check(None, None)),
            Err("not an HTTP response".into())
        );
    }

    #[test]
    fn wait_targets_from_the_environment() {
        let vars = env_of(&[
            ("DB_INSTANCES", "db-1,db-1-a,db-2"),
            ("DB_DB_1_HOST", "10.213.0.11"),
            ("DB_DB_1_SQL_PORT", "15432"),
            ("DB_DB_1_SQL_INTERNAL_PORT", "5432"),
            ("DB_DB_1_ADMIN_PORT", "18080"),
            ("DB_DB_1_A_HOST", "10.213.0.13"),
            ("DB_DB_1_A_SQL_PORT", "35432"),
            ("DB_DB_2_HOST", "db-2.lan"),
            ("DB_DB_2_SQL_PORT", "25432"),
            ("DB_DB_2_ADMIN_PORT", "28080"),
            // A port named `x-internal`, not the internal port of `x`.
            ("DB_DB_2_X_INTERNAL_PORT", "29000"),
            ("BAD_INSTANCES", "b-1"),
            ("BAD_B_1_HOST", "10.213.0.11:80"),
            ("BAD_B_1_SQL_PORT", "1"),
            ("RANGE_INSTANCES", "r-1"),
            ("RANGE_R_1_HOST", "10.213.0.11"),
            ("RANGE_R_1_P_PORT", "1234-1236"),
        ]);
        let lookup = |k: &str| vars.get(k).cloned();
        let targets = |s: &str, p: &[&str]| {
            let ports: Vec<String> = p.iter().map(|p| p.to_string()).collect();
            let keys: Vec<&str> = vars.keys().map(String::as_str).collect();
            wait_targets(&lookup, &keys, s, &ports)
        };
        assert_eq!(
            targets("db", &["sql"]),
            Ok(vec![
                Instance {
                    name: "db-1".into(),
                    host: "10.213.0.11".into(),
                    ports: vec![15432]
                },
                Instance {
                    name: "db-1-a".into(),
                    host: "10.213.0.13".into(),
                    ports: vec![35432]
                },
                Instance {
                    name: "db-2".into(),
                    host: "db-2.lan".into(),
                    ports: vec![25432]
                },
            ])
        );
        // No port named: every port the instance was given, by name, not
        // its internal ports nor those of db-1-a.
        let all: Vec<Vec<u16>> = targets("db", &[])
            .unwrap()
            .into_iter()
            .map(|i| i.ports)
            .collect();
        assert_eq!(
            all,
            vec![vec![18080, 15432], vec![35432], vec![28080, 25432, 29000]]
        );
        let err = |s: &str, p: &[&str]| targets(s, p).unwrap_err();
        assert_eq!(
            err("db", &["jmx"]),
            Failure {
                message: "No port jmx defined for container db-1 of service db".into(),
                code: 2
            }
        );
        assert_eq!(
            err("nosuch", &["sql"]).message,
            "No or not enough nosuch nodes configured"
        );
        assert_eq!(
            err("bad", &["sql"]).message,
            "malformed address \"10.213.0.11:80\": expected an IPv4 address or a host name \
             (host of b-1 of service bad)"
        );
        assert_eq!(
            err("range", &["p"]).message,
            "No port p defined for container r-1 of service range"
        );
        assert_eq!(
            err("range", &[]).message,
            "No ports defined for container r-1 of service range"
        );
    }

    #[test]
    fn a_refused_port_is_not_ready_and_a_listening_one_is() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        // A port nothing listens on: bound, then closed.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let none = |_: &str| None;
        let timeout = Duration::from_secs(2);
        assert_eq!(check(&none, None, &open.to_string(), None, timeout), Ok(()));
        let failure = check(&none, None, &closed.to_string(), None, timeout).unwrap_err();
        assert_eq!(failure.code, 1);
        assert!(
            failure
                .message
                .starts_with(&format!("127.0.0.1:{closed}: ")),
            "{}",
            failure.message
        );
        let instance = |port| Instance {
            name: "db-1".into(),
            host: "127.0.0.1".into(),
            ports: vec![port],
        };
        assert_eq!(wait("db", &[instance(open)], false, Some(timeout)), Ok(()));
        let started = Instant::now();
        let failure = wait(
            "db",
            &[instance(open), instance(closed)],
            false,
            Some(Duration::from_millis(500)),
        )
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(failure.code, 1);
        assert!(
            failure
                .message
                .starts_with("timed out waiting for db: db-1 (127.0.0.1:"),
            "{}",
            failure.message
        );
        assert_eq!(
            wait(
                "db",
                &[instance(closed), instance(open)],
                true,
                Some(timeout)
            ),
            Ok(())
        );
    }
}
