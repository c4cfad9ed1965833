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
    /// Top-level `networks`: user-defined networks, by name.
    pub networks: BTreeMap<String, NetworkDef>,
    /// Top-level `volumes`: named volumes with a driver, by name.
    pub volumes: BTreeMap<String, VolumeDef>,
    /// What the container environments are made of; see `container_env`.
    pub envs: ContainerEnvs,
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
    /// The container options MaestroNG never had (`networks`,
    /// `healthcheck`, `tmpfs`, ...); each unset by default.
    #[serde(flatten)]
    pub options: ContainerOptions,
    /// Stable hash of everything above and of the container environment:
    /// changes when the container must be recreated.
    pub config_hash: String,
}

impl Instance {
    /// Hostname of the container: `hostname` when set, else its name,
    /// unless a network mode is set.
    pub fn hostname(&self) -> Option<&str> {
        match &self.options.hostname {
            Some(h) => Some(h.as_str()),
            None => self.net.is_none().then_some(self.name.as_str()),
        }
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

/// Container options beyond MaestroNG's schema. Every field is "unset" by
/// default and left out of `dump` and of the configuration hash while
/// unset, so files that do not use them are read and hashed as before.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContainerOptions {
    /// User-defined networks in order: the first replaces the default
    /// bridge at create, the others are connected before start.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkAttach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// `Some(vec![])`: clear the image's entrypoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin_open: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Container path -> mount options (`size=64m,mode=1777`, or empty).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tmpfs: BTreeMap<String, String>,
    /// Bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<i64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    /// CPUs the container may run on, e.g. `0-2,4`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    /// `cpus` in billionths of a CPU (Docker's `NanoCpus`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nano_cpus: Option<i64>,
    /// Microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    /// Microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    /// Bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swappiness: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// `os[/arch[/variant]]`, the `platform` query parameter of create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
}

/// An instance's attachment to a user-defined network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkAttach {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
}

/// `healthcheck`: Docker's `HEALTHCHECK`, durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// `["NONE"]` when disabled; `["CMD", ...]` or `["CMD-SHELL", cmd]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
}

impl Healthcheck {
    pub fn disabled(&self) -> bool {
        self.test.as_deref() == Some(&["NONE".to_string()][..])
    }
}

/// A device of the ship made available in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub host: String,
    pub container: String,
    /// Some of `r`, `w`, `m`.
    pub permissions: String,
}

/// A top-level `networks` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkDef {
    /// `bridge` unless given.
    pub driver: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    pub internal: bool,
    /// Made outside maestro: must exist, never created nor removed.
    pub external: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

/// A top-level `volumes` entry: a named volume with its driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VolumeDef {
    /// `local` unless given.
    pub driver: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Made outside maestro: must exist, never created.
    pub external: bool,
}
