//! Auditors against a tiny HTTP receiver on 127.0.0.1 and real scripts.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::config::model::AuditLevel;

/// A received request.
#[derive(Debug)]
struct Received {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Value,
}

/// Answers `n` requests with `status`, handing each over on the channel.
fn receiver(n: usize, status: u16) -> (String, crossbeam_channel::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for _ in 0..n {
            let (stream, _) = listener.accept().unwrap();
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap().to_string();
            let path = parts.next().unwrap().to_string();
            let mut headers = BTreeMap::new();
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
            let len: usize = headers
                .get("content-length")
                .map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let mut s = stream;
            write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let body = if body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&body).unwrap()
            };
            tx.send(Received {
                method,
                path,
                headers,
                body,
            })
            .unwrap();
        }
    });
    (url, rx)
}

fn auditors(entries: Vec<Auditor>) -> Auditors {
    let targets = [
        ("web-1", "10.213.0.1", "web"),
        ("web-2", "10.213.0.2", "web"),
        ("db-1", "10.213.0.3", "db"),
    ]
    .into_iter()
    .map(|(c, ip, s)| (c.to_string(), (ip.to_string(), s.to_string())))
    .collect();
    Auditors {
        entries,
        targets,
        warnings: Mutex::new(Vec::new()),
    }
}

fn entry(kind: AuditorKind, ignore_errors: bool) -> Auditor {
    Auditor {
        level: AuditLevel::Info,
        ignore_errors,
        kind,
    }
}

fn play(what: &[&str]) -> PlayInfo {
    PlayInfo {
        action: "start".into(),
        what: what.iter().map(|s| s.to_string()).collect(),
        who: "alice".into(),
        outcome: None,
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "maestro-audit-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn webhook_posts_the_rendered_payload_with_merged_headers_on_every_moment() {
    let (url, rx) = receiver(3, 200);
    let a = auditors(vec![entry(
        AuditorKind::Http {
            endpoint: format!("{url}/hook?k=1"),
            payload: Some(json!({
                "text": "{message}",
                "who": "{who}",
                "tags": ["{action}", "{event}", ""],
                "blank": "",
            })),
            headers: [("X-Token".to_string(), "abc".to_string())].into(),
            method: "POST".into(),
            timeout: 3.0,
        },
        false,
    )]);
    let p = play(&["web-1", "web-2"]);
    a.action(&p).unwrap();
    a.success(&p);
    a.error(&p, "boom");
    assert!(a.take_warnings().is_empty());
    let got: Vec<Received> = rx.iter().take(3).collect();
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].path, "/hook?k=1");
    assert_eq!(
        got[0].headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(got[0].headers["x-token"], "abc");
    assert_eq!(
        got[0].body,
        json!({"text": "alice is starting web-1, web-2.", "who": "alice", "tags": ["start", "action"]})
    );
    assert_eq!(got[1].body["text"], "Start of web-1, web-2 succeeded.");
    assert_eq!(got[1].body["tags"], json!(["start", "success"]));
    assert_eq!(
        got[2].body["text"],
        "Failed to start web-1, web-2! (message: boom)"
    );
}

#[test]
fn webhook_get_with_a_replaced_content_type_and_the_default_payload() {
    let (url, rx) = receiver(1, 204);
    let a = auditors(vec![entry(
        AuditorKind::Http {
            endpoint: url,
            payload: None,
            headers: [("content-type".to_string(), "text/json".to_string())].into(),
            method: "GET".into(),
            timeout: 3.0,
        },
        false,
    )]);
    a.action(&play(&["web-1", "web-2", "db-1", "x", "y"]))
        .unwrap();
    let r = rx.recv().unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.headers["content-type"], "text/json");
    assert_eq!(
        r.body,
        json!({"event": "action", "action": "start", "who": "alice",
               "what": "5 containers", "message": "alice is starting 5 containers."})
    );
}

#[test]
fn slack_preset_posts_an_attachment_to_the_incoming_webhook() {
    let (url, rx) = receiver(2, 200);
    let a = auditors(vec![entry(
        AuditorKind::Slack {
            channel: "#ops".into(),
            token: format!("{url}/services/T/B/s3cret"),
            name: Some("deploy".into()),
            icon: None,
        },
        false,
    )]);
    let p = play(&["web-1", "web-2", "db-1", "a", "b"]);
    a.action(&p).unwrap();
    a.error(&p, "boom");
    let action = rx.recv().unwrap();
    assert_eq!(action.path, "/services/T/B/s3cret");
    assert_eq!(action.body["username"], "deploy");
    let att = &action.body["attachments"][0];
    assert_eq!(att["color"], "#1dc7d3");
    assert_eq!(att["text"], "alice is starting 5 containers.");
    assert_eq!(att["fields"][0]["value"], "web-1, web-2, db-1, a, b");
    let error = rx.recv().unwrap();
    assert_eq!(error.body["attachments"][0]["color"], "danger");
    assert_eq!(error.body["attachments"][0]["fields"][1]["value"], "boom");
}

