//! The daemons' own floor for `scripts/bench/start`, and its Docker chores.
//!
//! `bench_floor up FILE` creates and starts every instance of the
//! environment file straight through the Engine API: a minimal body (image,
//! command, published ports), `max_concurrency` (8) requests in flight per
//! ship, no ordering, no checks. It prints one JSON line: the wall time from
//! the first create to the last start returned, and per-call medians.
//!
//! `bench_floor ordered FILE`: the ordered floor, the same calls level by
//! level along the services' `requires` (level 1: services that require
//! nothing; level k: services whose deepest requirement is at level k-1):
//! each level all at once (`max_concurrency` per ship, no checks), the next
//! one when every call of the level has returned. Its JSON line adds the
//! seconds of each level (`levels`).
//!
//! `bench_floor restart FILE SERVICE`: the floor of `restart --batch 1`:
//! one instance of the service after the other, stop (with its
//! `stop_timeout`), remove, create and start; `elapsed` is the sum, and
//! `stop_p50`/`start_p50` the medians of one instance's stop and of its
//! remove, create and start.
//!
//! The other modes prepare and verify the runs of the benchmark:
//! - `start FILE`: starts the (stopped) containers of every instance, timed
//!   the same way (re-arms an environment for the stop benchmark);
//! - `stop FILE`: the floor of `stop`: stops every instance's container
//!   with its `stop_timeout`, timed the same way;
//! - `stop-ordered FILE`: the ordered floor of `stop`: the same stops level
//!   by level in reverse (the deepest level first, as dependents stop
//!   before what they require), each level all at once; `levels` as for
//!   `ordered`;
//! - `clean FILE`: force-removes every container named `bench-*` on the
//!   file's ships;
//! - `count FILE`: how many of the file's instances have a running
//!   container, as `{"running": n, "instances": m}`.
//!
//! Build: `cargo build --release -p maestro --example bench_floor`.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use maestro::config::model::{Environment, Instance};
use maestro::config::{self, LoadOptions};
use maestro::docker::models::{ContainerCreateBody, HostConfig, PortBinding};
use maestro::docker::{Docker, filters};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Containers the benchmark owns: `clean` removes only these.
const PREFIX: &str = "bench-";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [mode, file] => run(mode, Path::new(file)),
        [mode, file, service] if mode == "restart" => {
            config::load(Path::new(file), &LoadOptions::from_process(false))
                .map_err(Into::into)
                .and_then(|l| restart(&l.env, service))
        }
        _ => Err(
            "usage: bench_floor up|ordered|start|stop|stop-ordered|clean|count FILE, \
                  or bench_floor restart FILE SERVICE"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("bench_floor: {e}");
        std::process::exit(1);
    }
}

fn run(mode: &str, file: &Path) -> Res<()> {
    let env = config::load(file, &LoadOptions::from_process(false))?.env;
    let ships = clients(&env)?;
    match mode {
        "up" => timed(&env, &ships, |d, i| {
            let created = timed_call(|| d.create(&i.name, &body(i)))?;
            let started = timed_call(|| d.start(&i.name))?;
            Ok([Some(created), Some(started)])
        }),
        "ordered" => ordered(&env, &ships),
        "start" => timed(&env, &ships, |d, i| {
            Ok([None, Some(timed_call(|| d.start(&i.name))?)])
        }),
        "stop" => timed(&env, &ships, |d, i| {
            let grace = Duration::from_secs(i.stop_timeout);
            Ok([None, Some(timed_call(|| d.stop(&i.name, Some(grace)))?)])
        }),
        "stop-ordered" => stop_ordered(&env, &ships),
        "clean" => clean(&env, &ships),
        "count" => count(&env, &ships),
        _ => Err(format!("unknown mode {mode:?}").into()),
    }
}

/// One client per ship, API version negotiated before any timing starts.
fn clients(env: &Environment) -> Res<BTreeMap<String, Docker>> {
    let mut out = BTreeMap::new();
    for (name, ship) in &env.ships {
        let d = Docker::new(ship)?;
        d.api_version()?;
        out.insert(name.clone(), d);
    }
    Ok(out)
}

