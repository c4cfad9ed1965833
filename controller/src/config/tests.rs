//! Environment-file cases of the reference's section 10 that need no
//! daemon, and one test per validation error (path and line asserted).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::model::*;
use super::ship::ApiVersion;
use super::{Environment, LoadError, LoadOptions, load, load_str};

const SHIPS: &str = "name: t\nships:\n  s1: {ip: 10.213.0.1}\n  s2: {ip: 10.213.0.2}\n";

fn ok(yaml: &str) -> Environment {
    match load_str(yaml, Path::new(".")) {
        Ok(e) => e,
        Err(e) => panic!("expected a valid environment, got:\n{e}"),
    }
}

/// The errors as printed: `maestro.yaml:line:col: path: message`.
fn err(yaml: &str) -> String {
    match load_str(yaml, Path::new(".")) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => {
            assert_eq!(e.exit_code(), 1);
            e.to_string()
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn env_of(e: &Environment, i: &str) -> BTreeMap<String, String> {
    e.container_env(&e.instances[i])
}

#[test]
fn case1_missing_name() {
    let out = err("ships: {s1: {ip: 1.2.3.4}}\n");
    assert!(
        out.contains("maestro.yaml:1:1: missing required key \"name\""),
        "{out}"
    );
}

#[test]
fn missing_ships_image_instances_ship() {
    let out = err(
        "name: t\nservices:\n  web: {}\n  db:\n    image: pg\n    instances: {d1: {image: x}}\n",
    );
    assert!(
        out.contains("maestro.yaml:1:1: missing required key \"ships\""),
        "{out}"
    );
    assert!(
        out.contains(":3:8: services.web: missing required key \"image\""),
        "{out}"
    );
    assert!(
        out.contains(":3:8: services.web: missing required key \"instances\""),
        "{out}"
    );
    assert!(
        out.contains(":6:21: services.db.instances.d1: missing required key \"ship\""),
        "{out}"
    );
}

#[test]
fn case2_duplicate_keys() {
    let out = err(&format!(
        "{SHIPS}services:\n  web: {{image: a, instances: {{}}}}\n  web: {{image: b, instances: {{}}}}\n"
    ));
    assert!(
        out.contains("maestro.yaml:7:3: invalid YAML: duplicate mapping key: web"),
        "{out}"
    );
    let out = err(&format!(
        "{SHIPS}services:\n  web:\n    image: a\n    instances:\n      w1: {{ship: s1}}\n      w1: {{ship: s2}}\n"
    ));
    assert!(
        out.contains(":10:7: invalid YAML: duplicate mapping key: w1"),
        "{out}"
    );
}

#[test]
fn case3_duplicate_instance_across_services() {
    let out = err(&format!(
        "{SHIPS}services:\n  webapp: {{image: a, instances: {{w1: {{ship: s1}}}}}}\n  db: {{image: b, instances: {{w1: {{ship: s1}}}}}}\n"
    ));
    assert!(
        out.contains(
            ":7:30: services.db.instances.w1: instance w1 is already defined in service webapp"
        ),
        "{out}"
    );
}

#[test]
fn case4_unknown_ship_with_suggestion() {
    let out = err(&format!(
        "{SHIPS}services:\n  web: {{image: a, instances: {{w1: {{ship: s3}}}}}}\n"
    ));
    assert!(
        out.contains(
            ":6:42: services.web.instances.w1.ship: unknown ship \"s3\"; did you mean \"s1\"?"
        ),
        "{out}"
    );
}

#[test]
fn unknown_keys_at_every_level_but_free_top_level_ones() {
    let out = err(&format!(
        "_anchors: {{a: 1}}\nx-common: 2\n{SHIPS}  s3: {{ip: x, endpiont: y}}\nfoo: 1\nservices:\n  web:\n    imgae: a\n    image: a\n    instances:\n      w1: {{ship: s1, prots: {{}}}}\n"
    ));
    assert!(
        out.contains(
            ":7:15: ships.s3.endpiont: unknown key \"endpiont\"; did you mean \"endpoint\"?"
        ),
        "{out}"
    );
    assert!(out.contains(":8:1: foo: unknown key \"foo\""), "{out}");
    assert!(
        out.contains(":11:5: services.web.imgae: unknown key \"imgae\"; did you mean \"image\"?"),
        "{out}"
    );
    assert!(out.contains(":14:22: services.web.instances.w1.prots: unknown key \"prots\"; did you mean \"ports\"?"), "{out}");
    assert!(
        !out.contains("_anchors") && !out.contains("x-common"),
        "{out}"
    );
}

#[test]
fn case5_simple_port_and_its_variables() {
    let e = ok(&format!(
        "{SHIPS}services:\n  mail: {{image: m, instances: {{m1: {{ship: s1, ports: {{smtp: 25}}}}}}}}\n"
    ));
    let p = &e.instances["m1"].ports["smtp"];
    assert_eq!(
        (p.exposed_key(), p.external.to_string(), p.host_ip.as_str()),
        ("25/tcp".into(), "25".into(), "0.0.0.0")
    );
    let env = env_of(&e, "m1");
    assert_eq!(env["MAIL_M1_SMTP_PORT"], "25");
    assert_eq!(env["MAIL_M1_SMTP_INTERNAL_PORT"], "25");
}

#[test]
fn case6_port_direction_in_variables() {
    let e = ok(&format!(
        "{SHIPS}services:\n  web: {{image: m, instances: {{w1: {{ship: s1, ports: {{http: \"80:8080\"}}}}}}}}\n"
    ));
    let env = env_of(&e, "w1");
    assert_eq!(
        (
            env["WEB_W1_HTTP_PORT"].as_str(),
            env["WEB_W1_HTTP_INTERNAL_PORT"].as_str()
        ),
        ("8080", "80")
    );
}

#[test]
fn case7_8_bad_ports_are_located() {
    let out = err(&format!(
        "{SHIPS}services:\n  web:\n    image: a\n    instances:\n      w1:\n        ship: s1\n        ports:\n          a: \"80/tcp:8080/udp\"\n          b: \"80/TCP\"\n          c: \"0.0.0.0:80:80\"\n          d: abc\n          e: {{exposed: 80}}\n"
    ));
    assert!(out.contains(":12:14: services.web.instances.w1.ports.a: mismatched protocols between 80/tcp and 8080/udp"), "{out}");
    for (line, key) in [(13, "b"), (14, "c"), (15, "d"), (16, "e")] {
        assert!(
            out.contains(&format!(
                ":{line}:14: services.web.instances.w1.ports.{key}: invalid port spec"
            )),
            "{key}: {out}"
        );
    }
}

#[test]
fn case11_service_ports_merge_for_every_instance() {
    let e = ok(&format!(
        "{SHIPS}services:\n  web:\n    image: a\n    ports: {{admin: 8080, http: 80, dns: {{exposed: 53/udp, external: 5353/udp}}}}\n    instances:\n      w1: {{ship: s1, ports: {{http: 8000}}}}\n      w2: {{ship: s2}}\n"
    ));
    let w1 = &e.instances["w1"].ports;
    assert_eq!(
        (w1["admin"].external.start, w1["http"].external.start),
        (8080, 8000)
    );
    // The dict form works for a second instance too (MaestroNG crashed).
    let w2 = &e.instances["w2"].ports;
    assert_eq!(
        (
            w2["http"].external.start,
            w2["dns"].external.start,
            w2["dns"].protocol
        ),
        (80, 5353, Protocol::Udp)
    );
}

#[test]
fn case13_env_precedence_with_envfiles() {
    let e = load(&fixture("envfiles/maestro.yaml"), &LoadOptions::default())
        .unwrap()
        .env;
    let m = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let s1 = [
        ("S1_INSTANCES", "s1a,s1b"),
        ("S1_S1A_HOST", "localhost"),
        ("S1_S1B_HOST", "localhost"),
    ];
    let s2 = [
        ("S2_INSTANCES", "s2a,s2b"),
        ("S2_S2A_HOST", "localhost"),
        ("S2_S2B_HOST", "localhost"),
    ];
    let base = |svc: &str,
                c: &str,
                image: &str,
                tag: &str,
                over: &str,
                links: &[(&'static str, &'static str)]| {
        let mut x = m(&[
            ("MAESTRO_ENVIRONMENT_NAME", "test_envfiles"),
            ("SERVICE_NAME", svc),
            ("CONTAINER_NAME", c),
            ("CONTAINER_HOST_ADDRESS", "localhost"),
            ("DOCKER_IMAGE", image),
            ("DOCKER_TAG", tag),
            ("SOME_ENV", "value"),
            ("OVERRIDE", over),
        ]);
        x.extend(m(links));
        x
    };
    assert_eq!(
        env_of(&e, "s1a"),
        base("s1", "s1a", "ubuntu", "latest", "dog", &s1)
    );
    assert_eq!(
        env_of(&e, "s1b"),
        base("s1", "s1b", "ubuntu", "latest", "giraffe", &s1)
    );
    assert_eq!(
        env_of(&e, "s2a"),
        base("s2", "s2a", "ubuntu:14.04", "14.04", "giraffe", &s2)
    );
    // CONTAINER_NAME set by the user is overridden; SERVICE_NAME set at
    // instance level is kept, as in MaestroNG.
    assert_eq!(
        env_of(&e, "s2b"),
        base("mine", "s2b", "ubuntu:14.04", "14.04", "cat", &s2)
    );
}

#[test]
fn envfile_errors_are_located() {
    let dir = fixture("envfiles");
    let yaml = format!(
        "{SHIPS}services:\n  web: {{image: a, envfile: nope.env, instances: {{w1: {{ship: s1}}}}}}\n"
    );
    let out = load_str(&yaml, &dir).unwrap_err().to_string();
    assert!(
        out.contains(":6:28: services.web.envfile: cannot read envfile"),
        "{out}"
    );
}

#[test]
fn case14_name_normalisation() {
    let e = ok(&format!(
        "{SHIPS}services:\n  my-svc.v2: {{image: a, instances: {{web-1: {{ship: s1, ports: {{http-alt: 81}}}}}}}}\n"
    ));
    let env = env_of(&e, "web-1");
    assert_eq!(env["MY_SVC_V2_WEB_1_HOST"], "10.213.0.1");
    assert_eq!(env["MY_SVC_V2_WEB_1_HTTP_ALT_PORT"], "81");
    assert_eq!(env["MY_SVC_V2_INSTANCES"], "web-1");
}

/// From 128 instances the names are checked on another thread while the
/// environments are computed: the same error, and no environments.
#[test]
fn names_that_normalise_alike_are_rejected_among_many_instances() {
    let mut yaml = format!("{SHIPS}services:\n  zk:\n    image: a\n    instances:\n");
    for i in 0..130 {
        yaml.push_str(&format!("      zk-{i}: {{ship: s1}}\n"));
    }
    yaml.push_str("      zk.7: {ship: s2}\n");
    let out = err(&yaml);
    assert!(
        out.contains("services.zk.instances.zk.7: instance zk.7 of service zk and instance zk-7 of service zk both give the variable ZK_ZK_7_HOST"),
        "{out}"
    );
    assert_eq!(out.matches("both give").count(), 1, "{out}");
    // Without the clash, the environments are there.
    let fine = ok(&yaml.replace("      zk.7: {ship: s2}\n", ""));
    assert_eq!(fine.envs.instances.len(), 130);
    assert!(!fine.envs.services["zk"].links.own.is_empty());
}

#[test]
fn names_that_normalise_alike_are_rejected() {
    let out = err(&format!(
        "{SHIPS}services:\n  zk:\n    image: a\n    instances:\n      zk-1: {{ship: s1}}\n      zk.1: {{ship: s2}}\n"
    ));
    assert!(out.contains("services.zk.instances.zk.1: instance zk.1 of service zk and instance zk-1 of service zk both give the variable ZK_ZK_1_HOST"), "{out}");
    assert!(out.contains(":10:13:"), "{out}");
}

const ZK_KAFKA: &str = "services:\n  zookeeper:\n    image: zk\n    instances:\n      zk-1: {ship: s1, ports: {client: {exposed: 2181, external: 2182}}}\n  kafka:\n    image: k\n    requires: [zookeeper]\n    instances:\n      k1: {ship: s2, ports: {broker: 9092}}\n";

#[test]
fn case15_link_variable_scope() {
    let e = ok(&format!("{SHIPS}{ZK_KAFKA}"));
    let k = env_of(&e, "k1");
    assert_eq!(k["ZOOKEEPER_ZK_1_HOST"], "10.213.0.1");
    assert_eq!(k["ZOOKEEPER_ZK_1_CLIENT_PORT"], "2182");
    assert!(!k.contains_key("ZOOKEEPER_ZK_1_CLIENT_INTERNAL_PORT"));
    assert_eq!(k["KAFKA_K1_BROKER_INTERNAL_PORT"], "9092");
    assert_eq!(k["ZOOKEEPER_INSTANCES"], "zk-1");
    let z = env_of(&e, "zk-1");
    assert_eq!(z["ZOOKEEPER_ZK_1_CLIENT_INTERNAL_PORT"], "2181");
    assert!(!z.keys().any(|k| k.starts_with("KAFKA_")), "{z:?}");
}

#[test]
fn case16_transitive_requires_direct_wants_info() {
    let svc = |n: &str, extra: &str| {
        format!(
            "  {n}: {{image: i, {extra} instances: {{{}1: {{ship: s1}}}}}}\n",
            n.to_lowercase()
        )
    };
    let yaml = format!(
        "{SHIPS}services:\n{}{}{}",
        svc("A", "requires: [B],"),
        svc("B", "requires: [C],"),
        svc("C", "")
    );
    let e = ok(&yaml);
    assert_eq!(env_of(&e, "a1")["C_C1_HOST"], "10.213.0.1");
    let yaml = format!(
        "{SHIPS}services:\n{}{}{}",
        svc("A", "wants_info: [B],"),
        svc("B", "requires: [C],"),
        svc("C", "")
    );
    let e = ok(&yaml);
    assert!(env_of(&e, "a1").contains_key("B_B1_HOST"));
    assert!(!env_of(&e, "a1").contains_key("C_C1_HOST"));
    // wants_info gives no ordering.
    assert!(e.services["A"].ordering_deps().next().is_none());
}

#[test]
fn case17_unknown_dependencies() {
    let out = err(&format!(
        "{SHIPS}services:\n  web:\n    image: a\n    requires: [nosuch]\n    wants_info: [wbe]\n    instances: {{w: {{ship: s1}}}}\n"
    ));
    assert!(
        out.contains(
            ":8:16: services.web.requires[0]: service dependency nosuch defined on web does not exist"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            ":9:18: services.web.wants_info[0]: service dependency wbe defined on web does not exist"
        ),
        "{out}"
    );
}

#[test]
fn requires_as_a_plain_string_is_one_name() {
    let e = ok(&format!(
        "{SHIPS}{}",
        ZK_KAFKA.replace("requires: [zookeeper]", "requires: zookeeper")
    ));
    assert_eq!(e.services["kafka"].requires, ["zookeeper"]);
}

#[test]
fn case18_cycles_are_named_with_their_path() {
    let out = err(&format!(
        "{SHIPS}services:\n  a: {{image: i, requires: [b], instances: {{a1: {{ship: s1}}}}}}\n  b: {{image: i, requires: [c], instances: {{b1: {{ship: s1}}}}}}\n  c: {{image: i, requires: [a], instances: {{c1: {{ship: s1}}}}}}\n"
    ));
    assert!(
        out.contains(":6:28: services.a.requires[0]: dependency cycle: a -> b -> c -> a"),
        "{out}"
    );
    let out = err(&format!(
        "{SHIPS}services:\n  a: {{image: i, requires: [a], instances: {{a1: {{ship: s1}}}}}}\n"
    ));
    assert!(out.contains("dependency cycle: a -> a"), "{out}");
}

#[test]
fn case21_volume_conflicts() {
    let out = err(&format!(
        "__maestro: {{schema: 2}}\n{SHIPS}services:\n  s:\n    image: i\n    instances:\n      foo1: {{ship: s1, volumes: {{/out: /in1}}, container_volumes: [/in1]}}\n"
    ));
    assert!(out.contains(":10:66: services.s.instances.foo1.container_volumes: conflict in foo1 between bind-mounted volume and container-only volume on /in1"), "{out}");
    let out = err(&format!(
        "__maestro: {{schema: 2}}\n{SHIPS}services:\n  s:\n    image: i\n    instances:\n      instance-1: {{ship: s1, volumes: {{/out: /in1}}}}\n      instance-2: {{ship: s1, volumes: {{/out2: /in1}}, volumes_from: instance-1}}\n"
    ));
    assert!(out.contains(":11:68: services.s.instances.instance-2.volumes_from: volume conflicts between instance-2 and instance-1: /in1"), "{out}");
}

#[test]
fn case22_volumes_from_rules() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      instance-1: {{ship: s1, volumes_from: [instance-2]}}\n      instance-3: {{ship: s1, volumes_from: [instance-4]}}\n      instance-4: {{ship: s2}}\n"
    ));
    assert!(out.contains(":9:45: services.s.instances.instance-1.volumes_from[0]: unknown container instance-2 to get volumes from for instance-1"), "{out}");
    assert!(out.contains(":10:45: services.s.instances.instance-3.volumes_from[0]: instance-4 and instance-3 must be on the same ship"), "{out}");
    // Same service: fine, no self-dependency. Other service: a dependency.
    let e = ok(&format!(
        "{SHIPS}services:\n  data: {{image: i, instances: {{d1: {{ship: s1, container_volumes: [/data]}}}}}}\n  app:\n    image: i\n    instances:\n      a1: {{ship: s1, volumes_from: [d1]}}\n      a2: {{ship: s1, volumes_from: a1}}\n"
    ));
    assert_eq!(e.services["app"].volumes_from_services, ["data"]);
    assert_eq!(
        e.services["data"].volumes_from_services,
        Vec::<String>::new()
    );
    assert!(
        !env_of(&e, "a2").contains_key("DATA_D1_HOST"),
        "volumes_from adds no link variables"
    );
}

