//! `maestro dump [-c] [things]` and `maestro config --format json`: the
//! resolved environment as JSON on stdout, instances in dependency order.
//! Passwords, tokens, headers and the environment values that are secret
//! (`config::secrets`: names that look secret, names the file lists in
//! `secrets`) are redacted unless `--show-secrets` is given.

use std::io::{self, BufWriter, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use super::{CommandResult, Context};
use crate::config::model::Instance;
use crate::config::secrets::Secrets;
use crate::config::ship::{ApiVersion, Ship};
use crate::config::{Environment, Loaded, yaml};
use crate::exit::{ExitStatus, Failed};
use crate::plan::selection::{Request, Verb};

pub const REDACTED: &str = "<redacted>";

pub fn run(
    ctx: &Context,
    with_config: bool,
    show_secrets: bool,
    things: &[String],
) -> CommandResult {
    // Usage errors (unknown things) come before any output.
    let selection = ctx.select(Verb::Dump, &Request::things(things))?;
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = write(
        &mut out,
        ctx.loaded(),
        &selection.ordered,
        with_config,
        show_secrets,
    );
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitStatus::Success),
        // A reader that went away early (`maestro dump | head`) is not an
        // error: the output stops there, as with other Unix tools.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitStatus::Success),
        Err(e) => Err(Failed::error(format_args!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// Writes the document (pretty JSON and a newline) for the instances in
/// `order`, one container at a time: a container's environment (thousands
/// of variables with deep `requires` chains) is built, written and dropped
/// before the next one, so memory does not grow with the output.
pub fn write(
    out: &mut impl Write,
    l: &Loaded,
    order: &[String],
    with_config: bool,
    show_secrets: bool,
) -> io::Result<()> {
    let doc = Document {
        l,
        order,
        with_config,
        show_secrets,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// The whole document, serialised as a JSON object with its keys sorted
/// (as `serde_json::Value` orders them).
struct Document<'a> {
    l: &'a Loaded,
    order: &'a [String],
    with_config: bool,
    show_secrets: bool,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let env = &self.l.env;
        // The small parts are built as values and redacted as before; none
        // of the top-level keys is one that `redact` treats specially.
        let part = |mut v: Value| {
            if !self.show_secrets {
                redact(&mut v, &env.secrets);
            }
            v
        };
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("audit", &part(to_value(&env.audit)))?;
        if self.with_config {
            m.serialize_entry("config", &part(yaml::to_json(&self.l.tree)))?;
        }
        m.serialize_entry(
            "instances",
            &Instances {
                env,
                order: self.order,
                show_secrets: self.show_secrets,
            },
        )?;
        m.serialize_entry("name", &env.name)?;
        m.serialize_entry("registries", &part(to_value(&env.registries)))?;
        m.serialize_entry("schema", &env.schema)?;
        m.serialize_entry("services", &part(to_value(&env.services)))?;
        let ships: serde_json::Map<String, Value> = env
            .ships
            .values()
            .map(|s| (s.name.clone(), ship_json(s)))
            .collect();
        m.serialize_entry("ships", &part(Value::Object(ships)))?;
        m.end()
    }
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

struct Instances<'a> {
    env: &'a Environment,
    order: &'a [String],
    show_secrets: bool,
}

impl Serialize for Instances<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.order
                .iter()
                .filter_map(|n| self.env.instances.get(n))
                .map(|i| InstanceOut {
                    env: self.env,
                    i,
                    show_secrets: self.show_secrets,
                }),
        )
    }
}

/// One instance: its fields, and `env` in its sorted place.
struct InstanceOut<'a> {
    env: &'a Environment,
    i: &'a Instance,
    show_secrets: bool,
}

impl Serialize for InstanceOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = to_value(self.i);
        if !self.show_secrets {
            redact(&mut v, &self.env.secrets);
        }
        let Value::Object(fields) = v else {
            return v.serialize(s);
        };
        let vars = ContainerVars {
            env: self.env.container_env_view(self.i),
            secret: (!self.show_secrets).then_some((&self.env.secrets, self.i)),
        };
        let mut m = s.serialize_map(Some(fields.len() + 1))?;
        let mut vars = Some(vars);
        for (k, val) in &fields {
            if k.as_str() > "env"
                && let Some(vars) = vars.take()
            {
                m.serialize_entry("env", &vars)?;
            }
            m.serialize_entry(k, val)?;
        }
        if let Some(vars) = vars {
            m.serialize_entry("env", &vars)?;
        }
        m.end()
    }
}

/// A container's environment, secret values redacted (see
/// `config::secrets`) unless secrets are shown.
struct ContainerVars<'a> {
    env: crate::config::container_env::ContainerEnv<'a>,
    /// The rule and the instance, when secrets are redacted.
    secret: Option<(&'a Secrets, &'a Instance)>,
}

impl Serialize for ContainerVars<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.env.iter_sourced().map(|(k, v, link)| {
            let hide = !link
                && self
                    .secret
                    .is_some_and(|(rule, i)| rule.is_secret(&i.service, &i.name, k));
            (k, if hide { REDACTED } else { v })
        }))
    }
}

