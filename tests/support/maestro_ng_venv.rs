//! The venv with maestro-ng 0.8.3 (and so Jinja2, PyYAML and docker-py) in
//! which the comparison tests run MaestroNG. It is made once under the
//! target directory and shared by every test binary of the workspace; the
//! binaries belong to different crates, so each includes this file with
//! `#[path]`. A file lock keeps two test processes from making it at once.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const MAESTRO_NG: &str = "maestro-ng==0.8.3";

/// The venv's python, making the venv the first time. `tmpdir` is the
/// crate's `CARGO_TARGET_TMPDIR` (the same folder for every crate).
pub fn python(tmpdir: &str) -> PathBuf {
    let tmp = Path::new(tmpdir);
    std::fs::create_dir_all(tmp).unwrap();
    let dir = tmp.join("maestro-ng-0.8.3-venv");
    let python = dir.join("bin/python3");
    let marker = dir.join(".installed");
    let lock = File::create(tmp.join("maestro-ng-0.8.3-venv.lock")).unwrap();
    lock.lock().unwrap();
    if marker.exists() {
        return python;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let step = |what: &str, cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    step(
        "python3 -m venv",
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
    );
    step(
        &format!("pip install {MAESTRO_NG}"),
        Command::new(dir.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MAESTRO_NG,
        ]),
    );
    std::fs::write(&marker, MAESTRO_NG).unwrap();
    python
}
