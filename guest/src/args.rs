//! Command-line parsing (lexopt: clap would add ~190 KB to the binary).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use lexopt::prelude::*;

use crate::probe::{self, HttpCheck};

pub const USAGE: &str = "\
usage: maestro-guest COMMAND [ARGS] [--json]

Reads the variables maestro injects into a container (MaestroNG guestutils).

  env-name                                    environment name ('local' if unset)
  service-name                                this container's service
  container-name                              this container's name
  host-address [--resolve]                    address of the ship (--resolve: as IPv4)
  internal-address [IFACE]                    IPv4 of IFACE (default eth0)
  port NAME [--default D]                     own exposed (internal) port
  host SERVICE CONTAINER                      ship address of an instance
  specific-port SERVICE CONTAINER PORT [--default D]
                                              external port of an instance
  specific-exposed-port SERVICE CONTAINER PORT [--default D]
                                              internal port of a same-service peer
  node-list SERVICE [PORT...] [--minimum N] [--separator S]
                                              host[:port...] of each instance,
                                              one per line unless --separator
  instances SERVICE                           instance names, one per line
  render TEMPLATE [-o OUT]                    render a Jinja template
  exec [--render SRC:DST]... -- COMMAND [ARGS...]
                                              render, then become COMMAND
  check tcp PORT [--host H] [--timeout S]     does PORT (own port name or number)
                                              accept connections? (default host
                                              127.0.0.1, timeout 5 s)
  check http PORT [--path P] [--status N] [--match PATTERN] [--host H] [--timeout S]
                                              GET P: status N (default 200), or
                                              body matching PATTERN
  wait SERVICE [PORT...] [--timeout S] [--all|--any]
                                              wait until all (or any) instances
                                              of SERVICE answer on their ports
                                              (timeout 60 s, 0: no limit)

--json prints the answer as JSON; --version prints the version. Errors go to stderr with exit status 2;
check and wait exit 1 when not healthy or not ready in time.
";

/// What to do, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    EnvName,
    ServiceName,
    ContainerName,
    HostAddress {
        resolve: bool,
    },
    InternalAddress {
        interface: Option<String>,
    },
    Port {
        name: String,
        default: Option<String>,
    },
    Host {
        service: String,
        container: String,
    },
    SpecificPort {
        service: String,
        container: String,
        port: String,
        default: Option<String>,
    },
    SpecificExposedPort {
        service: String,
        container: String,
        port: String,
        default: Option<String>,
    },
    NodeList {
        service: String,
        ports: Vec<String>,
        minimum: usize,
        separator: Option<String>,
    },
    Instances {
        service: String,
    },
    Render {
        template: PathBuf,
        output: Option<PathBuf>,
    },
    Exec {
        renders: Vec<(PathBuf, PathBuf)>,
        program: OsString,
        args: Vec<OsString>,
    },
    /// `check tcp` (`http` is `None`) or `check http`.
    Check {
        http: Option<HttpCheck>,
        port: String,
        host: Option<String>,
        timeout: Duration,
    },
    Wait {
        service: String,
        ports: Vec<String>,
        any: bool,
        /// `None`: no limit.
        timeout: Option<Duration>,
    },
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub json: bool,
}

/// A usage error; the message is meant to be printed as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(e.to_string())
    }
}

