//! Day-two commands against the lab: `maestro pull` with the lab
//! registry's credentials, `maestro logs`, auditors around a play.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use maestro::config::model::Environment;
use maestro::docker::models::ContainerCreateBody;
use maestro::docker::{Docker, filters};
use maestro_tests::{Lab, TempDir, bin, text, unique};

/// A folder with `lab.yaml` (the lab's fragment, the registry password
/// replaced when asked) and a `maestro.yaml` including it.
struct Project {
    dir: TempDir,
    env: Environment,
}

impl Project {
    fn new(lab: &Lab, services: &str, password: Option<&str>) -> Project {
        let dir = TempDir::new("day2", "proj");
        std::fs::create_dir_all(dir.join("dockercfg")).unwrap();
        let mut fragment = lab.fragment();
        if let Some(pw) = password {
            let real = lab.var("MAESTRO_LAB_REGISTRY_PASSWORD");
            assert!(
                fragment.contains(&real),
                "the lab fragment holds the password"
            );
            fragment = fragment.replace(&real, pw);
        }
        dir.write("lab.yaml", &fragment);
        // A name of its own: tests run side by side, and each environment
        // has its own deploy lock.
        let name = unique("day2", "env");
        let text = format!("name: {name}\n{{% include \"lab.yaml\" %}}\n{services}");
        let file = dir.write("maestro.yaml", &text);
        let env = maestro::config::load(&file, &maestro::config::LoadOptions::from_process(false))
            .unwrap()
            .env;
        Project { dir, env }
    }

