//! The scheduler with fake tasks: sleeps, atomic counters, recorded times.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::Duration;

use super::*;
use crate::events::Recorder;

const NO_DEPS: [&str; 0] = [];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn play<'a>(direction: Direction, limits: Concurrency, nodes: Vec<Task<'a>>) -> Play<'a> {
    Play {
        command: "start".into(),
        direction,
        limits,
        nodes,
    }
}

fn sleeper<'a>(id: &str, ship: &str, deps: &[&str], d: Duration) -> Task<'a> {
    Task::new(
        id,
        "svc",
        ship,
        deps.iter().copied(),
        move |_ctx: &TaskContext<'_>| {
            sleep(d);
            Ok(Completion::Done)
        },
    )
}

fn run_ok(p: Play<'_>) -> Report {
    run(p, &Recorder::new(), &CancelToken::new()).expect("valid graph")
}

fn times(r: &Report, id: &str) -> (Duration, Duration) {
    let n = r.node(id).expect("node in report");
    (
        n.started.expect("node started"),
        n.finished.expect("node finished"),
    )
}

/// Tracks in-flight tasks per key and the maximum ever seen.
#[derive(Default)]
struct InFlight {
    now: Mutex<HashMap<String, usize>>,
    max: Mutex<HashMap<String, usize>>,
}

impl InFlight {
    fn enter(&self, keys: &[&str]) {
        let mut now = self.now.lock().unwrap();
        let mut max = self.max.lock().unwrap();
        for k in keys {
            let v = now.entry((*k).to_owned()).or_default();
            *v += 1;
            let m = max.entry((*k).to_owned()).or_default();
            *m = (*m).max(*v);
        }
    }

    fn leave(&self, keys: &[&str]) {
        let mut now = self.now.lock().unwrap();
        for k in keys {
            *now.get_mut(*k).unwrap() -= 1;
        }
    }

    fn max(&self, key: &str) -> usize {
        self.max.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

#[test]
fn dependent_starts_when_its_own_deps_finish_not_its_level() {
    // a (fast) and b (slow) have no deps; c needs only a. Level-by-level
    // scheduling would hold c until b finished.
    let r = run_ok(play(
        Direction::Forward,
        Concurrency::default(),
        vec![
            sleeper("a", "s1", &[], ms(20)),
            sleeper("b", "s2", &[], ms(600)),
            sleeper("c", "s3", &["a"], ms(20)),
        ],
    ));
    let (_, a_end) = times(&r, "a");
    let (_, b_end) = times(&r, "b");
    let (c_start, c_end) = times(&r, "c");
    assert!(c_start >= a_end, "c started before its dependency finished");
    assert!(
        c_end < b_end,
        "c should be done while b still runs: c {c_end:?}, b {b_end:?}"
    );
    assert_eq!(r.summary.exit_code(), 0);
    assert_eq!(r.summary.done, 3);
}

#[test]
fn global_and_per_ship_limits_hold_at_every_moment() {
    let flight = InFlight::default();
    let mut nodes = Vec::new();
    for ship in ["s1", "s2", "s3"] {
        for i in 0..12 {
            let flight = &flight;
            nodes.push(Task::new(
                format!("{ship}-{i}"),
                "svc",
                ship,
                NO_DEPS,
                move |_ctx: &TaskContext<'_>| {
                    flight.enter(&["all", ship]);
                    sleep(ms(15));
                    flight.leave(&["all", ship]);
                    Ok(Completion::Done)
                },
            ));
        }
    }
    let limits = Concurrency {
        per_ship_default: 2,
        ..Concurrency::new(5, [("s3", 1)])
    };
    let r = run_ok(play(Direction::Forward, limits, nodes));
    assert_eq!(r.summary.done, 36);
    // 2 + 2 + 1 = 5: every limit is reached and none is exceeded.
    assert_eq!(flight.max("all"), 5);
    assert_eq!(flight.max("s1"), 2);
    assert_eq!(flight.max("s2"), 2);
    assert_eq!(flight.max("s3"), 1);
}

#[test]
fn default_per_ship_limit_is_eight_with_no_global_limit() {
    let flight = InFlight::default();
    let nodes = (0..20)
        .map(|i| {
            let flight = &flight;
            Task::new(
                format!("n{i}"),
                "svc",
                "s1",
                NO_DEPS,
                move |_ctx: &TaskContext<'_>| {
                    flight.enter(&["s1"]);
                    sleep(ms(30));
                    flight.leave(&["s1"]);
                    Ok(Completion::Done)
                },
            )
        })
        .collect();
    run_ok(play(Direction::Forward, Concurrency::default(), nodes));
    assert_eq!(flight.max("s1"), DEFAULT_PER_SHIP);
}

