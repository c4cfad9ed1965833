//! `maestro restart` through the built binary against the lab: a rolling
//! upgrade that keeps the service answering, a broken upgrade that stops
//! after the first instance, `--only-if-changed`, and the order (#186).
//! Test environments and clean-up come from `orchestration.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use maestro_tests::{
    TestEnv, assert_code, finished_at, http_version, id, running, started_at, stderr, stdout,
};

/// Rewrites the test's environment file, e.g. to change the image.
fn edit(t: &TestEnv, f: impl FnOnce(String) -> String) {
    let path = t.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, f(text)).unwrap();
}

/// Adds a `log` auditor writing to `audit.log` next to the environment
/// file; returns a reader of that file.
fn audit_log(t: &TestEnv) -> impl Fn() -> String + '_ {
    edit(t, |s| {
        format!("{s}\naudit:\n  - {{type: log, file: audit.log}}\n")
    });
    move || std::fs::read_to_string(t.dir.join("audit.log")).unwrap_or_default()
}

/// `docker inspect` of the three instances `x1..x3` on ship1..ship3.
fn three(t: &TestEnv) -> Vec<Option<Value>> {
    (1..=3)
        .map(|k| t.inspect(&format!("ship{k}"), &t.n(&format!("x{k}"))))
        .collect()
}

const WEB: &str = "
  web:
    image: {IMAGE}
    ports: {http: '8080:31510'}
    lifecycle:
      running: [{type: http, port: http, path: /VERSION, max_wait: 30}]
    instances:
      {P}-x1: {ship: ship1, stop_timeout: 2, command: sh -c \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"}
      {P}-x2: {ship: ship2, stop_timeout: 2, command: sh -c \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"}
      {P}-x3: {ship: ship3, stop_timeout: 2, command: sh -c \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"}
";

#[test]
fn a_rolling_upgrade_keeps_all_but_one_instance_answering() {
    let t = TestEnv::new("roll", WEB);
    assert_code(&t.maestro(&["start"]), 0);
    let addrs: Vec<SocketAddr> = (1..=3)
        .map(|k| {
            format!("{}:31510", t.lab.ship_ip(&format!("ship{k}")))
                .parse()
                .unwrap()
        })
        .collect();
    for a in &addrs {
        assert_eq!(
            http_version(*a).as_deref(),
            Some("1"),
            "{a} before the roll"
        );
    }
    let before = three(&t);

    let image2 = t.lab.var("MAESTRO_LAB_IMAGE2");
    let image1 = t.lab.var("MAESTRO_LAB_IMAGE");
    edit(&t, |s| {
        s.replace(&format!("image: {image1}"), &format!("image: {image2}"))
    });
    // Sample every 100 ms how many instances answer, while the roll runs.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let addrs = addrs.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let answers: Vec<Option<String>> = addrs.iter().map(|a| http_version(*a)).collect();
                samples.push(answers);
                std::thread::sleep(Duration::from_millis(100));
            }
            samples
        })
    };
    let out = t.maestro(&[
        "restart",
        "-s",
        "web",
        "-c",
        "1",
        "--step-delay",
        "1",
        "--progress",
        "plain",
    ]);
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.join().unwrap();
    assert_code(&out, 0);
    assert!(stdout(&out).contains("restart: 3 done"), "{}", stdout(&out));

    let answering: Vec<usize> = samples
        .iter()
        .map(|s| s.iter().filter(|a| a.is_some()).count())
        .collect();
    assert!(samples.len() >= 20, "only {} samples", samples.len());
    assert!(
        answering.iter().all(|&n| n >= 2),
        "fewer than 2 instances answered during the roll: {answering:?}"
    );
    // The sampler did see the roll: some moment with one instance away,
    // and some with versions 1 and 2 answering side by side.
    assert!(answering.contains(&2), "{answering:?}");
    assert!(
        samples
            .iter()
            .any(|s| { s.contains(&Some("1".to_string())) && s.contains(&Some("2".to_string())) }),
        "{samples:?}"
    );
    for a in &addrs {
        assert_eq!(http_version(*a).as_deref(), Some("2"), "{a} after the roll");
    }
    let after = three(&t);
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(id(b.as_ref().unwrap()), id(a.as_ref().unwrap()));
    }
    // One instance after the other, in name order, a step delay apart.
    let (s1, s2, s3) = (
        started_at(after[0].as_ref().unwrap()),
        started_at(after[1].as_ref().unwrap()),
        started_at(after[2].as_ref().unwrap()),
    );
    assert!(
        s1 + 1_000_000_000 < s2 && s2 + 1_000_000_000 < s3,
        "{s1} {s2} {s3}"
    );
}

