//! How ships are reached safely: TLS certificate checks (on whenever a CA
//! is given; `tls_verify: false` warned about once per ship), SSH host key
//! checks, the SSH forwarder's private socket folder (0700, removed at exit,
//! swept after a SIGKILL), a forwarder killed mid-run, and SSH connection
//! sharing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maestro_tests::{Lab, TempDir, bin, stderr, stdout, unique};

/// A folder with a `maestro.yaml` of the given ships and one service whose
/// instances are given as `name: ship` pairs.
struct Project {
    dir: TempDir,
    name: String,
    prefix: String,
}

impl Project {
    fn new(tag: &str, ships: &str, instances: &[(&str, &str)]) -> Project {
        let lab = Lab::get();
        let dir = TempDir::new("tsec", tag);
        let name = unique("tsec", tag);
        let prefix = format!("t{}-{tag}", std::process::id());
        let mut text = format!(
            "name: {name}\nship_defaults: {{timeout: 30}}\nships:\n{ships}services:\n  box:\n    image: {}\n    instances:\n",
            lab.var("MAESTRO_LAB_IMAGE")
        );
        for (i, ship) in instances {
            text.push_str(&format!(
                "      {prefix}-{i}: {{ship: {ship}, command: sleep 3600, stop_timeout: 1}}\n"
            ));
        }
        dir.write("maestro.yaml", &text);
        Project { dir, name, prefix }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin("maestro"));
        c.current_dir(&self.dir)
            .args(args)
            .env_remove("MAESTRO_FILE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let o = self.cmd(args).output().unwrap();
        (o.status.code(), stdout(&o), stderr(&o))
    }

    /// Removes this project's containers from `ship` (by label).
    fn remove_on(&self, ship: &str) {
        let lab = Lab::get();
        let out = lab
            .docker(ship)
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=maestro.environment={}", self.name))
            .output()
            .unwrap();
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let _ = lab.docker(ship).args(["rm", "-f"]).args(&ids).output();
        }
    }
}

fn tls_ship(name: &str, extra: &str) -> String {
    let lab = Lab::get();
    format!(
        "  {name}:\n    ip: {}\n    docker_port: 2376\n    tls: true\n    tls_cert: {}\n    tls_key: {}\n{extra}",
        lab.ship_ip("shiptls"),
        lab.var("MAESTRO_LAB_TLS_CERT"),
        lab.var("MAESTRO_LAB_TLS_KEY"),
    )
}

/// A CA alone turns certificate checks on: the lab CA passes, another CA
/// fails; `tls_verify: false` goes ahead and is warned about once per ship
/// and command, whatever the command and its output format.
#[test]
fn tls_checks_follow_the_ca_and_tls_verify_false_warns_once_per_ship() {
    let lab = Lab::get();
    let ca = lab.var("MAESTRO_LAB_TLS_CA");
    let other = lab.var("MAESTRO_LAB_TLS_OTHER_CA");
    let ships = format!(
        "{}{}{}{}",
        tls_ship("goodca", &format!("    tls_ca_cert: {ca}\n")),
        tls_ship("wrongca", &format!("    tls_ca_cert: {other}\n")),
        tls_ship(
            "off1",
            &format!("    tls_ca_cert: {other}\n    tls_verify: false\n")
        ),
        tls_ship("off2", "    tls_verify: no\n"),
    );
    let p = Project::new(
        "tls",
        &ships,
        &[
            ("good", "goodca"),
            ("wrong", "wrongca"),
            ("off1", "off1"),
            ("off2", "off2"),
        ],
    );
    struct Cleanup<'a>(&'a Project);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            self.0.remove_on("shiptls");
        }
    }
    let _cleanup = Cleanup(&p);

    let (code, out, err) = p.run(&["status", "--format", "json"]);
    assert_eq!(code, Some(1), "{out}{err}");
    let line = |inst: &str| {
        out.lines()
            .find(|l| l.contains(&format!("\"{}-{inst}\"", p.prefix)))
            .unwrap_or_else(|| panic!("{inst} missing: {out}"))
            .to_string()
    };
    assert!(
        line("good").contains("\"absent\"") || line("good").contains("absent"),
        "{}",
        line("good")
    );
    // The wrong CA is used (checks on) and refuses the daemon's certificate.
    let all = format!("{out}{err}");
    assert!(
        all.contains("wrongca") && all.contains(&other),
        "the wrong CA's failure names it: {all}"
    );
    assert!(!line("off1").contains("error"), "{}", line("off1"));

    for args in [
        vec!["status"],
        vec!["status", "--format", "json"],
        vec!["plan"],
        vec!["plan", "--format", "json"],
        vec!["start", "--dry-run"],
        vec!["ships"],
        vec!["start", "--progress", "json", "off1", "off2"],
        vec!["restart", "--progress", "plain", "off1", "off2"],
        vec!["up", "--progress", "json", "off1", "off2"],
        vec!["stop", "--progress", "plain", "off1", "off2"],
        vec!["clean", "--progress", "json", "off1", "off2"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.starts_with("off") {
                    format!("{}-{a}", p.prefix)
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, out, err) = p.run(&args);
        let all = format!("{out}{err}");
        for (ship, why) in [
            ("off1", "tls_verify is false"),
            ("off2", "TLS without tls_ca_cert"),
        ] {
            let warning = format!("ship `{ship}`: {why}, the daemon's certificate is not checked");
            assert_eq!(
                all.matches(&warning).count(),
                1,
                "`maestro {}` warns once about {ship}:\n{all}",
                args.join(" ")
            );
        }
        for quiet in ["goodca", "wrongca"] {
            assert!(
                !all.contains(&format!("ship `{quiet}`: tls_verify")),
                "{quiet} is checked: {all}"
            );
        }
    }
}

