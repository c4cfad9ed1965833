//! Errors of the Docker client, each naming the ship, its endpoint and what
//! to check.
//!
//! Transport failures come out of ureq as a handful of shapes (an I/O error
//! kind, a rustls error inside an I/O error, a timeout, our own SSH failure
//! boxed in `Other`); `classify` turns them into an [`ErrorKind`] the user can
//! act on. Daemon answers with a 4xx/5xx status become [`ErrorKind::Daemon`]
//! with the daemon's own `message`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A failed Docker call: which ship, how it was reached, and what went wrong.
#[derive(Debug)]
pub struct Error {
    /// The ship's name (the key under `ships`).
    pub ship: String,
    /// How the ship was reached, e.g. `tcp://10.213.0.12:2375`,
    /// `unix:///run/docker.sock`, `ssh://root@10.213.0.22 -> /run/docker.sock`.
    pub endpoint: String,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// Nothing listens at the address (TCP RST, or a unix socket with no daemon).
    Refused,
    /// The unix socket file does not exist.
    SocketMissing { path: PathBuf },
    /// The unix socket (or a certificate/key file) may not be opened by us.
    PermissionDenied { what: String },
    /// The host name does not resolve.
    Dns { host: String },
    /// No route to the host or the network is down.
    Unreachable { detail: String },
    /// No answer within the time limit.
    Timeout { phase: String, after: Duration },
    /// The daemon closed the TLS handshake because of our client certificate
    /// (none configured, or not signed by the CA the daemon trusts).
    TlsClientRejected { sent_cert: Option<PathBuf> },
    /// The daemon's certificate does not chain to the configured CA.
    TlsUnknownIssuer { ca: Option<PathBuf> },
    /// The daemon's certificate is not valid for the name or address we dialled.
    TlsWrongName { host: String },
    /// The daemon's certificate has expired or is not valid yet.
    TlsExpired { detail: String },
    /// Any other TLS failure, e.g. a plain-HTTP daemon on a TLS connection.
    Tls { detail: String },
    /// A CA, certificate or key file could not be read or parsed.
    TlsFiles { path: PathBuf, detail: String },
    /// The SSH forwarder failed; `stderr` is ssh's own message, `hint`
    /// what to do when maestro recognises it (empty otherwise).
    Ssh {
        detail: String,
        stderr: String,
        hint: String,
    },
    /// The daemon does not speak the API version we asked for.
    ApiVersion { requested: String, detail: String },
    /// The daemon answered with an error status and message.
    Daemon { status: u16, message: String },
    /// A pull failed: the daemon refused it (`status`: its HTTP status) or
    /// reported an error in its progress stream (`status`: None).
    Pull {
        image: String,
        message: String,
        status: Option<u16>,
    },
    /// The response was not what the Engine API promises (truncated, not JSON,
    /// too large).
    Protocol { detail: String },
    /// Any other I/O failure.
    Io { detail: String },
}

impl Error {
    pub fn new(ship: &str, endpoint: &str, kind: ErrorKind) -> Error {
        Error {
            ship: ship.to_string(),
            endpoint: endpoint.to_string(),
            kind,
        }
    }

