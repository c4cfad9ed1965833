use std::path::Path;

use super::*;

const SHIPS: &str = "ships:
  s1: {ip: 10.213.0.41}
  s2: {ip: 10.213.0.42}
";

fn env(yaml: &str) -> Environment {
    crate::config::load_str(yaml, Path::new(".")).unwrap()
}

fn all(env: &Environment) -> Vec<String> {
    env.instances.keys().cloned().collect()
}

fn options() -> Options {
    Options {
        stack: "demo".into(),
        ..Options::default()
    }
}

fn yaml_of(e: &Environment, o: &Options) -> String {
    let out = export(e, &all(e), o).unwrap();
    to_yaml(&out.stack, &o.stack, &e.name).unwrap()
}

fn findings(yaml: &str) -> Vec<String> {
    let e = env(yaml);
    export(&e, &all(&e), &options())
        .unwrap()
        .findings
        .iter()
        .map(|f| format!("{} {}: {}", f.instance, f.key, f.message))
        .collect()
}

/// A fixed environment with every key the mapper carries.
fn fixed() -> String {
    format!(
        "name: demo
__maestro: {{schema: 2}}
{SHIPS}services:
  store:
    image: maestro-lab/box:1
    ports: {{data: '7000:17000'}}
    env: {{MODE: 'true', COUNT: 3, EMPTY: ''}}
    instances:
      store-1:
        ship: s1
        command: [sh, -c, 'echo \"a: b\" # not a comment']
        volumes: {{/srv/data: {{target: /data, mode: ro}}}}
        container_volumes: [/scratch]
        restart: on-failure:3
        limits: {{memory: 64m}}
        stop_timeout: 5
        dns: [10.213.0.1]
        extra_hosts: {{db: 10.213.0.9}}
        cap_add: [NET_ADMIN]
        cap_drop: [MKNOD]
        ulimits: {{nofile: {{soft: 1024, hard: 4096}}}}
        labels: {{team: data}}
        log_driver: json-file
        log_opt: {{max-size: 10m}}
        username: nobody
        workdir: /srv
  api:
    image: maestro-lab/box:1
    requires: [store]
    ports: {{http: '8080/udp:18080/udp', range: '9000-9001:19000-19001'}}
    instances:
      api-1: {{ship: s2, restart: always}}
"
    )
}

