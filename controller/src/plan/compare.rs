//! Which fields of a container differ from what the file asks for now:
//! the create request `tasks::container_spec` would send, compared with
//! the container's inspect document, field by field, each difference named
//! as in the file (`image`, `env.JVM_OPTS`, `ports.broker`,
//! `limits.memory`, `volumes./data`, ...). Pure: both sides are JSON.
//!
//! Docker merges the image's configuration into the container's (its
//! `ENV`, `CMD`, `WORKDIR`, `USER`, `VOLUME`, labels), so a value the
//! container has and the file does not set may be the image's own. Those
//! are decided with the image's configuration; without it the comparison
//! says it needs it ([`Comparison::needs_image`]), so the caller inspects
//! the image only then.
//!
//! Values are never part of the result: environment variables are secrets,
//! only their names are told.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::config::model::Instance;

/// The outcome of one comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// The fields that differ, named as in the file, sorted.
    pub changed: BTreeSet<String>,
    /// Some field can only be decided with the image's configuration
    /// (compare again with it).
    pub needs_image: bool,
}

/// Compares the create request `spec` (the JSON of
/// `container_spec(...)`) with a container's inspect document. `image` is
/// the `Config` of the image the container runs, when known.
pub fn compare(i: &Instance, spec: &Value, inspect: &Value, image: Option<&Value>) -> Comparison {
    let mut d = Diff {
        image,
        out: Comparison::default(),
    };
    let (c, h, sh) = (
        &inspect["Config"],
        &inspect["HostConfig"],
        &spec["HostConfig"],
    );

    if image_ref(&spec["Image"]) != image_ref(&c["Image"]) {
        d.change("image");
    }
    d.or_image("command", &spec["Cmd"], &c["Cmd"], "Cmd");
    d.or_image(
        "workdir",
        &spec["WorkingDir"],
        &c["WorkingDir"],
        "WorkingDir",
    );
    d.or_image("username", &spec["User"], &c["User"], "User");
    if !unset(&spec["Hostname"]) && spec["Hostname"] != c["Hostname"] {
        d.change("hostname");
    }
    if spec["StopTimeout"] != c["StopTimeout"] {
        d.change("stop_timeout");
    }
    d.env(&spec["Env"], &c["Env"]);
    d.labels(&spec["Labels"], &c["Labels"]);
    d.container_volumes(&spec["Volumes"], &c["Volumes"]);
    d.binds(&sh["Binds"], &h["Binds"]);
    d.ports(i, &h["PortBindings"]);

    let links = |v: &Value| -> BTreeSet<String> { strings(v).iter().map(|l| link(l)).collect() };
    if links(&sh["Links"]) != links(&h["Links"]) {
        d.change("links");
    }
    let caps = |v: &Value| -> BTreeSet<String> {
        strings(v)
            .iter()
            .map(|c| {
                let c = c.to_ascii_uppercase();
                c.strip_prefix("CAP_").map_or(c.clone(), str::to_string)
            })
            .collect()
    };
    for (name, key) in [("cap_add", "CapAdd"), ("cap_drop", "CapDrop")] {
        if caps(&sh[key]) != caps(&h[key]) {
            d.change(name);
        }
    }
    for (name, key) in [
        ("volumes_from", "VolumesFrom"),
        ("extra_hosts", "ExtraHosts"),
        ("dns", "Dns"),
        ("security_opt", "SecurityOpt"),
    ] {
        if set(&sh[key]) != set(&h[key]) {
            d.change(name);
        }
    }
    if truthy(&sh["Privileged"]) != truthy(&h["Privileged"]) {
        d.change("privileged");
    }
    let net = |v: &Value| match v.as_str() {
        None | Some("" | "default" | "bridge") => String::new(),
        Some(n) => n.to_string(),
    };
    if net(&sh["NetworkMode"]) != net(&h["NetworkMode"]) {
        d.change("net");
    }
    let restart = |v: &Value| {
        let name = match v["Name"].as_str() {
            None | Some("") => "no",
            Some(n) => n,
        };
        (
            name.to_string(),
            v["MaximumRetryCount"].as_i64().unwrap_or(0),
        )
    };
    if restart(&sh["RestartPolicy"]) != restart(&h["RestartPolicy"]) {
        d.change("restart");
    }
    d.limits(sh, h);
    d.ulimits(&sh["Ulimits"], &h["Ulimits"]);
    d.added_options(i, spec, inspect);
    // Without `log_driver` the daemon's default applies, which the file
    // does not know: only a configured driver is compared.
    if !unset(&sh["LogConfig"]) {
        let log = |v: &Value| (v["Type"].clone(), map(&v["Config"]));
        if log(&sh["LogConfig"]) != log(&h["LogConfig"]) {
            d.change("log");
        }
    }
    d.out
}

