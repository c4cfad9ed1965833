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
    /// How long a shared SSH connection (OpenSSH's control master) stays
    /// after its last use; `None`: no sharing, one connection per run.
    pub control_persist: Option<Duration>,
}

/// Default `ssh_tunnel.control_persist`: a few minutes, so that commands run
/// one after another share one SSH handshake.
pub const DEFAULT_CONTROL_PERSIST: Duration = Duration::from_secs(300);

// ---- reading `ships` and `ship_defaults` ----

use std::collections::BTreeMap;
use std::path::Path;

use super::keys;
use super::reader::{Fields, Reader, join};
use super::yaml::{Node, Value};

/// Reads `ships` with `ship_defaults` applied; relative paths resolve against
/// `base_dir`, then the current directory.
pub fn parse_ships(
    r: &mut Reader,
    ships: &Node,
    defaults: Option<&Node>,
    base_dir: &Path,
) -> BTreeMap<String, ShipRef> {
    let defaults =
        defaults.and_then(|d| r.fields(d, "ship_defaults", &keys::names(keys::SHIP_SETTINGS)));
    let keys = keys::names(keys::SHIP);
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

/// A ship's settings: its own value of a key, else `ship_defaults`'s,
/// with the path it came from.
struct Settings<'a, 'n> {
    own: &'a Fields<'n>,
    defaults: Option<&'a Fields<'n>>,
}

impl<'n> Settings<'_, 'n> {
    fn get(&self, key: &str) -> Option<(&'n Node, String)> {
        let own = self.own.get(key).map(|n| (n, self.own.path(key)));
        own.or_else(|| {
            let d = self.defaults?;
            d.get(key).map(|n| (n, d.path(key)))
        })
    }

    /// A flag; off when not given (and when wrong, reported).
    fn flag(&self, r: &mut Reader, key: &str) -> bool {
        match self.get(key) {
            Some((n, p)) => r.bool(n, &p).unwrap_or(false),
            None => false,
        }
    }

    /// A file, resolved against `base`; `None` when not given or wrong.
    fn file(&self, r: &mut Reader, key: &str, base: &Path) -> Option<PathBuf> {
        let (n, p) = self.get(key)?;
        r.name(n, &p).map(|s| resolve(base, &s))
    }
}

fn ship(
    r: &mut Reader,
    name: &str,
    f: &Fields<'_>,
    d: Option<&Fields<'_>>,
    base: &Path,
) -> Option<Ship> {
    let settings = Settings {
        own: f,
        defaults: d,
    };
    // Read every key even after an error, so that all are reported; the
    // ship is dropped at the end if any was wrong.
    let errors_before = r.errors.len();
    let ip = r.required(f, "ip").and_then(|n| r.name(n, &f.path("ip")));
    let endpoint = match f.get("endpoint") {
        Some(n) => r.name(n, &f.path("endpoint")),
        None => ip.clone(),
    };
    let tls = tls(r, f, &settings, base);
    let docker_port = match settings.get("docker_port") {
        Some((n, p)) => r.port(n, &p).unwrap_or(2375),
        None if tls.is_some() => 2376,
        None => 2375,
    };
    let socket_path = settings.file(r, "socket_path", base);
    let api_version = api_version(r, &settings);
    let timeout = match settings.get("timeout") {
        Some((n, p)) => r
            .seconds(n, &p)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64),
        None => DEFAULT_TIMEOUT,
    };
    let max_concurrency = max_concurrency(r, &settings);
    let ssh_tunnel = settings
        .get("ssh_tunnel")
        .and_then(|(n, p)| ssh_tunnel(r, n, &p, base));
    // `ssl_version` and `ssh_timeout` are accepted for compatibility and
    // have no effect (MaestroNG never read `ssh_timeout` either).
    if let Some((n, p)) = settings.get("ssl_version")
        && !matches!(n.value, Value::Str(_) | Value::Number(_))
    {
        r.error(n, &p, format!("expected a string, got {}", n.kind()));
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

/// `tls`, `tls_verify` and the certificate files: `Some` when either flag
/// is on.
fn tls(r: &mut Reader, f: &Fields<'_>, settings: &Settings<'_, '_>, base: &Path) -> Option<Tls> {
    let tls_on = settings.flag(r, "tls");
    let verify_given = settings.get("tls_verify").is_some();
    let verify_flag = settings.flag(r, "tls_verify");
    let ca_cert = settings.file(r, "tls_ca_cert", base);
    // A CA is given to be used: certificates are checked against it unless
    // the file says `tls_verify: false` (MaestroNG checked only with
    // `tls_verify: true`, so `tls_ca_cert` alone left checks off).
    let verify = if verify_given {
        verify_flag
    } else {
        ca_cert.is_some()
    };
    let cert = settings.file(r, "tls_cert", base);
    let key = settings.file(r, "tls_key", base);
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
    (tls_on || verify_flag).then_some(Tls {
        verify,
        ca_cert,
        cert,
        key,
    })
}

/// `api_version`: `auto` (the default) or a version like `1.41`.
fn api_version(r: &mut Reader, settings: &Settings<'_, '_>) -> ApiVersion {
    let Some((n, p)) = settings.get("api_version") else {
        return ApiVersion::Auto;
    };
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

/// `max_concurrency`: at least 1.
fn max_concurrency(r: &mut Reader, settings: &Settings<'_, '_>) -> usize {
    let Some((n, p)) = settings.get("max_concurrency") else {
        return DEFAULT_MAX_CONCURRENCY;
    };
    match r.uint(n, &p).unwrap_or(1) {
        0 => {
            r.error(n, &p, "max_concurrency must be at least 1");
            DEFAULT_MAX_CONCURRENCY
        }
        v => usize::try_from(v).unwrap_or(usize::MAX),
    }
}

/// `ssh_tunnel`: `user` and `key` (required), `port`, `known_hosts`.
fn ssh_tunnel(r: &mut Reader, n: &Node, p: &str, base: &Path) -> Option<SshTunnel> {
    let t = r.fields(n, p, &keys::names(keys::SSH_TUNNEL))?;
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
    let control_persist = match t.get("control_persist") {
        None => Some(DEFAULT_CONTROL_PERSIST),
        Some(c) => control_persist(r, c, &t.path("control_persist"))?,
    };
    Some(SshTunnel {
        user: user?,
        key: resolve(base, &key?),
        port: port?,
        known_hosts,
        control_persist,
    })
}

/// `ssh_tunnel.control_persist`: seconds (whole, at least 1), or `false`
/// or `0` for no sharing. `Some(None)` is "off"; `None` an error.
fn control_persist(r: &mut Reader, n: &Node, p: &str) -> Option<Option<Duration>> {
    match &n.value {
        Value::Bool(true) => Some(Some(DEFAULT_CONTROL_PERSIST)),
        Value::Bool(false) => Some(None),
        Value::Number(num) if num.int.is_some_and(|i| i >= 0) => {
            let secs = num.int.and_then(|i| u64::try_from(i).ok()).unwrap_or(0);
            Some((secs > 0).then(|| Duration::from_secs(secs)))
        }
        _ => {
            r.error(
                n,
                p,
                format!(
                    "control_persist is a whole number of seconds, or false for no sharing; got {}",
                    super::reader::describe(n)
                ),
            );
            None
        }
    }
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