#[test]
fn the_stack_of_a_fixed_environment() {
    let e = env(&fixed());
    insta::assert_snapshot!(yaml_of(&e, &options()), @r#"
    # Docker Swarm stack of maestro environment demo, written by `maestro export swarm`.
    # Label the nodes first (`maestro swarm label`), then:
    #   docker stack deploy -c <this file> demo
    # (--with-registry-auth for images of private registries; --resolve-image never
    # when the nodes have the images and no registry.)
    version: "3.8"
    services:
      api-1:
        image: maestro-lab/box:1
        hostname: api-1
        environment:
          API_API_1_HOST: "10.213.0.42"
          API_API_1_HTTP_INTERNAL_PORT: "8080"
          API_API_1_HTTP_PORT: "18080"
          API_API_1_RANGE_INTERNAL_PORT: 9000-9001
          API_API_1_RANGE_PORT: 19000-19001
          API_INSTANCES: api-1
          CONTAINER_HOST_ADDRESS: "10.213.0.42"
          CONTAINER_NAME: api-1
          DOCKER_IMAGE: maestro-lab/box:1
          DOCKER_TAG: "1"
          MAESTRO_ENVIRONMENT_NAME: demo
          SERVICE_NAME: api
          STORE_INSTANCES: store-1
          STORE_STORE_1_DATA_PORT: "17000"
          STORE_STORE_1_HOST: "10.213.0.41"
        ports:
        - target: 8080
          published: 18080
          protocol: udp
          mode: host
        - target: 9000
          published: 19000
          protocol: tcp
          mode: host
        - target: 9001
          published: 19001
          protocol: tcp
          mode: host
        stop_grace_period: 10s
        deploy:
          mode: replicated
          replicas: 1
          endpoint_mode: dnsrr
          placement:
            constraints:
            - node.labels.maestro.ship == s2
          restart_policy:
            condition: any
          labels:
            maestro.environment: demo
            maestro.instance: api-1
            maestro.service: api
      store-1:
        image: maestro-lab/box:1
        command:
        - sh
        - -c
        - "echo \"a: b\" # not a comment"
        hostname: store-1
        environment:
          CONTAINER_HOST_ADDRESS: "10.213.0.41"
          CONTAINER_NAME: store-1
          COUNT: "3"
          DOCKER_IMAGE: maestro-lab/box:1
          DOCKER_TAG: "1"
          EMPTY: ""
          MAESTRO_ENVIRONMENT_NAME: demo
          MODE: "true"
          SERVICE_NAME: store
          STORE_INSTANCES: store-1
          STORE_STORE_1_DATA_INTERNAL_PORT: "7000"
          STORE_STORE_1_DATA_PORT: "17000"
          STORE_STORE_1_HOST: "10.213.0.41"
        ports:
        - target: 7000
          published: 17000
          protocol: tcp
          mode: host
        volumes:
        - /srv/data:/data:ro
        - /scratch
        cap_add:
        - NET_ADMIN
        cap_drop:
        - MKNOD
        dns:
        - "10.213.0.1"
        extra_hosts:
        - db:10.213.0.9
        ulimits:
          nofile:
            soft: 1024
            hard: 4096
        labels:
          team: data
        logging:
          driver: json-file
          options:
            max-size: 10m
        user: nobody
        working_dir: /srv
        stop_grace_period: 5s
        deploy:
          mode: replicated
          replicas: 1
          endpoint_mode: dnsrr
          placement:
            constraints:
            - node.labels.maestro.ship == s1
          restart_policy:
            condition: on-failure
            max_attempts: 3
          resources:
            limits:
              memory: "67108864"
          labels:
            maestro.environment: demo
            maestro.instance: store-1
            maestro.service: store
    "#);
}

#[test]
fn the_file_reads_back_as_the_document() {
    let e = env(&fixed());
    let o = Options {
        show_secrets: true,
        ..options()
    };
    let out = export(&e, &all(&e), &o).unwrap();
    let text = to_yaml(&out.stack, "demo", "demo").unwrap();
    let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(parsed, serde_json::to_value(&out.stack).unwrap());
    // Values that YAML would read as other types stay strings.
    let env = &parsed["services"]["store-1"]["environment"];
    assert_eq!(env["MODE"], "true");
    assert_eq!(env["COUNT"], "3");
    assert_eq!(env["EMPTY"], "");
    assert_eq!(env["STORE_STORE_1_DATA_PORT"], "17000");
}

#[test]
fn the_environment_is_the_one_start_gives() {
    let e = env(&fixed());
    let out = export(&e, &all(&e), &options()).unwrap();
    for (name, s) in &out.stack.services {
        assert_eq!(s.environment, e.container_env(&e.instances[name]));
    }
    let api = &out.stack.services["api-1"].environment;
    assert_eq!(api["CONTAINER_HOST_ADDRESS"], "10.213.0.42");
    assert_eq!(api["STORE_STORE_1_HOST"], "10.213.0.41");
}

fn one(instance: &str) -> String {
    format!(
        "name: demo\n{SHIPS}services:\n  s:\n    image: i\n    instances:\n      xx: {{ship: s1, {instance}}}\n"
    )
}

#[test]
fn every_key_swarm_cannot_express_is_a_finding() {
    let cases: &[(&str, &str)] = &[
        (
            "run: once",
            "xx run: a one-shot runs once per deploy of its service in Swarm",
        ),
        (
            "privileged: true",
            "xx privileged: Swarm services cannot run privileged",
        ),
        (
            "volumes_from: [yy]",
            "xx volumes_from: Swarm services cannot share",
        ),
        (
            "links: {yy: db}",
            "xx links: Swarm has no legacy links (yy)",
        ),
        (
            "net: 'container:yy'",
            "xx net: network mode container:yy has no Swarm equivalent",
        ),
        (
            "net: none",
            "xx net: network mode none has no Swarm equivalent",
        ),
        (
            "security_opt: [no-new-privileges]",
            "xx security_opt: docker stack deploy ignores",
        ),
        ("lxc_conf: {a: b}", "xx lxc_conf: Swarm has no LXC options"),
        (
            "limits: {swap: 1g}",
            "xx limits.swap: Swarm services cannot limit swap",
        ),
        (
            "limits: {cpu: 512}",
            "xx limits.cpu: CPU shares (512, a relative weight) have no Swarm form: written as cpus: 0.5",
        ),
        (
            "ports: {p: {exposed: 80, external: [10.213.0.41, 8080]}}",
            "xx ports.p: host address 10.213.0.41 cannot be chosen",
        ),
        (
            "ports: {p: '80:8080-8082'}",
            "xx ports.p: a host port range (8080-8082)",
        ),
        (
            "ports: {p: 80}, lifecycle: {running: [{type: tcp, port: p}, {type: sleep, wait: 1}], pre-stop: [{type: sleep, wait: 1}]}",
            "xx lifecycle.running: Swarm does not run maestro's lifecycle checks (tcp, sleep)",
        ),
    ];
    for (key, want) in cases {
        let mut yaml = one(key);
        if key.contains("volumes_from") || key.contains("links") || key.contains("container:") {
            yaml.push_str("      yy: {ship: s1}\n");
        }
        let got = findings(&yaml);
        assert!(
            got.iter().any(|f| f.starts_with(want)),
            "{key}: {want:?} not in {got:?}"
        );
    }
    // pre-stop is named too, and a clean instance has none.
    let got = findings(&one("lifecycle: {pre-stop: [{type: sleep, wait: 1}]}"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("xx lifecycle.pre-stop: "));
    assert_eq!(findings(&one("restart: always")), Vec::<String>::new());
}

#[test]
fn host_network_is_the_engines_host_network() {
    let e = env(&one("net: host"));
    let out = export(&e, &all(&e), &options()).unwrap();
    assert!(out.findings.is_empty(), "{:?}", out.findings);
    let x = &out.stack.services["xx"];
    assert_eq!(
        x.networks.keys().collect::<Vec<_>>(),
        ["hostnet"],
        "{:?}",
        x.networks
    );
    assert_eq!(x.hostname, None);
    assert_eq!(
        out.stack.networks["hostnet"],
        Network {
            external: Some(true),
            name: Some("host".into()),
            ..Network::default()
        }
    );
}

/// The options beyond MaestroNG's schema, each as the stack writes it.
fn options_env() -> String {
    format!(
        "name: demo
__maestro: {{schema: 2}}
{SHIPS}networks:
  back: {{subnet: 10.213.60.0/24, labels: {{tier: back}}}}
  shared: {{external: true}}
volumes:
  pgdata: {{driver_opts: {{type: tmpfs, device: tmpfs}}}}
services:
  db:
    image: i
    entrypoint: [/bin/entry, --flag]
    networks: {{back: {{aliases: [database], ipv4_address: 10.213.60.10}}, shared: null}}
    healthcheck: {{test: [CMD, /bin/check], interval: 1500ms, timeout: 3s, retries: 2, start_period: 1m}}
    hostname: dbhost
    stop_signal: SIGQUIT
    tty: true
    stdin_open: true
    read_only: true
    init: true
    tmpfs: {{/run: 'size=64m,mode=1777', /tmp: ''}}
    sysctls: {{net.core.somaxconn: 1024}}
    dns_search: [lab]
    cpus: 1.5
    mem_reservation: 128m
    instances:
      db-1:
        ship: s1
        command: [run]
        volumes: {{pgdata: /data, scratch: /scratch2}}
      db-2:
        ship: s2
        healthcheck: {{disable: true}}
        domainname: example.org
        mac_address: '02:42:ac:11:00:02'
        shm_size: 256m
        pid: host
        ipc: host
        userns_mode: host
        devices: [/dev/fuse]
        group_add: [audio]
        dns_opt: ['ndots:2']
        cpuset: '0'
        oom_score_adj: 10
        pids_limit: 100
        memory_swappiness: 0
        platform: linux/amd64
        entrypoint: []
"
    )
}

#[test]
fn the_added_options_map_to_the_stack() {
    let e = env(&options_env());
    let out = export(&e, &all(&e), &options()).unwrap();
    let db = &out.stack.services["db-1"];
    assert_eq!(db.entrypoint.as_deref().unwrap(), ["/bin/entry", "--flag"]);
    assert_eq!(db.command.as_deref().unwrap(), ["run"]);
    assert_eq!(db.hostname.as_deref(), Some("dbhost"));
    assert_eq!(db.networks["back"].aliases, ["database"]);
    assert_eq!(db.networks["shared"], ServiceNetwork::default());
    assert_eq!(
        out.stack.networks["back"],
        Network {
            driver: Some("overlay".into()),
            attachable: Some(true),
            labels: BTreeMap::from([("tier".into(), "back".into())]),
            ipam: Some(Ipam {
                config: vec![IpamConfig {
                    subnet: "10.213.60.0/24".into()
                }]
            }),
            ..Network::default()
        }
    );
    assert_eq!(
        out.stack.networks["shared"],
        Network {
            external: Some(true),
            name: Some("shared".into()),
            ..Network::default()
        }
    );
    let h = db.healthcheck.clone().unwrap();
    assert_eq!(h.test.unwrap(), ["CMD", "/bin/check"]);
    assert_eq!(
        (
            h.interval.as_deref(),
            h.timeout.as_deref(),
            h.retries,
            h.start_period.as_deref()
        ),
        (Some("1500ms"), Some("3s"), Some(2), Some("60s"))
    );
    assert_eq!(
        out.stack.services["db-2"].healthcheck,
        Some(HealthcheckSpec {
            disable: Some(true),
            ..HealthcheckSpec::default()
        })
    );
    assert_eq!(db.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(
        (db.tty, db.stdin_open, db.read_only, db.init),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(db.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(db.dns_search, ["lab"]);
    assert_eq!(
        db.deploy.resources.limits.as_ref().unwrap().cpus.as_deref(),
        Some("1.5")
    );
    assert_eq!(
        db.deploy
            .resources
            .reservations
            .as_ref()
            .unwrap()
            .memory
            .as_deref(),
        Some("134217728")
    );
    assert_eq!(
        db.volumes,
        [
            VolumeSpec::Short("pgdata:/data".into()),
            VolumeSpec::Short("scratch:/scratch2".into()),
            VolumeSpec::Tmpfs(TmpfsMount {
                kind: "tmpfs".into(),
                target: "/run".into(),
                tmpfs: Some(TmpfsSize { size: 64 << 20 })
            }),
            VolumeSpec::Tmpfs(TmpfsMount {
                kind: "tmpfs".into(),
                target: "/tmp".into(),
                tmpfs: None
            }),
        ]
    );
    assert_eq!(
        out.stack.volumes["pgdata"],
        Volume {
            name: "pgdata".into(),
            driver_opts: BTreeMap::from([
                ("device".into(), "tmpfs".into()),
                ("type".into(), "tmpfs".into())
            ]),
            ..Volume::default()
        }
    );
    assert_eq!(
        out.stack.volumes["scratch"],
        Volume {
            name: "scratch".into(),
            ..Volume::default()
        }
    );
    let found: Vec<String> = out
        .findings
        .iter()
        .map(|f| format!("{} {}: {}", f.instance, f.key, f.message))
        .collect();
    let want = [
        "db-1 networks.back.ipv4_address: Swarm gives tasks their addresses; 10.213.60.10 left out",
        "db-1 tmpfs./run: the mount option mode=1777 has no form in a stack; left out",
        "db-1 mem_reservation: written as deploy.resources.reservations.memory, which Swarm places tasks by; the container gets no soft memory limit",
        "db-2 entrypoint: clearing the image's entrypoint has no Swarm form (an empty entrypoint is the image's); left out",
        "db-2 networks.back.ipv4_address: Swarm gives tasks their addresses; 10.213.60.10 left out",
        "db-2 tmpfs./run: the mount option mode=1777 has no form in a stack; left out",
        "db-2 mem_reservation: written as deploy.resources.reservations.memory, which Swarm places tasks by; the container gets no soft memory limit",
        "db-2 domainname: docker stack deploy ignores it; left out",
        "db-2 mac_address: docker stack deploy ignores it; left out",
        "db-2 shm_size: docker stack deploy ignores it; left out",
        "db-2 pid: docker stack deploy ignores it; left out",
        "db-2 ipc: docker stack deploy ignores it; left out",
        "db-2 userns_mode: docker stack deploy ignores it; left out",
        "db-2 devices: Swarm services cannot have devices; left out",
        "db-2 group_add: the stack format has no such key; left out",
        "db-2 dns_opt: the stack format has no such key; left out",
        "db-2 cpuset: the stack format has no such key; left out",
        "db-2 oom_score_adj: the stack format has no such key; left out",
        "db-2 pids_limit: the stack format has no such key; left out",
        "db-2 memory_swappiness: the stack format has no such key; left out",
        "db-2 platform: a stack's services run on the nodes' own platform and runtime; left out",
    ];
    assert_eq!(found, want);
    // The whole document reads back as written.
    let text = to_yaml(&out.stack, "demo", "demo").unwrap();
    let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(parsed, serde_json::to_value(&out.stack).unwrap());
}

#[test]
fn the_wait_goes_in_front_of_an_entrypoint() {
    let yaml = chain().replace(
        "api-1: {ship: s2, command: [/app, --port, '8080']}",
        "api-1: {ship: s2, entrypoint: [/app], command: [--port, '8080']}",
    );
    let e = env(&yaml);
    let o = Options {
        wait_for_dependencies: true,
        ..options()
    };
    let out = export(&e, &all(&e), &o).unwrap();
    let api = &out.stack.services["api-1"];
    assert_eq!(
        api.entrypoint.as_deref().unwrap(),
        [
            "/bin/sh",
            "-c",
            "/maestro-guest wait db --timeout 0 && exec \"$$@\"",
            "api-1",
            "/app"
        ]
    );
    assert_eq!(api.command.as_deref().unwrap(), ["--port", "8080"]);
}

#[test]
fn durations_and_sizes() {
    assert_eq!(duration(2_000_000_000), "2s");
    assert_eq!(duration(1_500_000_000), "1500ms");
    assert_eq!(duration(1_500), "1500ns");
    assert_eq!(duration(2_000), "2us");
    assert_eq!(parse_size("64m"), Some(64 << 20));
    assert_eq!(parse_size("1G"), Some(1 << 30));
    assert_eq!(parse_size("4096"), Some(4096));
    assert_eq!(parse_size("x"), None);
    assert_eq!(cpus_text(0.5), "0.5");
    assert_eq!(cpus_text(2.0), "2");
}

fn chain() -> String {
    format!(
        "name: demo
{SHIPS}services:
  db:
    image: i
    ports: {{sql: 5432}}
    instances: {{db-1: {{ship: s1}}}}
  conf:
    image: i
    instances: {{conf-1: {{ship: s1}}}}
  api:
    image: i
    requires: [db, conf]
    instances:
      api-1: {{ship: s2, command: [/app, --port, '8080']}}
      api-2: {{ship: s2}}
"
    )
}

#[test]
fn dependency_order_is_a_finding_unless_the_command_waits() {
    let e = env(&chain());
    let out = export(&e, &all(&e), &options()).unwrap();
    let order: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.key == "requires")
        .map(|f| (f.instance.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(order.len(), 2, "{order:?}");
    assert!(
        order[0]
            .1
            .starts_with("Swarm starts every service at once, not after db, conf")
    );

    let o = Options {
        wait_for_dependencies: true,
        guest: "/bin/maestro-guest".into(),
        ..options()
    };
    let out = export(&e, &all(&e), &o).unwrap();
    assert_eq!(
        out.stack.services["api-1"].command.as_deref().unwrap(),
        [
            "/bin/sh",
            "-c",
            "/bin/maestro-guest wait db --timeout 0 && exec \"$$@\"",
            "api-1",
            "/app",
            "--port",
            "8080"
        ]
    );
    let left: Vec<_> = out
        .findings
        .iter()
        .map(|f| format!("{} {}: {}", f.instance, f.key, f.message))
        .collect();
    assert_eq!(
        left,
        [
            "api-1 requires: conf has no ports to wait for; Swarm starts api-1 at once",
            "api-2 requires: no command to put the wait for db, conf in front of (the image's own command is not known here); Swarm starts it at once"
        ]
    );
    assert_eq!(out.stack.services["api-2"].command, None);
}

#[test]
fn a_guest_path_with_spaces_is_quoted() {
    assert_eq!(shell_quote("/opt/my guest"), "'/opt/my guest'");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
    assert_eq!(shell_quote("/maestro-guest"), "/maestro-guest");
}

#[test]
fn secrets_refuse_the_export_unless_shown() {
    let yaml = format!(
        "name: demo
{SHIPS}registries:
  reg:
    registry: https://reg.example:5000/
    username: u
    password: hunter2
services:
  s:
    image: i
    env: {{DB_PASSWORD: x, API_Token: y, PLAIN: hunter2, OK: fine}}
    instances: {{xx: {{ship: s1}}}}
"
    );
    let e = env(&yaml);
    let refused = export(&e, &all(&e), &options()).unwrap_err();
    let got: Vec<String> = refused
        .iter()
        .map(|r| format!("{}: {}", r.instance, r.message))
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    for k in ["env.API_Token", "env.DB_PASSWORD", "env.PLAIN"] {
        assert!(
            got.iter()
                .any(|g| g.starts_with(&format!("xx: {k} holds a secret")))
        );
    }
    assert!(got.iter().all(|g| !g.contains("hunter2")));
    let o = Options {
        show_secrets: true,
        ..options()
    };
    let out = export(&e, &all(&e), &o).unwrap();
    assert_eq!(out.stack.services["xx"].environment["PLAIN"], "hunter2");

    // The variables maestro makes are judged by their values only: a
    // service named keystore, with a token-service instance, is no secret.
    let yaml = format!(
        "name: demo\n{SHIPS}services:\n  keystore:\n    image: i\n    ports: {{p: 80}}\n    instances: {{token-service: {{ship: s1}}}}\n    env: {{MODE: a}}\n"
    );
    let e = env(&yaml);
    let out = export(&e, &all(&e), &options()).unwrap();
    assert_eq!(
        out.stack.services["token-service"].environment["KEYSTORE_TOKEN_SERVICE_P_PORT"],
        "80"
    );
    // Instance-level variables count as the file's too.
    let e = env(&yaml.replace("{ship: s1}", "{ship: s1, env: {MY_SECRET: z}}"));
    let refused = export(&e, &all(&e), &options()).unwrap_err();
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0]
            .message
            .starts_with("env.MY_SECRET holds a secret")
    );
}

#[test]
fn names_swarm_refuses() {
    let e = env(&one("restart: always").replace("xx:", "x.y:"));
    let refused = export(&e, &all(&e), &options()).unwrap_err();
    assert_eq!(refused[0].instance, "x.y");
    assert!(
        refused[0]
            .message
            .starts_with("demo_x.y is not a valid Swarm service name")
    );
    let long = "a".repeat(59);
    let e = env(&one("restart: always").replace("xx:", &format!("{long}:")));
    assert!(export(&e, &all(&e), &options()).is_err());
    assert!(valid_stack_name("demo-2_a"));
    assert!(!valid_stack_name("-demo"));
    assert!(!valid_stack_name("de.mo"));
    assert!(!valid_stack_name(""));
}

#[test]
fn restart_policies() {
    let cond = |r: &str| {
        let e = env(&one(&format!("restart: '{r}'")));
        let out = export(&e, &all(&e), &options()).unwrap();
        let p = out.stack.services["xx"]
            .deploy
            .restart_policy
            .clone()
            .unwrap();
        (p.condition.clone(), p.max_attempts)
    };
    let cond = |r: &str| {
        let (c, n) = cond(r);
        (c, n.map(|n| n as i64))
    };
    let want = |c: &str, n: Option<i64>| (c.to_string(), n);
    assert_eq!(cond("no"), want("none", None));
    assert_eq!(cond("always"), want("any", None));
    assert_eq!(cond("unless-stopped"), want("any", None));
    assert_eq!(cond("on-failure"), want("on-failure", None));
    assert_eq!(cond("on-failure:4"), want("on-failure", Some(4)));
}

#[test]
fn dollars_are_kept_from_compose_interpolation() {
    let yaml = format!(
        "name: demo\n{SHIPS}services:\n  s:\n    image: i\n    env: {{PRICE: '$5', HOME_DIR: '${{HOME}}'}}\n    instances:\n      xx: {{ship: s1, command: [sh, -c, 'echo $CONTAINER_NAME'], labels: {{cost: '$$'}}}}\n"
    );
    let e = env(&yaml);
    let out = export(&e, &all(&e), &options()).unwrap();
    let x = &out.stack.services["xx"];
    assert_eq!(x.environment["PRICE"], "$$5");
    assert_eq!(x.environment["HOME_DIR"], "$${HOME}");
    assert_eq!(x.command.as_deref().unwrap()[2], "echo $$CONTAINER_NAME");
    assert_eq!(x.labels["cost"], "$$$$");
    assert_eq!(x.environment["CONTAINER_NAME"], "xx");
}