    /// The HTTP status of a daemon error.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            ErrorKind::Daemon { status, .. } => Some(status),
            _ => None,
        }
    }

    /// The daemon said the container, image or exec does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The daemon could not be reached at all (as opposed to answering with an
    /// error): what `maestro ships` reports as unreachable.
    pub fn is_unreachable(&self) -> bool {
        !matches!(
            self.kind,
            ErrorKind::Daemon { .. } | ErrorKind::Pull { .. } | ErrorKind::ApiVersion { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ship `{}` ({}): ", self.ship, self.endpoint)?;
        match &self.kind {
            ErrorKind::Refused => write!(
                f,
                "connection refused; check that dockerd is running and listens there \
                 (ship's endpoint, docker_port or socket_path)"
            ),
            ErrorKind::SocketMissing { path } => write!(
                f,
                "the socket {} does not exist; check that dockerd is running and the ship's socket_path",
                path.display()
            ),
            ErrorKind::PermissionDenied { what } => write!(
                f,
                "permission denied on {what}; check its owner and mode (or run as a member of the docker group)"
            ),
            ErrorKind::Dns { host } => write!(
                f,
                "cannot resolve the host name `{host}`; check the ship's endpoint/ip and DNS"
            ),
            ErrorKind::Unreachable { detail } => write!(
                f,
                "host unreachable ({detail}); check the ship's endpoint/ip and the network route"
            ),
            ErrorKind::Timeout { phase, after } => write!(
                f,
                "no answer within {} ({phase}); check that the host is up and the port is not filtered, \
                 or raise the ship's timeout",
                fmt_duration(*after)
            ),
            ErrorKind::TlsClientRejected { sent_cert: None } => write!(
                f,
                "TLS: the daemon requires a client certificate and none is configured; \
                 set the ship's tls_cert and tls_key"
            ),
            ErrorKind::TlsClientRejected {
                sent_cert: Some(cert),
            } => write!(
                f,
                "TLS: the daemon rejected our client certificate {}; check that it is signed by \
                 the CA the daemon trusts (dockerd --tlscacert)",
                cert.display()
            ),
            ErrorKind::TlsUnknownIssuer { ca: Some(ca) } => write!(
                f,
                "TLS: the daemon's certificate is not signed by {}; check the ship's tls_ca_cert",
                ca.display()
            ),
            ErrorKind::TlsUnknownIssuer { ca: None } => write!(
                f,
                "TLS: the daemon's certificate is not signed by a known CA; set the ship's tls_ca_cert"
            ),
            ErrorKind::TlsWrongName { host } => write!(
                f,
                "TLS: the daemon's certificate is not valid for `{host}`; check the ship's endpoint \
                 against the certificate's subject alternative names"
            ),
            ErrorKind::TlsExpired { detail } => write!(
                f,
                "TLS: the daemon's certificate is {detail}; renew it or check the clocks"
            ),
            ErrorKind::Tls { detail } => write!(
                f,
                "TLS handshake failed: {detail}; check that the daemon speaks TLS on this port \
                 (the ship's tls and docker_port settings)"
            ),
            ErrorKind::TlsFiles { path, detail } => {
                write!(f, "TLS: cannot use {}: {detail}", path.display())
            }
            ErrorKind::Ssh {
                detail,
                stderr,
                hint,
            } => fmt_ssh(f, detail, stderr, hint),
            ErrorKind::ApiVersion { requested, detail } => write!(
                f,
                "API version {requested} is not supported by the daemon ({detail}); \
                 set the ship's api_version to `auto` or to a version the daemon accepts"
            ),
            ErrorKind::Daemon { status, message } => fmt_daemon(f, *status, message),
            ErrorKind::Pull { image, message, .. } => write!(
                f,
                "pulling {image} failed: {message}; check the image name and the registry credentials"
            ),
            ErrorKind::Protocol { detail } => {
                write!(f, "unexpected response from the daemon: {detail}")
            }
            ErrorKind::Io { detail } => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for Error {}

/// An ssh failure, with what ssh printed on one line.
fn fmt_ssh(f: &mut fmt::Formatter<'_>, detail: &str, stderr: &str, hint: &str) -> fmt::Result {
    write!(f, "SSH tunnel: {detail}")?;
    let stderr = stderr.trim();
    if !stderr.is_empty() {
        write!(f, "; ssh said: {}", stderr.replace('\n', " / "))?;
    }
    if !hint.is_empty() {
        return write!(f, "; {hint}");
    }
    write!(
        f,
        "; check the ship's ssh_tunnel (user, key, port), known_hosts and that the \
         remote docker socket exists"
    )
}

/// The daemon's own error, with a hint when a plain HTTP request reached a
/// TLS port.
fn fmt_daemon(f: &mut fmt::Formatter<'_>, status: u16, message: &str) -> fmt::Result {
    write!(f, "the daemon answered {status}: {message}")?;
    if message.contains("HTTP request to an HTTPS server") {
        write!(f, "; this daemon speaks TLS: set the ship's tls options")?;
    }
    Ok(())
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// What the classifier needs to know about the ship to name the right file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub ship: String,
    pub endpoint: String,
    /// Host part of the dialled address (for DNS and certificate-name errors).
    pub host: String,
    pub socket: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub timeout: Duration,
}

impl Context {
    pub fn error(&self, kind: ErrorKind) -> Error {
        Error::new(&self.ship, &self.endpoint, kind)
    }

    /// Maps a transport error from ureq.
    pub fn transport(&self, e: ureq::Error) -> Error {
        self.error(classify(&e, self))
    }

    /// Maps an I/O error met while reading a streamed body.
    pub fn io(&self, e: std::io::Error) -> Error {
        self.transport(ureq::Error::from(e))
    }

    pub fn protocol(&self, detail: impl Into<String>) -> Error {
        self.error(ErrorKind::Protocol {
            detail: detail.into(),
        })
    }
}

/// The SSH forwarder's failure, carried through ureq's `Error::Other`.
#[derive(Debug)]
pub(crate) struct SshFailure {
    pub detail: String,
    pub stderr: String,
    /// What to do, when the failure is recognised (e.g. a host key).
    pub hint: String,
}

impl fmt::Display for SshFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.detail, self.stderr.trim())
    }
}

impl std::error::Error for SshFailure {}

pub(crate) fn classify(e: &ureq::Error, ctx: &Context) -> ErrorKind {
    use std::io::ErrorKind as Io;
    match e {
        ureq::Error::Timeout(t) => ErrorKind::Timeout {
            phase: t.to_string(),
            after: ctx.timeout,
        },
        ureq::Error::HostNotFound => ErrorKind::Dns {
            host: ctx.host.clone(),
        },
        ureq::Error::Rustls(r) => classify_tls(r, ctx),
        ureq::Error::Other(b) => match b.downcast_ref::<SshFailure>() {
            Some(s) => ErrorKind::Ssh {
                detail: s.detail.clone(),
                stderr: s.stderr.clone(),
                hint: s.hint.clone(),
            },
            None => ErrorKind::Io {
                detail: b.to_string(),
            },
        },
        ureq::Error::Io(io) => {
            if let Some(inner) = io.get_ref() {
                if let Some(r) = inner.downcast_ref::<rustls::Error>() {
                    return classify_tls(r, ctx);
                }
                if let Some(s) = inner.downcast_ref::<SshFailure>() {
                    return ErrorKind::Ssh {
                        detail: s.detail.clone(),
                        stderr: s.stderr.clone(),
                        hint: s.hint.clone(),
                    };
                }
            }
            match io.kind() {
                Io::ConnectionRefused => ErrorKind::Refused,
                Io::NotFound if ctx.socket.is_some() => ErrorKind::SocketMissing {
                    path: ctx.socket.clone().unwrap_or_default(),
                },
                Io::PermissionDenied => ErrorKind::PermissionDenied {
                    what: match &ctx.socket {
                        Some(p) => p.display().to_string(),
                        None => ctx.endpoint.clone(),
                    },
                },
                Io::HostUnreachable | Io::NetworkUnreachable | Io::NetworkDown => {
                    ErrorKind::Unreachable {
                        detail: io.to_string(),
                    }
                }
                Io::TimedOut | Io::WouldBlock => ErrorKind::Timeout {
                    phase: "read".into(),
                    after: ctx.timeout,
                },
                // std's resolver reports failures as uncategorised errors.
                _ if io.to_string().contains("lookup address") => ErrorKind::Dns {
                    host: ctx.host.clone(),
                },
                Io::UnexpectedEof | Io::ConnectionReset | Io::BrokenPipe => ErrorKind::Io {
                    detail: format!(
                        "the daemon closed the connection ({io}); check that the port speaks \
                         the Docker API{}",
                        if ctx.ca.is_none() && ctx.client_cert.is_none() {
                            " (a TLS-only daemon closes plain connections)"
                        } else {
                            ""
                        }
                    ),
                },
                _ => ErrorKind::Io {
                    detail: io.to_string(),
                },
            }
        }
        ureq::Error::BodyExceedsLimit(n) => ErrorKind::Protocol {
            detail: format!("response body larger than {n} bytes"),
        },
        ureq::Error::Protocol(p) => ErrorKind::Protocol {
            detail: p.to_string(),
        },
        other => ErrorKind::Io {
            detail: other.to_string(),
        },
    }
}

fn classify_tls(e: &rustls::Error, ctx: &Context) -> ErrorKind {
    use rustls::AlertDescription as A;
    use rustls::CertificateError as C;
    match e {
        rustls::Error::AlertReceived(
            A::BadCertificate
            | A::CertificateRequired
            | A::UnknownCA
            | A::CertificateUnknown
            | A::AccessDenied
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::DecryptError,
        ) => ErrorKind::TlsClientRejected {
            sent_cert: ctx.client_cert.clone(),
        },
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => {
                ErrorKind::TlsUnknownIssuer { ca: ctx.ca.clone() }
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => ErrorKind::TlsWrongName {
                host: ctx.host.clone(),
            },
            C::Expired | C::ExpiredContext { .. } => ErrorKind::TlsExpired {
                detail: "expired".into(),
            },
            C::NotValidYet | C::NotValidYetContext { .. } => ErrorKind::TlsExpired {
                detail: "not valid yet".into(),
            },
            other => ErrorKind::Tls {
                detail: format!("the daemon's certificate is invalid: {other:?}"),
            },
        },
        rustls::Error::InvalidMessage(_) => ErrorKind::Tls {
            detail: "the daemon did not answer with TLS (is this a plain-HTTP port?)".into(),
        },
        other => ErrorKind::Tls {
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn ctx() -> Context {
        Context {
            ship: "shiptls".into(),
            endpoint: "tcp+tls://10.213.0.21:2376".into(),
            host: "10.213.0.21".into(),
            socket: None,
            ca: Some("/etc/ca.pem".into()),
            client_cert: Some("/etc/cert.pem".into()),
            timeout: Duration::from_secs(5),
        }
    }

    fn tls_io(e: rustls::Error) -> ureq::Error {
        ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, e))
    }

    #[test]
    fn connection_refused_names_ship_and_endpoint() {
        let e = ctx().transport(ureq::Error::Io(io::ErrorKind::ConnectionRefused.into()));
        assert_eq!(e.kind, ErrorKind::Refused);
        let s = e.to_string();
        assert!(s.starts_with("ship `shiptls` (tcp+tls://10.213.0.21:2376): connection refused"));
        assert!(s.contains("dockerd is running"));
    }

    #[test]
    fn unknown_issuer_names_the_ca_file() {
        let e = ctx().transport(tls_io(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        )));
        assert!(
            e.to_string()
                .contains("the daemon's certificate is not signed by /etc/ca.pem")
        );
    }

    #[test]
    fn bad_certificate_alert_blames_our_client_certificate() {
        let e = ctx().transport(tls_io(rustls::Error::AlertReceived(
            rustls::AlertDescription::BadCertificate,
        )));
        assert!(
            e.to_string()
                .contains("the daemon rejected our client certificate /etc/cert.pem")
        );
        let mut c = ctx();
        c.client_cert = None;
        let e = c.transport(tls_io(rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired,
        )));
        assert!(e.to_string().contains("none is configured"));
    }

    #[test]
    fn wrong_name_and_plain_port() {
        let e = ctx().transport(ureq::Error::Rustls(rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName,
        )));
        assert!(e.to_string().contains("not valid for `10.213.0.21`"));
        let e = ctx().transport(tls_io(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType,
        )));
        assert!(e.to_string().contains("plain-HTTP"));
    }

    #[test]
    fn dns_timeout_socket_and_ssh() {
        assert_eq!(
            classify(&ureq::Error::HostNotFound, &ctx()),
            ErrorKind::Dns {
                host: "10.213.0.21".into()
            }
        );
        let e = ctx().transport(ureq::Error::Timeout(ureq::Timeout::Connect));
        assert!(e.to_string().contains("no answer within 5 s"));
        let mut c = ctx();
        c.socket = Some("/run/x.sock".into());
        let e = c.transport(ureq::Error::Io(io::ErrorKind::NotFound.into()));
        assert!(
            e.to_string()
                .contains("the socket /run/x.sock does not exist")
        );
        let ssh = SshFailure {
            detail: "ssh exited with status 255".into(),
            stderr: "Permission denied (publickey).\n".into(),
            hint: String::new(),
        };
        let e = c.transport(ureq::Error::Io(io::Error::other(ssh)));
        let s = e.to_string();
        assert!(s.contains("SSH tunnel: ssh exited with status 255"));
        assert!(s.contains("ssh said: Permission denied (publickey)."));
    }

    #[test]
    fn daemon_errors_keep_the_message() {
        let e = ctx().error(ErrorKind::Daemon {
            status: 404,
            message: "No such container: x".into(),
        });
        assert!(e.is_not_found());
        assert!(!e.is_unreachable());
        assert!(
            e.to_string()
                .contains("the daemon answered 404: No such container: x")
        );
    }
}
