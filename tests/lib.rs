//! Shared helpers of the end-to-end tests: where the lab is and how to reach
//! the built binaries.
//!
//! The lab (`scripts/lab up`) writes its exports to `$MAESTRO_LAB_DIR/lab.env`
//! (default `/var/tmp/mlab`), so `cargo test` works in any shell once the lab
//! is up. Tests never skip when it is missing: they fail and say how to start it.
//!
//! Also what several test modules need: unique names, temporary folders
//! removed on drop, the lab registry's image and credentials.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};

use maestro::docker::RegistryAuth;

#[path = "support/maestro_ng_venv.rs"]
pub mod maestro_ng_venv;

/// The lab's exports (`MAESTRO_LAB_*`), read from `lab.env`.
#[derive(Debug, Clone)]
pub struct Lab {
    vars: BTreeMap<String, String>,
}

impl Lab {
    /// Reads the lab's exports. Panics with instructions when the lab is not up.
    pub fn get() -> Lab {
        let dir = std::env::var("MAESTRO_LAB_DIR").unwrap_or_else(|_| "/var/tmp/mlab".into());
        let file = Path::new(&dir).join("lab.env");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "the lab is not up ({}: {e}); run `scripts/lab up` or `scripts/test`",
                file.display()
            )
        });
        let vars = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), unquote(v)))
            .collect();
        Lab { vars }
    }

    /// One export, e.g. `lab.var("MAESTRO_LAB_REGISTRY")`. Panics when missing.
    pub fn var(&self, name: &str) -> String {
        self.vars
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("the lab does not export {name}"))
    }

    /// All exports, to pass on to child processes.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// The lab's working folder (sockets, certificates, keys).
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(self.var("MAESTRO_LAB_DIR"))
    }

    /// Ship names, e.g. `ship1 ship2 ship3 shiptls shipssh`.
    pub fn ships(&self) -> Vec<String> {
        self.var("MAESTRO_LAB_SHIPS")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// The address of a ship, from `MAESTRO_LAB_<SHIP>_IP`.
    pub fn ship_ip(&self, ship: &str) -> String {
        self.var(&format!("MAESTRO_LAB_{}_IP", ship.to_uppercase()))
    }

    /// The unix socket of a ship's daemon on this machine, from
    /// `MAESTRO_LAB_<SHIP>_SOCKET` (for shipssh: the socket an SSH forward targets).
    pub fn ship_socket(&self, ship: &str) -> PathBuf {
        PathBuf::from(self.var(&format!("MAESTRO_LAB_{}_SOCKET", ship.to_uppercase())))
    }

    /// The lab's YAML fragment (`ships:` and `registries:`, with the
    /// registry's password), for a test's environment file.
    pub fn fragment(&self) -> String {
        let file = self.var("MAESTRO_LAB_YAML");
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"))
    }

    /// The lab image in the lab registry, e.g. `10.213.0.30:5000/maestro-lab/box:1`.
    pub fn registry_image(&self) -> String {
        format!(
            "{}/{}",
            self.var("MAESTRO_LAB_REGISTRY"),
            self.var("MAESTRO_LAB_IMAGE")
        )
    }

    /// The lab registry's credentials.
    pub fn registry_auth(&self) -> RegistryAuth {
        RegistryAuth {
            username: self.var("MAESTRO_LAB_REGISTRY_USER"),
            password: self.var("MAESTRO_LAB_REGISTRY_PASSWORD"),
            server_address: self.var("MAESTRO_LAB_REGISTRY"),
        }
    }

    /// Pushes a fresh image of one 300 kB layer to the lab registry with
    /// the docker CLI (from ship2), so that a pull elsewhere has a layer to
    /// download; returns its reference.
    pub fn push_unique_image(&self) -> String {
        let image = format!(
            "{}/maestro-test/{}:1",
            self.var("MAESTRO_LAB_REGISTRY"),
            unique("push", "layer")
        );
        let host = format!("unix://{}", self.ship_socket("ship2").display());
        let script = format!(
            "set -e; d=$(mktemp -d); head -c 300000 /dev/urandom > $d/blob; \
             tar -C $d -c blob | docker -H {host} import - {image} >/dev/null; rm -r $d; \
             docker --config {cfg} -H {host} push {image} >/dev/null; \
             docker -H {host} rmi {image} >/dev/null",
            cfg = self.dir().join("dockercfg").display()
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap_or_else(|e| panic!("cannot run sh: {e}"));
        assert!(
            out.status.success(),
            "pushing a test image failed: {}",
            text(&out.stderr)
        );
        image
    }

    /// The `docker` CLI aimed at a ship's unix socket, for test set-up and checks.
    pub fn docker(&self, ship: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new("docker");
        cmd.arg("-H")
            .arg(format!("unix://{}", self.ship_socket(ship).display()));
        cmd
    }
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    v.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| v.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(v)
        .to_string()
}

/// Path of a binary built from this workspace (`maestro`, `maestro-guest`),
/// next to the test binary's own target folder.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/e2e-xxxx -> target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target folder");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace` first (scripts/test does)",
        path.display()
    );
    path
}

/// The plain lab ships that tests deploy to.
pub const SHIPS: [&str; 3] = ["ship1", "ship2", "ship3"];