/// The options maestro added to MaestroNG's schema, by the file's key
/// and the field it sets: compared only when the file sets them (the
/// daemon's defaults are not the file's business).
const ADDED_CONFIG: [(&str, &str); 6] = [
    ("entrypoint", "Entrypoint"),
    ("domainname", "Domainname"),
    ("stop_signal", "StopSignal"),
    ("tty", "Tty"),
    ("stdin_open", "OpenStdin"),
    ("healthcheck", "Healthcheck"),
];
const ADDED_HOST: [(&str, &str); 21] = [
    ("read_only", "ReadonlyRootfs"),
    ("tmpfs", "Tmpfs"),
    ("shm_size", "ShmSize"),
    ("sysctls", "Sysctls"),
    ("devices", "Devices"),
    ("init", "Init"),
    ("pid", "PidMode"),
    ("ipc", "IpcMode"),
    ("group_add", "GroupAdd"),
    ("dns_search", "DnsSearch"),
    ("dns_opt", "DnsOptions"),
    ("cpuset", "CpusetCpus"),
    ("cpus", "NanoCpus"),
    ("cpu_quota", "CpuQuota"),
    ("cpu_period", "CpuPeriod"),
    ("mem_reservation", "MemoryReservation"),
    ("memory_swappiness", "MemorySwappiness"),
    ("oom_score_adj", "OomScoreAdj"),
    ("pids_limit", "PidsLimit"),
    ("runtime", "Runtime"),
    ("userns_mode", "UsernsMode"),
];

/// The `PATH` the Docker daemon gives a container whose image sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct Diff<'a> {
    image: Option<&'a Value>,
    out: Comparison,
}

