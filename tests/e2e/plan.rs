//! `maestro plan` against the lab's daemons: each action for the reason it
//! is told (a changed variable, a container stopped by hand, an instance
//! removed from the file, a container made by hand), its exit codes, and
//! that it only reads: the daemons' event streams show no change while it
//! runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maestro::docker::Docker;
use maestro_tests::{TestEnv, assert_code, stderr, stdout};
use serde_json::Value;

/// Three instances over three ships, one with a published port.
const THREE: &str = "
  web:
    image: {IMAGE}
    env: {MODE: blue}
    instances:
      {P}-w1: {ship: ship1, command: sleep 3600, stop_timeout: 1, ports: {http: '8080:{PORT}'}, env: {JVM_OPTS: -Xmx1g}}
      {P}-w2: {ship: ship2, command: sleep 3600, stop_timeout: 1}
      {P}-w3: {ship: ship3, command: sleep 3600, stop_timeout: 1}
";

fn three(tag: &str, port: u16) -> TestEnv {
    TestEnv::new(tag, &THREE.replace("{PORT}", &port.to_string()))
}

fn file(t: &TestEnv) -> String {
    std::fs::read_to_string(t.dir.join("maestro.yaml")).unwrap()
}

fn rewrite(t: &TestEnv, from: &str, to: &str) {
    let text = file(t);
    assert!(text.contains(from), "{from} not in the file");
    t.dir.write("maestro.yaml", &text.replacen(from, to, 1));
}

/// The plan as JSON (exit code checked by the caller).
fn plan_json(t: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let out = t.maestro(&all);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap_or(-1), v)
}

/// `(instance, action)` of every instance of the plan.
fn actions(v: &Value) -> Vec<(String, String)> {
    v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["instance"].as_str().unwrap().to_string(),
                i["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Removes containers made by hand (without maestro's labels) on drop.
struct HandMade<'a> {
    t: &'a TestEnv,
    made: Vec<(&'static str, String)>,
}

impl Drop for HandMade<'_> {
    fn drop(&mut self) {
        for (ship, name) in &self.made {
            let _ = self.t.lab.docker(ship).args(["rm", "-f", name]).output();
        }
    }
}

#[test]
fn plan_names_the_one_changed_variable_and_never_its_value() {
    let t = three("plan-env", 31711);
    let (code, v) = plan_json(&t, &[]);
    assert_eq!(code, 2, "{v}");
    assert!(actions(&v).iter().all(|(_, a)| a == "create"), "{v}");

    assert_code(&t.maestro(&["start"]), 0);
    let out = t.maestro(&["plan"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("no changes: 3 nothing"),
        "{}",
        stdout(&out)
    );

    rewrite(&t, "JVM_OPTS: -Xmx1g", "JVM_OPTS: -Xmx2g-secret-value");
    let out = t.maestro(&["plan"]);
    assert_code(&out, 2);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{} (ship1): recreate: changed env.JVM_OPTS\n",
            t.n("w1")
        )),
        "{text}"
    );
    assert!(
        text.contains("changes pending: 1 recreate, 2 nothing"),
        "{text}"
    );
    assert!(!text.contains("Xmx"), "{text}");

    let (code, v) = plan_json(&t, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        actions(&v),
        [
            (t.n("w1"), "recreate".to_string()),
            (t.n("w2"), "nothing".to_string()),
            (t.n("w3"), "nothing".to_string()),
        ]
    );
    assert_eq!(
        v["instances"][0]["changes"],
        serde_json::json!(["env.JVM_OPTS"])
    );
    assert!(!v.to_string().contains("Xmx"), "{v}");

    // A port: named, and its variables follow.
    rewrite(&t, "JVM_OPTS: -Xmx2g-secret-value", "JVM_OPTS: -Xmx1g");
    rewrite(&t, "'8080:31711'", "'8080:31712'");
    let (code, v) = plan_json(&t, &[]);
    assert_eq!(code, 2);
    let changes = v["instances"][0]["changes"].as_array().unwrap();
    assert!(changes.contains(&Value::from("ports.http")), "{v}");
    assert!(!changes.contains(&Value::from("env.JVM_OPTS")), "{v}");
}

