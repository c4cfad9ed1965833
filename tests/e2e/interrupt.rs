//! SIGINT and SIGTERM during `start`, `restart`, `up` and `stop` against
//! the lab, at sampled moments (while a container is created, started,
//! while a lifecycle check waits, between two batches of a rolling
//! restart, while stopping), each interrupted run followed by a run that
//! must converge.
//!
//! The moment of each signal is driven by the run's own `--progress json`
//! events: the signal goes out when the n-th event of a given state is
//! read (plus a small offset), at a point where work is still left, so
//! every sample lands inside the play. After each interrupted run:
//!
//! - it exited 130 (or 0 when the play ended before the signal landed;
//!   such runs are counted apart and do not count as interrupted);
//! - its summary adds up and says it was interrupted;
//! - every container that appeared, disappeared or changed state during
//!   the run belongs to an instance the run reported on, and a new
//!   container's id is shown in that instance's events (nothing created
//!   unreported); instances reported as not attempted are untouched;
//! - no instance has two containers, and the deploy lock is gone.
//!
//! Then the same command again must succeed and leave everything as the
//! file says (one container per instance, running, `maestro plan` clean;
//! or all stopped after `stop`), again without the lock.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::Command;
use std::time::{Duration, Instant};

use maestro_tests::{SHIPS, TestEnv, assert_code, code, stderr, stdout};
use serde_json::Value;