#[test]
fn case24_service_limits_merge_with_instance_limits() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    limits: {{cpu: 2, memory: 2g}}\n    instances:\n      a1: {{ship: s1, limits: {{memory: 1g}}}}\n"
    ));
    assert_eq!(
        e.instances["a1"].limits,
        Limits {
            memory: Some(1 << 30),
            swap: None,
            cpu: Some(2)
        }
    );
}

#[test]
fn case28_extra_hosts_ship_reference() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s2, extra_hosts: {{db: {{ship: s1}}, gw: 10.9.9.9}}}}\n"
    ));
    assert_eq!(
        e.instances["a1"].extra_hosts,
        ["db:10.213.0.1", "gw:10.9.9.9"]
    );
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s2, extra_hosts: {{db: {{ship: s9}}}}}}\n"
    ));
    assert!(
        out.contains(":9:47: services.s.instances.a1.extra_hosts.db.ship: unknown ship \"s9\""),
        "{out}"
    );
}

#[test]
fn case30_image_details_in_the_environment() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: quay.io:8081/foo/bar\n    instances:\n      a1: {{ship: s1}}\n      b1: {{ship: s1, image: stackbrew/ubuntu}}\n"
    ));
    assert_eq!(env_of(&e, "a1")["DOCKER_TAG"], "latest");
    assert_eq!(env_of(&e, "a1")["DOCKER_IMAGE"], "quay.io:8081/foo/bar");
    assert_eq!(env_of(&e, "b1")["DOCKER_IMAGE"], "stackbrew/ubuntu");
}