    fn docker(&self, ship: &str) -> Docker {
        Docker::new(&self.env.ships[ship]).unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin("maestro"));
        c.current_dir(&self.dir)
            .args(args)
            // The user's own Docker configuration stays out of the tests.
            .env("DOCKER_CONFIG", self.dir.join("dockercfg"))
            .env("NO_COLOR", "1");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// How many `pull` events of `image` the ship reported between `since`
/// and now (waits until a second after now has passed).
fn pull_events(docker: &Docker, image: &str, since: i64) -> usize {
    let until = now() + 1;
    docker
        .events(
            &filters([("type", "image"), ("event", "pull"), ("image", image)]),
            Some(since),
            Some(until),
        )
        .unwrap()
        .filter_map(Result::ok)
        .count()
}

fn box_service(name: &str, image: &str, instances: &[(&str, &str)]) -> String {
    let mut s = format!("services:\n  {name}:\n    image: {image}\n    instances:\n");
    for (i, ship) in instances {
        s.push_str(&format!("      {i}: {{ship: {ship}}}\n"));
    }
    s
}

#[test]
fn pull_with_the_right_password_downloads_the_image() {
    let lab = Lab::get();
    let image = lab.registry_image();
    let inst = unique("day2", "pull");
    let p = Project::new(&lab, &box_service("web", &image, &[(&inst, "ship1")]), None);
    let docker = p.docker("ship1");
    // Only the registry's tag goes; the lab's own tag of the same image
    // stays, so nothing else on the ship is disturbed.
    match docker.image_remove(&image, false) {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => panic!("{e}"),
    }
    assert!(docker.image_inspect(&image).unwrap_err().is_not_found());
    let since = now() - 1;
    let out = p.run(&["pull", "--progress", "plain", &inst]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let row = stdout.lines().rfind(|l| l.contains(&inst)).unwrap();
    assert!(row.ends_with(" done"), "{stdout}");
    assert!(stdout.contains("pull: 1 done"), "{stdout}");
    docker.image_inspect(&image).unwrap();
    assert!(pull_events(&docker, &image, since) >= 1);
}

#[test]
fn pull_with_a_wrong_password_names_the_registry_and_never_the_password() {
    let lab = Lab::get();
    let image = lab.registry_image();
    let inst = unique("day2", "badpw");
    let wrong = "Wr0ng-Pa55word-x9";
    let p = Project::new(
        &lab,
        &box_service("web", &image, &[(&inst, "ship2")]),
        Some(wrong),
    );
    // -r: ask the registry even though the ship may have the image.
    let out = p.run(&["pull", "-r", "--progress", "plain", &inst]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.contains(&inst) && l.contains("failed:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("registry 10.213.0.30:5000"), "{row}");
    assert!(
        row.contains("authentication required") || row.contains("unauthorized"),
        "{row}"
    );
    assert!(
        row.contains("credentials of user `maestro` from registries."),
        "{row}"
    );
    for secret in [wrong, lab.var("MAESTRO_LAB_REGISTRY_PASSWORD").as_str()] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
    assert!(
        !row.contains("gave up"),
        "no retry policy, one attempt: {row}"
    );
}

#[test]
fn pull_retries_on_listed_statuses_and_says_when_it_gives_up() {
    let lab = Lab::get();
    let image = lab.registry_image();
    let inst = unique("day2", "retry");
    let p = Project::new(
        &lab,
        &box_service("web", &image, &[(&inst, "ship2")]),
        Some("Wr0ng-Pa55word-x9"),
    );
    // dockerd answers a refused pull with 500.
    let file = p.dir.join("lab.yaml");
    let fragment = std::fs::read_to_string(&file).unwrap();
    let at = fragment.find("    password:").unwrap();
    let mut with_retry = fragment.clone();
    with_retry.insert_str(at, "    retry: {attempts: 3, when: [500]}\n");
    std::fs::write(&file, with_retry).unwrap();
    let started = Instant::now();
    let out = p.run(&["pull", "-r", "--progress", "json", &inst]);
    let took = started.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("(gave up after 3 attempts)"), "{stdout}");
    // Three attempts, one second apart.
    let attempts = stdout
        .lines()
        .filter(|l| l.contains(r#""state":"pulling""#))
        .count();
    assert_eq!(attempts, 3, "{stdout}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
}

#[test]
fn an_image_already_present_is_not_pulled_again_without_r() {
    let lab = Lab::get();
    let image = lab.registry_image();
    let inst = unique("day2", "present");
    let audit_log = std::env::temp_dir().join(format!("{inst}.log"));
    let services = format!(
        "audit:\n  - type: log\n    file: {}\n{}",
        audit_log.display(),
        box_service("web", &image, &[(&inst, "ship2")])
    );
    let p = Project::new(&lab, &services, None);
    let docker = p.docker("ship2");
    docker
        .pull_all(&image, Some(&lab.registry_auth()), |_| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    let id_before = docker.image_inspect(&image).unwrap().id;
    // Event times are whole seconds: start counting after the set-up pull's.
    let setup = now();
    while now() == setup {
        std::thread::sleep(Duration::from_millis(20));
    }

    let since = now();
    let out = p.run(&["pull", "--progress", "plain"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let row = stdout.lines().rfind(|l| l.contains(&inst)).unwrap();
    assert!(row.ends_with(" up to date"), "{stdout}");
    assert!(!stdout.contains("pulling"), "no pull was started: {stdout}");
    assert_eq!(pull_events(&docker, &image, since), 0, "the daemon pulled");

    // With -r the registry is asked; the image stays the same.
    let since = now() - 1;
    let out = p.run(&["pull", "-r", "--progress", "plain"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("pulling"), "{stdout}");
    let row = stdout.lines().rfind(|l| l.contains(&inst)).unwrap();
    assert!(row.ends_with(" up to date"), "{stdout}");
    assert!(pull_events(&docker, &image, since) >= 1);
    assert_eq!(docker.image_inspect(&image).unwrap().id, id_before);

    // The log auditor saw both plays, start and success.
    let log = std::fs::read_to_string(&audit_log).unwrap();
    let _ = std::fs::remove_file(&audit_log);
    let user = maestro::audit::current_user();
    assert_eq!(
        log.matches(&format!(" INFO: {user} is pulling {inst}."))
            .count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches(&format!(" INFO: Pull of {inst} succeeded."))
            .count(),
        2,
        "{log}"
    );
}

#[test]
fn a_failing_auditor_stops_the_pull_unless_its_errors_are_ignored() {
    let lab = Lab::get();
    let image = lab.registry_image();
    let inst = unique("day2", "audit");
    // sh reads the script file (`args` is split on whitespace).
    let script = std::env::temp_dir().join(format!("{inst}.sh"));
    std::fs::write(&script, "echo 'audit backend down' >&2; exit 7\n").unwrap();
    let services = |ignore: bool| {
        format!(
            "audit:\n  - type: exec\n    script: /bin/sh\n    args: {}\n    ignore_errors: {ignore}\n{}",
            script.display(),
            box_service("web", &image, &[(&inst, "ship3")])
        )
    };
    let strict = Project::new(&lab, &services(false), None);
    let out = strict.run(&["pull", "--progress", "plain"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("auditor failed, nothing was done"),
        "{stderr}"
    );
    assert!(
        stderr.contains("exited with 7: audit backend down"),
        "{stderr}"
    );
    assert!(!stdout.contains(&inst), "no play ran: {stdout}");

    let lenient = Project::new(&lab, &services(true), None);
    let out = lenient.run(&["pull", "--progress", "plain"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let _ = std::fs::remove_file(&script);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&inst), "{stdout}");
    assert!(
        stderr.contains("maestro: warning: audit[0] (exec)"),
        "{stderr}"
    );
}

/// Removes the test's containers even when the test fails.
struct Containers {
    made: Vec<(Docker, String)>,
}

impl Containers {
    fn new() -> Self {
        Containers { made: Vec::new() }
    }

    /// Creates and starts `name` on the ship running `script` with sh.
    fn run(&mut self, p: &Project, lab: &Lab, ship: &str, name: &str, script: &str, tty: bool) {
        let docker = p.docker(ship);
        let body = ContainerCreateBody {
            image: Some(lab.var("MAESTRO_LAB_IMAGE")),
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            tty: Some(tty),
            labels: Some([("maestro.test".to_string(), "day2".to_string())].into()),
            ..Default::default()
        };
        docker.create(name, &body).unwrap();
        docker.start(name).unwrap();
        self.made.push((docker, name.to_string()));
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        for (d, n) in &self.made {
            let _ = d.remove(n, true, true);
        }
    }
}

/// Prints `<tag> 1` .. `<tag> 5` then sleeps; with `err`, one more line
/// on stderr (whose place among the others the daemon does not keep).
fn lines_script(tag: &str, err: bool) -> String {
    let e = if err {
        format!("echo {tag} err >&2; ")
    } else {
        String::new()
    };
    format!("for i in 1 2 3 4 5; do echo {tag} $i; done; {e}sleep 600")
}

fn wait_for_output(p: &Project, args: &[&str], want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = p.run(args);
        let s = text(&out.stdout);
        if s.contains(want) || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn logs_of_one_container_and_the_last_n_lines() {
    let lab = Lab::get();
    let a = unique("day2", "one");
    let p = Project::new(
        &lab,
        &box_service("web", &lab.var("MAESTRO_LAB_IMAGE"), &[(&a, "ship1")]),
        None,
    );
    let mut c = Containers::new();
    c.run(&p, &lab, "ship1", &a, &lines_script("alpha", false), false);
    let all = wait_for_output(&p, &["logs", &a], "alpha 5");
    assert_eq!(all, "alpha 1\nalpha 2\nalpha 3\nalpha 4\nalpha 5\n");
    let out = p.run(&["logs", "-n", "2", &a]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "alpha 4\nalpha 5\n");
    let out = p.run(&["logs", "-t", "-n", "1", &a]);
    let stamped = text(&out.stdout);
    assert!(
        stamped.starts_with("20") && stamped.ends_with("Z alpha 5\n"),
        "{stamped}"
    );
}

#[test]
fn logs_of_a_service_on_two_ships_are_merged_with_prefixes() {
    let lab = Lab::get();
    let (a, b) = (unique("day2", "ma"), unique("day2", "mb"));
    let p = Project::new(
        &lab,
        &box_service(
            "web",
            &lab.var("MAESTRO_LAB_IMAGE"),
            &[(&a, "ship1"), (&b, "ship2")],
        ),
        None,
    );
    let mut c = Containers::new();
    c.run(&p, &lab, "ship1", &a, &lines_script("from-a", true), false);
    c.run(&p, &lab, "ship2", &b, &lines_script("from-b", true), false);
    wait_for_output(&p, &["logs", &a], "from-a 5");
    wait_for_output(&p, &["logs", &b], "from-b 5");
    for args in [vec!["logs", "web"], vec!["logs", a.as_str(), b.as_str()]] {
        let out = p.run(&args);
        assert!(out.status.success());
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 10, "{stdout}");
        for i in 1..=5 {
            assert!(
                lines.contains(&format!("{a} | from-a {i}").as_str()),
                "{stdout}"
            );
            assert!(
                lines.contains(&format!("{b} | from-b {i}").as_str()),
                "{stdout}"
            );
        }
        // Each container's lines keep their order.
        let of_a: Vec<&&str> = lines.iter().filter(|l| l.starts_with(&a)).collect();
        assert!(of_a[0].ends_with("from-a 1") && of_a[4].ends_with("from-a 5"));
        assert!(text(&out.stderr).contains(&format!("{b} | from-b err")));
    }
}

#[test]
fn logs_of_a_tty_container_are_raw() {
    let lab = Lab::get();
    let a = unique("day2", "tty");
    let p = Project::new(
        &lab,
        &box_service("web", &lab.var("MAESTRO_LAB_IMAGE"), &[(&a, "ship3")]),
        None,
    );
    let mut c = Containers::new();
    c.run(
        &p,
        &lab,
        "ship3",
        &a,
        "echo hello tty; echo err >&2; sleep 600",
        true,
    );
    let out = wait_for_output(&p, &["logs", &a], "err");
    assert_eq!(out, "hello tty\r\nerr\r\n");
}

#[test]
fn logs_without_things_or_of_absent_containers_fail_clearly() {
    let lab = Lab::get();
    let (a, b) = (unique("day2", "gone"), unique("day2", "here"));
    let p = Project::new(
        &lab,
        &box_service(
            "web",
            &lab.var("MAESTRO_LAB_IMAGE"),
            &[(&a, "ship1"), (&b, "ship2")],
        ),
        None,
    );
    let out = p.run(&["logs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("logs needs at least one service or container"));

    let out = p.run(&["logs", &a]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("maestro: {a} (on ship1) does not exist\n")
    );

    // One of two exists: its logs, a note for the other, exit 0.
    let mut c = Containers::new();
    c.run(&p, &lab, "ship2", &b, &lines_script("bee", false), false);
    wait_for_output(&p, &["logs", &b], "bee 5");
    let out = p.run(&["logs", "web"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(&format!("{b} | bee 5")));
    assert!(text(&out.stderr).contains(&format!("{a} (on ship1) does not exist")));
}

/// A container on ship1 printing `tick N` every 0.2 s (its guard, to
/// remove it, and its name), and `maestro logs -F` following it.
fn follow_ticks(tag: &str) -> (Project, Containers, String, std::process::Child) {
    let lab = Lab::get();
    let a = unique("day2", tag);
    let p = Project::new(
        &lab,
        &box_service("web", &lab.var("MAESTRO_LAB_IMAGE"), &[(&a, "ship1")]),
        None,
    );
    let mut c = Containers::new();
    c.run(
        &p,
        &lab,
        "ship1",
        &a,
        "trap 'exit 0' TERM; n=0; while true; do n=$((n+1)); echo tick $n; sleep 0.2; done",
        false,
    );
    let child = p
        .command(&["logs", "-F", &a])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (p, c, a, child)
}

#[test]
fn logs_follow_sees_new_lines_and_reattaches_after_a_restart() {
    let (p, _c, a, mut child) = follow_ticks("follow");
    let collect = |mut r: Box<dyn Read + Send>| {
        let buf = Arc::new(Mutex::new(String::new()));
        let b = buf.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                b.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        buf
    };
    let out = collect(Box::new(child.stdout.take().unwrap()));
    let err = collect(Box::new(child.stderr.take().unwrap()));
    let wait = |what: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if what(&out.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };
    // New lines keep coming while following.
    assert!(wait(&|s| s.contains("tick 8\n")), "{}", out.lock().unwrap());
    let docker = p.docker("ship1");
    docker.stop(&a, Some(Duration::from_secs(5))).unwrap();
    docker.start(&a).unwrap();
    // After the restart the counter starts again at 1.
    let reattached = wait(&|s| s.matches("tick 1\n").count() == 2 && s.contains("tick 4\n"));
    let _ = child.kill();
    let _ = child.wait();
    let o = out.lock().unwrap().clone();
    assert!(reattached, "stdout: {o}\nstderr: {}", err.lock().unwrap());
    assert!(
        err.lock()
            .unwrap()
            .contains(&format!("{a} (on ship1) has died, waiting for respawn...")),
        "{}",
        err.lock().unwrap()
    );
    // Nothing of the first run was shown twice.
    let first_run_end = o.rfind("tick 1\n").unwrap();
    let before: Vec<&str> = o[..first_run_end].lines().collect();
    let mut sorted = before.clone();
    sorted.dedup();
    assert_eq!(before, sorted, "{o}");
    assert!(p.dir.exists());
}

/// `maestro logs -F web | head -1`: once the reader of the output is gone,
/// the next write ends the command, though the container goes on printing
/// and the reader thread is blocked on the followed stream.
#[test]
fn logs_follow_ends_when_its_output_is_closed() {
    let (_p, _c, _a, mut child) = follow_ticks("piped");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 4];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"tick");
    drop(stdout);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = status.expect("logs -F still running 10 s after its output was closed");
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

#[test]
fn pull_reports_layer_progress_as_json_events() {
    let lab = Lab::get();
    let image = lab.push_unique_image();
    let inst = unique("day2", "progress");
    let p = Project::new(&lab, &box_service("web", &image, &[(&inst, "ship3")]), None);
    let out = p.run(&["pull", "--progress", "json", &inst]);
    let _ = p.docker("ship3").image_remove(&image, true);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let states: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "instance")
        .collect();
    let percents: Vec<u64> = states
        .iter()
        .filter(|v| v["state"] == "pulling")
        .filter_map(|v| v["percent"].as_u64())
        .collect();
    assert!(percents.contains(&100), "{stdout}");
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert_eq!(states.last().unwrap()["text"], "done", "{stdout}");
    // Every event carries the time since the play began, never going back.
    let times: Vec<f64> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["t"].as_f64())
        .collect::<Option<_>>()
        .unwrap_or_else(|| panic!("an event without `t`: {stdout}"));
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(times.last() > times.first(), "{times:?}");
}
