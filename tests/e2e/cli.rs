//! The command line against MaestroNG 0.8.3's own. Every option that
//! MaestroNG's argparse help lists, for the program and for each command
//! its help lists, is run through the built `maestro` (with a value where
//! it takes one, and again as the shortest prefix argparse accepts); a
//! MaestroNG flag that maestro lacks fails the walk. Then a sample of flags
//! is checked for the same meaning, side by side with MaestroNG where it can
//! run without Docker.
//!
//! No Docker needed: the environment's ships are loopback addresses where
//! nothing listens (port 1), plays run with `--dry-run`, and the commands
//! that must talk to a ship (`status`, `pull`, `logs`) find it down at once.

use std::path::Path;
use std::process::{Command, Output};

use maestro_tests::{TempDir, bin, text};

/// zookeeper <- kafka <- web, and web also requires zookeeper: a diamond, so
/// `deptree -r` differs from `deptree`.
const ENV: &str = "name: clidemo
ships:
  s1: {ip: 127.0.0.1, docker_port: 1}
  s2: {ip: 127.0.0.2, docker_port: 1}
services:
  zookeeper:
    image: lab/zk:1
    instances:
      zk-1: {ship: s1}
      zk-2: {ship: s2}
  kafka:
    image: lab/kafka:2
    requires: [zookeeper]
    instances:
      kafka-1: {ship: s1}
  web:
    image: lab/web:1
    requires: [kafka, zookeeper]
    instances:
      web-1: {ship: s2}
";

fn folder(tag: &str) -> TempDir {
    let dir = TempDir::new("cli", tag);
    dir.write("maestro.yaml", ENV);
    dir
}

/// MaestroNG 0.8.3 run in `dir`.
fn ng(dir: &Path, args: &[&str]) -> Output {
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

/// The built `maestro` run in `dir`.
fn ours(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin("maestro"))
        .args(args)
        .current_dir(dir)
        .env_remove("MAESTRO_FILE")
        .output()
        .unwrap()
}

fn show(args: &[&str], out: &Output) -> String {
    format!(
        "maestro {}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Prints MaestroNG's help texts as JSON: "" for the program, then one per
/// command of its parser.
const HELPS: &str = "
import argparse, json
from maestro.__main__ import create_parser
parser = create_parser()
sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
helps = {name: p.format_help() for name, p in sub.choices.items()}
helps[''] = parser.format_help()
print(json.dumps(helps))
";

/// One option of an argparse help: its spellings (`-c`, `--concurrency`)
/// and its metavar when it takes a value.
#[derive(Debug)]
struct Opt {
    spellings: Vec<String>,
    metavar: Option<String>,
}

/// The options argparse lists under `options:` (Python >= 3.10) or
/// `optional arguments:`: lines `  -c LIMIT, --concurrency LIMIT  help`.
fn options(help: &str) -> Vec<Opt> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "options:" || line == "optional arguments:" {
            inside = true;
            continue;
        }
        if !line.starts_with(' ') {
            inside = false;
        }
        let Some(body) = line
            .strip_prefix("  ")
            .filter(|b| inside && b.starts_with('-'))
        else {
            continue;
        };
        let invocation = body.split("  ").next().unwrap_or(body);
        let mut opt = Opt {
            spellings: Vec::new(),
            metavar: None,
        };
        for part in invocation.split(", ") {
            let mut words = part.split(' ');
            opt.spellings.push(words.next().unwrap_or(part).to_string());
            if let Some(m) = words.next() {
                opt.metavar = Some(m.to_string());
            }
        }
        out.push(opt);
    }
    out
}

/// The commands argparse lists under `positional arguments:`, one per line
/// indented by four spaces (the `{...}` metavar line above them leaves
/// some out: kill, dump, complete).
fn commands(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "positional arguments:" {
            inside = true;
            continue;
        }
        if !line.starts_with(' ') {
            inside = false;
        }
        if let Some(body) = line
            .strip_prefix("    ")
            .filter(|b| inside && !b.starts_with(' '))
        {
            out.push(body.split(' ').next().unwrap_or(body).to_string());
        }
    }
    out
}

/// The shortest prefix of a long option that argparse accepts for it: no
/// other long option of the same parser starts with it.
fn shortest_prefix(long: &str, all: &[&str]) -> String {
    (3..=long.len())
        .map(|n| &long[..n])
        .find(|p| all.iter().filter(|o| o.starts_with(p)).count() == 1)
        .unwrap_or(long)
        .to_string()
}