#[test]
fn case36_lifecycle_validation() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      c:\n        ship: s1\n        ports: {{data: 53/udp, web: 80}}\n        lifecycle:\n          running: [{{type: tcp, port: nosuch}}, {{type: tcp, port: data}}, {{type: bogus}}]\n          pre-stop: {{type: tcp, port: web}}\n          pre-start: [{{type: exec}}, {{type: sleep, wait: 1, extra: 2}}]\n"
    ));
    assert!(out.contains(":13:39: services.s.instances.c.lifecycle.running[0].port: port nosuch is not defined by c"), "{out}");
    assert!(
        out.contains(
            ":13:66: services.s.instances.c.lifecycle.running[1].port: port data is not TCP"
        ),
        "{out}"
    );
    assert!(out.contains(":13:80: services.s.instances.c.lifecycle.running[2].type: unknown lifecycle check type \"bogus\""), "{out}");
    assert!(out.contains(":14:21: services.s.instances.c.lifecycle.pre-stop: invalid lifecycle checks: expected a list of checks"), "{out}");
    assert!(out.contains(":15:23: services.s.instances.c.lifecycle.pre-start[0]: missing required key \"command\""), "{out}");
    assert!(
        out.contains(
            ":15:60: services.s.instances.c.lifecycle.pre-start[1].extra: unknown key \"extra\""
        ),
        "{out}"
    );
}