#[test]
fn a_saturated_ship_does_not_hold_up_other_ships() {
    // The three s1 nodes come first in row order, but s1 takes one at a
    // time; the s2 nodes must start at once, not after s1's queue.
    let mut nodes: Vec<Task<'_>> = (0..3)
        .map(|i| sleeper(&format!("one-{i}"), "s1", &[], ms(150)))
        .collect();
    nodes.extend((0..3).map(|i| sleeper(&format!("two-{i}"), "s2", &[], ms(10))));
    let limits = Concurrency {
        global: 4,
        per_ship_default: 8,
        per_ship: HashMap::from([("s1".to_owned(), 1)]),
    };
    let r = run_ok(play(Direction::Forward, limits, nodes));
    let (_, first_s1_end) = times(&r, "one-0");
    for i in 0..3 {
        let (_, end) = times(&r, &format!("two-{i}"));
        assert!(end < first_s1_end, "two-{i} waited for ship s1");
    }
    // And s1 did run one at a time.
    let (one1_start, _) = times(&r, "one-1");
    assert!(one1_start >= first_s1_end);
}

#[test]
fn reverse_play_runs_dependents_first_and_numbers_rows_descending() {
    let order = Mutex::new(Vec::new());
    let node = |id: &'static str, deps: &'static [&'static str]| {
        let order = &order;
        Task::new(
            id,
            id,
            "s1",
            deps.iter().copied(),
            move |_ctx: &TaskContext<'_>| {
                order.lock().unwrap().push(id);
                sleep(ms(5));
                Ok(Completion::Done)
            },
        )
    };
    let nodes = vec![
        node("kafka", &["zk"]),
        node("web", &["kafka"]),
        node("zk", &[]),
    ];
    let events = Recorder::new();
    let r = run(
        Play {
            command: "stop".into(),
            direction: Direction::Reverse,
            limits: Concurrency::default(),
            nodes,
        },
        &events,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(*order.lock().unwrap(), ["web", "kafka", "zk"]);
    let rows: Vec<(usize, &str)> = r.nodes.iter().map(|n| (n.number, n.id.as_str())).collect();
    assert_eq!(rows, [(3, "web"), (2, "kafka"), (1, "zk")]);
    // A node starts only after its dependents finished.
    assert!(times(&r, "kafka").0 >= times(&r, "web").1);
    assert!(times(&r, "zk").0 >= times(&r, "kafka").1);
    let Some(Event::Play { rows, .. }) = events.events().into_iter().next() else {
        panic!("first event is not Play");
    };
    assert_eq!(rows[0].instance, "web");
    assert_eq!(rows[0].number, 3);
}

#[test]
fn first_fatal_failure_aborts_what_waits_and_lets_in_flight_finish() {
    let attempted = Mutex::new(Vec::new());
    let node = |id: &'static str,
                ship: &'static str,
                deps: &'static [&'static str],
                d: u64,
                fail: bool| {
        let attempted = &attempted;
        Task::new(
            id,
            "svc",
            ship,
            deps.iter().copied(),
            move |_ctx: &TaskContext<'_>| {
                attempted.lock().unwrap().push(id);
                sleep(ms(d));
                if fail {
                    Err(TaskFailure::fatal("check tcp:client did not pass"))
                } else {
                    Ok(Completion::Done)
                }
            },
        )
    };
    // Global limit 2: kafka-1 and slow run; when kafka-1 fails, other
    // (ready but not started), web (waits on kafka-1) and after (waits on
    // slow, which is still in flight) are never attempted.
    let nodes = vec![
        node("kafka-1", "s1", &[], 30, true),
        node("slow", "s2", &[], 300, false),
        node("other", "s3", &[], 10, false),
        node("web", "s1", &["kafka-1"], 10, false),
        node("after", "s2", &["slow"], 10, false),
    ];
    let limits = Concurrency {
        global: 2,
        ..Concurrency::default()
    };
    let events = Recorder::new();
    let r = run(
        play(Direction::Forward, limits, nodes),
        &events,
        &CancelToken::new(),
    )
    .unwrap();

    let mut tried = attempted.lock().unwrap().clone();
    tried.sort_unstable();
    assert_eq!(tried, ["kafka-1", "slow"]);
    let aborted = Outcome::Aborted(AbortReason::Failed {
        id: "kafka-1".into(),
    });
    assert_eq!(r.node("other").unwrap().outcome, aborted);
    assert_eq!(r.node("web").unwrap().outcome, aborted);
    assert_eq!(r.node("after").unwrap().outcome, aborted);
    // The in-flight task was waited for and reported.
    assert_eq!(r.node("slow").unwrap().outcome, Outcome::Done);
    assert!(times(&r, "slow").1 > times(&r, "kafka-1").1);

    let s = &r.summary;
    assert_eq!((s.done, s.failed, s.aborted), (1, 1, 3));
    assert_eq!(s.failures.len(), 1);
    assert_eq!(s.failures[0].id, "kafka-1");
    assert_eq!(s.failures[0].message, "check tcp:client did not pass");
    assert_eq!(s.not_attempted, ["other", "web", "after"]);
    assert_eq!(s.exit_code(), 1);

    // The rows the scheduler decided were shown, the summary came last.
    let evs = events.events();
    let shown: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Instance(i) => Some(format!("{} {}", i.instance, i.state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        [
            "kafka-1 failed: check tcp:client did not pass",
            "other aborted: kafka-1 failed",
            "web aborted: kafka-1 failed",
            "after aborted: kafka-1 failed",
        ]
    );
    assert!(matches!(evs.last(), Some(Event::Summary(_))));
}

