//! Broken environment files through `maestro validate`: the corpus in
//! tests/bad-input (one `NNN-name.yaml` and its `NNN-name.expect` per case)
//! and large or hostile files generated here. Every case must exit 1
//! without a panic, and its first message must name the file, the line
//! (where there is one) and the key path (where one applies).
//!
//! Files the cases refer to (envfiles) are in tests/bad-input/files.
//!
//! An `.expect` file holds `line: N` (or `line: none` for a problem of the
//! whole file, such as an empty one), an optional `path: key.path`, and
//! `message:` lines, each a piece of text the message must contain.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use maestro_tests::{TempDir, bin, text};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bad-input")
}

/// `maestro -f FILE validate` run in `dir`, so that messages name `FILE`.
fn validate(dir: &Path, file: &str) -> Output {
    Command::new(bin("maestro"))
        .args(["-f", file, "validate"])
        .current_dir(dir)
        .env_remove("MAESTRO_FILE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

struct Expect {
    line: Option<u64>,
    path: Option<String>,
    messages: Vec<String>,
}

fn read_expect(file: &Path) -> Expect {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e} (every case needs one)", file.display()));
    let mut expect = Expect {
        line: None,
        path: None,
        messages: Vec::new(),
    };
    let mut has_line = false;
    for l in text.lines() {
        match l.split_once(": ") {
            Some(("line", "none")) => has_line = true,
            Some(("line", n)) => {
                expect.line = Some(n.parse().expect("line: a number"));
                has_line = true;
            }
            Some(("path", p)) => expect.path = Some(p.to_string()),
            Some(("message", m)) => expect.messages.push(m.to_string()),
            _ => panic!("{}: unexpected line {l:?}", file.display()),
        }
    }
    assert!(
        has_line && !expect.messages.is_empty(),
        "{}: needs `line:` and `message:`",
        file.display()
    );
    expect
}

/// `:LINE:COLUMN: rest`, `:LINE: rest` or `: rest` -> (line, rest).
fn location(s: &str) -> Option<(Option<u64>, &str)> {
    if let Some(rest) = s.strip_prefix(": ") {
        return Some((None, rest));
    }
    let number = |s: &str| -> Option<(u64, usize)> {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        Some((s[..digits].parse().ok()?, digits))
    };
    let s = s.strip_prefix(':')?;
    let (line, n) = number(s)?;
    let mut s = &s[n..];
    if let Some(r) = s.strip_prefix(':')
        && let Some((_, n)) = number(r)
    {
        s = &r[n..];
    }
    Some((Some(line), s.strip_prefix(": ")?))
}

/// What is wrong with the outcome of one case, if anything.
fn check(name: &str, out: &Output, expect: &Expect) -> Result<(), String> {
    let stderr = text(&out.stderr);
    if stderr.contains("panicked") || out.status.code() == Some(101) {
        return Err(format!("panicked: {stderr}"));
    }
    if out.status.code() != Some(1) {
        return Err(format!(
            "exit {:?}, expected 1: {stderr}",
            out.status.code()
        ));
    }
    if !out.stdout.is_empty() {
        return Err(format!("printed on stdout: {}", text(&out.stdout)));
    }
    // Every line of the report names the file.
    if let Some(l) = stderr.lines().find(|l| !l.starts_with(name)) {
        return Err(format!("a line does not name the file: {l:?}"));
    }
    let first = stderr.lines().next().unwrap_or_default();
    let Some((line, rest)) = location(&first[name.len()..]) else {
        return Err(format!(
            "no `file:line:column: ` or `file: ` prefix: {first}"
        ));
    };
    if line != expect.line {
        return Err(format!("expected line {:?}: {first}", expect.line));
    }
    let message = match &expect.path {
        Some(path) => match rest.strip_prefix(&format!("{path}: ")) {
            Some(m) => m,
            None => return Err(format!("expected key path {path}: {first}")),
        },
        None => rest,
    };
    for m in &expect.messages {
        if !message.contains(m.as_str()) {
            return Err(format!("expected {m:?} in the message: {first}"));
        }
    }
    Ok(())
}

#[test]
fn bad_input_corpus_exits_1_with_file_line_and_key_path() {
    let dir = corpus_dir();
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for name in &cases {
        let expect = read_expect(&dir.join(name.replace(".yaml", ".expect")));
        let out = validate(&dir, name);
        if let Err(why) = check(name, &out, &expect) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every `.expect` has its `.yaml`: a case cannot be lost by a rename.
#[test]
fn bad_input_corpus_has_no_orphan_expectations() {
    for e in std::fs::read_dir(corpus_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".expect") {
            assert!(
                corpus_dir().join(format!("{stem}.yaml")).exists(),
                "{name} has no {stem}.yaml"
            );
        } else {
            // `files/` holds what cases refer to (envfiles).
            assert!(
                name.ends_with(".yaml") || name == "files",
                "unexpected file {name}"
            );
        }
    }
}

/// A valid environment of `services` services of one instance each, then
/// `tail` (lines after it).
fn big_env(services: usize, tail: &str) -> String {
    let mut s = String::from("name: big\nships:\n  s1: {ip: 10.213.0.11}\nservices:\n");
    for i in 0..services {
        s.push_str(&format!(
            "  svc-{i}:\n    image: box:1\n    instances:\n      svc-{i}-a: {{ship: s1, ports: {{p: {}}}}}\n",
            1024 + i
        ));
    }
    s.push_str(tail);
    s
}

fn generated(tag: &str, name: &str, bytes: &[u8]) -> (TempDir, Output, Duration) {
    let dir = TempDir::new("bad-input", tag);
    std::fs::write(dir.join(name), bytes).unwrap();
    let start = Instant::now();
    let out = validate(&dir, name);
    (dir, out, start.elapsed())
}

fn expect(line: Option<u64>, path: Option<&str>, messages: &[&str]) -> Expect {
    Expect {
        line,
        path: path.map(String::from),
        messages: messages.iter().map(|m| m.to_string()).collect(),
    }
}

#[test]
fn bad_input_large_file_reports_the_line_of_an_error_at_its_end() {
    // 20,000 services (80,000 lines, about 2.4 MB): the error is on the
    // last instance.
    let n = 20_000;
    let text = big_env(n, "      late: {ship: s9}\n");
    let lines = text.lines().count() as u64;
    let (_dir, out, took) = generated("large", "large.yaml", text.as_bytes());
    check(
        "large.yaml",
        &out,
        &expect(
            Some(lines),
            Some(&format!("services.svc-{}.instances.late.ship", n - 1)),
            &["unknown ship \"s9\""],
        ),
    )
    .unwrap();
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn bad_input_many_errors_are_all_reported() {
    // Every one of 5,000 instances has a bad port: one line each.
    let env = big_env(5_000, "").replace("ports: {p: ", "ports: {p: x");
    let (_dir, out, _) = generated("many", "many.yaml", env.as_bytes());
    check(
        "many.yaml",
        &out,
        &expect(
            Some(8),
            Some("services.svc-0.instances.svc-0-a.ports.p"),
            &["invalid port spec \"x1024\""],
        ),
    )
    .unwrap();
    assert_eq!(text(&out.stderr).lines().count(), 5_000);
}

#[test]
fn bad_input_huge_scalar_and_key() {
    // An 8 MB key is refused with YAML's limit named; an 8 MB value is fine.
    let long = "x".repeat(8 << 20);
    let text = big_env(1, &format!("  {long}: {{image: [{long}]}}\n"));
    let (_dir, out, _) = generated("huge-scalar", "huge.yaml", text.as_bytes());
    check(
        "huge.yaml",
        &out,
        &expect(
            Some(9),
            None,
            &["expected `:` after a key", "at most 1024 characters"],
        ),
    )
    .unwrap();
    // Quoted, it is still too long for a key (YAML's limit).
    let text = big_env(1, &format!("  \"{long}\": {{image: x}}\n"));
    let (_dir, out, _) = generated("huge-quoted", "huge.yaml", text.as_bytes());
    check(
        "huge.yaml",
        &out,
        &expect(Some(9), None, &["at most 1024 characters"]),
    )
    .unwrap();
    // As a value it is fine; the list is the error, and is not echoed.
    let text = big_env(
        1,
        &format!("  svc-x: {{image: [{long}], instances: {{}}}}\n"),
    );
    let (_dir, out, _) = generated("huge-value", "huge.yaml", text.as_bytes());
    check(
        "huge.yaml",
        &out,
        &expect(
            Some(9),
            Some("services.svc-x.image"),
            &["expected a string, got a list"],
        ),
    )
    .unwrap();
    assert!(out.stderr.len() < 1000);
}

#[test]
fn bad_input_generated_deep_nesting_is_refused() {
    // 100,000 levels of flow lists and of block mappings.
    let depth = 100_000;
    let flow = format!(
        "name: x\nx-deep: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let (_dir, out, _) = generated("deep-flow", "deep.yaml", flow.as_bytes());
    check(
        "deep.yaml",
        &out,
        &expect(Some(2), None, &["more than 64 levels deep"]),
    )
    .unwrap();
    let mut block = String::from("name: x\nx-deep:\n");
    for i in 0..2_000 {
        block.push_str(&" ".repeat(i + 1));
        block.push_str("k:\n");
    }
    let (_dir, out, _) = generated("deep-block", "block.yaml", block.as_bytes());
    check(
        "block.yaml",
        &out,
        &expect(Some(66), None, &["more than 64 levels deep"]),
    )
    .unwrap();
}

#[test]
fn bad_input_billion_laughs_is_refused_quickly() {
    let mut s = String::from("x-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        s.push_str(&format!(
            "x-{i}: &a{i} [{}]\n",
            vec![format!("*a{p}"); 10].join(", ")
        ));
    }
    let (_dir, out, took) = generated("laughs", "laughs.yaml", s.as_bytes());
    let e = expect(None, None, &["alias bomb"]);
    // The line is where the limit is reached: some line of the anchors.
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("laughs.yaml:"), "{stderr}");
    let line: u64 = stderr["laughs.yaml:".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no line: {stderr}"));
    assert!((2..=10).contains(&line), "{stderr}");
    check(
        "laughs.yaml",
        &out,
        &Expect {
            line: Some(line),
            ..e
        },
    )
    .unwrap();
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn bad_input_binary_garbage_names_the_byte_offset() {
    // 4 MB of pseudo-random bytes (a fixed sequence: the same every run).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let at = std::str::from_utf8(&bytes).unwrap_err().valid_up_to();
    let before = std::str::from_utf8(&bytes[..at]).unwrap();
    let line = before.matches('\n').count() as u64 + 1;
    let (_dir, out, _) = generated("garbage", "garbage.bin", &bytes);
    check(
        "garbage.bin",
        &out,
        &expect(
            Some(line),
            None,
            &[&format!(
                "not valid UTF-8: byte 0x{:02X} at byte offset {at} ",
                bytes[at]
            )],
        ),
    )
    .unwrap();
}

#[test]
fn bad_input_invalid_utf8_deep_in_a_large_file() {
    // A valid 1 MB prefix, then one bad byte in a comment: the offset,
    // line and column are exact.
    let mut text = big_env(8_000, "").into_bytes();
    let lines = text.iter().filter(|b| **b == b'\n').count() as u64;
    text.extend_from_slice("# café \u{2014} ".as_bytes());
    let at = text.len();
    text.extend_from_slice(b"\xC0\xAF\n");
    let (_dir, out, _) = generated("utf8-deep", "deep.yaml", &text);
    let stderr = text_of(&out);
    assert!(
        stderr.starts_with(&format!("deep.yaml:{}:10: ", lines + 1)),
        "{stderr}"
    );
    check(
        "deep.yaml",
        &out,
        &expect(
            Some(lines + 1),
            None,
            &[&format!("byte 0xC0 at byte offset {at} ")],
        ),
    )
    .unwrap();
}

fn text_of(out: &Output) -> String {
    text(&out.stderr)
}

#[test]
fn bad_input_template_generated_file_reports_rendered_line() {
    // A template loop writes 30,000 instances; the error is on the last.
    let tmpl = "name: t\nships:\n  s1: {ip: 10.213.0.11}\nservices:\n  web:\n    image: box:1\n    instances:\n{% for i in range(30000) %}      web-{{ i }}: {ship: {{ 's9' if i == 29999 else 's1' }}}\n{% endfor %}";
    let (_dir, out, _) = generated("tmpl", "tmpl.yaml", tmpl.as_bytes());
    check(
        "tmpl.yaml",
        &out,
        &expect(
            Some(7 + 30_000),
            Some("services.web.instances.web-29999.ship"),
            &["unknown ship \"s9\""],
        ),
    )
    .unwrap();
}

#[test]
fn bad_input_from_stdin_is_named_stdin() {
    let dir = TempDir::new("bad-input", "stdin");
    let mut child = Command::new(bin("maestro"))
        .args(["-f", "-", "validate"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input
            .write_all(b"name: t\nships: {}\nx-bad: \"\xFF\"\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    check(
        "<stdin>",
        &out,
        &expect(Some(3), None, &["byte 0xFF at byte offset 26 "]),
    )
    .unwrap();
}
