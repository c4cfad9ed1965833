//! The deploy lock on the lab: a changing command holds it on the first
//! ship (`ship1`) for its whole run, a second one is refused with the
//! holder's description or waits with `--lock-timeout`, read-only commands
//! ignore it, Ctrl-C releases it, and a holder killed with SIGKILL leaves a
//! stale lock that `maestro lock release` removes.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use maestro_tests::{TestEnv, assert_code, running, stderr, stdout};

/// One instance whose start takes `wait` seconds of `running` checks.
fn slow(wait: u32) -> String {
    format!(
        "
  slow:
    image: {{IMAGE}}
    instances:
      {{P}}-s1:
        ship: ship2
        command: sleep 3600
        stop_timeout: 1
        lifecycle: {{running: [{{type: sleep, wait: {wait}}}]}}
"
    )
}

/// The lock container of the test's environment, if any, on ship1.
fn lock_containers(t: &TestEnv) -> String {
    let out = t
        .lab
        .docker("ship1")
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
        .arg(format!("name=maestro-lock.{}", t.name))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Waits until `maestro lock status` says the environment is locked.
fn wait_until_locked(t: &TestEnv, holder: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = t.maestro(&["lock", "status"]);
        assert_code(&out, 0);
        if stdout(&out).contains("locked by") {
            return stdout(&out);
        }
        if let Some(status) = holder.try_wait().unwrap() {
            panic!("the holder ended ({status}) before the lock was seen");
        }
        assert!(Instant::now() < deadline, "never locked");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Leaves no lock behind, whatever the test did.
struct Release<'a>(&'a TestEnv);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let _ = self.0.maestro(&["lock", "release"]);
    }
}

#[test]
fn a_second_changing_command_is_refused_or_waits_and_readers_go_ahead() {
    let t = TestEnv::new("lockwait", &slow(6));
    let _release = Release(&t);
    let mut first = t.cmd(&["start", "--progress", "plain"]).spawn().unwrap();
    let status = wait_until_locked(&t, &mut first);
    let pid = first.id().to_string();
    assert!(
        status.contains(&format!("(pid {pid}, maestro start, since ")),
        "{status}"
    );
    assert_eq!(lock_containers(&t), format!("maestro-lock.{}", t.name));

    // Refused at once, naming the holder; nothing was done.
    let refused = t.maestro(&["stop", "-a"]);
    assert_code(&refused, 1);
    let err = stderr(&refused);
    assert!(err.contains("the environment is locked by "), "{err}");
    assert!(
        err.contains(&format!("(pid {pid}, maestro start, since ")),
        "{err}"
    );
    assert!(err.contains("maestro lock release"), "{err}");
    assert!(
        !stdout(&refused).contains("stopped"),
        "{}",
        stdout(&refused)
    );

    // Read-only commands do not take it.
    let status_cmd = t.maestro(&["status"]);
    assert!(
        !stderr(&status_cmd).contains("locked"),
        "{}",
        stderr(&status_cmd)
    );
    assert_code(&t.maestro(&["deptree"]), 0);
    assert_code(&t.maestro(&["start", "--dry-run"]), 0);

    // A wait says what it waits for; Ctrl-C cuts it short.
    let mut waiting = t.cmd(&["start", "--lock-timeout", "120"]).spawn().unwrap();
    let mut err = BufReader::new(waiting.stderr.take().unwrap());
    let mut said = String::new();
    err.read_line(&mut said).unwrap();
    assert!(
        said.starts_with("maestro: waiting up to 120s for the deploy lock, held by ")
            && said.contains(&format!("(pid {pid}, maestro start")),
        "{said}"
    );
    assert!(
        Command::new("kill")
            .args(["-INT", &waiting.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert_eq!(waiting.wait().unwrap().code(), Some(130), "{rest}");
    assert!(
        rest.contains("interrupted while waiting for the deploy lock"),
        "{rest}"
    );

    // A second start waits for the first, then finds everything up.
    let waited = t.maestro(&["start", "--lock-timeout", "120", "--progress", "plain"]);
    assert_code(&waited, 0);
    assert!(stdout(&waited).contains("up for"), "{}", stdout(&waited));
    assert_eq!(first.wait().unwrap().code(), Some(0));
    assert!(running(&t.inspect("ship2", &t.n("s1")).unwrap()));

    // Released at the end of each command.
    assert!(stdout(&t.maestro(&["lock", "status"])).contains("not locked"));
    assert_eq!(lock_containers(&t), "");
}

#[test]
fn ctrl_c_releases_the_lock() {
    let t = TestEnv::new("lockintr", &slow(60));
    let _release = Release(&t);
    let mut first = t.cmd(&["start", "--progress", "plain"]).spawn().unwrap();
    wait_until_locked(&t, &mut first);
    let pid = first.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(first.wait().unwrap().code(), Some(130));
    assert!(stdout(&t.maestro(&["lock", "status"])).contains("not locked"));
    assert_eq!(lock_containers(&t), "");
}

#[test]
fn a_killed_holder_leaves_a_stale_lock_that_release_removes() {
    let services = format!(
        "{}
  quick:
    image: {{IMAGE}}
    instances:
      {{P}}-q1: {{ship: ship3, command: sleep 3600, stop_timeout: 1}}
",
        slow(60)
    );
    let t = TestEnv::new("lockkill", &services);
    let _release = Release(&t);
    let mut first = t.cmd(&["start", "--progress", "plain"]).spawn().unwrap();
    wait_until_locked(&t, &mut first);
    let pid = first.id().to_string();
    first.kill().unwrap();
    first.wait().unwrap();

    // The lock outlives its holder and still names it.
    let status = stdout(&t.maestro(&["lock", "status"]));
    assert!(
        status.contains(&format!("(pid {pid}, maestro start")),
        "{status}"
    );
    let refused = t.maestro(&["start"]);
    assert_code(&refused, 1);
    assert!(
        stderr(&refused).contains("locked by"),
        "{}",
        stderr(&refused)
    );

    // --no-lock goes ahead unguarded.
    let unguarded = t.maestro(&["stop", "-a", "--no-lock", "--progress", "plain"]);
    assert_code(&unguarded, 0);

    let released = t.maestro(&["lock", "release"]);
    assert_code(&released, 0);
    assert!(
        stdout(&released).contains("released the lock of "),
        "{}",
        stdout(&released)
    );
    assert_eq!(lock_containers(&t), "");
    // After the release, `up` takes the lock again and completes.
    let q1 = t.n("q1");
    let after = t.maestro(&["up", &q1, "--progress", "plain"]);
    assert_code(&after, 0);
    assert!(running(&t.inspect("ship3", &q1).unwrap()));
    assert!(stdout(&t.maestro(&["lock", "status"])).contains("not locked"));
}

#[test]
fn the_lock_goes_on_the_first_ship_that_answers() {
    // `a-gone` sorts before the lab's ships and never answers.
    let t = TestEnv::with_extra(
        "lockfall",
        "  a-gone:\n    ip: 10.213.0.99\n    timeout: 2\n",
        &slow(4),
    );
    let _release = Release(&t);
    let mut first = t.cmd(&["start", "--progress", "plain"]).spawn().unwrap();
    let status = wait_until_locked(&t, &mut first);
    assert!(status.contains("(on ship `ship1`)"), "{status}");
    assert!(
        status.contains("ships that did not answer: a-gone"),
        "{status}"
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the deploy lock is on ship `ship1`: a-gone did not answer"),
        "{}",
        stderr(&out)
    );
    assert_eq!(lock_containers(&t), "");
}
