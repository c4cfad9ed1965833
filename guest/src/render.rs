//! Jinja rendering of config files inside the container.
//!
//! The template sees the container's environment as `env` and the guestutils
//! functions under their Python names without the `get_` prefix. Undefined
//! variables are errors (a config file with a silently empty value is worse
//! than a container that does not start). Errors are printed with `{e}`,
//! never `{e:#}`: minijinja's alternate form dumps the referenced variables,
//! that is environment values.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

use crate::discovery::{self, DiscoveryError};
use crate::net;

/// The environment a template is rendered with.
pub type Vars = BTreeMap<String, String>;

/// A rendering failure: the message names the template and its line, and
/// never carries a variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(pub String);

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

impl From<Error> for RenderError {
    fn from(e: Error) -> Self {
        // `{e}`: kind, detail, and "(in NAME:LINE)". Not `{e:#}`.
        RenderError(e.to_string())
    }
}

/// Renders `source`, reported as `name` in errors, with `vars` as `env`.
pub fn render(name: &str, source: &str, vars: Arc<Vars>) -> Result<String, RenderError> {
    let jinja = environment(Arc::clone(&vars))?;
    let template = jinja.template_from_named_str(name, source)?;
    let ctx = minijinja::context! { env => Value::from_object(EnvVars(Arc::clone(&vars))) };
    template
        .render(ctx)
        .map_err(|e| undefined_error(&e, source, &vars).unwrap_or_else(|| e.into()))
}

/// "undefined value: `env.X` is undefined (in NAME:LINE)" for an undefined
/// value whose variable can be told from its line (see `undefined.rs`).
fn undefined_error(e: &Error, source: &str, vars: &Vars) -> Option<RenderError> {
    if e.kind() != ErrorKind::UndefinedError || e.detail().is_some() {
        return None;
    }
    let line = e.line()?;
    let mut globals: Vec<&str> = FUNCTIONS.iter().map(|(name, _)| *name).collect();
    globals.push("range");
    let names = crate::undefined::names_on_line(source, line, &|k| vars.contains_key(k), &globals);
    let what = match names.as_slice() {
        [] => return None,
        [one] => format!("`{one}` is"),
        many => format!("one of `{}` is", many.join("`, `")),
    };
    Some(RenderError(format!(
        "undefined value: {what} undefined (in {}:{line})",
        e.name().unwrap_or("template")
    )))
}

/// Renders the file at `src` and writes the result to `dst` atomically, so a
/// reader never sees a half-written config.
pub fn render_file(src: &Path, dst: Option<&Path>, vars: Arc<Vars>) -> Result<String, RenderError> {
    let name = src.display().to_string();
    let source = std::fs::read_to_string(src)
        .map_err(|e| RenderError(format!("cannot read template {name}: {e}")))?;
    let output = render(&name, &source, vars)?;
    if let Some(dst) = dst {
        write_atomically(dst, output.as_bytes())
            .map_err(|e| RenderError(format!("cannot write {}: {e}", dst.display())))?;
    }
    Ok(output)
}

/// Writes to a temporary file next to `dst`, then renames it over `dst`.
/// An existing `dst` keeps its permissions.
pub fn write_atomically(dst: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let file_name = dst
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file path"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dst.with_file_name(tmp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        if let Ok(meta) = std::fs::metadata(dst) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, dst)
    })();
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn environment(vars: Arc<Vars>) -> Result<Environment<'static>, RenderError> {
    let mut jinja = Environment::new();
    jinja.set_undefined_behavior(UndefinedBehavior::Strict);
    // Config files end with a newline; Jinja2's default would drop it.
    jinja.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()?,
    );
    crate::filters::register(&mut jinja);

    for (name, which) in FUNCTIONS {
        let function = GuestFunction {
            name,
            which,
            vars: Arc::clone(&vars),
        };
        jinja.add_global(name, Value::from_object(function));
    }
    Ok(jinja)
}

/// `env` in templates: the container's variables, read in place (copying
/// them into a template map would sort them first, with code compiled for
/// that alone).
struct EnvVars(Arc<Vars>);

/// Never the values: they may be secrets.
impl fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<environment of {} variables>", self.0.len())
    }
}

