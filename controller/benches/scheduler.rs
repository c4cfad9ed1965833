//! Scheduler overhead and makespan, without Docker: fake tasks that sleep
//! or do nothing. Run with `scripts/bench/scheduler`. Prints each number
//! beside its reference (the ideal for the same work).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
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
/// clock with no scheduling cost, deciding as a scheduler must: each
/// completion is taken in turn and its slot handed out at once, knowing
/// only what has ended so far. Ships are alike and meet only at the level
/// barriers, so one ship with the global barrier is enough; as ships run
/// in step, a level's barrier passes after the slots freed by the level's
/// last tasks on every ship have been handed out (another ship's task is
/// always the last one), so the ship modelled is the one whose slots all
/// come free before the barrier passes.
/// Returns the makespan and when each level's barrier passed.
fn ideal(per_level: usize, levels: usize, slots: usize, create: f64, work: f64) -> (f64, Vec<f64>) {
    let n = per_level * levels;
    // (end, rank, early): a running job; ends in time order, ties by rank.
    let mut running: Vec<(f64, usize, bool)> = Vec::new();
    let mut early_ready: BTreeSet<usize> = (0..n).collect();
    let mut main_ready: BTreeSet<usize> = BTreeSet::new();
    let mut created = vec![false; n];
    let mut mains_done = vec![0usize; levels];
    let mut passed = vec![false; levels];
    let mut level_done = vec![0.0f64; levels];
    let mut now = 0.0f64;
    let mut makespan = 0.0f64;
    let dispatch = |now: f64,
                    running: &mut Vec<(f64, usize, bool)>,
                    early_ready: &mut BTreeSet<usize>,
                    main_ready: &mut BTreeSet<usize>| {
        while running.len() < slots {
            // The lowest rank among ready parts (a node's early part and
            // main part share its rank; never both ready at once).
            let e = early_ready.first().copied();
            let m = main_ready.first().copied();
            let (i, early) = match (e, m) {
                (Some(e), Some(m)) if e < m => (e, true),
                (_, Some(m)) => (m, false),
                (Some(e), None) => (e, true),
                (None, None) => break,
            };
            if early {
                early_ready.remove(&i);
            } else {
                main_ready.remove(&i);
            }
            running.push((now + if early { create } else { work }, i, early));
        }
    };
    dispatch(now, &mut running, &mut early_ready, &mut main_ready);
    while !running.is_empty() {
        now = running.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
        let mut ending: Vec<(f64, usize, bool)> =
            running.iter().copied().filter(|r| r.0 <= now).collect();
        ending.sort_by_key(|r| r.1);
        let mut barriers = Vec::new();
        for (_, i, early) in ending {
            let level = i / per_level;
            if early {
                created[i] = true;
                if level == 0 || passed[level - 1] {
                    main_ready.insert(i);
                }
            } else {
                makespan = makespan.max(now);
                mains_done[level] += 1;
                if mains_done[level] == per_level {
                    barriers.push(level);
                }
            }
            // The slot this job held is handed out before the next
            // completion is looked at.
            running.retain(|r| (r.1, r.2) != (i, early));
            dispatch(now, &mut running, &mut early_ready, &mut main_ready);
        }
        for level in barriers {
            passed[level] = true;
            level_done[level] = now;
            if level + 1 < levels {
                let next = (level + 1) * per_level..(level + 2) * per_level;
                main_ready.extend(next.filter(|&j| created[j]));
            }
        }
        dispatch(now, &mut running, &mut early_ready, &mut main_ready);
    }
    (makespan, level_done)
}

/// The same policy when a level's barrier passes at the very moment its
/// last task ends, on every ship at once, and all the slots freed at one
/// moment are handed out together: what a scheduler that knew the
/// simultaneous ends in advance would do. Kept beside the ideal to show
/// what that foresight is worth here.
fn clairvoyant(per_level: usize, levels: usize, slots: usize, create: f64, work: f64) -> f64 {
    ideal_schedule(per_level, levels, slots, create, work)
        .main
        .iter()
        .map(|&(_, end)| end)
        .fold(0.0, f64::max)
}

/// One ship's jobs with foresight: (start, end) of each node's early part
/// and main part, nodes by rank (level, then position in the level).
struct Schedule {
    early: Vec<(f64, f64)>,
    main: Vec<(f64, f64)>,
}