#[test]
fn a_broken_upgrade_stops_after_the_first_instance() {
    let services = "
  web:
    image: {IMAGE}
    lifecycle:
      running: [{type: sleep, wait: 1}]
    instances:
      {P}-x1: {ship: ship1, stop_timeout: 1, command: sleep 3600}
      {P}-x2: {ship: ship2, stop_timeout: 1, command: sleep 3600}
      {P}-x3: {ship: ship3, stop_timeout: 1, command: sleep 3600}
";
    let t = TestEnv::new("broken", services);
    assert_code(&t.maestro(&["start"]), 0);
    let audit = audit_log(&t);
    let before = three(&t);
    edit(&t, |s| {
        s.replace(
            "command: sleep 3600",
            "command: sh -c 'echo no config; exit 3'",
        )
    });
    let out = t.maestro(&["restart", "-s", "web", "--progress", "plain"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("no config"), "{text}");
    assert!(
        text.contains("restart: 0 done, 1 failed, 2 not attempted"),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("restarted: none; failed: {}", t.n("x1")))
            && err.contains(&format!("not touched: {}, {}", t.n("x2"), t.n("x3"))),
        "{err}"
    );
    let log = audit();
    assert!(log.contains(" is restarting "), "{log}");
    assert!(
        log.contains("ERROR: Failed to restart") && log.contains("not touched: "),
        "{log}"
    );
    let after = three(&t);
    // The first instance was replaced (and is down); the others were not
    // touched: same containers, still running.
    assert_ne!(
        id(before[0].as_ref().unwrap()),
        id(after[0].as_ref().unwrap())
    );
    assert!(!running(after[0].as_ref().unwrap()));
    for k in 1..3 {
        let (b, a) = (before[k].as_ref().unwrap(), after[k].as_ref().unwrap());
        assert_eq!(id(b), id(a), "x{} was touched", k + 1);
        assert!(running(a));
        assert_eq!(started_at(a), started_at(b));
    }
}

/// A tag of this test on every ship, pointing at one of the lab's images;
/// removed at the end.
struct Tags<'a> {
    t: &'a TestEnv,
    name: String,
}

impl Tags<'_> {
    fn point(&self, ship: &str, image: &str) {
        let ok = self
            .t
            .lab
            .docker(ship)
            .args(["tag", image, &self.name])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tags<'_> {
    fn drop(&mut self) {
        for k in 1..=3 {
            let _ = self
                .t
                .lab
                .docker(&format!("ship{k}"))
                .args(["rmi", &self.name])
                .output();
        }
    }
}