/// A value maestro and MaestroNG both accept, by argparse metavar.
fn sample(metavar: &str, dir: &Path) -> String {
    match metavar {
        "LIMIT" => "2".into(),
        "CONTAINER_FILTER" => "zk-*".into(),
        "SHIP_FILTER" => "s*".into(),
        "STEP_DELAY" | "STOP_START_DELAY" => "0".into(),
        "LINES" => "5".into(),
        "FILE" => dir.join("maestro.yaml").display().to_string(),
        other => panic!("no sample value for the metavar {other}: a new MaestroNG option?"),
    }
}

/// What follows the flag under test so that `command` runs without Docker,
/// and the exit code that then means "the flag was accepted and the command
/// ran": plays plan with `--dry-run`; `status`, `pull` and `logs` find the
/// ship down (exit 1); a flag maestro lacks would exit 2 with a usage error.
fn context(command: Option<&str>) -> (Vec<&'static str>, i32) {
    match command {
        None => (vec!["deptree"], 0),
        Some("start" | "stop" | "kill" | "restart" | "clean") => (vec!["--dry-run", "zk-1"], 0),
        Some("status") => (vec![], 1),
        Some("pull" | "logs") => (vec!["zk-1"], 1),
        Some("deptree" | "dump") => (vec![], 0),
        Some("complete") => (vec!["maestro", "st"], 0),
        Some(other) => panic!("MaestroNG has a command maestro's test does not know: {other}"),
    }
}

