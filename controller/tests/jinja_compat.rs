//! Templates as MaestroNG renders them: maestro's renderer against Jinja2
//! itself (in a venv with maestro-ng 0.8.3, made under CARGO_TARGET_TMPDIR
//! on first use), over the probe corpus in `jinja_compat/probes.json`, and
//! an environment file with MaestroNG's example idioms loaded by both.
//! If the venv cannot be made, the tests fail with pip's output: they never
//! skip.

// A test crate: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

#[path = "../../tests/support/maestro_ng_venv.rs"]
mod maestro_ng_venv;

/// Probes whose output differs from Jinja2's on purpose or by a limit of
/// the engine, with the reason (the same list is in docs/config.md,
/// Templates). A probe listed here must still differ: when it matches, it
/// comes off the list.
const EXPECTED_DIFFERENCES: &[(&str, &str)] = &[
    (
        "{{ 'abc'.encode() }}",
        "no bytes type: str.encode is not provided",
    ),
    (
        "{{ 2 ** 200 }}",
        "integers are 128-bit, not arbitrary precision: overflow is an error",
    ),
    (
        "{{ lipsum is defined }}",
        "lipsum (random text) is not provided",
    ),
    (
        "{{ [1] | random }}",
        "the random filter is not provided: an environment renders the same every time",
    ),
    (
        "{{ env.TEXT | truncate(9, false, '...', 2) }}",
        "truncate takes leeway by name only (the engine passes at most five arguments)",
    ),
    (
        "{% do [].append(1) %}ok",
        "minijinja always accepts {% do %}, an extension Jinja2 leaves off here",
    ),
    (
        "{{ env.items() }}",
        "env.items() is a list of pairs, not an ItemsView",
    ),
    (
        "{{ {'a': 1}.items() }}",
        "dict views (items, keys, values) are lists: printed whole, no dict_items(...)",
    ),
    (
        "{{ dict(b=1, a=2) }}",
        "keyword arguments arrive sorted by name",
    ),
    (
        "{% set d = {'z': 1} %}{% set _ = d.update(y=2, x=3) %}{{ d }}",
        "keyword arguments arrive sorted by name",
    ),
    (
        "{{ env.keys() | list }}",
        "env iterates sorted by name, os.environ in the process's order",
    ),
    (
        "{% for x in 'ab' %}{{ loop.index }}{{ loop.first }}{{ loop.length }}{{ loop.revindex }}{{ loop.cycle('x', 'y') }}{% endfor %}",
        "looping over a string, loop.length and loop.revindex are undefined (they work over lists)",
    ),
];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/jinja_compat")
        .join(name)
}

fn run_python(script: &str, args: &[&Path], stdin: &str, cwd: &Path) -> Value {
    let mut child = Command::new(maestro_ng_venv::python(env!("CARGO_TARGET_TMPDIR")))
        .arg(data(script))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Probe {
    template: String,
    /// In the order Python inserts them into `os.environ`.
    env: Vec<(String, String)>,
}

fn probes() -> Vec<Probe> {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(data("probes.json")).unwrap()).unwrap();
    let base: Vec<(String, String)> =
        serde_json::from_value::<BTreeMap<String, String>>(doc["env"].clone())
            .unwrap()
            .into_iter()
            .collect();
    doc["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match p {
            Value::String(t) => Probe {
                template: t.clone(),
                env: base.clone(),
            },
            // A probe of its own environment gives it as [name, value]
            // pairs, to keep their order.
            other => Probe {
                template: other["template"].as_str().unwrap().to_string(),
                env: serde_json::from_value(other["env"].clone()).unwrap(),
            },
        })
        .collect()
}

/// What maestro renders, in the driver's terms: the text, or that it failed.
fn maestro_render(p: &Probe) -> Value {
    let env: BTreeMap<String, String> = p.env.iter().cloned().collect();
    match maestro::config::template::render("probe", &p.template, Path::new("."), &env, false) {
        Ok(text) => json!({ "ok": text }),
        Err(e) => json!({ "error": e.message }),
    }
}

