//! `maestro logs [-F] [-n N] [--since T] [-t] thing...`: the output of one
//! or more containers, from every ship at once, merged line by line with a
//! coloured `instance | ` prefix when there is more than one.
//!
//! One reader thread per container feeds a channel; this thread alone
//! writes. With `-F` a reader whose container stops waits for the ship to
//! report a `start` of that container name (a restart, or a new container
//! of the same name) and attaches again, until Ctrl-C, or until the reader
//! of our output goes away (`maestro logs -F web | head -1`): then the
//! command ends at its next write, as other Unix tools do, without waiting
//! for the readers, which may be blocked on a quiet stream.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anstyle::{AnsiColor, Style};
use crossbeam_channel::Sender;

use super::{CommandResult, Context};
use crate::cli::LogsArgs;
use crate::config::model::ShipRef;
use crate::docker::{Docker, LogOptions, StreamKind, filters};
use crate::exit::{ExitStatus, Failed};
use crate::plan::selection::{Request, Verb};
use crate::render::message;

mod time;

/// What reader threads send to the writer.
enum Msg {
    Out {
        idx: usize,
        stream: StreamKind,
        data: Vec<u8>,
    },
    /// A line for standard error (`... has died, waiting for respawn`).
    Note(String),
    /// The reader ended; flush what is left of its lines.
    End(usize),
}

/// One container to read.
#[derive(Debug, Clone)]
struct Target {
    instance: String,
    ship: ShipRef,
}

pub fn run(ctx: &Context, args: &LogsArgs) -> CommandResult {
    let since = args
        .since
        .as_deref()
        .map(time::parse_since)
        .transpose()
        .map_err(|e| Failed::error(format_args!("--since: {e}")))?;
    let env = ctx.env();
    let selection = ctx.select(Verb::Logs, &Request::things(&args.things))?;
    let targets: Vec<Target> = selection
        .ordered
        .iter()
        .filter_map(|n| env.instances.get(n))
        .map(|i| Target {
            instance: i.name.clone(),
            ship: i.ship.clone(),
        })
        .collect();
    let opts = LogOptions {
        follow: args.follow,
        tail: args.lines,
        since,
        timestamps: args.timestamps,
        ..LogOptions::default()
    };
    show(&targets, &opts)
}

const COLOURS: [AnsiColor; 6] = [
    AnsiColor::Cyan,
    AnsiColor::Green,
    AnsiColor::Yellow,
    AnsiColor::Magenta,
    AnsiColor::Blue,
    AnsiColor::Red,
];