/// A minimal create body: image, command, exposed and published ports
/// (maestro also sends the environment, labels and hostname).
fn body(i: &Instance) -> ContainerCreateBody {
    let mut exposed = Vec::new();
    let mut bindings = HashMap::new();
    for p in i.ports.values() {
        exposed.push(p.exposed_key());
        let binding = PortBinding {
            host_ip: Some(p.host_ip.clone()),
            host_port: Some(p.external.to_string()),
        };
        bindings
            .entry(p.exposed_key())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    ContainerCreateBody {
        image: Some(i.image.clone()),
        cmd: i.command.clone(),
        exposed_ports: Some(exposed),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn timed_call<T>(call: impl FnOnce() -> Result<T, maestro::docker::Error>) -> Res<Duration> {
    let t = Instant::now();
    call()?;
    Ok(t.elapsed())
}

/// The instances of each ship, by name.
fn per_ship(env: &Environment) -> BTreeMap<&str, Vec<&Instance>> {
    let mut out: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
    for i in env.instances.values() {
        out.entry(i.ship.name.as_str()).or_default().push(i);
    }
    out
}

/// Runs `work` on every item of every ship's list: the list's count of
/// threads share it, all ships at once. Returns the first
/// error, after every thread has finished.
fn pool<T: Sync>(
    lists: &[(&Docker, usize, Vec<T>)],
    work: impl Fn(&Docker, &T) -> Res<()> + Sync,
) -> Res<()> {
    let first_error: Mutex<Option<String>> = Mutex::new(None);
    let queues: Vec<_> = lists
        .iter()
        .map(|(docker, workers, items)| (*docker, *workers, Mutex::new(items.iter())))
        .collect();
    std::thread::scope(|s| {
        for (docker, workers, queue) in &queues {
            for _ in 0..(*workers).max(1) {
                s.spawn(|| {
                    loop {
                        let item = queue.lock().map(|mut q| q.next());
                        let Ok(Some(item)) = item else { break };
                        if let Err(e) = work(docker, item)
                            && let Ok(mut f) = first_error.lock()
                        {
                            f.get_or_insert(e.to_string());
                        }
                    }
                });
            }
        }
    });
    match first_error.into_inner().ok().flatten() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Each ship's client, its in-flight limit and its instances.
fn instance_lists<'a>(
    env: &'a Environment,
    ships: &'a BTreeMap<String, Docker>,
) -> Vec<(&'a Docker, usize, Vec<&'a Instance>)> {
    per_ship(env)
        .into_iter()
        .filter_map(|(ship, instances)| {
            let limit = instances.first()?.ship.max_concurrency;
            Some((ships.get(ship)?, limit, instances))
        })
        .collect()
}

/// Runs `op` on every instance, `max_concurrency` at a time per ship, and
/// prints the wall time and per-call medians as one JSON line (`op`
/// returns the durations of its create and of its start or stop call).
fn timed<F>(env: &Environment, ships: &BTreeMap<String, Docker>, op: F) -> Res<()>
where
    F: Fn(&Docker, &Instance) -> Res<[Option<Duration>; 2]> + Sync,
{
    let lists = instance_lists(env, ships);
    let calls: Mutex<[Vec<Duration>; 2]> = Mutex::new([Vec::new(), Vec::new()]);
    let t0 = Instant::now();
    pool(&lists, |docker, instance| {
        let took = op(docker, instance).map_err(|e| format!("{}: {e}", instance.name))?;
        if let Ok(mut c) = calls.lock() {
            for (k, d) in took.iter().enumerate() {
                c[k].extend(*d);
            }
        }
        Ok(())
    })?;
    let elapsed = t0.elapsed();
    let [mut creates, mut starts] = calls.into_inner().map_err(|_| "a worker panicked")?;
    println!(
        "{{\"elapsed\": {:.3}, \"instances\": {}, \"create_p50\": {:.3}, \"call_p50\": {:.3}}}",
        elapsed.as_secs_f64(),
        env.instances.len(),
        median(&mut creates),
        median(&mut starts),
    );
    Ok(())
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(0.0, Duration::as_secs_f64)
}

/// Each service's level along `requires`: 1 for a service that requires
/// nothing in the file, else one more than its deepest requirement.
fn levels(env: &Environment) -> BTreeMap<&str, usize> {
    fn level<'e>(
        env: &'e Environment,
        name: &'e str,
        memo: &mut BTreeMap<&'e str, usize>,
        depth: usize,
    ) -> usize {
        if let Some(&l) = memo.get(name) {
            return l;
        }
        // The loader refused cycles; the depth bound only guards this loop.
        let l = match env.services.get(name) {
            Some(s) if depth < env.services.len() => s
                .requires
                .iter()
                .filter(|r| env.services.contains_key(r.as_str()))
                .map(|r| level(env, r, memo, depth + 1) + 1)
                .max()
                .unwrap_or(1),
            _ => 1,
        };
        memo.insert(name, l);
        l
    }
    let mut memo = BTreeMap::new();
    for name in env.services.keys() {
        level(env, name, &mut memo, 0);
    }
    memo
}

/// `instance_lists` restricted to the instances of one level.
fn level_lists<'a>(
    env: &'a Environment,
    ships: &'a BTreeMap<String, Docker>,
    levels: &BTreeMap<&str, usize>,
    level: usize,
) -> Vec<(&'a Docker, usize, Vec<&'a Instance>)> {
    instance_lists(env, ships)
        .into_iter()
        .map(|(d, limit, list)| {
            let list = list
                .into_iter()
                .filter(|i| levels.get(i.service.as_str()) == Some(&level))
                .collect();
            (d, limit, list)
        })
        .collect()
}

/// The ordered floor: `up`'s calls, level after level.
fn ordered(env: &Environment, ships: &BTreeMap<String, Docker>) -> Res<()> {
    let levels = levels(env);
    let deepest = levels.values().copied().max().unwrap_or(0);
    let mut per_level = Vec::new();
    let mut creates = Vec::new();
    let mut starts = Vec::new();
    let t0 = Instant::now();
    for level in 1..=deepest {
        let lists = level_lists(env, ships, &levels, level);
        let calls: Mutex<Vec<(Duration, Duration)>> = Mutex::new(Vec::new());
        let t = Instant::now();
        pool(&lists, |d, i| {
            let created = timed_call(|| d.create(&i.name, &body(i)))
                .map_err(|e| format!("{}: {e}", i.name))?;
            let started =
                timed_call(|| d.start(&i.name)).map_err(|e| format!("{}: {e}", i.name))?;
            if let Ok(mut c) = calls.lock() {
                c.push((created, started));
            }
            Ok(())
        })?;
        per_level.push(t.elapsed().as_secs_f64());
        for (c, s) in calls.into_inner().map_err(|_| "a worker panicked")? {
            creates.push(c);
            starts.push(s);
        }
    }
    let elapsed = t0.elapsed();
    let levels: Vec<String> = per_level.iter().map(|s| format!("{s:.3}")).collect();
    println!(
        "{{\"elapsed\": {:.3}, \"instances\": {}, \"create_p50\": {:.3}, \"call_p50\": {:.3}, \"levels\": [{}]}}",
        elapsed.as_secs_f64(),
        env.instances.len(),
        median(&mut creates),
        median(&mut starts),
        levels.join(", ")
    );
    Ok(())
}

/// The ordered floor of `stop`: the deepest level first (module doc).
fn stop_ordered(env: &Environment, ships: &BTreeMap<String, Docker>) -> Res<()> {
    let levels = levels(env);
    let deepest = levels.values().copied().max().unwrap_or(0);
    let mut per_level = Vec::new();
    let stops: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    let t0 = Instant::now();
    for level in (1..=deepest).rev() {
        let lists = level_lists(env, ships, &levels, level);
        let t = Instant::now();
        pool(&lists, |d, i| {
            let grace = Duration::from_secs(i.stop_timeout);
            let took = timed_call(|| d.stop(&i.name, Some(grace)))
                .map_err(|e| format!("{}: {e}", i.name))?;
            if let Ok(mut s) = stops.lock() {
                s.push(took);
            }
            Ok(())
        })?;
        per_level.push(t.elapsed().as_secs_f64());
    }
    let elapsed = t0.elapsed();
    let mut stops = stops.into_inner().map_err(|_| "a worker panicked")?;
    let levels: Vec<String> = per_level.iter().map(|s| format!("{s:.3}")).collect();
    println!(
        "{{\"elapsed\": {:.3}, \"instances\": {}, \"create_p50\": 0.000, \"call_p50\": {:.3}, \"levels\": [{}]}}",
        elapsed.as_secs_f64(),
        stops.len(),
        median(&mut stops),
        levels.join(", ")
    );
    Ok(())
}

/// The floor of `restart --batch 1` of one service (see the module doc).
fn restart(env: &Environment, service: &str) -> Res<()> {
    let ships = clients(env)?;
    let Some(svc) = env.services.get(service) else {
        return Err(format!("no service {service:?} in the file").into());
    };
    let mut stops = Vec::new();
    let mut starts = Vec::new();
    let t0 = Instant::now();
    for name in &svc.instances {
        let i = env
            .instances
            .get(name)
            .ok_or_else(|| format!("no instance {name}"))?;
        let d = ships
            .get(&i.ship.name)
            .ok_or_else(|| format!("no client for {}", i.ship.name))?;
        let grace = Duration::from_secs(i.stop_timeout);
        stops.push(timed_call(|| d.stop(&i.name, Some(grace)))?);
        let t = Instant::now();
        d.remove(&i.name, true, false)?;
        d.create(&i.name, &body(i))?;
        d.start(&i.name)?;
        starts.push(t.elapsed());
    }
    println!(
        "{{\"elapsed\": {:.3}, \"instances\": {}, \"stop_p50\": {:.3}, \"start_p50\": {:.3}}}",
        t0.elapsed().as_secs_f64(),
        svc.instances.len(),
        median(&mut stops),
        median(&mut starts),
    );
    Ok(())
}

/// The ids of the `bench-*` containers on a ship, running or not.
fn bench_containers(docker: &Docker, running_only: bool) -> Res<Vec<(String, String)>> {
    // The daemon's name filter matches anywhere in the name: keep the prefixed.
    let listed = docker.containers(!running_only, &filters([("name", PREFIX)]))?;
    Ok(listed
        .into_iter()
        .filter_map(|c| {
            let name = c
                .names
                .iter()
                .find_map(|n| n.strip_prefix('/'))?
                .to_string();
            name.starts_with(PREFIX).then_some((c.id, name))
        })
        .collect())
}

/// Force-removes every `bench-*` container of the file's ships (with its
/// anonymous volumes), `max_concurrency` at a time per ship.
fn clean(env: &Environment, ships: &BTreeMap<String, Docker>) -> Res<()> {
    let mut lists = Vec::new();
    for (name, docker) in ships {
        let limit = env.ships.get(name).map_or(8, |s| s.max_concurrency);
        lists.push((docker, limit, bench_containers(docker, false)?));
    }
    pool(&lists, |docker, (id, _)| Ok(docker.remove(id, true, true)?))?;
    let removed: usize = lists.iter().map(|(_, _, l)| l.len()).sum();
    println!("{{\"removed\": {removed}}}");
    Ok(())
}

/// How many instances of the file have a running container: one list per
/// ship.
fn count(env: &Environment, ships: &BTreeMap<String, Docker>) -> Res<()> {
    let mut running = 0;
    for (docker, _, instances) in instance_lists(env, ships) {
        let names: Vec<String> = bench_containers(docker, true)?
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        running += instances.iter().filter(|i| names.contains(&i.name)).count();
    }
    println!(
        "{{\"running\": {running}, \"instances\": {}}}",
        env.instances.len()
    );
    Ok(())
}
