//! A ship: one Docker daemon, and how to reach it.
//!
//! This is the validated form that the `docker` module consumes; the config
//! loader fills it from `ships.<name>` merged over `ship_defaults`, with
//! every path already resolved (environment file's folder, then the current
//! directory).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Default in-flight operations per daemon.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// Default HTTP timeout of a Docker request (not of streaming calls).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub struct Ship {
    /// The key under `ships`.
    pub name: String,
    /// Public address: what containers, checks and link variables use.
    pub ip: String,
    /// Address used to reach the daemon (and the SSH target); defaults to `ip`.
    pub endpoint: String,
    /// Daemon TCP port: 2375, or 2376 when TLS is on.
    pub docker_port: u16,
    /// Unix socket of the daemon; when set (and no SSH tunnel), used instead of TCP.
    pub socket_path: Option<PathBuf>,
    pub api_version: ApiVersion,
    /// Timeout of one request; streaming calls (logs, pull, events) are not cut by it.
    pub timeout: Duration,
    /// Some when `tls` or `tls_verify` is set.
    pub tls: Option<Tls>,
    pub ssh_tunnel: Option<SshTunnel>,
    /// Operations in flight on this daemon at once.
    pub max_concurrency: usize,
}

/// An instance's ship: the validated `Ship` itself, shared with
/// `Environment::ships`, so that whoever holds an instance has its ship
/// (address, endpoint, ...) without a lookup by name that could miss.
/// Compares, prints and serialises as the ship's name (so `dump` and the
/// configuration hash see the name, as when this was a string).
#[derive(Clone)]
pub struct ShipRef(Arc<Ship>);

impl ShipRef {
    pub fn new(ship: Ship) -> ShipRef {
        ShipRef(Arc::new(ship))
    }
}

impl std::ops::Deref for ShipRef {
    type Target = Ship;
    fn deref(&self) -> &Ship {
        &self.0
    }
}

impl PartialEq for ShipRef {
    fn eq(&self, other: &ShipRef) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for ShipRef {}

impl std::fmt::Display for ShipRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.name)
    }
}

impl std::fmt::Debug for ShipRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0.name, f)
    }
}

impl serde::Serialize for ShipRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.name)
    }
}

