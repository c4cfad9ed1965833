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

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

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
    let env_value = Value::from_pairs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let ctx = Value::from_pairs([("env", env_value)]);
    Ok(template.render(ctx)?)
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

    let v = Arc::clone(&vars);
    jinja.add_function("env_name", move || -> Result<String, Error> {
        Ok(discovery::environment_name(&lookup(&v)))
    });
    let v = Arc::clone(&vars);
    jinja.add_function("service_name", move || {
        discovery::service_name(&lookup(&v)).map_err(invalid)
    });
    let v = Arc::clone(&vars);
    jinja.add_function("container_name", move || {
        discovery::container_name(&lookup(&v)).map_err(invalid)
    });
    let v = Arc::clone(&vars);
    jinja.add_function(
        "host_address",
        move |resolve: Option<bool>, kwargs: Kwargs| {
            let resolve = match (resolve, kwargs.get::<Option<bool>>("resolve")?) {
                (Some(_), Some(_)) => return Err(duplicate("resolve")),
                (p, k) => p.or(k).unwrap_or(false),
            };
            kwargs.assert_all_used()?;
            let address = discovery::host_address(&lookup(&v)).map_err(invalid)?;
            if resolve {
                return Ok(net::resolve_ipv4(&address).map_err(invalid)?.to_string());
            }
            Ok(address)
        },
    );
    jinja.add_function("internal_address", |interface: Option<String>| {
        let interface = interface.as_deref().unwrap_or(net::DEFAULT_INTERFACE);
        net::internal_address(interface)
            .map(|ip| ip.to_string())
            .map_err(invalid)
    });
    let v = Arc::clone(&vars);
    jinja.add_function(
        "port",
        move |name: String, default: Option<Value>, kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            discovery::port(&lookup(&v), &name, default.as_deref())
                .map(int_value)
                .map_err(invalid)
        },
    );
    let v = Arc::clone(&vars);
    jinja.add_function("host", move |service: String, container: String| {
        discovery::specific_host(&lookup(&v), &service, &container).map_err(invalid)
    });
    let v = Arc::clone(&vars);
    jinja.add_function(
        "specific_port",
        move |service: String,
              container: String,
              port: String,
              default: Option<Value>,
              kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            discovery::specific_port(&lookup(&v), &service, &container, &port, default.as_deref())
                .map(int_value)
                .map_err(invalid)
        },
    );
    let v = Arc::clone(&vars);
    jinja.add_function(
        "specific_exposed_port",
        move |service: String,
              container: String,
              port: String,
              default: Option<Value>,
              kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            discovery::specific_exposed_port(
                &lookup(&v),
                &service,
                &container,
                &port,
                default.as_deref(),
            )
            .map(int_value)
            .map_err(invalid)
        },
    );
    let v = Arc::clone(&vars);
    jinja.add_function(
        "node_list",
        move |service: String,
              ports: Option<Vec<String>>,
              minimum: Option<usize>,
              kwargs: Kwargs| {
            let ports = match (ports, kwargs.get::<Option<Vec<String>>>("ports")?) {
                (Some(_), Some(_)) => return Err(duplicate("ports")),
                (p, k) => p.or(k).unwrap_or_default(),
            };
            let minimum = match (minimum, kwargs.get::<Option<usize>>("minimum")?) {
                (Some(_), Some(_)) => return Err(duplicate("minimum")),
                (m, k) => m.or(k).unwrap_or(1),
            };
            kwargs.assert_all_used()?;
            let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
            discovery::node_list(&lookup(&v), &service, &ports, minimum).map_err(invalid)
        },
    );
    let v = Arc::clone(&vars);
    jinja.add_function("instances", move |service: String| {
        discovery::instances(&lookup(&v), &service)
    });
    Ok(jinja)
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

/// The `default` argument, by position or keyword; `none` means no default.
/// Numbers are taken in their decimal form, as Python's `int(default)`.
fn default_arg(positional: Option<Value>, kwargs: &Kwargs) -> Result<Option<String>, Error> {
    let keyword: Option<Value> = kwargs.get("default")?;
    kwargs.assert_all_used()?;
    let value = match (positional, keyword) {
        (Some(_), Some(_)) => return Err(duplicate("default")),
        (p, k) => p.or(k),
    };
    Ok(value
        .filter(|v| !v.is_none() && !v.is_undefined())
        .map(|v| v.to_string()))
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
