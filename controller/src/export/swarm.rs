//! `maestro export swarm`: a Docker Swarm stack (compose file format 3.8)
//! with one service per instance, pinned to its ship's node by the node
//! label `maestro.ship`, publishing its ports in host mode (`endpoint_mode:
//! dnsrr`), with the container environment `maestro start` gives it. So
//! every instance stays reachable at its ship's address and port, and the
//! discovery variables (and `maestro-guest`) keep working unchanged.
//!
//! The document is data (the structs below); each configuration key is
//! mapped by one small function of [`MAPPERS`], which fills the service and
//! reports what Swarm cannot express as a [`Finding`]. A key another part of
//! the schema adds later is one more field and one more function.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::Environment;
use crate::config::model::{Instance, LifecycleState, Protocol};

/// The node label that pins a service to its ship (`maestro swarm label`
/// sets it to the ship's name).
pub const SHIP_LABEL: &str = "maestro.ship";

/// Where images are assumed to carry `maestro-guest` for
/// `--wait-for-dependencies` (the path of docs/guest.md's Dockerfile).
pub const DEFAULT_GUEST: &str = "/maestro-guest";

/// The shell that chains the waits before the command.
pub const DEFAULT_SHELL: &str = "/bin/sh";

// ---- the document ------------------------------------------------------

/// A compose file for `docker stack deploy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stack {
    pub version: &'static str,
    pub services: BTreeMap<String, SwarmService>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
}

/// A network of the stack: the file's networks as overlay networks (Swarm
/// names them `<stack>_<name>`), an external one by its name, or the
/// engine's `host` network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Network {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ipam {
    pub config: Vec<IpamConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpamConfig {
    pub subnet: String,
}

/// A named volume of the stack, under the name maestro gives it (`name`),
/// so a node that was a ship keeps the volume's data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Volume {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// One Swarm service (one instance). Field names are the compose keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SwarmService {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeSpec>,
    /// Network name -> aliases.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, ServiceNetwork>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, UlimitSpec>,
    /// Container labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthcheckSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin_open: Option<bool>,
    pub deploy: Deploy,
}