impl Object for EnvVars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_str()?).map(|v| Value::from(v.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

/// The guestutils functions, by their template names.
const FUNCTIONS: [(&str, Which); 11] = [
    ("env_name", Which::EnvName),
    ("service_name", Which::ServiceName),
    ("container_name", Which::ContainerName),
    ("host_address", Which::HostAddress),
    ("internal_address", Which::InternalAddress),
    ("port", Which::Port),
    ("host", Which::Host),
    ("specific_port", Which::SpecificPort),
    ("specific_exposed_port", Which::SpecificExposedPort),
    ("node_list", Which::NodeList),
    ("instances", Which::Instances),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    EnvName,
    ServiceName,
    ContainerName,
    HostAddress,
    InternalAddress,
    Port,
    Host,
    SpecificPort,
    SpecificExposedPort,
    NodeList,
    Instances,
}

/// A guestutils function as a template value. One object type for all of
/// them, with the arguments read by hand, rather than a closure each:
/// minijinja compiles its argument conversion once per closure signature,
/// which cost about 4 KB of the binary.
struct GuestFunction {
    name: &'static str,
    which: Which,
    vars: Arc<Vars>,
}

/// `{{ port }}` (not called) shows this; never the variables.
impl fmt::Debug for GuestFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<function {}>", self.name)
    }
}

impl Object for GuestFunction {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_ref(), f)
    }

    fn call(self: &Arc<Self>, _: &mut State<'_, '_>, values: &[Value]) -> Result<Value, Error> {
        let args = Args::new(values)?;
        let env = lookup(&self.vars);
        let value = match self.which {
            Which::EnvName => {
                args.done(0)?;
                Value::from(discovery::environment_name(&env))
            }
            Which::ServiceName => {
                args.done(0)?;
                Value::from(discovery::service_name(&env).map_err(invalid)?)
            }
            Which::ContainerName => {
                args.done(0)?;
                Value::from(discovery::container_name(&env).map_err(invalid)?)
            }
            Which::HostAddress => {
                let resolve = args.get(0, "resolve")?.is_some_and(|v| v.is_true());
                args.done(1)?;
                let address = discovery::host_address(&env).map_err(invalid)?;
                if resolve {
                    Value::from(net::resolve_ipv4(&address).map_err(invalid)?.to_string())
                } else {
                    Value::from(address)
                }
            }
            Which::InternalAddress => {
                let interface = args.string(0, "iface")?;
                args.done(1)?;
                let interface = interface.as_deref().unwrap_or(net::DEFAULT_INTERFACE);
                Value::from(
                    net::internal_address(interface)
                        .map_err(invalid)?
                        .to_string(),
                )
            }
            Which::Port => {
                let name = args.required(0, "name")?;
                let default = args.default(1)?;
                args.done(2)?;
                int_value(discovery::port(&env, &name, default.as_deref()).map_err(invalid)?)
            }
            Which::Host => {
                let service = args.required(0, "service")?;
                let container = args.required(1, "container")?;
                args.done(2)?;
                Value::from(discovery::specific_host(&env, &service, &container).map_err(invalid)?)
            }
            Which::SpecificPort | Which::SpecificExposedPort => {
                let service = args.required(0, "service")?;
                let container = args.required(1, "container")?;
                let port = args.required(2, "port")?;
                let default = args.default(3)?;
                args.done(4)?;
                let lookup = if self.which == Which::SpecificPort {
                    discovery::specific_port
                } else {
                    discovery::specific_exposed_port
                };
                int_value(
                    lookup(&env, &service, &container, &port, default.as_deref())
                        .map_err(invalid)?,
                )
            }
            Which::NodeList => {
                let service = args.required(0, "service")?;
                let ports = match args.get(1, "ports")? {
                    Some(v) => v.try_iter()?.map(|p| p.to_string()).collect(),
                    None => Vec::new(),
                };
                let minimum = match args.get(2, "minimum")? {
                    Some(v) => usize::try_from(v)?,
                    None => 1,
                };
                args.done(3)?;
                let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
                Value::from(discovery::node_list(&env, &service, &ports, minimum).map_err(invalid)?)
            }
            Which::Instances => {
                let service = args.required(0, "service")?;
                args.done(1)?;
                Value::from(discovery::instances(&env, &service))
            }
        };
        Ok(value)
    }
}

/// A call's arguments: positional ones, then keyword ones, as Python binds
/// them. Each parameter is taken by position or by name, not both.
struct Args<'a> {
    positional: &'a [Value],
    kwargs: Kwargs,
}