#[test]
fn only_if_changed_restarts_what_changed_image_or_configuration() {
    let services = "
  app:
    image: {P}/app:v
    instances:
      {P}-x1: {ship: ship1, stop_timeout: 1, command: sleep 3600}
      {P}-x2: {ship: ship2, stop_timeout: 1, command: sleep 3600}
      {P}-x3: {ship: ship3, stop_timeout: 1, command: sleep 3600}
";
    let t = TestEnv::new("oic", services);
    let tags = Tags {
        t: &t,
        name: format!("{}/app:v", t.prefix),
    };
    let image1 = t.lab.var("MAESTRO_LAB_IMAGE");
    let image2 = t.lab.var("MAESTRO_LAB_IMAGE2");
    for k in 1..=3 {
        tags.point(&format!("ship{k}"), &image1);
    }
    assert_code(&t.maestro(&["start"]), 0);
    let first = three(&t);

    // Nothing changed: nothing is touched (reference case 39).
    let out = t.maestro(&[
        "restart",
        "-s",
        "app",
        "--only-if-changed",
        "--progress",
        "plain",
    ]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out).matches("up to date").count(),
        3,
        "{}",
        stdout(&out)
    );
    let same = three(&t);
    for (a, b) in first.iter().zip(&same) {
        assert_eq!(id(a.as_ref().unwrap()), id(b.as_ref().unwrap()));
    }

    // One instance's environment changes: only it is restarted.
    edit(&t, |s| {
        s.replace(
            &format!("{}-x2: {{ship: ship2,", t.prefix),
            &format!("{}-x2: {{ship: ship2, env: {{MODE: fast}},", t.prefix),
        )
    });
    let out = t.maestro(&[
        "restart",
        "-s",
        "app",
        "--only-if-changed",
        "--progress",
        "plain",
    ]);
    assert_code(&out, 0);
    let now = three(&t);
    assert_eq!(id(first[0].as_ref().unwrap()), id(now[0].as_ref().unwrap()));
    assert_ne!(id(first[1].as_ref().unwrap()), id(now[1].as_ref().unwrap()));
    assert_eq!(id(first[2].as_ref().unwrap()), id(now[2].as_ref().unwrap()));
    let env: Vec<&str> = now[1].as_ref().unwrap()["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(env.contains(&"MODE=fast"), "{env:?}");

    // The tag moves to other content on ship3 only (a new image under the
    // same name): only that instance is restarted (#62).
    tags.point("ship3", &image2);
    let out = t.maestro(&[
        "restart",
        "-s",
        "app",
        "--only-if-changed",
        "--progress",
        "plain",
    ]);
    assert_code(&out, 0);
    let last = three(&t);
    assert_eq!(id(now[0].as_ref().unwrap()), id(last[0].as_ref().unwrap()));
    assert_eq!(id(now[1].as_ref().unwrap()), id(last[1].as_ref().unwrap()));
    assert_ne!(id(now[2].as_ref().unwrap()), id(last[2].as_ref().unwrap()));
    assert_eq!(
        last[2].as_ref().unwrap()["Config"]["Labels"]["maestro.lab.version"],
        "2"
    );
    drop(tags);
}

const ORDER: &str = "
  a:
    image: {IMAGE}
    instances:
      {P}-a1: {ship: ship1, stop_timeout: 1, command: sleep 3600}
      {P}-a2: {ship: ship2, stop_timeout: 1, command: sleep 3600}
  b:
    image: {IMAGE}
    requires: [a]
    instances:
      {P}-b1: {ship: ship3, stop_timeout: 1, command: sleep 3600}
";

