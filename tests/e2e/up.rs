//! `maestro up` against the lab: it creates what is absent, starts what is
//! stopped, recreates only what changed (every other container keeps its
//! id), applies a moved image tag and a changed one, removes orphans only
//! when asked, adopts a container made by hand from the file's image and
//! refuses one from another image, rolls with `--rolling` while the
//! service keeps answering, and a second `up` at once is refused by the
//! deploy lock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use maestro_tests::{TestEnv, assert_code, http_version, id, running, started_at, stderr, stdout};
use serde_json::Value;

const THREE: &str = "
  web:
    image: {IMAGE}
    instances:
      {P}-w1: {ship: ship1, command: sleep 3600, stop_timeout: 1, env: {MODE: blue}}
      {P}-w2: {ship: ship2, command: sleep 3600, stop_timeout: 1}
      {P}-w3: {ship: ship3, command: sleep 3600, stop_timeout: 1}
";

fn edit(t: &TestEnv, from: &str, to: &str) {
    let path = t.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The ids of `w1..w3` on ship1..ship3 (`None`: no container).
fn ids(t: &TestEnv) -> Vec<Option<String>> {
    (1..=3)
        .map(|k| {
            t.inspect(&format!("ship{k}"), &t.n(&format!("w{k}")))
                .map(|v| id(&v))
        })
        .collect()
}

/// `up` with plain progress; its exit code is checked.
fn up(t: &TestEnv, args: &[&str], want: i32) -> String {
    let mut all = vec!["up", "--progress", "plain"];
    all.extend_from_slice(args);
    let out = t.maestro(&all);
    assert_code(&out, want);
    format!("{}\n{}", stdout(&out), stderr(&out))
}

fn plan_is_clean(t: &TestEnv) {
    let out = t.maestro(&["plan"]);
    assert_code(&out, 0);
}

#[test]
fn up_changes_only_what_differs_from_the_file_and_a_second_up_nothing() {
    let t = TestEnv::new("up-core", THREE);
    let path = t.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}\naudit:\n  - {{type: log, file: audit.log}}\n"),
    )
    .unwrap();

    let said = up(&t, &[], 0);
    assert!(said.contains("maestro: up: 3 created ("), "{said}");
    let first = ids(&t);
    assert!(first.iter().all(Option::is_some), "{first:?}");
    plan_is_clean(&t);

    // A second up changes nothing.
    let said = up(&t, &[], 0);
    assert!(
        said.contains("0 created, 0 recreated, 0 started, 0 removed, 3 left alone"),
        "{said}"
    );
    assert_eq!(ids(&t), first);

    // One variable of one instance: only it is recreated.
    edit(&t, "MODE: blue", "MODE: green");
    let dry = t.maestro(&["up", "--dry-run"]);
    assert_code(&dry, 0);
    assert!(
        stdout(&dry).contains(&format!(
            "{} (ship1): recreate: changed env.MODE\n",
            t.n("w1")
        )),
        "{}",
        stdout(&dry)
    );
    assert_eq!(ids(&t), first, "--dry-run changed something");
    let said = up(&t, &[], 0);
    assert!(
        said.contains(&format!(
            "0 created, 1 recreated ({}), 0 started, 0 removed, 2 left alone",
            t.n("w1")
        )),
        "{said}"
    );
    let after = ids(&t);
    assert_ne!(after[0], first[0]);
    assert_eq!(after[1..], first[1..]);
    let w1 = t.inspect("ship1", &t.n("w1")).unwrap();
    assert!(running(&w1));
    let env = w1["Config"]["Env"].as_array().unwrap();
    assert!(env.contains(&Value::from("MODE=green")), "{env:?}");
    plan_is_clean(&t);

    // Stopped by hand: started again, the same container.
    let ok = t
        .lab
        .docker("ship2")
        .args(["stop", "-t", "1", &t.n("w2")])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let said = up(&t, &[], 0);
    assert!(
        said.contains(&format!("1 started ({})", t.n("w2"))),
        "{said}"
    );
    assert_eq!(ids(&t), after);
    assert!(running(&t.inspect("ship2", &t.n("w2")).unwrap()));
    plan_is_clean(&t);
    let said = up(&t, &[], 0);
    assert!(said.contains("3 left alone"), "{said}");
    assert_eq!(ids(&t), after);

    // The auditors are told what was done.
    let log = std::fs::read_to_string(t.dir.join("audit.log")).unwrap();
    assert!(
        log.contains(&format!(
            "succeeded (0 created, 0 recreated, 1 started ({}), 0 removed, 2 left alone",
            t.n("w2")
        )),
        "{log}"
    );
}

