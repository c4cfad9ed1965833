//! Scheduler overhead and makespan, without Docker: fake tasks that sleep
//! or do nothing. Run with `scripts/bench/scheduler`. Prints each number
//! beside its reference (the ideal for the same work).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use maestro::events::Discard;
use maestro::scheduler::{
    self, CancelToken, Completion, Concurrency, Deps, Direction, Play, Task, TaskContext,
};

fn play(nodes: Vec<Task<'_>>, limits: Concurrency) -> Play<'_> {
    Play {
        command: "bench".into(),
        direction: Direction::Forward,
        limits,
        nodes,
    }
}

fn noop<'a>(id: String, ship: String, deps: Vec<String>) -> Task<'a> {
    Task::new(id, "svc", ship, deps, |_ctx: &TaskContext<'_>| {
        Ok(Completion::Done)
    })
}

fn run(p: Play<'_>) -> Duration {
    let start = Instant::now();
    let report = scheduler::run(p, &Discard, &CancelToken::new()).expect("valid graph");
    assert_eq!(report.summary.exit_code(), 0);
    start.elapsed()
}

/// Per-task cost: independent no-op tasks over 3 ships.
fn overhead(n: usize) {
    let nodes = (0..n)
        .map(|i| noop(format!("n{i}"), format!("ship{}", i % 3), Vec::new()))
        .collect();
    let took = run(play(nodes, Concurrency::default()));
    println!(
        "overhead      {n:>6} independent no-op tasks: {:>8.1} ms, {:>6.2} us/task   (reference: 0)",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / n as f64
    );
}

/// Dispatch latency: a chain, so every task waits for the one before.
fn chain(n: usize) {
    let nodes = (0..n)
        .map(|i| {
            let deps = if i == 0 {
                Vec::new()
            } else {
                vec![format!("n{}", i - 1)]
            };
            noop(format!("n{i}"), "ship0".into(), deps)
        })
        .collect();
    let took = run(play(nodes, Concurrency::default()));
    println!(
        "latency       chain of {n:>5} no-op tasks:        {:>8.1} ms, {:>6.2} us/hop    (reference: 0)",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / n as f64
    );
}

/// The shape of the speed test: `n` instances over 3 ships in 3
/// dependency levels (each level needs every instance of the one before),
/// each task sleeping `work`, 8 in flight per ship. Reference: the floor
/// for the same work with the same limits, level after level.
fn levels(n: usize, work: Duration) {
    let per_level = n / 3;
    let mut nodes = Vec::new();
    let mut counts: HashMap<(usize, usize), usize> = HashMap::new();
    for level in 0..3 {
        for k in 0..per_level {
            let ship = k % 3;
            *counts.entry((level, ship)).or_default() += 1;
            let deps: Vec<String> = if level == 0 {
                Vec::new()
            } else {
                (0..per_level)
                    .map(|j| format!("l{}-{j}", level - 1))
                    .collect()
            };
            nodes.push(Task::new(
                format!("l{level}-{k}"),
                format!("svc{level}"),
                format!("ship{ship}"),
                deps,
                move |_ctx: &TaskContext<'_>| {
                    std::thread::sleep(work);
                    Ok(Completion::Done)
                },
            ));
        }
    }
    let floor: Duration = (0..3)
        .map(|level| {
            let waves = (0..3)
                .map(|ship| counts.get(&(level, ship)).copied().unwrap_or(0).div_ceil(8))
                .max()
                .unwrap_or(0);
            work * waves as u32
        })
        .sum();
    let took = run(play(nodes, Concurrency::default()));
    println!(
        "makespan      {:>4} tasks, 3 levels x 3 ships, {:>3} ms each: {:>7.1} ms   (floor {:>7.1} ms, ratio {:.3})",
        per_level * 3,
        work.as_millis(),
        took.as_secs_f64() * 1e3,
        floor.as_secs_f64() * 1e3,
        took.as_secs_f64() / floor.as_secs_f64()
    );
}

/// Per-task latencies of the simulation: a create, a start, a check
/// (`BENCH_SIM_LATENCIES=create,start,check` in seconds; the defaults are
/// the lab's measured medians on a quiet machine, docs/benchmarks.md).
fn latencies() -> (Duration, Duration, Duration) {
    let parsed: Option<Vec<f64>> = std::env::var("BENCH_SIM_LATENCIES")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    match parsed.as_deref() {
        Some([c, s, k]) => (
            Duration::from_secs_f64(*c),
            Duration::from_secs_f64(*s),
            Duration::from_secs_f64(*k),
        ),
        _ => (
            Duration::from_millis(200),
            Duration::from_millis(800),
            Duration::from_millis(20),
        ),
    }
}