/// Everything given on the command line, before it is checked against the
/// command.
#[derive(Default)]
struct Raw {
    json: bool,
    help: bool,
    version: bool,
    resolve: bool,
    default: Option<String>,
    minimum: Option<String>,
    separator: Option<String>,
    output: Option<PathBuf>,
    host: Option<String>,
    timeout: Option<String>,
    path: Option<String>,
    status: Option<String>,
    pattern: Option<String>,
    renders: Vec<(PathBuf, PathBuf)>,
    positional: Vec<String>,
    exec: Vec<OsString>,
    /// Options seen, to reject the ones a command does not take.
    seen: Vec<&'static str>,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, UsageError> {
    let mut parser = lexopt::Parser::from_args(args);
    let mut raw = Raw::default();
    let mut command: Option<String> = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("json") => raw.seen.push("--json"),
            Short('h') | Long("help") => raw.help = true,
            Short('V') | Long("version") => raw.version = true,
            Long("resolve") => raw.seen.push("--resolve"),
            Long("default") => {
                raw.default = Some(parser.value()?.string()?);
                raw.seen.push("--default");
            }
            Long("minimum") => {
                raw.minimum = Some(parser.value()?.string()?);
                raw.seen.push("--minimum");
            }
            Long("separator") => {
                raw.separator = Some(parser.value()?.string()?);
                raw.seen.push("--separator");
            }
            Long("host") => {
                raw.host = Some(parser.value()?.string()?);
                raw.seen.push("--host");
            }
            Long("timeout") => {
                raw.timeout = Some(parser.value()?.string()?);
                raw.seen.push("--timeout");
            }
            Long("path") => {
                raw.path = Some(parser.value()?.string()?);
                raw.seen.push("--path");
            }
            Long("status") => {
                raw.status = Some(parser.value()?.string()?);
                raw.seen.push("--status");
            }
            Long("match") => {
                raw.pattern = Some(parser.value()?.string()?);
                raw.seen.push("--match");
            }
            Long("all") => raw.seen.push("--all"),
            Long("any") => raw.seen.push("--any"),
            Short('o') | Long("output") => {
                raw.output = Some(parser.value()?.into());
                raw.seen.push("-o");
            }
            Long("render") => {
                let spec = parser.value()?.string()?;
                let (src, dst) = spec
                    .split_once(':')
                    .ok_or_else(|| UsageError(format!("--render takes SRC:DST, got {spec}")))?;
                if src.is_empty() || dst.is_empty() {
                    return Err(UsageError(format!("--render takes SRC:DST, got {spec}")));
                }
                raw.renders.push((src.into(), dst.into()));
                raw.seen.push("--render");
            }
            Value(value) if command.is_none() => command = Some(value.string()?),
            Value(value) if command.as_deref() == Some("exec") => {
                // The command and its arguments, verbatim from here on.
                raw.exec.push(value);
                raw.exec.extend(parser.raw_args()?);
            }
            Value(value) => raw.positional.push(value.string()?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    raw.json = raw.seen.contains(&"--json");
    raw.resolve = raw.seen.contains(&"--resolve");
    if raw.help || raw.version {
        return Ok(Invocation {
            command: if raw.help {
                Command::Help
            } else {
                Command::Version
            },
            json: false,
        });
    }
    let Some(name) = command else {
        return Err(UsageError("no command given (try --help)".into()));
    };
    build(&name, raw)
}

fn build(name: &str, mut raw: Raw) -> Result<Invocation, UsageError> {
    let (allowed, arity) = signature(name, &raw)?;
    if let Some(option) = raw.seen.iter().find(|o| !allowed.contains(o)) {
        return Err(UsageError(format!("{name} does not take {option}")));
    }
    let count = raw.positional.len();
    if count < arity.0 || count > arity.1 {
        return Err(UsageError(format!(
            "wrong number of arguments for {name} (try --help)"
        )));
    }
    let json = raw.json;
    let positional = std::mem::take(&mut raw.positional);
    Ok(Invocation {
        command: command(name, positional, raw)?,
        json,
    })
}

/// The options a command takes and how many arguments (at least, at most).
fn signature(
    name: &str,
    raw: &Raw,
) -> Result<(&'static [&'static str], (usize, usize)), UsageError> {
    Ok(match name {
        "env-name" | "service-name" | "container-name" => (&["--json"], (0, 0)),
        "host-address" => (&["--json", "--resolve"], (0, 0)),
        "internal-address" => (&["--json"], (0, 1)),
        "port" => (&["--json", "--default"], (1, 1)),
        "host" => (&["--json"], (2, 2)),
        "specific-port" | "specific-exposed-port" => (&["--json", "--default"], (3, 3)),
        "node-list" => (&["--json", "--minimum", "--separator"], (1, usize::MAX)),
        "instances" => (&["--json"], (1, 1)),
        "render" => (&["-o"], (1, 1)),
        "exec" => (&["--render"], (0, 0)),
        "check" => {
            let http: &'static [&'static str] =
                &["--host", "--timeout", "--path", "--status", "--match"];
            match raw.positional.first().map(String::as_str) {
                Some("tcp") => (&http[..2], (2, 2)),
                Some("http") | None => (http, (2, 2)),
                Some(other) => {
                    return Err(UsageError(format!(
                        "check takes tcp or http, got {other} (try --help)"
                    )));
                }
            }
        }
        "wait" => (&["--timeout", "--all", "--any"], (1, usize::MAX)),
        "help" => (&[], (0, 0)),
        other => return Err(UsageError(format!("unknown command {other} (try --help)"))),
    })
}