#[test]
fn case36_http_check_defaults_and_service_checks_first() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    lifecycle: {{running: [{{type: http, port: server}}]}}\n    instances:\n      a1: {{ship: s1, ports: {{server: \"80:8080\"}}, lifecycle: {{running: [{{type: sleep, wait: 2}}]}}}}\n      b1: {{ship: s2, ports: {{server: 81}}}}\n"
    ));
    let a = &e.instances["a1"].lifecycle[&LifecycleState::Running];
    assert_eq!(a.len(), 2);
    match &a[0] {
        Check::Http {
            target_port,
            host,
            scheme,
            path,
            method,
            match_regex,
            max_wait,
            ..
        } => {
            assert_eq!(
                (
                    *target_port,
                    host.as_str(),
                    scheme.as_str(),
                    path.as_str(),
                    method.as_str()
                ),
                (8080, "10.213.0.1", "http", "/", "get")
            );
            assert_eq!((match_regex, *max_wait), (&None, 300.0));
        }
        c => panic!("{c:?}"),
    }
    assert_eq!(a[1], Check::Sleep { wait: 2.0 });
    // No shared mutation: b gets only the service check, with its own host and port.
    let b = &e.instances["b1"].lifecycle[&LifecycleState::Running];
    assert_eq!(b.len(), 1);
    assert!(matches!(&b[0], Check::Http { target_port: 81, host, .. } if host == "10.213.0.2"));
}

#[test]
fn tcp_and_exec_check_defaults() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s1, ports: {{p: 80}}, lifecycle: {{running: [{{type: tcp, port: p}}, {{type: exec, command: \"check --x 'a b'\"}}, {{type: rexec, command: [ls, -l], attempts: 3}}]}}}}\n"
    ));
    let c = &e.instances["a1"].lifecycle[&LifecycleState::Running];
    assert_eq!(
        c[0],
        Check::Tcp {
            port: "p".into(),
            target_port: 80,
            max_wait: 180
        }
    );
    assert_eq!(
        c[1],
        Check::Exec {
            command: vec!["check".into(), "--x".into(), "a b".into()],
            attempts: 180,
            envfrom: EnvFrom::Env,
            timeout: None,
            max_wait: None,
        }
    );
    assert_eq!(
        c[2],
        Check::Rexec {
            command: vec!["ls".into(), "-l".into()],
            attempts: 3
        }
    );
}

#[test]
fn exec_checks_take_a_run_timeout_and_a_max_wait() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s1, lifecycle: {{running: [{{type: exec, command: ./ready, attempts: 5, timeout: 2.5, max_wait: 30}}]}}}}\n"
    ));
    let c = &e.instances["a1"].lifecycle[&LifecycleState::Running];
    assert_eq!(
        c[0],
        Check::Exec {
            command: vec!["./ready".into()],
            attempts: 5,
            envfrom: EnvFrom::Env,
            timeout: Some(2.5),
            max_wait: Some(30.0),
        }
    );
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s1, lifecycle: {{running: [{{type: exec, command: x, timeout: soon, max_wait: -1}}]}}}}\n"
    ));
    assert!(
        out.contains("services.s.instances.a1.lifecycle.running[0].timeout: expected a number of seconds, got \"soon\""),
        "{out}"
    );
    assert!(
        out.contains(
            "services.s.instances.a1.lifecycle.running[0].max_wait: expected a number of seconds"
        ),
        "{out}"
    );
}

#[test]
fn leading_zero_ports_are_normalised() {
    // MaestroNG passed "080" through (Docker reads it as 80) and gave the
    // variables the text "080"; maestro reads the number.
    let e = ok(&format!(
        "{SHIPS}services:\n  w:\n    image: i\n    instances:\n      a1:\n        ship: s1\n        ports: {{p: 080, q: \"081:08081/tcp\", r: {{exposed: 090, external: [10.213.0.1, 0100]}}}}\n"
    ));
    let ports = &e.instances["a1"].ports;
    let got = |n: &str| (ports[n].exposed_key(), ports[n].external.to_string());
    assert_eq!(got("p"), ("80/tcp".into(), "80".into()));
    assert_eq!(got("q"), ("81/tcp".into(), "8081".into()));
    assert_eq!(got("r"), ("90/tcp".into(), "100".into()));
    let env = env_of(&e, "a1");
    assert_eq!(env["W_A1_P_PORT"], "80");
    assert_eq!(env["W_A1_Q_PORT"], "8081");
    assert_eq!(env["W_A1_Q_INTERNAL_PORT"], "81");
    assert_eq!(env["W_A1_R_PORT"], "100");
}

#[test]
fn instance_names_docker_refuses_are_errors_at_validation() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a b: {{ship: s1}}\n      x/y: {{ship: s1}}\n      \u{915}\u{93f}1: {{ship: s1}}\n      z: {{ship: s1}}\n      -ab: {{ship: s1}}\n      ok_1.x-Y: {{ship: s1}}\n      \"c:d\": {{ship: s1}}\n"
    ));
    for want in [
        ":9:7: services.s.instances.a b: invalid instance name: \"a b\": it contains white space; Docker refuses it as a container name",
        ":10:7: services.s.instances.x/y: invalid instance name: \"x/y\": it contains `/`",
        ":11:7: services.s.instances.\u{915}\u{93f}1: invalid instance name: \"\u{915}\u{93f}1\": it must start with an ASCII letter or digit",
        ":12:7: services.s.instances.z: invalid instance name: \"z\": Docker needs at least 2 characters",
        ":13:7: services.s.instances.-ab: invalid instance name: \"-ab\": it must start",
        ":15:7: services.s.instances.c:d: invalid instance name: \"c:d\": it contains a character other than",
    ] {
        assert!(out.contains(want), "{want}\nnot in:\n{out}");
    }
    assert!(!out.contains("ok_1.x-Y"), "{out}");
    assert_eq!(out.lines().count(), 6, "{out}");
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      ab\u{e9}: {{ship: s1}}\n"
    ));
    assert!(out.contains("it contains non-ASCII characters"), "{out}");
}

