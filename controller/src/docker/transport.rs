//! How requests reach a ship: one ureq `Agent` per ship (its own connection
//! pool), dialling a unix socket, TCP, TLS, or the SSH forwarder's socket
//! (with TLS on top when the ship also has `tls`).
//!
//! Priority: `ssh_tunnel`, then `socket_path`, then TCP to
//! `endpoint:docker_port`. With `ssh_tunnel`, `socket_path` names the
//! daemon's socket on the REMOTE host; without it the forward goes to
//! `127.0.0.1:<docker_port>` on the remote host.

use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, RustlsConnector, Transport,
};

use super::error::{Context, ErrorKind};
use super::ssh::{Forwarder, SshSpec};
use crate::config::ship::Ship;

/// Which transport a ship uses, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Unix,
    Tcp,
    Tls,
    Ssh,
    SshTls,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Unix => "unix",
            TransportKind::Tcp => "tcp",
            TransportKind::Tls => "tls",
            TransportKind::Ssh => "ssh",
            TransportKind::SshTls => "ssh+tls",
        })
    }
}

/// What `connect` builds for a ship.
pub(crate) struct Built {
    pub agent: Agent,
    /// `http://docker`, `http://10.213.0.12:2375`, `https://10.213.0.21:2376`.
    pub base: String,
    pub kind: TransportKind,
    pub ctx: Context,
    pub forwarder: Option<Arc<Forwarder>>,
    /// Set when certificate checking is off (`tls_verify: false`).
    pub warning: Option<String>,
}

/// Builds the agent for a ship. Nothing is dialled yet (ssh starts on the
/// first request); only certificate files are read, so this fails only on
/// those.
pub(crate) fn connect(ship: &Ship) -> Result<Built, super::Error> {
    let host = if ship.endpoint.is_empty() {
        ship.ip.clone()
    } else {
        ship.endpoint.clone()
    };
    let url_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let ssh_spec = ssh_spec(ship, &host);
    let mut ctx = context(ship, &host);
    ctx.endpoint = endpoint(ship, ssh_spec.as_ref(), &url_host);
    let (config, warning) = agent_config(ship, &ctx)?;
    let route = route(ship, ssh_spec, config, &url_host, &mut ctx);
    Ok(Built {
        agent: route.agent,
        base: route.base,
        kind: route.kind,
        ctx,
        forwarder: route.forwarder,
        warning,
    })
}

/// What errors about this ship name: its address and the certificate files
/// in use (the CA only when it is checked).
fn context(ship: &Ship, host: &str) -> Context {
    let tls = ship.tls.as_ref();
    Context {
        ship: ship.name.clone(),
        endpoint: String::new(),
        host: host.to_string(),
        socket: None,
        ca: tls
            .and_then(|t| t.ca_cert.clone())
            .filter(|_| tls.is_some_and(|t| t.verify)),
        client_cert: tls.and_then(|t| t.cert.clone()),
        timeout: ship.timeout,
    }
}

/// The forward to start when the ship has `ssh_tunnel`: to `socket_path`
/// on the remote host, else to its `127.0.0.1:<docker_port>`.
fn ssh_spec(ship: &Ship, host: &str) -> Option<SshSpec> {
    ship.ssh_tunnel.as_ref().map(|tunnel| SshSpec {
        ship: ship.name.clone(),
        host: host.to_string(),
        user: tunnel.user.clone(),
        key: tunnel.key.clone(),
        port: tunnel.port,
        known_hosts: tunnel.known_hosts.clone(),
        remote: match &ship.socket_path {
            Some(p) => p.display().to_string(),
            None => format!("127.0.0.1:{}", ship.docker_port),
        },
        connect_timeout: ship.timeout,
        control_persist: super::ssh::control_persist(tunnel.control_persist),
    })
}

/// The endpoint as errors show it: `ssh://…`, `unix://…`, `tcp://…` or
/// `tcp+tls://…`.
fn endpoint(ship: &Ship, ssh_spec: Option<&SshSpec>, url_host: &str) -> String {
    match (ssh_spec, &ship.socket_path) {
        (Some(spec), _) => spec.describe(),
        (None, Some(path)) => format!("unix://{}", path.display()),
        (None, None) => format!(
            "{}://{url_host}:{}",
            if ship.tls.is_some() { "tcp+tls" } else { "tcp" },
            ship.docker_port
        ),
    }
}