/// The command `name` (known, its arguments counted) with its arguments.
fn command(name: &str, positional: Vec<String>, raw: Raw) -> Result<Command, UsageError> {
    let count = positional.len();
    let mut positional = positional.into_iter();
    let mut next = || positional.next().unwrap_or_default();
    Ok(match name {
        "help" => Command::Help,
        "env-name" => Command::EnvName,
        "service-name" => Command::ServiceName,
        "container-name" => Command::ContainerName,
        "host-address" => Command::HostAddress {
            resolve: raw.resolve,
        },
        "internal-address" => Command::InternalAddress {
            interface: (count == 1).then(&mut next),
        },
        "port" => Command::Port {
            name: next(),
            default: raw.default,
        },
        "host" => Command::Host {
            service: next(),
            container: next(),
        },
        "specific-port" => Command::SpecificPort {
            service: next(),
            container: next(),
            port: next(),
            default: raw.default,
        },
        "specific-exposed-port" => Command::SpecificExposedPort {
            service: next(),
            container: next(),
            port: next(),
            default: raw.default,
        },
        "node-list" => Command::NodeList {
            service: next(),
            ports: positional.collect(),
            minimum: parse_minimum(raw.minimum.as_deref())?,
            separator: raw.separator,
        },
        "instances" => Command::Instances { service: next() },
        "render" => Command::Render {
            template: next().into(),
            output: raw.output,
        },
        "check" => {
            let kind = next();
            check(&kind, next(), raw)?
        }
        "wait" => {
            let service = next();
            wait(service, positional.collect(), &raw)?
        }
        // Only "exec" is left: `signature` rejected unknown names.
        _ => exec(raw)?,
    })
}

/// `check tcp|http PORT [...]`.
fn check(kind: &str, port: String, raw: Raw) -> Result<Command, UsageError> {
    let http = (kind == "http")
        .then(|| {
            Ok::<_, UsageError>(HttpCheck {
                path: parse_path(raw.path.as_deref())?,
                status: parse_status(raw.status.as_deref())?,
                pattern: raw.pattern,
            })
        })
        .transpose()?;
    let timeout = match raw.timeout.as_deref() {
        // Never `None`: zero is refused for a check.
        Some(t) => probe::parse_timeout(t, false).map_err(UsageError)?,
        None => None,
    };
    Ok(Command::Check {
        http,
        port,
        host: raw.host,
        timeout: timeout.unwrap_or(probe::CHECK_TIMEOUT),
    })
}

/// `wait SERVICE [PORT...] [--timeout S] [--all|--any]`.
fn wait(service: String, ports: Vec<String>, raw: &Raw) -> Result<Command, UsageError> {
    let any = raw.seen.contains(&"--any");
    if any && raw.seen.contains(&"--all") {
        return Err(UsageError("wait takes --all or --any, not both".into()));
    }
    Ok(Command::Wait {
        service,
        ports,
        any,
        timeout: match raw.timeout.as_deref() {
            Some(t) => probe::parse_timeout(t, true).map_err(UsageError)?,
            None => Some(probe::WAIT_TIMEOUT),
        },
    })
}

/// `exec [--render T:O ...] -- COMMAND [ARGS...]`.
fn exec(raw: Raw) -> Result<Command, UsageError> {
    let mut words = raw.exec.into_iter();
    let Some(program) = words.next() else {
        return Err(UsageError(
            "exec needs a command: exec -- COMMAND [ARGS...]".into(),
        ));
    };
    Ok(Command::Exec {
        renders: raw.renders,
        program,
        args: words.collect(),
    })
}

