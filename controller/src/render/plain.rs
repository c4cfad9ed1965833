//! Plain lines: the header once, then the whole row again at each state
//! change, then the summary. For logs, pipes and CI. Written through an
//! `anstream` stream, which drops the colours when the output is not a
//! terminal or `NO_COLOR` is set.

use std::io::{self, Write};

use super::Renderer;
use super::table::{Table, summary_lines};
use crate::events::{Event, State};

#[derive(Debug)]
pub struct PlainRenderer<W: Write> {
    out: W,
    table: Table,
}

impl<W: Write> PlainRenderer<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            table: Table::default(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Renderer for PlainRenderer<W> {
    fn event(&mut self, _at: std::time::Duration, event: &Event) -> io::Result<()> {
        match event {
            Event::Play { rows, .. } => {
                self.table = Table::new(rows);
                writeln!(self.out, "{}", self.table.header())?;
            }
            Event::Instance(e) => {
                let Some(before) = self.table.state_of(&e.instance).cloned() else {
                    return Ok(());
                };
                let worth_a_line = e.container.is_some() || worth_a_line(&before, &e.state);
                if let Some(i) = self
                    .table
                    .update(&e.instance, e.container.as_deref(), &e.state)
                    && worth_a_line
                {
                    writeln!(self.out, "{}", self.table.line(i))?;
                }
            }
            Event::Note { message } => writeln!(self.out, "{message}")?,
            Event::Summary(summary) => {
                for line in summary_lines(summary) {
                    writeln!(self.out, "{line}")?;
                }
            }
        }
        self.out.flush()
    }
}

/// Whether going from `before` to `now` deserves a line of its own. Every
/// row starts as `waiting`, so saying it again is not a change; pull
/// progress gets a line per quarter, not per percent, to keep logs short.
fn worth_a_line(before: &State, now: &State) -> bool {
    match (before, now) {
        (State::Pulling { percent: Some(was) }, State::Pulling { percent: Some(is) }) => {
            is / 25 > was / 25
        }
        (State::Pulling { .. }, State::Pulling { percent: None }) => false,
        _ => before != now,
    }
}