#[test]
fn every_maestro_ng_flag_of_every_command_is_accepted() {
    let dir = folder("walk");
    // Each parser's `-h` text, from one Python process (a MaestroNG start
    // costs a second): what `maestro-ng -h` and `maestro-ng <command> -h` print.
    let out = Command::new(maestro_tests::maestro_ng_venv::python(env!(
        "CARGO_TARGET_TMPDIR"
    )))
    .args(["-c", HELPS])
    .env("COLUMNS", "120")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let helps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    let help_of = |key: &str| helps[key].as_str().unwrap().to_string();
    let main_help = help_of("");
    let mut cmds = commands(&main_help);
    assert!(
        cmds.iter().any(|c| c == "start") && cmds.iter().any(|c| c == "complete"),
        "no commands read from MaestroNG's help:\n{main_help}"
    );
    let mut listed: Vec<&String> = helps.keys().filter(|k| !k.is_empty()).collect();
    listed.sort();
    cmds.sort();
    assert_eq!(listed, cmds.iter().collect::<Vec<_>>());
    // The -h text is the same one `-h` prints.
    assert_eq!(
        text(&ng(&dir, &["restart", "-h"]).stdout),
        help_of("restart")
    );

    let mut walked = 0;
    let mut failures = Vec::new();
    let parsers: Vec<(Option<&str>, String)> = std::iter::once((None, main_help.clone()))
        .chain(cmds.iter().map(|c| (Some(c.as_str()), help_of(c))))
        .collect();
    for (command, help) in &parsers {
        let opts = options(help);
        assert!(
            opts.iter().any(|o| o.spellings.iter().any(|s| s == "-h")),
            "no options read from MaestroNG's help of {command:?}:\n{help}"
        );
        let longs: Vec<&str> = opts
            .iter()
            .flat_map(|o| o.spellings.iter())
            .filter(|s| s.starts_with("--"))
            .map(String::as_str)
            .collect();
        let (after, want) = context(*command);
        for opt in &opts {
            let mut spellings = opt.spellings.clone();
            for long in opt.spellings.iter().filter(|s| s.starts_with("--")) {
                let prefix = shortest_prefix(long, &longs);
                if &prefix != long {
                    spellings.push(prefix);
                }
            }
            for spelling in &spellings {
                let value = opt.metavar.as_deref().map(|m| sample(m, &dir));
                let mut args: Vec<&str> = command.iter().copied().collect();
                args.push(spelling);
                args.extend(value.as_deref());
                args.extend(&after);
                let out = ours(&dir, &args);
                walked += 1;
                let info = opt.spellings.contains(&"-h".to_string())
                    || opt.spellings.contains(&"-v".to_string());
                let ok = if info {
                    out.status.code() == Some(0) && !out.stdout.is_empty()
                } else {
                    out.status.code() == Some(want)
                };
                if !ok || text(&out.stderr).contains("Usage:") {
                    failures.push(show(&args, &out));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {walked} MaestroNG flag spellings not accepted:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn version_prints_name_dash_version_on_stdout_as_maestro_ng_does() {
    let dir = folder("version");
    let theirs = ng(&dir, &["-v"]);
    assert_eq!(theirs.status.code(), Some(0));
    assert_eq!(text(&theirs.stdout), "maestro-ng-0.8.3\n");
    let want = format!("maestro-{}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["-v", "--version", "-V"] {
        let out = ours(&dir, &[flag]);
        assert_eq!(out.status.code(), Some(0), "{}", show(&[flag], &out));
        assert_eq!(text(&out.stdout), want, "{flag}");
        assert!(out.stderr.is_empty(), "{flag}: {}", text(&out.stderr));
    }
    // As argparse does, the version wins over a command that follows it.
    assert_eq!(text(&ours(&dir, &["-v", "status"]).stdout), want);
}

#[test]
fn deptree_and_recursive_deptree_print_what_maestro_ng_prints() {
    let dir = folder("deptree");
    for args in [
        &["deptree"][..],
        &["deptree", "-r"],
        &["deptree", "--rec"],
        &["deptree", "web"],
    ] {
        let theirs = ng(&dir, args);
        let out = ours(&dir, args);
        assert_eq!(out.status.code(), Some(0), "{}", show(args, &out));
        assert_eq!(text(&out.stdout), text(&theirs.stdout), "{args:?}");
    }
    // The file is one where -r makes a difference.
    assert_ne!(
        text(&ours(&dir, &["deptree"]).stdout),
        text(&ours(&dir, &["deptree", "-r"]).stdout)
    );
}

#[test]
fn file_flag_names_the_environment_file() {
    let dir = TempDir::new("cli", "file");
    let other = dir.write("other.yaml", ENV);
    let other = other.to_str().unwrap();
    let (theirs, out) = (
        ng(&dir, &["-f", other, "deptree"]),
        ours(&dir, &["-f", other, "deptree"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), text(&theirs.stdout));
    assert!(text(&out.stdout).starts_with("kafka\n"));
}

/// The lines of a dry-run plan naming instances, without the header and
/// the count.
fn plan(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect()
}

fn instances(out: &Output) -> Vec<String> {
    let mut names: Vec<String> = plan(out)
        .iter()
        .map(|l| l.split(' ').next().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn dependency_flags_select_and_order_as_in_maestro_ng() {
    let dir = folder("deps");
    let run = |args: &[&str]| {
        let out = ours(&dir, args);
        assert_eq!(out.status.code(), Some(0), "{}", show(args, &out));
        out
    };
    // -d: the things and what they require, transitively.
    let with = run(&["start", "--dry-run", "-d", "web-1"]);
    assert_eq!(instances(&with), ["kafka-1", "web-1", "zk-1", "zk-2"]);
    assert!(
        plan(&with)
            .iter()
            .any(|l| l.starts_with("web-1 (s2) after "))
    );
    // Without -d: the things only, still in order.
    let things = run(&["start", "--dry-run", "web-1", "kafka-1"]);
    assert_eq!(instances(&things), ["kafka-1", "web-1"]);
    assert!(
        plan(&things)
            .iter()
            .any(|l| l.starts_with("web-1 (s2) after kafka-1"))
    );
    // -i: no waiting on dependencies.
    let ignore = run(&["start", "--dry-run", "-i", "web-1", "kafka-1"]);
    assert_eq!(instances(&ignore), ["kafka-1", "web-1"]);
    assert!(
        !text(&ignore.stdout).contains(" after "),
        "{}",
        text(&ignore.stdout)
    );
    // -d -i: the dependencies come along, nothing waits (MaestroNG's
    // "starts ZooKeeper and Kafka at the same time").
    let both = run(&["start", "--dry-run", "-d", "-i", "web-1"]);
    assert_eq!(instances(&both), ["kafka-1", "web-1", "zk-1", "zk-2"]);
    assert!(
        !text(&both.stdout).contains(" after "),
        "{}",
        text(&both.stdout)
    );
    // No things: every service, with -d implied unless -i.
    let all = run(&["start", "--dry-run"]);
    assert_eq!(instances(&all).len(), 4);
    assert!(text(&all.stdout).contains(" after "));
    assert!(!text(&run(&["start", "--dry-run", "-i"]).stdout).contains(" after "));
    // -C and -S: shell globs on instance and ship names.
    let c = run(&["start", "--dry-run", "-d", "web-1", "-C", "zk-*"]);
    assert_eq!(instances(&c), ["zk-1", "zk-2"]);
    let s = run(&["start", "--dry-run", "-d", "web-1", "--ship-filter", "s2"]);
    assert_eq!(instances(&s), ["web-1", "zk-2"]);
    // stop: -d adds the dependents.
    let stop = run(&["stop", "--dry-run", "-d", "kafka-1"]);
    assert_eq!(instances(&stop), ["kafka-1", "web-1"]);
}

#[test]
fn expand_flags_refuse_and_allow_as_maestro_ng_does() {
    let dir = folder("expand");
    for command in ["stop", "kill", "restart"] {
        // No things and no -a: MaestroNG's message, exit 1.
        let theirs = ng(&dir, &[command]);
        let out = ours(&dir, &[command, "--dry-run"]);
        assert_eq!(theirs.status.code(), Some(1));
        assert_eq!(out.status.code(), Some(1), "{}", show(&[command], &out));
        let message =
            format!("No services or containers specified for {command}, and --all not set.");
        assert!(text(&theirs.stderr).contains(&message));
        assert!(
            text(&out.stderr).contains(&message),
            "{}",
            text(&out.stderr)
        );
        // -a: everything.
        let all = ours(&dir, &[command, "--dry-run", "-a"]);
        assert_eq!(all.status.code(), Some(0), "{}", text(&all.stderr));
        assert_eq!(instances(&all).len(), 4);
        // A service name without -s: refused by both.
        let theirs = ng(&dir, &[command, "kafka"]);
        let out = ours(&dir, &[command, "--dry-run", "kafka"]);
        let message = "kafka is a service but --expand-services was not specified";
        assert_eq!(theirs.status.code(), Some(1));
        assert!(text(&theirs.stderr).contains(message));
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
        // -s: its instances.
        let s = ours(&dir, &[command, "--dry-run", "-s", "zookeeper"]);
        assert_eq!(s.status.code(), Some(0), "{}", text(&s.stderr));
        assert_eq!(instances(&s), ["zk-1", "zk-2"]);
    }
}

#[test]
fn refresh_and_reuse_exclude_each_other_as_in_maestro_ng() {
    let dir = folder("refresh");
    for command in ["start", "restart"] {
        let theirs = ng(&dir, &[command, "-r", "--reuse", "zk-1"]);
        let out = ours(&dir, &[command, "--dry-run", "-r", "--reuse", "zk-1"]);
        assert_eq!(theirs.status.code(), Some(2));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        for flag in ["-r", "--reuse"] {
            let out = ours(&dir, &[command, "--dry-run", flag, "zk-1"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{command} {flag}: {}",
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn status_show_hosts_shows_ship_addresses_as_maestro_ng_does() {
    let dir = folder("hosts");
    for (args, shown, hidden) in [
        (&["status"][..], " s2 ", "127.0.0.2"),
        (&["status", "-H"], "127.0.0.2", " s2 "),
        (&["status", "--show-hosts"], "127.0.0.2", " s2 "),
    ] {
        for out in [ng(&dir, args), ours(&dir, args)] {
            let table = text(&out.stdout);
            let row = table
                .lines()
                .find(|l| l.contains("web-1"))
                .unwrap_or_default();
            assert!(
                row.contains(shown) && !row.contains(hidden),
                "{args:?}:\n{table}"
            );
        }
    }
}

#[test]
fn dump_config_adds_the_parsed_file() {
    let dir = folder("dump");
    let json = |args: &[&str]| -> serde_json::Value {
        let out = ours(&dir, args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert!(json(&["dump"]).get("config").is_none());
    assert_eq!(json(&["dump", "-c"])["config"]["name"], "clidemo");
    assert_eq!(json(&["dump", "--config"])["config"]["name"], "clidemo");
}

/// The words of a `complete` answer.
fn words(out: &Output) -> Vec<String> {
    let mut w: Vec<String> = text(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    w.sort();
    w
}

#[test]
fn complete_offers_what_maestro_ng_offers_and_things_too() {
    let dir = folder("complete");
    // Commands: every candidate of MaestroNG's is one of maestro's; both
    // answer on one line.
    for line in [
        "maestro",
        "maestro st",
        "maestro re",
        "maestro c",
        "maestro p",
    ] {
        let theirs = ng(&dir, &["complete", line]);
        let out = ours(&dir, &["complete", line]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).lines().count(), 1);
        let ours = words(&out);
        for word in words(&theirs) {
            assert!(ours.contains(&word), "{line:?}: {word} not in {ours:?}");
        }
    }
    assert_eq!(
        text(&ours(&dir, &["complete", "maestro", "st"]).stdout),
        "start status stop\n"
    );
    // Things: MaestroNG fails here on Python 3 (dict_keys + dict_keys);
    // maestro lists services and instances.
    let theirs = ng(&dir, &["complete", "maestro start k"]);
    assert_eq!(theirs.status.code(), Some(1));
    assert!(text(&theirs.stderr).contains("TypeError"));
    let out = ours(&dir, &["complete", "maestro start k"]);
    assert_eq!(text(&out.stdout), "kafka kafka-1\n");
    let out = ours(&dir, &["complete", "maestro", "stop", "-s", ""]);
    assert_eq!(
        words(&out),
        [
            "kafka",
            "kafka-1",
            "web",
            "web-1",
            "zk-1",
            "zk-2",
            "zookeeper"
        ]
    );
    // Flags, and the file named on the line being completed.
    let out = ours(&dir, &["complete", "maestro", "restart", "--st"]);
    assert_eq!(
        text(&out.stdout),
        "--step-delay --stop-start-delay --strict-templates\n"
    );
    let elsewhere = TempDir::new("cli", "complete-elsewhere");
    let other = dir.join("maestro.yaml");
    let other = other.to_str().unwrap();
    let out = ours(
        &elsewhere,
        &["complete", "maestro", "-f", other, "logs", "w"],
    );
    assert_eq!(text(&out.stdout), "web web-1\n", "{}", text(&out.stderr));
    // Without a readable file, things cannot be offered: the error, exit 2.
    let out = ours(&elsewhere, &["complete", "maestro", "logs", "w"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("maestro.yaml"),
        "{}",
        text(&out.stderr)
    );
}

/// The bash completion function of docs/commands.md, as printed there.
fn documented_bash_completion() -> String {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/commands.md");
    let doc = std::fs::read_to_string(&doc).unwrap();
    let start = doc
        .find("# maestro completion (bash)\n")
        .expect("docs/commands.md shows the bash completion function");
    let block = &doc[start..];
    block[..block.find("```").unwrap()].to_string()
}

#[test]
fn the_documented_bash_completion_completes_through_maestro_complete() {
    let dir = folder("bash");
    let path = format!(
        "{}:{}",
        bin("maestro").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let complete = |words: &[&str]| -> String {
        // COMP_WORDS and COMP_CWORD as bash sets them for the line typed so
        // far, the cursor in the last word.
        let script = format!(
            "{}\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_maestro\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            documented_bash_completion(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .current_dir(&dir)
            .env("PATH", &path)
            .env_remove("MAESTRO_FILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(complete(&["maestro", "st"]), "start\nstatus\nstop\n");
    assert_eq!(complete(&["maestro", "start", ""]).lines().count(), 7);
    assert_eq!(complete(&["maestro", "stop", "-s", "zoo"]), "zookeeper\n");
    assert_eq!(complete(&["maestro", "logs", "--f"]), "--file\n--follow\n");
}

#[test]
fn number_flags_take_numbers_in_both() {
    let dir = folder("numbers");
    for args in [
        &["start", "-c", "x", "zk-1"][..],
        &["restart", "--step-delay", "x", "zk-1"],
        &["restart", "--stop-start-delay", "x", "zk-1"],
        &["logs", "-n", "x", "zk-1"],
    ] {
        let theirs = ng(&dir, args);
        let out = ours(&dir, args);
        assert_eq!(theirs.status.code(), Some(2), "{}", text(&theirs.stderr));
        assert_eq!(out.status.code(), Some(2), "{}", show(args, &out));
        assert!(text(&out.stderr).contains("invalid value 'x'"));
    }
}