#[test]
fn host_port_conflicts_on_one_ship() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a: {{ship: s1, ports: {{http: \"80:8080\"}}}}\n      b: {{ship: s1, ports: {{web: \"81:8080\", dns: 53/udp}}}}\n      c: {{ship: s2, ports: {{http: \"80:8080\"}}}}\n      d: {{ship: s1, ports: {{dns: 53/udp, r: {{exposed: 9000, external: \"8079-8081\"}}}}}}\n"
    ));
    assert!(out.contains("services.s.instances.b.ports.web: host port 8080/tcp on ship s1 is also bound by a.ports.http (8080/tcp)"), "{out}");
    assert!(out.contains("services.s.instances.d.ports.dns: host port 53/udp on ship s1 is also bound by b.ports.dns"), "{out}");
    assert!(out.contains("services.s.instances.a.ports.http: host port 8080/tcp on ship s1 is also bound by d.ports.r (8079-8081/tcp)"), "{out}");
    assert!(
        !out.contains("instances.c."),
        "another ship is no conflict: {out}"
    );
}

#[test]
fn host_port_conflicts_follow_the_address_family() {
    // 0.0.0.0 and :: on one host port coexist (Docker binds both for a
    // port given no address); a wildcard clashes with its own family.
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a: {{ship: s1, ports: {{v4: \"80:8080\", v6: {{exposed: 80, external: ['::', 8080]}}}}}}\n      b: {{ship: s1, ports: {{one: {{exposed: 81, external: ['::1', 8080]}}, lo: {{exposed: 82, external: [127.0.0.1, 8080]}}, ok: {{exposed: 83, external: ['::1', 9090]}}}}}}\n      c: {{ship: s1, ports: {{ok: {{exposed: 83, external: [127.0.0.1, 9090]}}}}}}\n"
    ));
    assert!(
        !out.contains("instances.a."),
        "0.0.0.0 and :: do not clash: {out}"
    );
    assert!(out.contains("services.s.instances.b.ports.one: host port 8080/tcp on ship s1 is also bound by a.ports.v6"), "{out}");
    assert!(out.contains("services.s.instances.b.ports.lo: host port 8080/tcp on ship s1 is also bound by a.ports.v4"), "{out}");
    assert!(
        !out.contains("ports.ok"),
        "::1 and 127.0.0.1 do not clash: {out}"
    );
}

#[test]
fn ships_defaults_and_connection_options() {
    let e = ok(
        "name: t\nship_defaults: {timeout: 9, api_version: 1.20, max_concurrency: 3}\nships:\n  a: {ip: 10.213.0.1}\n  b: {ip: 10.213.0.2, endpoint: b.local, tls: true, tls_cert: c.pem, tls_key: k.pem, api_version: auto}\n  c: {ip: 10.213.0.3, ssh_tunnel: {user: ops, key: id_ed25519}, socket_path: /run/docker.sock}\n",
    );
    let a = &e.ships["a"];
    assert_eq!(
        (
            a.endpoint.as_str(),
            a.docker_port,
            a.timeout.as_secs(),
            a.max_concurrency
        ),
        ("10.213.0.1", 2375, 9, 3)
    );
    assert_eq!(a.api_version, ApiVersion::Fixed("1.20".into()));
    let b = &e.ships["b"];
    assert_eq!((b.docker_port, &b.api_version), (2376, &ApiVersion::Auto));
    let tls = b.tls.as_ref().unwrap();
    assert!(
        tls.cert.as_ref().unwrap().is_absolute() && tls.cert.as_ref().unwrap().ends_with("c.pem")
    );
    let c = &e.ships["c"];
    let t = c.ssh_tunnel.as_ref().unwrap();
    assert_eq!((t.user.as_str(), t.port), ("ops", 22));
    assert!(t.key.is_absolute());
    assert_eq!(
        c.socket_path.as_deref(),
        Some(Path::new("/run/docker.sock"))
    );
    assert_eq!(c.api_version, ApiVersion::Fixed("1.20".into()));
    let e2 = ok("name: t\nships: {a: {ip: x}}\n");
    assert_eq!(
        (
            e2.ships["a"].api_version.clone(),
            e2.ships["a"].max_concurrency
        ),
        (ApiVersion::Auto, 8)
    );
}

#[test]
fn ship_errors_are_located() {
    let out = err(
        "name: t\nships:\n  a: {endpoint: x, ssh_tunnel: {user: u}, tls_cert: c, api_version: one, max_concurrency: 0}\n  b: {ip: x, tls_verify: yes}\n",
    );
    assert!(
        out.contains(":3:6: ships.a: missing required key \"ip\""),
        "{out}"
    );
    assert!(
        out.contains(":3:32: ships.a.ssh_tunnel: missing required key \"key\""),
        "{out}"
    );
    assert!(
        out.contains(":3:6: ships.a: tls_cert and tls_key go together"),
        "{out}"
    );
    assert!(out.contains(":3:69: ships.a.api_version: api_version must be \"auto\" or a version like 1.41, got \"one\""), "{out}");
    assert!(
        out.contains(":3:91: ships.a.max_concurrency: max_concurrency must be at least 1"),
        "{out}"
    );
    assert!(
        out.contains(":4:6: ships.b: tls_verify needs tls_ca_cert"),
        "{out}"
    );
}

#[test]
fn container_options() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    omit: yes\n    instances:\n      a1:\n        ship: s1\n        command: \"run --fast\"\n        dns: 8.8.8.8\n        net: host\n        privileged: true\n        cap_add: [NET_ADMIN]\n        stop_timeout: 30\n        workdir: /w\n        username: nobody\n        security_opt: [no-new-privileges]\n        links: {{db: database}}\n        restart: on-failure:3\n        log_driver: syslog\n        log_opt: {{tag: x}}\n        labels: [a=b]\n        ulimits: {{nofile: 1024}}\n"
    ));
    let a = &e.instances["a1"];
    assert!(e.services["s"].omit);
    assert_eq!(
        a.command.as_deref(),
        Some(&["run".to_string(), "--fast".to_string()][..])
    );
    assert_eq!(
        (a.dns.clone(), a.net.as_deref(), a.hostname()),
        (vec!["8.8.8.8".to_string()], Some("host"), None)
    );
    assert!(a.privileged);
    assert_eq!(
        (a.stop_timeout, a.workdir.as_deref(), a.username.as_deref()),
        (30, Some("/w"), Some("nobody"))
    );
    assert_eq!(a.links["db"], "database");
    assert_eq!(
        a.restart,
        RestartPolicy {
            name: "on-failure".into(),
            maximum_retry_count: 3
        }
    );
    assert_eq!(a.log.as_ref().unwrap().driver, "syslog");
    assert_eq!(a.labels["a"], "b");
    assert_eq!(
        a.ulimits["nofile"],
        Ulimit {
            soft: 1024,
            hard: 1024
        }
    );
}

#[test]
fn option_errors_are_located() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a:\n        ship: s1\n        restart: noclue\n        limits: {{memory: 10x}}\n        log_driver: notvalid\n        labels: 42\n        privileged: maybe\n        env: [A=1]\n"
    ));
    assert!(
        out.contains(":11:18: services.s.instances.a.restart: invalid restart policy \"noclue\""),
        "{out}"
    );
    assert!(
        out.contains(":12:26: services.s.instances.a.limits.memory: unknown unit suffix"),
        "{out}"
    );
    assert!(
        out.contains(":13:21: services.s.instances.a.log_driver: log_driver must be one of"),
        "{out}"
    );
    assert!(
        out.contains(":14:17: services.s.instances.a.labels: invalid labels 42"),
        "{out}"
    );
    assert!(
        out.contains(
            ":15:21: services.s.instances.a.privileged: expected a boolean, got \"maybe\""
        ),
        "{out}"
    );
    assert!(
        out.contains(":16:14: services.s.instances.a.env: env must be a mapping"),
        "{out}"
    );
}