fn show(targets: &[Target], opts: &LogOptions) -> CommandResult {
    let mut dockers: BTreeMap<&str, Arc<Docker>> = BTreeMap::new();
    for t in targets {
        if dockers.contains_key(t.ship.name.as_str()) {
            continue;
        }
        match Docker::new(&t.ship) {
            Ok(d) => {
                dockers.insert(t.ship.name.as_str(), Arc::new(d));
            }
            Err(e) => message::error(&format!("maestro: {e}")),
        }
    }
    let width = targets.iter().map(|t| t.instance.len()).max().unwrap_or(0);
    let prefixed = targets.len() > 1;
    let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
    let mut existing = 0usize;
    let mut failed = false;
    for (idx, t) in targets.iter().enumerate() {
        let Some(docker) = dockers.get(t.ship.name.as_str()) else {
            failed = true;
            continue;
        };
        match docker.inspect(&t.instance) {
            Ok(_) => existing += 1,
            Err(e) if e.is_not_found() => {
                message::error(&format!(
                    "maestro: {} (on {}) does not exist",
                    t.instance, t.ship
                ));
                continue;
            }
            Err(e) => {
                message::error(&format!("maestro: {}: {e}", t.instance));
                failed = true;
                continue;
            }
        }
        // Detached, not scoped: when our reader goes away the command
        // returns at once, whatever the readers are blocked on.
        let (docker, t, opts, tx) = (Arc::clone(docker), t.clone(), opts.clone(), tx.clone());
        std::thread::spawn(move || {
            if let Err(e) = read(&docker, idx, &t, &opts, &tx) {
                let _ = tx.send(Msg::Note(format!("{}: {e}", t.instance)));
            }
            let _ = tx.send(Msg::End(idx));
        });
    }
    drop(tx);
    match write_all(rx, targets, prefixed, width) {
        Ok(()) if existing == 0 || failed => Ok(ExitStatus::Failure),
        Ok(()) => Ok(ExitStatus::Success),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Success),
        Err(e) => Err(Failed::error(format_args!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// Reads one container's log (following restarts with `-F`).
fn read(
    docker: &Docker,
    idx: usize,
    t: &Target,
    opts: &LogOptions,
    tx: &Sender<Msg>,
) -> Result<(), crate::docker::Error> {
    let details = docker.inspect(&t.instance)?;
    let mut started = details.state.started_at.clone();
    let mut o = LogOptions {
        tty: Some(details.config.tty),
        ..opts.clone()
    };
    // After a re-attach: drop lines older than the new run's start (the
    // `since` parameter has whole seconds only).
    let mut not_before: Option<i128> = None;
    loop {
        let filtered = not_before.is_some();
        if filtered {
            o.timestamps = true;
        }
        for frame in docker.logs(&t.instance, &o)? {
            let frame = frame?;
            let data = match not_before {
                Some(min) => time::drop_older(&frame.data, min, opts.timestamps),
                None => frame.data,
            };
            if !data.is_empty()
                && tx
                    .send(Msg::Out {
                        idx,
                        stream: frame.stream,
                        data,
                    })
                    .is_err()
            {
                return Ok(());
            }
        }
        if !opts.follow {
            return Ok(());
        }
        let _ = tx.send(Msg::Note(format!(
            "{} (on {}) has died, waiting for respawn...",
            t.instance, t.ship
        )));
        wait_for_restart(docker, &t.instance, &started)?;
        let d = docker.inspect(&t.instance)?;
        started = d.state.started_at.clone();
        // The new run's lines come after the old run ended. (Not after its
        // `StartedAt`: a process may print before dockerd records that.)
        // A container created anew has a zero `FinishedAt` and a fresh log.
        let ended = time::parse_rfc3339(&d.state.finished_at).filter(|&n| n > 0);
        o = LogOptions {
            tty: Some(d.config.tty),
            since: ended.map(|n| i64::try_from(n / 1_000_000_000).unwrap_or(0)),
            tail: None,
            ..opts.clone()
        };
        not_before = Some(ended.unwrap_or(0));
    }
}

/// Blocks until the ship reports a `start` of `name` that is not the run
/// we already read (`started`: its `StartedAt`).
fn wait_for_restart(
    docker: &Docker,
    name: &str,
    started: &str,
) -> Result<(), crate::docker::Error> {
    let old = time::parse_rfc3339(started).unwrap_or(0);
    // Already running again (restarted before we got here)?
    if let Ok(d) = docker.inspect(name)
        && d.state.running
        && time::parse_rfc3339(&d.state.started_at).unwrap_or(0) > old
    {
        return Ok(());
    }
    // Events since a second ago: a start in between is replayed.
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0) - 1);
    let f = filters([
        ("type", "container"),
        ("event", "start"),
        ("container", name),
    ]);
    for ev in docker.events(&f, Some(since), None)? {
        let ev = ev?;
        let is_ours = ev.actor.attributes.get("name").is_some_and(|n| n == name);
        if is_ours && i128::from(ev.time_nano) > old {
            return Ok(());
        }
    }
    // The daemon ended the event stream: look again in a moment rather
    // than spin.
    std::thread::sleep(std::time::Duration::from_secs(1));
    Ok(())
}

/// The single writer: lines of each container with its prefix, stdout
/// frames to stdout and stderr frames to stderr. Returns when every reader
/// has ended, or at the first failed write to standard output.
fn write_all(
    rx: crossbeam_channel::Receiver<Msg>,
    targets: &[Target],
    prefixed: bool,
    width: usize,
) -> std::io::Result<()> {
    let mut out = anstream::stdout();
    let mut err = anstream::stderr();
    // Partial lines per (container, stream), when prefixing.
    let mut partial: BTreeMap<(usize, bool), Vec<u8>> = BTreeMap::new();
    let prefix = |idx: usize| -> Vec<u8> {
        let style = Style::new().fg_color(Some(COLOURS[idx % COLOURS.len()].into()));
        format!("{style}{:<width$} |{style:#} ", targets[idx].instance).into_bytes()
    };
    // Standard error is where we would report a failure: its own write
    // errors are ignored.
    let mut send = |is_err: bool, text: &[u8]| -> std::io::Result<()> {
        if is_err {
            let _ = err.write_all(text).and_then(|()| err.flush());
            Ok(())
        } else {
            out.write_all(text).and_then(|()| out.flush())
        }
    };
    for msg in rx {
        match msg {
            Msg::Out { idx, stream, data } => {
                let is_err = stream == StreamKind::Stderr;
                if !prefixed {
                    send(is_err, &data)?;
                    continue;
                }
                let buf = partial.entry((idx, is_err)).or_default();
                buf.extend_from_slice(&data);
                let mut text = Vec::new();
                while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    text.extend(prefix(idx));
                    text.extend(line);
                }
                send(is_err, &text)?;
            }
            Msg::Note(n) => send(true, format!("maestro: {n}\n").as_bytes())?,
            Msg::End(idx) => {
                for is_err in [false, true] {
                    if let Some(rest) = partial.remove(&(idx, is_err))
                        && !rest.is_empty()
                    {
                        let mut text = prefix(idx);
                        text.extend(rest);
                        text.push(b'\n');
                        send(is_err, &text)?;
                    }
                }
            }
        }
    }
    Ok(())
}
