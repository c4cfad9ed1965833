//! The plain and JSON renderers on a scripted play: exact output.

use std::time::Duration;

use anstream::AutoStream;

use super::*;
use crate::events::{AbortReason, Failure, InstanceEvent, Row, State, Summary};

fn row(number: usize, instance: &str, service: &str, ship: &str) -> Row {
    Row {
        number,
        instance: instance.into(),
        service: service.into(),
        ship: ship.into(),
    }
}

fn inst(instance: &str, service: &str, ship: &str, container: Option<&str>, state: State) -> Event {
    Event::Instance(InstanceEvent {
        instance: instance.into(),
        service: service.into(),
        ship: ship.into(),
        container: container.map(Into::into),
        state,
    })
}

/// A start where kafka-1's check fails: zookeeper started, kafka-2 was in
/// flight and started, web-1 was never attempted.
fn scripted_start() -> Vec<Event> {
    vec![
        Event::Play {
            command: "start".into(),
            total: 4,
            rows: vec![
                row(1, "zk-1", "zookeeper", "ship1"),
                row(2, "kafka-1", "kafka", "ship2"),
                row(3, "kafka-2", "kafka", "ship3"),
                row(4, "web-1", "web", "ship1"),
            ],
        },
        inst(
            "zk-1",
            "zookeeper",
            "ship1",
            None,
            State::Pulling { percent: Some(42) },
        ),
        inst("zk-1", "zookeeper", "ship1", None, State::Creating),
        inst(
            "zk-1",
            "zookeeper",
            "ship1",
            Some("3.9:1a2b3c4"),
            State::Starting,
        ),
        inst(
            "zk-1",
            "zookeeper",
            "ship1",
            None,
            State::Checking {
                what: "tcp:client".into(),
            },
        ),
        inst("zk-1", "zookeeper", "ship1", None, State::Started),
        inst(
            "kafka-2",
            "kafka",
            "ship3",
            Some("2.8:9f8e7d6"),
            State::UpFor { secs: 192 },
        ),
        inst(
            "kafka-1",
            "kafka",
            "ship2",
            None,
            State::Failed {
                message: "check tcp:broker did not pass within 30s".into(),
            },
        ),
        inst(
            "web-1",
            "web",
            "ship1",
            None,
            State::Aborted {
                reason: AbortReason::Failed {
                    id: "kafka-1".into(),
                },
            },
        ),
        Event::Summary(Summary {
            command: "start".into(),
            total: 4,
            done: 2,
            skipped: 0,
            failed: 1,
            aborted: 1,
            elapsed: Duration::from_millis(2340),
            interrupted: false,
            failures: vec![Failure {
                id: "kafka-1".into(),
                message: "check tcp:broker did not pass within 30s".into(),
                fatal: true,
            }],
            not_attempted: vec!["web-1".into()],
        }),
    ]
}

/// The plain renderer's output for `events`, colours stripped.
fn plain(events: &[Event]) -> String {
    let mut r = PlainRenderer::new(AutoStream::never(Vec::new()));
    for e in events {
        r.event(Duration::ZERO, e).unwrap();
    }
    r.finish().unwrap();
    String::from_utf8(r.into_inner().into_inner()).unwrap()
}