fn ideal_schedule(
    per_level: usize,
    levels: usize,
    slots: usize,
    create: f64,
    work: f64,
) -> Schedule {
    // Jobs by rank: node (level, k), early (create) or main.
    let n = per_level * levels;
    let mut early_at = vec![(f64::INFINITY, f64::INFINITY); n];
    let mut main_at = vec![(f64::INFINITY, f64::INFINITY); n];
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
            if main_left[i] && early_at[i].1 <= now && deps_done {
                pick = Some((i, false));
                break;
            }
        }
        let Some((i, early)) = pick else {
            // Nothing ready: move the clock to the next event.
            let mut next = f64::INFINITY;
            for (j, &(_, c)) in early_at.iter().enumerate() {
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
            early_at[i] = (now, end);
        } else {
            main_left[i] = false;
            main_at[i] = (now, end);
            let level = i / per_level;
            let range = level * per_level..(level + 1) * per_level;
            if range.clone().all(|j| !main_left[j]) {
                level_done[level] = range.map(|j| main_at[j].1).fold(0.0, f64::max);
            }
        }
    }
    Schedule {
        early: early_at,
        main: main_at,
    }
}

/// Peak resident memory of this process so far, in MB (`VmHWM`).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// When each job of the simulation slept: nanoseconds since the play's
/// start plus one (0: never ran), early start, early end, main start, main
/// end, per node.
struct Trace {
    base: Instant,
    /// When the play started, in the same nanoseconds (times are shown
    /// from there).
    origin: AtomicU64,
    at: Vec<[AtomicU64; 4]>,
}

impl Trace {
    fn new(n: usize, base: Instant) -> Self {
        Self {
            base,
            origin: AtomicU64::new(1),
            at: (0..n).map(|_| Default::default()).collect(),
        }
    }

    fn mark(&self, i: usize, which: usize) {
        let ns = self.base.elapsed().as_nanos() as u64 + 1;
        self.at[i][which].store(ns, Ordering::Relaxed);
    }

    fn get(&self, i: usize, which: usize) -> f64 {
        let origin = self.origin.load(Ordering::Relaxed);
        (self.at[i][which].load(Ordering::Relaxed) as f64 - origin as f64) / 1e9
    }
}

fn quantiles(mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize] * 1e3;
    let mean = v.iter().sum::<f64>() / v.len() as f64 * 1e3;
    format!(
        "mean {mean:7.2} p50 {:7.2} p90 {:7.2} p99 {:7.2} max {:7.2} ms",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    )
}