/// known_hosts files for shipssh: the right one (the lab's), one without
/// the host, one whose key for the host is another key.
fn known_hosts_variants(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let lab = Lab::get();
    let right = PathBuf::from(lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS"));
    let empty = dir.join("known_hosts_empty");
    std::fs::write(&empty, "").unwrap();
    let wrong = dir.join("known_hosts_wrong");
    // A fresh key that is not shipssh's, recorded for shipssh's address.
    let key = dir.join("other_host_key");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let mut fields = public.split_whitespace();
    let (kind, body) = (fields.next().unwrap(), fields.next().unwrap());
    std::fs::write(
        &wrong,
        format!("{} {kind} {body}\n", lab.ship_ip("shipssh")),
    )
    .unwrap();
    (right, empty, wrong)
}

fn ssh_ship(name: &str, known_hosts: &Path, extra: &str) -> String {
    let lab = Lab::get();
    format!(
        "  {name}:\n    ip: {}\n    socket_path: {}\n    ssh_tunnel: {{user: {}, key: {}, known_hosts: {}{extra}}}\n",
        lab.ship_ip("shipssh"),
        lab.var("MAESTRO_LAB_SSH_DOCKER_SOCKET"),
        lab.var("MAESTRO_LAB_SSH_USER"),
        lab.var("MAESTRO_LAB_SSH_KEY"),
        known_hosts.display(),
    )
}

/// An unknown host key and a changed one both fail with ssh's own words
/// and what to do, and nothing is sent to the daemon.
#[test]
fn ssh_host_keys_are_checked_against_known_hosts() {
    let keys = TempDir::new("tsec", "kh");
    let (right, empty, wrong) = known_hosts_variants(&keys);
    let ships = format!(
        "{}{}{}",
        ssh_ship("sshok", &right, ""),
        ssh_ship("sshunknown", &empty, ""),
        ssh_ship("sshchanged", &wrong, ""),
    );
    let p = Project::new(
        "hostkey",
        &ships,
        &[
            ("ok", "sshok"),
            ("unknown", "sshunknown"),
            ("changed", "sshchanged"),
        ],
    );
    let (code, out, err) = p.run(&["status"]);
    assert_eq!(code, Some(1), "{out}{err}");
    let all = format!("{out}{err}");
    let line = |inst: &str| {
        all.lines()
            .filter(|l| l.contains(&format!("{}-{inst}", p.prefix)) || l.contains(inst))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(!line("sshok").contains("Host key"), "{all}");
    // ssh's own words, and maestro's advice.
    assert!(
        all.contains("Host key verification failed"),
        "ssh's message: {all}"
    );
    assert!(
        all.contains("No ED25519 host key is known") || all.contains("host key is known"),
        "{all}"
    );
    assert!(
        all.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
            || all.contains("host key for 10.213.0.22 has changed")
            || all.contains("Host key for"),
        "the changed key is named: {all}"
    );
    let unknown = all
        .lines()
        .find(|l| l.contains("`sshunknown`"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        unknown.contains("No ED25519 host key is known for 10.213.0.22")
            && unknown.contains(&format!(
                "the host key of 10.213.0.22 is not in {}",
                empty.display()
            ))
            && unknown.contains(&format!(
                "ssh-keyscan -p 22 10.213.0.22 >> {}",
                empty.display()
            )),
        "ssh's words and what to do: {unknown}"
    );
    let changed = all
        .lines()
        .find(|l| l.contains("`sshchanged`"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        changed.contains("Host key for 10.213.0.22 has changed")
            && changed.contains("this can be an attack")
            && changed.contains(&format!("ssh-keygen -f {} -R 10.213.0.22", wrong.display())),
        "ssh's words and what to do: {changed}"
    );
    let ok = all
        .lines()
        .find(|l| l.contains(&format!("{}-ok", p.prefix)))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(ok.contains("absent"), "the right key works: {ok}");
    // Both known_hosts files are left as they were (never written to).
    assert_eq!(std::fs::read_to_string(&empty).unwrap(), "");
    assert_eq!(std::fs::read_to_string(&wrong).unwrap().lines().count(), 1);
}

/// The lab's SSH ship under another name, with `extra` keys in its
/// `ssh_tunnel` (e.g. `, control_persist: false`).
fn lab_ssh_ship(name: &str, extra: &str) -> String {
    let lab = Lab::get();
    ssh_ship(
        name,
        Path::new(&lab.var("MAESTRO_LAB_SSH_KNOWN_HOSTS")),
        extra,
    )
}

/// `status` reached the ship: its one instance is absent (exit 1), not
/// on a ship that is down.
fn assert_reached(o: &std::process::Output) {
    let out = stdout(o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(o));
    assert!(
        out.contains("absent") && !out.contains("host down"),
        "{out}{}",
        stderr(o)
    );
}

/// Folders named `maestro-ssh-<pid>-<n>` (private forwarder folders) in `dir`.
fn private_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("maestro-ssh-"))
                .and_then(|r| r.split('-').next())
                .is_some_and(|pid| pid.parse::<u32>().is_ok())
        })
        .collect()
}

