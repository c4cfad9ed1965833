//! A ship: one Docker daemon, and how to reach it.
//!
//! This is the validated form that the `docker` module consumes; the config
//! loader fills it from `ships.<name>` merged over `ship_defaults`, with
//! every path already resolved (environment file's folder, then the current
//! directory).

use std::path::PathBuf;
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