#[test]
fn non_fatal_failure_does_not_abort() {
    let ran = AtomicUsize::new(0);
    let node = |id: &'static str, deps: &'static [&'static str], fail: bool| {
        let ran = &ran;
        Task::new(
            id,
            id,
            "s1",
            deps.iter().copied(),
            move |_ctx: &TaskContext<'_>| {
                ran.fetch_add(1, Ordering::SeqCst);
                if fail {
                    Err(TaskFailure::non_fatal("timed out stopping"))
                } else {
                    Ok(Completion::Done)
                }
            },
        )
    };
    let nodes = vec![
        node("zk", &[], false),
        node("kafka", &["zk"], false),
        node("web", &["kafka"], true),
    ];
    let r = run_ok(play(Direction::Reverse, Concurrency::default(), nodes));
    assert_eq!(ran.load(Ordering::SeqCst), 3);
    assert_eq!(
        r.node("web").unwrap().outcome,
        Outcome::Failed {
            message: "timed out stopping".into(),
            fatal: false
        }
    );
    assert_eq!(r.node("zk").unwrap().outcome, Outcome::Done);
    assert_eq!(
        (r.summary.done, r.summary.failed, r.summary.aborted),
        (2, 1, 0)
    );
    // Still not a success: something failed.
    assert_eq!(r.summary.exit_code(), 1);
}

#[test]
fn skipped_tasks_release_their_dependents() {
    let nodes = vec![
        Task::new("a", "a", "s1", NO_DEPS, |_ctx: &TaskContext<'_>| {
            Ok(Completion::Skipped)
        }),
        sleeper("b", "s1", &["a"], ms(1)),
    ];
    let r = run_ok(play(Direction::Forward, Concurrency::default(), nodes));
    assert_eq!(r.node("a").unwrap().outcome, Outcome::Skipped);
    assert_eq!(r.node("b").unwrap().outcome, Outcome::Done);
    assert_eq!(r.summary.exit_code(), 0);
}

#[test]
fn cancellation_stops_scheduling_and_wakes_waiting_tasks() {
    let cancel = CancelToken::new();
    let woke = AtomicBool::new(false);
    let waiter = {
        let woke = &woke;
        Task::new(
            "checking",
            "svc",
            "s1",
            NO_DEPS,
            move |ctx: &TaskContext<'_>| {
                // A lifecycle check waiting between attempts.
                for _ in 0..100 {
                    if ctx.cancel.sleep(ms(100)) {
                        woke.store(true, Ordering::SeqCst);
                        return Err(TaskFailure::fatal("interrupted while checking tcp:client"));
                    }
                }
                Ok(Completion::Done)
            },
        )
    };
    let nodes = vec![
        waiter,
        sleeper("quick", "s2", &[], ms(5)),
        sleeper("dependent", "s1", &["checking"], ms(5)),
        sleeper("queued", "s2", &[], ms(5)),
    ];
    let limits = Concurrency {
        global: 2,
        ..Concurrency::default()
    };
    let started = std::time::Instant::now();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            sleep(ms(100));
            cancel.cancel();
        });
        run(
            play(Direction::Forward, limits, nodes),
            &Recorder::new(),
            &cancel,
        )
        .unwrap()
    });
    // The 10 s wait was cut short.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(woke.load(Ordering::SeqCst));
    assert_eq!(r.node("quick").unwrap().outcome, Outcome::Done);
    assert!(matches!(
        r.node("checking").unwrap().outcome,
        Outcome::Failed { .. }
    ));
    let interrupted = Outcome::Aborted(AbortReason::Interrupted);
    assert_eq!(r.node("dependent").unwrap().outcome, interrupted);
    assert!(r.summary.interrupted);
    assert_eq!(r.summary.exit_code(), 130);
    // "queued" ran only if it got quick's slot before the cancel; either
    // way it is accounted for.
    let q = &r.node("queued").unwrap().outcome;
    assert!(*q == Outcome::Done || *q == interrupted, "{q:?}");
}

#[test]
fn cancelled_before_start_attempts_nothing() {
    let cancel = CancelToken::new();
    cancel.cancel();
    let ran = AtomicUsize::new(0);
    let nodes = (0..5)
        .map(|i| {
            let ran = &ran;
            Task::new(
                format!("n{i}"),
                "svc",
                "s1",
                NO_DEPS,
                move |_ctx: &TaskContext<'_>| {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(Completion::Done)
                },
            )
        })
        .collect();
    let r = run(
        play(Direction::Forward, Concurrency::default(), nodes),
        &Recorder::new(),
        &cancel,
    )
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(r.summary.aborted, 5);
    assert_eq!(r.summary.exit_code(), 130);
}

