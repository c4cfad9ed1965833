//! `examples/maestro.yaml` (what `scripts/demo` deploys) is valid around the
//! lab's ships and has the dependency chain its README describes. The file
//! is copied to a folder of its own next to the lab's fragment as
//! `lab.yaml`, as `scripts/demo` links it, so the test never writes into
//! the repository.

use std::path::Path;
use std::process::Command;

use maestro_tests::{Lab, assert_code, bin, stdout};

#[test]
fn the_example_environment_validates_and_has_its_dependency_chain() {
    let lab = Lab::get();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let dir = std::env::temp_dir().join(format!("maestro-e2e-examples-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(examples.join("maestro.yaml"), dir.join("maestro.yaml")).unwrap();
    std::fs::copy(lab.var("MAESTRO_LAB_YAML"), dir.join("lab.yaml")).unwrap();
    let maestro = |args: &[&str]| {
        Command::new(bin("maestro"))
            .args(args)
            .current_dir(&dir)
            .env_remove("MAESTRO_FILE")
            .output()
            .unwrap()
    };

    let out = maestro(&["validate"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "maestro.yaml: valid: 5 ships, 3 services, 4 instances\n"
    );
    let out = maestro(&["deptree"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "api\n \\- store\n\nstore\n\nweb\n \\- api\n   \\- store\n"
    );
    // The lifecycle checks the README lists: tcp, http with a regex, rexec.
    let out = maestro(&["dump"]);
    assert_code(&out, 0);
    let dump = stdout(&out);
    for check in ["tcp", "http", "rexec"] {
        let want = format!("\"type\": \"{check}\"");
        assert!(dump.contains(&want), "no {check} check in\n{dump}");
    }
    assert!(dump.contains("\"match_regex\""), "{dump}");
    let _ = std::fs::remove_dir_all(&dir);
}