/// One test's environment for the built `maestro` binary: a folder with
/// `maestro.yaml` (the lab's ships and registry, then the test's services
/// with `{P}` replaced by the prefix, `{IMAGE}`, `{REGISTRY}` and `{DIR}` by
/// the lab image, the lab registry and the folder) and the guard that
/// removes its containers, even when the test fails.
///
/// The environment name (`e2e-<tag>-<pid>`), the instance prefix
/// (`t<pid>-<tag>`) and the folder are unique per test process and tag, so
/// tests run in parallel; tags must be unique across the test binary.
pub struct TestEnv {
    pub lab: Lab,
    /// The environment name (`maestro.environment` label of its containers).
    pub name: String,
    /// What `{P}` stands for in instance names.
    pub prefix: String,
    /// The folder holding `maestro.yaml`; removed at the end.
    pub dir: TempDir,
}

impl TestEnv {
    pub fn new(tag: &str, services: &str) -> TestEnv {
        Self::with_extra(tag, "", services)
    }

    /// `extra_ships` is YAML indented under `ships:` added after the lab's.
    pub fn with_extra(tag: &str, extra_ships: &str, services: &str) -> TestEnv {
        let lab = Lab::get();
        let pid = std::process::id();
        let prefix = format!("t{pid}-{tag}");
        let name = format!("e2e-{tag}-{pid}");
        let dir = TempDir::new("e2e", tag);
        let fragment = lab
            .fragment()
            .replacen("ships:\n", &format!("ships:\n{extra_ships}"), 1);
        let text = format!(
            // The lab is shared by parallel tests on two cores: a start can
            // take longer than the default 5 s request timeout.
            "name: {name}\n__maestro: {{schema: 2}}\nship_defaults: {{timeout: 30}}\n{fragment}\nservices:\n{}",
            services
                .replace("{P}", &prefix)
                .replace("{IMAGE}", &lab.var("MAESTRO_LAB_IMAGE"))
                .replace("{REGISTRY}", &lab.var("MAESTRO_LAB_REGISTRY"))
                .replace("{DIR}", &dir.display().to_string())
        );
        dir.write("maestro.yaml", &text);
        let env = TestEnv {
            lab,
            name,
            prefix,
            dir,
        };
        env.remove_containers();
        env
    }

    /// An instance name of this test.
    pub fn n(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("maestro"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env_remove("MAESTRO_FILE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub fn maestro(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// `docker inspect` of a container of this test, by instance name.
    pub fn inspect(&self, ship: &str, instance: &str) -> Option<Value> {
        let out = self
            .lab
            .docker(ship)
            .args(["inspect", instance])
            .output()
            .unwrap();
        if !out.status.success() {
            return None;
        }
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.get(0).cloned()
    }

    pub fn remove_containers(&self) {
        for ship in SHIPS {
            let out = self
                .lab
                .docker(ship)
                .args(["ps", "-aq", "--filter"])
                .arg(format!("label=maestro.environment={}", self.name))
                .output();
            let Ok(out) = out else { continue };
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = self
                    .lab
                    .docker(ship)
                    .args(["rm", "-f", "-v"])
                    .args(&ids)
                    .output();
            }
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.remove_containers();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A command's standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A command's standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A command's exit code (-1 when killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Asserts the exit code, showing both outputs when it differs.
#[track_caller]
pub fn assert_code(o: &Output, want: i32) {
    assert_eq!(
        code(o),
        want,
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A Docker timestamp (`2026-11-24T20:27:22.123456789Z`) as nanoseconds
/// of the day, enough to order events of one test.
pub fn nanos_of_day(ts: &str) -> u128 {
    let time = ts.split('T').nth(1).unwrap().trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut parts = hms.split(':').map(|p| p.parse::<u128>().unwrap());
    let (h, m, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let frac = format!("{frac:0<9}");
    ((h * 60 + m) * 60 + s) * 1_000_000_000 + frac[..9].parse::<u128>().unwrap()
}

/// `State.StartedAt` of an inspected container.
pub fn started_at(v: &Value) -> u128 {
    nanos_of_day(v["State"]["StartedAt"].as_str().unwrap())
}

/// `State.FinishedAt` of an inspected container.
pub fn finished_at(v: &Value) -> u128 {
    nanos_of_day(v["State"]["FinishedAt"].as_str().unwrap())
}

/// The ID of an inspected container.
pub fn id(v: &Value) -> String {
    v["Id"].as_str().unwrap().to_string()
}

/// Whether an inspected container runs.
pub fn running(v: &Value) -> bool {
    v["State"]["Running"].as_bool().unwrap()
}
/// A name no other test, and no other test run, uses (several engineers
/// share the lab): `t-<area>-<pid>-<tag>-<n>`.
pub fn unique(area: &str, tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t-{area}-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A process's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder under the system's temporary folder, removed with
/// everything in it on drop (also when the test fails).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<tmp>/<unique(area, tag)>`, created empty.
    pub fn new(area: &str, tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(area, tag));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// Writes `name` in the folder; returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let file = self.0.join(name);
        std::fs::write(&file, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        file
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The body of `GET /VERSION` from `addr`, or `None` when nothing answers
/// with 200 within a short time.
pub fn http_version(addr: std::net::SocketAddr) -> Option<String> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_millis(300);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    s.write_all(b"GET /VERSION HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.split_whitespace()
        .nth(1)
        .filter(|c| *c == "200")
        .map(|_| body.trim().to_string())
}