#[test]
fn a_panicking_task_is_a_fatal_failure() {
    let nodes = vec![
        Task::new(
            "bad",
            "svc",
            "s1",
            NO_DEPS,
            |_ctx: &TaskContext<'_>| -> TaskResult { panic!("oops") },
        ),
        sleeper("next", "s1", &["bad"], ms(1)),
    ];
    let r = run_ok(play(Direction::Forward, Concurrency::default(), nodes));
    assert_eq!(
        r.node("bad").unwrap().outcome,
        Outcome::Failed {
            message: "internal error: task panicked: oops".into(),
            fatal: true
        }
    );
    assert_eq!(
        r.node("next").unwrap().outcome,
        Outcome::Aborted(AbortReason::Failed { id: "bad".into() })
    );
}

#[test]
fn thousand_node_dag_completes_in_dependency_order() {
    const N: usize = 1000;
    let finished: Vec<AtomicBool> = (0..N).map(|_| AtomicBool::new(false)).collect();
    let violations = AtomicUsize::new(0);
    let flight = InFlight::default();
    // A deterministic pseudo-random DAG: each node depends on up to three
    // earlier nodes; input order is shuffled so the scheduler must sort.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let ships = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"];
    let mut deps_of: Vec<Vec<usize>> = Vec::with_capacity(N);
    for i in 0..N {
        let mut deps = Vec::new();
        if i > 0 {
            for _ in 0..(next() % 4) {
                deps.push((next() % i as u64) as usize);
            }
        }
        deps_of.push(deps);
    }
    let mut order: Vec<usize> = (0..N).collect();
    for i in (1..N).rev() {
        order.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    let nodes = order
        .iter()
        .map(|&i| {
            let deps = deps_of[i].clone();
            let (finished, violations, flight) = (&finished, &violations, &flight);
            let ship = ships[i % ships.len()];
            Task::new(
                format!("n{i}"),
                "svc",
                ship,
                deps.iter().map(|d| format!("n{d}")).collect::<Vec<_>>(),
                move |_ctx: &TaskContext<'_>| {
                    if deps.iter().any(|&d| !finished[d].load(Ordering::SeqCst)) {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                    flight.enter(&["all", ship]);
                    std::thread::yield_now();
                    flight.leave(&["all", ship]);
                    finished[i].store(true, Ordering::SeqCst);
                    Ok(Completion::Done)
                },
            )
        })
        .collect();
    let limits = Concurrency {
        global: 16,
        per_ship_default: 3,
        per_ship: HashMap::new(),
    };
    let r = run_ok(play(Direction::Forward, limits, nodes));
    assert_eq!(r.summary.done, N);
    assert_eq!(violations.load(Ordering::SeqCst), 0);
    assert!(finished.iter().all(|f| f.load(Ordering::SeqCst)));
    assert!(flight.max("all") <= 16);
    for ship in ships {
        assert!(flight.max(ship) <= 3, "{ship}: {}", flight.max(ship));
    }
    // Rows are a topological order, numbered 1..N.
    let pos: HashMap<&str, usize> = r
        .nodes
        .iter()
        .enumerate()
        .map(|(p, n)| (n.id.as_str(), p))
        .collect();
    for (i, deps) in deps_of.iter().enumerate() {
        for d in deps {
            assert!(pos[format!("n{d}").as_str()] < pos[format!("n{i}").as_str()]);
        }
    }
    let numbers: Vec<usize> = r.nodes.iter().map(|n| n.number).collect();
    assert_eq!(numbers, (1..=N).collect::<Vec<_>>());
}

#[test]
fn bad_graphs_are_refused_with_the_reason() {
    let err = |nodes| {
        run(
            play(Direction::Forward, Concurrency::default(), nodes),
            &Recorder::new(),
            &CancelToken::new(),
        )
        .unwrap_err()
    };

    let e = err(vec![
        sleeper("web", "s1", &["kafka"], ms(0)),
        sleeper("kafka", "s1", &["zk"], ms(0)),
        sleeper("zk", "s1", &["web"], ms(0)),
        sleeper("db", "s1", &[], ms(0)),
    ]);
    assert_eq!(e.to_string(), "dependency cycle: web -> kafka -> zk -> web");

    let e = err(vec![sleeper("web", "s1", &["nope"], ms(0))]);
    assert_eq!(
        e.to_string(),
        "task web depends on nope, which is not in this play"
    );

    let e = err(vec![
        sleeper("web", "s1", &[], ms(0)),
        sleeper("web", "s2", &[], ms(0)),
    ]);
    assert_eq!(e, GraphError::DuplicateId("web".into()));
}

#[test]
fn empty_play_is_a_success() {
    let r = run_ok(play(Direction::Forward, Concurrency::default(), Vec::new()));
    assert_eq!(r.summary.total, 0);
    assert_eq!(r.summary.exit_code(), 0);
}

#[test]
fn tasks_report_through_their_context() {
    let events = Recorder::new();
    let nodes = vec![Task::new(
        "zk-1",
        "zookeeper",
        "ship1",
        NO_DEPS,
        |ctx: &TaskContext<'_>| {
            ctx.emit(State::Creating);
            ctx.emit_with_container("3.9:abc1234", State::Started);
            Ok(Completion::Done)
        },
    )];
    run(
        play(Direction::Forward, Concurrency::default(), nodes),
        &events,
        &CancelToken::new(),
    )
    .unwrap();
    let evs = events.events();
    assert_eq!(evs.len(), 4);
    assert_eq!(
        evs[2],
        Event::Instance(InstanceEvent {
            instance: "zk-1".into(),
            service: "zookeeper".into(),
            ship: "ship1".into(),
            container: Some("3.9:abc1234".into()),
            state: State::Started,
        })
    );
}

