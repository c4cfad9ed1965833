//! `scripts/bench/start`: `maestro start` of 30 and 100 instances over the
//! lab's three plain ships, in 3 dependency levels with a tcp check each,
//! beside the daemons' floor: the same creates and starts issued straight
//! to the API with our client, 8 in flight per ship, no ordering, no
//! checks. Needs the lab (`scripts/lab up`) and a release build of
//! `maestro` (the script builds it). Numbers vary with the machine's load.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use maestro::config::ship::{ApiVersion, Ship};
use maestro::docker::models::{ContainerCreateBody, HostConfig, PortBinding};
use maestro::docker::{Docker, filters};

const SHIPS: [(&str, &str); 3] = [
    ("ship1", "10.213.0.11"),
    ("ship2", "10.213.0.12"),
    ("ship3", "10.213.0.13"),
];
const PER_SHIP: usize = 8;
const BASE_PORT: u16 = 33000;

fn lab_vars() -> BTreeMap<String, String> {
    let dir = std::env::var("MAESTRO_LAB_DIR").unwrap_or_else(|_| "/var/tmp/mlab".into());
    let text = std::fs::read_to_string(format!("{dir}/lab.env"))
        .expect("the lab is not up: run scripts/lab up");
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

fn ship(name: &str, ip: &str) -> Ship {
    Ship {
        name: name.into(),
        ip: ip.into(),
        endpoint: ip.into(),
        docker_port: 2375,
        socket_path: None,
        api_version: ApiVersion::Auto,
        timeout: Duration::from_secs(60),
        tls: None,
        ssh_tunnel: None,
        max_concurrency: PER_SHIP,
    }
}

/// (instance name, ship index, host port) of a run of `n` instances.
fn layout(run: &str, n: usize) -> Vec<(String, usize, u16)> {
    (0..n)
        .map(|k| {
            let port = BASE_PORT + u16::try_from(k / 3).unwrap_or(0);
            (format!("{run}-{k}"), k % 3, port)
        })
        .collect()
}

fn body(image: &str, run: &str, port: u16) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.into()),
        cmd: Some(vec![
            "httpd".into(),
            "-f".into(),
            "-p".into(),
            "8080".into(),
        ]),
        exposed_ports: Some(vec!["8080/tcp".into()]),
        labels: Some([("maestro.bench".to_string(), run.to_string())].into()),
        host_config: Some(HostConfig {
            port_bindings: Some(
                [(
                    "8080/tcp".to_string(),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some(port.to_string()),
                    }]),
                )]
                .into(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The floor: create + start of every container, 8 in flight per ship.
fn floor(dockers: &[Docker], image: &str, run: &str, n: usize) -> Duration {
    let items = layout(run, n);
    let queues: Vec<Mutex<VecDeque<(String, u16)>>> = (0..3)
        .map(|s| {
            Mutex::new(
                items
                    .iter()
                    .filter(|(_, ship, _)| *ship == s)
                    .map(|(name, _, port)| (name.clone(), *port))
                    .collect(),
            )
        })
        .collect();
    let began = Instant::now();
    std::thread::scope(|scope| {
        for (s, docker) in dockers.iter().enumerate() {
            for _ in 0..PER_SHIP {
                let queue = &queues[s];
                scope.spawn(move || {
                    loop {
                        let next = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
                        let Some((name, port)) = next else { break };
                        let created = docker
                            .create(&name, &body(image, run, port))
                            .expect("create");
                        docker.start(&created.id).expect("start");
                    }
                });
            }
        }
    });
    began.elapsed()
}

fn environment(lab: &BTreeMap<String, String>, image: &str, run: &str, n: usize) -> String {
    let fragment = std::fs::read_to_string(&lab["MAESTRO_LAB_YAML"]).expect("lab yaml");
    let mut yaml = format!("name: {run}\nship_defaults: {{timeout: 60}}\n{fragment}\nservices:\n");
    let items = layout(run, n);
    for level in 0..3 {
        yaml.push_str(&format!("  l{level}:\n    image: {image}\n"));
        if level > 0 {
            yaml.push_str(&format!("    requires: [l{}]\n", level - 1));
        }
        yaml.push_str("    lifecycle: {running: [{type: tcp, port: p}]}\n    instances:\n");
        for (k, (name, ship, port)) in items.iter().enumerate() {
            if k * 3 / n == level {
                yaml.push_str(&format!(
                    "      {name}: {{ship: {}, command: httpd -f -p 8080, ports: {{p: '8080:{port}'}}}}\n",
                    SHIPS[*ship].0
                ));
            }
        }
    }
    yaml
}

fn clean(dockers: &[Docker], label: &str) {
    std::thread::scope(|scope| {
        for d in dockers {
            scope.spawn(move || {
                let list = d
                    .containers(true, &filters([("label", label)]))
                    .unwrap_or_default();
                for c in list {
                    let _ = d.remove(&c.id, true, true);
                }
            });
        }
    });
}

fn main() {
    let lab = lab_vars();
    let image = lab["MAESTRO_LAB_IMAGE"].clone();
    let maestro = std::env::var("MAESTRO_BIN")
        .map_or_else(|_| PathBuf::from("target/release/maestro"), PathBuf::from);
    let dockers: Vec<Docker> = SHIPS
        .iter()
        .map(|(n, ip)| Docker::new(&ship(n, ip)).expect("client"))
        .collect();
    let dir = std::env::temp_dir().join(format!("maestro-bench-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("instances  floor (s)  maestro start (s)  ratio");
    for n in [30usize, 100] {
        let run = format!("bs{}-{n}", std::process::id());
        let floor_run = format!("{run}f");
        clean(&dockers, &format!("maestro.bench={floor_run}"));
        let f = floor(&dockers, &image, &floor_run, n);
        clean(&dockers, &format!("maestro.bench={floor_run}"));

        std::fs::write(dir.join("maestro.yaml"), environment(&lab, &image, &run, n))
            .expect("write env");
        let began = Instant::now();
        let out = Command::new(&maestro)
            .args(["start", "--progress", "plain"])
            .current_dir(&dir)
            .output()
            .expect("run maestro");
        let m = began.elapsed();
        clean(&dockers, &format!("maestro.environment={run}"));
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stdout));
            panic!("maestro start failed");
        }
        println!(
            "{n:>9}  {:>9.2}  {:>17.2}  {:>5.2}x",
            f.as_secs_f64(),
            m.as_secs_f64(),
            m.as_secs_f64() / f.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
