//! `--progress json`: one JSON object per event per line, for machines.
//! Every object has an `event` field (`play`, `instance`, `note`,
//! `summary`); instance events carry `state` plus its fields (`percent`,
//! `what`, `secs`, `message`, `reason`) and `text`, the words a person
//! would see in the STATUS column.

use std::io::{self, Write};

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
    fn event(&mut self, event: &Event) -> io::Result<()> {
        let written = match event {
            Event::Instance(e) => serde_json::to_writer(
                &mut self.out,
                &WithText {
                    event,
                    text: e.state.to_string(),
                },
            ),
            _ => serde_json::to_writer(&mut self.out, event),
        };
        written.map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// An event with the human words appended, fields kept in declared order.
#[derive(Serialize)]
struct WithText<'a> {
    #[serde(flatten)]
    event: &'a Event,
    text: String,
}