/// A tag of this test on ship1, removed at the end.
struct Tag<'a>(&'a TestEnv, String);

impl Drop for Tag<'_> {
    fn drop(&mut self) {
        let _ = self.0.lab.docker("ship1").args(["rmi", &self.1]).output();
    }
}

#[test]
fn up_applies_a_moved_tag_and_pulls_a_changed_one() {
    let services = "
  app:
    image: {P}/app:v
    instances:
      {P}-a1: {ship: ship1, command: sleep 3600, stop_timeout: 1}
";
    let t = TestEnv::new("up-image", services);
    let tag = Tag(&t, format!("{}/app:v", t.prefix));
    let image1 = t.lab.var("MAESTRO_LAB_IMAGE");
    let image2 = t.lab.var("MAESTRO_LAB_IMAGE2");
    let point = |image: &str| {
        let ok = t
            .lab
            .docker("ship1")
            .args(["tag", image, &tag.1])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    let image_id = |image: &str| {
        let out = t
            .lab
            .docker("ship1")
            .args(["image", "inspect", "-f", "{{.Id}}", image])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    point(&image1);
    up(&t, &[], 0);
    let before = t.inspect("ship1", &t.n("a1")).unwrap();
    assert_eq!(before["Image"].as_str(), Some(image_id(&image1).as_str()));

    // The tag now names another image on the ship: pull+recreate.
    point(&image2);
    let plan = t.maestro(&["plan"]);
    assert_code(&plan, 2);
    assert!(
        stdout(&plan).contains(": pull+recreate: "),
        "{}",
        stdout(&plan)
    );
    let said = up(&t, &[], 0);
    assert!(
        said.contains(&format!("1 recreated ({})", t.n("a1"))),
        "{said}"
    );
    let after = t.inspect("ship1", &t.n("a1")).unwrap();
    assert_ne!(id(&after), id(&before));
    assert_eq!(after["Image"].as_str(), Some(image_id(&image2).as_str()));
    plan_is_clean(&t);

    // Another tag in the file, one the ship lacks: pulled from the
    // registry, then the container is recreated from it.
    let pushed = push(&t, &image2);
    edit(
        &t,
        &format!("image: {}/app:v", t.prefix),
        &format!("image: {pushed}"),
    );
    let said = up(&t, &[], 0);
    assert!(said.contains("pulling"), "{said}");
    assert!(
        said.contains(&format!("1 recreated ({})", t.n("a1"))),
        "{said}"
    );
    let last = t.inspect("ship1", &t.n("a1")).unwrap();
    assert_eq!(last["Config"]["Image"].as_str(), Some(pushed.as_str()));
    assert!(running(&last));
    plan_is_clean(&t);
    let _ = t
        .lab
        .docker("ship1")
        .args(["rm", "-f", &t.n("a1")])
        .output();
    let _ = t.lab.docker("ship1").args(["rmi", &pushed]).output();
}

/// Pushes `image` to the lab registry under a name of this test (from
/// ship2), so that ship1 has to pull it; returns the reference.
fn push(t: &TestEnv, image: &str) -> String {
    let pushed = format!(
        "{}/maestro-test/{}:1",
        t.lab.var("MAESTRO_LAB_REGISTRY"),
        t.prefix
    );
    let cfg = t.lab.dir().join("dockercfg");
    let docker = || {
        let mut c = t.lab.docker("ship2");
        c.arg("--config").arg(&cfg);
        c
    };
    for args in [
        vec!["tag", image, &pushed],
        vec!["push", &pushed],
        vec!["rmi", &pushed],
    ] {
        let out = docker().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    pushed
}

/// Two services: removing `extra` from the file changes nothing of `web`
/// (an instance of the same service would: its link variables).
const TWO: &str = "
  web:
    image: {IMAGE}
    instances:
      {P}-w1: {ship: ship1, command: sleep 3600, stop_timeout: 1}
      {P}-w2: {ship: ship2, command: sleep 3600, stop_timeout: 1}
  extra:
    image: {IMAGE}
    instances:
      {P}-w3: {ship: ship3, command: sleep 3600, stop_timeout: 1}
";

#[test]
fn orphans_are_removed_only_with_remove_orphans() {
    let t = TestEnv::new("up-orphan", TWO);
    up(&t, &[], 0);
    let first = ids(&t);
    edit(
        &t,
        &format!(
            "  extra:\n    image: {}\n    instances:\n      {}-w3: {{ship: ship3, command: sleep 3600, stop_timeout: 1}}\n",
            t.lab.var("MAESTRO_LAB_IMAGE"),
            t.prefix
        ),
        "",
    );
    let said = up(&t, &[], 0);
    assert!(said.contains("0 removed, 2 left alone"), "{said}");
    assert_eq!(ids(&t), first, "without the flag the orphan stays");
    assert_code(&t.maestro(&["plan"]), 2);

    let said = up(&t, &["--remove-orphans"], 0);
    assert!(
        said.contains(&format!("1 removed ({})", t.n("w3"))),
        "{said}"
    );
    assert!(said.contains("2 left alone"), "{said}");
    let now = ids(&t);
    assert_eq!(now[..2], first[..2]);
    assert_eq!(now[2], None);
    plan_is_clean(&t);
}

/// Removes containers made by hand on drop.
struct HandMade<'a>(&'a TestEnv, Vec<(&'static str, String)>);

impl Drop for HandMade<'_> {
    fn drop(&mut self) {
        for (ship, name) in &self.1 {
            let _ = self.0.lab.docker(ship).args(["rm", "-f", name]).output();
        }
    }
}

#[test]
fn a_container_made_by_hand_is_adopted_or_refused_by_its_image() {
    let t = TestEnv::new("up-adopt", THREE);
    let image1 = t.lab.var("MAESTRO_LAB_IMAGE");
    let image2 = t.lab.var("MAESTRO_LAB_IMAGE2");
    let hand = HandMade(&t, vec![("ship1", t.n("w1")), ("ship2", t.n("w2"))]);
    let make = |ship: &str, name: &str, image: &str| {
        let ok = t
            .lab
            .docker(ship)
            .args(["run", "-d", "--name", name, image, "sleep", "3600"])
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        String::from_utf8_lossy(&ok.stdout).trim().to_string()
    };
    let adopted = make("ship1", &hand.1[0].1, &image1);
    let foreign = make("ship2", &hand.1[1].1, &image2);

    let out = t.maestro(&["up", "--progress", "plain"]);
    assert_code(&out, 1);
    let said = format!("{}\n{}", stdout(&out), stderr(&out));
    assert!(
        said.contains(&format!(
            "conflict: container {} was not created by maestro and runs {image2}, not {image1}; remove or rename it",
            t.n("w2")
        )),
        "{said}"
    );
    assert!(said.contains("1 created"), "{said}");
    assert!(
        said.contains(&format!("1 recreated ({})", t.n("w1"))),
        "{said}"
    );
    // Adopted: recreated with maestro's labels.
    let w1 = t.inspect("ship1", &t.n("w1")).unwrap();
    assert_ne!(id(&w1), adopted);
    assert_eq!(
        w1["Config"]["Labels"]["maestro.environment"].as_str(),
        Some(t.name.as_str())
    );
    // Refused: the container made by hand is untouched.
    let w2 = t.inspect("ship2", &t.n("w2")).unwrap();
    assert_eq!(id(&w2), foreign);
    assert!(running(&w2));
    assert!(w2["Config"]["Labels"].get("maestro.environment").is_none());
    assert!(running(&t.inspect("ship3", &t.n("w3")).unwrap()));
}

const WEB: &str = "
  web:
    image: {IMAGE}
    ports: {http: '8080:31821'}
    lifecycle:
      running: [{type: http, port: http, path: /VERSION, max_wait: 30}]
    instances:
      {P}-w1: {ship: ship1, stop_timeout: 2, command: sh -c \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"}
      {P}-w2: {ship: ship2, stop_timeout: 2, command: sh -c \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"}
      {P}-w3: {ship: ship3, stop_timeout: 2, command: sh -c \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"}
";

#[test]
fn up_rolling_keeps_two_of_three_instances_answering() {
    let t = TestEnv::new("up-roll", WEB);
    up(&t, &[], 0);
    let addrs: Vec<SocketAddr> = (1..=3)
        .map(|k| {
            format!("{}:31821", t.lab.ship_ip(&format!("ship{k}")))
                .parse()
                .unwrap()
        })
        .collect();
    for a in &addrs {
        assert_eq!(http_version(*a).as_deref(), Some("1"), "{a} before");
    }
    let before = ids(&t);
    let image1 = t.lab.var("MAESTRO_LAB_IMAGE");
    let image2 = t.lab.var("MAESTRO_LAB_IMAGE2");
    edit(&t, &format!("image: {image1}"), &format!("image: {image2}"));

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let addrs = addrs.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                // All three at the same moment: probes one after the other
                // would see an instance before it came back and the next
                // one after it went away.
                let answers: Vec<Option<String>> = std::thread::scope(|s| {
                    let probes: Vec<_> = addrs
                        .iter()
                        .map(|a| s.spawn(move || http_version(*a)))
                        .collect();
                    probes.into_iter().map(|p| p.join().unwrap()).collect()
                });
                samples.push(answers);
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        })
    };
    let said = up(&t, &["--rolling"], 0);
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.join().unwrap();
    assert!(said.contains("3 recreated"), "{said}");
    let answering: Vec<usize> = samples
        .iter()
        .map(|s| s.iter().filter(|a| a.is_some()).count())
        .collect();
    assert!(samples.len() >= 5, "only {} samples", samples.len());
    assert!(
        answering.iter().all(|&n| n >= 2),
        "fewer than 2 instances answered during the roll: {samples:?}\n{said}"
    );
    // The sampler saw the roll: versions 1 and 2 side by side.
    assert!(
        samples
            .iter()
            .any(|s| s.contains(&Some("1".to_string())) && s.contains(&Some("2".to_string()))),
        "{samples:?}"
    );
    for a in &addrs {
        assert_eq!(http_version(*a).as_deref(), Some("2"), "{a} after");
    }
    let after = ids(&t);
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(b, a);
    }
    plan_is_clean(&t);
}

#[test]
fn two_ups_at_once_one_is_refused_by_the_lock() {
    let services = "
  slow:
    image: {IMAGE}
    instances:
      {P}-w1:
        ship: ship2
        command: sleep 3600
        stop_timeout: 1
        lifecycle: {running: [{type: sleep, wait: 4}]}
";
    let t = TestEnv::new("up-twice", services);
    let a = t.cmd(&["up", "--progress", "plain"]).spawn().unwrap();
    let b = t.cmd(&["up", "--progress", "plain"]).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(1)], "{}\n{}", stderr(&a), stderr(&b));
    let (done, refused) = if a.status.success() { (a, b) } else { (b, a) };
    let err = stderr(&refused);
    assert!(err.contains("the environment is locked by "), "{err}");
    assert!(err.contains(", maestro up, since "), "{err}");
    assert!(
        !stdout(&refused).contains("created"),
        "{}",
        stdout(&refused)
    );
    assert!(
        stderr(&done).contains(&format!("1 created ({})", t.n("w1"))),
        "{}",
        stderr(&done)
    );
    assert!(running(&t.inspect("ship2", &t.n("w1")).unwrap()));
    plan_is_clean(&t);

    // A lock held by someone else: an `up` with nothing to change does not
    // need it; one with something to change is refused and changes nothing.
    let lock = format!("maestro-lock.{}", t.name);
    let made = t
        .lab
        .docker("ship1")
        .args(["create", "--name", &lock, "--label", "maestro.lock=1"])
        .args([
            "--label",
            "maestro.lock.user=bob",
            "maestro-lock:1",
            "maestro-lock",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let said = up(&t, &[], 0);
    assert!(said.contains("1 left alone"), "{said}");
    let before = t.inspect("ship2", &t.n("w1")).map(|v| id(&v));
    edit(&t, "command: sleep 3600", "command: sleep 3601");
    let refused = t.maestro(&["up"]);
    let _ = t.lab.docker("ship1").args(["rm", "-f", &lock]).output();
    assert_code(&refused, 1);
    assert!(
        stderr(&refused).contains("the environment is locked by bob@"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(t.inspect("ship2", &t.n("w1")).map(|v| id(&v)), before);
}

#[test]
fn no_start_creates_stopped_containers_that_the_next_up_starts() {
    let t = TestEnv::new("up-nostart", THREE);
    let said = up(&t, &["--no-start"], 0);
    assert!(said.contains("3 created"), "{said}");
    let created = ids(&t);
    for k in 1..=3 {
        let c = t
            .inspect(&format!("ship{k}"), &t.n(&format!("w{k}")))
            .unwrap();
        assert!(!running(&c), "w{k} was started");
        assert_eq!(c["State"]["Status"].as_str(), Some("created"));
    }
    let said = up(&t, &["--no-start"], 0);
    assert!(
        said.contains("0 started, 0 removed, 3 left alone"),
        "{said}"
    );
    let said = up(&t, &[], 0);
    assert!(said.contains("0 recreated, 3 started"), "{said}");
    assert_eq!(ids(&t), created);
    plan_is_clean(&t);
}

#[test]
fn a_recreated_dependency_passes_its_checks_before_its_dependents_are_touched() {
    let services = "
  db:
    image: {IMAGE}
    env: {V: '1'}
    lifecycle: {running: [{type: sleep, wait: 2}]}
    instances:
      {P}-db: {ship: ship1, command: sleep 3600, stop_timeout: 1}
  app:
    image: {IMAGE}
    requires: [db]
    env: {W: '1'}
    instances:
      {P}-app: {ship: ship2, command: sleep 3600, stop_timeout: 1}
";
    let t = TestEnv::new("up-order", services);
    up(&t, &[], 0);
    edit(&t, "V: '1'", "V: '2'");
    edit(&t, "W: '1'", "W: '2'");
    let said = up(&t, &[], 0);
    assert!(said.contains("2 recreated"), "{said}");
    let db = t.inspect("ship1", &t.n("db")).unwrap();
    let app = t.inspect("ship2", &t.n("app")).unwrap();
    let app_created = maestro_tests::nanos_of_day(app["Created"].as_str().unwrap());
    assert!(
        started_at(&db) + 2_000_000_000 <= app_created,
        "app recreated before db's checks passed: db started {}, app created {app_created}",
        started_at(&db)
    );
    plan_is_clean(&t);
}