#[test]
fn plain_renderer_prints_one_line_per_state_change_without_escapes() {
    // Pull progress gets a line per quarter: 49% is not shown, 50% is.
    let mut events = scripted_start();
    let pulling = |p| {
        inst(
            "zk-1",
            "zookeeper",
            "ship1",
            None,
            State::Pulling { percent: Some(p) },
        )
    };
    events.splice(2..2, [pulling(49), pulling(50)]);
    let text = plain(&events);
    insta::assert_snapshot!(text, @r"
      #   INSTANCE  SERVICE    SHIP   CONTAINER             STATUS
      1.  zk-1      zookeeper  ship1  -                     pulling 42%
      1.  zk-1      zookeeper  ship1  -                     pulling 50%
      1.  zk-1      zookeeper  ship1  -                     creating
      1.  zk-1      zookeeper  ship1  3.9:1a2b3c4           starting
      1.  zk-1      zookeeper  ship1  3.9:1a2b3c4           checking tcp:client
      1.  zk-1      zookeeper  ship1  3.9:1a2b3c4           started
      3.  kafka-2   kafka      ship3  2.8:9f8e7d6           up for 3m12s
      2.  kafka-1   kafka      ship2  -                     failed: check tcp:broker did not pass within 30s
      4.  web-1     web        ship1  -                     aborted: kafka-1 failed
    start: 2 done, 1 failed, 1 not attempted in 2.3s
      kafka-1: failed: check tcp:broker did not pass within 30s
      not attempted: web-1
    ");
    assert!(!text.contains('\x1b'));
}

#[test]
fn plain_renderer_colours_outcomes_when_allowed() {
    let mut r = PlainRenderer::new(AutoStream::always(Vec::new()));
    for e in scripted_start() {
        r.event(Duration::ZERO, &e).unwrap();
    }
    let text = String::from_utf8(r.into_inner().into_inner()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // started: green status and container; up for: cyan; failed, aborted: red.
    assert!(
        lines[5].ends_with("\x1b[32mstarted\x1b[0m"),
        "{:?}",
        lines[5]
    );
    assert!(lines[5].contains("\x1b[32m3.9:1a2b3c4\x1b[0m"));
    assert!(
        lines[6].ends_with("\x1b[36mup for 3m12s\x1b[0m"),
        "{:?}",
        lines[6]
    );
    assert!(lines[7].contains("\x1b[31mfailed: check"), "{:?}", lines[7]);
    assert!(lines[8].ends_with("\x1b[31maborted: kafka-1 failed\x1b[0m"));
    // In-progress words are not coloured; the instance is bold.
    assert!(lines[2].ends_with("  creating"), "{:?}", lines[2]);
    assert!(lines[2].contains("\x1b[1mzk-1\x1b[0m"));
    assert!(lines[9].starts_with("\x1b[31mstart: 2 done"));
}

#[test]
fn plain_renderer_skips_the_initial_waiting_and_unknown_rows() {
    let events = vec![
        Event::Play {
            command: "stop".into(),
            total: 1,
            rows: vec![row(1, "zk-1", "zookeeper", "ship1")],
        },
        inst("zk-1", "zookeeper", "ship1", None, State::Waiting),
        inst("nope", "x", "ship1", None, State::Stopped),
        inst("zk-1", "zookeeper", "ship1", None, State::Stopping),
        Event::Note {
            message: "ship2 is unreachable".into(),
        },
    ];
    let text = plain(&events);
    insta::assert_snapshot!(text, @r"
      #   INSTANCE  SERVICE    SHIP   CONTAINER             STATUS
      1.  zk-1      zookeeper  ship1  -                     stopping
    ship2 is unreachable
    ");
}

#[test]
fn json_renderer_prints_one_object_per_event() {
    let mut r = JsonRenderer::new(Vec::new());
    // An event every quarter second.
    for (e, at) in scripted_start()
        .iter()
        .zip((0..).map(|i| Duration::from_millis(250 * i)))
    {
        r.event(at, e).unwrap();
    }
    let text = String::from_utf8(r.into_inner()).unwrap();
    insta::assert_snapshot!(text, @r#"
    {"event":"play","command":"start","total":4,"rows":[{"number":1,"instance":"zk-1","service":"zookeeper","ship":"ship1"},{"number":2,"instance":"kafka-1","service":"kafka","ship":"ship2"},{"number":3,"instance":"kafka-2","service":"kafka","ship":"ship3"},{"number":4,"instance":"web-1","service":"web","ship":"ship1"}],"t":0.0}
    {"event":"instance","instance":"zk-1","service":"zookeeper","ship":"ship1","state":"pulling","percent":42,"text":"pulling 42%","t":0.25}
    {"event":"instance","instance":"zk-1","service":"zookeeper","ship":"ship1","state":"creating","text":"creating","t":0.5}
    {"event":"instance","instance":"zk-1","service":"zookeeper","ship":"ship1","container":"3.9:1a2b3c4","state":"starting","text":"starting","t":0.75}
    {"event":"instance","instance":"zk-1","service":"zookeeper","ship":"ship1","state":"checking","what":"tcp:client","text":"checking tcp:client","t":1.0}
    {"event":"instance","instance":"zk-1","service":"zookeeper","ship":"ship1","state":"started","text":"started","t":1.25}
    {"event":"instance","instance":"kafka-2","service":"kafka","ship":"ship3","container":"2.8:9f8e7d6","state":"up_for","secs":192,"text":"up for 3m12s","t":1.5}
    {"event":"instance","instance":"kafka-1","service":"kafka","ship":"ship2","state":"failed","message":"check tcp:broker did not pass within 30s","text":"failed: check tcp:broker did not pass within 30s","t":1.75}
    {"event":"instance","instance":"web-1","service":"web","ship":"ship1","state":"aborted","reason":{"cause":"failed","id":"kafka-1"},"text":"aborted: kafka-1 failed","t":2.0}
    {"event":"summary","command":"start","total":4,"done":2,"skipped":0,"failed":1,"aborted":1,"elapsed":2340,"interrupted":false,"failures":[{"id":"kafka-1","message":"check tcp:broker did not pass within 30s","fatal":true}],"not_attempted":["web-1"],"t":2.25}
    "#);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["event"].is_string());
        assert!(v["t"].is_f64(), "{line}");
    }
}

#[test]
fn with_renderer_draws_everything_before_returning() {
    use crate::scheduler::{
        self, CancelToken, Completion, Concurrency, Direction, Play, Task, TaskContext,
    };
    let buf = SharedBuf::default();
    let play = Play {
        command: "stop".into(),
        direction: Direction::Reverse,
        limits: Concurrency::default(),
        nodes: vec![
            Task::new(
                "zk-1",
                "zookeeper",
                "ship1",
                Vec::<String>::new(),
                |ctx: &TaskContext<'_>| {
                    ctx.emit(State::Stopping);
                    ctx.emit(State::Stopped);
                    Ok(Completion::Done)
                },
            ),
            Task::new(
                "kafka-1",
                "kafka",
                "ship2",
                ["zk-1"],
                |ctx: &TaskContext<'_>| {
                    ctx.emit_with_container("2.8:9f8e7d6", State::Down);
                    Ok(Completion::Done)
                },
            ),
        ],
    };
    let report = with_renderer(Box::new(JsonRenderer::new(buf.clone())), |sink| {
        scheduler::run(play, sink, &CancelToken::new())
    })
    .unwrap();
    assert_eq!(report.summary.exit_code(), 0);
    let text = buf.text();
    // Every line has the time it was emitted, never going back.
    let times: Vec<f64> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["t"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(times.len(), 5);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {}",
                v["event"].as_str().unwrap(),
                v["text"].as_str().or(v["instance"].as_str()).unwrap_or("")
            )
        })
        .collect();
    // Reverse play: kafka-1 (the dependent) first.
    assert_eq!(
        kinds,
        [
            "play ",
            "instance down",
            "instance stopping",
            "instance stopped",
            "summary "
        ]
    );
    assert!(text.starts_with(
        r#"{"event":"play","command":"stop","total":2,"rows":[{"number":2,"instance":"kafka-1""#
    ));
}