#[test]
fn env_values_never_appear_in_errors() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    env: {{TOKEN: {{secret: hunter2}}}}\n    instances: {{a: {{ship: s1}}}}\n"
    ));
    assert!(
        out.contains("services.s.env.TOKEN: a variable's value must be a scalar"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn registries_and_audit() {
    let e = ok(
        "name: t\nships: {a: {ip: x}}\nregistries:\n  r: {registry: 'https://r.example/v1/', username: u, password: p, retry: {attempts: 5, when: [500, 502]}}\naudit:\n  - {type: log, file: /tmp/audit.log}\n  - {type: slack, channel: '#ops', token: t, level: debug}\n  - {type: http, endpoint: 'http://127.0.0.1/h', payload: {text: '{what}'}}\n  - {type: exec, script: /bin/true, ignore_errors: true}\n",
    );
    assert_eq!(e.registries["r"].retry.when, [500, 502]);
    // Debug output (logs, panics) never carries the password.
    let shown = format!("{:?}", e.registries["r"]);
    assert!(
        shown.contains("<redacted>") && !shown.contains("\"p\""),
        "{shown}"
    );
    assert_eq!(e.audit.len(), 4);
    assert_eq!(e.audit[1].level, AuditLevel::Debug);
    assert!(
        matches!(&e.audit[2].kind, AuditorKind::Http { method, timeout, .. } if method == "POST" && *timeout == 3.0)
    );
    let out = err(
        "name: t\nships: {a: {ip: x}}\nregistries:\n  r: {username: u}\naudit:\n  - {type: slak}\n  - {type: slack, channel: c}\n",
    );
    assert!(
        out.contains(":4:6: registries.r: missing required key \"registry\""),
        "{out}"
    );
    assert!(
        out.contains(
            ":6:12: audit[0].type: unknown auditor type \"slak\"; did you mean \"slack\"?"
        ),
        "{out}"
    );
    assert!(
        out.contains(":7:5: audit[1]: missing required key \"token\""),
        "{out}"
    );
}

#[test]
fn all_errors_of_a_file_are_reported_in_file_order() {
    let out = err(
        "ships: {a: {ip: x, bogus: 1}}\nservices:\n  s: {image: i, instances: {a1: {ship: nope}}}\n",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("maestro.yaml:1:1:")
            && lines[1].starts_with("maestro.yaml:1:20:")
            && lines[2].starts_with("maestro.yaml:3:"),
        "{out}"
    );
}

#[test]
fn config_hash_is_stable_and_follows_the_configuration() {
    let y = format!("{SHIPS}{ZK_KAFKA}");
    let h1 = ok(&y).instances["k1"].config_hash.clone();
    assert_eq!(h1.len(), 64);
    assert_eq!(ok(&y).instances["k1"].config_hash, h1);
    let changed = ok(&y.replace("broker: 9092", "broker: 9093")).instances["k1"]
        .config_hash
        .clone();
    assert_ne!(changed, h1);
    // A dependency moving changes the link variables, hence the hash.
    let moved = ok(&y.replace("zk-1: {ship: s1", "zk-1: {ship: s2")).instances["k1"]
        .config_hash
        .clone();
    assert_ne!(moved, h1);
    // A variable of the instance or its service changes it; a lifecycle
    // check (not part of the container) does not.
    let with_env = y.replace("image: k\n", "image: k\n    env: {X: 1}\n");
    assert_ne!(ok(&with_env).instances["k1"].config_hash, h1);
    let with_check = y.replace(
        "{broker: 9092}}",
        "{broker: 9092}, lifecycle: {running: [{type: sleep, wait: 1}]}}",
    );
    assert_eq!(ok(&with_check).instances["k1"].lifecycle.len(), 1);
    assert_eq!(ok(&with_check).instances["k1"].config_hash, h1);
}

/// `validate` loads without the hashes (`LoadOptions::hashes`); every
/// other command, and the default, has them.
#[test]
fn config_hashes_are_left_out_only_when_asked() {
    let src = super::Source {
        name: "maestro.yaml".into(),
        text: format!("{SHIPS}{ZK_KAFKA}"),
        base_dir: ".".into(),
    };
    let with = super::load_source(&src, &LoadOptions::default()).unwrap();
    assert_eq!(with.env.instances["k1"].config_hash.len(), 64);
    let opts = LoadOptions {
        hashes: false,
        ..LoadOptions::default()
    };
    let without = super::load_source(&src, &opts).unwrap();
    assert!(
        without
            .env
            .instances
            .values()
            .all(|i| i.config_hash.is_empty())
    );
    assert_eq!(without.env.instances.len(), with.env.instances.len());
}

#[test]
fn schema_and_io_errors() {
    let out = err("__maestro: {schema: 3}\nname: t\nships: {a: {ip: x}}\n");
    assert!(
        out.contains(":1:21: __maestro.schema: unknown schema 3"),
        "{out}"
    );
    let e = load(
        Path::new("/nonexistent/maestro.yaml"),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }));
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn case37_template_before_yaml() {
    let src = super::Source {
        name: "m.yaml".into(),
        text: "name: {{ env.BAR }}\nships: {a: {ip: x}}\n".into(),
        base_dir: ".".into(),
    };
    let opts = LoadOptions {
        strict_templates: false,
        vars: [("BAR".to_string(), "bar".to_string())].into(),
        ..LoadOptions::default()
    };
    assert_eq!(super::load_source(&src, &opts).unwrap().env.name, "bar");
}

#[test]
fn more_errors_are_located() {
    let yaml = "__maestro: {schema: 2}
name: t
ship_provider: dynamic
ships:
  s1: {ip: 10.213.0.1, docker_port: 70000}
registries:
  r: {registry: x, retry: {attempts: 0, when: [42]}}
services:
  s:
    image: i
    instances:
      a:
        ship: s1
        volumes: {/h1: relative, /h2: {target: /t, mode: ro}, /h3: /t}
        ulimits: {nofile: {soft: 1}}
        command: run
        cmd: other
        labels: {a: {b: c}}
        ports: {dns: 53/udp}
        lifecycle:
          running: [{type: sleep}, {type: http, port: dns}, {type: exec, command: x, envfrom: file}]
          started: []
      b:
        ship: s1
        command: \"run 'unbalanced\"
";
    let out = err(yaml);
    for (line, path, msg) in [
        (
            3,
            "ship_provider",
            "invalid ship provider; available providers: static",
        ),
        (
            5,
            "ships.s1.docker_port",
            "port 70000 is out of range 1-65535",
        ),
        (
            7,
            "registries.r.retry.attempts",
            "attempts must be at least 1",
        ),
        (
            7,
            "registries.r.retry.when[0]",
            "expected an HTTP status code",
        ),
        (
            14,
            "services.s.instances.a.volumes./h1",
            "the container path \"relative\" must be absolute",
        ),
        (
            14,
            "services.s.instances.a.volumes./h3",
            "/h2 and /h3 are both mounted on /t",
        ),
        (
            15,
            "services.s.instances.a.ulimits.nofile",
            "missing required key \"hard\"",
        ),
        (
            25,
            "services.s.instances.b.command",
            "unbalanced quotes in the command",
        ),
        (
            17,
            "services.s.instances.a.cmd",
            "give either command or its deprecated spelling cmd, not both",
        ),
        (
            18,
            "services.s.instances.a.labels.a",
            "expected a string, got a mapping",
        ),
        (
            21,
            "services.s.instances.a.lifecycle.running[0]",
            "missing required key \"wait\"",
        ),
        (
            21,
            "services.s.instances.a.lifecycle.running[1].port",
            "port dns is not TCP",
        ),
        (
            21,
            "services.s.instances.a.lifecycle.running[2].envfrom",
            "envfrom must be env or stdin",
        ),
        (
            22,
            "services.s.instances.a.lifecycle.started",
            "unknown lifecycle state \"started\"",
        ),
    ] {
        let found = out.lines().any(|l| {
            l.starts_with(&format!("maestro.yaml:{line}:"))
                && l.contains(&format!(": {path}: {msg}"))
        });
        assert!(found, "line {line}, {path}: {msg}\n{out}");
    }
}

#[test]
fn yaml_and_template_errors_are_located() {
    let out = err("name: t\nships: {a: {ip: x}\n");
    assert!(out.starts_with("maestro.yaml:"), "{out}");
    assert!(out.contains("invalid YAML"), "{out}");
    let out = err("name: t\nships:\n  a: {ip: x}\n  b: *nope\n");
    assert!(out.contains(":4:") && out.contains("invalid YAML"), "{out}");
    let out = err("name: t\n{% for x in %}\n");
    assert!(
        out.starts_with("maestro.yaml:2: template error: syntax error"),
        "{out}"
    );
}

#[test]
fn envfile_lines_without_equals_are_errors() {
    let dir = std::env::temp_dir().join(format!("maestro-envfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.env"), "A=1\nNOEQUALS\n").unwrap();
    let yaml = format!(
        "{SHIPS}services:\n  s: {{image: i, instances: {{a1: {{ship: s1, envfile: [bad.env]}}}}}}\n"
    );
    let out = load_str(&yaml, &dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.contains(":6:54: services.s.instances.a1.envfile[0]: envfile")
            && out.contains("bad.env: line 2: expected KEY=VALUE"),
        "{out}"
    );
}

#[test]
fn deptree_includes_volumes_from_services() {
    let e = ok(&format!(
        "{SHIPS}services:\n  data: {{image: i, instances: {{d1: {{ship: s1}}}}}}\n  app: {{image: i, instances: {{a1: {{ship: s1, volumes_from: d1}}}}}}\n"
    ));
    let selection = crate::plan::selection::select(
        &e,
        crate::plan::selection::Verb::Deptree,
        &crate::plan::selection::Request::default(),
    )
    .unwrap();
    let services: Vec<String> = selection.services.into_iter().collect();
    assert_eq!(
        crate::render::deptree::render(&e, &services, false),
        "app\n \\- data\n\ndata\n"
    );
}

#[test]
fn an_invalid_ship_or_service_is_reported_once() {
    let out = err(
        "name: t\nships:\n  s1: {endpoint: x}\nservices:\n  db: {instances: {d1: {ship: s1}}}\n  web: {image: i, requires: [db], instances: {w1: {ship: s1}}}\n",
    );
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains("ships.s1: missing required key \"ip\""),
        "{out}"
    );
    assert!(
        out.contains("services.db: missing required key \"image\""),
        "{out}"
    );
}

