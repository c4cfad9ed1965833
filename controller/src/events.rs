//! The events the core emits while it works, and the sinks that carry them.
//!
//! The core never prints. Worker threads (the tasks and the scheduler) emit
//! [`Event`]s into an [`EventSink`]; one render thread consumes them and turns
//! them into a live table, plain lines or JSON lines (see `render`). The
//! words follow MaestroNG 0.8.3 (`waiting`, `started`, `up for 3m12s`,
//! `failed: ...`, `aborted`), so the output looks familiar to its users.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Something that happened during a play.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A play begins: the command and its rows, in the order they run
    /// (dependencies first for a forward play, dependents first for a
    /// reverse one). Emitted once, before any `Instance` event.
    Play {
        command: String,
        total: usize,
        rows: Vec<Row>,
    },
    /// An instance changed state.
    Instance(InstanceEvent),
    /// A message about the play that belongs to no single row (a warning).
    Note { message: String },
    /// The play ended. Emitted once, last.
    Summary(Summary),
}

/// One row of a play: an instance, numbered as MaestroNG numbers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Position in dependency order, 1-based. Rows of a reverse play
    /// (stop, kill) are listed dependents first, so their numbers descend.
    pub number: usize,
    pub instance: String,
    pub service: String,
    pub ship: String,
}

/// A state change of one instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceEvent {
    pub instance: String,
    pub service: String,
    pub ship: String,
    /// The container as `tag:shortid`, once known. `None` leaves what the
    /// renderer already shows unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(flatten)]
    pub state: State,
}

/// Where an instance stands. The first group is transient (work under
/// way); the rest are outcomes, each shown with the colour of its [`Kind`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Waiting,
    /// Pulling the image; `percent` is the mean progress of its layers
    /// when the daemon reports it.
    Pulling {
        #[serde(skip_serializing_if = "Option::is_none")]
        percent: Option<u8>,
    },
    Creating,
    Starting,
    /// A lifecycle check is being waited for, e.g. `tcp:client`.
    Checking {
        what: String,
    },
    Stopping,
    Killing,
    Removing,
    /// A one-shot container was started and is waited for until it exits.
    RunningToCompletion,

    Started,
    /// A one-shot container ran and exited 0.
    Completed,
    /// A one-shot container had already run to completion from the same
    /// configuration: nothing to do.
    AlreadyCompleted,
    /// Already running and unchanged: nothing to do.
    UpFor {
        secs: u64,
    },
    Stopped,
    Killed,
    /// Already not running: nothing to do.
    Down,
    Removed,
    Absent,
    Skipped,
    Done,
    UpToDate,
    Failed {
        message: String,
    },
    /// Never attempted, because another task failed or the play was
    /// interrupted.
    Aborted {
        reason: AbortReason,
    },
}

/// Why a task was not attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum AbortReason {
    /// The first fatal failure of the play, naming the task that failed.
    Failed { id: String },
    /// Ctrl-C (or another cancellation) stopped the scheduling.
    Interrupted,
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbortReason::Failed { id } => write!(f, "{id} failed"),
            AbortReason::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// How a state is shown: MaestroNG's green (ok), blue (no-op) and red
/// (failure), plus the uncoloured transient states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InProgress,
    Ok,
    NoOp,
    Failure,
}

impl State {
    pub fn kind(&self) -> Kind {
        match self {
            State::Waiting
            | State::Pulling { .. }
            | State::Creating
            | State::Starting
            | State::Checking { .. }
            | State::Stopping
            | State::Killing
            | State::Removing
            | State::RunningToCompletion => Kind::InProgress,
            State::Started
            | State::Completed
            | State::Stopped
            | State::Killed
            | State::Removed
            | State::Done => Kind::Ok,
            State::UpFor { .. }
            | State::Down
            | State::Absent
            | State::UpToDate
            | State::AlreadyCompleted => Kind::NoOp,
            // A running container that `clean` leaves alone: MaestroNG shows it red.
            State::Skipped | State::Failed { .. } | State::Aborted { .. } => Kind::Failure,
        }
    }

    /// True for outcomes: the row will not change again.
    pub fn is_final(&self) -> bool {
        self.kind() != Kind::InProgress
    }
}

/// The words shown in the STATUS column.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Waiting => f.write_str("waiting"),
            State::Pulling { percent: None } => f.write_str("pulling"),
            State::Pulling { percent: Some(p) } => write!(f, "pulling {p}%"),
            State::Creating => f.write_str("creating"),
            State::Starting => f.write_str("starting"),
            State::Checking { what } => write!(f, "checking {what}"),
            State::Stopping => f.write_str("stopping"),
            State::Killing => f.write_str("killing"),
            State::Removing => f.write_str("removing"),
            State::RunningToCompletion => f.write_str("running to completion"),
            State::Started => f.write_str("started"),
            State::Completed | State::AlreadyCompleted => f.write_str("completed"),
            State::UpFor { secs } => write!(f, "up for {}", human_duration(*secs)),
            State::Stopped => f.write_str("stopped"),
            State::Killed => f.write_str("killed"),
            State::Down => f.write_str("down"),
            State::Removed => f.write_str("removed"),
            State::Absent => f.write_str("absent"),
            State::Skipped => f.write_str("skipped"),
            State::Done => f.write_str("done"),
            State::UpToDate => f.write_str("up to date"),
            State::Failed { message } => write!(f, "failed: {message}"),
            State::Aborted { reason } => write!(f, "aborted: {reason}"),
        }
    }
}

