//! The create request of an instance's container: every option of the
//! schema, as MaestroNG sent them, plus maestro's labels. Pure: no I/O, so
//! the JSON can be compared in unit tests.

use std::collections::{BTreeMap, HashMap};

use crate::config::model::Instance;

use crate::config::model::NetworkAttach;
use crate::docker::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkingConfig, PortBinding,
    RestartPolicy, RestartPolicyNameEnum,
};
use bollard_stubs::models::{
    DeviceMapping, EndpointIpamConfig, HostConfigLogConfig, ResourcesUlimits,
};

/// Adds a host binding to a container port (`8080/tcp`); a port may have
/// several (one per host address).
fn bind(
    bindings: &mut HashMap<String, Option<Vec<PortBinding>>>,
    key: String,
    host_ip: Option<String>,
    host_port: String,
) {
    bindings
        .entry(key)
        .or_insert_with(|| Some(Vec::new()))
        .get_or_insert_with(Vec::new)
        .push(PortBinding {
            host_ip,
            host_port: Some(host_port),
        });
}

/// The body of `POST /containers/create?name=<instance name>`.
/// `container_env` is `Environment::container_env(instance)`.
pub fn container_spec(
    environment: &str,
    i: &Instance,
    container_env: &BTreeMap<String, String>,
) -> ContainerCreateBody {
    let (exposed, bindings) = ports(i);
    let (binds, volumes) = volumes(i);
    let o = &i.options;
    ContainerCreateBody {
        hostname: i.hostname().map(str::to_string),
        image: Some(i.image.clone()),
        cmd: i.command.clone(),
        env: Some(
            container_env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        ),
        exposed_ports: none_if_empty(&exposed),
        volumes: none_if_empty(&volumes),
        working_dir: i.workdir.clone(),
        user: i.username.clone(),
        labels: Some(labels(environment, i)),
        stop_timeout: Some(i64::try_from(i.stop_timeout).unwrap_or(i64::MAX)),
        host_config: Some(host_config(i, binds, bindings)),
        entrypoint: o.entrypoint.as_ref().map(|e| {
            // `[""]` is how the API clears the image's entrypoint.
            if e.is_empty() {
                vec![String::new()]
            } else {
                e.clone()
            }
        }),
        domainname: o.domainname.clone(),
        stop_signal: o.stop_signal.clone(),
        tty: o.tty,
        open_stdin: o.stdin_open,
        healthcheck: o.healthcheck.as_ref().map(|h| HealthConfig {
            test: h.test.clone(),
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
            ..Default::default()
        }),
        networking_config: o.networks.first().map(|n| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(n.name.clone(), endpoint(n))])),
        }),
        ..Default::default()
    }
}

/// The JSON body of the create request: `container_spec` plus what the
/// models no longer carry. `MacAddress` is a `Config` field up to API 1.43
/// (the daemons maestro supports from 1.41 on read it there); later
/// daemons read the endpoint's, which `endpoint` also sets.
pub fn create_request(
    environment: &str,
    i: &Instance,
    container_env: &BTreeMap<String, String>,
) -> serde_json::Value {
    let mut body = container_spec(environment, i, container_env);
    if let Some(mac) = &i.options.mac_address {
        // Without `networks`, the endpoint of the default bridge (or of `net`).
        let network = i.options.networks.first().map_or_else(
            || i.net.clone().unwrap_or_else(|| "bridge".into()),
            |n| n.name.clone(),
        );
        let endpoints = body
            .networking_config
            .get_or_insert_with(NetworkingConfig::default)
            .endpoints_config
            .get_or_insert_with(HashMap::new);
        endpoints.entry(network).or_default().mac_address = Some(mac.clone());
    }
    let mut v = serde_json::to_value(body).unwrap_or_default();
    if let (Some(mac), Some(obj)) = (&i.options.mac_address, v.as_object_mut()) {
        obj.insert("MacAddress".into(), mac.clone().into());
    }
    v
}