/// The agent's settings, TLS included, and the warning to show when the
/// daemon's certificate is not checked.
fn agent_config(ship: &Ship, ctx: &Context) -> Result<(Config, Option<String>), super::Error> {
    let mut config = Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("maestro/", env!("CARGO_PKG_VERSION")))
        .max_idle_connections(256)
        .max_idle_connections_per_host(64)
        // A Docker daemon never redirects; following one would send the
        // request (and its X-Registry-Auth header) wherever the answer
        // points. `check` turns a 3xx into an error instead.
        .max_redirects(0)
        .timeout_global(Some(ship.timeout));
    let mut warning = None;
    if let Some(t) = &ship.tls {
        config = config.tls_config(tls_config(t, ctx)?);
        if !t.verify {
            warning = Some(if t.ca_cert.is_some() {
                format!(
                    "ship `{}`: tls_verify is false, the daemon's certificate is not checked",
                    ship.name
                )
            } else {
                format!(
                    "ship `{}`: TLS without tls_ca_cert, the daemon's certificate is not checked",
                    ship.name
                )
            });
        }
    }
    Ok((config.build(), warning))
}

/// How requests reach the daemon: the agent, the base URL and, over ssh,
/// the forwarder the agent dials.
struct Route {
    agent: Agent,
    base: String,
    kind: TransportKind,
    forwarder: Option<Arc<Forwarder>>,
}

/// Picks the transport by priority: `ssh_tunnel`, then `socket_path`, then
/// TCP. Records the socket in `ctx` when one is dialled directly.
fn route(
    ship: &Ship,
    ssh_spec: Option<SshSpec>,
    config: Config,
    url_host: &str,
    ctx: &mut Context,
) -> Route {
    let tls = ship.tls.is_some();
    if let Some(spec) = ssh_spec {
        let forwarder = Arc::new(Forwarder::new(spec));
        let agent = dialled_agent(config, Dial::Forwarder(forwarder.clone()), tls);
        let (base, kind) = if tls {
            // The URL host drives SNI and certificate checks, so keep the
            // ship's address in it although the bytes go through ssh.
            (
                format!("https://{url_host}:{}", ship.docker_port),
                TransportKind::SshTls,
            )
        } else {
            ("http://docker".to_string(), TransportKind::Ssh)
        };
        Route {
            agent,
            base,
            kind,
            forwarder: Some(forwarder),
        }
    } else if let Some(path) = &ship.socket_path {
        ctx.socket = Some(path.clone());
        let agent = dialled_agent(config, Dial::Path(path.clone()), tls);
        let (base, kind) = if tls {
            (format!("https://{url_host}"), TransportKind::Tls)
        } else {
            ("http://docker".to_string(), TransportKind::Unix)
        };
        Route {
            agent,
            base,
            kind,
            forwarder: None,
        }
    } else {
        let scheme = if tls { "https" } else { "http" };
        Route {
            agent: Agent::new_with_config(config),
            base: format!("{scheme}://{url_host}:{}", ship.docker_port),
            kind: if tls {
                TransportKind::Tls
            } else {
                TransportKind::Tcp
            },
            forwarder: None,
        }
    }
}

/// An agent that dials a unix socket, with TLS on top when the ship has it.
fn dialled_agent(config: Config, dial: Dial, tls: bool) -> Agent {
    if tls {
        Agent::with_parts(
            config,
            StreamConnector(dial).chain(RustlsConnector::default()),
            NoDns,
        )
    } else {
        Agent::with_parts(config, StreamConnector(dial), NoDns)
    }
}