#[test]
fn restart_goes_dependencies_first_one_instance_at_a_time() {
    let t = TestEnv::new("rorder", ORDER);
    // Safety as for stop.
    let out = t.maestro(&["restart"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out)
            .contains("No services or containers specified for restart, and --all not set."),
        "{}",
        stderr(&out)
    );
    let out = t.maestro(&["restart", "a"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("a is a service but --expand-services was not specified"),
        "{}",
        stderr(&out)
    );
    assert_code(&t.maestro(&["start"]), 0);
    let audit = audit_log(&t);
    let get = |n: &str, ship: &str| t.inspect(ship, &t.n(n)).unwrap();
    let (a1, a2, b1) = (get("a1", "ship1"), get("a2", "ship2"), get("b1", "ship3"));

    // --reuse keeps the containers, so each one's stop (FinishedAt) and
    // start (StartedAt) can be compared: a2 is stopped only once a1 runs
    // again, b1 only once both a's do.
    let out = t.maestro(&["restart", "-a", "--reuse", "--progress", "plain"]);
    assert_code(&out, 0);
    let (r1, r2, rb) = (get("a1", "ship1"), get("a2", "ship2"), get("b1", "ship3"));
    assert_eq!((id(&a1), id(&a2), id(&b1)), (id(&r1), id(&r2), id(&rb)));
    assert!(
        started_at(&r1) < finished_at(&r2),
        "a2 stopped before a1 was back"
    );
    assert!(
        started_at(&r2) < finished_at(&rb),
        "b1 stopped before a2 was back"
    );
    assert!(started_at(&r1) > started_at(&a1) && started_at(&rb) > started_at(&b1));
    let log = audit();
    assert!(
        log.contains(&format!(
            "INFO: Restart of {}, {}, {} succeeded.",
            t.n("a1"),
            t.n("a2"),
            t.n("b1")
        )),
        "{log}"
    );

    // Recreating: new containers, started dependencies first.
    let out = t.maestro(&["restart", "-a", "--progress", "plain"]);
    assert_code(&out, 0);
    let (n1, n2, nb) = (get("a1", "ship1"), get("a2", "ship2"), get("b1", "ship3"));
    assert_ne!(id(&n1), id(&r1));
    assert_ne!(id(&nb), id(&rb));
    assert!(started_at(&n1) < started_at(&n2), "a1 then a2");
    assert!(started_at(&n2) < started_at(&nb), "b1 restarted before a");

    // The plan says so too.
    let dry = t.maestro(&["restart", "-a", "--dry-run", "--batch", "100%"]);
    assert_code(&dry, 0);
    let text = stdout(&dry);
    assert!(
        text.contains(&format!(
            "{} (ship3) batch 1 after {},{}",
            t.n("b1"),
            t.n("a1"),
            t.n("a2")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} (ship2) batch 1:", t.n("a2"))),
        "{text}"
    );
}

#[test]
fn refresh_pulls_from_the_registry_first_and_only_if_changed_then_compares() {
    let services = "
  app:
    image: {REGISTRY}/maestro-lab/box:1
    instances:
      {P}-x1: {ship: ship1, stop_timeout: 1, command: sleep 3600}
";
    let t = TestEnv::new("rpull", services);
    assert_code(&t.maestro(&["start"]), 0);
    let first = t.inspect("ship1", &t.n("x1")).unwrap();
    // -r asks the registry (the ship has that image: nothing newer), so
    // the container is current and left alone.
    let out = t.maestro(&[
        "restart",
        "-r",
        "--only-if-changed",
        &t.n("x1"),
        "--progress",
        "json",
    ]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("\"state\":\"pulling\""), "{text}");
    assert!(text.contains("\"state\":\"up_to_date\""), "{text}");
    let same = t.inspect("ship1", &t.n("x1")).unwrap();
    assert_eq!(id(&first), id(&same));
    // Without --only-if-changed it is recreated from the pulled image.
    let out = t.maestro(&["restart", "-r", &t.n("x1"), "--progress", "plain"]);
    assert_code(&out, 0);
    let new = t.inspect("ship1", &t.n("x1")).unwrap();
    assert_ne!(id(&first), id(&new));
    assert!(running(&new));
    assert_eq!(new["Image"], first["Image"]);
}

#[test]
fn running_checks_that_do_not_pass_stop_the_roll() {
    let services = "
  web:
    image: {IMAGE}
    instances:
      {P}-x1: {ship: ship1, stop_timeout: 1, command: sleep 3600}
      {P}-x2: {ship: ship2, stop_timeout: 1, command: sleep 3600}
      {P}-x3: {ship: ship3, stop_timeout: 1, command: sleep 3600}
";
    let t = TestEnv::new("badcheck", services);
    assert_code(&t.maestro(&["start"]), 0);
    let before = three(&t);
    // The new configuration's check can never pass.
    edit(&t, |s| {
        s.replace(
            "    instances:\n",
            "    lifecycle:\n      running: [{type: rexec, command: 'test -e /ready', attempts: 3}]\n    instances:\n",
        )
    });
    let out = t.maestro(&[
        "restart",
        "-s",
        "web",
        "--batch",
        "2",
        "--progress",
        "plain",
    ]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("running checks failed"), "{text}");
    let after = three(&t);
    // The first batch (two instances) was restarted and failed its checks;
    // the third instance kept its container.
    for k in 0..2 {
        assert_ne!(
            id(before[k].as_ref().unwrap()),
            id(after[k].as_ref().unwrap())
        );
    }
    let (b, a) = (before[2].as_ref().unwrap(), after[2].as_ref().unwrap());
    assert_eq!(id(b), id(a));
    assert!(running(a));
    assert!(
        stderr(&out).contains(&format!("not touched: {}", t.n("x3"))),
        "{}",
        stderr(&out)
    );
}