#[test]
fn every_bad_ship_key_is_reported() {
    let out = err(
        "name: t\nships: {a: {ip: x, ssh_tunnel: {user: u, key: k, port: 99999}, tls: maybe, timeout: -1, api_version: 1.2.3}}\n",
    );
    assert!(
        out.contains(":2:56: ships.a.ssh_tunnel.port: port 99999 is out of range 1-65535"),
        "{out}"
    );
    assert!(
        out.contains(":2:69: ships.a.tls: expected a boolean, got \"maybe\""),
        "{out}"
    );
    assert!(
        out.contains(":2:85: ships.a.timeout: expected a number of seconds, got -1"),
        "{out}"
    );
    assert!(
        out.contains(":2:102: ships.a.api_version: api_version must be"),
        "{out}"
    );
}

#[test]
fn health_check_and_bad_match_regex() {
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s1, lifecycle: {{running: [{{type: health}}, {{type: health, max_wait: 30}}]}}}}\n"
    ));
    let c = &e.instances["a1"].lifecycle[&LifecycleState::Running];
    assert_eq!(
        c[..],
        [
            Check::Health { max_wait: 300.0 },
            Check::Health { max_wait: 30.0 }
        ]
    );
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances:\n      a1: {{ship: s1, ports: {{w: 80}}, lifecycle: {{running: [{{type: http, port: w, match_regex: \"(oops\"}}, {{type: health, wait: 1}}]}}}}\n"
    ));
    assert!(
        out.contains("services.s.instances.a1.lifecycle.running[0].match_regex: bad regex: "),
        "{out}"
    );
    assert!(
        out.contains("services.s.instances.a1.lifecycle.running[1].wait: unknown key \"wait\""),
        "{out}"
    );
}

#[test]
fn an_instance_holds_its_ship_which_prints_and_serialises_as_its_name() {
    let e = ok(&format!(
        "{SHIPS}services:\n  web:\n    image: w\n    instances:\n      w1: {{ship: s2}}\n"
    ));
    let i = &e.instances["w1"];
    assert_eq!(
        (i.ship.name.as_str(), i.ship.ip.as_str()),
        ("s2", "10.213.0.2")
    );
    assert_eq!(i.ship, e.ships["s2"]);
    assert_ne!(i.ship, e.ships["s1"]);
    assert_eq!(serde_json::to_value(i).unwrap()["ship"], "s2");
    assert_eq!(i.ship.to_string(), "s2");
    assert_eq!(format!("{:?}", i.ship), "\"s2\"");
    assert_eq!(env_of(&e, "w1")["CONTAINER_HOST_ADDRESS"], "10.213.0.2");
}

#[test]
fn secret_names_and_secrets_lists() {
    let e = ok(&format!(
        "{SHIPS}secret_names: [pass, Cred]\nservices:\n  s:\n    image: i\n    secrets: [DSN]\n    instances:\n      a1: {{ship: s1, secrets: PEER}}\n      b1: {{ship: s2}}\n"
    ));
    assert_eq!(e.secrets.names, ["PASS", "CRED"]);
    assert!(e.secrets.is_secret("s", "a1", "DB_PASSWORD"));
    assert!(e.secrets.is_secret("s", "a1", "aws_cred"));
    assert!(
        !e.secrets.is_secret("s", "a1", "API_TOKEN"),
        "not a word any more"
    );
    assert!(e.secrets.is_secret("s", "b1", "DSN"));
    assert!(e.secrets.is_secret("s", "a1", "PEER"));
    assert!(!e.secrets.is_secret("s", "b1", "PEER"));
    // Without the key: the default words.
    let e = ok(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    instances: {{a1: {{ship: s1}}}}\n"
    ));
    assert_eq!(e.secrets.names, ["PASSWORD", "SECRET", "TOKEN", "KEY"]);
    let out = err(&format!(
        "{SHIPS}secret_names: ['', TOKEN]\nservices:\n  s:\n    image: i\n    secrets: {{a: 1}}\n    instances: {{a1: {{ship: s1}}}}\n"
    ));
    assert!(
        out.contains("secret_names[0]: an empty word would match every variable"),
        "{out}"
    );
    assert!(
        out.contains(":9:14: services.s.secrets: expected a string or a list of strings"),
        "{out}"
    );
}

#[test]
fn a_ca_turns_certificate_checks_on_unless_tls_verify_is_false() {
    let e = ok(
        "name: t\nships:\n  a: {ip: x, tls: true, tls_ca_cert: /ca.pem}\n  b: {ip: x, tls: true, tls_ca_cert: /ca.pem, tls_verify: false}\n  c: {ip: x, tls: true}\n  d: {ip: x, tls_verify: true, tls_ca_cert: /ca.pem}\n  e: {ip: x, tls_ca_cert: /ca.pem}\nservices: {}\n",
    );
    let verify = |s: &str| e.ships[s].tls.as_ref().map(|t| t.verify);
    assert_eq!(verify("a"), Some(true), "a CA alone checks");
    assert_eq!(verify("b"), Some(false), "explicitly off");
    assert_eq!(verify("c"), Some(false), "nothing to check against");
    assert_eq!(verify("d"), Some(true));
    assert_eq!(verify("e"), None, "a CA does not turn TLS on");
}

#[test]
fn ssh_control_persist_seconds_or_off() {
    use std::time::Duration;
    let e = ok(
        "name: t\nships:\n  a: {ip: x, ssh_tunnel: {user: u, key: k}}\n  b: {ip: x, ssh_tunnel: {user: u, key: k, control_persist: 60}}\n  c: {ip: x, ssh_tunnel: {user: u, key: k, control_persist: false}}\n  d: {ip: x, ssh_tunnel: {user: u, key: k, control_persist: 0}}\n",
    );
    let persist = |s: &str| e.ships[s].ssh_tunnel.as_ref().unwrap().control_persist;
    assert_eq!(persist("a"), Some(Duration::from_secs(300)));
    assert_eq!(persist("b"), Some(Duration::from_secs(60)));
    assert_eq!(persist("c"), None);
    assert_eq!(persist("d"), None);
    let out = err(
        "name: t\nships:\n  a: {ip: x, ssh_tunnel: {user: u, key: k, control_persist: soon}}\n",
    );
    assert!(
        out.contains(":3:61: ships.a.ssh_tunnel.control_persist: control_persist is a whole number of seconds, or false for no sharing; got \"soon\""),
        "{out}"
    );
}

#[test]
fn nul_in_a_value_is_an_error_without_the_value() {
    let out = err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    env: {{DB_PASSWORD: \"hunter2\\0x\"}}\n    instances: {{a1: {{ship: s1}}}}\n"
    ));
    assert!(
        out.contains(
            "services.s.env.DB_PASSWORD: a variable's value cannot contain a NUL character"
        ),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
    let e = super::container_env::parse_envfile("A=1\nTOKEN=hunter2\0x\n").unwrap_err();
    assert_eq!(
        e,
        "line 2: the value of TOKEN contains a NUL character, which Docker refuses"
    );
}

#[test]
fn daemon_errors_are_scrubbed_of_the_instance_secrets() {
    let e = ok(&format!(
        "{SHIPS}services:\n  keystore:\n    image: i\n    ports: {{p: 9000}}\n    env: {{DB_PASSWORD: hunter2pw, OPAQUE: op4que, PLAIN: visible, SHORT_KEY: ab}}\n    secrets: [OPAQUE]\n    instances: {{ks1: {{ship: s1}}}}\n"
    ));
    let i = &e.instances["ks1"];
    let msg =
        "runc: \"DB_PASSWORD=hunter2pw\" \"OPAQUE=op4que\" \"PLAIN=visible\" at 10.213.0.1:9000 ab";
    let got = e.scrub_secrets(i, msg);
    assert_eq!(
        got,
        "runc: \"DB_PASSWORD=<redacted>\" \"OPAQUE=<redacted>\" \"PLAIN=visible\" at 10.213.0.1:9000 ab",
        "link variables (KEYSTORE_KS1_HOST) and short values stay"
    );
}

/// Above `PARALLEL_HASHES` instances the configuration hashes are computed
/// on two threads: each is still its own instance's.
#[test]
fn config_hashes_on_two_threads_are_each_instances_own() {
    let mut yaml = format!("{SHIPS}services:\n");
    for s in 0..2 {
        yaml.push_str(&format!(
            "  svc{s}:\n    image: app:{s}\n    env: {{LEVEL: l{s}}}\n    instances:\n"
        ));
        for i in 0..60 {
            yaml.push_str(&format!(
                "      svc{s}-{i}: {{ship: s{}, env: {{ID: {i}}}}}\n",
                i % 2 + 1
            ));
        }
    }
    let env = ok(&yaml);
    assert_eq!(env.instances.len(), 120);
    let mut seen = std::collections::BTreeSet::new();
    for inst in env.instances.values() {
        let digest = env.envs.services[&inst.service].digest;
        let user = env
            .envs
            .instances
            .get(&inst.name)
            .map_or(&[][..], Vec::as_slice);
        let expected = super::hash::config_hash(inst, &inst.ship.ip, &digest, user);
        assert_eq!(inst.config_hash, expected, "{}", inst.name);
        assert!(seen.insert(expected), "{}", inst.name);
    }
}

/// `services` of `n` services of 10 instances, one line each; `edit`
/// may change an instance's line (by service and instance number).
fn many_services(n: usize, edit: impl Fn(usize, usize) -> Option<String>) -> String {
    let mut s = format!("{SHIPS}services:\n");
    for v in 1..=n {
        s.push_str(&format!("  svc-{v}:\n    image: a\n    instances:\n"));
        for i in 1..=10 {
            let line =
                edit(v, i).unwrap_or_else(|| format!("svc-{v}-{i}: {{ship: s{}}}", i % 2 + 1));
            s.push_str(&format!("      {line}\n"));
        }
    }
    s
}

/// Files of many instances are read on two threads (the first services on
/// another one): everything read, errors of both halves in file order,
/// and an instance name repeated across the halves reported where it is.
#[test]
fn many_services_read_alike_on_two_threads() {
    let e = ok(&many_services(30, |_, _| None));
    assert_eq!(e.instances.len(), 300);
    assert_eq!(e.services.len(), 30);
    assert_eq!(e.instances["svc-1-1"].service, "svc-1");
    assert_eq!(e.instances["svc-30-10"].service, "svc-30");
    assert_eq!(e.instances["svc-30-10"].ship.name, "s1");

    let out = err(&many_services(30, |v, i| match (v, i) {
        (2, 3) => Some("svc-2-3: {ship: s9}".into()),
        (29, 5) => Some("svc-29-5: {ship: s1, shipp: s2}".into()),
        _ => None,
    }));
    let first = out.find(":24:23: services.svc-2.instances.svc-2-3.ship: unknown ship");
    let last = out.find(":377:28: services.svc-29.instances.svc-29-5.shipp: unknown key");
    assert!(first.is_some() && last.is_some(), "{out}");
    assert!(first < last, "{out}");

    let out = err(&many_services(30, |v, i| match (v, i) {
        (1, 1) | (30, 10) => Some("dup: {ship: s1}".into()),
        _ => None,
    }));
    assert!(
        out.contains(
            "services.svc-30.instances.dup: instance dup is already defined in service svc-1"
        ),
        "{out}"
    );
    assert_eq!(out.matches("already defined").count(), 1, "{out}");
}
