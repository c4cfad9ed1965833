//! Values read as MaestroNG 0.8.3 reads them, compared with MaestroNG itself
//! (installed from PyPI into a venv under the target dir, as in
//! guest/tests/compat.rs): envfile lines through docker-py 1.10.6's
//! `parse_env_file`, and `env` scalars through MaestroNG's YAML loader and
//! docker-py's `format_environment`. Every intentional difference is
//! asserted on both sides and documented in docs/config.md.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use maestro::config::container_env::parse_envfile;

#[path = "../../tests/support/maestro_ng_venv.rs"]
mod maestro_ng_venv;

const DRIVER: &str = r#"
import json, os, sys, tempfile
from docker.utils import parse_env_file
from docker.utils.utils import format_environment
from maestro import environment
from maestro.loader import MaestroYamlLoader
import yaml

req = json.load(sys.stdin)
out = {"envfiles": [], "env": [], "tags": []}
d = tempfile.mkdtemp()
for i, text in enumerate(req["envfiles"]):
    p = os.path.join(d, "f%d.env" % i)
    with open(p, "wb") as f:
        f.write(text.encode("utf-8"))
    try:
        out["envfiles"].append({"ok": list(parse_env_file(p).items())})
    except Exception as e:
        out["envfiles"].append({"err": type(e).__name__})
for text in req["env"]:
    env = environment.build(d, yaml.load(text, Loader=MaestroYamlLoader))
    out["env"].append(format_environment(env)[0])
from maestro.entities import Container
for image in req.get("images", []):
    out["tags"].append(Container.get_image_details(None, image)["tag"])
json.dump(out, sys.stdout)
"#;

/// An envfile and maestro's reading of it; `python` is None when docker-py
/// reads it the same, else docker-py's differing reading.
struct EnvfileCase {
    text: &'static str,
    maestro: Result<&'static [(&'static str, &'static str)], &'static str>,
    python: Option<Result<&'static [(&'static str, &'static str)], ()>>,
}

fn envfile_cases() -> Vec<EnvfileCase> {
    let same = |text, maestro| EnvfileCase {
        text,
        maestro: Ok(maestro),
        python: None,
    };
    vec![
        same("A=1\n", &[("A", "1")]),
        same("A=1", &[("A", "1")]),
        same("A=x=y\n", &[("A", "x=y")]),
        same("A=\"q\" 'r'\n", &[("A", "\"q\" 'r'")]),
        same("A=\n", &[("A", "")]),
        // The line's surrounding whitespace goes, inner whitespace stays.
        same("  A=1  \n", &[("A", "1")]),
        same("\tA=two words\t\n", &[("A", "two words")]),
        same("A= lead\n", &[("A", " lead")]),
        same("A=1\r\nB=2\r\n", &[("A", "1"), ("B", "2")]),
        same("A=1\rB=2\r", &[("A", "1"), ("B", "2")]),
        same("A=x\u{a0}\u{3000}\u{1c}\u{85}\n", &[("A", "x")]),
        same("A=x\u{200b}\n", &[("A", "x\u{200b}")]),
        same("#c\nA=1\n#B=2\n", &[("A", "1")]),
        same("A=1\nA=2\n", &[("A", "2")]),
        same("A B=1\n", &[("A B", "1")]),
        same("é=ü\n", &[("é", "ü")]),
        EnvfileCase {
            text: "A=1\nnope\n",
            maestro: Err("line 2: expected KEY=VALUE"),
            python: None,
        },
        // Differences, documented: whitespace before `=` is not part of
        // the name (docker-py keeps it in the name).
        EnvfileCase {
            text: "A =1\nB\t= 2\n",
            maestro: Ok(&[("A", "1"), ("B", " 2")]),
            python: Some(Ok(&[("A ", "1"), ("B\t", " 2")])),
        },
        // Blank lines are skipped (docker-py fails on them).
        EnvfileCase {
            text: "A=1\n\nB=2\n  \n",
            maestro: Ok(&[("A", "1"), ("B", "2")]),
            python: Some(Err(())),
        },
        // An indented `#` starts a comment (docker-py: a variable `#B`).
        EnvfileCase {
            text: "A=1\n  #B=2\n",
            maestro: Ok(&[("A", "1")]),
            python: Some(Ok(&[("A", "1"), ("#B", "2")])),
        },
        // An empty name is an error (docker-py sends `=1`).
        EnvfileCase {
            text: "=1\n",
            maestro: Err("line 1: empty variable name"),
            python: Some(Ok(&[("", "1")])),
        },
        // A byte order mark is not part of the first name.
        EnvfileCase {
            text: "\u{feff}A=1\n",
            maestro: Ok(&[("A", "1")]),
            python: Some(Ok(&[("\u{feff}A", "1")])),
        },
    ]
}