/// A base service and a two-instance service that requires it, on three
/// ships; short `running` checks (and the base's `stopped` check) give the
/// checks' waits a window. The
/// containers exit at once on SIGTERM, so stops are quick.
const SERVICES: &str = "
  base:
    image: {IMAGE}
    env: {ROUND: 'r0'}
    lifecycle: {running: [{type: sleep, wait: 0.3}], stopped: [{type: sleep, wait: 0.2}]}
    instances:
      {P}-a1: {ship: ship1, stop_timeout: 5, command: sh -c \"trap 'exit 0' TERM; sleep 3600 & wait\"}
  app:
    image: {IMAGE}
    requires: [base]
    env: {ROUND: 'r0'}
    lifecycle: {running: [{type: sleep, wait: 0.2}]}
    instances:
      {P}-b1: {ship: ship2, stop_timeout: 5, command: sh -c \"trap 'exit 0' TERM; sleep 3600 & wait\"}
      {P}-b2: {ship: ship3, stop_timeout: 5, command: sh -c \"trap 'exit 0' TERM; sleep 3600 & wait\"}
";

const INSTANCES: [&str; 3] = ["a1", "b1", "b2"];

/// When to send the signal: after the `nth` instance event in `state`
/// was read, and `offset_ms` more.
#[derive(Debug, Clone, Copy)]
struct Moment {
    state: &'static str,
    nth: usize,
    offset_ms: u64,
}

const fn at(state: &'static str, nth: usize, offset_ms: u64) -> Moment {
    Moment {
        state,
        nth,
        offset_ms,
    }
}

/// Moments of each command, chosen so that work is always left after them
/// (a check still waiting, a dependent or a later batch still to go).
/// Round `r` takes the `r`-th of each list (wrapping).
const START: [Moment; 6] = [
    at("creating", 1, 0),  // the base's create in flight
    at("starting", 1, 0),  // its start in flight
    at("checking", 1, 80), // its running check waiting
    at("started", 1, 0),   // between the base and its dependents
    at("creating", 2, 5),  // the dependents' creates in flight
    at("checking", 2, 0),  // a dependent's check waiting
];
const RESTART: [Moment; 6] = [
    at("stopping", 1, 0),   // the base's stop in flight
    at("checking", 1, 50),  // its stopped check waiting
    at("creating", 1, 0),   // its create in flight
    at("started", 2, 0),    // between two batches of app
    at("checking", 2, 100), // its running check waiting
    at("stopping", 3, 0),   // app's second batch stopping
];
const UP: [Moment; 6] = [
    at("creating", 1, 0),
    at("stopping", 1, 10),
    at("checking", 1, 0),
    at("started", 1, 0), // between the base and its dependents
    at("creating", 2, 0),
    at("checking", 2, 50),
];
const STOP: [Moment; 6] = [
    at("stopping", 1, 0), // the dependents' stops in flight
    at("stopped", 1, 0),
    at("checking", 1, 50), // the base's stopped check waiting
    at("stopped", 2, 0),   // between the dependents and the base
    at("stopping", 3, 0),  // the base's stop in flight
    at("stopping", 1, 40),
];

/// One container of the test's environment, as `docker ps` lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    id: String,
    running: bool,
}

/// Every container of the environment on the plain ships, by instance
/// (the `maestro.instance` label).
fn containers(t: &TestEnv) -> BTreeMap<String, Vec<Seen>> {
    let mut all: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    // The ships at once: this runs three times per sampled run.
    let lists: Vec<_> = std::thread::scope(|s| {
        let asks: Vec<_> = SHIPS
            .iter()
            .map(|ship| {
                s.spawn(move || {
                    t.lab
                        .docker(ship)
                        .args(["ps", "-a", "--no-trunc", "--format"])
                        .arg("{{.ID}} {{.State}} {{.Label \"maestro.instance\"}}")
                        .arg("--filter")
                        .arg(format!("label=maestro.environment={}", t.name))
                        .output()
                        .unwrap()
                })
            })
            .collect();
        asks.into_iter().map(|a| a.join().unwrap()).collect()
    });
    for out in lists {
        assert!(out.status.success(), "docker ps: {}", stderr(&out));
        for line in stdout(&out).lines() {
            let mut f = line.split_whitespace();
            let (Some(id), Some(state), Some(instance)) = (f.next(), f.next(), f.next()) else {
                panic!("unexpected docker ps line {line:?}");
            };
            all.entry(instance.to_string()).or_default().push(Seen {
                id: id.to_string(),
                running: state == "running",
            });
        }
    }
    for seen in all.values_mut() {
        seen.sort();
    }
    all
}

/// The lock containers of the environment on ship1 (where it is taken).
fn locks(t: &TestEnv) -> String {
    let out = t
        .lab
        .docker("ship1")
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
        .arg(format!("name=maestro-lock.{}", t.name))
        .output()
        .unwrap();
    stdout(&out).trim().to_string()
}

fn set_round(t: &TestEnv, from: usize, to: usize) {
    let path = t.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (old, new) = (format!("ROUND: 'r{from}'"), format!("ROUND: 'r{to}'"));
    assert!(text.contains(&old), "{old} not in {text}");
    std::fs::write(&path, text.replace(&old, &new)).unwrap();
}

/// What one interrupted run did.
struct Run {
    code: i32,
    events: Vec<Value>,
    stderr: String,
    signalled: bool,
}

/// Runs `maestro <args> --progress json` and sends `signal` at `moment`.
fn interrupted(t: &TestEnv, args: &[&str], moment: Moment, signal: &str) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--progress", "json"]);
    let mut child = t.cmd(&all).spawn().unwrap();
    let pid = child.id().to_string();
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut events = Vec::new();
    let mut count = 0;
    let mut signalled = false;
    for line in out.lines() {
        let line = line.unwrap();
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        if !signalled && v["event"] == "instance" && v["state"] == moment.state {
            count += 1;
            if count == moment.nth {
                std::thread::sleep(Duration::from_millis(moment.offset_ms));
                // A kill that finds no process means the run ended
                // first; its exit code says so.
                let _ = Command::new("kill")
                    .args([&format!("-{signal}"), &pid])
                    .status();
                signalled = true;
            }
        }
        events.push(v);
    }
    let status = child.wait().unwrap();
    Run {
        code: status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            -status.signal().unwrap_or(0)
        }),
        events,
        stderr: err_reader.join().unwrap(),
        signalled,
    }
}