/// A volume of a service: a bind or named volume in the short syntax
/// (`source:target[:mode]`, or an anonymous volume's path), or a tmpfs
/// mount in the long syntax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VolumeSpec {
    Short(String),
    Tmpfs(TmpfsMount),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TmpfsMount {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsSize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TmpfsSize {
    /// Bytes.
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceNetwork {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// Compose's healthcheck: durations as Go durations (`1500ms`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthcheckSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable: Option<bool>,
}

/// A published port, long syntax: `mode: host` publishes on the node that
/// runs the task (no routing mesh), as maestro publishes on the ship.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortSpec {
    pub target: u16,
    pub published: u16,
    pub protocol: String,
    pub mode: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UlimitSpec {
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logging {
    pub driver: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Deploy {
    pub mode: String,
    pub replicas: u32,
    /// `dnsrr`: no virtual IP (which needs IPVS); the service name resolves
    /// to its task's address.
    pub endpoint_mode: String,
    pub placement: Placement,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<SwarmRestartPolicy>,
    #[serde(skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// Service labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Default for Deploy {
    fn default() -> Self {
        Deploy {
            mode: "replicated".into(),
            replicas: 1,
            endpoint_mode: "dnsrr".into(),
            placement: Placement::default(),
            restart_policy: None,
            resources: Resources::default(),
            labels: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Placement {
    pub constraints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwarmRestartPolicy {
    /// `none`, `on-failure` or `any`.
    pub condition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Reservations>,
}

impl Resources {
    fn is_empty(&self) -> bool {
        self.limits.is_none() && self.reservations.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reservations {
    /// Bytes, as text (see `Limits::memory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// CPUs, as compose writes them (`"0.5"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// Bytes, as text: the compose schema of `docker stack deploy` wants
    /// a string here (a number without a unit is bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

// ---- options, findings, refusals -----------------------------------------

#[derive(Debug, Clone)]
pub struct Options {
    /// The stack's name (`docker stack deploy ... NAME`): the prefix of
    /// every service's name.
    pub stack: String,
    /// Write the container environment even when it holds a secret.
    pub show_secrets: bool,
    /// Put `maestro-guest wait` for each required service in front of the
    /// command.
    pub wait_for_dependencies: bool,
    /// The guest's path inside the images (assumed present in every image).
    pub guest: String,
    /// The shell that chains the waits and the command.
    pub shell: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            stack: String::new(),
            show_secrets: false,
            wait_for_dependencies: false,
            guest: DEFAULT_GUEST.into(),
            shell: DEFAULT_SHELL.into(),
        }
    }
}

/// Something of an instance that the stack does not carry, or carries
/// differently: a warning (with `--strict`, an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub instance: String,
    /// The key as written in the file (`privileged`, `ports.http`,
    /// `lifecycle.running`, `requires`).
    pub key: String,
    pub message: String,
}

/// Why an instance cannot be exported at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub instance: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub stack: Stack,
    pub findings: Vec<Finding>,
}

// ---- the mapping -------------------------------------------------------

/// What every mapper gets: the environment, the options, the instances
/// exported, and where findings go.
pub struct Mapping<'a> {
    pub env: &'a Environment,
    pub options: &'a Options,
    pub selected: &'a BTreeSet<String>,
    findings: Vec<Finding>,
    /// The stack's top-level networks and volumes, as the services use them.
    networks: BTreeMap<String, Network>,
    volumes: BTreeMap<String, Volume>,
}

impl Mapping<'_> {
    fn warn(&mut self, i: &Instance, key: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding {
            instance: i.name.clone(),
            key: key.into(),
            message: message.into(),
        });
    }
}

/// Fills part of a service from an instance.
type Mapper = fn(&mut Mapping<'_>, &Instance, &mut SwarmService);

/// One function per key (or group of keys), in the order the findings of
/// an instance are listed.
const MAPPERS: &[Mapper] = &[
    image_and_command,
    hostname_and_net,
    networks,
    environment,
    ports,
    volumes,
    tmpfs,
    restart,
    resources,
    stop_grace_period,
    dns_and_hosts,
    sysctls,
    capabilities,
    ulimits,
    labels,
    logging,
    user_and_workdir,
    healthcheck,
    container_flags,
    placement,
    unsupported,
    unsupported_options,
    lifecycle,
    dependency_order,
];

/// The stack of the instances in `order` (names of `env.instances`).
/// Refused when an instance's name is not a valid Swarm service name or its
/// environment holds a secret without `show_secrets`.
pub fn export(
    env: &Environment,
    order: &[String],
    options: &Options,
) -> Result<Export, Vec<Refusal>> {
    let selected: BTreeSet<String> = order.iter().cloned().collect();
    let mut m = Mapping {
        env,
        options,
        selected: &selected,
        findings: Vec::new(),
        networks: BTreeMap::new(),
        volumes: BTreeMap::new(),
    };
    let mut refusals = Vec::new();
    let mut services = BTreeMap::new();
    for name in order {
        let Some(i) = env.instances.get(name) else {
            continue;
        };
        if let Err(r) = check_name(i, &options.stack) {
            refusals.push(r);
            continue;
        }
        if !options.show_secrets {
            refusals.extend(secrets(env, i));
        }
        let mut s = SwarmService::default();
        for mapper in MAPPERS {
            mapper(&mut m, i, &mut s);
        }
        services.insert(i.name.clone(), escape_interpolation(s));
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(Export {
        stack: Stack {
            version: "3.8",
            services,
            networks: escape_all(m.networks),
            volumes: escape_all(m.volumes),
        },
        findings: m.findings,
    })
}

/// `docker stack deploy` reads `$NAME` and `${NAME}` in every value of the
/// file as its own variables (compose interpolation): each `$` of a value
/// is written `$$`, which it reads back as one `$`, so commands and
/// variables reach the container as `maestro start` gives them. One pass
/// over each service, network and volume (as data, so no field can be
/// forgotten); keys are not interpolated and stay as they are.
fn escape_interpolation<T: Serialize + serde::de::DeserializeOwned>(s: T) -> T {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(t) if t.contains('$') => *t = t.replace('$', "$$"),
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    let Ok(mut v) = serde_json::to_value(&s) else {
        return s;
    };
    walk(&mut v);
    serde_json::from_value(v).unwrap_or(s)
}

fn escape_all<T: Serialize + serde::de::DeserializeOwned>(
    map: BTreeMap<String, T>,
) -> BTreeMap<String, T> {
    map.into_iter()
        .map(|(k, v)| (k, escape_interpolation(v)))
        .collect()
}

/// The stack's name for the engine's `host` network.
const HOST_NETWORK: &str = "hostnet";

/// Swarm refuses service names that are not DNS labels: letters, digits,
/// `-` and `_` between them, at most 63 characters with the stack's prefix
/// (`<stack>_<instance>`).
fn check_name(i: &Instance, stack: &str) -> Result<(), Refusal> {
    let n = &i.name;
    let ok_chars = n
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let ends_ok = n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric());
    let full = stack.len() + 1 + n.len();
    if ok_chars && ends_ok && full <= 63 {
        Ok(())
    } else {
        Err(Refusal {
            instance: n.clone(),
            message: format!(
                "{stack}_{n} is not a valid Swarm service name (letters, digits, '-' and '_' \
                 between them, at most 63 characters)"
            ),
        })
    }
}

/// The variables of an instance whose value is a secret: a variable of the
/// file (`env`, `envfile`) that the file's rule calls secret (`secret_names`
/// and the `secrets` lists, `config::secrets`), or any variable whose value
/// is a registry's password of the file. Named, never shown. The names of
/// the variables maestro makes (`KEYSTORE_KEYSTORE_1_HOST` of a service
/// `keystore`) say nothing of their values.
fn secrets(env: &Environment, i: &Instance) -> Vec<Refusal> {
    let passwords: Vec<&str> = env
        .registries
        .values()
        .filter_map(|r| r.password.as_deref())
        .filter(|p| !p.is_empty())
        .collect();
    let service = env.envs.services.get(&i.service).map(|s| &s.user);
    let given: BTreeSet<&str> = service
        .into_iter()
        .chain(env.envs.instances.get(&i.name))
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    env.container_env(i)
        .iter()
        .filter(|(k, v)| {
            (given.contains(k.as_str()) && env.secrets.is_secret(&i.service, &i.name, k))
                || passwords.contains(&v.as_str())
        })
        .map(|(k, _)| Refusal {
            instance: i.name.clone(),
            message: format!(
                "env.{k} holds a secret, which the stack file would show in clear; \
                 give --show-secrets to write it anyway"
            ),
        })
        .collect()
}

fn image_and_command(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.image = i.image.clone();
    s.command = i.command.clone();
    match &i.options.entrypoint {
        Some(e) if e.is_empty() => m.warn(
            i,
            "entrypoint",
            "clearing the image's entrypoint has no Swarm form (an empty entrypoint is the \
             image's); left out",
        ),
        e => s.entrypoint = e.clone(),
    }
}

/// maestro names the container's host after the instance unless a network
/// mode is set; `net: host` is the engine's `host` network, which Swarm
/// services can join; other modes have no Swarm form.
fn hostname_and_net(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.hostname = i.hostname().map(str::to_string);
    match i.net.as_deref() {
        None | Some("bridge") | Some("default") => {}
        Some("host") => {
            m.networks.insert(
                HOST_NETWORK.into(),
                Network {
                    external: Some(true),
                    name: Some("host".into()),
                    ..Network::default()
                },
            );
            s.networks
                .insert(HOST_NETWORK.into(), ServiceNetwork::default());
        }
        Some(other) => m.warn(
            i,
            "net",
            format!(
                "network mode {other} has no Swarm equivalent (services join networks; \
                 only the engine's host network can stand for a mode); left out"
            ),
        ),
    }
}

/// The file's networks, as overlay networks every node can attach
/// (`attachable`, so plain containers can join them too); an external
/// network by its name. Aliases are kept; fixed addresses are not
/// (Swarm gives tasks their addresses).
fn networks(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    for n in &i.options.networks {
        let key = format!("networks.{}", n.name);
        if let Some(ip) = &n.ipv4_address {
            m.warn(
                i,
                format!("{key}.ipv4_address"),
                format!("Swarm gives tasks their addresses; {ip} left out"),
            );
        }
        s.networks.insert(
            n.name.clone(),
            ServiceNetwork {
                aliases: n.aliases.clone(),
            },
        );
        let Some(def) = m.env.networks.get(&n.name) else {
            continue;
        };
        let network = if def.external {
            Network {
                external: Some(true),
                name: Some(n.name.clone()),
                ..Network::default()
            }
        } else {
            if !matches!(def.driver.as_str(), "bridge" | "overlay") {
                m.warn(
                    i,
                    &key,
                    format!(
                        "driver {} is not Swarm's: written as an overlay network",
                        def.driver
                    ),
                );
            }
            if let Some(gw) = &def.gateway {
                m.warn(
                    i,
                    &key,
                    format!("a stack's network cannot set its gateway ({gw}); left out"),
                );
            }
            Network {
                driver: Some("overlay".into()),
                attachable: Some(true),
                internal: def.internal.then_some(true),
                driver_opts: def.driver_opts.clone(),
                labels: def.labels.clone(),
                ipam: def.subnet.as_ref().map(|subnet| Ipam {
                    config: vec![IpamConfig {
                        subnet: subnet.clone(),
                    }],
                }),
                ..Network::default()
            }
        };
        m.networks.insert(n.name.clone(), network);
    }
}

/// The environment `maestro start` gives the container, discovery
/// variables included.
fn environment(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.environment = m.env.container_env(i);
}

/// Host-mode ports, one entry per container port (a range maps port by
/// port, as `maestro start` binds it).
fn ports(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    for (name, p) in &i.ports {
        let protocol = match p.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let key = format!("ports.{name}");
        if p.host_ip != "0.0.0.0" {
            m.warn(
                i,
                &key,
                format!(
                    "host address {} cannot be chosen in Swarm: published on all of the \
                     node's addresses",
                    p.host_ip
                ),
            );
        }
        if p.exposed.is_range() {
            for (n, target) in (p.exposed.start..=p.exposed.end).enumerate() {
                let published = u32::from(p.external.start) + n as u32;
                s.ports.push(PortSpec {
                    target,
                    published: u16::try_from(published).unwrap_or(u16::MAX),
                    protocol: protocol.into(),
                    mode: "host".into(),
                });
            }
        } else {
            if p.external.is_range() {
                m.warn(
                    i,
                    &key,
                    format!(
                        "a host port range ({}) for one container port has no Swarm form: \
                         published on {}",
                        p.external, p.external.start
                    ),
                );
            }
            s.ports.push(PortSpec {
                target: p.exposed.start,
                published: p.external.start,
                protocol: protocol.into(),
                mode: "host".into(),
            });
        }
    }
}

/// Binds and named volumes in maestro's `source:target[:mode]` form
/// (compose's short syntax) and anonymous volumes by their container path.
/// A source that is not a path is a named volume, which the stack must
/// declare: with the file's definition when it has one, under the same
/// name as maestro's.
fn volumes(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    for b in &i.volumes {
        s.volumes.push(VolumeSpec::Short(match &b.mode {
            Some(mode) => format!("{}:{}:{mode}", b.host, b.target),
            None => format!("{}:{}", b.host, b.target),
        }));
        if b.host.starts_with(['/', '.', '~']) {
            continue;
        }
        let def = m.env.volumes.get(&b.host);
        let volume = Volume {
            name: b.host.clone(),
            external: def.filter(|d| d.external).map(|_| true),
            driver: def
                .filter(|d| !d.external && d.driver != "local")
                .map(|d| d.driver.clone()),
            driver_opts: def.map(|d| d.driver_opts.clone()).unwrap_or_default(),
            labels: def.map(|d| d.labels.clone()).unwrap_or_default(),
        };
        m.volumes.insert(b.host.clone(), volume);
    }
    let binds: BTreeSet<&str> = i.volumes.iter().map(|b| b.target.as_str()).collect();
    for v in &i.container_volumes {
        if !binds.contains(v.as_str()) {
            s.volumes.push(VolumeSpec::Short(v.clone()));
        }
    }
}

/// `tmpfs` mounts in the long syntax, with their size; other mount
/// options have no form in the stack's format.
fn tmpfs(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    for (target, options) in &i.options.tmpfs {
        let mut size = None;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option.split_once('=') {
                Some(("size", v)) if parse_size(v).is_some() => size = parse_size(v),
                _ => m.warn(
                    i,
                    format!("tmpfs.{target}"),
                    format!("the mount option {option} has no form in a stack; left out"),
                ),
            }
        }
        s.volumes.push(VolumeSpec::Tmpfs(TmpfsMount {
            kind: "tmpfs".into(),
            target: target.clone(),
            tmpfs: size.map(|size| TmpfsSize { size }),
        }));
    }
}

/// `64m`, `1g`, `4096` (bytes): a tmpfs size as Docker reads it.
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (t.as_str(), 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Docker's restart policies as Swarm's conditions: `no` is `none` (a task
/// that ends is not replaced), `always` and `unless-stopped` are `any`. A
/// one-shot (`run: once`, whose policy is `no`) runs once as a task that is
/// not replaced, but Swarm keeps no record that would stop a later deploy
/// from running it again, and nothing waits for it: a finding says so.
fn restart(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    if i.one_shot().is_some() {
        m.warn(
            i,
            "run",
            "a one-shot runs once per deploy of its service in Swarm (restart_policy none); \
             nothing waits for its completion, and its run_max_wait is not enforced",
        );
    }
    let condition = match i.restart.name.as_str() {
        "always" | "unless-stopped" => "any",
        "on-failure" => "on-failure",
        _ => "none",
    };
    let max_attempts = (condition == "on-failure" && i.restart.maximum_retry_count > 0)
        .then_some(i.restart.maximum_retry_count);
    s.deploy.restart_policy = Some(SwarmRestartPolicy {
        condition: condition.into(),
        max_attempts,
    });
}

/// Memory as is; CPU shares (a relative weight) as the nearest Swarm form,
/// `cpus` = shares / 1024, a hard limit (a finding says so); swap has no
/// Swarm form.
fn resources(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    let mut limits = Limits {
        memory: i.limits.memory.map(|m| m.to_string()),
        ..Limits::default()
    };
    if let Some(nano) = i.options.nano_cpus {
        limits.cpus = Some(cpus_text(nano as f64 / 1e9));
    }
    if let Some(shares) = i.limits.cpu.filter(|_| limits.cpus.is_some()) {
        m.warn(
            i,
            "limits.cpu",
            format!("CPU shares ({shares}) have no Swarm form beside cpus; left out"),
        );
    } else if let Some(shares) = i.limits.cpu {
        let cpus = cpus_text(shares as f64 / 1024.0);
        m.warn(
            i,
            "limits.cpu",
            format!(
                "CPU shares ({shares}, a relative weight) have no Swarm form: written as \
                 cpus: {cpus}, a hard limit"
            ),
        );
        limits.cpus = Some(cpus);
    }
    if i.limits.swap.is_some() {
        m.warn(
            i,
            "limits.swap",
            "Swarm services cannot limit swap; left out",
        );
    }
    if limits != Limits::default() {
        s.deploy.resources.limits = Some(limits);
    }
    if let Some(bytes) = i.options.mem_reservation {
        m.warn(
            i,
            "mem_reservation",
            "written as deploy.resources.reservations.memory, which Swarm places tasks by; \
             the container gets no soft memory limit",
        );
        s.deploy.resources.reservations = Some(Reservations {
            memory: Some(bytes.to_string()),
        });
    }
}

/// CPUs as compose writes them: `0.5`, `2`, at most 9 decimals.
fn cpus_text(cpus: f64) -> String {
    let text = format!("{cpus:.9}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn stop_grace_period(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.stop_grace_period = Some(format!("{}s", i.stop_timeout));
}

fn dns_and_hosts(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.dns = i.dns.clone();
    s.dns_search = i.options.dns_search.clone();
    s.extra_hosts = i.extra_hosts.clone();
}

fn sysctls(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.sysctls = i.options.sysctls.clone();
}

fn capabilities(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.cap_add = i.cap_add.clone();
    s.cap_drop = i.cap_drop.clone();
}

fn ulimits(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.ulimits = i
        .ulimits
        .iter()
        .map(|(k, u)| {
            (
                k.clone(),
                UlimitSpec {
                    soft: u.soft,
                    hard: u.hard,
                },
            )
        })
        .collect();
}

/// The file's labels go on the containers; maestro's own labels on the
/// service only: a container carrying `maestro.environment` would be taken
/// for one of maestro's (and removed by `up --remove-orphans`) on a node
/// that is also a ship.
fn labels(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.labels = i.labels.clone();
    s.deploy.labels = BTreeMap::from([
        (crate::labels::ENVIRONMENT.to_string(), m.env.name.clone()),
        (crate::labels::SERVICE.to_string(), i.service.clone()),
        (crate::labels::INSTANCE.to_string(), i.name.clone()),
    ]);
}

fn logging(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.logging = i.log.as_ref().map(|l| Logging {
        driver: l.driver.clone(),
        options: l.options.clone(),
    });
}

fn user_and_workdir(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.user = i.username.clone();
    s.working_dir = i.workdir.clone();
}

/// The file's healthcheck; `disable: true` as compose writes it.
fn healthcheck(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    let Some(h) = &i.options.healthcheck else {
        return;
    };
    s.healthcheck = Some(if h.disabled() {
        HealthcheckSpec {
            disable: Some(true),
            ..HealthcheckSpec::default()
        }
    } else {
        HealthcheckSpec {
            test: h.test.clone(),
            interval: h.interval.map(duration),
            timeout: h.timeout.map(duration),
            retries: h.retries,
            start_period: h.start_period.map(duration),
            disable: None,
        }
    });
}

/// Nanoseconds as a Go duration, in the largest unit that keeps it exact.
fn duration(ns: i64) -> String {
    for (unit, size) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

fn container_flags(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    let o = &i.options;
    s.stop_signal = o.stop_signal.clone();
    s.init = o.init;
    s.read_only = o.read_only;
    s.tty = o.tty;
    s.stdin_open = o.stdin_open;
}

fn placement(_: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    s.deploy.placement.constraints = vec![format!("node.labels.{SHIP_LABEL} == {}", i.ship.name)];
}

/// Keys `docker stack deploy` has no form for: each named, none dropped
/// silently.
fn unsupported(m: &mut Mapping<'_>, i: &Instance, _: &mut SwarmService) {
    if i.privileged {
        m.warn(
            i,
            "privileged",
            "Swarm services cannot run privileged; left out (give the capabilities needed \
             with cap_add)",
        );
    }
    if !i.volumes_from.is_empty() {
        m.warn(
            i,
            "volumes_from",
            format!(
                "Swarm services cannot share another container's volumes ({}); left out \
                 (use a named volume)",
                i.volumes_from.join(", ")
            ),
        );
    }
    if !i.links.is_empty() {
        m.warn(
            i,
            "links",
            format!(
                "Swarm has no legacy links ({}); left out (the discovery variables and \
                 the node addresses stay)",
                i.links.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    if !i.security_opt.is_empty() {
        m.warn(
            i,
            "security_opt",
            "docker stack deploy ignores security_opt; left out",
        );
    }
    if !i.lxc_conf.is_empty() {
        m.warn(i, "lxc_conf", "Swarm has no LXC options; left out");
    }
}

/// Container options a stack cannot carry: `docker stack deploy` ignores
/// them or its schema refuses them.
fn unsupported_options(m: &mut Mapping<'_>, i: &Instance, _: &mut SwarmService) {
    let o = &i.options;
    let ignored = "docker stack deploy ignores it; left out";
    let refused = "the stack format has no such key; left out";
    let set: [(&str, bool, &str); 15] = [
        ("domainname", o.domainname.is_some(), ignored),
        ("mac_address", o.mac_address.is_some(), ignored),
        ("shm_size", o.shm_size.is_some(), ignored),
        ("pid", o.pid.is_some(), ignored),
        ("ipc", o.ipc.is_some(), ignored),
        ("userns_mode", o.userns_mode.is_some(), ignored),
        (
            "devices",
            !o.devices.is_empty(),
            "Swarm services cannot have devices; left out",
        ),
        ("group_add", !o.group_add.is_empty(), refused),
        ("dns_opt", !o.dns_opt.is_empty(), refused),
        ("cpuset", o.cpuset.is_some(), refused),
        ("oom_score_adj", o.oom_score_adj.is_some(), refused),
        ("pids_limit", o.pids_limit.is_some(), refused),
        ("memory_swappiness", o.memory_swappiness.is_some(), refused),
        (
            "cpu_quota",
            o.cpu_quota.is_some() || o.cpu_period.is_some(),
            "Swarm limits CPUs with cpus only; left out",
        ),
        (
            "platform",
            o.platform.is_some() || o.runtime.is_some(),
            "a stack's services run on the nodes' own platform and runtime; left out",
        ),
    ];
    for (key, present, why) in set {
        if present {
            m.warn(i, key, why);
        }
    }
}

/// maestro's lifecycle checks run in maestro; Swarm only knows the image's
/// or the service's own healthcheck.
fn lifecycle(m: &mut Mapping<'_>, i: &Instance, _: &mut SwarmService) {
    for (state, checks) in &i.lifecycle {
        if checks.is_empty() {
            continue;
        }
        let name = LifecycleState::ALL
            .iter()
            .find(|(_, s)| s == state)
            .map_or("?", |(n, _)| n);
        let kinds: Vec<String> = checks
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str().map(str::to_string)))
                    .unwrap_or_default()
            })
            .collect();
        m.warn(
            i,
            format!("lifecycle.{name}"),
            format!(
                "Swarm does not run maestro's lifecycle checks ({}); left out (a healthcheck \
                 is Swarm's own form)",
                kinds.join(", ")
            ),
        );
    }
}

/// The services this instance's service must come after, with ports to
/// wait for: `requires` (transitively through each dependency's own wait).
fn dependency_order(m: &mut Mapping<'_>, i: &Instance, s: &mut SwarmService) {
    let Some(service) = m.env.services.get(&i.service) else {
        return;
    };
    if service.requires.is_empty() {
        return;
    }
    let required = service.requires.join(", ");
    if !m.options.wait_for_dependencies {
        m.warn(
            i,
            "requires",
            format!(
                "Swarm starts every service at once, not after {required}; keep the order \
                 with a restart policy that retries until they answer, or with \
                 --wait-for-dependencies"
            ),
        );
        return;
    }
    // With an entrypoint, Swarm runs entrypoint + command: the wait goes in
    // front of the entrypoint and the command stays its arguments.
    let wraps_entrypoint = s.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    let target = if wraps_entrypoint {
        s.entrypoint.clone()
    } else {
        s.command.clone()
    };
    let Some(command) = target else {
        m.warn(
            i,
            "requires",
            format!(
                "no command to put the wait for {required} in front of (the image's own \
                 command is not known here); Swarm starts it at once"
            ),
        );
        return;
    };
    let mut waits = Vec::new();
    for dep in &service.requires {
        let with_ports = m.env.services.get(dep).is_some_and(|d| {
            d.instances.iter().any(|n| {
                m.selected.contains(n)
                    && m.env.instances.get(n).is_some_and(|x| !x.ports.is_empty())
            })
        });
        if with_ports {
            waits.push(format!(
                "{} wait {} --timeout 0",
                shell_quote(&m.options.guest),
                shell_quote(dep)
            ));
        } else {
            m.warn(
                i,
                "requires",
                format!(
                    "{dep} has no ports to wait for; Swarm starts {} at once",
                    i.name
                ),
            );
        }
    }
    if waits.is_empty() {
        return;
    }
    let script = format!("{} && exec \"$@\"", waits.join(" && "));
    let mut wrapped = vec![m.options.shell.clone(), "-c".into(), script, i.name.clone()];
    wrapped.extend(command);
    if wraps_entrypoint {
        s.entrypoint = Some(wrapped);
    } else {
        s.command = Some(wrapped);
    }
}

/// A word for `sh -c`, single-quoted unless it is plainly safe.
fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The stack file's text: a header saying how to deploy it, then the YAML.
pub fn to_yaml(stack: &Stack, stack_name: &str, env_name: &str) -> Result<String, String> {
    let body = serde_saphyr::to_string(stack).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Docker Swarm stack of maestro environment {env_name}, written by `maestro export \
         swarm`.\n# Label the nodes first (`maestro swarm label`), then:\n#   docker stack \
         deploy -c <this file> {stack_name}\n# (--with-registry-auth for images of private \
         registries; --resolve-image never\n# when the nodes have the images and no registry.)\n\
         {body}"
    ))
}

/// Docker's rule for stack names: what `docker stack deploy` accepts as the
/// prefix of every service and network name.
pub fn valid_stack_name(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests;