/// An `env` value as written in YAML, and the text MaestroNG gives the
/// container; `maestro` is Some where maestro differs (documented).
const ENV_CASES: &[(&str, &str, Option<&str>)] = &[
    (".inf", "inf", None),
    ("+.inf", "inf", None),
    ("-.inf", "-inf", None),
    (".Inf", "inf", None),
    ("-.INF", "-inf", None),
    (".nan", "nan", None),
    (".NaN", "nan", None),
    (".NAN", "nan", None),
    ("-.nan", "-.nan", None),
    ("'.inf'", ".inf", None),
    ("2001-12-14", "2001-12-14", None),
    (
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.100000-05:00",
        None,
    ),
    ("2001-12-14T21:59:43Z", "2001-12-14 21:59:43+00:00", None),
    ("2001-12-14 21:59:43.10", "2001-12-14 21:59:43.100000", None),
    (
        "2001-1-2 3:04:05.0000009 +5",
        "2001-01-02 03:04:05+05:00",
        None,
    ),
    (
        "2001-12-14 21:59:43 -00:30",
        "2001-12-14 21:59:43-00:30",
        None,
    ),
    (
        "2001-12-14 21:59:43 +05:99",
        "2001-12-14 21:59:43+06:39",
        None,
    ),
    ("2000-02-29", "2000-02-29", None),
    ("'2001-12-14 21:59:43'", "2001-12-14 21:59:43", None),
    ("!!str 2001-12-14 21:59:43", "2001-12-14 21:59:43", None),
    ("2001-1-2", "2001-1-2", None),
    ("2001-12-14 21:59", "2001-12-14 21:59", None),
    ("plain text", "plain text", None),
    ("[a, b]", "a b", None),
    // Documented differences (YAML 1.2 and the spelling of scalars).
    ("1.50", "1.5", Some("1.50")),
    ("true", "True", Some("true")),
    ("010", "8", Some("010")),
];

#[test]
fn envfiles_read_as_docker_py_1_10_6() {
    let cases = envfile_cases();
    let py = run_python(&json!({
        "envfiles": cases.iter().map(|c| c.text).collect::<Vec<_>>(),
        "env": [],
    }));
    for (c, got) in cases.iter().zip(py["envfiles"].as_array().unwrap()) {
        let python: Result<BTreeMap<String, String>, ()> = match got.get("ok") {
            Some(items) => Ok(items
                .as_array()
                .unwrap()
                .iter()
                .map(|kv| {
                    (
                        kv[0].as_str().unwrap().to_string(),
                        kv[1].as_str().unwrap().to_string(),
                    )
                })
                .collect()),
            None => Err(()),
        };
        let ours = parse_envfile(c.text).map(|v| v.into_iter().collect::<BTreeMap<_, _>>());
        let want = c.maestro.map(map).map_err(str::to_string);
        assert_eq!(ours, want, "maestro on {:?}", c.text);
        match c.python {
            None => assert_eq!(
                python,
                ours.map_err(|_| ()),
                "docker-py and maestro differ on {:?}",
                c.text
            ),
            Some(expected) => {
                assert_eq!(python, expected.map(map), "docker-py on {:?}", c.text);
                assert_ne!(python, ours.map_err(|_| ()), "{:?}", c.text);
            }
        }
    }
}

#[test]
fn env_values_as_maestro_ng_gives_them() {
    let docs: Vec<String> = ENV_CASES
        .iter()
        .map(|(yaml, _, _)| format!("V: {yaml}\n"))
        .collect();
    let py = run_python(&json!({"envfiles": [], "env": docs}));
    let py = py["env"].as_array().unwrap();
    let mut text = String::from(
        "name: t\nships: {s1: {ip: 10.213.0.1}}\nservices:\n  s:\n    image: i\n    instances:\n",
    );
    for (n, (yaml, _, _)) in ENV_CASES.iter().enumerate() {
        text.push_str(&format!(
            "      i{n}:\n        ship: s1\n        env:\n          V: {yaml}\n"
        ));
    }
    let env = maestro::config::load_str(&text, Path::new(".")).unwrap();
    for (n, (yaml, python, differs)) in ENV_CASES.iter().enumerate() {
        assert_eq!(py[n], format!("V={python}"), "MaestroNG on {yaml}");
        let ours = env.container_env(&env.instances[&format!("i{n}")])["V"].clone();
        assert_eq!(ours, differs.unwrap_or(python), "maestro on {yaml}");
    }
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// `DOCKER_TAG`: MaestroNG splits at the last `:`, so a digest-pinned
/// image gets the digest's hex as its tag; maestro gives the whole digest,
/// `sha256:<hex>` (documented).
#[test]
fn docker_tag_as_maestro_ng_except_for_digests() {
    let hex = DIGEST.strip_prefix("sha256:").unwrap();
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        ("busybox".into(), "latest", None),
        ("busybox:1.36".into(), "1.36", None),
        ("10.213.0.30:5000/lab/box".into(), "latest", None),
        ("10.213.0.30:5000/lab/box:2".into(), "2", None),
        (format!("busybox@{DIGEST}"), hex, Some(DIGEST)),
        (format!("busybox:1.36@{DIGEST}"), hex, Some(DIGEST)),
    ];
    let py = run_python(&json!({
        "envfiles": [],
        "env": [],
        "images": cases.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
    }));
    let mut text = String::from("name: t\nships: {s1: {ip: 10.213.0.1}}\nservices:\n");
    for (n, (image, _, _)) in cases.iter().enumerate() {
        text.push_str(&format!(
            "  s{n}:\n    image: '{image}'\n    instances: {{i{n}: {{ship: s1}}}}\n"
        ));
    }
    let env = maestro::config::load_str(&text, Path::new(".")).unwrap();
    for (n, (image, python, differs)) in cases.iter().enumerate() {
        assert_eq!(py["tags"][n], *python, "MaestroNG on {image}");
        let ours = env.container_env(&env.instances[&format!("i{n}")])["DOCKER_TAG"].clone();
        assert_eq!(ours, differs.unwrap_or(python), "maestro on {image}");
    }
}

fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run_python(input: &Value) -> Value {
    let mut child = Command::new(maestro_ng_venv::python(env!("CARGO_TARGET_TMPDIR")))
        .args(["-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "MaestroNG driver failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
