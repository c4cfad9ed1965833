//! The validated, typed environment: what every other module consumes.
//! Built by `validate`; nothing in here refers back to YAML.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::container_env::ContainerEnvs;
pub use super::ship::ShipRef;

#[derive(Debug, Clone)]
pub struct Environment {
    /// Top-level `name`: exported as `MAESTRO_ENVIRONMENT_NAME`.
    pub name: String,
    /// `__maestro.schema`: 1 (container -> host volumes) or 2.
    pub schema: u8,
    /// The environment file's folder (the current folder for stdin):
    /// envfiles and relative certificate paths resolve against it.
    pub base_dir: PathBuf,
    pub registries: BTreeMap<String, Registry>,
    pub ships: BTreeMap<String, ShipRef>,
    pub services: BTreeMap<String, Service>,
    /// Every instance, by its (globally unique) name.
    pub instances: BTreeMap<String, Instance>,
    pub audit: Vec<Auditor>,
    /// What the container environments are made of; see `container_env`.
    pub envs: ContainerEnvs,
    /// Which environment values are secret (`secret_names`, `secrets`).
    pub secrets: super::secrets::Secrets,
}

impl Environment {
    /// The registry the image is pulled from, if any (MaestroNG's rules).
    pub fn registry_for(&self, image: &str) -> Option<&Registry> {
        super::registry::registry_for_image(&self.registries, image)
    }

    /// "X is neither a service nor a container", with a suggestion.
    pub fn unknown_thing(&self, thing: &str) -> String {
        let names = self.services.keys().chain(self.instances.keys());
        let hint = super::suggest::did_you_mean(thing, names.map(String::as_str));
        format!("{thing} is neither a service nor a container{hint}")
    }

    /// The full environment of an instance's container (reference section 4).
    pub fn container_env(&self, i: &Instance) -> BTreeMap<String, String> {
        self.envs.compute(i, &i.ship.ip)
    }

    /// `text` with the values of the instance's secret variables (see
    /// `secrets`) replaced by `<redacted>`: for the daemon's errors about a
    /// container, which may quote its environment. Values shorter than 4
    /// characters are left alone: replacing them would garble the message
    /// rather than hide a secret.
    pub fn scrub_secrets(&self, i: &Instance, text: &str) -> String {
        let mut out = text.to_string();
        for (k, v, link) in self.container_env_view(i).iter_sourced() {
            if !link
                && v.chars().count() >= 4
                && out.contains(v)
                && self.secrets.is_secret(&i.service, &i.name, k)
            {
                out = out.replace(v, "<redacted>");
            }
        }
        out
    }

    /// The same environment without copying the link variables the
    /// instance shares with its service's other instances.
    pub fn container_env_view(&self, i: &Instance) -> super::container_env::ContainerEnv<'_> {
        self.envs.container(i, &i.ship.ip)
    }
}

/// A `registries` entry. `Debug` never shows the password (`dump`
/// redacts it from the serialised form).
#[derive(Clone, Serialize)]
pub struct Registry {
    pub name: String,
    /// URL, e.g. `https://quay.io/v1/`; `http://` means an insecure registry.
    pub registry: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub email: Option<String>,
    pub retry: Retry,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("name", &self.name)
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email)
            .field("retry", &self.retry)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Retry {
    /// Attempts in all (default 3).
    pub attempts: u32,
    /// HTTP status codes that trigger a retry (default none: no retries).
    pub when: Vec<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub image: String,
    /// Declared hard dependencies (ordering and link variables).
    pub requires: Vec<String>,
    /// Soft dependencies: link variables only, not transitive, no ordering.
    pub wants_info: Vec<String>,
    /// Services whose instances this service takes `volumes_from`: ordering
    /// only, no link variables (as in MaestroNG).
    pub volumes_from_services: Vec<String>,
    /// Left out of argument-less commands except `status`.
    pub omit: bool,
    /// Instance names, sorted.
    pub instances: Vec<String>,
}

impl Service {
    /// Everything this service must come after: `requires` plus the
    /// services it takes volumes from.
    pub fn ordering_deps(&self) -> impl Iterator<Item = &str> {
        self.requires
            .iter()
            .chain(self.volumes_from_services.iter())
            .map(String::as_str)
    }
}