/// The selection of `dump` in dependency order (for the tests).
#[cfg(test)]
fn ordered_instances(env: &Environment, things: &[String]) -> Result<Vec<String>, String> {
    crate::plan::selection::select(env, Verb::Dump, &Request::things(things))
        .map(|s| s.ordered)
        .map_err(|e| e.message().to_string())
}

/// The document as one value: the reference `write` is tested against.
#[cfg(test)]
pub fn document(
    l: &Loaded,
    things: &[String],
    with_config: bool,
    show_secrets: bool,
) -> Result<Value, String> {
    let env = &l.env;
    let order = ordered_instances(env, things)?;
    let instances: Vec<Value> = order
        .iter()
        .map(|n| serde_json::to_value(&env.instances[n]).unwrap_or(Value::Null))
        .collect();
    let mut doc = json!({
        "name": env.name,
        "schema": env.schema,
        "ships": env.ships.values().map(|s| (s.name.clone(), ship_json(s))).collect::<serde_json::Map<_, _>>(),
        "registries": serde_json::to_value(&env.registries).unwrap_or(Value::Null),
        "services": serde_json::to_value(&env.services).unwrap_or(Value::Null),
        "instances": instances,
        "audit": serde_json::to_value(&env.audit).unwrap_or(Value::Null),
    });
    if with_config && let Some(o) = doc.as_object_mut() {
        o.insert("config".into(), yaml::to_json(&l.tree));
    }
    if !show_secrets {
        redact(&mut doc, &env.secrets);
    }
    // Each container's environment by its own instance's rule.
    if let Some(list) = doc["instances"].as_array_mut() {
        for (v, n) in list.iter_mut().zip(&order) {
            let i = &env.instances[n];
            let view = env.container_env_view(i);
            let vars: serde_json::Map<String, Value> = view
                .iter_sourced()
                .map(|(k, val, link)| {
                    let hide = !show_secrets && !link && env.secrets.is_secret(&i.service, n, k);
                    (k.to_string(), json!(if hide { REDACTED } else { val }))
                })
                .collect();
            if let Some(o) = v.as_object_mut() {
                o.insert("env".into(), Value::Object(vars));
            }
        }
    }
    Ok(doc)
}

fn ship_json(s: &Ship) -> Value {
    json!({
        "ip": s.ip,
        "endpoint": s.endpoint,
        "docker_port": s.docker_port,
        "socket_path": s.socket_path,
        "api_version": match &s.api_version { ApiVersion::Auto => "auto".to_string(), ApiVersion::Fixed(v) => v.clone() },
        "timeout": s.timeout.as_secs_f64(),
        "tls": s.tls.as_ref().map(|t| json!({"verify": t.verify, "ca_cert": t.ca_cert, "cert": t.cert, "key": t.key})),
        "ssh_tunnel": s.ssh_tunnel.as_ref().map(|t| json!({"user": t.user, "key": t.key, "port": t.port, "known_hosts": t.known_hosts, "control_persist": t.control_persist.map_or(json!(false), |d| json!(d.as_secs()))})),
        "max_concurrency": s.max_concurrency,
    })
}

/// Replaces secrets: values of `password` and `token` keys, every value
/// inside `headers` mappings, and the values of `env` mappings (the parsed
/// file's) whose variables are secret by `rule` (see `config::secrets`).
pub fn redact(v: &mut Value, rule: &Secrets) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match k.as_str() {
                    "password" | "token" if !val.is_null() => *val = Value::String(REDACTED.into()),
                    "headers" => match val {
                        Value::Object(inner) => inner
                            .values_mut()
                            .for_each(|x| *x = Value::String(REDACTED.into())),
                        Value::Null => {}
                        other => *other = Value::String(REDACTED.into()),
                    },
                    "env" => match val {
                        Value::Object(inner) => inner
                            .iter_mut()
                            .filter(|(name, x)| !x.is_null() && rule.is_secret_anywhere(name))
                            .for_each(|(_, x)| *x = Value::String(REDACTED.into())),
                        Value::Null => {}
                        other => *other = Value::String(REDACTED.into()),
                    },
                    _ => redact(val, rule),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| redact(x, rule)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoadOptions, Source, load_source};

    const ENV: &str = r#"name: t
registries:
  lab: {registry: "https://10.213.0.30:5000", username: u, password: hunter2}
ships:
  s1: {ip: 10.213.0.11}
  s2: {ip: 10.213.0.12}
services:
  zk:
    image: lab/zk:3
    env: {SECRET: s3cret, ZZZ: last, ZK_ZK_1_HOST: overridden}
    ports: {client: 2181}
    instances:
      zk-1: {ship: s1, env: {ID: 1, PEER: zk-2}, secrets: PEER}
      zk-2: {ship: s2, env: {ID: 2, PEER: zk-1}}
  kafka:
    image: lab/kafka:2
    requires: [zk]
    env: {API_TOKEN: t0k, ZK_INSTANCES: overridden, A: first, DSN: "pg://u:dsnpass@db"}
    secrets: [DSN]
    lifecycle:
      running: [{type: http, port: web, requests_options: {headers: {Authorization: x}}}]
    ports: {web: 8080}
    instances:
      kafka-1: {ship: s1, labels: {a: b}}
  lone:
    image: lab/lone:1
    instances:
      lone-1: {ship: s2}
