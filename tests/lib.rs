//! Shared helpers of the end-to-end tests: where the lab is and how to reach
//! the built binaries.
//!
//! The lab (`scripts/lab up`) writes its exports to `$MAESTRO_LAB_DIR/lab.env`
//! (default `/var/tmp/mlab`), so `cargo test` works in any shell once the lab
//! is up. Tests never skip when it is missing: they fail and say how to start it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
