//! How ships are reached safely: TLS certificate checks (on whenever a CA
//! is given; `tls_verify: false` warned about once per ship), SSH host key
//! checks, the SSH forwarder's private socket folder (0700, removed at exit,
//! swept after a SIGKILL), a forwarder killed mid-run, and SSH connection
//! sharing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