/// A network's endpoint: aliases and a fixed address. Only the first
/// network goes in the create request; the others are connected with the
/// same settings before start.
pub fn endpoint(n: &NetworkAttach) -> EndpointSettings {
    EndpointSettings {
        aliases: (!n.aliases.is_empty()).then(|| n.aliases.clone()),
        ipam_config: n.ipv4_address.as_ref().map(|ip| EndpointIpamConfig {
            ipv4_address: Some(ip.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An empty list is left out of the request rather than sent as `[]`, as
/// MaestroNG did.
fn none_if_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// The container ports to expose (sorted, once each) and their host
/// bindings.
fn ports(i: &Instance) -> (Vec<String>, HashMap<String, Option<Vec<PortBinding>>>) {
    let mut exposed: Vec<String> = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in i.ports.values() {
        let proto = port.protocol.as_str();
        // Always explicit: an empty HostIp makes Docker 20.10 and later
        // publish on IPv6 (`::`) as well, wider than the file states
        // (MaestroNG documents `0.0.0.0` for a port without an address).
        let host_ip = Some(port.host_ip.clone());
        if port.exposed.is_range() {
            // The API wants one key per port: a range maps port by port
            // onto a host range of the same size (validated).
            for (n, cport) in (port.exposed.start..=port.exposed.end).enumerate() {
                let key = format!("{cport}/{proto}");
                let hport = u32::from(port.external.start) + n as u32;
                exposed.push(key.clone());
                bind(&mut bindings, key, host_ip.clone(), hport.to_string());
            }
        } else {
            let key = port.exposed_key();
            exposed.push(key.clone());
            // A single container port onto a host range: Docker picks a
            // free port of the range.
            bind(&mut bindings, key, host_ip, port.external.to_string());
        }
    }
    exposed.sort();
    exposed.dedup();
    (exposed, bindings)
}

/// The bind mounts (`host:target[:mode]`) and the container's volume
/// paths.
fn volumes(i: &Instance) -> (Vec<String>, Vec<String>) {
    let binds: Vec<String> = i
        .volumes
        .iter()
        .map(|b| match &b.mode {
            Some(mode) => format!("{}:{}:{mode}", b.host, b.target),
            None => format!("{}:{}", b.host, b.target),
        })
        .collect();
    // MaestroNG sent the union of anonymous volumes and bind targets.
    let mut volumes: Vec<String> = i.container_volumes.clone();
    volumes.extend(i.volumes.iter().map(|b| b.target.clone()));
    volumes.sort();
    volumes.dedup();
    (binds, volumes)
}

/// The file's labels plus maestro's own, which later commands find the
/// container by.
fn labels(environment: &str, i: &Instance) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = i.labels.clone().into_iter().collect();
    labels.insert(crate::labels::ENVIRONMENT.into(), environment.into());
    labels.insert(crate::labels::SERVICE.into(), i.service.clone());
    labels.insert(crate::labels::INSTANCE.into(), i.name.clone());
    labels.insert(crate::labels::CONFIG_HASH.into(), i.config_hash.clone());
    labels
}

fn restart_policy(i: &Instance) -> RestartPolicy {
    let name = match i.restart.name.as_str() {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        _ => RestartPolicyNameEnum::NO,
    };
    RestartPolicy {
        name: Some(name),
        maximum_retry_count: Some(i64::try_from(i.restart.maximum_retry_count).unwrap_or(i64::MAX)),
    }
}

/// Memory, swap, CPU shares and ulimits (the rest of the host config left
/// at its default): the schema's limits, saturated to the API's signed
/// integers.
fn resources(i: &Instance) -> HostConfig {
    HostConfig {
        memory: i
            .limits
            .memory
            .map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
        memory_swap: i.limits.swap,
        cpu_shares: i.limits.cpu.map(|c| i64::try_from(c).unwrap_or(i64::MAX)),
        nano_cpus: i.options.nano_cpus,
        cpu_quota: i.options.cpu_quota,
        cpu_period: i.options.cpu_period,
        cpuset_cpus: i.options.cpuset.clone(),
        memory_reservation: i.options.mem_reservation,
        memory_swappiness: i.options.memory_swappiness,
        pids_limit: i.options.pids_limit,
        init: i.options.init,
        devices: (!i.options.devices.is_empty()).then(|| {
            i.options
                .devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.host.clone()),
                    path_in_container: Some(d.container.clone()),
                    cgroup_permissions: Some(d.permissions.clone()),
                })
                .collect()
        }),
        ulimits: (!i.ulimits.is_empty()).then(|| {
            i.ulimits
                .iter()
                .map(|(name, u)| ResourcesUlimits {
                    name: Some(name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        ..Default::default()
    }
}

/// The host side of the request: mounts, published ports, links, privileges,
/// networking, restart policy, resource limits and logging.
fn host_config(
    i: &Instance,
    binds: Vec<String>,
    bindings: HashMap<String, Option<Vec<PortBinding>>>,
) -> HostConfig {
    HostConfig {
        binds: none_if_empty(&binds),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        links: (!i.links.is_empty()).then(|| {
            i.links
                .iter()
                .map(|(c, alias)| format!("{c}:{alias}"))
                .collect()
        }),
        volumes_from: none_if_empty(&i.volumes_from),
        privileged: i.privileged.then_some(true),
        cap_add: none_if_empty(&i.cap_add),
        cap_drop: none_if_empty(&i.cap_drop),
        extra_hosts: none_if_empty(&i.extra_hosts),
        network_mode: i
            .options
            .networks
            .first()
            .map(|n| n.name.clone())
            .or_else(|| i.net.clone()),
        dns: none_if_empty(&i.dns),
        restart_policy: Some(restart_policy(i)),
        log_config: i.log.as_ref().map(|l| HostConfigLogConfig {
            typ: Some(l.driver.clone()),
            config: (!l.options.is_empty()).then(|| l.options.clone().into_iter().collect()),
        }),
        security_opt: none_if_empty(&i.security_opt),
        readonly_rootfs: i.options.read_only,
        tmpfs: (!i.options.tmpfs.is_empty()).then(|| i.options.tmpfs.clone().into_iter().collect()),
        shm_size: i.options.shm_size,
        sysctls: (!i.options.sysctls.is_empty())
            .then(|| i.options.sysctls.clone().into_iter().collect()),
        pid_mode: i.options.pid.clone(),
        ipc_mode: i.options.ipc.clone(),
        group_add: none_if_empty(&i.options.group_add),
        dns_search: none_if_empty(&i.options.dns_search),
        dns_options: none_if_empty(&i.options.dns_opt),
        oom_score_adj: i.options.oom_score_adj,
        runtime: i.options.runtime.clone(),
        userns_mode: i.options.userns_mode.clone(),
        ..resources(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn spec(yaml: &str, name: &str) -> Value {
        let env = crate::config::load_str(yaml, std::path::Path::new(".")).unwrap();
        let i = &env.instances[name];
        let body = container_spec(&env.name, i, &env.container_env(i));
        let mut v = serde_json::to_value(body).unwrap();
        // Sort lists whose order comes from hash maps, for stable comparisons.
        v["Labels"]["maestro.config-hash"] = json!("<hash>");
        v
    }

    #[test]
    fn every_schema_option_reaches_the_request() {
        let yaml = "name: prod
__maestro: {schema: 2}
ships:
  s1: {ip: 10.213.0.1}
services:
  db:
    image: reg:5000/db:9
    instances:
      db-1:
        ship: s1
        container_volumes: [/data]
  web:
    image: nginx
    requires: [db]
    limits: {cpu: 512}
    instances:
      web-1:
        ship: s1
        command: httpd -f -p 80
        ports:
          http: '80:8080'
          dns: {exposed: 53/udp, external: [127.0.0.1, 5353/udp]}
          range: {exposed: 7000-7001, external: 9000-9001}
        env: {GREETING: hi}
        volumes:
          /srv/www: /www
          /etc/conf: {target: /conf, mode: 'ro,Z'}
        container_volumes: [/cache]
        volumes_from: [db-1]
        links: {db-1: database}
        privileged: true
        cap_add: [NET_ADMIN]
        cap_drop: [MKNOD]
        extra_hosts: {gw: 10.213.0.254, s1host: {ship: s1}}
        dns: [10.213.0.53]
        restart: on-failure:3
        stop_timeout: 7
        limits: {memory: 64m, swap: 128m}
        ulimits: {nproc: 1024, nofile: {soft: 1024, hard: 2048}}
        log_driver: json-file
        log_opt: {max-file: 2}
        security_opt: ['no-new-privileges']
        workdir: /www
        username: nobody
        labels: {team: edge}
";
        let v = spec(yaml, "web-1");
        assert_eq!(v["Hostname"], "web-1");
        assert_eq!(v["Image"], "nginx");
        assert_eq!(v["Cmd"], json!(["httpd", "-f", "-p", "80"]));
        assert_eq!(v["User"], "nobody");
        assert_eq!(v["WorkingDir"], "/www");
        assert_eq!(v["StopTimeout"], 7);
        assert_eq!(
            v["ExposedPorts"],
            json!({"53/udp": {}, "7000/tcp": {}, "7001/tcp": {}, "80/tcp": {}})
        );
        assert_eq!(v["Volumes"], json!({"/cache": {}, "/conf": {}, "/www": {}}));
        let env: Vec<String> = serde_json::from_value(v["Env"].clone()).unwrap();
        assert!(env.contains(&"GREETING=hi".to_string()));
        assert!(env.contains(&"CONTAINER_NAME=web-1".to_string()));
        assert!(env.contains(&"MAESTRO_ENVIRONMENT_NAME=prod".to_string()));
        assert!(env.contains(&"DB_DB_1_HOST=10.213.0.1".to_string()));
        assert_eq!(
            v["Labels"],
            json!({"team": "edge", "maestro.environment": "prod", "maestro.service": "web",
                   "maestro.instance": "web-1", "maestro.config-hash": "<hash>"})
        );
        let h = &v["HostConfig"];
        assert_eq!(
            h["PortBindings"],
            json!({
                "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
                "7000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "9000"}],
                "7001/tcp": [{"HostIp": "0.0.0.0", "HostPort": "9001"}],
            })
        );
        let mut binds: Vec<String> = serde_json::from_value(h["Binds"].clone()).unwrap();
        binds.sort();
        assert_eq!(binds, ["/etc/conf:/conf:ro,Z", "/srv/www:/www"]);
        assert_eq!(h["VolumesFrom"], json!(["db-1"]));
        assert_eq!(h["Links"], json!(["db-1:database"]));
        assert_eq!(h["Privileged"], true);
        assert_eq!(h["CapAdd"], json!(["NET_ADMIN"]));
        assert_eq!(h["CapDrop"], json!(["MKNOD"]));
        let mut hosts: Vec<String> = serde_json::from_value(h["ExtraHosts"].clone()).unwrap();
        hosts.sort();
        assert_eq!(hosts, ["gw:10.213.0.254", "s1host:10.213.0.1"]);
        assert_eq!(h["Dns"], json!(["10.213.0.53"]));
        assert_eq!(
            h["RestartPolicy"],
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert_eq!(h["Memory"], 64 << 20);
        assert_eq!(h["MemorySwap"], 128 << 20);
        assert_eq!(h["CpuShares"], 512);
        assert_eq!(
            h["Ulimits"],
            json!([{"Name": "nofile", "Soft": 1024, "Hard": 2048}, {"Name": "nproc", "Soft": 1024, "Hard": 1024}])
        );
        assert_eq!(
            h["LogConfig"],
            json!({"Type": "json-file", "Config": {"max-file": "2"}})
        );
        assert_eq!(h["SecurityOpt"], json!(["no-new-privileges"]));
        assert!(h.get("NetworkMode").is_none());
    }

    #[test]
    fn minimal_instance_and_network_mode() {
        let yaml = "name: e
ships: {s1: {ip: 10.213.0.1}}
services:
  tool:
    image: box:1
    instances:
      t-1: {ship: s1, net: host, port_range_unused: null}
";
        // An unknown key is a config error; check with a valid one instead.
        assert!(crate::config::load_str(yaml, std::path::Path::new(".")).is_err());
        let yaml = "name: e
ships: {s1: {ip: 10.213.0.1}}
services:
  tool:
    image: box:1
    instances:
      t-1: {ship: s1, net: host}
";
        let v = spec(yaml, "t-1");
        assert!(
            v.get("Hostname").is_none(),
            "no hostname with a network mode"
        );
        assert!(v.get("Cmd").is_none());
        assert!(v.get("ExposedPorts").is_none());
        assert_eq!(v["StopTimeout"], 10);
        let h = &v["HostConfig"];
        assert_eq!(h["NetworkMode"], "host");
        assert_eq!(
            h["RestartPolicy"],
            json!({"Name": "no", "MaximumRetryCount": 0})
        );
        assert!(h.get("Binds").is_none());
        assert!(h.get("Privileged").is_none());
    }

    fn request(yaml: &str, name: &str) -> Value {
        let env = crate::config::load_str(yaml, std::path::Path::new(".")).unwrap();
        let i = &env.instances[name];
        create_request(&env.name, i, &env.container_env(i))
    }

    #[test]
    fn every_added_option_reaches_the_request() {
        let yaml = "name: e
__maestro: {schema: 2}
ships: {s1: {ip: 10.213.0.1}}
networks:
  front: {}
  back: {subnet: 172.31.250.0/24}
volumes:
  data: {driver: local}
services:
  web:
    image: box:1
    tty: true
    instances:
      w-1:
        ship: s1
        networks: {back: {aliases: [db], ipv4_address: 172.31.250.9}, front: null}
        healthcheck: {test: 'test -f /ok', interval: 2s, timeout: 1s, retries: 4, start_period: 1m}
        entrypoint: [/bin/sh, -c]
        hostname: web-a
        domainname: example.org
        mac_address: '02:42:ac:11:00:99'
        stop_signal: SIGQUIT
        stdin_open: true
        read_only: true
        tmpfs: {/run: 'size=1m'}
        shm_size: 64m
        sysctls: {net.core.somaxconn: 1024}
        devices: ['/dev/null:/dev/nothing:r']
        init: true
        pid: host
        ipc: shareable
        group_add: ['20']
        dns_search: [example.org]
        dns_opt: ['ndots:2']
        cpuset: '0'
        cpus: 0.5
        mem_reservation: 32m
        memory_swappiness: 10
        oom_score_adj: 100
        pids_limit: 64
        runtime: runc
        userns_mode: host
        volumes: {data: /data}
";
        let v = request(yaml, "w-1");
        assert_eq!(v["Hostname"], "web-a");
        assert_eq!(v["Domainname"], "example.org");
        assert_eq!(v["MacAddress"], "02:42:ac:11:00:99");
        assert_eq!(v["StopSignal"], "SIGQUIT");
        assert_eq!((&v["Tty"], &v["OpenStdin"]), (&json!(true), &json!(true)));
        assert_eq!(v["Entrypoint"], json!(["/bin/sh", "-c"]));
        assert_eq!(
            v["Healthcheck"],
            json!({"Test": ["CMD-SHELL", "test -f /ok"], "Interval": 2_000_000_000u64,
                   "Timeout": 1_000_000_000u64, "Retries": 4, "StartPeriod": 60_000_000_000u64})
        );
        assert_eq!(
            v["NetworkingConfig"],
            json!({"EndpointsConfig": {"back": {"Aliases": ["db"],
                "IPAMConfig": {"IPv4Address": "172.31.250.9"}, "MacAddress": "02:42:ac:11:00:99"}}})
        );
        let h = &v["HostConfig"];
        assert_eq!(h["NetworkMode"], "back");
        assert_eq!(h["ReadonlyRootfs"], true);
        assert_eq!(h["Tmpfs"], json!({"/run": "size=1m"}));
        assert_eq!(h["ShmSize"], 64 << 20);
        assert_eq!(h["Sysctls"], json!({"net.core.somaxconn": "1024"}));
        assert_eq!(
            h["Devices"],
            json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/nothing", "CgroupPermissions": "r"}])
        );
        assert_eq!(h["Init"], true);
        assert_eq!(
            (&h["PidMode"], &h["IpcMode"]),
            (&json!("host"), &json!("shareable"))
        );
        assert_eq!(h["GroupAdd"], json!(["20"]));
        assert_eq!(h["DnsSearch"], json!(["example.org"]));
        assert_eq!(h["DnsOptions"], json!(["ndots:2"]));
        assert_eq!(h["CpusetCpus"], "0");
        assert_eq!(h["NanoCpus"], 500_000_000);
        assert_eq!(h["MemoryReservation"], 32 << 20);
        assert_eq!(h["MemorySwappiness"], 10);
        assert_eq!(h["OomScoreAdj"], 100);
        assert_eq!(h["PidsLimit"], 64);
        assert_eq!(h["Runtime"], "runc");
        assert_eq!(h["UsernsMode"], "host");
        assert_eq!(h["Binds"], json!(["data:/data"]));
        assert!(h.get("CpuQuota").is_none());
    }

    #[test]
    fn without_the_options_the_request_is_as_before() {
        let yaml = "name: e
ships: {s1: {ip: 10.213.0.1}}
services:
  tool:
    image: box:1
    instances:
      t-1: {ship: s1}
";
        let v = request(yaml, "t-1");
        for k in [
            "Entrypoint",
            "Domainname",
            "MacAddress",
            "StopSignal",
            "Tty",
            "OpenStdin",
            "Healthcheck",
            "NetworkingConfig",
        ] {
            assert!(v.get(k).is_none(), "{k}");
        }
        let h = &v["HostConfig"];
        for k in [
            "NetworkMode",
            "ReadonlyRootfs",
            "Tmpfs",
            "ShmSize",
            "Sysctls",
            "Devices",
            "Init",
            "PidMode",
            "IpcMode",
            "NanoCpus",
            "Runtime",
            "UsernsMode",
        ] {
            assert!(h.get(k).is_none(), "{k}");
        }
        // An emptied entrypoint clears the image's; disable is `NONE`.
        let yaml = yaml.replace("{ship: s1}", "{ship: s1, entrypoint: '', healthcheck: {disable: true}, mac_address: '02:42:ac:11:00:98'}");
        let v = request(&yaml, "t-1");
        assert_eq!(v["Entrypoint"], json!([""]));
        assert_eq!(v["Healthcheck"], json!({"Test": ["NONE"]}));
        assert_eq!(
            v["NetworkingConfig"]["EndpointsConfig"]["bridge"]["MacAddress"],
            "02:42:ac:11:00:98"
        );
    }
}
