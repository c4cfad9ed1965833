//! Turning events into output: a live table on a terminal (`tty`), one
//! line per state change (`plain`), or one JSON object per event (`json`).
//! Progress goes to standard output, as MaestroNG's table did; errors go
//! to standard error.
//!
//! A command wires it up as "plan -> tasks -> scheduler -> events ->
//! renderer":
//!
//! ```no_run
//! use maestro::scheduler::{self, CancelToken, Direction, Concurrency, Play};
//! use maestro::render::{self, Progress};
//!
//! let cancel = CancelToken::new();
//! let play = Play { command: "start".into(), direction: Direction::Forward,
//!                   limits: Concurrency::default(), nodes: Vec::new() };
//! let report = render::with_progress(Progress::Auto, |sink| scheduler::run(play, sink, &cancel));
//! let code = match report {
//!     Ok(report) => report.summary.exit_code(),
//!     Err(_graph_error) => 2,
//! };
//! ```

pub mod columns;
pub mod depgraph;
pub mod deploy;
pub mod deptree;
pub mod export;
pub mod json;
pub mod message;
pub mod plain;
pub mod plan;
pub mod ships;
pub mod status;
pub mod table;
pub mod tty;

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::events::{self, ChannelSink, Event, Stamped};

pub use json::JsonRenderer;
pub use plain::PlainRenderer;
pub use tty::TtyRenderer;

/// How often spinners move while no event arrives.
const TICK: Duration = Duration::from_millis(100);

/// Consumes events on the render thread.
pub trait Renderer: Send {
    /// One event, `at` the time since the play began (see
    /// [`events::Stamped`]).
    fn event(&mut self, at: Duration, event: &Event) -> io::Result<()>;

    /// Called when no event arrived for a moment (to animate spinners).
    fn tick(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Called once after the last event.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `--progress auto|tty|plain|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Progress {
    /// The live table on a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// The live table (plain lines all the same when not a terminal, where
    /// a live table cannot be drawn).
    Tty,
    Plain,
    Json,
}

impl Progress {
    /// The renderer for standard output.
    pub fn renderer(self) -> Box<dyn Renderer> {
        let stdout = io::stdout();
        let live = stdout.is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        match self {
            Progress::Json => Box::new(JsonRenderer::new(stdout)),
            Progress::Auto | Progress::Tty if live => {
                let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
                let renderer = TtyRenderer::new(
                    indicatif::ProgressDrawTarget::stdout(),
                    Box::new(stdout),
                    color,
                );
                match console::Term::stdout().size_checked() {
                    Some((rows, _)) => Box::new(renderer.with_height(usize::from(rows))),
                    None => Box::new(renderer),
                }
            }
            Progress::Auto | Progress::Tty | Progress::Plain => {
                Box::new(PlainRenderer::new(anstream::AutoStream::auto(stdout)))
            }
        }
    }
}

/// Feeds `renderer` until every sender is gone. A renderer that fails (a
/// closed pipe) stops drawing; the work goes on and its exit code stands.
pub fn drive(events: Receiver<Stamped>, renderer: &mut dyn Renderer) -> io::Result<()> {
    let mut next_tick = Instant::now() + TICK;
    loop {
        // Tick by the clock, not by silence: a busy play sends events more
        // often than every TICK and its spinners must still turn.
        match events.recv_deadline(next_tick) {
            Ok(s) => renderer.event(s.at, &s.event)?,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return renderer.finish(),
        }
        if Instant::now() >= next_tick {
            renderer.tick()?;
            next_tick = Instant::now() + TICK;
        }
    }
}

/// Runs `work` with a sink whose events are drawn by a renderer for
/// `progress` on a render thread; returns once everything is drawn.
pub fn with_progress<T>(progress: Progress, work: impl FnOnce(&ChannelSink) -> T) -> T {
    with_renderer(progress.renderer(), work)
}

/// Like [`with_progress`] with a renderer of the caller's choosing.
pub fn with_renderer<T>(
    mut renderer: Box<dyn Renderer>,
    work: impl FnOnce(&ChannelSink) -> T,
) -> T {
    let (sink, rx) = events::channel();
    std::thread::scope(|scope| {
        let drawing = scope.spawn(move || drive(rx, renderer.as_mut()));
        let out = work(&sink);
        drop(sink);
        // Output errors (EPIPE) are not the play's failure.
        let _ = drawing.join();
        out
    })
}

#[cfg(test)]
mod tests;
