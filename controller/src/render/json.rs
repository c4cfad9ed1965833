//! `--progress json`: one JSON object per event per line, for machines.
//! Every object has an `event` field (`play`, `instance`, `note`,
//! `summary`); instance events carry `state` plus its fields (`percent`,
//! `what`, `secs`, `message`, `reason`) and `text`, the words a person
//! would see in the STATUS column. Every object ends with `t`: seconds
//! since the play began (monotonic, millisecond precision) when the event
//! was emitted, so a consumer can tell where the time goes.

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::Renderer;
use crate::events::Event;

#[derive(Debug)]
pub struct JsonRenderer<W: Write> {
    out: W,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Renderer for JsonRenderer<W> {
    fn event(&mut self, at: Duration, event: &Event) -> io::Result<()> {
        let line = Line {
            event,
            text: match event {
                Event::Instance(e) => Some(e.state.to_string()),
                _ => None,
            },
            t: seconds(at),
        };
        serde_json::to_writer(&mut self.out, &line).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// An event with the human words (instance events) and the time appended,
/// fields kept in declared order.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    event: &'a Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    t: f64,
}

/// Whole milliseconds as seconds: `1.234`.
fn seconds(d: Duration) -> f64 {
    // Exact for any play shorter than 285,000 years.
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX) as f64 / 1000.0
}