/// `--minimum N`: an integer; zero or less means no minimum, as in Python.
fn parse_minimum(value: Option<&str>) -> Result<usize, UsageError> {
    let Some(value) = value else { return Ok(1) };
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| UsageError(format!("--minimum takes an integer, got {value}")))?;
    Ok(usize::try_from(n.max(0)).unwrap_or(usize::MAX))
}

/// `--path P`: a leading `/` is added when missing (as MaestroNG's `http`
/// check); it goes on the request line, so no spaces or control characters.
fn parse_path(value: Option<&str>) -> Result<String, UsageError> {
    let path = value.unwrap_or("/");
    if path.chars().any(|c| c == ' ' || c.is_control()) {
        return Err(UsageError(format!(
            "--path takes a URL path without spaces or control characters, got {path:?}"
        )));
    }
    Ok(if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    })
}

/// `--status N`: an HTTP status code, 100-599.
fn parse_status(value: Option<&str>) -> Result<Option<u16>, UsageError> {
    let Some(value) = value else { return Ok(None) };
    match value.parse::<u16>() {
        Ok(n) if (100..=599).contains(&n) => Ok(Some(n)),
        _ => Err(UsageError(format!(
            "--status takes an HTTP status code (100-599), got {value}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Invocation, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    fn command(args: &[&str]) -> Command {
        parse_str(args).unwrap().command
    }

    #[test]
    fn discovery_commands() {
        assert_eq!(command(&["env-name"]), Command::EnvName);
        assert_eq!(
            command(&["host-address", "--resolve"]),
            Command::HostAddress { resolve: true }
        );
        assert_eq!(
            command(&["internal-address"]),
            Command::InternalAddress { interface: None }
        );
        assert_eq!(
            command(&["internal-address", "lo"]),
            Command::InternalAddress {
                interface: Some("lo".into())
            }
        );
        assert_eq!(
            command(&["port", "broker", "--default", "9092"]),
            Command::Port {
                name: "broker".into(),
                default: Some("9092".into())
            }
        );
        assert_eq!(
            command(&["specific-exposed-port", "--default=1", "s", "c", "p"]),
            Command::SpecificExposedPort {
                service: "s".into(),
                container: "c".into(),
                port: "p".into(),
                default: Some("1".into())
            }
        );
    }

    #[test]
    fn node_list_options() {
        let inv = parse_str(&[
            "node-list",
            "zookeeper",
            "client",
            "peer",
            "--minimum",
            "3",
            "--separator",
            ",",
            "--json",
        ])
        .unwrap();
        assert!(inv.json);
        assert_eq!(
            inv.command,
            Command::NodeList {
                service: "zookeeper".into(),
                ports: vec!["client".into(), "peer".into()],
                minimum: 3,
                separator: Some(",".into())
            }
        );
        assert_eq!(
            command(&["node-list", "zk", "--minimum", "-1"]),
            Command::NodeList {
                service: "zk".into(),
                ports: vec![],
                minimum: 0,
                separator: None
            }
        );
    }

    #[test]
    fn exec_takes_the_rest_verbatim() {
        assert_eq!(
            command(&[
                "exec",
                "--render",
                "a.j2:/etc/a",
                "--",
                "sh",
                "-c",
                "echo --json"
            ]),
            Command::Exec {
                renders: vec![("a.j2".into(), "/etc/a".into())],
                program: "sh".into(),
                args: vec!["-c".into(), "echo --json".into()],
            }
        );
    }

    #[test]
    fn check_and_wait() {
        assert_eq!(
            command(&["check", "tcp", "client"]),
            Command::Check {
                http: None,
                port: "client".into(),
                host: None,
                timeout: Duration::from_secs(5),
            }
        );
        assert_eq!(
            command(&[
                "check",
                "http",
                "8080",
                "--path",
                "health",
                "--status",
                "204",
                "--match",
                "ok$",
                "--host",
                "web.lan",
                "--timeout",
                "1.5"
            ]),
            Command::Check {
                http: Some(HttpCheck {
                    path: "/health".into(),
                    status: Some(204),
                    pattern: Some("ok$".into()),
                }),
                port: "8080".into(),
                host: Some("web.lan".into()),
                timeout: Duration::from_millis(1500),
            }
        );
        assert_eq!(
            command(&["check", "http", "web"]),
            Command::Check {
                http: Some(HttpCheck {
                    path: "/".into(),
                    status: None,
                    pattern: None,
                }),
                port: "web".into(),
                host: None,
                timeout: Duration::from_secs(5),
            }
        );
        assert_eq!(
            command(&["wait", "db"]),
            Command::Wait {
                service: "db".into(),
                ports: vec![],
                any: false,
                timeout: Some(Duration::from_secs(60)),
            }
        );
        assert_eq!(
            command(&["wait", "db", "sql", "admin", "--any", "--timeout", "0"]),
            Command::Wait {
                service: "db".into(),
                ports: vec!["sql".into(), "admin".into()],
                any: true,
                timeout: None,
            }
        );
        assert_eq!(
            command(&["wait", "db", "--all"]),
            Command::Wait {
                service: "db".into(),
                ports: vec![],
                any: false,
                timeout: Some(Duration::from_secs(60)),
            }
        );
    }

    #[test]
    fn bad_check_and_wait_usage_is_reported() {
        let err = |args: &[&str]| parse_str(args).unwrap_err().0;
        assert_eq!(
            err(&["check", "udp", "53"]),
            "check takes tcp or http, got udp (try --help)"
        );
        assert_eq!(
            err(&["check"]),
            "wrong number of arguments for check (try --help)"
        );
        assert_eq!(
            err(&["check", "tcp"]),
            "wrong number of arguments for check (try --help)"
        );
        assert_eq!(
            err(&["check", "tcp", "80", "--path", "/"]),
            "check does not take --path"
        );
        assert_eq!(
            err(&["check", "http", "80", "--json"]),
            "check does not take --json"
        );
        assert_eq!(
            err(&["check", "http", "80", "--status", "2xx"]),
            "--status takes an HTTP status code (100-599), got 2xx"
        );
        assert_eq!(
            err(&["check", "http", "80", "--status", "600"]),
            "--status takes an HTTP status code (100-599), got 600"
        );
        assert_eq!(
            err(&["check", "http", "80", "--path", "/a b"]),
            "--path takes a URL path without spaces or control characters, got \"/a b\""
        );
        assert_eq!(
            err(&["check", "tcp", "80", "--timeout", "0"]),
            "--timeout must be more than 0, got 0"
        );
        assert_eq!(
            err(&["wait", "db", "--timeout", "soon"]),
            "--timeout takes a number of seconds, got soon"
        );
        assert_eq!(
            err(&["wait", "db", "--all", "--any"]),
            "wait takes --all or --any, not both"
        );
        assert_eq!(
            err(&["wait"]),
            "wrong number of arguments for wait (try --help)"
        );
        assert_eq!(
            err(&["wait", "db", "--host", "x"]),
            "wait does not take --host"
        );
    }

    #[test]
    fn bad_usage_is_reported() {
        let err = |args: &[&str]| parse_str(args).unwrap_err().0;
        assert_eq!(err(&[]), "no command given (try --help)");
        assert_eq!(err(&["nope"]), "unknown command nope (try --help)");
        assert_eq!(
            err(&["host", "s"]),
            "wrong number of arguments for host (try --help)"
        );
        assert_eq!(
            err(&["env-name", "--default", "x"]),
            "env-name does not take --default"
        );
        assert_eq!(
            err(&["render", "t", "--json"]),
            "render does not take --json"
        );
        assert_eq!(
            err(&["node-list", "s", "--minimum", "x"]),
            "--minimum takes an integer, got x"
        );
        assert_eq!(
            err(&["exec", "--render", "nocolon", "--", "x"]),
            "--render takes SRC:DST, got nocolon"
        );
        assert_eq!(
            err(&["exec"]),
            "exec needs a command: exec -- COMMAND [ARGS...]"
        );
        assert!(err(&["port", "--bogus"]).contains("--bogus"));
        assert_eq!(command(&["--help"]), Command::Help);
        assert_eq!(command(&["--version"]), Command::Version);
        assert_eq!(command(&["node-list", "-h"]), Command::Help);
    }
}