impl Diff<'_> {
    fn change(&mut self, name: impl Into<String>) {
        self.out.changed.insert(name.into());
    }

    /// The added options the file sets, and its networks: `networks` when
    /// the container is on others, `networks.<name>` when an alias or the
    /// fixed address differs.
    fn added_options(&mut self, i: &Instance, spec: &Value, inspect: &Value) {
        let (c, h, sh) = (
            &inspect["Config"],
            &inspect["HostConfig"],
            &spec["HostConfig"],
        );
        for (name, key) in ADDED_CONFIG {
            if !unset(&spec[key]) && spec[key] != c[key] {
                self.change(name);
            }
        }
        for (name, key) in ADDED_HOST {
            if !unset(&sh[key]) && sh[key] != h[key] {
                self.change(name);
            }
        }
        if i.options.networks.is_empty() {
            return;
        }
        let on = &inspect["NetworkSettings"]["Networks"];
        let have = keys(on);
        let want: BTreeSet<String> = i.options.networks.iter().map(|n| n.name.clone()).collect();
        if have != want {
            self.change("networks");
            return;
        }
        for n in &i.options.networks {
            let aliases = set(&on[&n.name]["Aliases"]);
            let ip = on[&n.name]["IPAMConfig"]["IPv4Address"].as_str();
            if !n.aliases.iter().all(|a| aliases.contains(a)) || ip != n.ipv4_address.as_deref() {
                self.change(format!("networks.{}", n.name));
            }
        }
    }

    /// A value the container has that the file does not give: the image's
    /// own, or a change. `None`: the image is needed to tell.
    fn image_value(&mut self, key: &str) -> Option<&Value> {
        match self.image {
            Some(img) => Some(&img[key]),
            None => {
                self.out.needs_image = true;
                None
            }
        }
    }

    /// A single value the image provides when the file does not set it.
    fn or_image(&mut self, name: &str, want: &Value, have: &Value, key: &str) {
        if !unset(want) {
            if want != have {
                self.change(name);
            }
        } else if !unset(have)
            && let Some(img) = self.image_value(key)
            && img != have
        {
            self.change(name);
        }
    }

    /// `env.NAME` for each variable whose value differs, is missing, or is
    /// in the container but neither in the file nor the image's own.
    fn env(&mut self, want: &Value, have: &Value) {
        let (want, have) = (env_map(want), env_map(have));
        for (k, v) in &want {
            if have.get(k) != Some(v) {
                self.change(format!("env.{k}"));
            }
        }
        // Docker's default PATH, which an image without one may show.
        let default_path = |k: &str, v: &str| k == "PATH" && v == DEFAULT_PATH;
        let extra: Vec<(&String, &String)> = have
            .iter()
            .filter(|(k, v)| !want.contains_key(*k) && !default_path(k, v))
            .collect();
        if extra.is_empty() {
            return;
        }
        if let Some(img) = self.image_value("Env") {
            let img = env_map(img);
            let changed: Vec<String> = extra
                .iter()
                .filter(|(k, v)| img.get(*k) != Some(*v))
                .map(|(k, _)| format!("env.{k}"))
                .collect();
            self.out.changed.extend(changed);
        }
    }

    /// `labels.NAME`; maestro's own labels are not the file's (the
    /// configuration hash differs by definition).
    fn labels(&mut self, want: &Value, have: &Value) {
        let ours = |k: &str| k.starts_with("maestro.");
        let (want, have) = (map(want), map(have));
        for (k, v) in want.iter().filter(|(k, _)| !ours(k)) {
            if have.get(k) != Some(v) {
                self.change(format!("labels.{k}"));
            }
        }
        let extra: Vec<(&String, &Value)> = have
            .iter()
            .filter(|(k, _)| !ours(k) && !want.contains_key(*k))
            .collect();
        if extra.is_empty() {
            return;
        }
        if let Some(img) = self.image_value("Labels") {
            let img = map(img);
            let changed: Vec<String> = extra
                .iter()
                .filter(|(k, v)| img.get(*k) != Some(*v))
                .map(|(k, _)| format!("labels.{k}"))
                .collect();
            self.out.changed.extend(changed);
        }
    }

    /// Anonymous volumes (and bind targets): a path the file adds, or one
    /// the container has that is not the image's `VOLUME`.
    fn container_volumes(&mut self, want: &Value, have: &Value) {
        let (want, have) = (keys(want), keys(have));
        if !want.is_subset(&have) {
            self.change("container_volumes");
            return;
        }
        if have.len() > want.len()
            && let Some(img) = self.image_value("Volumes")
        {
            let img = keys(img);
            if have.iter().any(|p| !want.contains(p) && !img.contains(p)) {
                self.change("container_volumes");
            }
        }
    }

    /// `volumes.<target>` for each bind mount that differs.
    fn binds(&mut self, want: &Value, have: &Value) {
        let (want, have) = (set(want), set(have));
        for b in want.symmetric_difference(&have) {
            let target = b.split(':').nth(1).unwrap_or(b);
            self.change(format!("volumes.{target}"));
        }
    }

    /// `ports.<name>` for each named port whose bindings differ;
    /// `ports.<port>/<proto>` for a published port no name claims.
    fn ports(&mut self, i: &Instance, have: &Value) {
        let mut want: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        let mut owners: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for (name, p) in &i.ports {
            let proto = p.protocol.as_str();
            let mut add = |key: String, host_port: String| {
                owners.entry(key.clone()).or_default().insert(name);
                want.entry(key)
                    .or_default()
                    .insert((p.host_ip.clone(), host_port));
            };
            // As `container_spec` publishes them: a range port by port.
            if p.exposed.is_range() {
                for (n, cport) in (p.exposed.start..=p.exposed.end).enumerate() {
                    let hport = u32::from(p.external.start) + n as u32;
                    add(format!("{cport}/{proto}"), hport.to_string());
                }
            } else {
                add(p.exposed_key(), p.external.to_string());
            }
        }
        let mut got: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        if let Some(m) = have.as_object() {
            for (key, list) in m {
                let entry = got.entry(key.clone()).or_default();
                for b in list.as_array().into_iter().flatten() {
                    let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
                    entry.insert((s("HostIp"), s("HostPort")));
                }
            }
        }
        let all: BTreeSet<&String> = want.keys().chain(got.keys()).collect();
        for key in all {
            if want.get(key) == got.get(key) {
                continue;
            }
            match owners.get(key) {
                Some(names) => {
                    let names: Vec<String> = names.iter().map(|n| format!("ports.{n}")).collect();
                    self.out.changed.extend(names);
                }
                None => self.change(format!("ports.{key}")),
            }
        }
    }

    fn limits(&mut self, want: &Value, have: &Value) {
        let n = |v: &Value| v.as_i64().unwrap_or(0);
        if n(&want["Memory"]) != n(&have["Memory"]) {
            self.change("limits.memory");
        }
        if n(&want["CpuShares"]) != n(&have["CpuShares"]) {
            self.change("limits.cpu");
        }
        // Without `swap` the daemon fills in twice the memory limit.
        let swap = n(&have["MemorySwap"]);
        let same_swap = if unset(&want["MemorySwap"]) {
            swap == 0 || swap == 2 * n(&have["Memory"])
        } else {
            n(&want["MemorySwap"]) == swap
        };
        if !same_swap {
            self.change("limits.swap");
        }
    }

    fn ulimits(&mut self, want: &Value, have: &Value) {
        let by_name = |v: &Value| -> BTreeMap<String, (i64, i64)> {
            v.as_array()
                .into_iter()
                .flatten()
                .map(|u| {
                    (
                        u["Name"].as_str().unwrap_or_default().to_string(),
                        (
                            u["Soft"].as_i64().unwrap_or(0),
                            u["Hard"].as_i64().unwrap_or(0),
                        ),
                    )
                })
                .collect()
        };
        let (want, have) = (by_name(want), by_name(have));
        let names: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
        for name in names {
            if want.get(name) != have.get(name) {
                self.change(format!("ulimits.{name}"));
            }
        }
    }
}

