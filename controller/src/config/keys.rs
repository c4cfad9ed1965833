//! Every key of the environment file, once: per level (a mapping of the
//! file), each key's name, type, whether it is required, its default and a
//! one-line description. The loader's lists of known keys (`names`) and
//! `maestro schema` (`config::schema`) are both built from these tables, so
//! the documentation of a key and the check that accepts it cannot drift.
//!
//! To add a key: one line in its level's table, then read it in the loader.

use super::model::LifecycleState;

/// The type of a key's value, as the loader reads it.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Text; numbers are read as their text (names, paths, tags).
    Str,
    /// `true`/`false`, or `yes`/`no`/`on`/`off` in any case (YAML 1.1 words).
    Bool,
    /// A non-negative integer, or a string of digits.
    Uint,
    /// An integer (ulimits: -1 is unlimited).
    Int,
    /// A TCP port, 1-65535.
    Port,
    /// A non-negative number of seconds (decimals allowed).
    Seconds,
    /// A size in bytes: a number or text with a `k`, `m` or `g` suffix.
    Size,
    /// A number (decimals allowed).
    Number,
    /// A duration: text such as `10s`, `1m30s` or `500ms`, or a number of
    /// seconds.
    Duration,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// One of these integers.
    Ints(&'static [u64]),
    /// A string, or a list of strings.
    StrList,
    /// A string, or a list of non-negative integers.
    UintList,
    /// Any scalar, or a list of them (lists nest): environment values.
    EnvValue,
    /// Any scalar (string, number, boolean or null), read as its text.
    Scalar,
    /// Nothing (`~` or an empty value).
    Null,
    /// Any YAML value (accepted and not read).
    Any,
    /// A mapping with the keys of this level.
    Obj(&'static [Key]),
    /// A mapping whose keys are free names, each value of this type.
    MapOf(&'static Ty),
    /// A list of values of this type.
    ListOf(&'static Ty),
    /// Any one of these types.
    AnyOf(&'static [Ty]),
    /// A mapping that is one of these levels, told apart by its `type`
    /// key: (value of `type`, the level's other keys).
    Tagged(&'static [Key], &'static [(&'static str, &'static [Key])]),
}

/// One key of a level.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// The value used when the key is absent, as JSON text.
    pub default: Option<&'static str>,
    pub description: &'static str,
}

/// An optional key.
const fn opt(name: &'static str, ty: Ty, description: &'static str) -> Key {
    Key {
        name,
        ty,
        required: false,
        default: None,
        description,
    }
}

/// A required key.
const fn req(name: &'static str, ty: Ty, description: &'static str) -> Key {
    Key {
        name,
        ty,
        required: true,
        default: None,
        description,
    }
}

/// An optional key with a default (JSON text).
const fn def(name: &'static str, ty: Ty, default: &'static str, description: &'static str) -> Key {
    Key {
        name,
        ty,
        required: false,
        default: Some(default),
        description,
    }
}

/// The names of a level's keys, for the loader's unknown-key check.
pub fn names(level: &[Key]) -> Vec<&'static str> {
    level.iter().map(|k| k.name).collect()
}

/// Top-level keys starting with `_` (but `__maestro`) or `x-` are free, e.g.
/// to hold YAML anchors.
pub fn free_top_key(k: &str) -> bool {
    k.starts_with('_') && k != "__maestro" || k.starts_with("x-")
}

// ---- shared value types ----

use Ty::*;

const STRS: Ty = ListOf(&Str);
/// Mapping name -> text (labels, log options, headers).
const STR_MAP: Ty = MapOf(&Scalar);
const NAMES: Ty = AnyOf(&[Str, ListOf(&Str)]);
/// A command: a string split as a POSIX shell does, or a list of words
/// (any scalar but null).
const COMMAND: Ty = AnyOf(&[Str, ListOf(&AnyOf(&[Str, Bool]))]);
const ENV: Ty = MapOf(&EnvValue);
pub const PORT_SPEC: Ty = AnyOf(&[Str, Obj(PORT_MAPPING)]);
pub const ULIMIT: Ty = AnyOf(&[Int, Obj(ULIMIT_MAPPING)]);
const VOLUME: Ty = AnyOf(&[Str, Obj(VOLUME_MAPPING)]);
pub const CHECKS: Ty = ListOf(&Tagged(&[], CHECK_TYPES));

pub const RESTART_NAMES: &[&str] = &["no", "always", "on-failure", "unless-stopped"];
/// Log drivers of current Docker engines (MaestroNG accepted only the first
/// six, the list of its docker-py version).
pub const LOG_DRIVERS: &[&str] = &[
    "json-file",
    "syslog",
    "journald",
    "gelf",
    "fluentd",
    "none",
    "local",
    "awslogs",
    "splunk",
    "etwlogs",
    "gcplogs",
    "logentries",
];

// ---- the levels ----

#[rustfmt::skip]
pub const TOP: &[Key] = &[
    opt("__maestro", Obj(MAESTRO), "Settings of the file format itself"),
    req("name", Str, "The environment's name (MAESTRO_ENVIRONMENT_NAME in containers)"),
    opt("registries", MapOf(&Obj(REGISTRY)), "Image registries and their credentials, by name"),
    opt("ship_defaults", Obj(SHIP_SETTINGS), "Settings every ship takes unless it sets its own"),
    def("ship_provider", Enum(&["static"]), "\"static\"", "Where ships come from: only `static` (the `ships` mapping)"),
    req("ships", MapOf(&Obj(SHIP)), "The Docker hosts, by name"),
    opt("services", MapOf(&Obj(SERVICE)), "The services, by name, each with its instances"),
    opt("audit", ListOf(&Tagged(AUDITOR, AUDITOR_TYPES)), "Auditors notified of plays"),
    opt("networks", MapOf(&AnyOf(&[Null, Obj(NETWORK_DEF)])), "User-defined networks, by Docker name, created on ships when missing"),
    opt("volumes", MapOf(&AnyOf(&[Null, Obj(VOLUME_DEF)])), "Named volumes, by name, created on ships when missing"),
    opt("secret_names", STRS, "Words that make an environment variable secret when its name contains one (any case; default PASSWORD, SECRET, TOKEN, KEY; [] turns the rule off)"),
];

#[rustfmt::skip]
pub const MAESTRO: &[Key] = &[
    def("schema", Ints(&[1, 2]), "1", "Format version: 2 reads volumes as `host: container`"),
    opt("base_dir", Str, "Accepted and ignored (set by MaestroNG's loader)"),
];

/// Keys a ship takes that `ship_defaults` does not.
#[rustfmt::skip]
pub const SHIP_ONLY: &[Key] = &[
    req("ip", Str, "The ship's address, given to containers as CONTAINER_HOST_ADDRESS"),
    opt("endpoint", Str, "The address to reach the Docker daemon at (default: ip)"),
];

/// Keys of a ship that `ship_defaults` may set for every ship.
#[rustfmt::skip]
pub const SHIP_SETTINGS: &[Key] = &[
    opt("docker_port", Port, "The daemon's TCP port (default 2375, or 2376 with TLS)"),
    opt("socket_path", Str, "Reach the daemon through this unix socket instead of TCP"),
    def("api_version", Str, "\"auto\"", "Docker API version: `auto` (negotiated) or N.M"),
    def("timeout", Seconds, "5", "Seconds to wait for each Docker request"),
    opt("ssh_tunnel", Obj(SSH_TUNNEL), "Reach the daemon's socket through an SSH tunnel"),
    def("tls", Bool, "false", "Speak TLS to the daemon"),
    def("tls_verify", Bool, "false", "Speak TLS and verify the daemon's certificate against tls_ca_cert"),
    opt("tls_ca_cert", Str, "CA certificate file that signed the daemon's certificate"),
    opt("tls_cert", Str, "Client certificate file (with tls_key)"),
    opt("tls_key", Str, "Client key file (with tls_cert)"),
    opt("ssl_version", Str, "Accepted for compatibility; no effect"),
    opt("ssh_timeout", Any, "Accepted for compatibility; no effect"),
    def("max_concurrency", Uint, "8", "Operations in flight on this daemon at once (at least 1)"),
];

/// A ship: `SHIP_ONLY` and `SHIP_SETTINGS`, as one level.
pub const SHIP: &[Key] =
    &concat::<{ SHIP_ONLY.len() + SHIP_SETTINGS.len() }>(SHIP_ONLY, SHIP_SETTINGS);

/// Two levels as one (at compile time: a ship is its own keys and the
/// settings `ship_defaults` shares).
const fn concat<const N: usize>(a: &[Key], b: &[Key]) -> [Key; N] {
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

#[rustfmt::skip]
pub const SSH_TUNNEL: &[Key] = &[
    req("user", Str, "SSH user"),
    req("key", Str, "Private key file"),
    def("port", Port, "22", "SSH port"),
    opt("known_hosts", Str, "known_hosts file to check the host key against"),
    def("control_persist", AnyOf(&[Uint, Bool]), "300", "Seconds the shared SSH connection outlives its last use; false: no sharing"),
];

#[rustfmt::skip]
pub const REGISTRY: &[Key] = &[
    req("registry", Str, "The registry's URL"),
    opt("username", Str, "User to log in as"),
    opt("password", Str, "Password to log in with"),
    opt("email", Str, "E-mail address sent with the login"),
    opt("retry", Obj(RETRY), "Retrying failed pulls"),
];

#[rustfmt::skip]
pub const RETRY: &[Key] = &[
    def("attempts", Uint, "3", "Pull attempts in all (at least 1)"),
    opt("when", UintList, "HTTP status codes that make a pull be retried"),
];

/// MaestroNG's keys of a service; `SERVICE` adds maestro's container options.
#[rustfmt::skip]
pub const SERVICE_BASE: &[Key] = &[
    req("image", Str, "The image of the service's containers"),
    opt("secrets", StrList, "Environment variables of every instance whose values are secret"),
    req("instances", MapOf(&Obj(INSTANCE)), "The containers, by name, each on a ship"),
    opt("requires", NAMES, "Services started before this one, whose details its containers get"),
    opt("wants_info", NAMES, "Services whose details this one's containers get (no ordering)"),
    def("omit", Bool, "false", "Leave the service out when no things are named"),
    opt("env", ENV, "Environment variables of every instance"),
    opt("envfile", StrList, "Environment files of every instance, relative to the file"),
    opt("lifecycle", Obj(LIFECYCLE), "Checks of every instance, per state"),
    opt("limits", Obj(LIMITS), "Resource limits of every instance"),
    opt("ports", MapOf(&PORT_SPEC), "Named ports of every instance"),
    opt("ulimits", MapOf(&ULIMIT), "Resource ulimits of every instance, by name"),
];

/// MaestroNG's keys of an instance; `INSTANCE` adds maestro's container options.
#[rustfmt::skip]
pub const INSTANCE_BASE: &[Key] = &[
    req("ship", Str, "The ship the container runs on"),
    opt("secrets", StrList, "Environment variables whose values are secret (over the service's)"),
    opt("image", Str, "The image (default: the service's)"),
    opt("command", COMMAND, "The command: a string split as a POSIX shell does, or a list"),
    opt("cmd", COMMAND, "Deprecated spelling of command"),
    opt("ports", MapOf(&PORT_SPEC), "Named ports: `exposed[:external]` or {exposed, external}"),
    opt("env", ENV, "Environment variables"),
    opt("envfile", StrList, "Environment files, relative to the file"),
    opt("volumes", MapOf(&VOLUME), "Bind mounts: `host: container` (schema 2) or `container: host` (schema 1)"),
    opt("container_volumes", StrList, "Anonymous volumes, by container path"),
    opt("volumes_from", NAMES, "Instances on the same ship whose volumes this one mounts"),
    opt("links", MapOf(&AnyOf(&[Str, Null])), "Container links: container name -> alias (empty: the same name)"),
    opt("lifecycle", Obj(LIFECYCLE), "Checks, per state, after the service's"),
    def("privileged", Bool, "false", "Run the container privileged"),
    opt("cap_add", StrList, "Capabilities to add"),
    opt("cap_drop", StrList, "Capabilities to drop"),
    opt("extra_hosts", MapOf(&AnyOf(&[Str, Obj(EXTRA_HOST)])), "/etc/hosts entries: host -> address or {ship}"),
    opt("net", Str, "Network mode (host, bridge, container:NAME, ...)"),
    opt("dns", StrList, "DNS servers"),
    def("restart", AnyOf(&[Enum(RESTART_NAMES), Str, Obj(RESTART)]), "\"no\"", "Restart policy: `name[:retries]` or {name, retries}"),
    def("stop_timeout", Uint, "10", "Seconds Docker waits after SIGTERM before SIGKILL"),
    opt("limits", Obj(LIMITS), "Resource limits (over the service's)"),
    opt("ulimits", MapOf(&ULIMIT), "Resource ulimits by name (over the service's)"),
    opt("log_driver", Enum(LOG_DRIVERS), "Logging driver"),
    opt("log_opt", STR_MAP, "Logging driver options"),
    opt("security_opt", StrList, "Security options"),
    opt("workdir", Str, "Working directory of the command"),
    opt("username", Str, "User the command runs as"),
    opt("labels", AnyOf(&[STRS, STR_MAP]), "Container labels: `key=value` list or mapping"),
    opt("lxc_conf", STR_MAP, "LXC options (old Docker engines)"),
];

/// A service: MaestroNG's keys, then maestro's container options (which
/// its instances inherit).
pub const SERVICE: &[Key] =
    &concat::<{ SERVICE_BASE.len() + CONTAINER_OPTIONS.len() }>(SERVICE_BASE, CONTAINER_OPTIONS);

/// An instance: MaestroNG's keys, then maestro's container options.
pub const INSTANCE: &[Key] =
    &concat::<{ INSTANCE_BASE.len() + CONTAINER_OPTIONS.len() }>(INSTANCE_BASE, CONTAINER_OPTIONS);

/// Container options MaestroNG does not have, taken by a service (for all
/// its instances) and by an instance (over the service's).
#[rustfmt::skip]
pub const CONTAINER_OPTIONS: &[Key] = &[
    opt("networks", AnyOf(&[ListOf(&Str), MapOf(&AnyOf(&[Null, Obj(NETWORK_ATTACH)]))]), "User networks (defined at top level): the first at create, the others connected before start"),
    opt("healthcheck", Obj(HEALTHCHECK), "Docker's HEALTHCHECK of the container"),
    opt("entrypoint", AnyOf(&[Str, ListOf(&Str)]), "The entrypoint: a string split as a POSIX shell does, or a list; empty clears the image's"),
    opt("hostname", Str, "The container's host name (default: the instance's name)"),
    opt("domainname", Str, "The container's domain name"),
    opt("mac_address", Str, "The container's MAC address, xx:xx:xx:xx:xx:xx"),
    opt("stop_signal", AnyOf(&[Str, Uint]), "Signal that stops the container: a name (SIGTERM, TERM) or number"),
    opt("tty", Bool, "Allocate a terminal"),
    opt("stdin_open", Bool, "Keep standard input open"),
    opt("read_only", Bool, "Mount the root filesystem read-only"),
    opt("tmpfs", AnyOf(&[Str, ListOf(&Str), MapOf(&AnyOf(&[Str, Null]))]), "tmpfs mounts: `path[:options]` or path -> options"),
    opt("shm_size", Size, "Size of /dev/shm in bytes, or with k/m/g"),
    opt("sysctls", AnyOf(&[STR_MAP, ListOf(&Str)]), "Namespaced kernel parameters: name -> value, or `name=value`"),
    opt("devices", StrList, "Host devices: `host[:container[:permissions]]`"),
    opt("init", Bool, "Run an init process as PID 1"),
    opt("pid", Str, "PID namespace: host or container:NAME"),
    opt("ipc", Str, "IPC namespace: none, private, shareable, host or container:NAME"),
    opt("group_add", StrList, "Extra groups of the command's user"),
    opt("dns_search", StrList, "DNS search domains"),
    opt("dns_opt", StrList, "resolv.conf options"),
    opt("cpuset", Str, "CPUs the container may use, e.g. 0-2,4"),
    opt("cpus", Number, "CPU limit in CPUs (NanoCpus); not with cpu_quota or cpu_period"),
    opt("cpu_quota", Uint, "CFS quota in microseconds per period"),
    opt("cpu_period", Uint, "CFS period in microseconds (1000-1000000)"),
    opt("mem_reservation", Size, "Soft memory limit in bytes, or with k/m/g"),
    opt("memory_swappiness", Uint, "Swappiness, 0-100"),
    opt("oom_score_adj", Int, "OOM score adjustment, -1000 to 1000"),
    opt("pids_limit", Int, "Process limit; -1: unlimited"),
    opt("platform", Str, "Platform of the image: os[/arch[/variant]]"),
    opt("runtime", Str, "OCI runtime"),
    opt("userns_mode", Enum(&["host"]), "User namespace mode"),
    def("run", Enum(&["always", "once"]), "\"always\"", "`once`: a one-shot container, expected to exit 0; not run again unless its configuration changes"),
    def("run_max_wait", Uint, "300", "Seconds a one-shot container (`run: once`) may run"),
];

/// An attachment to a user network (`networks: {name: {...}}`).
#[rustfmt::skip]
pub const NETWORK_ATTACH: &[Key] = &[
    opt("aliases", StrList, "Other host names of the container on this network"),
    opt("ipv4_address", Str, "Fixed IPv4 address (the network needs a subnet)"),
];

#[rustfmt::skip]
pub const HEALTHCHECK: &[Key] = &[
    opt("test", AnyOf(&[Str, ListOf(&Str)]), "The probe: a shell command, or a list (CMD form)"),
    opt("interval", Duration, "Time between probes"),
    opt("timeout", Duration, "Time a probe may take"),
    opt("retries", Uint, "Failed probes in a row that make the container unhealthy"),
    opt("start_period", Duration, "Time after start when failed probes do not count"),
    opt("disable", Bool, "Turn off the image's HEALTHCHECK (not with test)"),
];

/// A top-level `networks` entry.
#[rustfmt::skip]
pub const NETWORK_DEF: &[Key] = &[
    def("driver", Str, "\"bridge\"", "Network driver"),
    opt("driver_opts", STR_MAP, "Driver options"),
    opt("labels", STR_MAP, "Labels of the network (not maestro.*)"),
    def("internal", Bool, "false", "No route outside the network"),
    def("external", Bool, "false", "Made outside maestro: must exist, never created or removed"),
    opt("subnet", Str, "IPv4 subnet (CIDR)"),
    opt("gateway", Str, "IPv4 gateway, inside the subnet"),
];

/// A top-level `volumes` entry.
#[rustfmt::skip]
pub const VOLUME_DEF: &[Key] = &[
    def("driver", Str, "\"local\"", "Volume driver"),
    opt("driver_opts", STR_MAP, "Driver options"),
    opt("labels", STR_MAP, "Labels of the volume (not maestro.*)"),
    def("external", Bool, "false", "Made outside maestro: must exist, never created"),
];

pub const EXTRA_HOST: &[Key] = &[req("ship", Str, "The ship whose ip the host resolves to")];

#[rustfmt::skip]
pub const PORT_MAPPING: &[Key] = &[
    req("exposed", Str, "Container port: `N`, `N/udp` or a range `N-M`"),
    req("external", AnyOf(&[Str, ListOf(&Str)]), "Host port, or [host address, port]"),
];

#[rustfmt::skip]
pub const VOLUME_MAPPING: &[Key] = &[
    req("target", Str, "Absolute path in the container"),
    def("mode", Str, "\"rw\"", "Mount mode: rw, ro, or options such as `ro,Z`"),
];

#[rustfmt::skip]
pub const RESTART: &[Key] = &[
    req("name", Enum(RESTART_NAMES), "The policy"),
    opt("retries", Uint, "Maximum restarts (on-failure)"),
];

#[rustfmt::skip]
pub const LIMITS: &[Key] = &[
    opt("memory", Size, "Memory limit in bytes, or with k/m/g"),
    opt("swap", Size, "Memory plus swap limit in bytes, or with k/m/g; -1: unlimited"),
    opt("cpu", Uint, "CPU shares"),
];

#[rustfmt::skip]
pub const ULIMIT_MAPPING: &[Key] = &[
    req("soft", Int, "Soft limit"),
    req("hard", Int, "Hard limit"),
];

/// `lifecycle`: one list of checks per state (`LifecycleState::ALL`).
#[rustfmt::skip]
pub const LIFECYCLE: &[Key] = &[
    opt(LifecycleState::ALL[0].0, CHECKS, "Checks before the container starts"),
    opt(LifecycleState::ALL[1].0, CHECKS, "Checks that the started container is up"),
    opt(LifecycleState::ALL[2].0, CHECKS, "Checks before the container stops"),
    opt(LifecycleState::ALL[3].0, CHECKS, "Checks after the container stopped"),
];

/// Lifecycle checks: each type's keys besides `type`.
pub const CHECK_TYPES: &[(&str, &[Key])] = &[
    ("tcp", CHECK_TCP),
    ("http", CHECK_HTTP),
    ("exec", CHECK_EXEC),
    ("rexec", CHECK_REXEC),
    ("sleep", CHECK_SLEEP),
    ("health", CHECK_HEALTH),
];

#[rustfmt::skip]
pub const CHECK_TCP: &[Key] = &[
    req("port", Str, "Named port of the instance to connect to"),
    def("max_wait", Uint, "180", "Attempts, one a second"),
];

#[rustfmt::skip]
pub const CHECK_HTTP: &[Key] = &[
    req("port", Str, "Named port of the instance, or a port number"),
    opt("host", Str, "Host to ask (default: the ship's ip)"),
    def("path", Str, "\"/\"", "Path to request"),
    def("scheme", Enum(&["http", "https"]), "\"http\"", "URL scheme"),
    def("method", Str, "\"get\"", "HTTP method"),
    opt("match_regex", Str, "Regular expression the response body must match"),
    def("max_wait", Seconds, "300", "Seconds to keep trying"),
    opt("requests_options", Obj(REQUESTS_OPTIONS), "Request settings"),
];

#[rustfmt::skip]
pub const REQUESTS_OPTIONS: &[Key] = &[
    def("verify", Bool, "true", "Verify the server's TLS certificate"),
    opt("timeout", Seconds, "Seconds to wait for each request"),
    opt("headers", STR_MAP, "Request headers"),
];

#[rustfmt::skip]
pub const CHECK_EXEC: &[Key] = &[
    req("command", COMMAND, "Command run on the machine running maestro; exit 0 passes"),
    def("attempts", Uint, "180", "Attempts, one a second"),
    def("envfrom", Enum(&["env", "stdin"]), "\"env\"", "How the command gets the container's environment"),
    opt("timeout", Seconds, "Seconds one run may take before its process group is killed"),
    opt("max_wait", Seconds, "Seconds the whole check may take, a run in flight included"),
];

#[rustfmt::skip]
pub const CHECK_REXEC: &[Key] = &[
    req("command", COMMAND, "Command run inside the container; exit 0 passes"),
    def("attempts", Uint, "180", "Attempts, one a second"),
];

pub const CHECK_SLEEP: &[Key] = &[req("wait", Seconds, "Seconds to wait")];

#[rustfmt::skip]
pub const CHECK_HEALTH: &[Key] = &[
    def("max_wait", Seconds, "300", "Seconds to wait for the container's HEALTHCHECK to report healthy"),
];

/// Keys every auditor takes (`type` picks the rest from `AUDITOR_TYPES`).
#[rustfmt::skip]
pub const AUDITOR: &[Key] = &[
    def("level", Enum(&["info", "debug"]), "\"info\"", "Which events the auditor gets"),
    def("ignore_errors", Bool, "false", "A failing auditor does not fail the play"),
];

pub const AUDITOR_TYPES: &[(&str, &[Key])] = &[
    ("log", AUDIT_LOG),
    ("http", AUDIT_HTTP),
    ("exec", AUDIT_EXEC),
    ("slack", AUDIT_SLACK),
];

pub const AUDIT_LOG: &[Key] = &[req("file", Str, "File the messages are appended to")];

#[rustfmt::skip]
pub const AUDIT_HTTP: &[Key] = &[
    req("endpoint", Str, "URL to send each message to"),
    opt("payload", AnyOf(&[MapOf(&Any), ListOf(&Any)]), "JSON body (a mapping or a list) sent with the message"),
    opt("headers", STR_MAP, "Request headers"),
    def("method", Str, "\"POST\"", "POST or GET (any case)"),
    def("timeout", Seconds, "3", "Seconds to wait for the request"),
];

#[rustfmt::skip]
pub const AUDIT_EXEC: &[Key] = &[
    req("script", Str, "Program run with each message"),
    opt("args", Str, "Arguments, split as a POSIX shell does"),
];

#[rustfmt::skip]
pub const AUDIT_SLACK: &[Key] = &[
    req("channel", Str, "Channel to post to"),
    req("token", Str, "API token"),
    opt("name", Str, "Name to post as"),
    opt("icon", Str, "Icon to post with"),
];

/// The keys of one lifecycle check type, besides `type`.
pub fn check_keys(kind: &str) -> Option<&'static [Key]> {
    CHECK_TYPES
        .iter()
        .find(|(n, _)| *n == kind)
        .map(|(_, k)| *k)
}

/// The keys of one auditor type, besides `type` and `AUDITOR`.
pub fn auditor_keys(kind: &str) -> Option<&'static [Key]> {
    AUDITOR_TYPES
        .iter()
        .find(|(n, _)| *n == kind)
        .map(|(_, k)| *k)
}