#[test]
fn log_auditor_appends_full_lists_with_levels() {
    let dir = temp_dir("log");
    let file = dir.join("audit.log");
    let a = auditors(vec![entry(AuditorKind::Log { file: file.clone() }, false)]);
    let p = play(&["web-1", "web-2", "db-1", "a", "b"]);
    a.action(&p).unwrap();
    a.error(&p, "boom");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // `2026-11-24 20:19:38,123Z INFO: ...`
    let (stamp, rest) = lines[0].split_at(24);
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[10] == b' ',
        "{stamp}"
    );
    assert_eq!(rest, " INFO: alice is starting web-1, web-2, db-1, a, b.");
    assert!(
        lines[1].ends_with(" ERROR: Failed to start web-1, web-2, db-1, a, b! (message: boom)"),
        "{}",
        lines[1]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn exec_auditor_gets_targets_on_stdin_and_the_play_in_args_and_env() {
    let dir = temp_dir("exec");
    let script = dir.join("audit.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncat > {d}/stdin.$MAESTRO_AUDIT_EVENT\necho \"$@|$MAESTRO_AUDIT_MESSAGE\" > {d}/args.$MAESTRO_AUDIT_EVENT\n",
            d = dir.display()
        ),
    )
    .unwrap();
    // Run through sh: executing a file just written can fail with
    // ETXTBSY while another test thread forks.
    let a = auditors(vec![entry(
        AuditorKind::Exec {
            script: "/bin/sh".into(),
            args: Some(format!(
                "{} {{event}} {{action}} --by={{who}}",
                script.display()
            )),
        },
        false,
    )]);
    let p = play(&["web-1", "db-1"]);
    a.action(&p).unwrap();
    a.success(&p);
    assert!(a.take_warnings().is_empty());
    let stdin: Value =
        serde_json::from_slice(&std::fs::read(dir.join("stdin.action")).unwrap()).unwrap();
    assert_eq!(
        stdin,
        json!({"web-1": {"ship": "10.213.0.1", "service": "web"},
               "db-1": {"ship": "10.213.0.3", "service": "db"}})
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("args.success")).unwrap(),
        "success start --by=alice|Start of web-1, db-1 succeeded.\n"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn failing_script(dir: &std::path::Path) -> String {
    let script = dir.join("fail.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'first line' >&2\necho 'API_TOKEN=abc123' >&2\necho 'quota exceeded' >&2\nexit 3\n",
    )
    .unwrap();
    script.display().to_string()
}

#[test]
fn a_failing_auditor_refuses_the_play_unless_errors_are_ignored() {
    let dir = temp_dir("fail");
    let script = failing_script(&dir);
    let exec = |ignore| {
        entry(
            AuditorKind::Exec {
                script: "/bin/sh".into(),
                args: Some(script.clone()),
            },
            ignore,
        )
    };
    let p = play(&["web-1"]);

    let strict = auditors(vec![exec(false)]);
    let e = strict.action(&p).unwrap_err();
    assert!(e.message.contains("audit[0] (exec)"), "{e}");
    assert!(e.message.contains("/bin/sh exited with 3"), "{e}");
    assert!(e.message.contains("quota exceeded"), "{e}");
    assert!(!e.message.contains("abc123"), "{e}");

    let lenient = auditors(vec![exec(true)]);
    lenient.action(&p).unwrap();
    let w = lenient.take_warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("ignored"), "{w:?}");

    // success and error never fail the play, ignore_errors or not.
    strict.success(&p);
    strict.error(&p, "boom");
    assert_eq!(strict.take_warnings().len(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unreachable_or_refusing_webhook_names_only_the_origin() {
    let (url, _rx) = receiver(1, 500);
    let refusing = auditors(vec![entry(
        AuditorKind::Http {
            endpoint: format!("{url}/secret-path"),
            payload: None,
            headers: BTreeMap::new(),
            method: "POST".into(),
            timeout: 3.0,
        },
        false,
    )]);
    let e = refusing.action(&play(&["web-1"])).unwrap_err();
    assert!(e.message.contains("answered 500"), "{e}");
    assert!(!e.message.contains("secret-path"), "{e}");

    // Nothing listens on a port we just bound and released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = auditors(vec![entry(
        AuditorKind::Http {
            endpoint: format!("http://127.0.0.1:{port}/secret-path"),
            payload: None,
            headers: BTreeMap::new(),
            method: "POST".into(),
            timeout: 1.0,
        },
        false,
    )]);
    let e = down.action(&play(&["web-1"])).unwrap_err();
    assert!(
        e.message.contains(&format!("http://127.0.0.1:{port}")),
        "{e}"
    );
    assert!(!e.message.contains("secret-path"), "{e}");
}