/// Null, empty text, zero, false, an empty list or map: not set.
fn unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn truthy(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn set(v: &Value) -> BTreeSet<String> {
    strings(v).into_iter().collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn map(v: &Value) -> BTreeMap<String, Value> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// `K=V` lines as a map; a later line wins, as in the container.
fn env_map(v: &Value) -> BTreeMap<String, String> {
    strings(v)
        .into_iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l, String::new()),
        })
        .collect()
}

/// `repo:tag` with Docker's implied `latest`.
fn image_ref(v: &Value) -> (String, String) {
    let (repo, tag) = maestro_common::image_details(v.as_str().unwrap_or_default());
    (repo.to_string(), tag.to_string())
}

/// A link as the file gives it (`db-1:database`), from the form inspect
/// shows (`/db-1:/web-1/database`).
fn link(l: &str) -> String {
    match l.split_once(':') {
        Some((c, alias)) => {
            let c = c.trim_start_matches('/');
            let alias = alias.rsplit('/').next().unwrap_or(alias);
            format!("{c}:{alias}")
        }
        None => l.trim_start_matches('/').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "name: prod
__maestro: {schema: 2}
ships: {s1: {ip: 10.213.0.1}}
services:
  kafka:
    image: reg:5000/kafka:2
    env: {JVM_OPTS: -Xmx1g, SECRET: hunter2}
    instances:
      kafka-1:
        ship: s1
        ports: {broker: '9092:19092', jmx: '7199:17199'}
        volumes: {/data/kafka: /var/lib/kafka}
        limits: {memory: 64m}
        labels: {team: data}
";

    /// The instance and its spec as JSON.
    fn spec(file: &str) -> (Instance, Value) {
        let env = crate::config::load_str(file, std::path::Path::new(".")).unwrap();
        let i = env.instances["kafka-1"].clone();
        let body =
            crate::tasks::container_spec::container_spec(&env.name, &i, &env.container_env(&i));
        (i, serde_json::to_value(body).unwrap())
    }

    /// What a daemon shows for a container created from `spec`: the create
    /// body moved under `Config`, links in inspect's form, swap filled in,
    /// the image's own variable, label and volume merged in.
    fn inspected(spec: &Value) -> Value {
        let mut config = spec.clone();
        let host = config
            .as_object_mut()
            .unwrap()
            .remove("HostConfig")
            .unwrap();
        let mut host = host;
        host["MemorySwap"] = json!(host["Memory"].as_i64().unwrap() * 2);
        host["NetworkMode"] = json!("bridge");
        config["Env"]
            .as_array_mut()
            .unwrap()
            .push(json!("PATH=/bin"));
        config["Labels"]["vendor"] = json!("acme");
        config["Volumes"]["/image-volume"] = json!({});
        json!({"Config": config, "HostConfig": host})
    }

    fn image() -> Value {
        json!({"Env": ["PATH=/bin"], "Labels": {"vendor": "acme"}, "Volumes": {"/image-volume": {}}, "Cmd": ["sh"]})
    }

    fn changed(c: &Comparison) -> Vec<&str> {
        c.changed.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_container_created_from_the_spec_is_unchanged() {
        let (i, s) = spec(FILE);
        let got = compare(&i, &s, &inspected(&s), None);
        // The image's variable, label and volume need the image to tell.
        assert!(got.needs_image);
        assert!(got.changed.is_empty(), "{got:?}");
        let got = compare(&i, &s, &inspected(&s), Some(&image()));
        assert_eq!(got, Comparison::default());
    }

    #[test]
    fn each_changed_field_is_named_and_values_are_never_shown() {
        let (i, old) = spec(FILE);
        let container = inspected(&old);
        let now = FILE
            .replace("JVM_OPTS: -Xmx1g", "JVM_OPTS: -Xmx2g")
            .replace("SECRET: hunter2", "SECRET: swordfish")
            .replace("'9092:19092'", "'9092:19093'")
            .replace("memory: 64m", "memory: 128m")
            .replace("reg:5000/kafka:2", "reg:5000/kafka:3")
            .replace("/data/kafka:", "/srv/kafka:")
            .replace("team: data", "team: ops");
        let (i2, s) = spec(&now);
        let got = compare(&i2, &s, &container, Some(&image()));
        assert_eq!(
            changed(&got),
            [
                // The variables maestro derives from the image and ports
                // change with them.
                "env.DOCKER_IMAGE",
                "env.DOCKER_TAG",
                "env.JVM_OPTS",
                "env.KAFKA_KAFKA_1_BROKER_PORT",
                "env.SECRET",
                "image",
                "labels.team",
                "limits.memory",
                "ports.broker",
                "volumes./var/lib/kafka",
            ]
        );
        let text = format!("{got:?}");
        assert!(!text.contains("hunter2") && !text.contains("swordfish"));
        // Unchanged against itself with the original instance.
        assert!(
            compare(&i, &old, &container, Some(&image()))
                .changed
                .is_empty()
        );
    }

    #[test]
    fn a_variable_removed_from_the_file_is_told_apart_from_the_images_own() {
        let (_, old) = spec(FILE);
        let container = inspected(&old);
        let (i, s) = spec(&FILE.replace(", SECRET: hunter2", ""));
        let got = compare(&i, &s, &container, None);
        assert!(got.needs_image);
        assert!(got.changed.is_empty());
        let got = compare(&i, &s, &container, Some(&image()));
        // PATH is the image's; SECRET was the file's.
        assert_eq!(changed(&got), ["env.SECRET"]);
        // An image whose PATH differs: the container's PATH is not its own.
        let other = json!({"Env": ["PATH=/usr/bin"], "Labels": {"vendor": "acme"}, "Volumes": {"/image-volume": {}}});
        let got = compare(&i, &s, &container, Some(&other));
        assert_eq!(changed(&got), ["env.PATH", "env.SECRET"]);
        // Docker's default PATH is never the file's.
        let mut c = container.clone();
        c["Config"]["Env"] = old["Env"].clone();
        c["Config"]["Env"]
            .as_array_mut()
            .unwrap()
            .push(json!(format!("PATH={DEFAULT_PATH}")));
        let (i, s) = spec(FILE);
        let no_path = json!({"Labels": {"vendor": "acme"}, "Volumes": {"/image-volume": {}}});
        assert_eq!(compare(&i, &s, &c, Some(&no_path)), Comparison::default());
    }

    #[test]
    fn ports_added_removed_and_unnamed() {
        let (_, old) = spec(FILE);
        let container = inspected(&old);
        let (i, s) = spec(&FILE.replace(", jmx: '7199:17199'", ", admin: '8080:18080'"));
        let got = compare(&i, &s, &container, Some(&image()));
        // `admin` is new; 7199/tcp is published but no name claims it now;
        // the port variables follow.
        assert_eq!(
            changed(&got),
            [
                "env.KAFKA_KAFKA_1_ADMIN_INTERNAL_PORT",
                "env.KAFKA_KAFKA_1_ADMIN_PORT",
                "env.KAFKA_KAFKA_1_JMX_INTERNAL_PORT",
                "env.KAFKA_KAFKA_1_JMX_PORT",
                "ports.7199/tcp",
                "ports.admin"
            ]
        );
    }

    #[test]
    fn limits_command_links_and_restart() {
        let (_, old) = spec(FILE);
        let mut container = inspected(&old);
        let (i, s) = spec(
            &FILE
                .replace(
                    "limits: {memory: 64m}",
                    "limits: {memory: 64m, swap: 1g, cpu: 100}",
                )
                .replace(
                    "labels: {team: data}",
                    "labels: {team: data}\n        command: run --fast\n        restart: always",
                ),
        );
        container["HostConfig"]["Links"] = json!(["/zk-1:/kafka-1/zk"]);
        let got = compare(&i, &s, &container, Some(&image()));
        assert_eq!(
            changed(&got),
            ["command", "limits.cpu", "limits.swap", "links", "restart"]
        );
        // No command in the file: the image's CMD is not a change, another one is.
        let (i, s) = spec(FILE);
        let mut c = inspected(&old);
        c["Config"]["Cmd"] = json!(["sh"]);
        assert!(compare(&i, &s, &c, Some(&image())).changed.is_empty());
        c["Config"]["Cmd"] = json!(["sleep", "1"]);
        assert_eq!(changed(&compare(&i, &s, &c, Some(&image()))), ["command"]);
    }

    #[test]
    fn inspect_forms_of_links_and_images() {
        assert_eq!(link("/db-1:/web-1/database"), "db-1:database");
        assert_eq!(link("db-1:database"), "db-1:database");
        assert_eq!(image_ref(&json!("box")), image_ref(&json!("box:latest")));
        assert_ne!(image_ref(&json!("box:1")), image_ref(&json!("box:2")));
    }

    #[test]
    fn added_options_and_networks_are_named_when_they_differ() {
        let file = format!(
            "{FILE}        tty: true\n        shm_size: 64m\n        networks: {{front: {{aliases: [k]}}, back: null}}\nnetworks: {{front: {{}}, back: {{}}}}\n"
        );
        let (i, spec) = spec(&file);
        let mut have = inspected(&spec);
        have["HostConfig"]["NetworkMode"] = json!("front");
        have["NetworkSettings"] = json!({"Networks": {
            "front": {"Aliases": ["k", "abc123"]}, "back": {"Aliases": null}}});
        assert_eq!(
            changed(&compare(&i, &spec, &have, Some(&image()))),
            Vec::<&str>::new()
        );
        let mut other = have.clone();
        other["Config"]["Tty"] = json!(false);
        other["HostConfig"]["ShmSize"] = json!(67108864 / 2);
        other["NetworkSettings"]["Networks"]["front"]["Aliases"] = json!(["abc123"]);
        assert_eq!(
            changed(&compare(&i, &spec, &other, Some(&image()))),
            ["networks.front", "shm_size", "tty"]
        );
        other["NetworkSettings"]["Networks"] = json!({"front": {}});
        assert!(changed(&compare(&i, &spec, &other, Some(&image()))).contains(&"networks"));
        // Unset in the file: the daemon's value is not compared.
        let (i, spec) = super::tests::spec(FILE);
        let mut have = inspected(&spec);
        have["HostConfig"]["ShmSize"] = json!(67108864);
        have["Config"]["Tty"] = json!(false);
        assert_eq!(
            changed(&compare(&i, &spec, &have, Some(&image()))),
            Vec::<&str>::new()
        );
    }
}
