//! One-shot containers (`run: once`) against the lab: run to completion
//! before their dependents start, shown as completed, not run again unless
//! their configuration changed or `--rerun` asks, and a failing one fails
//! the play with its exit code and logs.

use maestro_tests::{TestEnv, assert_code, finished_at, id, running, started_at, stderr, stdout};
use serde_json::Value;

/// `seed` writes a file into the test's folder (bind-mounted on /data)
/// after a pause, then exits 0; `app` requires it and refuses to run
/// (exit 7) when the file is not there yet.
const SEEDED: &str = "
  seed:
    image: {IMAGE}
    run: once
    run_max_wait: 60
    instances:
      {P}-seed:
        ship: ship1
        volumes: {{DIR}: /data}
        command: [sh, -c, 'sleep 2; echo generation-1 > /data/seed; echo seeded']
  app:
    image: {IMAGE}
    requires: [seed]
    instances:
      {P}-app:
        ship: ship1
        stop_timeout: 1
        volumes: {{DIR}: /data}
        command: [sh, -c, 'test -s /data/seed || exit 7; exec sleep 3600']
";

fn status_rows(t: &TestEnv) -> (i32, Vec<Value>) {
    let st = t.maestro(&["status", "--format", "json"]);
    let rows = stdout(&st)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (st.status.code().unwrap_or(-1), rows)
}

fn status_of(rows: &[Value], instance: &str) -> Value {
    rows.iter()
        .find(|r| r["instance"] == instance)
        .cloned()
        .unwrap_or_else(|| panic!("no status row for {instance}: {rows:?}"))
}

#[test]
fn a_one_shot_runs_to_completion_before_its_dependents_and_only_once() {
    let t = TestEnv::new("oneshot", SEEDED);
    let (seed, app) = (t.n("seed"), t.n("app"));

    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("running to completion"), "{text}");
    assert!(text.contains("completed"), "{text}");
    let s1 = t.inspect("ship1", &seed).unwrap();
    let a1 = t.inspect("ship1", &app).unwrap();
    assert!(!running(&s1));
    assert_eq!(s1["State"]["ExitCode"], 0);
    assert!(running(&a1), "the dependent must run: {a1}");
    // The dependent started only after the one-shot had exited.
    assert!(
        started_at(&a1) > finished_at(&s1),
        "app started before seed finished"
    );
    let seeded = std::fs::read_to_string(t.dir.join("seed")).unwrap();
    assert_eq!(seeded.trim(), "generation-1");

    // status: completed, and everything is as it should be (exit 0).
    let (code, rows) = status_rows(&t);
    assert_eq!(code, 0, "{rows:?}");
    assert_eq!(status_of(&rows, &seed)["status"], "completed");
    assert_eq!(status_of(&rows, &seed)["exit_code"], 0);
    assert_eq!(status_of(&rows, &app)["status"], "running");
    let table = stdout(&t.maestro(&["status"]));
    let line = table.lines().find(|l| l.contains(&seed)).unwrap();
    assert!(line.trim_end().ends_with("completed"), "{table}");

    // A second start does not run it again; plan and up agree.
    let again = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&again, 0);
    assert!(!stdout(&again).contains("running to completion"));
    let s2 = t.inspect("ship1", &seed).unwrap();
    assert_eq!(id(&s1), id(&s2));
    assert_eq!(s1["State"]["StartedAt"], s2["State"]["StartedAt"]);
    let plan = t.maestro(&["plan"]);
    assert_code(&plan, 0);
    assert!(
        stdout(&plan).contains("completed, unchanged"),
        "{}",
        stdout(&plan)
    );
    let up = t.maestro(&["up", "--progress", "plain"]);
    assert_code(&up, 0);
    assert_eq!(id(&t.inspect("ship1", &seed).unwrap()), id(&s1));
    // up --rerun starts the same container once more.
    let up = t.maestro(&["up", "--rerun", "--progress", "plain"]);
    assert_code(&up, 0);
    assert!(
        stdout(&up).contains("running to completion"),
        "{}",
        stdout(&up)
    );
    let s_up = t.inspect("ship1", &seed).unwrap();
    assert_eq!(id(&s_up), id(&s1));
    assert_ne!(s_up["State"]["StartedAt"], s1["State"]["StartedAt"]);
    assert_eq!(s_up["State"]["ExitCode"], 0);

    // stop leaves a completed one-shot as it is.
    let stop = t.maestro(&["stop", &seed, "--progress", "plain"]);
    assert_code(&stop, 0);
    assert!(stdout(&stop).contains("completed"), "{}", stdout(&stop));
    assert_eq!(id(&t.inspect("ship1", &seed).unwrap()), id(&s1));

    // restart --only-if-changed has nothing to apply to it.
    let restart = t.maestro(&["restart", &seed, "--only-if-changed", "--progress", "plain"]);
    assert_code(&restart, 0);
    assert!(
        stdout(&restart).contains("completed"),
        "{}",
        stdout(&restart)
    );
    assert_eq!(id(&t.inspect("ship1", &seed).unwrap()), id(&s1));

    // --rerun runs it again (a new container).
    let rerun = t.maestro(&["start", "--rerun", "--progress", "plain"]);
    assert_code(&rerun, 0);
    assert!(stdout(&rerun).contains("running to completion"));
    let s3 = t.inspect("ship1", &seed).unwrap();
    assert_ne!(id(&s3), id(&s1));
    assert_eq!(s3["State"]["ExitCode"], 0);
    assert_eq!(id(&t.inspect("ship1", &app).unwrap()), id(&a1));

    // A changed command runs it again without --rerun.
    let file = t.dir.join("maestro.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, yaml.replace("generation-1", "generation-2")).unwrap();
    let changed = t.maestro(&["start", &seed, "--progress", "plain"]);
    assert_code(&changed, 0);
    let s4 = t.inspect("ship1", &seed).unwrap();
    assert_ne!(id(&s4), id(&s3));
    let seeded = std::fs::read_to_string(t.dir.join("seed")).unwrap();
    assert_eq!(seeded.trim(), "generation-2");
    let (code, rows) = status_rows(&t);
    assert_eq!(code, 0, "{rows:?}");
    assert_eq!(status_of(&rows, &seed)["status"], "completed");

    // clean removes it (the running app is left alone).
    let clean = t.maestro(&["clean", &seed, "--progress", "plain"]);
    assert_code(&clean, 0);
    assert!(t.inspect("ship1", &seed).is_none());
}