/// The ideal makespan of the simulated play: the same policy (a create
/// ready at once, a start + check ready once its create and the whole
/// level before are done, the lowest rank first, `slots` per ship) on a
/// clock with no scheduling cost. Ships are alike and only meet at the
/// level barriers, so one ship with the global barrier is enough.
fn ideal(per_level: usize, levels: usize, slots: usize, create: f64, work: f64) -> f64 {
    // Jobs by rank: node (level, k), early (create) or main.
    let n = per_level * levels;
    let mut created = vec![f64::INFINITY; n];
    let mut done = vec![f64::INFINITY; n];
    let mut early_left: Vec<bool> = vec![true; n];
    let mut main_left: Vec<bool> = vec![true; n];
    let mut free: Vec<f64> = vec![0.0; slots];
    let mut level_done = vec![f64::INFINITY; levels];
    let mut now = 0.0f64;
    let mut remaining = 2 * n;
    while remaining > 0 {
        // The earliest free slot decides when the next job starts.
        let (slot, t_free) = free
            .iter()
            .copied()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        now = now.max(t_free);
        // Ready jobs at `now`, lowest rank first.
        let mut pick = None;
        for i in 0..n {
            let level = i / per_level;
            if early_left[i] {
                pick = Some((i, true));
                break;
            }
            let deps_done = level == 0 || level_done[level - 1] <= now;
            if main_left[i] && created[i] <= now && deps_done {
                pick = Some((i, false));
                break;
            }
        }
        let Some((i, early)) = pick else {
            // Nothing ready: move the clock to the next event.
            let mut next = f64::INFINITY;
            for (j, &c) in created.iter().enumerate() {
                if main_left[j] && c > now {
                    next = next.min(c);
                }
            }
            for &d in &level_done {
                if d > now && d.is_finite() {
                    next = next.min(d);
                }
            }
            for &f in &free {
                if f > now {
                    next = next.min(f);
                }
            }
            now = next;
            for f in &mut free {
                *f = f.max(now);
            }
            continue;
        };
        let end = now + if early { create } else { work };
        free[slot] = end;
        remaining -= 1;
        if early {
            early_left[i] = false;
            created[i] = end;
        } else {
            main_left[i] = false;
            done[i] = end;
            let level = i / per_level;
            let range = level * per_level..(level + 1) * per_level;
            if range.clone().all(|j| !main_left[j]) {
                level_done[level] = range.map(|j| done[j]).fold(0.0, f64::max);
            }
        }
    }
    done.iter().copied().fold(0.0, f64::max)
}

/// Peak resident memory of this process so far, in MB (`VmHWM`).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The simulation of a large start: `n` instances over `ships` ships in
/// `levels` dependency levels (each needs the whole level before), every
/// task a create (its early part) then a start and a check, sleeping the
/// daemons' latencies, 8 in flight per ship. Overhead: the makespan beside
/// the ideal of the same policy with no scheduling cost.
fn simulate(n: usize, ships: usize, levels: usize) {
    let (create, start, check) = latencies();
    let per_level = n / levels;
    let per_ship_level = per_level / ships;
    let mut nodes = Vec::with_capacity(n);
    // Each level's ids once, shared by every task of the next level (as
    // the plan shares one list among a service's instances).
    let level_ids: Vec<Deps> = (0..levels)
        .map(|l| (0..per_level).map(|k| format!("l{l}-{k}")).collect())
        .collect();
    for level in 0..levels {
        for k in 0..per_level {
            let deps: Deps = if level == 0 {
                Deps::from([])
            } else {
                level_ids[level - 1].clone()
            };
            nodes.push(
                Task::new(
                    level_ids[level][k].clone(),
                    format!("svc{level}"),
                    format!("ship{}", k % ships),
                    Vec::<String>::new(),
                    move |_ctx: &TaskContext<'_>| {
                        std::thread::sleep(start + check);
                        Ok(Completion::Done)
                    },
                )
                .with_deps(deps)
                .with_early(move |_ctx: &TaskContext<'_>| {
                    std::thread::sleep(create);
                    Ok(Completion::Done)
                }),
            );
        }
    }
    let took = run(play(nodes, Concurrency::default()));
    let best = ideal(
        per_ship_level,
        levels,
        8,
        create.as_secs_f64(),
        (start + check).as_secs_f64(),
    );
    let overhead = took.as_secs_f64() / best - 1.0;
    println!(
        "simulation    {n} tasks, {ships} ships, {levels} levels (create {} ms, start {} ms, check {} ms): {:.3} s, ideal {:.3} s, overhead {:.2}% (target < 1%), peak RSS {:.1} MB (target < 100)",
        create.as_millis(),
        start.as_millis(),
        check.as_millis(),
        took.as_secs_f64(),
        best,
        overhead * 100.0,
        peak_rss_mb().unwrap_or(f64::NAN),
    );
}

fn main() {
    if std::env::args().any(|a| a == "simulate") {
        simulate(10_000, 100, 5);
        return;
    }
    // Warm-up (thread creation, allocator), not printed.
    let nodes = (0..1_000)
        .map(|i| noop(format!("n{i}"), format!("ship{}", i % 3), Vec::new()))
        .collect();
    run(play(nodes, Concurrency::default()));
    for n in [1_000, 10_000] {
        overhead(n);
    }
    for n in [1_000, 10_000] {
        chain(n);
    }
    for n in [30, 100, 300] {
        levels(n, Duration::from_millis(50));
    }
}