/// Checks what an interrupted run must leave true; returns whether the
/// signal interrupted the play (exit 130) rather than arriving after it.
fn check_interrupted(
    t: &TestEnv,
    what: &str,
    run: &Run,
    before: &BTreeMap<String, Vec<Seen>>,
) -> bool {
    let after = containers(t);
    let context = || {
        let lines: Vec<String> = run.events.iter().map(Value::to_string).collect();
        format!(
            "{what}: exit {}\nevents:\n{}\nstderr:\n{}\nbefore: {before:?}\nafter: {after:?}",
            run.code,
            lines.join("\n"),
            run.stderr
        )
    };
    assert!(run.signalled, "the moment never came: {}", context());
    assert!(
        run.code == 130 || run.code == 0,
        "an interrupted run exits 130 (or 0 when it ended first): {}",
        context()
    );
    assert!(!run.stderr.contains("panicked"), "{}", context());
    assert_eq!(locks(t), "", "the deploy lock is left: {}", context());

    // The summary is the last event and adds up.
    let summary = run.events.last().cloned().unwrap_or_default();
    assert_eq!(summary["event"], "summary", "{}", context());
    let n = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(
        n("done") + n("skipped") + n("failed") + n("aborted"),
        n("total"),
        "{}",
        context()
    );
    assert_eq!(
        summary["interrupted"].as_bool(),
        Some(run.code == 130),
        "{}",
        context()
    );
    if what.starts_with("up") && run.code == 130 {
        assert!(run.stderr.contains("(interrupted)"), "{}", context());
    }

    // What each instance's events showed.
    let mut reported: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in run.events.iter().filter(|e| e["event"] == "instance") {
        let instance = e["instance"].as_str().unwrap().to_string();
        let shown = e["container"].as_str().unwrap_or("").to_string();
        reported.entry(instance).or_default().push(shown);
    }
    let not_attempted: BTreeSet<String> = summary["not_attempted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let empty = Vec::new();
    for short in INSTANCES {
        let name = t.n(short);
        let (was, now) = (
            before.get(&name).unwrap_or(&empty),
            after.get(&name).unwrap_or(&empty),
        );
        assert!(
            now.len() <= 1,
            "{name} has {} containers: {}",
            now.len(),
            context()
        );
        if was == now {
            continue;
        }
        // Changed: the run must have been working on it and said so.
        assert!(
            !not_attempted.contains(&name),
            "{name} changed but is reported as not attempted: {}",
            context()
        );
        let shown = reported.get(&name).cloned().unwrap_or_default();
        for c in now.iter().filter(|c| !was.iter().any(|w| w.id == c.id)) {
            let short_id: String = c.id.chars().take(7).collect();
            assert!(
                shown.iter().any(|s| s.ends_with(&format!(":{short_id}"))),
                "{name}'s new container {short_id} was never reported: {}",
                context()
            );
        }
        assert!(
            !shown.is_empty(),
            "{name} changed unreported: {}",
            context()
        );
        // Ran before, not now (a start, restart or up cut short): the run
        // says it failed, and why.
        let was_up = was.iter().any(|c| c.running);
        let is_up = now.iter().any(|c| c.running);
        if was_up && !is_up && !what.starts_with("stop") {
            let failed = run.events.iter().any(|e| {
                e["event"] == "instance" && e["instance"] == name.as_str() && e["state"] == "failed"
            });
            assert!(
                failed,
                "{name} was left down without a failure: {}",
                context()
            );
        }
        // A roll (restart, and up's recreate) brings back what it stopped.
        if was_up && (what.starts_with("restart") || what.starts_with("up")) {
            assert!(is_up, "{name} was left down: {}", context());
        }
    }
    run.code == 130
}

/// Checks the state a converging run must leave.
fn check_converged(t: &TestEnv, verb: &str) {
    assert_eq!(locks(t), "", "after the converging {verb}");
    let now = containers(t);
    for short in INSTANCES {
        let name = t.n(short);
        let seen = now.get(&name).cloned().unwrap_or_default();
        assert_eq!(seen.len(), 1, "{name} after {verb}: {now:?}");
        let want_running = verb != "stop";
        assert_eq!(
            seen[0].running, want_running,
            "{name} after {verb}: {now:?}"
        );
    }
    if verb != "stop" {
        let plan = t.maestro(&["plan"]);
        assert_code(&plan, 0);
    }
}

#[test]
fn interrupted_runs_leave_no_lock_nothing_unreported_and_the_next_run_converges() {
    let t = TestEnv::new("intr", SERVICES);
    let started = Instant::now();
    let (mut tried, mut interrupted_runs, mut ended_first, mut converged) = (0, 0, 0, 0);
    let mut per_signal: BTreeMap<&str, usize> = BTreeMap::new();
    let mut round = 0;
    // Rounds until 20 runs were interrupted (a run whose play ended before
    // its signal landed is counted apart); each round interrupts each
    // command once.
    while interrupted_runs < 20 {
        assert!(
            round < 8,
            "only {interrupted_runs} of {tried} runs were interrupted"
        );
        let plays: [(&str, &[&str], Moment); 4] = [
            ("start", &["start"], START[round % START.len()]),
            (
                "restart",
                &["restart", "-a"],
                RESTART[round % RESTART.len()],
            ),
            ("up", &["up"], UP[round % UP.len()]),
            ("stop", &["stop", "-a"], STOP[round % STOP.len()]),
        ];
        for (k, (verb, args, moment)) in plays.into_iter().enumerate() {
            if verb == "up" {
                // A changed variable: up recreates every instance.
                set_round(&t, round, round + 1);
            }
            let signal = if (round + k) % 2 == 0 { "INT" } else { "TERM" };
            let before = containers(&t);
            let what = format!("{verb} (round {round}, SIG{signal} at {moment:?})");
            let clock = Instant::now();
            let run = interrupted(&t, args, moment, signal);
            let run_took = clock.elapsed();
            tried += 1;
            if check_interrupted(&t, &what, &run, &before) {
                interrupted_runs += 1;
                *per_signal.entry(signal).or_default() += 1;
            } else {
                ended_first += 1;
            }
            let mut again_args = args.to_vec();
            if verb == "restart" {
                // What the interrupted roll did not reach is already as
                // the file says; what it left behind is brought up.
                again_args.push("--only-if-changed");
            }
            again_args.extend(["--progress", "plain"]);
            let again = t.maestro(&again_args);
            assert_eq!(
                code(&again),
                0,
                "the run after {what} did not converge:\n{}\n{}",
                stdout(&again),
                stderr(&again)
            );
            check_converged(&t, verb);
            converged += 1;
            println!(
                "{what}: exit {}, {:.2}s; then converged in {:.2}s",
                run.code,
                run_took.as_secs_f64(),
                clock.elapsed().as_secs_f64() - run_took.as_secs_f64()
            );
        }
        round += 1;
    }
    println!(
        "interrupt sampling: {tried} runs signalled, {interrupted_runs} interrupted \
         ({per_signal:?}), {ended_first} ended before the signal, {converged} converged \
         on the next run, in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(converged, tried);
}

/// A service whose `running` check runs a command on this machine that
/// forks a child, records both pids in `pids` and never exits; `LIMITS`
/// is replaced by the check's extra keys.
const HANGING: &str = "
  hang:
    image: {IMAGE}
    lifecycle:
      running: [{type: exec, command: \"sh -c 'sleep 1000 & echo $$ $! >> {DIR}/pids; sleep 1000'\", attempts: 100LIMITS}]
    instances:
      {P}-h1: {ship: ship1, stop_timeout: 5, command: sh -c \"trap 'exit 0' TERM; sleep 3600 & wait\"}
";

/// Whether a process runs (a zombie does not), from /proc/<pid>/stat.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
    }
}

/// The pids the hanging check recorded.
fn pids(t: &TestEnv) -> Vec<u32> {
    std::fs::read_to_string(t.dir.join("pids"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// Asserts that none of the recorded processes runs any more (SIGKILL
/// lands asynchronously: allow a second); returns how many there were.
fn all_gone(t: &TestEnv) -> usize {
    let pids = pids(t);
    let deadline = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "still running: {left:?} of {pids:?}");
    pids.len()
}

#[test]
fn a_hanging_exec_check_ends_at_its_max_wait_with_its_children() {
    let t = TestEnv::new(
        "exechang",
        &HANGING.replace("LIMITS", ", timeout: 0.6, max_wait: 2"),
    );
    let start = Instant::now();
    let out = t.maestro(&["start", "--progress", "plain"]);
    let took = start.elapsed();
    assert_code(&out, 1);
    let text = stdout(&out);
    // The last run ended by its timeout, or by what was left of max_wait.
    assert!(
        text.contains("did not pass within 2s (")
            && (text.contains("attempts made): no exit within 0.6s (killed)")
                || text.contains("attempts made): still running at max_wait (killed)")),
        "{text}"
    );
    assert!(took < Duration::from_secs(8), "{took:?}");
    // Runs of 0.6 s within 2 s: three or four, each with its child.
    let n = all_gone(&t);
    assert!((4..=8).contains(&n), "{n} pids: {:?}", pids(&t));
    assert_eq!(locks(&t), "");
}

#[test]
fn a_second_signal_exits_at_once_and_kills_a_hanging_check() {
    let t = TestEnv::new("exec2sig", &HANGING.replace("LIMITS", ""));
    let mut child = t.cmd(&["start", "--progress", "plain"]).spawn().unwrap();
    let pid = child.id().to_string();
    // Once the check's command has forked its child.
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids(&t).len() < 2 {
        assert!(child.try_wait().unwrap().is_none(), "start ended early");
        assert!(Instant::now() < deadline, "the check never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    for signal in ["-TERM", "-INT"] {
        Command::new("kill").args([signal, &pid]).status().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(all_gone(&t), 2);
    assert_eq!(locks(&t), "", "{}\n{}", stdout(&out), stderr(&out));
}

#[test]
fn a_signal_during_the_step_delay_stops_the_roll_there() {
    let t = TestEnv::new("intrdelay", SERVICES);
    assert_code(&t.maestro(&["start"]), 0);
    let before = containers(&t);
    let (b1, b2) = (t.n("b1"), t.n("b2"));
    // app's second batch waits 30 s after the first: the signal comes
    // during that wait.
    let started = Instant::now();
    let run = interrupted(
        &t,
        &["restart", "-a", "--step-delay", "30"],
        at("waiting", 1, 50),
        // SIGHUP (a closed terminal) is handled as SIGINT and SIGTERM.
        "HUP",
    );
    let took = started.elapsed();
    check_interrupted(&t, "restart --step-delay", &run, &before);
    assert_eq!(run.code, 130);
    assert!(took < Duration::from_secs(20), "{took:?}");
    let after = containers(&t);
    // The first batch was restarted, the one that waited was left as it was.
    assert_ne!(after[&b1], before[&b1]);
    assert_eq!(after[&b2], before[&b2], "{:?}", run.events);
    assert!(after[&b2][0].running);
    assert!(
        run.stderr.contains(&format!(
            "restart interrupted; restarted: {}, {b1}; failed: {b2} (interrupted before its restart: left as it was)",
            t.n("a1")
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_signal_while_up_first_looks_at_the_ships_changes_nothing() {
    // `a-gone` never answers: up's first look waits for it (3 s), and the
    // signal comes during that wait.
    let t = TestEnv::with_extra(
        "intrlook",
        "  a-gone:\n    ip: 10.213.0.99\n    timeout: 3\n",
        SERVICES,
    );
    let child = t.cmd(&["up", "--progress", "plain"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted before the deploy lock was taken; nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert!(containers(&t).is_empty());
    assert_eq!(locks(&t), "");
}
