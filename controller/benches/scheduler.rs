//! Scheduler overhead and makespan, without Docker: fake tasks that sleep
//! or do nothing. Run with `scripts/bench/scheduler`. Prints each number
//! beside its reference (the ideal for the same work).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use maestro::events::Discard;
use maestro::scheduler::{
    self, CancelToken, Completion, Concurrency, Direction, Play, Task, TaskContext,
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

fn main() {
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