/// Collects into a buffer the test can read after the renderer is done.
#[derive(Clone, Default)]
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn tty_renderer_leaves_the_whole_final_table_and_summary() {
    // The live rows are drawn by indicatif (hidden here, checked by hand in
    // tmux); what stays on screen afterwards is printed in full, whatever
    // the terminal's height.
    let out = SharedBuf::default();
    let mut r = TtyRenderer::new(
        indicatif::ProgressDrawTarget::hidden(),
        Box::new(out.clone()),
        false,
    );
    for e in scripted_start() {
        r.event(Duration::ZERO, &e).unwrap();
        r.tick().unwrap();
    }
    r.finish().unwrap();
    insta::assert_snapshot!(out.text(), @r"
      #   INSTANCE  SERVICE    SHIP   CONTAINER             STATUS
      1.  zk-1      zookeeper  ship1  3.9:1a2b3c4           started
      2.  kafka-1   kafka      ship2  -                     failed: check tcp:broker did not pass within 30s
      3.  kafka-2   kafka      ship3  2.8:9f8e7d6           up for 3m12s
      4.  web-1     web        ship1  -                     aborted: kafka-1 failed
    start: 2 done, 1 failed, 1 not attempted in 2.3s
      kafka-1: failed: check tcp:broker did not pass within 30s
      not attempted: web-1
    ");
}

#[test]
fn tty_renderer_updates_rows_in_place_on_a_terminal() {
    use indicatif::{InMemoryTerm, ProgressDrawTarget};

    let term = InMemoryTerm::new(20, 100);
    let out = SharedBuf::default();
    let mut r = TtyRenderer::new(
        ProgressDrawTarget::term_like(Box::new(term.clone())),
        Box::new(out.clone()),
        false,
    );
    let events = scripted_start();
    // Midway: zk-1 is checking, the others wait; one line per row.
    for e in &events[..5] {
        r.event(Duration::ZERO, e).unwrap();
    }
    r.tick().unwrap();
    // indicatif limits its redraw rate; a tick after a pause draws.
    std::thread::sleep(Duration::from_millis(120));
    r.tick().unwrap();
    let screen = term.contents();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    assert_eq!(lines.len(), 5, "{screen}");
    assert_eq!(
        lines[0],
        "  #   INSTANCE  SERVICE    SHIP   CONTAINER             STATUS"
    );
    assert!(lines[1].starts_with("  1.  zk-1      zookeeper  ship1  3.9:1a2b3c4         "));
    assert!(lines[1].ends_with(" checking tcp:client"), "{:?}", lines[1]);
    assert_eq!(
        lines[2],
        "  2.  kafka-1   kafka      ship2  -                     waiting"
    );
    assert_eq!(
        lines[4],
        "  4.  web-1     web        ship1  -                     waiting"
    );
    assert!(out.text().is_empty());

    for e in &events[5..] {
        r.event(Duration::ZERO, e).unwrap();
    }
    r.finish().unwrap();
    // The live rows were cleared from the terminal; the final table went out.
    assert_eq!(term.contents().trim(), "");
    assert!(out.text().contains(
        "  4.  web-1     web        ship1  -                     aborted: kafka-1 failed\n"
    ));
}

#[test]
fn tty_renderer_is_compact_when_the_rows_do_not_fit() {
    use indicatif::{InMemoryTerm, ProgressDrawTarget};

    let term = InMemoryTerm::new(6, 120);
    let out = SharedBuf::default();
    let mut r = TtyRenderer::new(
        ProgressDrawTarget::term_like(Box::new(term.clone())),
        Box::new(out.clone()),
        false,
    )
    .with_height(6);
    let events = scripted_start();
    let screen = |r: &mut TtyRenderer| {
        std::thread::sleep(Duration::from_millis(120));
        r.tick().unwrap();
        term.contents()
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect::<Vec<_>>()
    };

    // Only the row with work under way is on screen, with the counts.
    for e in &events[..5] {
        r.event(Duration::ZERO, e).unwrap();
    }
    let lines = screen(&mut r);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[1].starts_with("  1.  zk-1 "), "{lines:#?}");
    assert!(lines[1].ends_with("checking tcp:client"), "{lines:#?}");
    assert_eq!(lines[2], "  0/4 done, 1 in progress, 3 waiting");

    // Finished rows leave; a failure stays in view.
    for e in &events[5..8] {
        r.event(Duration::ZERO, e).unwrap();
    }
    let lines = screen(&mut r);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[1].starts_with("  2.  kafka-1 "), "{lines:#?}");
    assert!(
        lines[1].ends_with("failed: check tcp:broker did not pass within 30s"),
        "{lines:#?}"
    );
    assert_eq!(
        lines[2],
        "  2/4 done, 0 in progress, 1 waiting, 1 failed or not attempted"
    );

    for e in &events[8..] {
        r.event(Duration::ZERO, e).unwrap();
    }
    r.finish().unwrap();
    assert_eq!(out.text().lines().count(), 8);
}