/// Records when each labelled part ran: (label, start, end) since `t0`.
struct Timeline {
    t0: std::time::Instant,
    spans: Mutex<Vec<(String, Duration, Duration)>>,
}

impl Timeline {
    fn new() -> Self {
        Self {
            t0: std::time::Instant::now(),
            spans: Mutex::new(Vec::new()),
        }
    }

    fn run(&self, label: &str, d: Duration) {
        let start = self.t0.elapsed();
        sleep(d);
        let end = self.t0.elapsed();
        self.spans
            .lock()
            .unwrap()
            .push((label.to_owned(), start, end));
    }

    fn span(&self, label: &str) -> (Duration, Duration) {
        let spans = self.spans.lock().unwrap();
        let (_, s, e) = spans
            .iter()
            .find(|(l, _, _)| l == label)
            .unwrap_or_else(|| panic!("{label} never ran"));
        (*s, *e)
    }

    fn ran(&self, label: &str) -> bool {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .any(|(l, _, _)| l == label)
    }

    fn order(&self) -> Vec<String> {
        let mut spans = self.spans.lock().unwrap().clone();
        spans.sort_by_key(|(_, s, _)| *s);
        spans.into_iter().map(|(l, _, _)| l).collect()
    }
}

/// A task of `d` whose early part takes `early` (both recorded).
fn with_early<'a>(
    line: &'a Timeline,
    id: &'static str,
    ship: &str,
    deps: &[&str],
    early: Duration,
    d: Duration,
) -> Task<'a> {
    Task::new(
        id,
        id,
        ship,
        deps.iter().copied(),
        move |_ctx: &TaskContext<'_>| {
            line.run(id, d);
            Ok(Completion::Done)
        },
    )
    .with_early(move |_ctx: &TaskContext<'_>| {
        line.run(&format!("{id}.early"), early);
        Ok(Completion::Done)
    })
}

fn timed<'a>(
    line: &'a Timeline,
    id: &'static str,
    ship: &str,
    deps: &[&str],
    d: Duration,
) -> Task<'a> {
    Task::new(
        id,
        id,
        ship,
        deps.iter().copied(),
        move |_ctx: &TaskContext<'_>| {
            line.run(id, d);
            Ok(Completion::Done)
        },
    )
}

#[test]
fn early_part_runs_while_its_dependencies_run_and_the_work_waits_for_them() {
    // b's create (early) needs nothing; b's start needs a (and c, a's
    // dependent, needs b): the early parts run during a, the work after.
    let line = Timeline::new();
    let r = run_ok(play(
        Direction::Forward,
        Concurrency::default(),
        vec![
            timed(&line, "a", "s1", &[], ms(200)),
            with_early(&line, "b", "s2", &["a"], ms(30), ms(20)),
            with_early(&line, "c", "s3", &["b"], ms(30), ms(20)),
        ],
    ));
    assert_eq!(r.summary.done, 3);
    let (_, a_end) = line.span("a");
    let (b_early_start, b_early_end) = line.span("b.early");
    let (b_start, b_end) = line.span("b");
    let (c_early_start, c_early_end) = line.span("c.early");
    let (c_start, _) = line.span("c");
    assert!(b_early_end < a_end, "b's early part waited for a");
    assert!(c_early_end < a_end, "c's early part waited for a");
    assert!(b_start >= a_end, "b's work ran before a finished");
    assert!(c_start >= b_end, "c's work ran before b finished");
    // The report times a node from its first part to its last.
    assert_eq!(times(&r, "b").0.min(b_early_start), times(&r, "b").0);
    assert!(times(&r, "c").0 <= c_early_start);
}

#[test]
fn the_work_waits_for_its_own_early_part_when_dependencies_finish_first() {
    let line = Timeline::new();
    let r = run_ok(play(
        Direction::Forward,
        Concurrency::default(),
        vec![
            timed(&line, "a", "s1", &[], ms(10)),
            with_early(&line, "b", "s2", &["a"], ms(200), ms(10)),
        ],
    ));
    assert_eq!(r.summary.done, 2);
    let (_, early_end) = line.span("b.early");
    let (b_start, _) = line.span("b");
    assert!(
        b_start >= early_end,
        "b's work ran before its early part ended"
    );
    assert!(line.span("a").1 < early_end);
}