impl<'a> Args<'a> {
    fn new(values: &'a [Value]) -> Result<Self, Error> {
        let (positional, kwargs) = match values.split_last() {
            Some((last, rest)) if last.is_kwargs() => (rest, Kwargs::try_from(last.clone())?),
            _ => (
                values,
                Kwargs::from_iter(std::iter::empty::<(&str, Value)>()),
            ),
        };
        if positional.iter().any(Value::is_undefined) {
            return Err(Error::from(ErrorKind::UndefinedError));
        }
        Ok(Args { positional, kwargs })
    }

    /// Parameter `index`, or keyword `name`; `none` counts as not given.
    fn get(&self, index: usize, name: &'static str) -> Result<Option<Value>, Error> {
        let keyword: Option<Value> = self.kwargs.get(name)?;
        match (self.positional.get(index), keyword) {
            (Some(_), Some(_)) => Err(duplicate(name)),
            (p, k) => Ok(p
                .cloned()
                .or(k)
                .filter(|v| !v.is_none() && !v.is_undefined())),
        }
    }

    fn string(&self, index: usize, name: &'static str) -> Result<Option<String>, Error> {
        Ok(self.get(index, name)?.map(|v| v.to_string()))
    }

    fn required(&self, index: usize, name: &'static str) -> Result<String, Error> {
        self.string(index, name)?.ok_or_else(|| {
            Error::new(
                ErrorKind::MissingArgument,
                format!("missing argument {name}"),
            )
        })
    }

    /// The `default` argument. Numbers are taken in their decimal form, as
    /// Python's `int(default)`.
    fn default(&self, index: usize) -> Result<Option<String>, Error> {
        self.string(index, "default")
    }

    /// No positional argument past `count`, no keyword left unread.
    fn done(&self, count: usize) -> Result<(), Error> {
        if self.positional.len() > count {
            return Err(Error::from(ErrorKind::TooManyArguments));
        }
        self.kwargs.assert_all_used()
    }
}

fn lookup(vars: &Vars) -> impl Fn(&str) -> Option<String> + '_ {
    |key| vars.get(key).cloned()
}

fn invalid(e: DiscoveryError) -> Error {
    Error::new(ErrorKind::InvalidOperation, e.0)
}

fn duplicate(name: &'static str) -> Error {
    Error::new(
        ErrorKind::TooManyArguments,
        format!("{name} given both by position and by keyword"),
    )
}