#[test]
fn a_failing_one_shot_fails_the_play_with_its_code_and_logs() {
    let t = TestEnv::new(
        "oneshotfail",
        "
  seed:
    image: {IMAGE}
    run: once
    instances:
      {P}-seed:
        ship: ship2
        command: [sh, -c, 'echo migrating; sleep 1; echo schema is broken >&2; exit 3']
  app:
    image: {IMAGE}
    requires: [seed]
    instances:
      {P}-app: {ship: ship2, command: sleep 3600, stop_timeout: 1}
",
    );
    let (seed, app) = (t.n("seed"), t.n("app"));
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("one-shot container exited with code 3"),
        "{text}\n{}",
        stderr(&out)
    );
    assert!(
        text.contains("migrating") && text.contains("schema is broken"),
        "{text}"
    );
    assert!(text.contains(&format!("not attempted: {app}")), "{text}");
    assert!(t.inspect("ship2", &app).is_none(), "app must not exist");

    let (code, rows) = status_rows(&t);
    assert_eq!(code, 1);
    assert_eq!(status_of(&rows, &seed)["status"], "failed");
    assert_eq!(status_of(&rows, &seed)["exit_code"], 3);
    let table = stdout(&t.maestro(&["status"]));
    assert!(table.contains("failed (exit 3)"), "{table}");

    // A failed one-shot is run again by the next start (and fails again).
    let first = id(&t.inspect("ship2", &seed).unwrap());
    let again = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&again, 1);
    assert_ne!(id(&t.inspect("ship2", &seed).unwrap()), first);
}

#[test]
fn a_one_shot_still_running_at_run_max_wait_fails_and_a_later_start_waits_for_it() {
    one_shot_past_its_time("oneshotslow", "start");
}

#[test]
fn a_one_shot_still_running_at_run_max_wait_fails_and_a_later_up_waits_for_it() {
    one_shot_past_its_time("oneshotslowup", "up");
}

/// A one-shot that outlives its `run_max_wait` fails the play and is left
/// running; `second` (start or up) with a longer limit waits for that same
/// run, and its dependent starts after it.
fn one_shot_past_its_time(tag: &str, second: &str) {
    let t = TestEnv::new(
        tag,
        "
  slow:
    image: {IMAGE}
    run: once
    run_max_wait: 1
    instances:
      {P}-slow: {ship: ship3, command: [sh, -c, 'sleep 10; echo done'], stop_timeout: 1}
  after:
    image: {IMAGE}
    requires: [slow]
    instances:
      {P}-after: {ship: ship3, command: sleep 3600, stop_timeout: 1}
",
    );
    let (slow, after) = (t.n("slow"), t.n("after"));
    let out = t.maestro(&["start", "--progress", "plain"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("still running after run_max_wait (1s)"),
        "{text}"
    );
    let first = t.inspect("ship3", &slow).unwrap();
    assert!(running(&first), "a one-shot past its time is left running");
    assert!(t.inspect("ship3", &after).is_none());

    // run_max_wait is no part of the container: the next start finds the
    // same run still going and waits for it instead of starting another.
    let file = t.dir.join("maestro.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, yaml.replace("run_max_wait: 1", "run_max_wait: 60")).unwrap();
    let out = t.maestro(&[second, "--progress", "plain"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("running to completion"),
        "{}",
        stdout(&out)
    );
    let done = t.inspect("ship3", &slow).unwrap();
    assert_eq!(id(&done), id(&first));
    assert_eq!(done["State"]["StartedAt"], first["State"]["StartedAt"]);
    assert_eq!(done["State"]["ExitCode"], 0);
    let a = t.inspect("ship3", &after).unwrap();
    assert!(
        started_at(&a) > finished_at(&done),
        "after started before slow finished"
    );
}