#[test]
fn early_parts_count_against_the_ship_limit_and_dependencies_come_first() {
    // One slot on the ship: rows in dependency order take it in turn; a
    // dependent's early part never jumps ahead of work its dependencies
    // still have to do, and fills the slot only once none is ready.
    let line = Timeline::new();
    let limits = Concurrency::new(0, [("s1", 1)]);
    let flight = InFlight::default();
    let r = run_ok(play(
        Direction::Forward,
        limits,
        vec![
            timed(&line, "a1", "s1", &[], ms(20)),
            timed(&line, "a2", "s1", &[], ms(20)),
            with_early(&line, "b", "s1", &["a1", "a2"], ms(20), ms(20)),
            {
                let flight = &flight;
                Task::new("z", "z", "s1", NO_DEPS, move |_ctx: &TaskContext<'_>| {
                    flight.enter(&["s1"]);
                    sleep(ms(5));
                    flight.leave(&["s1"]);
                    Ok(Completion::Done)
                })
            },
        ],
    ));
    assert_eq!(r.summary.done, 4);
    assert_eq!(line.order(), ["a1", "a2", "b.early", "b"]);
    // No two parts ever overlapped on the one-slot ship.
    let mut spans: Vec<(Duration, Duration)> = ["a1", "a2", "b.early", "b"]
        .iter()
        .map(|l| line.span(l))
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "two parts in flight at once: {spans:?}");
    }
}

#[test]
fn a_failed_early_part_fails_its_task_and_aborts_what_waits() {
    let line = Timeline::new();
    let events = Recorder::new();
    let nodes = vec![
        timed(&line, "a", "s1", &[], ms(100)),
        Task::new("b", "b", "s2", ["a"], |_ctx: &TaskContext<'_>| {
            panic!("b's work must not run after its early part failed")
        })
        .with_early(|_ctx: &TaskContext<'_>| Err(TaskFailure::fatal("cannot create"))),
        with_early(&line, "c", "s3", &["b"], ms(10), ms(10)),
    ];
    let r = run(
        play(Direction::Forward, Concurrency::default(), nodes),
        &events,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(
        r.node("b").unwrap().outcome,
        Outcome::Failed {
            message: "cannot create".into(),
            fatal: true
        }
    );
    // c's work never ran (it may have done its early part or not, by timing).
    assert!(!line.ran("c"));
    assert_eq!(
        r.node("c").unwrap().outcome,
        Outcome::Aborted(AbortReason::Failed { id: "b".into() })
    );
    // a was in flight: it finishes.
    assert_eq!(r.node("a").unwrap().outcome, Outcome::Done);
    assert_eq!(r.summary.failed, 1);
    assert_eq!(r.summary.aborted, 1);
}

#[test]
fn a_prepared_task_whose_dependency_fails_is_aborted_and_its_work_never_runs() {
    let line = Timeline::new();
    let nodes = vec![
        Task::new("a", "a", "s1", NO_DEPS, |_ctx: &TaskContext<'_>| {
            sleep(ms(100));
            Err(TaskFailure::fatal("check failed"))
        }),
        with_early(&line, "b", "s2", &["a"], ms(10), ms(10)),
    ];
    let r = run_ok(play(Direction::Forward, Concurrency::default(), nodes));
    assert!(line.ran("b.early"), "b's early part should run during a");
    assert!(!line.ran("b"));
    assert_eq!(
        r.node("b").unwrap().outcome,
        Outcome::Aborted(AbortReason::Failed { id: "a".into() })
    );
    assert_eq!(r.summary.aborted, 1);
}

#[test]
fn early_parts_shorten_a_chain_of_levels() {
    // 3 levels of 2 tasks on one ship with 4 slots, each task a 40 ms
    // create then a 40 ms start: with the creates of later levels done in
    // the slots earlier levels leave free, the makespan is one create and
    // three starts (about 160 ms), not three of each (240 ms).
    let line = Timeline::new();
    let names: Vec<Vec<&'static str>> = vec![
        vec!["l1-1", "l1-2"],
        vec!["l2-1", "l2-2"],
        vec!["l3-1", "l3-2"],
    ];
    let mut nodes = Vec::new();
    for (level, ids) in names.iter().enumerate() {
        let deps: Vec<&str> = if level == 0 {
            Vec::new()
        } else {
            names[level - 1].clone()
        };
        for id in ids {
            nodes.push(with_early(&line, id, "s1", &deps, ms(40), ms(40)));
        }
    }
    let limits = Concurrency::new(0, [("s1", 4)]);
    let started = std::time::Instant::now();
    let r = run_ok(play(Direction::Forward, limits, nodes));
    let took = started.elapsed();
    assert_eq!(r.summary.done, 6);
    for (level, ids) in names.iter().enumerate().skip(1) {
        let last_dep = names[level - 1]
            .iter()
            .map(|d| line.span(d).1)
            .max()
            .unwrap();
        for id in ids {
            assert!(
                line.span(id).0 >= last_dep,
                "{id} started before its level's dependencies"
            );
        }
    }
    assert!(
        took < ms(235),
        "no overlap of creates with earlier levels: {took:?}"
    );
}