#[test]
fn probes_render_as_jinja2_renders_them() {
    let probes = probes();
    assert!(probes.len() >= 60, "the corpus needs at least 60 probes");
    let input: Vec<Value> = probes
        .iter()
        .map(|p| json!({ "template": p.template, "env": p.env }))
        .collect();
    let dir = std::env::temp_dir();
    let jinja2 = run_python(
        "render_driver.py",
        &[],
        &serde_json::to_string(&input).unwrap(),
        &dir,
    );
    let jinja2 = jinja2.as_array().unwrap();
    assert_eq!(jinja2.len(), probes.len());

    let expected: BTreeMap<&str, &str> = EXPECTED_DIFFERENCES.iter().copied().collect();
    let mut problems = Vec::new();
    let mut matched = 0;
    for (p, want) in probes.iter().zip(jinja2) {
        let got = maestro_render(p);
        if std::env::var_os("JINJA_COMPAT_SHOW").is_some() {
            eprintln!("{}\n  jinja2:  {want}\n  maestro: {got}", p.template);
        }
        // Both failing is agreement: the messages are each engine's own.
        let same = match (want.get("ok"), got.get("ok")) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        };
        match (same, expected.contains_key(p.template.as_str())) {
            (true, false) => matched += 1,
            (false, true) => {}
            (false, false) => problems.push(format!(
                "differs: {}\n  jinja2:  {want}\n  maestro: {got}",
                p.template
            )),
            (true, true) => problems.push(format!(
                "listed as a difference but matches Jinja2: {}",
                p.template
            )),
        }
    }
    for t in expected.keys() {
        assert!(
            probes.iter().any(|p| p.template == *t),
            "expected difference not in the corpus: {t}"
        );
    }
    assert!(
        problems.is_empty(),
        "{} of {} probes match; {} problems:\n{}",
        matched,
        probes.len(),
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "{matched} of {} probes render as Jinja2 does; {} listed differences",
        probes.len(),
        expected.len()
    );
}

/// The variables both loaders see when rendering `cluster.yaml`.
const CLUSTER_ENV: &[(&str, &str)] = &[("OWNER", "ops team"), ("RETENTION_HOURS", "48")];

/// `cluster.yaml` (MaestroNG's example idioms: `servers.items()`,
/// `'{}:{}'.format(...)`, `serverids.append(...)` on a `{% set %}` list,
/// `'%02d' % i`, `env.get(...)`) loads unchanged and every container gets
/// the environment MaestroNG's own loader and Conductor compute.
#[test]
fn example_idioms_give_maestro_ngs_container_environments() {
    let file = data("cluster.yaml");
    let dir = std::env::temp_dir();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.arg("-f")
        .arg(&file)
        .args(["dump", "--show-secrets"])
        .env_clear()
        .envs(CLUSTER_ENV.iter().copied());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "maestro dump failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: BTreeMap<String, BTreeMap<String, String>> = dump["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let env = i["env"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (i["name"].as_str().unwrap().to_string(), env)
        })
        .collect();

    let theirs: BTreeMap<String, BTreeMap<String, String>> = {
        let mut child = Command::new(maestro_ng_venv::python(env!("CARGO_TARGET_TMPDIR")))
            .arg(data("conductor_driver.py"))
            .arg(&file)
            .current_dir(&dir)
            .env_clear()
            .envs(CLUSTER_ENV.iter().copied())
            .output()
            .unwrap();
        assert!(
            child.status.success(),
            "conductor_driver.py failed:\n{}",
            String::from_utf8_lossy(&child.stderr)
        );
        serde_json::from_slice(std::mem::take(&mut child.stdout).as_slice()).unwrap()
    };

    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "the same containers"
    );
    assert_eq!(ours.len(), 8, "3 coordinators, 4 brokers and the watcher");
    for (name, want) in &theirs {
        let got = &ours[name];
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "variables of {name}"
        );
        for (k, w) in want {
            let g = &got[k];
            // A YAML boolean in `env` is `True`/`False` in MaestroNG and
            // `true`/`false` in maestro (docs/config.md, YAML 1.2).
            let boolean = matches!(w.as_str(), "True" | "False") && g.eq_ignore_ascii_case(w);
            assert!(g == w || boolean, "{name}: {k}={g:?}, MaestroNG: {w:?}");
        }
    }
    // What the template idioms computed, spelled out.
    let coord = &ours["coord-1"];
    assert_eq!(coord["COORD_SERVER_IDS"], "coord-1:1,coord-2:2,coord-3:3");
    assert_eq!(coord["ROLE"], "COORDINATOR");
    assert_eq!(ours["broker-3"]["BROKER_RACK"], "rack-s");
    assert_eq!(ours["broker-1"]["COORD_BASE"], "/coord-brokers/broker");
    assert_eq!(ours["broker-1"]["RETENTION_HOURS"], "48");
    assert_eq!(ours["watcher"]["OWNER"], "Ops Team");
    let volumes = dump["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "coord-2")
        .map(|i| i["volumes"].to_string())
        .unwrap();
    assert!(volumes.contains("/srv/data/coordinator/02"), "{volumes}");
}