fn tls_config(t: &crate::config::ship::Tls, ctx: &Context) -> Result<TlsConfig, super::Error> {
    let mut b = TlsConfig::builder().disable_verification(!t.verify);
    if let Some(ca) = &t.ca_cert {
        let certs = read_certs(ca, ctx)?;
        b = b.root_certs(RootCerts::new_with_certs(&certs));
    }
    match (&t.cert, &t.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, ctx)?;
            let pem = read_file(key, ctx)?;
            let key = PrivateKey::from_pem(&pem).map_err(|e| {
                // Never echo the file's content: only what is wrong with it.
                files_error(ctx, key, format!("not a PEM private key ({})", short(&e)))
            })?;
            check_client_cert(&chain, &pem).map_err(|detail| files_error(ctx, cert, detail))?;
            b = b.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        (Some(path), None) | (None, Some(path)) => {
            return Err(files_error(
                ctx,
                path,
                "tls_cert and tls_key must be given together".into(),
            ));
        }
        (None, None) => {}
    }
    Ok(b.build())
}

/// ureq panics when rustls refuses a client certificate (e.g. an X.509 v1
/// certificate, or a key that does not match): ask rustls first.
fn check_client_cert(chain: &[Certificate<'static>], key_pem: &[u8]) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = chain
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "the key file holds no usable private key".to_string())?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(chain, key)
        .map(|_| ())
        .map_err(|e| format!("rustls cannot use this client certificate and key ({e})"))
}

fn read_file(path: &Path, ctx: &Context) -> Result<Vec<u8>, super::Error> {
    std::fs::read(path).map_err(|e| files_error(ctx, path, e.to_string()))
}

fn read_certs(path: &Path, ctx: &Context) -> Result<Vec<Certificate<'static>>, super::Error> {
    let pem = read_file(path, ctx)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(files_error(ctx, path, format!("bad PEM ({})", short(&e)))),
        }
    }
    if certs.is_empty() {
        return Err(files_error(ctx, path, "no PEM certificate in it".into()));
    }
    Ok(certs)
}

fn short(e: &ureq::Error) -> String {
    e.to_string().chars().take(120).collect()
}

fn files_error(ctx: &Context, path: &Path, detail: String) -> super::Error {
    ctx.error(ErrorKind::TlsFiles {
        path: path.to_path_buf(),
        detail,
    })
}

/// Where a stream connector dials.
#[derive(Debug, Clone)]
enum Dial {
    Path(PathBuf),
    Forwarder(Arc<Forwarder>),
}

/// Dials a unix socket: the daemon's own, or the SSH forwarder's. The URL
/// host only feeds the Host header and the pool key.
#[derive(Debug)]
struct StreamConnector(Dial);

impl<In: Transport> Connector<In> for StreamConnector {
    type Out = UnixTransport;
    fn connect(
        &self,
        d: &ConnectionDetails,
        _chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let stream = match &self.0 {
            Dial::Path(p) => UnixStream::connect(p)?,
            Dial::Forwarder(f) => f.connect()?,
        };
        Ok(Some(UnixTransport::new(stream, d.config)))
    }
}

/// ureq transport over a unix stream (from the project's verified
/// connector, see spec/dependencies.md section 1).
pub(crate) struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
    open: bool,
}

impl fmt::Debug for UnixTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnixTransport")
    }
}

