//! maestro-guest: reads the variables maestro injects into a container, and
//! renders config files from them. The library holds everything; `main.rs`
//! only wires the process (arguments, environment, stdout, exit status).

pub mod args;
pub mod discovery;
pub mod filters;
pub mod json;
pub mod net;
pub mod pattern;
pub mod probe;
pub mod render;
pub mod undefined;

use std::path::Path;
use std::sync::Arc;

use args::{Command, Invocation};
use discovery::DiscoveryError;
use render::Vars;

/// Exit status of every failure but a command `exec` cannot start.
pub const EXIT_ERROR: i32 = 2;

/// Why a command failed: the message for stderr and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: EXIT_ERROR,
        }
    }
}

impl From<DiscoveryError> for Failure {
    fn from(e: DiscoveryError) -> Self {
        Failure::new(e.0)
    }
}

impl From<render::RenderError> for Failure {
    fn from(e: render::RenderError) -> Self {
        Failure::new(e.0)
    }
}

/// Runs every command but `exec` and returns what goes to stdout.
pub fn run(invocation: &Invocation, vars: Arc<Vars>) -> Result<String, Failure> {
    let lookup = |key: &str| vars.get(key).cloned();
    let env: discovery::Lookup = &lookup;
    let json = invocation.json;
    let text = |s: String| line(if json { json::string(&s) } else { s });
    let number = |s: String| line(s);
    let list = |items: Vec<String>, separator: Option<&str>| {
        if json {
            line(json::string_array(&items))
        } else {
            match separator {
                _ if items.is_empty() => String::new(),
                Some(sep) => line(items.join(sep)),
                None => items.iter().map(|i| line(i.clone())).collect(),
            }
        }
    };
    Ok(match &invocation.command {
        Command::Help => args::USAGE.to_owned(),
        Command::Version => line(format!("maestro-guest {}", env!("CARGO_PKG_VERSION"))),
        Command::EnvName => text(discovery::environment_name(env)),
        Command::ServiceName => text(discovery::service_name(env)?),
        Command::ContainerName => text(discovery::container_name(env)?),
        Command::HostAddress { resolve } => {
            let address = discovery::host_address(env)?;
            if *resolve {
                text(net::resolve_ipv4(&address)?.to_string())
            } else {
                text(address)
            }
        }
        Command::InternalAddress { interface } => {
            let interface = interface.as_deref().unwrap_or(net::DEFAULT_INTERFACE);
            text(net::internal_address(interface)?.to_string())
        }
        Command::Port { name, default } => number(discovery::port(env, name, default.as_deref())?),
        Command::Host { service, container } => {
            text(discovery::specific_host(env, service, container)?)
        }
        Command::SpecificPort {
            service,
            container,
            port,
            default,
        } => number(discovery::specific_port(
            env,
            service,
            container,
            port,
            default.as_deref(),
        )?),
        Command::SpecificExposedPort {
            service,
            container,
            port,
            default,
        } => number(discovery::specific_exposed_port(
            env,
            service,
            container,
            port,
            default.as_deref(),
        )?),
        Command::NodeList {
            service,
            ports,
            minimum,
            separator,
        } => {
            let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
            list(
                discovery::node_list(env, service, &ports, *minimum)?,
                separator.as_deref(),
            )
        }
        Command::Instances { service } => list(discovery::instances(env, service), None),
        Command::Render { template, output } => {
            let rendered = render::render_file(template, output.as_deref(), vars.clone())?;
            if output.is_some() {
                String::new()
            } else {
                rendered
            }
        }
        Command::Check { .. } | Command::Wait { .. } => {
            probe_command(&invocation.command, env, &vars)?;
            String::new()
        }
        Command::Exec { .. } => return Err(Failure::new("exec cannot be run here")),
    })
}

/// `check` and `wait`: their answer is the exit code (and, for `wait`, the
/// progress on standard error).
fn probe_command(command: &Command, env: discovery::Lookup, vars: &Vars) -> Result<(), Failure> {
    match command {
        Command::Check {
            http,
            port,
            host,
            timeout,
        } => probe::check(env, http.as_ref(), port, host.as_deref(), *timeout)?,
        Command::Wait {
            service,
            ports,
            any,
            timeout,
        } => {
            let keys: Vec<&str> = vars.keys().map(String::as_str).collect();
            let targets = probe::wait_targets(env, &keys, service, ports)?;
            probe::wait(service, &targets, *any, *timeout)?;
        }
        _ => {}
    }
    Ok(())
}

/// Renders each `SRC:DST`, then replaces this process with the command
/// (execvp: PATH searched like a shell), so the service becomes the
/// container's PID 1 and receives its signals. Returns only on failure.
pub fn exec(
    renders: &[(std::path::PathBuf, std::path::PathBuf)],
    program: &std::ffi::OsStr,
    args: &[std::ffi::OsString],
    vars: Arc<Vars>,
) -> Failure {
    for (src, dst) in renders {
        if let Err(e) = render::render_file(src, Some(dst), vars.clone()) {
            return e.into();
        }
    }
    exec_failure(program.as_ref(), &execvp(program, args))
}

/// `execvp(3)` directly rather than `std::process::Command`, whose spawn
/// machinery costs tens of KB in a binary that only ever replaces itself.
fn execvp(program: &std::ffi::OsStr, args: &[std::ffi::OsString]) -> std::io::Error {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let words: Result<Vec<CString>, _> = std::iter::once(program)
        .chain(args.iter().map(|a| a.as_os_str()))
        .map(|w| CString::new(w.as_bytes()))
        .collect();
    let Ok(words) = words else {
        return std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "argument contains a NUL byte",
        );
    };
    let mut argv: Vec<*const libc::c_char> = words.iter().map(|w| w.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: `argv` is a NULL-terminated array of pointers into `words`,
    // which outlives the call. A caller under Rust's start-up code (the
    // binary has none, tests do) ignores SIGPIPE, and an ignored signal
    // stays ignored across execve: restore the default so the service sees
    // the SIGPIPE a shell would have left it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execvp(argv[0], argv.as_ptr());
    }
    std::io::Error::last_os_error()
}

/// A shell's statuses: 127 when the command is not found, 126 when it
/// cannot be run.
fn exec_failure(program: &Path, error: &std::io::Error) -> Failure {
    let code = if error.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    Failure {
        message: format!("cannot run {}: {error}", program.display()),
        code,
    }
}

fn line(mut s: String) -> String {
    s.push('\n');
    s
}

/// The process environment as template variables. Names or values that are
/// not UTF-8 are converted lossily rather than dropped.
pub fn process_vars() -> Vars {
    // Inserted one by one: collecting into the map would sort the pairs
    // first, with a sort compiled for this one type (about 4 KB).
    let mut vars = Vars::new();
    for (k, v) in std::env::vars_os() {
        vars.insert(
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        );
    }
    vars
}