/// Processes whose parent is `parent` and whose command is `ssh`.
fn ssh_children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if head.ends_with("(ssh") && ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
}

/// The pid of the shared connection's master whose control socket is `ctl`.
fn master_pid(ctl: &Path) -> Option<u32> {
    let o = Command::new("ssh")
        .arg("-o")
        .arg(format!("ControlPath={}", ctl.display()))
        .args(["-O", "check", "x"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr).to_string();
    text.split("pid=")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
}

/// Ends every master under `shared` (`ssh -O exit`), as the docs say.
fn exit_masters(shared: &Path) {
    let Ok(entries) = std::fs::read_dir(shared) else {
        return;
    };
    for e in entries.flatten() {
        if e.path().extension().is_some_and(|x| x == "ctl") {
            let _ = Command::new("ssh")
                .arg("-o")
                .arg(format!("ControlPath={}", e.path().display()))
                .args(["-O", "exit", "x"])
                .output();
        }
    }
}

fn uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").unwrap().uid()
}

/// Without sharing, the forwarder's socket lives in a 0700 folder of its
/// own, removed at exit; after a SIGKILL the folder stays (nothing could
/// remove it) and the next run sweeps it, while the forwarder itself died
/// with maestro.
#[test]
fn forwarder_folder_is_private_removed_at_exit_and_swept_after_sigkill() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new("tsec", "sweep");
    let ships = lab_ssh_ship("sshplain", ", control_persist: false");
    let p = Project::new("sweep", &ships, &[("s1", "sshplain")]);
    // A slow `running` check keeps maestro (and its forwarder) up.
    let file = p.dir.join("maestro.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "    instances:\n",
        "    lifecycle: {running: [{type: sleep, wait: 30}]}\n    instances:\n",
    );
    std::fs::write(&file, text).unwrap();
    struct Cleanup<'a>(&'a Project);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            self.0.remove_on("shipssh");
        }
    }
    let _cleanup = Cleanup(&p);

    // A normal run leaves nothing behind.
    let o = p.cmd(&["status"]).env("TMPDIR", &*tmp).output().unwrap();
    assert_reached(&o);
    assert!(private_dirs(&tmp).is_empty(), "{:?}", private_dirs(&tmp));

    let mut child = p
        .cmd(&["start", "--no-lock", "--progress", "plain"])
        .env("TMPDIR", &*tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (dir, forwarder) = loop {
        let dirs = private_dirs(&tmp);
        let kids = ssh_children(child.id());
        if let ([d], [f]) = (dirs.as_slice(), kids.as_slice())
            && std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "sock"))
        {
            break (d.clone(), *f);
        }
        assert!(Instant::now() < deadline, "no forwarder: {dirs:?} {kids:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("maestro-ssh-{}-", child.id()))
    );

    child.kill().unwrap();
    child.wait().unwrap();
    // The forwarder follows maestro (PR_SET_PDEATHSIG); its folder stays.
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(forwarder) {
        assert!(
            Instant::now() < deadline,
            "ssh {forwarder} outlived maestro"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(dir.exists(), "nothing ran to remove it");

    // The next run sweeps the dead run's folder, and removes its own.
    let o = p.cmd(&["status"]).env("TMPDIR", &*tmp).output().unwrap();
    assert_reached(&o);
    assert!(!dir.exists(), "{} was not swept", dir.display());
    assert!(private_dirs(&tmp).is_empty(), "{:?}", private_dirs(&tmp));
}

/// With sharing (the default), runs share one SSH connection: the first
/// starts a master in the 0700 per-user folder, the next ones reuse it
/// (same pid); `control_persist: false` and `MAESTRO_SSH_CONTROL_PERSIST=0`
/// turn it off; `ssh -O exit` ends it.
#[test]
fn ssh_connections_are_shared_between_runs_and_can_be_turned_off() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new("tsec", "share");
    let shared = tmp.join(format!("maestro-ssh-shared-{}", uid()));
    struct Masters(PathBuf);
    impl Drop for Masters {
        fn drop(&mut self) {
            exit_masters(&self.0);
        }
    }
    let _masters = Masters(shared.clone());
    let p = Project::new(
        "share",
        &lab_ssh_ship("sshshared", ""),
        &[("s1", "sshshared")],
    );
    let run = |env: &[(&str, &str)]| {
        let mut c = p.cmd(&["status"]);
        c.env("TMPDIR", &*tmp)
            .env_remove("MAESTRO_SSH_CONTROL_PERSIST");
        for (k, v) in env {
            c.env(k, v);
        }
        let started = Instant::now();
        let o = c.output().unwrap();
        assert_reached(&o);
        started.elapsed()
    };
    // Off by variable: no shared folder at all.
    run(&[("MAESTRO_SSH_CONTROL_PERSIST", "0")]);
    assert!(!shared.exists());

    let first = run(&[]);
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let ctl: Vec<PathBuf> = std::fs::read_dir(&shared)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ctl"))
        .collect();
    assert_eq!(ctl.len(), 1, "{ctl:?}");
    let master = master_pid(&ctl[0]).expect("a master runs after maestro ended");
    let mut later = Vec::new();
    for _ in 0..3 {
        later.push(run(&[]));
        assert_eq!(master_pid(&ctl[0]), Some(master), "the same master serves");
    }
    eprintln!("status over ssh: first {first:?}, then {later:?}");
    // The forward's socket removed behind the master's back (a temp
    // cleaner): the next run asks the same master for it again.
    let socks: Vec<PathBuf> = std::fs::read_dir(&shared)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sock"))
        .collect();
    assert_eq!(socks.len(), 1, "{socks:?}");
    std::fs::remove_file(&socks[0]).unwrap();
    run(&[]);
    assert!(socks[0].exists());
    assert_eq!(master_pid(&ctl[0]), Some(master), "the same master serves");

    // Another known_hosts file is another connection (checked on its own).
    let p2 = Project::new(
        "share2",
        &ssh_ship(
            "sshother",
            &{
                let kh = tmp.join("kh_copy");
                std::fs::copy(Lab::get().var("MAESTRO_LAB_SSH_KNOWN_HOSTS"), &kh).unwrap();
                kh
            },
            "",
        ),
        &[("s1", "sshother")],
    );
    let o = p2.cmd(&["status"]).env("TMPDIR", &*tmp).output().unwrap();
    assert_reached(&o);
    let masters = std::fs::read_dir(&shared)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "ctl"))
        .count();
    assert_eq!(masters, 2);

    // Off in the file: no process outlives the run but the masters above.
    let p3 = Project::new(
        "share3",
        &lab_ssh_ship("sshoff", ", control_persist: false"),
        &[("s1", "sshoff")],
    );
    let o = p3.cmd(&["status"]).env("TMPDIR", &*tmp).output().unwrap();
    assert_reached(&o);
    let masters_after = std::fs::read_dir(&shared)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "ctl"))
        .count();
    assert_eq!(masters_after, 2);

    // A missing remote socket: the master's own words reach the error.
    let lab = Lab::get();
    let bad = lab_ssh_ship("sshbadsock", "").replace(
        &lab.var("MAESTRO_LAB_SSH_DOCKER_SOCKET"),
        "/nonexistent/docker.sock",
    );
    let p4 = Project::new("share4", &bad, &[("s1", "sshbadsock")]);
    let o = p4.cmd(&["status"]).env("TMPDIR", &*tmp).output().unwrap();
    let err = stderr(&o);
    assert!(
        err.contains("open failed") && err.contains("/nonexistent/docker.sock"),
        "{err}"
    );

    // `ssh -O exit` ends it; the next run starts a new one.
    exit_masters(&shared);
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(master) {
        assert!(Instant::now() < deadline, "master {master} still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
    run(&[]);
    let again = master_pid(&ctl[0]).expect("a new master");
    assert_ne!(again, master);
}

/// The forwarder killed in the middle of a play (the run's own ssh, or the
/// shared connection's master): the next request starts it again and the
/// play completes; nothing hangs.
#[test]
fn a_killed_forwarder_is_started_again_and_nothing_hangs() {
    for (tag, extra) in [("killfwd", ", control_persist: false"), ("killmaster", "")] {
        let tmp = TempDir::new("tsec", tag);
        let shared = tmp.join(format!("maestro-ssh-shared-{}", uid()));
        struct Masters(PathBuf);
        impl Drop for Masters {
            fn drop(&mut self) {
                exit_masters(&self.0);
            }
        }
        let _masters = Masters(shared.clone());
        let lab = Lab::get();
        let name = unique("tsec", tag);
        let prefix = format!("t{}-{tag}", std::process::id());
        // Three services in a chain, each waiting 1.5 s once running: the
        // play talks to the ship before and after the kill.
        let mut text = format!(
            "name: {name}\nship_defaults: {{timeout: 30}}\nships:\n{}services:\n",
            lab_ssh_ship("sshk", extra)
        );
        for (i, req) in [("a", ""), ("b", "a"), ("c", "b")] {
            let requires = if req.is_empty() {
                String::new()
            } else {
                format!("    requires: [{req}]\n")
            };
            text.push_str(&format!(
                "  {i}:\n    image: {img}\n{requires}    lifecycle: {{running: [{{type: sleep, wait: 1.5}}]}}\n    instances:\n      {prefix}-{i}: {{ship: sshk, command: sleep 3600, stop_timeout: 1}}\n",
                img = lab.var("MAESTRO_LAB_IMAGE")
            ));
        }
        let dir = TempDir::new("tsec", &format!("{tag}-proj"));
        dir.write("maestro.yaml", &text);
        let p = Project {
            dir,
            name,
            prefix: prefix.clone(),
        };
        struct Cleanup<'a>(&'a Project);
        impl Drop for Cleanup<'_> {
            fn drop(&mut self) {
                self.0.remove_on("shipssh");
            }
        }
        let _cleanup = Cleanup(&p);
        let mut child = p
            .cmd(&["start", "--no-lock", "--progress", "plain"])
            .env("TMPDIR", &*tmp)
            .env_remove("MAESTRO_SSH_CONTROL_PERSIST")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the first container to run, then kill the forwarder.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = lab
                .docker("shipssh")
                .args(["ps", "-q", "--filter"])
                .arg(format!("name={prefix}-a"))
                .output()
                .unwrap();
            if !up.stdout.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "a never ran");
            std::thread::sleep(Duration::from_millis(50));
        }
        let victim = if extra.is_empty() {
            let ctl = std::fs::read_dir(&shared)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "ctl"))
                .expect("a control socket");
            master_pid(&ctl).expect("a master")
        } else {
            let kids = ssh_children(child.id());
            assert_eq!(kids.len(), 1, "{kids:?}");
            kids[0]
        };
        let st = Command::new("kill")
            .args(["-9", &victim.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        // The play ends, well within its budget, and succeeds; a run of
        // its own starts one new forwarder, not one per request.
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut restarted = std::collections::BTreeSet::new();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if !extra.is_empty() {
                restarted.extend(
                    ssh_children(child.id())
                        .into_iter()
                        .filter(|p| *p != victim),
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{tag}: maestro hangs after its forwarder was killed");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let o = child.wait_with_output().unwrap();
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(status.code(), Some(0), "{tag}: {all}");
        if !extra.is_empty() {
            assert_eq!(
                restarted.len(),
                1,
                "{tag}: forwarders after the kill: {restarted:?}"
            );
        }
        for i in ["a", "b", "c"] {
            let o = lab
                .docker("shipssh")
                .args([
                    "inspect",
                    "-f",
                    "{{.State.Running}}",
                    &format!("{prefix}-{i}"),
                ])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).trim(),
                "true",
                "{tag} {i}: {all}"
            );
        }
    }
}