/// MaestroNG's duration words: `42s`, `3m12s`, `5h7m`, `2d5h7m`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h}h{m}m")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// What a play did, for the final line and the exit code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub command: String,
    pub total: usize,
    /// Tasks that completed (including non-fatal failures' absence: those
    /// are counted in `failed`).
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
    pub aborted: usize,
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
    /// True when Ctrl-C (or another cancellation) stopped the play.
    pub interrupted: bool,
    /// Every failed task and why, in row order.
    pub failures: Vec<Failure>,
    /// The tasks that were never attempted, in row order.
    pub not_attempted: Vec<String>,
}

/// One failed task in a [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub id: String,
    pub message: String,
    /// A fatal failure aborted the rest of the play; a non-fatal one
    /// (stop, kill) did not.
    pub fatal: bool,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Summary {
    /// How the command that ran this play ends: interrupted after Ctrl-C,
    /// a failure when anything failed or was not attempted, else success.
    pub fn exit_status(&self) -> crate::exit::ExitStatus {
        use crate::exit::ExitStatus;
        if self.interrupted {
            ExitStatus::Interrupted
        } else if self.failed > 0 || self.aborted > 0 {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }

    /// The process exit code of [`Summary::exit_status`].
    pub fn exit_code(&self) -> i32 {
        self.exit_status().code()
    }
}

/// Where events go. Worker threads emit concurrently, so a sink is shared.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
}

/// An event and when it was emitted: the time since the play's channel
/// was made (monotonic), for `--progress json` and "where the time goes".
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    pub at: Duration,
    pub event: Event,
}

/// A sink backed by a channel: workers emit, one render thread receives.
/// Each event is stamped as it is emitted. Dropping every clone of the
/// sink ends the receiver's iteration.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: crossbeam_channel::Sender<Stamped>,
    start: Instant,
    /// Held while stamping and sending, so the receiver sees the stamps in
    /// increasing order whichever worker thread emits.
    order: Arc<Mutex<()>>,
}

/// A channel-backed sink and the receiving end for the render thread; the
/// stamps count from this call.
pub fn channel() -> (ChannelSink, crossbeam_channel::Receiver<Stamped>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let sink = ChannelSink {
        tx,
        start: Instant::now(),
        order: Arc::default(),
    };
    (sink, rx)
}

impl EventSink for ChannelSink {
    fn emit(&self, event: Event) {
        let _order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        let at = self.start.elapsed();
        // A gone renderer must not stop the work: the outcome is still
        // returned to the command, which maps it to an exit code.
        let _ = self.tx.send(Stamped { at, event });
    }
}

/// A sink that keeps every event, for tests and for commands that want
/// the whole story afterwards.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The events received so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .map(|e| e.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

impl EventSink for Recorder {
    fn emit(&self, event: Event) {
        match self.events.lock() {
            Ok(mut e) => e.push(event),
            Err(poisoned) => poisoned.into_inner().push(event),
        }
    }
}

/// A sink that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl EventSink for Discard {
    fn emit(&self, _event: Event) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_maestrong_words() {
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(192), "3m12s");
        assert_eq!(human_duration(5 * 3600 + 7 * 60 + 9), "5h7m");
        assert_eq!(human_duration(2 * 86_400 + 5 * 3600 + 7 * 60), "2d5h7m");
    }

    #[test]
    fn state_words_and_kinds() {
        let cases = [
            (State::Waiting, "waiting", Kind::InProgress),
            (
                State::Pulling { percent: Some(42) },
                "pulling 42%",
                Kind::InProgress,
            ),
            (
                State::Checking {
                    what: "tcp:client".into(),
                },
                "checking tcp:client",
                Kind::InProgress,
            ),
            (State::Started, "started", Kind::Ok),
            (
                State::RunningToCompletion,
                "running to completion",
                Kind::InProgress,
            ),
            (State::Completed, "completed", Kind::Ok),
            (State::AlreadyCompleted, "completed", Kind::NoOp),
            (State::UpFor { secs: 180 }, "up for 3m0s", Kind::NoOp),
            (State::UpToDate, "up to date", Kind::NoOp),
            (
                State::Failed {
                    message: "boom".into(),
                },
                "failed: boom",
                Kind::Failure,
            ),
            (
                State::Aborted {
                    reason: AbortReason::Failed {
                        id: "kafka-1".into(),
                    },
                },
                "aborted: kafka-1 failed",
                Kind::Failure,
            ),
            (
                State::Aborted {
                    reason: AbortReason::Interrupted,
                },
                "aborted: interrupted",
                Kind::Failure,
            ),
        ];
        for (state, word, kind) in cases {
            assert_eq!(state.to_string(), word);
            assert_eq!(state.kind(), kind, "{word}");
        }
    }

    #[test]
    fn channel_stamps_increase_across_threads() {
        let (sink, rx) = channel();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let sink = sink.clone();
                s.spawn(move || {
                    for _ in 0..200 {
                        sink.emit(Event::Note {
                            message: "x".into(),
                        });
                    }
                });
            }
        });
        drop(sink);
        let stamps: Vec<Duration> = rx.iter().map(|s| s.at).collect();
        assert_eq!(stamps.len(), 800);
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn exit_codes() {
        let mut s = Summary {
            command: "start".into(),
            total: 2,
            done: 2,
            skipped: 0,
            failed: 0,
            aborted: 0,
            elapsed: Duration::ZERO,
            interrupted: false,
            failures: vec![],
            not_attempted: vec![],
        };
        assert_eq!(s.exit_code(), 0);
        s.failed = 1;
        assert_eq!(s.exit_code(), 1);
        s.interrupted = true;
        assert_eq!(s.exit_code(), 130);
    }
}
