//! Switching from MaestroNG (docs/migrating-from-maestro-ng.md): a
//! container that MaestroNG 0.8.3 itself started on a lab ship is found by
//! maestro by its name, shown by `status`, planned as `adopt`, recreated
//! with maestro's labels by `up`, and still seen running by MaestroNG.

use std::process::{Command, Output};

use maestro_tests::{Lab, TempDir, assert_code, bin, stderr, stdout, unique};
use serde_json::Value;

/// Removes the test's container from ship1 however the test ends.
struct Cleanup<'a>(&'a Lab, String);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.docker("ship1").args(["rm", "-f", &self.1]).output();
    }
}

fn ng(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(maestro_tests::maestro_ng_venv::python(env!(
        "CARGO_TARGET_TMPDIR"
    )))
    .args(["-m", "maestro"])
    .args(args)
    .current_dir(dir)
    .env("COLUMNS", "120")
    .output()
    .unwrap()
}

fn ours(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(bin("maestro"))
        .args(args)
        .current_dir(dir)
        .env_remove("MAESTRO_FILE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn a_container_started_by_maestro_ng_is_found_adopted_and_relabelled() {
    let lab = Lab::get();
    let dir = TempDir::new("migration", "ng");
    let env = unique("migration", "env");
    let name = unique("migration", "app");
    let _cleanup = Cleanup(&lab, name.clone());
    // Only ship1: MaestroNG knows nothing of the lab's TLS and SSH ships'
    // newer keys. `api_version: auto` for docker-py against a current daemon.
    dir.write(
        "maestro.yaml",
        &format!(
            "name: {env}
ships:
  ship1: {{ip: {ip}, docker_port: 2375, api_version: auto, timeout: 30}}
services:
  app:
    image: {image}
    instances:
      {name}: {{ship: ship1, command: sleep 3600, stop_timeout: 1}}
",
            ip = lab.ship_ip("ship1"),
            image = lab.var("MAESTRO_LAB_IMAGE"),
        ),
    );
    let out = ng(&dir, &["start"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));

    // Found by name, without maestro's labels.
    let out = ours(&dir, &["status", "--format", "json"]);
    assert_code(&out, 0);
    let row: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(row["instance"], name.as_str());
    assert_eq!(row["status"], "running");
    let ng_id = row["container"].as_str().unwrap().to_string();

    let out = ours(&dir, &["plan", "--format", "json"]);
    assert_code(&out, 2);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["instances"][0]["action"], "adopt", "{plan}");
    assert_eq!(plan["instances"][0]["container"]["id"], ng_id.as_str());

    // `up` recreates it with maestro's labels; then nothing is pending.
    assert_code(&ours(&dir, &["up", "--progress", "plain"]), 0);
    let out = lab
        .docker("ship1")
        .args(["inspect", "--format", "{{json .Config.Labels}}", &name])
        .output()
        .unwrap();
    let labels: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(labels["maestro.environment"], env.as_str());
    assert_eq!(labels["maestro.instance"], name.as_str());
    let out = ours(&dir, &["plan"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("no changes: 1 nothing"),
        "{}",
        stdout(&out)
    );

    // MaestroNG still finds the container maestro made, by the same name.
    let out = ng(&dir, &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("running for"), "{}", stdout(&out));
}