#[test]
fn plan_says_start_for_a_container_stopped_by_hand() {
    let t = three("plan-stop", 31713);
    assert_code(&t.maestro(&["start"]), 0);
    let out = t
        .lab
        .docker("ship2")
        .args(["stop", "-t", "1", &t.n("w2")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = t.maestro(&["plan"]);
    assert_code(&out, 2);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{} (ship2): start: ", t.n("w2"))),
        "{text}"
    );
    assert!(
        text.contains("changes pending: 1 start, 2 nothing"),
        "{text}"
    );
    // Things narrow the plan: w1 alone has nothing to do.
    assert_code(&t.maestro(&["plan", &t.n("w1")]), 0);
}

#[test]
fn plan_finds_the_orphans_of_removed_and_moved_instances() {
    let t = three("plan-orph", 31714);
    assert_code(&t.maestro(&["start"]), 0);
    let w3 = format!(
        "      {}-w3: {{ship: ship3, command: sleep 3600, stop_timeout: 1}}\n",
        t.prefix
    );
    rewrite(&t, &w3, "");
    rewrite(
        &t,
        &format!("{}-w2: {{ship: ship2", t.prefix),
        &format!("{}-w2: {{ship: ship1", t.prefix),
    );
    let (code, v) = plan_json(&t, &[]);
    assert_eq!(code, 2, "{v}");
    let orphans: Vec<(String, String, String)> = v["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["container"]["name"].as_str().unwrap().to_string(),
                o["ship"].as_str().unwrap().to_string(),
                o["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        orphans,
        [
            (t.n("w2"), "ship2".into(), "moved".into()),
            (t.n("w3"), "ship3".into(), "removed".into()),
        ]
    );
    assert_eq!(v["orphans"][0]["moved_to"], "ship1");
    assert_eq!(
        actions(&v),
        [(t.n("w1"), "recreate".into()), (t.n("w2"), "create".into())]
    );
    let text = stdout(&t.maestro(&["plan"]));
    assert!(
        text.contains(&format!(
            "{} (ship3): orphan: not in the file (service web)",
            t.n("w3")
        )),
        "{text}"
    );
}

#[test]
fn plan_adopts_or_conflicts_containers_made_by_hand() {
    let t = three("plan-hand", 31715);
    let image = t.lab.var("MAESTRO_LAB_IMAGE");
    let hand = HandMade {
        t: &t,
        made: vec![("ship1", t.n("w1")), ("ship2", t.n("w2"))],
    };
    // w1: the file's image, no labels: adopted. w2: another environment's.
    let run = |ship: &str, name: &str, extra: &[&str]| {
        let out = t
            .lab
            .docker(ship)
            .args(["run", "-d", "--name", name])
            .args(extra)
            .args([image.as_str(), "sleep", "3600"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", maestro_tests::text(&out.stderr));
    };
    run("ship1", &t.n("w1"), &[]);
    run(
        "ship2",
        &t.n("w2"),
        &["--label", "maestro.environment=someone-else"],
    );
    let (code, v) = plan_json(&t, &[]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(
        actions(&v),
        [
            (t.n("w1"), "adopt".into()),
            (t.n("w2"), "conflict".into()),
            (t.n("w3"), "create".into()),
        ]
    );
    assert_eq!(v["instances"][1]["conflict"]["kind"], "other_environment");
    assert_eq!(v["instances"][1]["conflict"]["value"], "someone-else");
    let text = stdout(&t.maestro(&["plan"]));
    assert!(
        text.contains("up recreates it with maestro's labels"),
        "{text}"
    );
    assert!(
        text.contains("belongs to environment someone-else"),
        "{text}"
    );
    drop(hand);
}

#[test]
fn plan_errors_exit_1() {
    let t = three("plan-err", 31716);
    // An unknown thing is a usage error: 1 for plan (2 means changes).
    let out = t.maestro(&["plan", "no-such-thing"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("neither a service nor a container"));
    // So is a flag clap refuses.
    let out = t.maestro(&["plan", "--no-such-flag"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("--no-such-flag"), "{}", stderr(&out));
    // A ship that does not answer: the plan is incomplete.
    let bad = TestEnv::with_extra(
        "plan-down",
        "  down: {ip: 127.0.0.1, docker_port: 1, timeout: 2}\n",
        "
  d:
    image: {IMAGE}
    instances:
      {P}-d1: {ship: down}
",
    );
    let out = bad.maestro(&["plan"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{} (down): error: host down", bad.n("d1"))),
        "{text}"
    );
    assert!(text.contains("incomplete:"), "{text}");
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// One daemon's events from `since` (seconds; the daemon replays what
/// happened since then, so none is lost while the subscription is being
/// made), live, until the network `sentinel` is created on it (or two
/// minutes have passed).
fn subscribe(
    ship: &str,
    docker: &Docker,
    since: i64,
    sentinel: &str,
) -> Vec<(String, maestro::docker::models::DaemonEvent)> {
    let mut seen = Vec::new();
    let stream = docker
        .events(&Default::default(), Some(since), Some(since + 120))
        .unwrap();
    for ev in stream {
        let ev = ev.unwrap();
        let end = ev.kind == "network"
            && ev.action == "create"
            && ev.actor.attributes.get("name").map(String::as_str) == Some(sentinel);
        seen.push((ship.to_string(), ev));
        if end {
            break;
        }
    }
    seen
}

/// Two services; `old` is removed from the file by the test.
const READ_ONLY: &str = "
  web:
    image: {IMAGE}
    instances:
      {P}-w1: {ship: ship1, command: sleep 3600, stop_timeout: 1, env: {JVM_OPTS: -Xmx1g}}
      {P}-w2: {ship: ship2, command: sleep 3600, stop_timeout: 1}
  old:
    image: {IMAGE}
    instances:
      {P}-o1: {ship: ship3, command: sleep 3600, stop_timeout: 1}
";

#[test]
fn plan_makes_only_read_requests() {
    let t = TestEnv::new("plan-ro", READ_ONLY);
    assert_code(&t.maestro(&["start"]), 0);
    // Every kind of plan at once: a drifted container (inspected with its
    // image), a stopped one, an orphan.
    let out = t
        .lab
        .docker("ship2")
        .args(["stop", "-t", "1", &t.n("w2")])
        .output()
        .unwrap();
    assert!(out.status.success());
    // JVM_OPTS leaves the file: told apart from the image's own variables.
    rewrite(&t, ", env: {JVM_OPTS: -Xmx1g}", "");
    // The service `old` leaves the file: its container is an orphan.
    let text = file(&t);
    let cut = text.find("  old:\n").unwrap();
    t.dir.write("maestro.yaml", &text[..cut]);

    let env = maestro::config::load(
        &t.dir.join("maestro.yaml"),
        &maestro::config::LoadOptions::from_process(false),
    )
    .unwrap()
    .env;
    let dockers: Vec<(String, Docker)> = env
        .ships
        .iter()
        .map(|(n, s)| (n.to_string(), Docker::new(s).unwrap()))
        .collect();
    let ids: Vec<String> = [("ship1", "w1"), ("ship2", "w2"), ("ship3", "o1")]
        .iter()
        .map(|(s, n)| maestro_tests::id(&t.inspect(s, &t.n(n)).unwrap()))
        .collect();
    // The set-up's own events are a second old before the window opens.
    std::thread::sleep(Duration::from_millis(1100));
    let since = now_secs();
    let sentinel = format!("{}-sentinel", t.prefix);
    let mut began = 0;
    let mut ended = 0;
    // Every daemon of the file (plan lists them all) is watched live while
    // `plan` runs.
    let events: Vec<_> = std::thread::scope(|s| {
        let watchers: Vec<_> = dockers
            .iter()
            .map(|(ship, d)| {
                let sentinel = &sentinel;
                s.spawn(move || subscribe(ship, d, since, sentinel))
            })
            .collect();
        began = now_nanos();
        let out = t.maestro(&["plan"]);
        ended = now_nanos();
        assert_code(&out, 2);
        let text = stdout(&out);
        assert!(text.contains("1 start, 1 recreate, 1 orphan"), "{text}");
        assert!(
            text.contains(&format!(
                "{} (ship1): recreate: changed env.JVM_OPTS\n",
                t.n("w1")
            )),
            "{text}"
        );
        // A change after the plan: the streams do show this test's
        // containers (the check below is not blind).
        let out = t
            .lab
            .docker("ship1")
            .args(["stop", "-t", "1", &t.n("w1")])
            .output()
            .unwrap();
        assert!(out.status.success());
        // Then the sentinel on every ship ends its watcher.
        for (ship, _) in &dockers {
            for verb in ["create", "rm"] {
                let out = t
                    .lab
                    .docker(ship)
                    .args(["network", verb, &sentinel])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{ship}: network {verb}");
            }
        }
        watchers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    for (ship, _) in &dockers {
        assert!(
            events.iter().any(|(s, e)| s == ship
                && e.kind == "network"
                && e.actor.attributes.get("name") == Some(&sentinel)),
            "{ship}: the watcher ended before the sentinel"
        );
    }

    let image = t.lab.var("MAESTRO_LAB_IMAGE");
    let ours = |e: &maestro::docker::models::DaemonEvent| {
        let a = &e.actor.attributes;
        ids.contains(&e.actor.id)
            || a.get("name")
                .is_some_and(|n| n.starts_with(&t.prefix) || *n == image)
            || a.get("container").is_some_and(|c| ids.contains(c))
            || a.get("maestro.environment") == Some(&t.name)
            || (e.kind == "image" && (e.actor.id == image || a.get("name") == Some(&image)))
    };
    let during: Vec<String> = events
        .iter()
        .filter(|(_, e)| e.time_nano >= began && e.time_nano <= ended && ours(e))
        .map(|(s, e)| format!("{s}: {} {} {}", e.kind, e.action, e.actor.id))
        .collect();
    assert!(during.is_empty(), "plan changed something: {during:?}");
    // Nothing at all on the daemons during the plan from maestro's
    // requests: no create, start, stop, kill, die, destroy, rename,
    // update, pull, tag, delete, connect, mount of this test's objects.
    let after = events
        .iter()
        .filter(|(s, e)| s == "ship1" && e.time_nano > ended && ours(e) && e.action == "stop")
        .count();
    assert_eq!(after, 1, "the stop after the plan was not seen: {events:?}");
}

/// Removes this test's containers, then an image tag it made, on drop.
struct Tagged<'a> {
    t: &'a TestEnv,
    ship: &'static str,
    tag: String,
}

impl Drop for Tagged<'_> {
    fn drop(&mut self) {
        self.t.remove_containers();
        let _ = self
            .t
            .lab
            .docker(self.ship)
            .args(["rmi", "-f", &self.tag])
            .output();
    }
}

#[test]
fn plan_says_pull_and_recreate_when_the_tag_points_at_another_image() {
    let t = TestEnv::new(
        "plan-pull",
        "
  p:
    image: {P}-img:1
    instances:
      {P}-p1: {ship: ship1, command: sleep 3600, stop_timeout: 1}
",
    );
    let tagged = Tagged {
        t: &t,
        ship: "ship1",
        tag: format!("{}-img:1", t.prefix),
    };
    let docker = |args: &[&str]| {
        let out = t.lab.docker("ship1").args(args).output().unwrap();
        assert!(out.status.success(), "{}", maestro_tests::text(&out.stderr));
        maestro_tests::text(&out.stdout).trim().to_string()
    };
    docker(&["tag", &t.lab.var("MAESTRO_LAB_IMAGE"), &tagged.tag]);
    assert_code(&t.maestro(&["start"]), 0);
    assert_code(&t.maestro(&["plan"]), 0);
    let running = docker(&["image", "inspect", "-f", "{{.Id}}", &tagged.tag]);
    // The same name now names another image on the ship.
    docker(&["commit", "--change", "ENV EXTRA=1", &t.n("p1"), &tagged.tag]);
    let current = docker(&["image", "inspect", "-f", "{{.Id}}", &tagged.tag]);
    assert_ne!(running, current);
    let (code, v) = plan_json(&t, &[]);
    assert_eq!(code, 2, "{v}");
    let p1 = &v["instances"][0];
    assert_eq!(p1["action"], "pull+recreate", "{v}");
    assert_eq!(p1["image"]["running"], running.as_str());
    assert_eq!(p1["image"]["current"], current.as_str());
    assert_eq!(p1["changes"], serde_json::json!([]));
    drop(tagged);
}