fn shared(ids: &[&str]) -> Deps {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Two levels of `width` tasks each needing every task of the level
/// before, as the plan makes them: one list per level, shared (`share`)
/// or copied per task.
fn levels_of<'a>(line: &'a Timeline, width: usize, share: bool) -> Vec<Task<'a>> {
    let ids: Vec<Vec<&'static str>> = (0..3)
        .map(|l| {
            (0..width)
                .map(|k| &*Box::leak(format!("l{l}-{k}").into_boxed_str()))
                .collect()
        })
        .collect();
    let mut nodes = Vec::new();
    for (level, names) in ids.iter().enumerate() {
        let list = level.checked_sub(1).map(|p| shared(&ids[p]));
        for (k, id) in names.iter().enumerate() {
            let deps = match &list {
                Some(l) if share => l.clone(),
                Some(l) => shared(l.iter().map(String::as_str).collect::<Vec<_>>().as_slice()),
                None => Deps::default(),
            };
            let ship = if k % 2 == 0 { "s1" } else { "s2" };
            nodes.push(timed(line, id, ship, &[], ms(5)).with_deps(deps));
        }
    }
    nodes
}

#[test]
fn shared_dependency_lists_wait_for_every_instance_and_barriers_never_show() {
    let line = Timeline::new();
    let events = Recorder::new();
    let r = run(
        play(
            Direction::Forward,
            Concurrency::default(),
            levels_of(&line, 4, true),
        ),
        &events,
        &CancelToken::new(),
    )
    .unwrap();
    for level in 1..3 {
        let last_dep = (0..4)
            .map(|k| line.span(&format!("l{}-{k}", level - 1)).1)
            .max()
            .unwrap();
        for k in 0..4 {
            assert!(line.span(&format!("l{level}-{k}")).0 >= last_dep);
        }
    }
    // Rows, numbers, counts and events: the 12 tasks and nothing else,
    // numbered as with a list per task.
    let s = &r.summary;
    assert_eq!((s.total, s.done, s.failed, s.aborted), (12, 12, 0, 0));
    let rows: Vec<(usize, String)> = r.nodes.iter().map(|n| (n.number, n.id.clone())).collect();
    let copied = run_ok(play(
        Direction::Forward,
        Concurrency::default(),
        levels_of(&Timeline::new(), 4, false),
    ));
    let copied_rows: Vec<(usize, String)> = copied
        .nodes
        .iter()
        .map(|n| (n.number, n.id.clone()))
        .collect();
    assert_eq!(rows, copied_rows);
    assert_eq!(
        rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    let evs = events.events();
    let Some(Event::Play { total, rows, .. }) = evs.first() else {
        panic!("first event is not Play");
    };
    assert_eq!((*total, rows.len()), (12, 12));
    let instances: BTreeSet<String> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Instance(i) => Some(i.instance.clone()),
            _ => None,
        })
        .collect();
    assert!(instances.iter().all(|i| i.starts_with('l')));
    let Some(Event::Summary(last)) = evs.last() else {
        panic!("last event is not Summary");
    };
    assert_eq!(last.total, 12);
}

#[test]
fn a_failing_dependency_aborts_its_dependents_through_the_barrier() {
    let line = Timeline::new();
    let events = Recorder::new();
    let level = shared(&["a1", "a2"]);
    let nodes = vec![
        timed(&line, "a1", "s1", &[], ms(5)),
        Task::new("a2", "a", "s2", NO_DEPS, |_ctx: &TaskContext<'_>| {
            sleep(ms(20));
            Err(TaskFailure::fatal("check failed"))
        }),
        timed(&line, "b1", "s1", &[], ms(5)).with_deps(level.clone()),
        with_early(&line, "b2", "s2", &[], ms(5), ms(5)).with_deps(level),
    ];
    let r = run(
        play(Direction::Forward, Concurrency::default(), nodes),
        &events,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(!line.ran("b1") && !line.ran("b2"));
    let aborted = Outcome::Aborted(AbortReason::Failed { id: "a2".into() });
    assert_eq!(r.node("b1").unwrap().outcome, aborted);
    assert_eq!(r.node("b2").unwrap().outcome, aborted);
    let s = &r.summary;
    assert_eq!(
        (s.total, s.done, s.failed, s.aborted),
        (4, 1, 1, 2),
        "the barrier is not counted"
    );
    assert_eq!(s.not_attempted, ["b1", "b2"]);
    assert_eq!(r.nodes.len(), 4);
}

#[test]
fn an_early_part_runs_before_shared_dependencies_are_done() {
    let line = Timeline::new();
    let level = shared(&["a1", "a2"]);
    let nodes = vec![
        timed(&line, "a1", "s1", &[], ms(60)),
        timed(&line, "a2", "s2", &[], ms(80)),
        with_early(&line, "b1", "s3", &[], ms(10), ms(10)).with_deps(level.clone()),
        with_early(&line, "b2", "s4", &[], ms(10), ms(10)).with_deps(level),
    ];
    let r = run_ok(play(Direction::Forward, Concurrency::default(), nodes));
    assert_eq!(r.summary.done, 4);
    let deps_done = line.span("a1").1.max(line.span("a2").1);
    for b in ["b1", "b2"] {
        assert!(line.span(&format!("{b}.early")).1 <= line.span("a1").1);
        assert!(line.span(b).0 >= deps_done, "{b} started before a2");
    }
}

