//! Command-line parsing (lexopt: clap would add ~190 KB to the binary).

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

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

--json prints the answer as JSON; --version prints the version. Errors go to stderr with exit status 2.
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
    let (allowed, arity): (&[&str], (usize, usize)) = match name {
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
        "help" => (&[], (0, 0)),
        other => return Err(UsageError(format!("unknown command {other} (try --help)"))),
    };
    if let Some(option) = raw.seen.iter().find(|o| !allowed.contains(o)) {
        return Err(UsageError(format!("{name} does not take {option}")));
    }
    let count = raw.positional.len();
    if count < arity.0 || count > arity.1 {
        return Err(UsageError(format!(
            "wrong number of arguments for {name} (try --help)"
        )));
    }
    let mut positional = std::mem::take(&mut raw.positional).into_iter();
    let mut next = || positional.next().unwrap_or_default();
    let command = match name {
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
        // Only "exec" is left: `build` rejected unknown names above.
        _ => {
            let mut words = raw.exec.into_iter();
            let Some(program) = words.next() else {
                return Err(UsageError(
                    "exec needs a command: exec -- COMMAND [ARGS...]".into(),
                ));
            };
            Command::Exec {
                renders: raw.renders,
                program,
                args: words.collect(),
            }
        }
    };
    Ok(Invocation {
        command,
        json: raw.json,
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