/// Tests build instances without an environment: a ship of that name,
/// every other setting empty or default.
#[cfg(test)]
impl From<&str> for ShipRef {
    fn from(name: &str) -> ShipRef {
        ShipRef::new(Ship {
            name: name.to_string(),
            ip: String::new(),
            endpoint: String::new(),
            docker_port: 2375,
            socket_path: None,
            api_version: ApiVersion::Auto,
            timeout: DEFAULT_TIMEOUT,
            tls: None,
            ssh_tunnel: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiVersion {
    /// Negotiate: the lower of ours and the daemon's.
    Auto,
    /// Used as given, e.g. `1.41` (kept as text: `1.20` stays `1.20`).
    Fixed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// Verify the daemon's certificate against `ca_cert`.
    pub verify: bool,
    pub ca_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTunnel {
    pub user: String,
    pub key: PathBuf,
    /// SSH port, 22 by default.
    pub port: u16,
    /// known_hosts file to check the host key against; the user's default when None.
    pub known_hosts: Option<PathBuf>,
}

// ---- reading `ships` and `ship_defaults` ----

use std::collections::BTreeMap;
use std::path::Path;

use super::reader::{Fields, Reader, join};
use super::yaml::{Node, Value};

/// Keys allowed in `ship_defaults` (every ship key except `ip`, `endpoint`).
const DEFAULT_KEYS: [&str; 13] = [
    "docker_port",
    "socket_path",
    "api_version",
    "timeout",
    "ssh_tunnel",
    "tls",
    "tls_verify",
    "tls_ca_cert",
    "tls_cert",
    "tls_key",
    "ssl_version",
    "ssh_timeout",
    "max_concurrency",
];

/// Reads `ships` with `ship_defaults` applied; relative paths resolve against
/// `base_dir`, then the current directory.
pub fn parse_ships(
    r: &mut Reader,
    ships: &Node,
    defaults: Option<&Node>,
    base_dir: &Path,
) -> BTreeMap<String, ShipRef> {
    let defaults = defaults.and_then(|d| r.fields(d, "ship_defaults", &DEFAULT_KEYS));
    let mut keys: Vec<&str> = DEFAULT_KEYS.to_vec();
    keys.extend(["ip", "endpoint"]);
    let mut out = BTreeMap::new();
    for (name, _, node) in r.entries(ships, "ships").unwrap_or_default() {
        let path = join("ships", &name);
        let Some(f) = r.fields(node, &path, &keys) else {
            continue;
        };
        if let Some(ship) = ship(r, &name, &f, defaults.as_ref(), base_dir) {
            out.insert(name, ShipRef::new(ship));
        }
    }
    out
}

fn ship(
    r: &mut Reader,
    name: &str,
    f: &Fields<'_>,
    d: Option<&Fields<'_>>,
    base: &Path,
) -> Option<Ship> {
    // The ship's own value, else the default's, with the path it came from.
    let get = |key: &str| -> Option<(&Node, String)> {
        f.get(key)
            .map(|n| (n, f.path(key)))
            .or_else(|| d.and_then(|d| d.get(key).map(|n| (n, d.path(key)))))
    };
    // Read every key even after an error, so that all are reported; the
    // ship is dropped at the end if any was wrong.
    let errors_before = r.errors.len();
    let ip = r.required(f, "ip").and_then(|n| r.name(n, &f.path("ip")));
    let endpoint = match f.get("endpoint") {
        Some(n) => r.name(n, &f.path("endpoint")),
        None => ip.clone(),
    };
    let flag = |r: &mut Reader, key: &str| match get(key) {
        Some((n, p)) => r.bool(n, &p),
        None => Some(false),
    };
    let tls_on = flag(r, "tls").unwrap_or(false);
    let verify = flag(r, "tls_verify").unwrap_or(false);
    let file = |r: &mut Reader, key: &str| match get(key) {
        Some((n, p)) => r.name(n, &p).map(|s| Some(resolve(base, &s))),
        None => Some(None),
    };
    let ca_cert = file(r, "tls_ca_cert").flatten();
    let cert = file(r, "tls_cert").flatten();
    let key = file(r, "tls_key").flatten();
    if cert.is_some() != key.is_some() {
        r.error(
            f.node,
            &f.path,
            "tls_cert and tls_key go together: give both or neither",
        );
    }
    if verify && ca_cert.is_none() {
        r.error(
            f.node,
            &f.path,
            "tls_verify needs tls_ca_cert (the CA that signed the daemon's certificate)",
        );
    }
    let tls = (tls_on || verify).then_some(Tls {
        verify,
        ca_cert,
        cert,
        key,
    });
    let docker_port = match get("docker_port") {
        Some((n, p)) => r.port(n, &p).unwrap_or(2375),
        None if tls.is_some() => 2376,
        None => 2375,
    };
    let socket_path = file(r, "socket_path").flatten();
    let api_version = match get("api_version") {
        None => ApiVersion::Auto,
        Some((n, p)) => {
            let text = n.scalar_text().unwrap_or_default();
            if text == "auto" {
                ApiVersion::Auto
            } else if matches!(text.split_once('.'), Some((a, b)) if !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()))
            {
                ApiVersion::Fixed(text)
            } else {
                r.error(
                    n,
                    &p,
                    format!(
                        "api_version must be \"auto\" or a version like 1.41, got {}",
                        super::reader::describe(n)
                    ),
                );
                ApiVersion::Auto
            }
        }
    };
    let timeout = match get("timeout") {
        Some((n, p)) => r
            .seconds(n, &p)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64),
        None => DEFAULT_TIMEOUT,
    };
    let max_concurrency = match get("max_concurrency") {
        Some((n, p)) => match r.uint(n, &p).unwrap_or(1) {
            0 => {
                r.error(n, &p, "max_concurrency must be at least 1");
                DEFAULT_MAX_CONCURRENCY
            }
            v => usize::try_from(v).unwrap_or(usize::MAX),
        },
        None => DEFAULT_MAX_CONCURRENCY,
    };
    let ssh_tunnel = get("ssh_tunnel").and_then(|(n, p)| {
        let t = r.fields(n, &p, &["user", "key", "port", "known_hosts"])?;
        let user = r
            .required(&t, "user")
            .and_then(|u| r.name(u, &t.path("user")));
        let key = r
            .required(&t, "key")
            .and_then(|k| r.name(k, &t.path("key")));
        let port = match t.get("port") {
            Some(pn) => r.port(pn, &t.path("port")),
            None => Some(22),
        };
        let known_hosts = match t.get("known_hosts") {
            Some(k) => Some(
                r.name(k, &t.path("known_hosts"))
                    .map(|s| resolve(base, &s))?,
            ),
            None => None,
        };
        Some(SshTunnel {
            user: user?,
            key: resolve(base, &key?),
            port: port?,
            known_hosts,
        })
    });
    // `ssl_version` and `ssh_timeout` are accepted for compatibility and
    // have no effect (MaestroNG never read `ssh_timeout` either).
    if let Some((n, p)) = get("ssl_version")
        && !matches!(n.value, Value::Str(_) | Value::Number(_))
    {
        r.error(n, &p, "expected a string");
    }
    if r.errors.len() > errors_before {
        return None;
    }
    Some(Ship {
        name: name.to_string(),
        ip: ip?,
        endpoint: endpoint?,
        docker_port,
        socket_path,
        api_version,
        timeout,
        tls,
        ssh_tunnel,
        max_concurrency,
    })
}

/// A relative path: next to the environment file if it exists there, else
/// in the current folder if it exists there, else next to the file.
pub fn resolve(base: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let by_file = cwd.join(base).join(path);
    if by_file.exists() || !cwd.join(path).exists() {
        by_file
    } else {
        cwd.join(path)
    }
}