#[test]
fn a_reverse_play_waits_for_every_sharer_and_non_fatal_failures_pass_the_barrier() {
    let line = Timeline::new();
    let level = shared(&["a1", "a2"]);
    let nodes = vec![
        timed(&line, "a1", "s1", &[], ms(5)),
        timed(&line, "a2", "s2", &[], ms(5)),
        timed(&line, "b1", "s1", &[], ms(10)).with_deps(level.clone()),
        Task::new("b2", "b", "s2", NO_DEPS, |_ctx: &TaskContext<'_>| {
            sleep(ms(30));
            Err(TaskFailure::non_fatal("stop timed out"))
        })
        .with_deps(level),
    ];
    let r = run_ok(play(Direction::Reverse, Concurrency::default(), nodes));
    let dependents_done = times(&r, "b1").1.max(times(&r, "b2").1);
    for a in ["a1", "a2"] {
        assert_eq!(r.node(a).unwrap().outcome, Outcome::Done);
        assert!(times(&r, a).0 >= dependents_done, "{a} before b2 ended");
    }
    let s = &r.summary;
    assert_eq!((s.total, s.done, s.failed, s.aborted), (4, 3, 1, 0));
    let ids: Vec<&str> = r.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["b2", "b1", "a2", "a1"]);
}

#[test]
fn a_cycle_through_a_barrier_names_tasks_only() {
    let list = shared(&["x"]);
    let nodes = vec![
        sleeper("x", "s1", &[], ms(0)).with_deps(list.clone()),
        sleeper("y", "s1", &[], ms(0)).with_deps(list),
    ];
    let e = run(
        play(Direction::Forward, Concurrency::default(), nodes),
        &Recorder::new(),
        &CancelToken::new(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "dependency cycle: x -> x");
}

/// Sends on its channel when the thread that holds it exits (thread-local
/// destructors run at thread exit).
struct OnExit(crossbeam_channel::Sender<()>);

impl Drop for OnExit {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

thread_local! {
    static ON_EXIT: std::cell::RefCell<Option<OnExit>> = const { std::cell::RefCell::new(None) };
}

/// Two tasks that meet before either ends, so they run on two workers:
/// `first` ends with `result` (leaving a mark that fires when its worker
/// thread exits), `waits` passes once that worker has exited, failing
/// with `why` after 5 s.
fn first_and_waits<'a>(
    met: &'a std::sync::Barrier,
    result: TaskResult,
    why: &'static str,
) -> (Task<'a>, Task<'a>) {
    let (exited_tx, exited_rx) = crossbeam_channel::unbounded();
    let first = Task::new("first", "svc", "ship1", NO_DEPS, move |_ctx| {
        met.wait();
        ON_EXIT.with(|slot| *slot.borrow_mut() = Some(OnExit(exited_tx)));
        result
    });
    let waits = Task::new("waits", "svc", "ship2", NO_DEPS, move |_ctx| {
        met.wait();
        match exited_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(()) => Ok(Completion::Done),
            Err(_) => Err(TaskFailure::fatal(why)),
        }
    });
    (first, waits)
}

#[test]
fn a_worker_with_nothing_left_to_hand_out_exits_before_the_play_ends() {
    // Both tasks are handed out at once, so nothing is left for workers:
    // the worker that ran `first` exits while `waits` still runs, rather
    // than with every other worker after the play.
    let met = std::sync::Barrier::new(2);
    let (first, waits) =
        first_and_waits(&met, Ok(Completion::Done), "first's worker was still there");
    let r = run_ok(play(
        Direction::Forward,
        Concurrency::default(),
        vec![first, waits],
    ));
    assert_eq!(r.node("waits").map(|n| &n.outcome), Some(&Outcome::Done));
    assert_eq!(r.summary.exit_code(), 0);
}

#[test]
fn workers_exit_once_a_fatal_failure_halts_the_play() {
    // After `first` fails and halts the play nothing more is handed out
    // (`later` waits on it and is aborted), so the idle worker exits while
    // `waits` still runs.
    let met = std::sync::Barrier::new(2);
    let (first, waits) = first_and_waits(
        &met,
        Err(TaskFailure::fatal("boom")),
        "the idle worker was still there",
    );
    let later = sleeper("later", "ship1", &["first"], ms(1));
    let r = run(
        play(
            Direction::Forward,
            Concurrency::default(),
            vec![first, waits, later],
        ),
        &Recorder::new(),
        &CancelToken::new(),
    )
    .expect("valid graph");
    assert_eq!(r.node("waits").map(|n| &n.outcome), Some(&Outcome::Done));
    assert!(matches!(
        r.node("later").map(|n| &n.outcome),
        Some(Outcome::Aborted(_))
    ));
}