/// Ports are integers in Python; keep them numbers so `port('x') + 1` works.
fn int_value(port: String) -> Value {
    match port.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Arc<Vars> {
        Arc::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn kafka() -> Arc<Vars> {
        vars(&[
            ("MAESTRO_ENVIRONMENT_NAME", "prod"),
            ("SERVICE_NAME", "kafka"),
            ("CONTAINER_NAME", "kafka-1"),
            ("CONTAINER_HOST_ADDRESS", "10.213.0.11"),
            ("ZOOKEEPER_INSTANCES", "zk-1,zk-2"),
            ("ZOOKEEPER_ZK_1_HOST", "10.213.0.11"),
            ("ZOOKEEPER_ZK_1_CLIENT_PORT", "2181"),
            ("ZOOKEEPER_ZK_2_HOST", "10.213.0.12"),
            ("ZOOKEEPER_ZK_2_CLIENT_PORT", "2182"),
            ("KAFKA_KAFKA_1_BROKER_INTERNAL_PORT", "9092"),
            ("SECRET_TOKEN", "s3cr3t-value"),
        ])
    }

    fn ok(source: &str) -> String {
        render("t.conf", source, kafka()).unwrap()
    }

    fn fails(source: &str) -> String {
        render("t.conf", source, kafka()).unwrap_err().0
    }

    #[test]
    fn env_and_names() {
        assert_eq!(
            ok("{{ env.SERVICE_NAME }}/{{ env['CONTAINER_NAME'] }}\n"),
            "kafka/kafka-1\n"
        );
        assert_eq!(ok("{{ env | length }}"), "11");
        assert_eq!(
            ok(
                "{% for k in env %}{% if k in ['SERVICE_NAME', 'CONTAINER_NAME'] %}{{ k }} {% endif %}{% endfor %}"
            ),
            "CONTAINER_NAME SERVICE_NAME "
        );
        assert_eq!(ok("{{ env.NOPE is defined }}"), "False");
        assert_eq!(
            ok("{{ env_name() }} {{ service_name() }} {{ container_name() }} {{ host_address() }}"),
            "prod kafka kafka-1 10.213.0.11"
        );
        assert_eq!(ok("{{ host_address(resolve=true) }}"), "10.213.0.11");
        assert_eq!(ok("{{ host_address(true) }}"), "10.213.0.11");
    }

    #[test]
    fn node_list_returns_a_list() {
        assert_eq!(
            ok("zookeeper.connect={{ node_list('zookeeper', ports=['client']) | join(',') }}"),
            "zookeeper.connect=10.213.0.11:2181,10.213.0.12:2182"
        );
        assert_eq!(
            ok("{% for n in node_list('zookeeper') %}server={{ n }}\n{% endfor %}"),
            "server=10.213.0.11\nserver=10.213.0.12\n"
        );
        assert_eq!(
            ok("{{ node_list('zookeeper', ['client'], 2) | length }}"),
            "2"
        );
        assert_eq!(ok("{{ node_list('nosuch', minimum=0) | length }}"), "0");
        assert_eq!(
            fails("a\n{{ node_list('zookeeper', minimum=3) }}"),
            "invalid operation: No or not enough zookeeper nodes configured (in t.conf:2)"
        );
    }

    #[test]
    fn ports_are_numbers_with_defaults() {
        assert_eq!(ok("{{ port('broker') + 1 }}"), "9093");
        assert_eq!(ok("{{ port('jmx', 7199) }}"), "7199");
        assert_eq!(ok("{{ port('jmx', default='7199') }}"), "7199");
        assert_eq!(
            fails("{{ port('jmx', default=none) }}"),
            "invalid operation: No internal port jmx defined for container kafka-1 of service kafka (in t.conf:1)"
        );
        assert_eq!(
            ok("{{ specific_port('zookeeper', 'zk-2', 'client') }}"),
            "2182"
        );
        assert_eq!(
            fails("\n\n{{ specific_port('zookeeper', 'zk-2', 'admin') }}"),
            "invalid operation: No port admin defined for container zk-2 of service zookeeper (in t.conf:3)"
        );
        assert_eq!(
            ok("{{ specific_exposed_port('kafka', 'kafka-1', 'broker') }}"),
            "9092"
        );
        assert_eq!(
            ok("{{ specific_exposed_port('zookeeper', 'zk-1', 'client', default=1) }}"),
            "1"
        );
        assert_eq!(ok("{{ host('zookeeper', 'zk-2') }}"), "10.213.0.12");
        assert_eq!(ok("{{ instances('zookeeper') | join(' ') }}"), "zk-1 zk-2");
        assert_eq!(ok("{{ internal_address('lo') }}"), "127.0.0.1");
        assert_eq!(ok("{{ internal_address(iface='lo') }}"), "127.0.0.1");
    }

    #[test]
    fn undefined_variables_name_the_file_and_line() {
        assert_eq!(
            fails("ok\nvalue={{ env.NOT_SET }}\n"),
            "undefined value: `env.NOT_SET` is undefined (in t.conf:2)"
        );
        assert_eq!(
            fails("{{ nosuch }}"),
            "undefined value: `nosuch` is undefined (in t.conf:1)"
        );
    }

    #[test]
    fn errors_never_show_environment_values() {
        for source in [
            "{{ env.SECRET_TOKEN.nope.deeper }}",
            "{{ env.SECRET_TOKEN + 1 }}",
            "{{ env.SECRET_TOKEN | nosuchfilter }}",
            "{{ node_list('zookeeper', bogus=env.SECRET_TOKEN) }}",
            "{% if %}",
        ] {
            let message = fails(source);
            assert!(!message.contains("s3cr3t"), "{source}: {message}");
            assert!(message.contains("t.conf:1"), "{source}: {message}");
        }
    }

    #[test]
    fn a_function_shown_without_a_call_names_itself_only() {
        assert_eq!(ok("{{ node_list }}"), "<function node_list>");
    }

    #[test]
    fn unknown_keyword_arguments_are_errors() {
        assert!(fails("{{ node_list('zookeeper', port=['client']) }}").contains("port"));
        assert!(fails("{{ port('broker', dflt=1) }}").contains("dflt"));
    }

    #[test]
    fn write_atomically_replaces_the_file() {
        let dir = std::env::temp_dir().join(format!("mg-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dst = dir.join("out.conf");
        write_atomically(&dst, b"one\n").unwrap();
        write_atomically(&dst, b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "two\n");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