"#;

    fn loaded() -> Loaded {
        let src = Source {
            name: "maestro.yaml".into(),
            text: ENV.into(),
            base_dir: ".".into(),
        };
        load_source(&src, &LoadOptions::default()).unwrap()
    }

    fn streamed(l: &Loaded, things: &[String], with_config: bool, show: bool) -> String {
        let order = ordered_instances(&l.env, things).unwrap();
        let mut out = Vec::new();
        write(&mut out, l, &order, with_config, show).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The streamed output is byte for byte the pretty-printed document
    /// value, in every mode.
    #[test]
    fn streamed_output_equals_the_document_value() {
        let l = loaded();
        for things in [vec![], vec!["kafka-1".to_string()], vec!["zk".to_string()]] {
            for with_config in [false, true] {
                for show in [false, true] {
                    let doc = document(&l, &things, with_config, show).unwrap();
                    let want = format!("{}\n", serde_json::to_string_pretty(&doc).unwrap());
                    let got = streamed(&l, &things, with_config, show);
                    assert_eq!(
                        got, want,
                        "things {things:?} config {with_config} show {show}"
                    );
                    let parsed: Value = serde_json::from_str(&got).unwrap();
                    assert_eq!(parsed, doc);
                }
            }
        }
    }

    #[test]
    fn environments_are_complete_and_redacted_unless_asked() {
        let l = loaded();
        let doc: Value = serde_json::from_str(&streamed(&l, &[], false, true)).unwrap();
        let names: Vec<&str> = doc["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["lone-1", "zk-1", "zk-2", "kafka-1"]);
        let kafka = &doc["instances"][3]["env"];
        // Link variables win over the service's own `env`.
        assert_eq!(kafka["ZK_INSTANCES"], "zk-1,zk-2");
        assert_eq!(kafka["ZK_ZK_1_HOST"], "10.213.0.11");
        assert_eq!(kafka["A"], "first");
        assert_eq!(kafka["API_TOKEN"], "t0k");
        let zk1 = &doc["instances"][1]["env"];
        assert_eq!(zk1["ZK_ZK_1_HOST"], "10.213.0.11");
        assert_eq!(zk1["ZK_ZK_1_CLIENT_INTERNAL_PORT"], "2181");
        assert_eq!(zk1["ID"], "1");
        assert_eq!(zk1["ZZZ"], "last");
        // The same as the map the orchestration gives the container.
        let i = &l.env.instances["kafka-1"];
        let map: serde_json::Map<String, Value> = l
            .env
            .container_env(i)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        assert_eq!(kafka, &Value::Object(map));

        let text = streamed(&l, &[], true, false);
        assert!(
            !text.contains("t0k")
                && !text.contains("hunter2")
                && !text.contains("s3cret")
                && !text.contains("dsnpass"),
            "{text}"
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        // Link variables and plain values stay readable; names that look
        // secret and names listed in `secrets` are redacted.
        let kafka = &doc["instances"][3]["env"];
        assert_eq!(kafka["ZK_INSTANCES"], "zk-1,zk-2");
        assert_eq!(kafka["A"], "first");
        assert_eq!(kafka["API_TOKEN"], REDACTED);
        assert_eq!(kafka["DSN"], REDACTED);
        let zk1 = &doc["instances"][1]["env"];
        assert_eq!(zk1["ZK_ZK_1_HOST"], "10.213.0.11");
        assert_eq!(zk1["SECRET"], REDACTED);
        assert_eq!(zk1["ZZZ"], "last");
        assert_eq!(zk1["ID"], "1");
        assert_eq!(zk1["PEER"], REDACTED, "listed in zk-1's secrets");
        assert_eq!(doc["instances"][2]["env"]["PEER"], "zk-1", "not in zk-2's");
        // The parsed file: the same names, whoever listed them.
        let tree = &doc["config"]["services"];
        assert_eq!(tree["kafka"]["env"]["DSN"], REDACTED);
        assert_eq!(tree["kafka"]["env"]["A"], "first");
        assert_eq!(tree["zk"]["instances"]["zk-2"]["env"]["PEER"], REDACTED);
        assert_eq!(tree["zk"]["instances"]["zk-2"]["env"]["ID"], 2);
        assert_eq!(doc["registries"]["lab"]["password"], REDACTED);
        assert_eq!(
            doc["instances"][3]["lifecycle"]["running"][0]["headers"]["Authorization"], REDACTED,
            "{}",
            doc["instances"][3]["lifecycle"]
        );
    }

    /// A writer that fails: the error comes back (the caller decides what a
    /// closed pipe means), nothing panics.
    #[test]
    fn write_errors_are_returned() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let l = loaded();
        let order = ordered_instances(&l.env, &[]).unwrap();
        let e = write(&mut Closed, &l, &order, false, false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }
}
