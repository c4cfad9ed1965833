//! maestro in the shell and around it: the completion scripts run by real
//! bash, zsh, fish and elvish against the built binary, `deptree --format dot`
//! drawn by Graphviz, the man pages and `maestro schema`.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ENV: &str = "name: shell
ships:
  alpha: {ip: 192.0.2.1}
  beta: {ip: 192.0.2.2}
services:
  zookeeper:
    image: zk
    instances: {zk-1: {ship: alpha}, zk-2: {ship: beta}}
  kafka:
    image: kafka
    requires: [zookeeper]
    instances: {kafka-1: {ship: alpha}, kafka-2: {ship: beta}}
  monitor:
    image: mon
    wants_info: [kafka]
    instances: {monitor-1: {ship: beta}}
";

const OTHER: &str = "name: other
ships: {gamma: {ip: 192.0.2.3}}
services:
  web: {image: w, instances: {web-7: {ship: gamma}}}
";

/// A scratch folder, removed on drop.
struct Dir(PathBuf);

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("maestro-shell-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// A folder with `maestro.yaml` and `other.yaml`.
fn project(tag: &str) -> Dir {
    let d = scratch(tag);
    std::fs::write(d.join("maestro.yaml"), ENV).unwrap();
    std::fs::write(d.join("other.yaml"), OTHER).unwrap();
    d
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_maestro"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `program args` in `dir` with the built maestro first on PATH.
fn run_in(dir: &Path, program: &str, args: &[&str]) -> Output {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("MAESTRO_FILE")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/lab up installs it)"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn lines(out: &Output) -> Vec<String> {
    text(out).lines().map(str::to_string).collect()
}

/// bash with the script of `maestro completions bash`: each case sets
/// COMP_WORDS and COMP_CWORD as bash does for the line, calls the
/// function `complete -p` names, and prints COMPREPLY.
#[test]
fn bash_completes_commands_instances_services_and_ships() {
    let dir = project("bash");
    let script = r#"
source <(maestro completions bash)
complete -p maestro
fn=$(complete -p maestro | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
try() {
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    "$fn"
    echo "${COMPREPLY[*]}"
}
try maestro st
try maestro start ''
try maestro start ka
try maestro stop kafka-1 z
try maestro -f other.yaml start ''
try maestro status -S ''
try maestro restart --step-
"#;
    let out = lines(&run_in(
        &dir,
        "bash",
        &["--norc", "--noprofile", "-c", script],
    ));
    assert_eq!(out[0], "complete -o default -F _maestro maestro");
    assert_eq!(out[1], "start status stop");
    assert_eq!(
        out[2],
        "kafka kafka-1 kafka-2 monitor monitor-1 zk-1 zk-2 zookeeper"
    );
    assert_eq!(out[3], "kafka kafka-1 kafka-2");
    assert_eq!(out[4], "zk-1 zk-2 zookeeper");
    assert_eq!(out[5], "web web-7");
    assert_eq!(out[6], "alpha beta");
    assert_eq!(out[7], "--step-delay");
}

/// zsh with the script of `maestro completions zsh`, sourced; `compadd`,
/// `compdef` and `_files` (zsh's completion system) print what they get.
#[test]
fn zsh_completes_instances_services_and_ships() {
    let dir = project("zsh");
    let script = r#"
compdef() { print -r -- "compdef $*" }
compadd() { [[ $1 == -- ]] && shift; print -r -- "$*" }
_files() { print -r -- "(files)" }
source <(maestro completions zsh)
words=(maestro start ka); CURRENT=3; _maestro
words=(maestro -f other.yaml stop ''); CURRENT=5; _maestro
words=(maestro status --ship-filter b); CURRENT=4; _maestro
words=(maestro -f ''); CURRENT=3; _maestro
words=(maestro ''); CURRENT=2; _maestro
"#;
    let out = lines(&run_in(&dir, "zsh", &["-f", "-c", script]));
    assert_eq!(out[0], "compdef _maestro maestro");
    assert_eq!(out[1], "kafka kafka-1 kafka-2");
    assert_eq!(out[2], "web web-7");
    assert_eq!(out[3], "beta");
    assert_eq!(out[4], "(files)");
    let commands = &out[5];
    for c in ["start", "stop", "deptree", "schema", "completions"] {
        assert!(commands.split(' ').any(|w| w == c), "{c} in {commands}");
    }
}

/// fish's own completion of a command line (`complete -C`) with the
/// script of `maestro completions fish`.
#[test]
fn fish_completes_instances_and_services() {
    let dir = project("fish");
    let script = "maestro completions fish | source
complete -C'maestro start ka'
echo ===
complete -C'maestro -f other.yaml stop '";
    let out = text(&run_in(&dir, "fish", &["--no-config", "-c", script]));
    let (first, second) = out.split_once("===\n").unwrap();
    let words = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(words(first), ["kafka", "kafka-1", "kafka-2"]);
    assert_eq!(words(second), ["web", "web-7"]);
}

/// elvish: the arg-completer of `maestro completions elvish`, called with
/// the words as the line editor calls it (outside the editor, whose `edit:`
/// module a script run with `-c` lacks, it is bound to a variable instead).
#[test]
fn elvish_completes_instances_and_commands() {
    let dir = project("elvish");
    let script = r#"use str
var src = (str:replace "set edit:completion:arg-completer[maestro] =" "var f =" (maestro completions elvish | slurp))
var cases = "
echo (str:join ' ' [($f maestro start ka)])
echo (str:join ' ' [($f maestro -f other.yaml stop '')])
echo (str:join ' ' [($f maestro de)])
"
eval $src$cases
"#;
    let out = lines(&run_in(&dir, "elvish", &["-norc", "-c", script]));
    assert_eq!(out, ["kafka kafka-1 kafka-2", "web web-7", "deptree"]);
}

#[test]
fn every_shell_has_a_script_that_calls_maestro_complete() {
    let dir = project("scripts");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = text(&run_in(
            &dir,
            env!("CARGO_BIN_EXE_maestro"),
            &["completions", shell],
        ));
        assert!(script.contains("maestro complete"), "{shell}: {script}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn deptree_dot_renders_as_a_png_with_graphviz() {
    let dir = project("dot");
    let dot = text(&run_in(
        &dir,
        env!("CARGO_BIN_EXE_maestro"),
        &["deptree", "--format", "dot"],
    ));
    assert!(dot.contains("subgraph \"cluster_ship:alpha\""), "{dot}");
    assert!(
        dot.contains("\"service:monitor\" -> \"service:kafka\" [style=dashed"),
        "{dot}"
    );
    std::fs::write(dir.join("deptree.dot"), &dot).unwrap();
    run_in(&dir, "dot", &["-Tpng", "-o", "deptree.png", "deptree.dot"]);
    let png = std::fs::read(dir.join("deptree.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height from the IHDR chunk: a real picture of 3 services,
    // 5 instances and 2 ships, not an empty canvas.
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width > 300 && height > 150, "{width}x{height}");
    assert!(png.len() > 10_000, "{} bytes", png.len());

    let mermaid = text(&run_in(
        &dir,
        env!("CARGO_BIN_EXE_maestro"),
        &["deptree", "--format", "mermaid", "monitor"],
    ));
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert_eq!(mermaid.matches("subgraph").count(), 2, "{mermaid}");
    assert!(mermaid.contains(" -. wants_info .-> "), "{mermaid}");
}

#[test]
fn man_writes_a_page_per_command() {
    let dir = project("man");
    let out = text(&run_in(
        &dir,
        env!("CARGO_BIN_EXE_maestro"),
        &["man", "pages"],
    ));
    assert!(out.contains("maestro.1"), "{out}");
    let page = std::fs::read_to_string(dir.join("pages/maestro-deptree.1")).unwrap();
    assert!(page.contains("mermaid"), "{page}");
    // man itself reads it.
    let rendered = run_in(&dir, "man", &["-l", "pages/maestro-deptree.1"]);
    assert!(text(&rendered).contains("deptree"));
}

#[test]
fn schema_prints_the_json_schema_without_an_environment_file() {
    let dir = scratch("empty");
    let out = run_in(&dir, env!("CARGO_BIN_EXE_maestro"), &["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["properties"]["services"].is_object());
}