impl UnixTransport {
    fn new(stream: UnixStream, cfg: &Config) -> Self {
        UnixTransport {
            stream,
            buffers: LazyBuffers::new(cfg.input_buffer_size(), cfg.output_buffer_size()),
            open: true,
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn not_zero(t: &NextTimeout) -> Option<Duration> {
    t.not_zero().map(|d| *d)
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, t: NextTimeout) -> Result<(), ureq::Error> {
        let t = t.for_write();
        self.stream.set_write_timeout(not_zero(&t))?;
        if let Err(e) = self.stream.write_all(&self.buffers.output()[..amount]) {
            return Err(if is_timeout(&e) {
                ureq::Error::Timeout(t.reason)
            } else {
                e.into()
            });
        }
        Ok(self.stream.flush()?)
    }

    fn await_input(&mut self, t: NextTimeout) -> Result<bool, ureq::Error> {
        let t = t.for_read();
        self.stream.set_read_timeout(not_zero(&t))?;
        let buf = self.buffers.input_append_buf();
        let n = loop {
            match self.stream.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => return Err(ureq::Error::Timeout(t.reason)),
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            self.open = false;
        }
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    /// Asked before a pooled connection is reused: a peer that closed it
    /// (dockerd restarted, ssh restarted) reads as EOF without blocking.
    fn is_open(&mut self) -> bool {
        self.open && probe(&self.stream)
    }
}

/// True when nothing is waiting on the socket and it is not closed (the same
/// check ureq does for its TCP connections).
fn probe(mut stream: &UnixStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut buf = [0u8];
    let open =
        matches!(stream.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && open
}

/// No DNS for socket-dialled ships: the URL host is never dialled.
#[derive(Debug)]
struct NoDns;

impl Resolver for NoDns {
    fn resolve(
        &self,
        _u: &Uri,
        _c: &Config,
        _t: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut v = self.empty();
        v.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ship::{ApiVersion, SshTunnel, Tls};

    fn ship() -> Ship {
        Ship {
            name: "s".into(),
            ip: "10.213.0.1".into(),
            endpoint: "10.213.0.2".into(),
            docker_port: 2375,
            socket_path: None,
            api_version: ApiVersion::Auto,
            timeout: Duration::from_secs(5),
            tls: None,
            ssh_tunnel: None,
            max_concurrency: 8,
        }
    }

    fn tunnel() -> Option<SshTunnel> {
        Some(SshTunnel {
            user: "u".into(),
            key: "/k".into(),
            port: 2222,
            known_hosts: None,
            control_persist: None,
        })
    }

    #[test]
    fn priority_ssh_then_socket_then_tcp() {
        let b = connect(&ship()).unwrap();
        assert_eq!(
            (b.kind, b.base.as_str()),
            (TransportKind::Tcp, "http://10.213.0.2:2375")
        );
        assert_eq!(b.ctx.endpoint, "tcp://10.213.0.2:2375");

        let s = Ship {
            socket_path: Some("/run/d.sock".into()),
            ..ship()
        };
        let b = connect(&s).unwrap();
        assert_eq!(
            (b.kind, b.base.as_str()),
            (TransportKind::Unix, "http://docker")
        );
        assert_eq!(b.ctx.endpoint, "unix:///run/d.sock");

        // With a tunnel, socket_path is the remote socket.
        let s = Ship {
            socket_path: Some("/run/d.sock".into()),
            ssh_tunnel: tunnel(),
            ..ship()
        };
        let b = connect(&s).unwrap();
        assert_eq!(b.kind, TransportKind::Ssh);
        assert_eq!(b.ctx.endpoint, "ssh://u@10.213.0.2:2222 -> /run/d.sock");
        assert!(b.forwarder.is_some());

        let s = Ship {
            ssh_tunnel: tunnel(),
            ..ship()
        };
        assert_eq!(
            connect(&s).unwrap().ctx.endpoint,
            "ssh://u@10.213.0.2:2222 -> 127.0.0.1:2375"
        );
    }

    #[test]
    fn tls_without_verification_warns_and_needs_no_files() {
        let s = Ship {
            docker_port: 2376,
            tls: Some(Tls {
                verify: false,
                ca_cert: None,
                cert: None,
                key: None,
            }),
            ..ship()
        };
        let b = connect(&s).unwrap();
        assert_eq!(
            (b.kind, b.base.as_str()),
            (TransportKind::Tls, "https://10.213.0.2:2376")
        );
        assert!(b.warning.unwrap().contains("ship `s`"));
    }

    #[test]
    fn unreadable_tls_files_name_the_path() {
        let s = Ship {
            tls: Some(Tls {
                verify: true,
                ca_cert: Some("/nonexistent/ca.pem".into()),
                cert: None,
                key: None,
            }),
            ..ship()
        };
        let e = connect(&s).err().unwrap();
        assert!(
            e.to_string()
                .contains("TLS: cannot use /nonexistent/ca.pem"),
            "{e}"
        );
        let s = Ship {
            tls: Some(Tls {
                verify: true,
                ca_cert: None,
                cert: Some("/c.pem".into()),
                key: None,
            }),
            ..ship()
        };
        let e = connect(&s).err().unwrap();
        assert!(
            e.to_string()
                .contains("tls_cert and tls_key must be given together")
        );
    }
}