/// Where the simulation's time went beside the ideal (BENCH_SIM_TRACE=1).
#[allow(clippy::too_many_arguments)]
fn explain(
    trace: &Trace,
    ideal: &Schedule,
    online: &[f64],
    per_level: usize,
    ships: usize,
    levels: usize,
    create: f64,
    work: f64,
) {
    let per_ship_level = per_level / ships;
    let node = |level: usize, k: usize| level * per_level + k;
    // When the level before `level` was done (0 for the first).
    let before = |done: &[f64], level: usize| if level == 0 { 0.0 } else { done[level - 1] };
    // Sleeps: how much longer than asked.
    let mut over = Vec::new();
    for i in 0..per_level * levels {
        over.push(trace.get(i, 1) - trace.get(i, 0) - create);
        over.push(trace.get(i, 3) - trace.get(i, 2) - work);
    }
    println!("  sleep overshoot          {}", quantiles(over));
    // Levels: when the last main part ended, against the ideal.
    let mut level_done = vec![0.0f64; levels];
    let mut ideal_done = vec![0.0f64; levels];
    for level in 0..levels {
        let mut first_ship_done = f64::INFINITY;
        for s in 0..ships {
            let mut ship_done = 0.0f64;
            for k in (s..per_level).step_by(ships) {
                ship_done = ship_done.max(trace.get(node(level, k), 3));
            }
            first_ship_done = first_ship_done.min(ship_done);
            level_done[level] = level_done[level].max(ship_done);
        }
        ideal_done[level] = (0..per_ship_level)
            .map(|j| ideal.main[level * per_ship_level + j].1)
            .fold(0.0, f64::max);
        let prev = before(&level_done, level);
        let iprev = before(online, level);
        let fprev = before(&ideal_done, level);
        println!(
            "  level {level}: done {:7.3} s (ideal {:7.3}, {:+6.3}; with foresight {:7.3}); took {:6.3} s after the level before (ideal {:6.3}, {:+6.3}; with foresight {:6.3}); ships' last ends spread {:5.1} ms",
            level_done[level],
            online[level],
            level_done[level] - online[level],
            ideal_done[level],
            level_done[level] - prev,
            online[level] - iprev,
            (level_done[level] - prev) - (online[level] - iprev),
            ideal_done[level] - fprev,
            (level_done[level] - first_ship_done) * 1e3,
        );
    }
    // Main parts: from ready (own early part and the level before done)
    // to the start of the sleep, real and ideal.
    let (mut wait, mut iwait) = (Vec::new(), Vec::new());
    let mut late_start = vec![Vec::new(); levels];
    for (level, late) in late_start.iter_mut().enumerate() {
        for k in 0..per_level {
            let i = node(level, k);
            let j = level * per_ship_level + k / ships;
            let barrier = before(&level_done, level);
            let ibarrier = before(&ideal_done, level);
            wait.push(trace.get(i, 2) - trace.get(i, 1).max(barrier));
            iwait.push(ideal.main[j].0 - ideal.early[j].1.max(ibarrier));
            late.push(trace.get(i, 2) - ideal.main[j].0);
        }
    }
    println!("  main ready -> start      {}", quantiles(wait));
    println!("  (with foresight)         {}", quantiles(iwait));
    for (level, late) in late_start.into_iter().enumerate() {
        println!(
            "  level {level} main start - with foresight {}",
            quantiles(late)
        );
    }
    // Order: each ship's jobs by start time against the ideal's order.
    let mut same = 0;
    let mut example = None;
    for s in 0..ships {
        let mut real: Vec<(f64, usize, bool)> = Vec::new();
        let mut want: Vec<(f64, usize, bool)> = Vec::new();
        for level in 0..levels {
            for k in (s..per_level).step_by(ships) {
                let i = node(level, k);
                let j = level * per_ship_level + k / ships;
                real.push((trace.get(i, 0), j, true));
                real.push((trace.get(i, 2), j, false));
                want.push((ideal.early[j].0, j, true));
                want.push((ideal.main[j].0, j, false));
            }
        }
        real.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if s == 0 && std::env::var("BENCH_SIM_TRACE").as_deref() == Ok("2") {
            let t0 = real[0].0;
            for (r, w) in real.iter().zip(&want) {
                println!(
                    "    {}{:<3} {:7.3}    {}{:<3} {:7.3}",
                    if r.2 { "c" } else { "m" },
                    r.1,
                    r.0 - t0,
                    if w.2 { "c" } else { "m" },
                    w.1,
                    w.0
                );
            }
        }
        let pos = real
            .iter()
            .zip(&want)
            .position(|(r, w)| (r.1, r.2) != (w.1, w.2));
        match pos {
            None => same += 1,
            Some(p) if example.is_none() => {
                let fmt = |v: &[(f64, usize, bool)]| {
                    v[p.saturating_sub(2)..(p + 6).min(v.len())]
                        .iter()
                        .map(|&(t, j, e)| format!("{}{}@{:.3}", if e { "c" } else { "m" }, j, t))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                example = Some(format!(
                    "ship {s}, job {p}: real  {}\n                           ideal {}",
                    fmt(&real),
                    fmt(&want)
                ));
            }
            Some(_) => {}
        }
    }
    println!("  ships dispatching in the foresight order: {same} of {ships}");
    if let Some(e) = example {
        println!("  first difference: {e}");
    }
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
    let trace = Trace::new(n, Instant::now());
    let trace = &trace;
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
            let i = level * per_level + k;
            nodes.push(
                Task::new(
                    level_ids[level][k].clone(),
                    format!("svc{level}"),
                    format!("ship{}", k % ships),
                    Vec::<String>::new(),
                    move |_ctx: &TaskContext<'_>| {
                        trace.mark(i, 2);
                        std::thread::sleep(start + check);
                        trace.mark(i, 3);
                        Ok(Completion::Done)
                    },
                )
                .with_deps(deps)
                .with_early(move |_ctx: &TaskContext<'_>| {
                    trace.mark(i, 0);
                    std::thread::sleep(create);
                    trace.mark(i, 1);
                    Ok(Completion::Done)
                }),
            );
        }
    }
    trace.origin.store(
        trace.base.elapsed().as_nanos() as u64 + 1,
        Ordering::Relaxed,
    );
    let took = run(play(nodes, Concurrency::default()));
    let (c, w) = (create.as_secs_f64(), (start + check).as_secs_f64());
    let (best, ideal_levels) = ideal(per_ship_level, levels, 8, c, w);
    let foresight = clairvoyant(per_ship_level, levels, 8, c, w);
    let overhead = took.as_secs_f64() / best - 1.0;
    println!(
        "simulation    {n} tasks, {ships} ships, {levels} levels (create {} ms, start {} ms, check {} ms): {:.3} s, ideal {:.3} s, overhead {:.2}% (target < 1%), peak RSS {:.1} MB (target < 100); with foresight of simultaneous ends {:.3} s",
        create.as_millis(),
        start.as_millis(),
        check.as_millis(),
        took.as_secs_f64(),
        best,
        overhead * 100.0,
        peak_rss_mb().unwrap_or(f64::NAN),
        foresight,
    );
    if std::env::var_os("BENCH_SIM_TRACE").is_some() {
        let schedule = ideal_schedule(per_ship_level, levels, 8, c, w);
        explain(
            trace,
            &schedule,
            &ideal_levels,
            per_level,
            ships,
            levels,
            c,
            w,
        );
    }
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