/// One container, with its configuration resolved (service-level settings
/// merged in, names resolved). Its container environment comes from
/// `Environment::container_env`.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub name: String,
    pub service: String,
    /// Resolved at validation: the ship itself, serialised as its name.
    pub ship: ShipRef,
    /// The image as configured (instance override or service image).
    pub image: String,
    /// `None`: the image's default command.
    pub command: Option<Vec<String>>,
    pub ports: BTreeMap<String, Port>,
    pub volumes: Vec<Bind>,
    /// Anonymous volumes (container paths).
    pub container_volumes: Vec<String>,
    /// Instance names (all on the same ship).
    pub volumes_from: Vec<String>,
    /// Docker legacy links: container -> alias.
    pub links: BTreeMap<String, String>,
    pub lifecycle: BTreeMap<LifecycleState, Vec<Check>>,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `host:ip` entries for /etc/hosts, ship references resolved.
    pub extra_hosts: Vec<String>,
    /// Network mode; when set the container gets no hostname.
    pub net: Option<String>,
    pub dns: Vec<String>,
    pub restart: RestartPolicy,
    /// Grace period of `docker stop`, seconds.
    pub stop_timeout: u64,
    pub limits: Limits,
    pub ulimits: BTreeMap<String, Ulimit>,
    pub log: Option<LogConfig>,
    pub security_opt: Vec<String>,
    pub workdir: Option<String>,
    pub username: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub lxc_conf: BTreeMap<String, String>,
    /// Stable hash of everything above and of the container environment:
    /// changes when the container must be recreated.
    pub config_hash: String,
}

impl Instance {
    /// Hostname of the container: its name, unless a network mode is set.
    pub fn hostname(&self) -> Option<&str> {
        self.net.is_none().then_some(self.name.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A port number or an inclusive range (`1234-1236`); serialised as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn is_range(&self) -> bool {
        self.start != self.end
    }
    pub fn overlaps(&self, other: &PortRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

impl Serialize for PortRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_range() {
            write!(f, "{}-{}", self.start, self.end)
        } else {
            write!(f, "{}", self.start)
        }
    }
}

/// A named port: container side (`exposed`) and host side (`external`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    pub exposed: PortRange,
    pub external: PortRange,
    pub protocol: Protocol,
    /// Host address to bind, `0.0.0.0` unless given.
    pub host_ip: String,
}

impl Port {
    /// `1234/tcp` or `1234-1236/udp`: the Docker exposed-port key.
    pub fn exposed_key(&self) -> String {
        format!("{}/{}", self.exposed, self.protocol.as_str())
    }
}

/// A bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bind {
    pub host: String,
    pub target: String,
    /// e.g. `ro`, `ro,Z`; `None` = Docker's default (read-write).
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleState {
    PreStart,
    Running,
    PreStop,
    Stopped,
}

impl LifecycleState {
    pub const ALL: [(&'static str, LifecycleState); 4] = [
        ("pre-start", LifecycleState::PreStart),
        ("running", LifecycleState::Running),
        ("pre-stop", LifecycleState::PreStop),
        ("stopped", LifecycleState::Stopped),
    ];
}

/// A lifecycle check, defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Check {
    /// Connect to `ship.ip:<external port>`; `max_wait` attempts, 1 s apart.
    Tcp {
        port: String,
        /// The named port's external (host) port.
        target_port: u16,
        max_wait: u64,
    },
    Http {
        /// The named port (external side) or a literal number.
        port: String,
        target_port: u16,
        host: String,
        scheme: String,
        path: String,
        method: String,
        match_regex: Option<String>,
        /// Deadline in seconds of wall clock.
        max_wait: f64,
        /// TLS certificate verification (`requests_options.verify`).
        verify: bool,
        /// Timeout of one request in seconds (`requests_options.timeout`).
        timeout: Option<f64>,
        headers: BTreeMap<String, String>,
    },
    /// Runs locally on the maestro host.
    Exec {
        command: Vec<String>,
        attempts: u64,
        envfrom: EnvFrom,
    },
    /// Runs inside the container (docker exec).
    Rexec {
        command: Vec<String>,
        attempts: u64,
    },
    Sleep {
        wait: f64,
    },
    /// Waits for the container's own Docker `HEALTHCHECK` to say `healthy`.
    Health {
        /// Deadline in seconds of wall clock.
        max_wait: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvFrom {
    Env,
    Stdin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartPolicy {
    /// `no`, `always`, `on-failure` or `unless-stopped`.
    pub name: String,
    pub maximum_retry_count: u64,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Bytes.
    pub memory: Option<u64>,
    /// Bytes (memory + swap, Docker's `MemorySwap`); -1 = unlimited.
    pub swap: Option<i64>,
    /// CPU shares.
    pub cpu: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogConfig {
    pub driver: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Auditor {
    /// `info` (play level) or `debug` (also each container task).
    pub level: AuditLevel,
    pub ignore_errors: bool,
    pub kind: AuditorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditLevel {
    Info,
    Debug,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AuditorKind {
    Log {
        file: PathBuf,
    },
    Http {
        endpoint: String,
        /// Template: strings are formatted with `{what}`, `{action}`, `{who}`, `{message}`.
        payload: Option<serde_json::Value>,
        headers: BTreeMap<String, String>,
        /// `POST` or `GET`.
        method: String,
        timeout: f64,
    },
    Exec {
        script: String,
        args: Option<String>,
    },
    Slack {
        channel: String,
        token: String,
        name: Option<String>,
        icon: Option<String>,
    },
}
